/**
 * The controller side of one OpenFlow 1.3 connection (an Open vSwitch bridge, or any 1.3 switch): the
 * handshake (HELLO with a version bitmap, FEATURES, PORT_DESC, DESC, SET_CONFIG), request/reply
 * matching by xid with multipart collection, echo keepalive both ways, packet-in and port-status
 * events, and flow pushes written in large batches (inside an ONF bundle when there are many), the
 * same SwitchConnection the native channel gives the controller.
 *
 * Errors the switch reports for messages nobody waits on (a flow-mod it refused) are kept and fail the
 * next barrier: "synced" then never claims flows the switch did not take. Undecodable messages are
 * counted and skipped; only a broken byte stream (bad length) closes the connection.
 */
import type net from 'node:net';
import type { Logger } from 'pino';
import { PORT, type Action, type FlowMod, type GroupEntry, type GroupMod } from '../../flow/index.js';
import { of13 } from '../../protocol/index.js';
import type {
  FlowStatsEntry,
  PacketInEvent,
  PortStatsEntry,
  SwitchConnection,
  SwitchConnectionEvents,
  SwitchFeatures,
  SwitchPort,
} from '../switch-connection.js';
import { isFlowStatsReplyFrame, splitFlowStatsReply } from './foreign-flows.js';

type Msg = of13.Of13Message;
type MsgOf<T extends Msg['type']> = Extract<Msg, { type: T }>;

export const OF13_HANDSHAKE_TIMEOUT_MS = 5000;
export const OF13_REQUEST_TIMEOUT_MS = 30_000;
export const OF13_ECHO_INTERVAL_MS = 2000;
/** Echo replies missed in a row before the connection is declared dead. */
export const OF13_ECHO_MISSES_ALLOWED = 3;
/** Flow-mods per encoded chunk: ~150 B each, so a chunk is ~300 KiB, one write. */
export const FLOW_MODS_PER_WRITE = 2048;
/**
 * From this many flow-mods in one call, they go inside one atomic ONF bundle (all-or-nothing). Off by
 * default: measured on Open vSwitch 3.1 (bench/ovs-push.ts, docs/openflow.md), plain batches written
 * while the next chunk is encoded install faster than the same flow-mods in a bundle.
 */
export const BUNDLE_MIN_FLOW_MODS = Infinity;
/** Whole-packet packet-ins (OFPCML_NO_BUFFER). */
const MISS_SEND_LEN_ALL = 0xffff;

export interface Of13ConnectionOptions {
  /** Bundle threshold; Infinity (the default) never bundles, 1 always does. */
  bundleMinFlowMods?: number;
  echoIntervalMs?: number;
}

export interface Of13Counters {
  rxMessages: number;
  txMessages: number;
  malformed: number;
  /** Errors the switch sent. */
  switchErrors: number;
  /** Flows read back that the codec could not decode, deleted by raw strict delete. */
  foreignFlowsDeleted: number;
  bundles: number;
}

/** Bytes to write, or a producer that encodes the next chunk of a flow-mod batch. */
type TxItem = Buffer | (() => { bytes: Buffer; done: boolean });

interface Pending {
  resolve: (msgs: Msg[]) => void;
  reject: (e: Error) => void;
  replies: Msg[];
  timer: NodeJS.Timeout;
}

/** An OpenFlow error, with its type and code (numbers as the spec lists them). */
export class Of13SwitchError extends Error {
  constructor(
    readonly errType: number,
    readonly errCode: number,
    readonly xid: number,
    /** How many errors arrived before the barrier that reports them (this is the first). */
    readonly count = 1,
  ) {
    super(`switch error type ${errType} code ${errCode} (xid ${xid})${count > 1 ? ` and ${count - 1} more` : ''}`);
    this.name = 'Of13SwitchError';
  }
}

const PACKET_IN_REASONS: readonly PacketInEvent['reason'][] = ['noMatch', 'action', 'invalidTtl'];

function toSwitchPort(p: of13.PortDesc): SwitchPort {
  // OFPPC_PORT_DOWN (config bit 0) or OFPPS_LINK_DOWN (state bit 0) = down.
  const up = (p.config & 1) === 0 && (p.state & 1) === 0;
  return { number: p.portNo, name: p.name, up, ...(p.hwAddr ? { hwAddr: p.hwAddr } : {}) };
}

