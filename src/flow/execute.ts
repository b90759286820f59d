/**
 * The pipeline executor: one frame through the flow tables, as OpenFlow 1.3 apply-actions semantics
 * say. Shared by the softswitch's fast path, the controller's trace and the tests, so all three agree
 * on what a table does to a packet.
 *
 * Pure and allocation-lean: the caller supplies table lookup, groups and ports; the executor reuses
 * its packet key and result arrays, writes into the frame in place when the caller owns it, and copies
 * a frame only when it is rewritten after having been output (or when the caller does not own it).
 * Set-field writes are declared with the fields (fields.ts `write`, carried out by field-write.ts);
 * a select group's bucket is chosen by select-bucket.ts.
 */
import { ETH_TYPE_IPV4, ETH_TYPE_MPLS, ETH_TYPE_MPLS_MULTICAST, ETH_TYPE_QINQ, ETH_TYPE_VLAN, MPLS_LSE_LEN, decrementTtl } from '../net/index.js';
import { PORT, type Action, type CtMark } from './actions.js';
import { MISSING_HEADER, headerOffset, readKeyField, writeFrameField, writeKeyField } from './field-write.js';
import { CT_STATE, FIELDS, WRITE, type FieldName } from './fields.js';
import type { Bucket, GroupEntry } from './flow-entry.js';
import {
  EXTRACT_MPLS_TOO_DEEP,
  EXTRACT_OK,
  K,
  KEY_WORDS,
  VLAN_PRESENT,
  createPacketKey,
  extractKey,
  mplsOffset,
  type PacketKey,
} from './packet-key.js';
import { flowHash, selectBucket } from './select-bucket.js';
import { createExecResult, trimResult, type DropReason, type ExecResult, type FlowHandle, type PacketInCause, type PipelineEnv, type RunOptions, type TraceStep } from './execute-env.js';

// Callers of the executor also choose buckets as it does (the group tests, the load-balancer benchmark).
export { flowHash, selectBucket } from './select-bucket.js';
export * from './execute-env.js';

/** Groups may chain (a bucket's action names another group): this deep and no deeper. */
export const MAX_GROUP_DEPTH = 8;
/** Passes through the pipeline one frame may take: the first plus this many `ct` recirculations. */
export const MAX_RECIRCULATIONS = 8;
/** A goto chain cannot loop (goto must go forward), but 'next' misses and packet-out TABLE can: bound it. */
const MAX_TABLE_HOPS = 256;

export class PipelineExecutor<H extends FlowHandle = FlowHandle> {
  private readonly key: PacketKey = createPacketKey();
  private readonly scratch: Uint32Array[] = [];
  private frame: Uint8Array = new Uint8Array(0);
  /** The current frame is referenced elsewhere (an output, a packet-in, the caller): copy before writing. */
  private shared = true;
  private inPort = 0;
  private res: ExecResult<H> = createExecResult<H>();
  private trace: TraceStep[] | undefined;
  private cookie = 0;
  private table = 0;
  private hops = 0;
  private pendingDrop: DropReason | undefined;
  private ttlExpired = false;
  /** The table a `ct` asked the lookup to start over in after this pass, or -1. */
  private recircTable = -1;
  /** A select group's bucket run straight from a flow is running (it may recirculate). */
  private inSelectBucket = false;
  /** That bucket asked for a recirculation: the rest of its flow does not touch its packet. */
  private bucketRecirculates = false;
  /** The ct fields the recirculated pass starts with. */
  private recircState = 0;
  private recircZone = 0;
  private recircMark = 0;

  constructor(readonly env: PipelineEnv<H>) {
    for (let i = 0; i <= MAX_GROUP_DEPTH; i++) this.scratch.push(new Uint32Array(KEY_WORDS));
  }

  /** The packet key of the last run (after its rewrites). */
  get lastKey(): PacketKey {
    return this.key;
  }

  /** Run a frame received on `inPort` through the tables. */
  run(frame: Uint8Array, inPort: number, result: ExecResult<H>, opts: RunOptions = {}): ExecResult<H> {
    if (!this.begin(frame, inPort, result, opts)) return result;
    this.walkPasses(opts.table ?? 0);
    return this.finish();
  }

