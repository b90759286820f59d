/**
 * Protocol version negotiation (OpenFlow 1.3 style): each side's Hello carries a bitmap of the
 * versions it speaks; the highest common one wins; none = Error OVC_ERR_PROTO_VERSION and close.
 */

export const NATIVE_PROTOCOL_VERSION = 1;
export const SUPPORTED_VERSIONS: readonly number[] = [NATIVE_PROTOCOL_VERSION];
/** Bit n of the Hello bitmap = version n; versions 0..31 fit. */
export const MAX_VERSION = 31;

export function versionsToBitmap(versions: readonly number[]): number {
  let bitmap = 0;
  for (const v of versions) if (Number.isInteger(v) && v >= 0 && v <= MAX_VERSION) bitmap |= 1 << v;
  return bitmap >>> 0;
}

export function bitmapToVersions(bitmap: number): number[] {
  const out: number[] = [];
  for (let v = 0; v <= MAX_VERSION; v++) if ((bitmap >>> v) & 1) out.push(v);
  return out;
}

/** The highest version both sides speak, or undefined when there is none. */
export function negotiateVersion(mine: readonly number[], theirs: readonly number[]): number | undefined {
  const common = versionsToBitmap(mine) & versionsToBitmap(theirs);
  for (let v = MAX_VERSION; v >= 0; v--) if ((common >>> v) & 1) return v;
  return undefined;
}
