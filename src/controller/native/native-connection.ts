/**
 * The native protobuf channel over the shared connection core (../channel/connection.ts): the codec,
 * the Hello/Features handshake, and the SwitchConnection requests in native messages. Malformed or
 * oversized frames are answered with an Error message and counted; a connection that keeps sending
 * garbage is closed.
 */
import type net from 'node:net';
import type { Logger } from 'pino';
import { PORT, type Action, type FlowMod, type GroupEntry, type GroupMod, type MeterEntry, type MeterMod, type MeterStats } from '../../flow/index.js';
import {
  FrameDecoder,
  HANDSHAKE_MAX_FRAME_BYTES,
  MAX_FRAME_BYTES,
  SUPPORTED_VERSIONS,
  decodeMessage,
  encodeMessage,
  isMalformed,
  negotiateVersion,
  type Msg,
  type MsgOf,
  type PortDesc,
} from '../../protocol/index.js';
import { ChannelConnection, createChannelCounters, type ChannelOptions, type InboundKind } from '../channel/connection.js';
import { SwitchRefusedError, describeFlowMod, describeGroupMod, describeMeterMod } from '../channel/refusals.js';
import type { ClusterRole, FlowStatsEntry, PortStatsEntry, SwitchFeatures, SwitchPort } from '../switch-connection.js';

/** Malformed frames tolerated before the connection is closed. */
export const MALFORMED_LIMIT = 100;

function toSwitchPort(p: PortDesc): SwitchPort {
  return { number: p.portNo, name: p.name, up: p.up, ...(p.hwAddr ? { hwAddr: p.hwAddr } : {}) };
}

export class NativeConnection extends ChannelConnection<Msg> {
  readonly channel = 'native' as const;
  /** Until the handshake is done, frames are small (HANDSHAKE_MAX_FRAME_BYTES) and an oversized one closes. */
  private readonly decoder = new FrameDecoder(HANDSHAKE_MAX_FRAME_BYTES);

  constructor(socket: net.Socket, logger: Logger, options: ChannelOptions = {}) {
    super(socket, logger, createChannelCounters(), options);
  }

  /** Hello (version negotiation) then Features; resolves with the switch's features. */
  async handshake(): Promise<SwitchFeatures> {
    const theirHello = this.waitForHello();
    this.send({ type: 'hello', xid: this.xid(), versions: [...SUPPORTED_VERSIONS] });
    const hello = (await theirHello) as MsgOf<'hello'>;
    const version = negotiateVersion(SUPPORTED_VERSIONS, hello.versions);
    if (version === undefined) {
      this.send({ type: 'error', xid: hello.xid, code: 'OVC_ERR_PROTO_VERSION', message: `no common version with ${hello.versions.join(',')}` });
      this.close();
      throw new Error('no common protocol version');
    }
    const reply = await this.requestOne({ type: 'featuresRequest', xid: 0 }, 'featuresReply', this.handshakeTimeoutMs);
    this.features = { dpid: reply.dpid, ports: reply.ports.map(toSwitchPort), description: 'overcast-softswitch' };
    this.decoder.maxFrameBytes = MAX_FRAME_BYTES;
    this.startKeepalive();
    return this.features;
  }

  sendFlowMods(mods: readonly FlowMod[]): void {
    if (mods.length === 0) return;
    const first = this.reserveXids(mods.length);
    for (let i = 0; i < mods.length; i++) this.send({ type: 'flowMod', xid: (first + i) >>> 0, flowMod: mods[i] });
    this.track(first, mods.length, (i) => describeFlowMod(mods[i]));
  }

  sendGroupMods(mods: readonly GroupMod[]): void {
    if (mods.length === 0) return;
    const first = this.reserveXids(mods.length);
    for (let i = 0; i < mods.length; i++) this.send({ type: 'groupMod', xid: (first + i) >>> 0, groupMod: mods[i] });
    this.track(first, mods.length, (i) => describeGroupMod(mods[i]));
  }

  sendMeterMods(mods: readonly MeterMod[]): void {
    if (mods.length === 0) return;
    const first = this.reserveXids(mods.length);
    for (let i = 0; i < mods.length; i++) this.send({ type: 'meterMod', xid: (first + i) >>> 0, meterMod: mods[i] });
    this.track(first, mods.length, (i) => describeMeterMod(mods[i]));
  }

  packetOut(frame: Buffer, inPort: number, actions: Action[]): void {
    const xid = this.xid();
    const bytes = frame.length;
    this.send({ type: 'packetOut', xid, inPort: inPort || PORT.CONTROLLER, actions, data: frame });
    this.track(xid, 1, () => `packet-out of ${bytes} bytes`, false);
  }