  /**
   * Apply an action list to a frame (a packet-out): output to PORT.TABLE submits the frame to the
   * pipeline from table 0, as OpenFlow says.
   */
  runActions(actions: readonly Action[], frame: Uint8Array, inPort: number, result: ExecResult<H>, opts: RunOptions = {}): ExecResult<H> {
    if (!this.begin(frame, inPort, result, opts)) return result;
    this.table = 0;
    this.applyActions(actions, 0, true);
    if (this.recircTable >= 0) this.walkPasses(-1);
    return this.finish();
  }

  private begin(frame: Uint8Array, inPort: number, result: ExecResult<H>, opts: RunOptions): boolean {
    const r = result;
    r.outCount = 0;
    r.matchedCount = 0;
    if (r.packetIns.length !== 0) r.packetIns.length = 0;
    r.drop = undefined;
    this.res = r;
    this.trace = opts.trace;
    this.frame = frame;
    this.shared = opts.mutable !== true;
    this.inPort = inPort >>> 0;
    this.cookie = 0;
    this.hops = 0;
    this.pendingDrop = undefined;
    this.ttlExpired = false;
    this.recircTable = -1;
    this.bucketRecirculates = false;
    const extracted = extractKey(frame, inPort, opts.tunnelId ?? 0, this.key);
    if (extracted !== EXTRACT_OK) {
      r.drop = extracted === EXTRACT_MPLS_TOO_DEEP ? 'mplsTooDeep' : 'malformed';
      this.trace?.push({ kind: 'drop', reason: r.drop });
      return false;
    }
    this.key[K.METADATA] = (opts.metadata ?? 0) >>> 0;
    return true;
  }

  private finish(): ExecResult<H> {
    const r = this.res;
    if (r.outCount === 0 && r.packetIns.length === 0 && r.drop === undefined) {
      r.drop = this.ttlExpired ? 'ttlExpired' : (this.pendingDrop ?? 'noOutput');
      this.trace?.push({ kind: 'drop', reason: r.drop });
    }
    return r;
  }

  /** A pass from `firstTable` (none when -1), then one per `ct` recirculation, bounded. */
  private walkPasses(firstTable: number): void {
    if (firstTable >= 0) this.walk(firstTable);
    for (let pass = 0; this.recircTable >= 0; pass++) {
      const table = this.recircTable;
      this.recircTable = -1;
      this.bucketRecirculates = false;
      if (pass === MAX_RECIRCULATIONS || table >= this.env.tableCount) {
        this.pendingDrop = 'recirculationLimit';
        return;
      }
      this.trace?.push({ kind: 'recirculate', table });
      const key = this.key;
      key[K.CT_STATE] = this.recircState;
      key[K.CT_ZONE] = this.recircZone;
      key[K.CT_MARK] = this.recircMark;
      this.walk(table);
    }
  }

  private walk(firstTable: number): void {
    const env = this.env;
    const key = this.key;
    let table = firstTable;
    while (this.hops++ < MAX_TABLE_HOPS) {
      this.table = table;
      const h = env.lookup(table, key);
      if (h === undefined) {
        const miss = typeof env.tableMiss === 'function' ? env.tableMiss(table) : env.tableMiss;
        this.trace?.push({ kind: 'table', table, flow: undefined, miss });
        if (miss === 'next' && table + 1 < env.tableCount) {
          table++;
          continue;
        }
        if (miss === 'controller') {
          this.cookie = 0;
          this.packetIn('noMatch');
        } else {
          this.res.drop = 'tableMiss';
          this.trace?.push({ kind: 'drop', reason: 'tableMiss' });
        }
        return;
      }
      this.res.matched[this.res.matchedCount++] = h;
      const f = h.flow;
      this.trace?.push({ kind: 'table', table, flow: f });
      this.cookie = f.cookie;
      // OpenFlow 1.3: the meter instruction runs first; a packet a band drops goes no further.
      const meterId = f.meterId;
      if (meterId !== undefined) {
        const passed = env.meter === undefined || env.meter(meterId, this.frame.length);
        this.trace?.push({ kind: 'meter', meterId, passed });
        if (!passed) {
          this.res.drop = 'meter';
          this.trace?.push({ kind: 'drop', reason: 'meter' });
          return;
        }
      }
      if (f.actions.length > 0 && !this.applyActions(f.actions, 0, false)) return;
      // The packet a bucket froze for its recirculation is past this flow's instructions.
      if (this.bucketRecirculates) return;
      const wm = f.writeMetadata;
      if (wm !== undefined) {
        const from = key[K.METADATA];
        key[K.METADATA] = ((from & ~wm.mask) | (wm.value & wm.mask)) >>> 0;
        this.trace?.push({ kind: 'metadata', from, to: key[K.METADATA] });
      }
      const next = f.gotoTable;
      if (next === undefined || next <= table || next >= env.tableCount) return;
      table = next;
    }
  }

