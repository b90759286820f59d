/**
 * Groups (OpenFlow 1.3 §7.3.4.2): GROUP_MOD and the group-description multipart share the bucket list.
 * Select buckets default to weight 1, watch port/group to ANY (as ovs-ofctl does).
 */
import { PORT, type Bucket, type GroupEntry, type GroupType } from '../../flow/index.js';
import { OFPG_ANY, OFPGT, invert } from './constants.js';
import { readActions, writeActions } from './action-codec.js';
import { malformed, type Reader, type Writer } from './wire.js';

const GROUP_TYPES = invert(OFPGT);

export function groupTypeOf(n: number): GroupType {
  const t = GROUP_TYPES.get(n);
  if (t === undefined) throw malformed(`group type ${n}`);
  return t;
}

export function writeBuckets(w: Writer, type: GroupType, buckets: readonly Bucket[]): void {
  for (const b of buckets) {
    const start = w.off;
    w.u16(0); // length patched below
    w.u16(b.weight ?? (type === 'select' ? 1 : 0));
    w.u32(b.watchPort ?? PORT.ANY);
    w.u32(b.watchGroup ?? OFPG_ANY);
    w.u32(0);
    writeActions(w, b.actions);
    w.put16(start, w.off - start);
  }
}

/** Buckets filling the reader to its end. */
export function readBuckets(r: Reader, type: GroupType): Bucket[] {
  const buckets: Bucket[] = [];
  while (r.remaining > 0) {
    const len = r.u16();
    if (len < 16 || len % 8 !== 0) throw malformed(`bucket length ${len}`);
    const body = r.sub(len - 2, 'bucket');
    const weight = body.u16();
    const watchPort = body.u32();
    const watchGroup = body.u32();
    body.skip(4);
    const bucket = {} as Bucket;
    if (type === 'select' || weight !== 0) bucket.weight = weight;
    if (watchPort !== PORT.ANY) bucket.watchPort = watchPort;
    if (watchGroup !== OFPG_ANY) bucket.watchGroup = watchGroup;
    bucket.actions = readActions(body);
    buckets.push(bucket);
  }
  return buckets;
}

export function writeGroupDescEntry(w: Writer, g: GroupEntry): void {
  const start = w.off;
  w.u16(0);
  w.u8(OFPGT[g.type]);
  w.u8(0);
  w.u32(g.groupId);
  writeBuckets(w, g.type, g.buckets);
  w.put16(start, w.off - start);
}

export function readGroupDescEntry(r: Reader): GroupEntry {
  const len = r.u16();
  if (len < 8) throw malformed(`group desc length ${len}`);
  const body = r.sub(len - 2, 'group desc');
  const type = groupTypeOf(body.u8());
  body.skip(1);
  const groupId = body.u32();
  return { groupId, type, buckets: readBuckets(body, type) };
}
