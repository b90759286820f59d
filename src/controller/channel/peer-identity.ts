/**
 * What a TLS peer's certificate lets it claim: the dpids it lists (urn:overcast:dpid:<n> URIs, see
 * src/protocol/identity.ts) and its subject for logs. Read once, when the TLS handshake is done; the
 * certificate has already been checked against the CA by then.
 */
import type tls from 'node:tls';
import { dpidsOfSubjectAltName } from '../../protocol/identity.js';
import type { PeerIdentity } from '../switch-connection.js';

export function peerIdentityOf(socket: tls.TLSSocket): PeerIdentity {
  const cert = socket.getPeerX509Certificate();
  return { dpids: dpidsOfSubjectAltName(cert?.subjectAltName), subject: cert?.subject.replace(/\n/g, ', ') ?? '' };
}