  /** Returns false when the packet must go no further (TTL expired). */
  private applyActions(actions: readonly Action[], depth: number, packetOut: boolean): boolean {
    for (let i = 0; i < actions.length; i++) {
      const a = actions[i];
      switch (a.type) {
        case 'output':
          this.trace?.push({ kind: 'action', action: a });
          if (a.port === PORT.TABLE && packetOut) this.walkPasses(0);
          else this.output(a.port);
          break;
        case 'group':
          this.trace?.push({ kind: 'action', action: a });
          this.applyGroup(a.groupId, depth);
          break;
        case 'setField':
          this.setField(a.field, a.value, a);
          break;
        case 'copyField':
          this.setField(a.dst, this.readField(a.src), a);
          break;
        case 'pushVlan':
          this.trace?.push({ kind: 'action', action: a });
          this.pushVlan(a.ethType);
          break;
        case 'popVlan':
          this.trace?.push({ kind: 'action', action: a });
          this.popVlan();
          break;
        case 'pushMpls':
          this.trace?.push({ kind: 'action', action: a });
          this.pushMpls(a.ethType);
          break;
        case 'popMpls':
          this.popMpls(a.ethType, a);
          break;
        case 'decTtl':
          this.trace?.push({ kind: 'action', action: a });
          if (!this.decTtl()) return false;
          break;
        case 'ct':
          this.trace?.push({ kind: 'action', action: a });
          if (!this.conntrack(a.zone, a.commit === true, a.mark, a.table !== undefined)) return false;
          if (a.table !== undefined) {
            if (depth === 0) this.recircTable = a.table;
            else if (depth === 1 && this.inSelectBucket) {
              this.recircTable = a.table;
              this.bucketRecirculates = true;
            } else this.trace?.push({ kind: 'action', action: a, skipped: 'a ct in this group bucket does not recirculate' });
          }
          break;
        case 'conjunction':
          // A clause flow only counts towards its conjunction in the lookup; as a flow it does nothing.
          this.trace?.push({ kind: 'action', action: a, skipped: 'a conjunction clause acts only through the lookup' });
          break;
      }
    }
    return true;
  }

  /**
   * Returns false when the packet is dropped (its zone is full). As in Open vSwitch, what ct finds is
   * visible only in the pass a recirculation starts; the current pass goes on untracked (ct fields 0).
   */
  private conntrack(zone: number, commit: boolean, mark: CtMark | undefined, recirculates: boolean): boolean {
    const key = this.key;
    const ct = this.env.conntrack;
    if (ct === undefined) {
      key[K.CT_STATE] = CT_STATE.TRK | CT_STATE.NEW;
      key[K.CT_ZONE] = zone;
      key[K.CT_MARK] = commit && mark !== undefined ? (mark.value & mark.mask) >>> 0 : 0;
    } else if (!ct.track(key, this.frame, zone, commit, mark)) {
      this.pendingDrop = 'conntrackLimit';
      this.trace?.push({ kind: 'drop', reason: 'conntrackLimit' });
      return false;
    }
    this.trace?.push({ kind: 'conntrack', zone, state: key[K.CT_STATE], mark: key[K.CT_MARK] });
    if (recirculates) {
      this.recircState = key[K.CT_STATE];
      this.recircZone = key[K.CT_ZONE];
      this.recircMark = key[K.CT_MARK];
    }
    key[K.CT_STATE] = 0;
    key[K.CT_ZONE] = 0;
    key[K.CT_MARK] = 0;
    return true;
  }