/** Ports a flow can name: not LOCAL and the other reserved numbers. */
function isDataPort(p: of13.PortDesc): boolean {
  return p.portNo < PORT.MAX;
}

export class Of13Connection implements SwitchConnection {
  readonly channel = 'openflow13' as const;
  readonly remoteAddress: string;
  readonly counters: Of13Counters = { rxMessages: 0, txMessages: 0, malformed: 0, switchErrors: 0, foreignFlowsDeleted: 0, bundles: 0 };
  features!: SwitchFeatures;
  private readonly splitter = of13.createOf13FrameSplitter();
  private readonly pending = new Map<number, Pending>();
  private readonly listeners: { [E in keyof SwitchConnectionEvents]: SwitchConnectionEvents[E][] } = {
    packetIn: [],
    portStatus: [],
    close: [],
  };
  private readonly bundleMin: number;
  private readonly echoIntervalMs: number;
  private nextXid = 1;
  private nextBundleId = 1;
  private closed = false;
  private echoTimer: NodeJS.Timeout | undefined;
  private echoMisses = 0;
  private outbox: Buffer[] = [];
  private flushScheduled = false;
  private readonly txQueue: TxItem[] = [];
  private pumpScheduled = false;
  private awaitingDrain = false;
  private onHello: ((m: MsgOf<'hello'>) => void) | undefined;
  /** Errors for fire-and-forget messages since the last barrier reply. */
  private asyncErrors: Of13SwitchError[] = [];
  /** Raw strict deletes for undecodable flows found by the flow stats request in progress. */
  private foreignDeletes: Buffer[] = [];

  constructor(
    private readonly socket: net.Socket,
    private readonly logger: Logger,
    options: Of13ConnectionOptions = {},
  ) {
    this.bundleMin = options.bundleMinFlowMods ?? BUNDLE_MIN_FLOW_MODS;
    this.echoIntervalMs = options.echoIntervalMs ?? OF13_ECHO_INTERVAL_MS;
    this.remoteAddress = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', (err) => this.logger.debug({ err: err.message }, 'openflow socket error'));
    socket.on('close', () => this.shutdown('connection closed'));
  }

