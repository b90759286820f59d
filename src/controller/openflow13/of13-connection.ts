/**
 * OpenFlow 1.3 (an Open vSwitch bridge, or any 1.3 switch) over the shared connection core
 * (../channel/connection.ts): the codec, the handshake (HELLO with a version bitmap, FEATURES,
 * PORT_DESC, DESC, SET_CONFIG), flow pushes encoded chunk by chunk (inside an ONF bundle when asked),
 * and flow dumps that strict-delete the flows the codec cannot decode (./foreign-flows.ts).
 *
 * Undecodable messages are counted and skipped; only a broken byte stream (bad length) closes the
 * connection.
 */
import type net from 'node:net';
import type { Logger } from 'pino';
import { of13 } from '../../protocol/index.js';
import { METER_ID_MAX, PORT, type Action, type FlowMod, type GroupEntry, type GroupMod, type MeterEntry, type MeterMod, type MeterStats, type TokenBucketOptions } from '../../flow/index.js';
import {
  ChannelConnection,
  DEFAULT_PACKET_IN_BUDGET,
  createChannelCounters,
  type ChannelCounters,
  type ChannelOptions,
  type InboundKind,
} from '../channel/connection.js';
import { SwitchRefusedError, describeFlowMod, describeGroupMod, describeMeterMod } from '../channel/refusals.js';
import type { ClusterRole, FlowStatsEntry, PacketInEvent, PortStatsEntry, SwitchFeatures, SwitchPort } from '../switch-connection.js';
import { isFlowStatsReplyFrame, splitFlowStatsReply } from './foreign-flows.js';

type Msg = of13.Of13Message;
type MsgOf<T extends Msg['type']> = Extract<Msg, { type: T }>;

/** A flow dump of a large table on a busy Open vSwitch takes seconds; allow for it. */
export const OF13_REQUEST_TIMEOUT_MS = 30_000;
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

export interface Of13ConnectionOptions extends ChannelOptions {
  /** Bundle threshold; Infinity (the default) never bundles, 1 always does. */
  bundleMinFlowMods?: number;
  /**
   * The switch's controller meter (OFPM_CONTROLLER), set at every handshake: packet-ins per second
   * the switch sends at most (default: the controller's own packet-in budget); false leaves the
   * switch's meter alone.
   */
  controllerMeter?: TokenBucketOptions | false;
}

export interface Of13Counters extends ChannelCounters {
  /** Flows read back that the codec could not decode, deleted by raw strict delete. */
  foreignFlowsDeleted: number;
  bundles: number;
}

const ERROR_TYPE_NAMES = new Map<number, string>(Object.entries(of13.OFPET).map(([name, n]) => [n, name]));

/** An OpenFlow error, with its type and code (numbers as the spec lists them). */
export class Of13SwitchError extends SwitchRefusedError {
  constructor(
    readonly errType: number,
    readonly errCode: number,
    xid: number,
    refused?: string,
  ) {
    super(`OFPET_${ERROR_TYPE_NAMES.get(errType) ?? errType}/${errCode}`, xid, refused);
    this.name = 'Of13SwitchError';
  }
}

const PACKET_IN_REASONS: readonly PacketInEvent['reason'][] = ['noMatch', 'action', 'invalidTtl'];

function toSwitchPort(p: of13.Of13PortDesc): SwitchPort {
  // OFPPC_PORT_DOWN (config bit 0) or OFPPS_LINK_DOWN (state bit 0) = down.
  const up = (p.config & 1) === 0 && (p.state & 1) === 0;
  return { number: p.portNo, name: p.name, up, ...(p.hwAddr ? { hwAddr: p.hwAddr } : {}) };
}

/** Ports a flow can name: not LOCAL and the other reserved numbers. */
function isDataPort(p: of13.Of13PortDesc): boolean {
  return p.portNo < PORT.MAX;
}

export class Of13Connection extends ChannelConnection<Msg, Of13Counters> {
  readonly channel = 'openflow13' as const;
  private readonly splitter = of13.createOf13FrameSplitter();
  private readonly bundleMin: number;
  private readonly controllerMeter: TokenBucketOptions | false;
  private nextBundleId = 1;
  /** Raw strict deletes for undecodable flows found by the flow stats request in progress. */
  private foreignDeletes: Buffer[] = [];

