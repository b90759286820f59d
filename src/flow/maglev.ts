/**
 * Maglev consistent hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load
 * Balancer", NSDI 2016, section 3.4), weighted, and its use by select groups.
 *
 * Every backend has a name; two hashes of the name give it a permutation of the table slots 0..M-1
 * (offset + j * skip mod M, M prime, so every skip visits every slot). Backends take turns claiming
 * the next free slot of their own permutation until the table is full. A connection's hash indexes
 * the table. Because a backend's preferences depend only on its own name, adding or removing one
 * backend changes mostly the slots it takes or gives back (the paper: close to 1/N of connections).
 *
 * Weights: each backend earns `weight` credit per round and claims one slot per `maxWeight` of
 * credit, so in a round the heaviest claims one slot and a backend of weight w claims w/maxWeight on
 * average. Equal weights give exactly the paper's loop. Slot counts end within one or two of
 * M * w / sum(w): the split over the table matches the weights to about 1/M. A weight-0 backend
 * claims nothing.
 *
 * Pure and deterministic: no randomness, no clock, and backends take turns in name order, so the same
 * backend set (in any order) gives the same slot -> name table on every switch and after every restart.
 */
import { OvercastError } from '../errors/index.js';
import type { Action } from './actions.js';
import type { Bucket } from './flow-entry.js';

/** The table size M when none is given: a prime, large enough for 1% weight steps over 650 backends. */
export const MAGLEV_DEFAULT_SIZE = 65537;
/** Weights are integers 0..MAGLEV_MAX_WEIGHT (OpenFlow's bucket weight range), so credits are exact. */
export const MAGLEV_MAX_WEIGHT = 0xffff;
/** The largest table accepted (16 M slots, 64 MiB as Uint32): far beyond any sane pool. */
export const MAGLEV_MAX_SIZE = 1 << 24;

export interface MaglevTable {
  /** M: the number of slots, a prime. */
  readonly size: number;
  /** Backend names, in input order; entries hold indexes into this list. */
  readonly names: readonly string[];
  readonly weights: Float64Array;
  /** Each backend's permutation: slot j of its preferences is (offsets[i] + j * skips[i]) mod size. */
  readonly offsets: Uint32Array;
  readonly skips: Uint32Array;
  /** Slot -> backend index (meaningless when `backends` is 0). Uint16 while there are < 65535 backends. */
  readonly entries: Uint16Array | Uint32Array;
  /** How many backends have a weight > 0 (0: every lookup answers -1). */
  readonly backends: number;
}

/** Is n prime? (Trial division: sizes are at most MAGLEV_MAX_SIZE, so at most ~2,000 divisions.) */
export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

/** The smallest prime >= n (for callers that size a table from a backend count). */
export function nextPrime(n: number): number {
  let p = Math.max(2, Math.ceil(n));
  while (!isPrime(p)) p++;
  return p;
}