  private output(port: number): void {
    if (port === PORT.IN_PORT) {
      this.emit(this.inPort);
    } else if (port === PORT.FLOOD || port === PORT.ALL) {
      const ports = this.env.ports;
      for (let i = 0; i < ports.length; i++) if (ports[i] !== this.inPort) this.emit(ports[i]);
    } else if (port === PORT.CONTROLLER) {
      this.packetIn('action');
    } else if (port < PORT.MAX && port !== this.inPort) {
      // OpenFlow: sending back out of the ingress port needs IN_PORT explicitly.
      this.emit(port);
    }
  }

  private emit(port: number): void {
    const r = this.res;
    r.outPorts[r.outCount] = port;
    r.outFrames[r.outCount++] = this.frame;
    this.shared = true;
    this.trace?.push({ kind: 'output', port });
  }

  private packetIn(reason: PacketInCause): void {
    this.res.packetIns.push({ table: this.table, reason, cookie: this.cookie, metadata: this.key[K.METADATA], frame: this.frame });
    this.shared = true;
    this.trace?.push({ kind: 'packetIn', reason });
  }

  /** The frame, made safe to write (copied once if anything else refers to it). */
  private writable(): Uint8Array {
    if (this.shared) {
      const copy = Buffer.allocUnsafe(this.frame.length);
      copy.set(this.frame);
      this.frame = copy;
      this.shared = false;
    }
    return this.frame;
  }

  private applyGroup(groupId: number, depth: number): void {
    const g = this.env.group?.(groupId);
    if (g === undefined) {
      this.pendingDrop = 'groupMissing';
      this.trace?.push({ kind: 'group', groupId, type: 'missing', bucket: -1 });
      return;
    }
    if (depth >= MAX_GROUP_DEPTH) {
      this.pendingDrop = 'groupLoop';
      return;
    }
    const buckets = g.buckets;
    switch (g.type) {
      case 'all':
        for (let i = 0; i < buckets.length; i++) this.runBucket(g, i, depth);
        break;
      case 'indirect':
        if (buckets.length > 0) this.runBucket(g, 0, depth);
        break;
      case 'select': {
        const i = selectBucket(buckets, flowHash(this.key), this.isBucketLive);
        // A select group run by a flow (not by another group's bucket) may recirculate from its
        // bucket, as Open vSwitch does (OVN's load balancers): a `ct` with a table there continues
        // the pipeline with the bucket's packet.
        this.inSelectBucket = depth === 0;
        if (i >= 0) this.runBucket(g, i, depth);
        else this.pendingDrop = 'noOutput';
        this.inSelectBucket = false;
        break;
      }
      case 'fastFailover':
        for (let i = 0; i < buckets.length; i++) {
          if (this.bucketLive(buckets[i])) {
            this.runBucket(g, i, depth);
            break;
          }
        }
        break;
    }
  }

  private readonly isBucketLive = (b: Bucket): boolean => this.bucketLive(b);

  private bucketLive(b: Bucket): boolean {
    if (b.watchPort !== undefined && b.watchPort !== PORT.ANY && this.env.isPortLive && !this.env.isPortLive(b.watchPort)) return false;
    if (b.watchGroup !== undefined && b.watchGroup !== PORT.ANY && this.env.group?.(b.watchGroup) === undefined) return false;
    return true;
  }

  /** A bucket works on a clone of the packet: its rewrites do not leak into the actions after the group. */
  private runBucket(g: GroupEntry, index: number, depth: number): void {
    this.trace?.push({ kind: 'group', groupId: g.groupId, type: g.type, bucket: index });
    const saved = this.scratch[depth];
    saved.set(this.key);
    const frame = this.frame;
    this.shared = true;
    this.applyActions(g.buckets[index].actions, depth + 1, false);
    // A bucket that recirculates hands its packet, as it is, to the next pass (Open vSwitch freezes
    // the packet at the ct).
    if (this.bucketRecirculates) return;
    this.ttlExpired = false;
    this.frame = frame;
    this.shared = true;
    this.key.set(saved);
  }