  async requestRole(role: ClusterRole, generationId: number): Promise<void> {
    await this.requestOne({ type: 'roleRequest', xid: 0, role, generationId }, 'roleReply');
  }

  async flowStats(): Promise<FlowStatsEntry[]> {
    const replies = await this.request({ type: 'flowStatsRequest', xid: 0, match: {}, cookie: 0, cookieMask: 0 });
    return replies.flatMap((r) =>
      r.type === 'flowStatsReply' ? r.flows.map((s) => ({ flow: s.flow, packets: s.packets, bytes: s.bytes, durationSec: s.durationMs / 1000 })) : [],
    );
  }

  async groupStats(): Promise<GroupEntry[]> {
    const replies = await this.request({ type: 'groupDescRequest', xid: 0 });
    return replies.flatMap((r) => (r.type === 'groupDescReply' ? r.groups : []));
  }

  async meterConfig(): Promise<MeterEntry[]> {
    const replies = await this.request({ type: 'meterConfigRequest', xid: 0 });
    return replies.flatMap((r) => (r.type === 'meterConfigReply' ? r.meters : []));
  }

  async meterStats(): Promise<MeterStats[]> {
    const replies = await this.request({ type: 'meterStatsRequest', xid: 0 });
    return replies.flatMap((r) => (r.type === 'meterStatsReply' ? r.meters : []));
  }

  async portStats(): Promise<PortStatsEntry[]> {
    const replies = await this.request({ type: 'portStatsRequest', xid: 0 });
    return replies.flatMap((r) =>
      r.type === 'portStatsReply'
        ? r.ports.map((p) => ({
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

  // --- codec ---

  protected encode(msg: Msg): Buffer {
    return encodeMessage(msg);
  }

  protected decode(chunk: Buffer): void {
    for (const ev of this.decoder.push(chunk)) {
      if (ev.type === 'oversized') {
        this.counters.oversized++;
        if (!this.features) {
          this.logger.debug({ remote: this.remoteAddress, length: ev.length }, 'oversized frame before the handshake; closing');
          this.close('oversized frame before the handshake');
          return;
        }
        this.send({ type: 'error', xid: 0, code: 'OVC_ERR_PROTO_OVERSIZED', message: `frame of ${ev.length} bytes refused` });
        continue;
      }
      const msg = decodeMessage(ev.frame);
      if (isMalformed(msg)) {
        this.counters.malformed++;
        this.send({ type: 'error', xid: 0, code: msg.code, message: msg.reason });
        if (this.counters.malformed > MALFORMED_LIMIT) {
          this.logger.warn({ remote: this.remoteAddress }, 'too many malformed frames; closing');
          this.close('too many malformed frames');
          return;
        }
        continue;
      }
      this.receive(msg);
    }
  }

  protected bufferedBytes(): number {
    return this.decoder.pendingBytes;
  }

  protected kindOf(msg: Msg): InboundKind {
    switch (msg.type) {
      case 'hello':
      case 'echoRequest':
      case 'echoReply':
      case 'error':
        return msg.type;
      case 'flowStatsReply':
      case 'portStatsReply':
      case 'groupDescReply':
      case 'meterConfigReply':
      case 'meterStatsReply':
        return msg.more ? 'part' : 'message';
      default:
        return 'message';
    }
  }

  protected echoRequest(xid: number): Msg {
    return { type: 'echoRequest', xid, data: new Uint8Array(0) };
  }

  protected echoReply(request: Msg): Msg {
    return { type: 'echoReply', xid: request.xid, data: request.type === 'echoRequest' ? request.data : new Uint8Array(0) };
  }

  protected barrierRequest(xid: number): Msg {
    return { type: 'barrierRequest', xid };
  }

  protected refusalOf(msg: Msg, refused: string | undefined): SwitchRefusedError {
    const e = msg as MsgOf<'error'>;
    return new SwitchRefusedError(e.code, e.xid, refused, e.message);
  }

  protected onMessage(msg: Msg): void {
    switch (msg.type) {
      case 'packetIn':
        this.emitPacketIn({ reason: msg.reason, table: msg.table, cookie: msg.cookie, inPort: msg.inPort, frame: Buffer.from(msg.data) });
        return;
      case 'portStatus':
        this.emitPortStatus({ reason: msg.reason, port: toSwitchPort(msg.port) });
        return;
      default:
        this.logger.debug({ type: msg.type }, 'native channel: unexpected message ignored');
    }
  }
}
