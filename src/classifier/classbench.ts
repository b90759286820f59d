/**
 * ClassBench rule sets and traces (the de facto packet-classification benchmark). Pure: text in, rules
 * and packet headers out; reading (and Brotli) is the caller's job.
 *
 * Rule line:  @src/len <TAB> dst/len <TAB> spLo : spHi <TAB> dpLo : dpHi <TAB> proto/mask [<TAB> flags/mask]
 * Trace line: src dst sport dport proto [flags [filterIdx]]  (unsigned decimals, tab or space separated)
 * Priority is file order: line 0 is the best. Flags are ignored (5-tuple classification).
 */
import { K, MATCHABLE_WORDS } from '../flow/index.js';
import { OvercastError, type ProblemDetail } from '../errors/index.js';
import type { ClassifierRule, RangeMatch } from './classifier.js';

export interface ClassBenchRule {
  /** 0-based line number in the file (what `--out` reports). */
  line: number;
  srcIp: number;
  srcLen: number;
  dstIp: number;
  dstLen: number;
  srcPortLo: number;
  srcPortHi: number;
  dstPortLo: number;
  dstPortHi: number;
  proto: number;
  protoMask: number;
}

/** Packet headers of a trace, five words each, in TRACE_* column order. */
export interface ClassBenchTrace {
  count: number;
  headers: Uint32Array;
  /** The rule each header was generated from (-1 when the line had none); the first match is <= it. */
  filterIdx: Int32Array;
}
export const TRACE_SRC = 0;
export const TRACE_DST = 1;
export const TRACE_SPORT = 2;
export const TRACE_DPORT = 3;
export const TRACE_PROTO = 4;
export const TRACE_WORDS = 5;

const RULE_RE =
  /^@(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)\s+(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)\s+(\d+)\s*:\s*(\d+)\s+(\d+)\s*:\s*(\d+)\s+0x([0-9a-fA-F]+)\/0x([0-9a-fA-F]+)(\s+0x[0-9a-fA-F]+\/0x[0-9a-fA-F]+)?\s*$/;