  /** HELLO, FEATURES (dpid), DESC, PORT_DESC (ports), SET_CONFIG; resolves with the switch's features. */
  async handshake(): Promise<SwitchFeatures> {
    const theirHello = new Promise<MsgOf<'hello'>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no hello from the switch')), OF13_HANDSHAKE_TIMEOUT_MS);
      this.onHello = (m) => {
        clearTimeout(timer);
        resolve(m);
      };
    });
    this.send({ type: 'hello', xid: this.xid(), versions: [of13.OFP_VERSION] });
    const hello = await theirHello;
    const speaks13 = hello.versions ? hello.versions.includes(of13.OFP_VERSION) : (hello.version ?? 0) >= of13.OFP_VERSION;
    if (!speaks13) {
      this.send({ type: 'error', xid: hello.xid, errType: of13.OFPET.HELLO_FAILED, errCode: of13.OFPHFC_INCOMPATIBLE, data: Buffer.alloc(0) });
      this.flush();
      this.close();
      throw new Error('the switch does not speak OpenFlow 1.3');
    }
    const features = await this.request({ type: 'featuresRequest', xid: 0 }, 'featuresReply', OF13_HANDSHAKE_TIMEOUT_MS);
    if (features.datapathId > BigInt(Number.MAX_SAFE_INTEGER)) {
      this.logger.warn({ remote: this.remoteAddress, dpid: `0x${features.datapathId.toString(16)}` }, 'datapath id above 2^53 refused');
      this.close();
      throw new Error(`datapath id 0x${features.datapathId.toString(16)} is above 2^53`);
    }
    const [desc, ports] = await Promise.all([
      this.request({ type: 'descRequest', xid: 0 }, 'descReply', OF13_HANDSHAKE_TIMEOUT_MS).catch(() => undefined),
      this.requestAll({ type: 'portDescRequest', xid: 0 }, OF13_HANDSHAKE_TIMEOUT_MS),
    ]);
    this.send({ type: 'setConfig', xid: this.xid(), flags: 0, missSendLen: MISS_SEND_LEN_ALL });
    this.features = {
      dpid: Number(features.datapathId),
      ports: ports
        .flatMap((r) => (r.type === 'portDescReply' ? r.ports.filter(isDataPort).map(toSwitchPort) : []))
        .sort((a, b) => a.number - b.number),
      description: desc ? `${desc.hwDesc} ${desc.swDesc}`.trim() : 'OpenFlow 1.3 switch',
    };
    this.startKeepalive();
    return this.features;
  }

  on<E extends keyof SwitchConnectionEvents>(event: E, listener: SwitchConnectionEvents[E]): void {
    this.listeners[event].push(listener);
  }

  /**
   * Encoded in chunks of FLOW_MODS_PER_WRITE, one write each; many at once go inside an atomic bundle
   * (Open vSwitch applies a bundle faster, and all-or-nothing). Chunks are encoded while the switch
   * digests the previous ones (see pump), in order with everything sent before and after. `bundle`
   * forces the choice (the push benchmark measures both).
   */
  sendFlowMods(mods: readonly FlowMod[], options: { bundle?: boolean } = {}): void {
    if (this.closed || mods.length === 0) return;
    this.flush();
    const bundled = options.bundle ?? mods.length >= this.bundleMin;
    const bundleId = bundled ? this.nextBundleId++ : 0;
    const flags = of13.OFPBF.ATOMIC | of13.OFPBF.ORDERED;
    if (bundled) {
      this.counters.bundles++;
      this.enqueue(of13.encodeOf13({ type: 'bundleControl', xid: this.xid(), bundleId, ctrlType: 'openRequest', flags }));
    }
    const xidStart = this.reserveXids(mods.length);
    let next = 0;
    this.enqueue(() => {
      const chunk = mods.slice(next, next + FLOW_MODS_PER_WRITE);
      const xid = (xidStart + next) >>> 0;
      next += chunk.length;
      this.counters.txMessages += chunk.length;
      const bytes = bundled ? of13.encodeBundledFlowModsBatch(bundleId, chunk, xid, flags) : of13.encodeFlowModsBatch(chunk, xid);
      return { bytes, done: next >= mods.length };
    });
    if (bundled) this.enqueue(of13.encodeOf13({ type: 'bundleControl', xid: this.xid(), bundleId, ctrlType: 'commitRequest', flags }));
  }

  sendGroupMods(mods: readonly GroupMod[]): void {
    for (const m of mods) this.send({ type: 'groupMod', xid: this.xid(), ...m });
  }

  /** Resolves when the switch has processed everything before it; rejects if it refused any of that. */
  async barrier(): Promise<void> {
    await this.request({ type: 'barrierRequest', xid: 0 }, 'barrierReply');
    if (this.asyncErrors.length > 0) {
      const [first] = this.asyncErrors;
      const n = this.asyncErrors.length;
      this.asyncErrors = [];
      throw new Of13SwitchError(first.errType, first.errCode, first.xid, n);
    }
  }

  packetOut(frame: Buffer, inPort: number, actions: Action[]): void {
    this.send({ type: 'packetOut', xid: this.xid(), bufferId: of13.OFP_NO_BUFFER, inPort: inPort || PORT.CONTROLLER, actions, data: frame });
  }

  /**
   * Every flow of every table. Flows the codec cannot decode are not returned: a strict delete for
   * each is sent at once (before the caller's next barrier), see ./foreign-flows.ts.
   */
  async flowStats(): Promise<FlowStatsEntry[]> {
    this.foreignDeletes = [];
    const replies = await this.requestAll({ type: 'flowStatsRequest', xid: 0, match: {} });
    const deletes = this.foreignDeletes;
    this.foreignDeletes = [];
    if (deletes.length > 0) {
      this.logger.warn({ dpid: this.features?.dpid, flows: deletes.length }, 'deleting flows the controller cannot decode (foreign)');
      this.counters.foreignFlowsDeleted += deletes.length;
      for (const d of deletes) {
        d.writeUInt32BE(this.xid(), 4);
        this.outbox.push(d);
      }
      this.flush();
    }
    return replies.flatMap((r) =>
      r.type === 'flowStatsReply'
        ? r.flows.map((s) => ({ flow: s.flow, packets: s.packetCount, bytes: s.byteCount, durationSec: s.durationSec + s.durationNsec / 1e9 }))
        : [],
    );
  }

  async groupStats(): Promise<GroupEntry[]> {
    const replies = await this.requestAll({ type: 'groupDescRequest', xid: 0 });
    return replies.flatMap((r) => (r.type === 'groupDescReply' ? r.groups : []));
  }

  async portStats(): Promise<PortStatsEntry[]> {
    const replies = await this.requestAll({ type: 'portStatsRequest', xid: 0, portNo: PORT.ANY });
    return replies.flatMap((r) =>
      r.type === 'portStatsReply'
        ? r.stats
            .filter((p) => p.portNo < PORT.MAX)
            .map((p) => ({
              port: p.portNo,
              rxPackets: p.rxPackets,
              txPackets: p.txPackets,
              rxBytes: p.rxBytes,
              txBytes: p.txBytes,
              rxDropped: p.rxDropped,
              txDropped: p.txDropped,
            }))
        : [],
    );
  }

  close(): void {
    this.flush();
    this.socket.end();
    this.shutdown('closed by controller');
  }

  private xid(): number {
    this.nextXid = (this.nextXid + 1) >>> 0 || 1;
    return this.nextXid;
  }

  /** A run of `n` consecutive xids (a batch numbers its flow-mods from the first). */
  private reserveXids(n: number): number {
    const first = (this.nextXid + 1) >>> 0 || 1;
    this.nextXid = (first + n - 1) >>> 0;
    return first;
  }

  private enqueue(item: TxItem): void {
    this.txQueue.push(item);
    if (!this.pumpScheduled && !this.awaitingDrain) this.pump();
  }

  /**
   * Writes the transmit queue in order. A flow-mod producer yields to the event loop after each
   * chunk, so the socket drains (and the switch works) while the next chunk is encoded; a full socket
   * buffer pauses the pump until 'drain'.
   */
  private pump(): void {
    this.pumpScheduled = false;
    while (!this.closed && this.txQueue.length > 0) {
      if (this.socket.writableNeedDrain) {
        this.awaitingDrain = true;
        this.socket.once('drain', () => {
          this.awaitingDrain = false;
          this.pump();
        });
        return;
      }
      const item = this.txQueue[0];
      if (Buffer.isBuffer(item)) {
        this.txQueue.shift();
        this.socket.write(item);
        continue;
      }
      const { bytes, done } = item();
      if (done) this.txQueue.shift();
      this.socket.write(bytes);
      if (!done) {
        this.pumpScheduled = true;
        setImmediate(() => this.pump());
        return;
      }
    }
  }

  /** Small messages are queued and written together once per tick. */
  private send(msg: Msg): void {
    if (this.closed) return;
    this.outbox.push(of13.encodeOf13(msg));
    this.counters.txMessages++;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.outbox.length === 0) return;
    const batch = this.outbox.length === 1 ? this.outbox[0] : Buffer.concat(this.outbox);
    this.outbox = [];
    this.enqueue(batch);
  }

  private async request<T extends Msg['type']>(msg: Msg, expect: T, timeoutMs = OF13_REQUEST_TIMEOUT_MS): Promise<MsgOf<T>> {
    const [reply] = await this.requestAll(msg, timeoutMs);
    if (reply.type !== expect) throw new Error(`expected ${expect}, got ${reply.type}`);
    return reply as MsgOf<T>;
  }

  private requestAll(msg: Msg, timeoutMs = OF13_REQUEST_TIMEOUT_MS): Promise<Msg[]> {
    if (this.closed) return Promise.reject(new Error('connection closed'));
    const xid = this.xid();
    return new Promise<Msg[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(xid);
        reject(new Error(`${msg.type} xid ${xid} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(xid, { resolve, reject, replies: [], timer });
      this.send({ ...msg, xid } as Msg);
    });
  }

  private onData(chunk: Buffer): void {
    const { frames, error } = this.splitter.push(chunk);
    for (const frame of frames) {
      const msg = of13.decodeOf13(frame);
      if (msg.type === 'malformed') {
        this.onUndecodable(frame, msg);
        continue;
      }
      this.counters.rxMessages++;
      try {
        this.dispatch(msg);
      } catch (err) {
        this.logger.error({ err, type: msg.type }, 'openflow: handler failed');
      }
    }
    if (error) {
      // OpenFlow has no frame marker: after a bad length nothing more can be read.
      this.logger.warn({ remote: this.remoteAddress, code: error.code, reason: error.reason }, 'openflow stream unusable; closing');
      this.close();
    }
  }

  private onUndecodable(frame: Buffer, m: of13.Malformed): void {
    const pending = m.xid !== undefined ? this.pending.get(m.xid) : undefined;
    if (pending && isFlowStatsReplyFrame(frame)) {
      const split = splitFlowStatsReply(frame);
      this.foreignDeletes.push(...split.deletes);
      if (split.broken) this.counters.malformed++;
      const part: Msg = { type: 'flowStatsReply', xid: m.xid as number, flows: split.flows, ...(split.more ? { more: true } : {}) };
      this.dispatch(part);
      return;
    }
    this.counters.malformed++;
    // OVS sends messages Overcast does not model (FLOW_REMOVED, table status...): counted, not fatal.
    this.logger.debug({ code: m.code, reason: m.reason, ofType: m.ofType }, 'openflow: undecodable message skipped');
    if (pending && m.xid !== undefined) {
      this.pending.delete(m.xid);
      clearTimeout(pending.timer);
      pending.reject(new Error(`undecodable reply: ${m.reason}`));
    }
  }

  private dispatch(msg: Msg): void {
    const pending = this.pending.get(msg.xid);
    if (pending && msg.type !== 'hello' && msg.type !== 'echoRequest') {
      if (msg.type === 'error') {
        this.counters.switchErrors++;
        this.pending.delete(msg.xid);
        clearTimeout(pending.timer);
        pending.reject(new Of13SwitchError(msg.errType, msg.errCode, msg.xid));
        return;
      }
      pending.replies.push(msg);
      if (!('more' in msg) || !msg.more) {
        this.pending.delete(msg.xid);
        clearTimeout(pending.timer);
        pending.resolve(pending.replies);
      }
      return;
    }
    switch (msg.type) {
      case 'echoRequest':
        this.send({ type: 'echoReply', xid: msg.xid, data: msg.data });
        return;
      case 'echoReply':
        this.echoMisses = 0;
        return;
      case 'hello':
        this.onHello?.(msg);
        this.onHello = undefined;
        return;
      case 'packetIn': {
        const inPort = typeof msg.match.inPort === 'number' ? msg.match.inPort : 0;
        const e: PacketInEvent = {
          reason: PACKET_IN_REASONS[msg.reason] ?? 'action',
          table: msg.tableId,
          cookie: msg.cookie ?? 0,
          inPort,
          frame: msg.data,
        };
        for (const l of this.listeners.packetIn) l(e);
        return;
      }
      case 'portStatus': {
        if (!isDataPort(msg.port)) return;
        const port = toSwitchPort(msg.port);
        if (this.features) {
          const others = this.features.ports.filter((p) => p.number !== port.number);
          this.features.ports = msg.reason === 'delete' ? others : [...others, port].sort((a, b) => a.number - b.number);
        }
        for (const l of this.listeners.portStatus) l({ reason: msg.reason, port });
        return;
      }
      case 'error':
        this.counters.switchErrors++;
        this.asyncErrors.push(new Of13SwitchError(msg.errType, msg.errCode, msg.xid));
        this.logger.warn({ errType: msg.errType, errCode: msg.errCode, xid: msg.xid }, 'switch reported an error');
        return;
      case 'bundleControl':
        // Open/commit replies of sendFlowMods' bundles: a failed commit arrives as an error instead.
        return;
      default:
        this.logger.debug({ type: msg.type }, 'openflow: unexpected message ignored');
    }
  }

  private startKeepalive(): void {
    this.echoTimer = setInterval(() => {
      if (++this.echoMisses > OF13_ECHO_MISSES_ALLOWED) {
        this.logger.warn({ remote: this.remoteAddress }, 'echo keepalive failed; closing');
        this.close();
        return;
      }
      this.send({ type: 'echoRequest', xid: this.xid(), data: Buffer.alloc(0) });
    }, this.echoIntervalMs);
    this.echoTimer.unref();
  }

  private shutdown(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    if (this.echoTimer) clearInterval(this.echoTimer);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error(`connection closed: ${reason}`));
    }
    this.pending.clear();
    this.socket.destroy();
    for (const l of this.listeners.close) l(reason);
  }
}
