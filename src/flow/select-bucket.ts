/**
 * A select group's choice of bucket: a hash of the packet's flow (so every packet of a connection
 * goes one way) looked up in the group's Maglev table (maglev.ts).
 */
import { ETH_TYPE_IPV4 } from '../net/index.js';
import type { Bucket } from './flow-entry.js';
import { K, type PacketKey } from './packet-key.js';
import { degradedTable, maglevLookup, selectTableFor } from './maglev.js';

/** murmur3's step for one 32-bit word: cheap and well mixed. */
function mix(h: number, v: number): number {
  h = Math.imul(h ^ v, 0xcc9e2d51);
  h = (h << 15) | (h >>> 17);
  h = Math.imul(h, 0x1b873593);
  return h >>> 0;
}
/** murmur3's finaliser: every input bit reaches every output bit. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The hash a select group picks a bucket by: the 5-tuple (IPv4 src/dst, protocol, L4 ports) for IP,
 * the MAC pair otherwise. Every packet of one connection hashes alike, so it stays on one backend.
 */
export function flowHash(key: PacketKey): number {
  let h = 0x9747b28c;
  if (key[K.ETH_TYPE] === ETH_TYPE_IPV4) {
    h = mix(h, key[K.IP_SRC]);
    h = mix(h, key[K.IP_DST]);
    h = mix(h, key[K.IP_PROTO]);
    h = mix(h, (key[K.L4_SRC] << 16) | key[K.L4_DST]);
  } else {
    h = mix(h, key[K.ETH_SRC_HI]);
    h = mix(h, key[K.ETH_SRC_LO]);
    h = mix(h, key[K.ETH_DST_HI]);
    h = mix(h, key[K.ETH_DST_LO]);
  }
  return fmix(h);
}

/**
 * The select-group choice: the bucket whose Maglev slot the flow hash lands in (see maglev.ts). The
 * group's table is built when the group is installed (GroupTable) or on first use, never per packet.
 * Deterministic per flow, split by weight, consistent: a bucket joining or leaving moves its own
 * share of flows plus a small fraction (Maglev: about 1/N in all). Weight-0 buckets are never chosen;
 * -1 when no bucket can be.
 *
 * Liveness (`isLive`, when given): a flow whose bucket is live keeps it; a flow whose bucket is down
 * goes where the table of the live buckets only (same names, dead weights 0) sends it, built once
 * per change of liveness. So a port going down moves only its own flows, and they come back when it
 * comes up.
 */
export function selectBucket(buckets: readonly Bucket[], hash: number, isLive?: (b: Bucket) => boolean): number {
  const t = selectTableFor(buckets);
  const i = maglevLookup(t, hash);
  if (i < 0 || isLive === undefined || isLive(buckets[i])) return i;
  const live = liveScratch.length >= buckets.length ? liveScratch : (liveScratch = new Uint8Array(buckets.length * 2));
  for (let k = 0; k < buckets.length; k++) live[k] = isLive(buckets[k]) ? 1 : 0;
  return maglevLookup(degradedTable(t, live), hash);
}
let liveScratch = new Uint8Array(64);