  /** A field's value in the packet key (a method, so the action loop stays small enough to inline). */
  private readField(field: FieldName): number {
    return readKeyField(this.key, FIELDS[field].slots);
  }

  /**
   * Write `value` into a field of the frame and the key, as the field's declaration says
   * (fields.ts `write`, carried out by field-write.ts). A packet without the field's header is left
   * as it is.
   */
  private setField(field: FieldName, value: number, action: Action): void {
    const spec = FIELDS[field];
    const key = this.key;
    const from = readKeyField(key, spec.slots);
    if (from === value) {
      this.trace?.push({ kind: 'action', action });
      return;
    }
    const w = spec.write;
    // inPort, metadata, ethType, ipProto, tcpFlags declare no write (checkActions refuses them).
    if (w === undefined) return void this.trace?.push({ kind: 'action', action, skipped: 'field not settable' });
    const at = headerOffset(key, w.header);
    if (at < 0) return void this.trace?.push({ kind: 'action', action, skipped: MISSING_HEADER[w.header] });
    if (w.kind !== WRITE.KEY_ONLY) writeFrameField(this.writable(), at, key[K.L3_OFFSET], w, value);
    const to = w.keyFlags === 0 ? value : (value | w.keyFlags) >>> 0;
    writeKeyField(key, spec.slots, to);
    this.trace?.push({ kind: 'action', action });
    this.trace?.push({ kind: 'rewrite', field, from, to });
  }

  private pushVlan(tpid: number): void {
    const old = this.frame;
    const tagged = (this.key[K.VLAN_VID] & VLAN_PRESENT) !== 0;
    const b = Buffer.allocUnsafe(old.length + 4);
    b.set(old.subarray(0, 12), 0);
    b[12] = tpid >>> 8;
    b[13] = tpid & 0xff;
    // OpenFlow 1.3: the new tag copies VID and PCP from the outer tag when there is one.
    b[14] = tagged ? old[14] : 0;
    b[15] = tagged ? old[15] : 0;
    b.set(old.subarray(12), 16);
    this.frame = b;
    this.shared = false;
    this.reextract();
    this.trace?.push({ kind: 'rewrite', field: 'vlan', from: tagged ? 1 : 0, to: 1 });
  }

  private popVlan(): void {
    const t = (this.frame[12] << 8) | this.frame[13];
    if (this.frame.length < 18 || (t !== ETH_TYPE_VLAN && t !== ETH_TYPE_QINQ)) return;
    if (this.shared) {
      const old = this.frame;
      const b = Buffer.allocUnsafe(old.length - 4);
      b.set(old.subarray(0, 12), 0);
      b.set(old.subarray(16), 12);
      this.frame = b;
      this.shared = false;
    } else {
      // Slide the MACs over the tag: no allocation.
      this.frame.copyWithin(4, 0, 12);
      this.frame = this.frame.subarray(4);
    }
    this.reextract();
    this.trace?.push({ kind: 'rewrite', field: 'vlan', from: 1, to: 0 });
  }

  /**
   * Push a label stack entry after the Ethernet header (and any VLAN tag). Over an MPLS frame it
   * copies the top entry with bottom-of-stack clear; over anything else it is label 0 (IPv4 explicit
   * null), bottom of stack, with Open vSwitch's choices: traffic class = the low 3 bits of the DSCP,
   * TTL = the IP TTL (64 for a non-IP payload or TTL 0).
   */
  private pushMpls(ethType: number): void {
    const key = this.key;
    const old = this.frame;
    const at = mplsOffset(key);
    const type = key[K.ETH_TYPE];
    const b = Buffer.allocUnsafe(old.length + MPLS_LSE_LEN);
    b.set(old.subarray(0, at - 2), 0);
    b[at - 2] = ethType >>> 8;
    b[at - 1] = ethType & 0xff;
    const depth = this.mplsDepth();
    if (type === ETH_TYPE_MPLS || type === ETH_TYPE_MPLS_MULTICAST) {
      b[at] = old[at];
      b[at + 1] = old[at + 1];
      b[at + 2] = old[at + 2] & 0xfe;
      b[at + 3] = old[at + 3];
    } else {
      const ip = type === ETH_TYPE_IPV4 && key[K.L3_OFFSET] !== 0;
      const tc = ip ? key[K.IP_DSCP] & 0x7 : 0;
      const ttl = ip && key[K.IP_TTL] !== 0 ? key[K.IP_TTL] : 64;
      b[at] = 0;
      b[at + 1] = 0;
      b[at + 2] = (tc << 1) | 1;
      b[at + 3] = ttl;
    }
    b.set(old.subarray(at), at + MPLS_LSE_LEN);
    this.frame = b;
    this.shared = false;
    this.reextract();
    this.trace?.push({ kind: 'rewrite', field: 'mpls', from: depth, to: depth + 1 });
  }

