/**
 * Who a certificate says its holder is, on both switch channels. A switch's certificate lists the
 * datapath ids it may claim as subjectAltName URIs `urn:overcast:dpid:<decimal>` (one Open vSwitch
 * process presents one certificate for all its bridges, so a certificate may list several); the
 * controller's certificate carries `urn:overcast:controller`. Pure: the runtimes hand in the
 * subjectAltName text Node's X509Certificate gives (`URI:urn:overcast:dpid:1, DNS:localhost`).
 */

export const DPID_URI_PREFIX = 'urn:overcast:dpid:';
export const CONTROLLER_URI = 'urn:overcast:controller';

export function dpidUri(dpid: number): string {
  return `${DPID_URI_PREFIX}${dpid}`;
}

/**
 * The subjectAltName entries of one kind (`URI`, `DNS`...). Node quotes an entry that holds a comma
 * or a quote as a JSON string; such an entry is no Overcast URI, so it is skipped rather than parsed.
 */
export function subjectAltNames(subjectAltName: string | undefined, kind: string): string[] {
  if (!subjectAltName) return [];
  const prefix = `${kind}:`;
  return subjectAltName
    .split(', ')
    .filter((e) => e.startsWith(prefix) && !e.startsWith(`${prefix}"`))
    .map((e) => e.slice(prefix.length));
}

/** The dpids a certificate may claim: its `urn:overcast:dpid:<n>` URIs (n a safe integer, decimal, no leading zero). */
export function dpidsOfSubjectAltName(subjectAltName: string | undefined): number[] {
  const dpids: number[] = [];
  for (const uri of subjectAltNames(subjectAltName, 'URI')) {
    if (!uri.startsWith(DPID_URI_PREFIX)) continue;
    const text = uri.slice(DPID_URI_PREFIX.length);
    if (!/^(0|[1-9][0-9]{0,15})$/.test(text)) continue;
    const n = Number(text);
    if (Number.isSafeInteger(n)) dpids.push(n);
  }
  return dpids;
}

export function isControllerSubjectAltName(subjectAltName: string | undefined): boolean {
  return subjectAltNames(subjectAltName, 'URI').includes(CONTROLLER_URI);
}