/** A 32-bit hash of a string (its UTF-16 code units), murmur3-style, seeded: two seeds give two independent hashes. */
export function hashName(name: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < name.length; i++) {
    let k = Math.imul(name.charCodeAt(i), 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= name.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const OFFSET_SEED = 0x4d61676c; // "Magl"
const SKIP_SEED = 0x65763136; // "ev16"

function checkSize(size: number): void {
  if (!isPrime(size) || size > MAGLEV_MAX_SIZE) {
    throw new OvercastError('OVC_ERR_FLOW_BAD_MAGLEV', `Maglev table size ${size} is not a prime in 2..${MAGLEV_MAX_SIZE}`, 'size');
  }
}

function checkWeights(weights: ArrayLike<number>, count: number): void {
  if (weights.length !== count) throw new OvercastError('OVC_ERR_FLOW_BAD_MAGLEV', `${weights.length} weights for ${count} backends`, 'weights');
  for (let i = 0; i < count; i++) {
    const w = weights[i];
    if (!Number.isInteger(w) || w < 0 || w > MAGLEV_MAX_WEIGHT) {
      throw new OvercastError('OVC_ERR_FLOW_BAD_MAGLEV', `backend ${i} has weight ${w}`, `weights[${i}]`);
    }
  }
}

/**
 * Build the Maglev table of `names` (weights default to 1 each) over `size` slots. Throws
 * OVC_ERR_FLOW_BAD_MAGLEV for a size that is not a prime in range or a weight that is not an integer
 * in 0..MAGLEV_MAX_WEIGHT.
 * Equal names get equal permutations (both still get their share); give backends distinct names.
 */
export function buildMaglev(names: readonly string[], weights?: ArrayLike<number>, size: number = MAGLEV_DEFAULT_SIZE): MaglevTable {
  checkSize(size);
  const n = names.length;
  const offsets = new Uint32Array(n);
  const skips = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    offsets[i] = hashName(names[i], OFFSET_SEED) % size;
    skips[i] = size === 2 ? 1 : (hashName(names[i], SKIP_SEED) % (size - 1)) + 1;
  }
  const w = new Float64Array(n);
  if (weights === undefined) w.fill(1);
  else {
    checkWeights(weights, n);
    for (let i = 0; i < n; i++) w[i] = weights[i];
  }
  return populate(size, names, w, offsets, skips);
}

/**
 * The same backends (names, permutations) with other weights: what a pool whose members' weights
 * change, or some of whose members are down (weight 0), maps to. Cheaper than buildMaglev (no
 * hashing of names) and equal to buildMaglev(t.names, weights, t.size).
 */
export function reweightMaglev(t: MaglevTable, weights: ArrayLike<number>): MaglevTable {
  checkWeights(weights, t.names.length);
  return populate(t.size, t.names, Float64Array.from(weights), t.offsets, t.skips);
}

function populate(size: number, names: readonly string[], weights: Float64Array, offsets: Uint32Array, skips: Uint32Array): MaglevTable {
  const n = names.length;
  const wide = n >= 0xffff;
  const entries = wide ? new Uint32Array(size) : new Uint16Array(size);
  let maxW = 0;
  let live = 0;
  let equal = true;
  for (let i = 0; i < n; i++) {
    const w = weights[i];
    if (w <= 0) continue;
    if (live > 0 && w !== maxW) equal = false;
    live++;
    if (w > maxW) maxW = w;
  }
  if (live === 0) return { size, names, weights, offsets, skips, entries, backends: 0 };
  const FREE = wide ? 0xffffffff : 0xffff;
  entries.fill(FREE);
  // Turns go in name order, not input order: the table maps slots to the same names whatever order
  // the pool is listed in (ties between equal names fall back to input order).
  const order: number[] = [];
  for (let i = 0; i < n; i++) if (weights[i] > 0) order.push(i);
  order.sort((x, y) => (names[x] < names[y] ? -1 : names[x] > names[y] ? 1 : x - y));
  const idx = Uint32Array.from(order);
  const next = new Uint32Array(live);
  const skip = new Uint32Array(live);
  for (let k = 0; k < live; k++) {
    next[k] = offsets[idx[k]];
    skip[k] = skips[idx[k]];
  }
  /** Backend k (turn order) claims its next preferred slot that nobody holds yet: the paper's step. */
  const claim = (k: number): void => {
    let p = next[k];
    const s = skip[k];
    while (entries[p] !== FREE) {
      p += s;
      if (p >= size) p -= size;
    }
    entries[p] = idx[k];
    p += s;
    if (p >= size) p -= size;
    next[k] = p;
  };
  const done = (): MaglevTable => ({ size, names, weights, offsets, skips, entries, backends: live });
  if (equal) {
    // The paper's loop: one claim per backend per round.
    for (let filled = 0; ; ) {
      for (let k = 0; k < live; k++) {
        claim(k);
        if (++filled === size) return done();
      }
    }
  }
  // Weighted: backend k earns w_k credit per round and spends maxW per claim, so it makes its j-th
  // claim in round ceil(j * maxW / w_k); claims within a round go in turn order. Integer weights make
  // the credit arithmetic exact, so the two replays below give the same table.
  const w = new Float64Array(live);
  let sumW = 0;
  for (let k = 0; k < live; k++) {
    w[k] = weights[idx[k]];
    sumW += w[k];
  }
  // Round by round costs (rounds x backends) ~ size * maxW / meanW visits; a heap ordered by
  // (round, turn) costs ~ size * log2(backends) and skips idle backends. Take the cheaper one.
  if ((maxW * live) / sumW <= 2 * Math.log2(live + 1)) {
    const credit = new Float64Array(live);
    for (let filled = 0; ; ) {
      for (let k = 0; k < live; k++) {
        credit[k] += w[k];
        if (credit[k] >= maxW) {
          credit[k] -= maxW;
          claim(k);
          if (++filled === size) return done();
        }
      }
    }
  }
  const round = new Float64Array(live);
  const claims = new Float64Array(live);
  const heap = new Uint32Array(live);
  for (let k = 0; k < live; k++) {
    round[k] = Math.ceil(maxW / w[k]);
    heap[k] = k;
  }
  const siftDown = (at: number): void => {
    const k = heap[at];
    const rk = round[k];
    for (;;) {
      let c = 2 * at + 1;
      if (c >= live) break;
      let hc = heap[c];
      if (c + 1 < live) {
        const h2 = heap[c + 1];
        if (round[h2] < round[hc] || (round[h2] === round[hc] && h2 < hc)) {
          c++;
          hc = h2;
        }
      }
      if (round[hc] > rk || (round[hc] === rk && hc > k)) break;
      heap[at] = hc;
      at = c;
    }
    heap[at] = k;
  };
  for (let at = (live >>> 1) - 1; at >= 0; at--) siftDown(at);
  for (let filled = 0; ; ) {
    const k = heap[0];
    claim(k);
    if (++filled === size) return done();
    claims[k]++;
    round[k] = Math.ceil(((claims[k] + 1) * maxW) / w[k]);
    siftDown(0);
  }
}

/** 2^-32: scales a 32-bit hash into [0, 1). */
const INV_TWO_32 = 1 / 0x100000000;

/**
 * The backend index for a 32-bit connection hash, or -1 when no backend has a weight. The slot is
 * floor(hash * M / 2^32) (Lemire's multiply-shift: uses every hash bit, no division); exact in
 * doubles since hash * M < 2^56.
 */
export function maglevLookup(t: MaglevTable, hash: number): number {
  if (t.backends === 0) return -1;
  return t.entries[((hash >>> 0) * t.size * INV_TWO_32) | 0];
}

/** Slots held by each backend (index as in t.names). */
export function maglevCounts(t: MaglevTable): Uint32Array {
  const counts = new Uint32Array(t.names.length);
  if (t.backends === 0) return counts;
  for (let j = 0; j < t.size; j++) counts[t.entries[j]]++;
  return counts;
}

/**
 * The fraction of slots (so, of uniformly hashed connections) whose backend changes from `before` to
 * `after`, backends compared by name. Both tables must have the same size.
 */
export function maglevDisruption(before: MaglevTable, after: MaglevTable): number {
  if (before.size !== after.size) {
    throw new OvercastError('OVC_ERR_FLOW_BAD_MAGLEV', `tables of ${before.size} and ${after.size} slots cannot be compared`, 'size');
  }
  // Map `before`'s indexes to `after`'s by name, so the loop compares numbers.
  const byName = new Map<string, number>();
  after.names.forEach((name, i) => {
    if (!byName.has(name)) byName.set(name, i);
  });
  const map = before.names.map((name) => byName.get(name) ?? -1);
  let moved = 0;
  for (let j = 0; j < before.size; j++) {
    const a = before.backends === 0 ? -2 : map[before.entries[j]];
    const b = after.backends === 0 ? -3 : after.entries[j];
    if (a !== b) moved++;
  }
  return moved / before.size;
}

// ---- select groups ---------------------------------------------------------------------------------

function actionName(a: Action): string {
  switch (a.type) {
    case 'output':
      // maxLen only trims packets sent to the controller: not part of where a connection goes.
      return `out:${a.port}`;
    case 'group':
      return `group:${a.groupId}`;
    case 'setField':
      return `set:${a.field}=${a.value}`;
    case 'copyField':
      return `copy:${a.src}>${a.dst}`;
    case 'pushVlan':
      return `pushVlan:${a.ethType}`;
    case 'popVlan':
      return 'popVlan';
    case 'pushMpls':
      return `pushMpls:${a.ethType}`;
    case 'popMpls':
      return `popMpls:${a.ethType}`;
    case 'decTtl':
      return 'decTtl';
    case 'ct':
      return `ct:${a.zone}:${a.table ?? ''}:${a.commit === true ? 1 : 0}:${a.mark === undefined ? '' : `${a.mark.value}/${a.mark.mask}`}`;
    case 'conjunction':
      return `conj:${a.id}:${a.clause}/${a.nClauses}`;
  }
}

/**
 * A bucket's Maglev name. OpenFlow 1.3 buckets have no ids, so the name is what the bucket does: its
 * actions, spelled canonically (so the same bucket decoded from the wire or built by the compiler
 * names alike). Weight and watch port/group are left out: changing them must not move a backend's
 * preferences. Adding or removing one bucket leaves every other bucket's name alone.
 */
export function bucketName(b: Bucket): string {
  return b.actions.map(actionName).join(';');
}

/** Every bucket's name; identical buckets get `#2`, `#3`... in order, so names are distinct. */
export function bucketNames(buckets: readonly Bucket[]): string[] {
  const seen = new Map<string, number>();
  return buckets.map((b) => {
    const base = bucketName(b);
    const k = (seen.get(base) ?? 0) + 1;
    seen.set(base, k);
    return k === 1 ? base : `${base}#${k}`;
  });
}

/** A select group's weights: bucket.weight, 1 when absent (as OpenFlow's select default). */
export function bucketWeights(buckets: readonly Bucket[]): Float64Array {
  const w = new Float64Array(buckets.length);
  for (let i = 0; i < buckets.length; i++) w[i] = buckets[i].weight ?? 1;
  return w;
}

/** A select group's Maglev table: bucket names and weights over `size` slots. */
export function compileSelectTable(buckets: readonly Bucket[], size: number = MAGLEV_DEFAULT_SIZE): MaglevTable {
  return buildMaglev(bucketNames(buckets), bucketWeights(buckets), size);
}

/**
 * Select tables by bucket list. A group's bucket list is a value: a group-mod replaces the group
 * (and its list) rather than editing it, so the list's identity is the cache key and a replaced
 * group's table goes with its list. A cached table whose backend count no longer matches its list
 * (someone edited the array in place) is rebuilt.
 */
const selectTables = new WeakMap<readonly Bucket[], MaglevTable>();

/**
 * The Maglev table of a select group's buckets: built on first use (or by the group table when the
 * group is installed, so no packet pays for it) and kept while the bucket list lives. With `size`,
 * a cached table of another size is rebuilt.
 */
export function selectTableFor(buckets: readonly Bucket[], size?: number): MaglevTable {
  let t = selectTables.get(buckets);
  if (t === undefined || t.names.length !== buckets.length || (size !== undefined && t.size !== size)) {
    t = compileSelectTable(buckets, size);
    selectTables.set(buckets, t);
  }
  return t;
}

interface Degraded {
  live: Uint8Array;
  table: MaglevTable;
}
const degradedTables = new WeakMap<MaglevTable, Degraded>();

/**
 * The table for the same pool with dead members at weight 0, cached until liveness changes. `live`
 * is scratch the caller filled (1 = live) for every backend; it is copied when a table is built.
 */
export function degradedTable(t: MaglevTable, live: Uint8Array): MaglevTable {
  const d = degradedTables.get(t);
  if (d !== undefined && sameBytes(d.live, live)) return d.table;
  const w = new Float64Array(t.names.length);
  for (let i = 0; i < w.length; i++) w[i] = live[i] === 1 ? t.weights[i] : 0;
  const table = reweightMaglev(t, w);
  degradedTables.set(t, { live: live.slice(0, t.names.length), table });
  return table;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length > b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
