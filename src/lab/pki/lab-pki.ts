/**
 * The certificates a lab (or a compose deployment) runs its switch channels with, in one directory:
 * a private CA, the controller's certificate, one per softswitch (naming its dpid), and one for the
 * Open vSwitch instance (naming every bridge's dpid: ovs-vswitchd presents one certificate for all its
 * bridges). Keys are written readable by the owner only.
 *
 *   <dir>/ca.crt  ca.key  controller.crt  controller.key  <switch>.crt  <switch>.key  ovs.crt  ovs.key
 */
import fs from 'node:fs';
import path from 'node:path';
import { CONTROLLER_URI, dpidUri } from '../../protocol/identity.js';
import { createCertificateAuthority } from './certificate.js';

/** Where one party's certificate, key and the CA that both sides trust are. */
export interface TlsFiles {
  cert: string;
  key: string;
  ca: string;
}

export interface LabPki {
  dir: string;
  ca: string;
  controller: TlsFiles;
  /** By switch name. */
  switches: Map<string, TlsFiles>;
  /** The Open vSwitch instance's, when asked for. */
  ovs?: TlsFiles;
}

export interface LabPkiOptions {
  switches: readonly { name: string; dpid: number }[];
  /** Write ovs.crt listing these dpids (the bridges of one ovs-vswitchd). */
  ovsDpids?: readonly number[];
  /** Names the controller certificate also answers to (DNS), e.g. a compose service name. */
  controllerHosts?: readonly string[];
}

function write(file: string, text: string, secret: boolean): void {
  fs.writeFileSync(file, text, { mode: secret ? 0o600 : 0o644 });
  // writeFileSync keeps the mode of a file that exists already.
  fs.chmodSync(file, secret ? 0o600 : 0o644);
}

export async function writeLabPki(dir: string, o: LabPkiOptions): Promise<LabPki> {
  fs.mkdirSync(dir, { recursive: true });
  const ca = await createCertificateAuthority(`Overcast lab CA ${path.basename(dir)}`);
  const caFile = path.join(dir, 'ca.crt');
  write(caFile, ca.certPem, false);
  write(path.join(dir, 'ca.key'), ca.keyPem, true);
  const save = (base: string, issued: { certPem: string; keyPem: string }): TlsFiles => {
    const files = { cert: path.join(dir, `${base}.crt`), key: path.join(dir, `${base}.key`), ca: caFile };
    write(files.cert, issued.certPem, false);
    write(files.key, issued.keyPem, true);
    return files;
  };
  const controller = save(
    'controller',
    await ca.issue({ commonName: 'controller', uris: [CONTROLLER_URI], dnsNames: ['localhost', ...(o.controllerHosts ?? [])], ipAddresses: ['127.0.0.1'], usage: 'both' }),
  );
  const switches = new Map<string, TlsFiles>();
  for (const s of o.switches) switches.set(s.name, save(s.name, await ca.issue({ commonName: s.name, uris: [dpidUri(s.dpid)], usage: 'client' })));
  const ovs = o.ovsDpids ? save('ovs', await ca.issue({ commonName: 'ovs-vswitchd', uris: o.ovsDpids.map(dpidUri), usage: 'client' })) : undefined;
  return { dir, ca: caFile, controller, switches, ...(ovs ? { ovs } : {}) };
}
