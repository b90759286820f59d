/**
 * What the switch channels refused and why, for the whole controller (both listeners): a stranger's
 * attempts are counted here, never silently absorbed. Read through `Controller.channelCounters`
 * (and GET /v1/switches).
 */
export interface AdmissionCounters {
  /** Connections closed on arrival: the listener's connection limit was reached. */
  connectionsRefused: number;
  /** Connections closed on arrival: too many handshakes in progress. */
  handshakesRefused: number;
  /** Handshakes (TLS or channel) that did not finish in time. */
  handshakeTimeouts: number;
  /** TLS handshakes that failed: no certificate, one not signed by the CA, expired, ... */
  tlsRefused: number;
  /** Switches that claimed a dpid their certificate does not list (or a certificate that lists none). */
  identityRefused: number;
  /** Connections for a dpid whose session is alive (it answered an echo). */
  takeoverRefused: number;
  /** Connections that replaced a session that no longer answered. */
  takeovers: number;
  /** Connections closed because the bytes they held for partial messages would exceed the listener's budget. */
  receiveBudgetClosed: number;
}

export function createAdmissionCounters(): AdmissionCounters {
  return { connectionsRefused: 0, handshakesRefused: 0, handshakeTimeouts: 0, tlsRefused: 0, identityRefused: 0, takeoverRefused: 0, takeovers: 0, receiveBudgetClosed: 0 };
}