function prefixMask(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** Parse one rule line; undefined when malformed (so the caller can report every bad line at once). */
export function parseClassBenchRule(line: string, lineNo = 0): ClassBenchRule | undefined {
  const m = RULE_RE.exec(line);
  if (m === null) return undefined;
  const n = m.slice(1, 17).map((x, i) => (i >= 14 ? parseInt(x, 16) : Number(x)));
  const octets = [n[0], n[1], n[2], n[3], n[5], n[6], n[7], n[8]];
  if (octets.some((o) => o > 255)) return undefined;
  const [srcLen, dstLen] = [n[4], n[9]];
  if (srcLen > 32 || dstLen > 32) return undefined;
  const [spLo, spHi, dpLo, dpHi, proto, protoMask] = [n[10], n[11], n[12], n[13], n[14], n[15]];
  if (spLo > spHi || dpLo > dpHi || spHi > 0xffff || dpHi > 0xffff || proto > 0xff || protoMask > 0xff) return undefined;
  const ip = (a: number, b: number, c: number, d: number) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
  return {
    line: lineNo,
    // Host bits below the prefix are masked off even though the published files have none.
    srcIp: (ip(n[0], n[1], n[2], n[3]) & prefixMask(srcLen)) >>> 0,
    srcLen,
    dstIp: (ip(n[5], n[6], n[7], n[8]) & prefixMask(dstLen)) >>> 0,
    dstLen,
    srcPortLo: spLo,
    srcPortHi: spHi,
    dstPortLo: dpLo,
    dstPortHi: dpHi,
    proto: proto & protoMask,
    protoMask,
  };
}

/** Every rule of a file, in order. Throws OVC_ERR_CLASSIFIER_BAD_RULESET listing every bad line. */
export function parseClassBenchRules(text: string): ClassBenchRule[] {
  const rules: ClassBenchRule[] = [];
  const problems: ProblemDetail[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim(); // also drops CR of CRLF files
    if (line === '') continue;
    const r = parseClassBenchRule(line, i);
    if (r === undefined) {
      if (problems.length < 20) problems.push({ code: 'OVC_ERR_CLASSIFIER_BAD_RULESET', message: `bad rule on line ${i + 1}`, field: `line ${i + 1}` });
      continue;
    }
    rules.push(r);
  }
  if (problems.length > 0) throw OvercastError.fromProblems(problems);
  return rules;
}

/** Lower a port range onto slot value/mask when it is a prefix, else keep it as a range. */
function portCondition(slot: number, lo: number, hi: number, value: Uint32Array, mask: Uint32Array, ranges: RangeMatch[]): void {
  if (lo === 0 && hi === 0xffff) return;
  const span = hi - lo + 1;
  if ((span & (span - 1)) === 0 && (lo & (span - 1)) === 0) {
    mask[slot] = 0xffff & ~(span - 1);
    value[slot] = lo;
    return;
  }
  ranges.push({ slot, lo, hi });
}

/**
 * A ClassBench rule as a classifier rule over packet-key slots: IPs on IP_SRC/IP_DST, protocol on
 * IP_PROTO, ports on L4_SRC/L4_DST. `index` is the line order; priority = total - 1 - index (the
 * harnesses' convention), id = index, and the payload is the rule's line number in its file.
 */
export function classBenchToRule(r: ClassBenchRule, index: number, total: number): ClassifierRule<number> {
  const value = new Uint32Array(MATCHABLE_WORDS);
  const mask = new Uint32Array(MATCHABLE_WORDS);
  const ranges: RangeMatch[] = [];
  mask[K.IP_SRC] = prefixMask(r.srcLen);
  value[K.IP_SRC] = r.srcIp;
  mask[K.IP_DST] = prefixMask(r.dstLen);
  value[K.IP_DST] = r.dstIp;
  mask[K.IP_PROTO] = r.protoMask;
  value[K.IP_PROTO] = r.proto;
  portCondition(K.L4_SRC, r.srcPortLo, r.srcPortHi, value, mask, ranges);
  portCondition(K.L4_DST, r.dstPortLo, r.dstPortHi, value, mask, ranges);
  // Every rule gets the same object shape (ranges always present) so callers' property reads stay monomorphic.
  return { id: index, priority: total - 1 - index, match: { value, mask }, ranges, payload: r.line };
}

export function classBenchRulesToClassifierRules(rules: readonly ClassBenchRule[]): ClassifierRule<number>[] {
  return rules.map((r, i) => classBenchToRule(r, i, rules.length));
}

/** Parse a trace. Throws OVC_ERR_CLASSIFIER_BAD_RULESET listing the first bad lines. */
export function parseClassBenchTrace(text: string): ClassBenchTrace {
  // Count lines first so the columns go straight into one typed array.
  let lines = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
  lines++;
  const headers = new Uint32Array(lines * TRACE_WORDS);
  const filterIdx = new Int32Array(lines);
  const problems: ProblemDetail[] = [];
  let count = 0;
  let lineNo = 0;
  let pos = 0;
  const len = text.length;
  const nums = [0, 0, 0, 0, 0, 0, 0];
  while (pos < len) {
    lineNo++;
    let end = text.indexOf('\n', pos);
    if (end < 0) end = len;
    // Hand-rolled number scan: a 1M-line trace is 30+ MB of text and split/Number would triple the time.
    let k = 0;
    let bad = false;
    let i = pos;
    while (i < end) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 13) {
        i++;
        continue;
      }
      if (c < 48 || c > 57 || k === 7) {
        bad = true;
        break;
      }
      let v = 0;
      while (i < end) {
        const d = text.charCodeAt(i) - 48;
        if (d < 0 || d > 9) break;
        v = v * 10 + d;
        i++;
      }
      nums[k++] = v;
    }
    pos = end + 1;
    if (k === 0 && !bad) continue;
    if (bad || k < 5 || nums[0] > 0xffffffff || nums[1] > 0xffffffff || nums[2] > 0xffff || nums[3] > 0xffff || nums[4] > 0xff) {
      if (problems.length < 20) problems.push({ code: 'OVC_ERR_CLASSIFIER_BAD_RULESET', message: `bad trace line ${lineNo}`, field: `line ${lineNo}` });
      continue;
    }
    const b = count * TRACE_WORDS;
    for (let j = 0; j < TRACE_WORDS; j++) headers[b + j] = nums[j];
    filterIdx[count] = k >= 7 ? nums[6] : -1;
    count++;
  }
  if (problems.length > 0) throw OvercastError.fromProblems(problems);
  return { count, headers: headers.subarray(0, count * TRACE_WORDS), filterIdx: filterIdx.subarray(0, count) };
}

/** Write trace header i into a packet key (the other slots are left as they are). */
export function traceKey(trace: ClassBenchTrace, i: number, key: Uint32Array): void {
  const b = i * TRACE_WORDS;
  const h = trace.headers;
  key[K.IP_SRC] = h[b];
  key[K.IP_DST] = h[b + 1];
  key[K.L4_SRC] = h[b + 2];
  key[K.L4_DST] = h[b + 3];
  key[K.IP_PROTO] = h[b + 4];
}
