/** Per-port and per-reason counters of the softswitch (per-flow counters live on the installed flows). */

export interface PortCounters {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  /** Frames that arrived here and went nowhere (table miss, malformed, no output...). */
  rxDropped: number;
  /** Frames that could not be sent (no such port, socket not ready). */
  txDropped: number;
  /** Send errors the socket reported (e.g. the peer's port is closed). */
  txErrors: number;
  /** Link liveness probes received (they never enter the pipeline). */
  rxProbes: number;
}

export function createPortCounters(): PortCounters {
  return { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, rxDropped: 0, txDropped: 0, txErrors: 0, rxProbes: 0 };
}

/**
 * drops_total{reason}: datapath reasons (the executor's DropReason) and channel reasons. A plain object
 * keyed by reason: the set of reasons is small and fixed, and increments stay monomorphic.
 */
export type DropCounters = Record<string, number>;

export function countDrop(drops: DropCounters, reason: string, n = 1): void {
  drops[reason] = (drops[reason] ?? 0) + n;
}

/** Channel drop reasons (datapath ones come from flow/execute.ts DROP_REASONS). */
export const CHANNEL_DROP = {
  MALFORMED: 'channelMalformed',
  OVERSIZED: 'channelOversized',
  UNEXPECTED: 'channelUnexpected',
  /** A well-formed controller message the switch refused and answered with an Error. */
  REFUSED: 'channelRefused',
  /** A packet-in with no controller connected, or the channel's send buffer full. */
  PACKET_IN_NO_CONTROLLER: 'packetInNoController',
  PACKET_IN_OVERFLOW: 'packetInOverflow',
  /** A packet-in over the switch's packet-in meter (rate per second, burst). */
  PACKET_IN_METER: 'packetInMeter',
  UNKNOWN_PORT: 'unknownPort',
} as const;