  constructor(socket: net.Socket, logger: Logger, options: Of13ConnectionOptions = {}) {
    const { bundleMinFlowMods, controllerMeter, ...channel } = options;
    super(socket, logger, { ...createChannelCounters(), foreignFlowsDeleted: 0, bundles: 0 }, { requestTimeoutMs: OF13_REQUEST_TIMEOUT_MS, ...channel });
    this.bundleMin = bundleMinFlowMods ?? BUNDLE_MIN_FLOW_MODS;
    this.controllerMeter = controllerMeter ?? DEFAULT_PACKET_IN_BUDGET;
  }

  /** HELLO, FEATURES (dpid), DESC, PORT_DESC (ports), SET_CONFIG; resolves with the switch's features. */
  async handshake(): Promise<SwitchFeatures> {
    const theirHello = this.waitForHello();
    this.send({ type: 'hello', xid: this.xid(), versions: [of13.OFP_VERSION] });
    const hello = (await theirHello) as MsgOf<'hello'>;
    const speaks13 = hello.versions ? hello.versions.includes(of13.OFP_VERSION) : (hello.version ?? 0) >= of13.OFP_VERSION;
    if (!speaks13) {
      this.send({ type: 'error', xid: hello.xid, errType: of13.OFPET.HELLO_FAILED, errCode: of13.OFPHFC_INCOMPATIBLE, data: Buffer.alloc(0) });
      this.close();
      throw new Error('the switch does not speak OpenFlow 1.3');
    }
    const features = await this.requestOne({ type: 'featuresRequest', xid: 0 }, 'featuresReply', this.handshakeTimeoutMs);
    if (features.datapathId > BigInt(Number.MAX_SAFE_INTEGER)) {
      this.logger.warn({ remote: this.remoteAddress, dpid: `0x${features.datapathId.toString(16)}` }, 'datapath id above 2^53 refused');
      this.close();
      throw new Error(`datapath id 0x${features.datapathId.toString(16)} is above 2^53`);
    }
    const [desc, ports] = await Promise.all([
      this.requestOne({ type: 'descRequest', xid: 0 }, 'descReply', this.handshakeTimeoutMs).catch(() => undefined),
      this.request({ type: 'portDescRequest', xid: 0 }, this.handshakeTimeoutMs),
    ]);
    this.send({ type: 'setConfig', xid: this.xid(), flags: 0, missSendLen: MISS_SEND_LEN_ALL });
    this.setControllerMeter();
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

  /**
   * Rate-limit packet-ins on the switch itself: OpenFlow 1.3's controller meter, one drop band in
   * packets per second. Deleted then added (an add over an existing meter is refused). A switch that
   * refuses meters keeps working: the refusal is logged and fails no barrier, and the controller's
   * own budget still holds.
   */
  private setControllerMeter(): void {
    const meter = this.controllerMeter;
    if (!meter) return;
    const flags = of13.OFPMF.PKTPS | of13.OFPMF.BURST;
    const first = this.reserveXids(2);
    this.send({ type: 'meterMod', xid: first, command: 'delete', flags, meterId: of13.OFPM_CONTROLLER, bands: [] });
    this.send({
      type: 'meterMod',
      xid: (first + 1) >>> 0,
      command: 'add',
      flags,
      meterId: of13.OFPM_CONTROLLER,
      bands: [{ type: 'drop', rate: Math.max(1, Math.round(meter.ratePerSec)), burstSize: Math.max(1, Math.round(meter.burst)) }],
    });
    this.track(first, 2, (i) => `meter-mod ${i === 0 ? 'delete' : 'add'} controller meter`, false);
  }

  /**
   * Encoded in chunks of FLOW_MODS_PER_WRITE, one write each, while the switch digests the previous
   * ones (see TransmitQueue), in order with everything sent before and after; many at once go inside
   * an atomic bundle. `bundle` forces the choice (the push benchmark measures both).
   */
  sendFlowMods(mods: readonly FlowMod[], options: { bundle?: boolean } = {}): void {
    if (this.isClosed || mods.length === 0) return;
    const bundled = options.bundle ?? mods.length >= this.bundleMin;
    const bundleId = bundled ? this.nextBundleId++ : 0;
    const flags = of13.OFPBF.ATOMIC | of13.OFPBF.ORDERED;
    if (bundled) {
      this.counters.bundles++;
      const xid = this.xid();
      this.track(xid, 1, () => `bundle ${bundleId} open`);
      this.tx.enqueue(of13.encodeOf13({ type: 'bundleControl', xid, bundleId, ctrlType: 'openRequest', flags }));
    }
    const xidStart = this.reserveXids(mods.length);
    this.track(xidStart, mods.length, (i) => describeFlowMod(mods[i]));
    let next = 0;
    this.tx.enqueue(() => {
      const chunk = mods.slice(next, next + FLOW_MODS_PER_WRITE);
      const xid = (xidStart + next) >>> 0;
      next += chunk.length;
      this.counters.txMessages += chunk.length;
      const bytes = bundled ? of13.encodeBundledFlowModsBatch(bundleId, chunk, xid, flags) : of13.encodeFlowModsBatch(chunk, xid);
      return { bytes, done: next >= mods.length };
    });
    if (bundled) {
      const xid = this.xid();
      this.track(xid, 1, () => `bundle ${bundleId} commit of ${mods.length} flow-mods`);
      this.tx.enqueue(of13.encodeOf13({ type: 'bundleControl', xid, bundleId, ctrlType: 'commitRequest', flags }));
    }
  }

  sendGroupMods(mods: readonly GroupMod[]): void {
    if (mods.length === 0) return;
    const first = this.reserveXids(mods.length);
    for (let i = 0; i < mods.length; i++) this.send({ type: 'groupMod', xid: (first + i) >>> 0, ...mods[i] });
    this.track(first, mods.length, (i) => describeGroupMod(mods[i]));
  }

  sendMeterMods(mods: readonly MeterMod[]): void {
    if (mods.length === 0) return;
    const first = this.reserveXids(mods.length);
    for (let i = 0; i < mods.length; i++) this.send(of13.toOf13MeterMod(mods[i], (first + i) >>> 0));
    this.track(first, mods.length, (i) => describeMeterMod(mods[i]));
  }

  packetOut(frame: Buffer, inPort: number, actions: Action[]): void {
    const xid = this.xid();
    const bytes = frame.length;
    this.send({ type: 'packetOut', xid, bufferId: of13.OFP_NO_BUFFER, inPort: inPort || PORT.CONTROLLER, actions, data: frame });
    this.track(xid, 1, () => `packet-out of ${bytes} bytes`, false);
  }

  /**
   * Every flow of every table. Flows the codec cannot decode are not returned: a strict delete for
   * each is sent at once (before the caller's next barrier), see ./foreign-flows.ts.
   */
  async requestRole(role: ClusterRole, generationId: number): Promise<void> {
    await this.requestOne({ type: 'roleRequest', xid: 0, role, generationId: BigInt(generationId) }, 'roleReply');
  }

  async flowStats(): Promise<FlowStatsEntry[]> {
    this.foreignDeletes = [];
    const replies = await this.request({ type: 'flowStatsRequest', xid: 0, match: {} });
    const deletes = this.foreignDeletes;
    this.foreignDeletes = [];
    if (deletes.length > 0) this.deleteForeign(deletes);
    return replies.flatMap((r) =>
      r.type === 'flowStatsReply'
        ? r.flows.map((s) => ({ flow: s.flow, packets: s.packetCount, bytes: s.byteCount, durationSec: s.durationSec + s.durationNsec / 1e9 }))
        : [],
    );
  }

  async groupStats(): Promise<GroupEntry[]> {
    const replies = await this.request({ type: 'groupDescRequest', xid: 0 });
    return replies.flatMap((r) => (r.type === 'groupDescReply' ? r.groups : []));
  }

  /** The flows' meters (ids up to OFPM_MAX): the controller meter of packet-ins is not one of them. */
  async meterConfig(): Promise<MeterEntry[]> {
    const replies = await this.request({ type: 'meterConfigRequest', xid: 0, meterId: of13.OFPM_ALL });
    return replies.flatMap((r) => (r.type === 'meterConfigReply' ? r.meters.filter((m) => m.meterId <= METER_ID_MAX).map(of13.meterEntryOf) : []));
  }

  async meterStats(): Promise<MeterStats[]> {
    const replies = await this.request({ type: 'meterStatsRequest', xid: 0, meterId: of13.OFPM_ALL });
    return replies.flatMap((r) => (r.type === 'meterStatsReply' ? r.stats.filter((m) => m.meterId <= METER_ID_MAX).map(of13.meterStatsOf) : []));
  }

  async portStats(): Promise<PortStatsEntry[]> {
    const replies = await this.request({ type: 'portStatsRequest', xid: 0, portNo: PORT.ANY });
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

  private deleteForeign(deletes: Buffer[]): void {
    this.logger.warn({ dpid: this.features?.dpid, flows: deletes.length }, 'deleting flows the controller cannot decode (foreign)');
    this.counters.foreignFlowsDeleted += deletes.length;
    const first = this.reserveXids(deletes.length);
    deletes.forEach((d, i) => {
      d.writeUInt32BE((first + i) >>> 0, 4);
      this.tx.push(d);
    });
    this.counters.txMessages += deletes.length;
    this.track(first, deletes.length, () => 'flow-mod deleteStrict of a flow the controller cannot decode');
    this.tx.flush();
  }

  // --- codec ---

  protected encode(msg: Msg): Buffer {
    return of13.encodeOf13(msg);
  }

  protected decode(chunk: Buffer): void {
    const { frames, error } = this.splitter.push(chunk);
    for (const frame of frames) {
      const msg = of13.decodeOf13(frame);
      if (msg.type === 'malformed') this.onUndecodable(frame, msg);
      else this.receive(msg);
    }
    if (error) {
      // OpenFlow has no frame marker: after a bad length nothing more can be read.
      this.logger.warn({ remote: this.remoteAddress, code: error.code, reason: error.reason }, 'openflow stream unusable; closing');
      this.close('openflow stream unusable');
    }
  }

  protected bufferedBytes(): number {
    return this.splitter.pending;
  }

  protected kindOf(msg: Msg): InboundKind {
    switch (msg.type) {
      case 'hello':
      case 'echoRequest':
      case 'echoReply':
      case 'error':
        return msg.type;
      default:
        return 'more' in msg && msg.more ? 'part' : 'message';
    }
  }

  protected echoRequest(xid: number): Msg {
    return { type: 'echoRequest', xid, data: Buffer.alloc(0) };
  }

  protected echoReply(request: Msg): Msg {
    return { type: 'echoReply', xid: request.xid, data: request.type === 'echoRequest' ? request.data : Buffer.alloc(0) };
  }

  protected barrierRequest(xid: number): Msg {
    return { type: 'barrierRequest', xid };
  }

  protected refusalOf(msg: Msg, refused: string | undefined): SwitchRefusedError {
    const e = msg as MsgOf<'error'>;
    return new Of13SwitchError(e.errType, e.errCode, e.xid, refused);
  }

  protected onMessage(msg: Msg): void {
    switch (msg.type) {
      case 'packetIn': {
        const inPort = typeof msg.match.inPort === 'number' ? msg.match.inPort : 0;
        this.emitPacketIn({ reason: PACKET_IN_REASONS[msg.reason] ?? 'action', table: msg.tableId, cookie: msg.cookie ?? 0, inPort, frame: msg.data });
        return;
      }
      case 'portStatus':
        if (isDataPort(msg.port)) this.emitPortStatus({ reason: msg.reason, port: toSwitchPort(msg.port) });
        return;
      case 'bundleControl':
        // Open/commit replies of sendFlowMods' bundles: a failed commit arrives as an error instead.
        return;
      default:
        this.logger.debug({ type: msg.type }, 'openflow: unexpected message ignored');
    }
  }

  private onUndecodable(frame: Buffer, m: of13.Of13Malformed): void {
    const awaited = m.xid !== undefined && this.isAwaited(m.xid);
    if (awaited && isFlowStatsReplyFrame(frame)) {
      const split = splitFlowStatsReply(frame);
      this.foreignDeletes.push(...split.deletes);
      if (split.broken) this.counters.malformed++;
      this.receive({ type: 'flowStatsReply', xid: m.xid as number, flows: split.flows, ...(split.more ? { more: true } : {}) });
      return;
    }
    this.counters.malformed++;
    if (!this.features) {
      // A peer not yet known that sends what no switch sends in a handshake is not worth its buffers.
      this.logger.debug({ remote: this.remoteAddress, code: m.code, reason: m.reason }, 'openflow: undecodable message before the handshake; closing');
      this.close('undecodable message before the handshake');
      return;
    }
    // OVS sends messages Overcast does not model (FLOW_REMOVED, table status...): counted, not fatal.
    this.logger.debug({ code: m.code, reason: m.reason, ofType: m.ofType }, 'openflow: undecodable message skipped');
    if (awaited) this.failRequest(m.xid as number, new Error(`undecodable reply: ${m.reason}`));
  }
}