  /** Pop the top label stack entry; the frame's ethertype becomes `ethType`. A non-MPLS frame is left alone. */
  private popMpls(ethType: number, action: Action): void {
    const key = this.key;
    const type = key[K.ETH_TYPE];
    if (type !== ETH_TYPE_MPLS && type !== ETH_TYPE_MPLS_MULTICAST) {
      this.trace?.push({ kind: 'action', action, skipped: 'not MPLS' });
      return;
    }
    this.trace?.push({ kind: 'action', action });
    const depth = this.mplsDepth();
    const at = mplsOffset(key);
    if (this.shared) {
      const old = this.frame;
      const b = Buffer.allocUnsafe(old.length - MPLS_LSE_LEN);
      b.set(old.subarray(0, at - 2), 0);
      b.set(old.subarray(at + MPLS_LSE_LEN), at);
      this.frame = b;
      this.shared = false;
    } else {
      // Slide the header over the popped entry: no allocation.
      this.frame.copyWithin(MPLS_LSE_LEN, 0, at - 2);
      this.frame = this.frame.subarray(MPLS_LSE_LEN);
    }
    this.frame[at - 2] = ethType >>> 8;
    this.frame[at - 1] = ethType & 0xff;
    this.reextract();
    this.trace?.push({ kind: 'rewrite', field: 'mpls', from: depth, to: depth - 1 });
  }

  /** Label stack entries on the current frame (trace only). */
  private mplsDepth(): number {
    if (this.trace === undefined) return 0;
    const type = this.key[K.ETH_TYPE];
    if (type !== ETH_TYPE_MPLS && type !== ETH_TYPE_MPLS_MULTICAST) return 0;
    return (this.key[K.L3_OFFSET] - mplsOffset(this.key)) / MPLS_LSE_LEN;
  }

  private reextract(): void {
    const key = this.key;
    const metadata = key[K.METADATA];
    extractKey(this.frame, key[K.IN_PORT], key[K.TUNNEL_ID], key);
    key[K.METADATA] = metadata;
  }

  private decTtl(): boolean {
    const key = this.key;
    const l3 = key[K.L3_OFFSET];
    if (key[K.ETH_TYPE] !== ETH_TYPE_IPV4 || l3 === 0) return true;
    const ttl = this.frame[l3 + 8];
    if (ttl <= 1) {
      this.ttlExpired = true;
      this.trace?.push({ kind: 'drop', reason: 'ttlExpired' });
      return false;
    }
    decrementTtl(this.writable(), l3);
    key[K.IP_TTL] = ttl - 1;
    this.trace?.push({ kind: 'rewrite', field: 'ipTtl', from: ttl, to: ttl - 1 });
    return true;
  }
}

export function createPipelineExecutor<H extends FlowHandle>(env: PipelineEnv<H>): PipelineExecutor<H> {
  return new PipelineExecutor(env);
}

/** One-shot trace: every step of one frame through the tables (the input frame is never written). */
export function tracePipeline<H extends FlowHandle>(
  env: PipelineEnv<H>,
  frame: Uint8Array,
  inPort: number,
  opts: Omit<RunOptions, 'trace' | 'mutable'> = {},
): { result: ExecResult<H>; steps: TraceStep[] } {
  const steps: TraceStep[] = [];
  const result = new PipelineExecutor(env).run(frame, inPort, createExecResult<H>(), { ...opts, trace: steps, mutable: false });
  return { result: trimResult(result), steps };
}
