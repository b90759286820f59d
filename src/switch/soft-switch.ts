/**
 * The softswitch: UDP ports, flow tables and groups run by the shared pipeline executor, and a control
 * channel to the controller. Fail-secure: flows stay installed and forwarding goes on while the
 * controller is away; the channel reconnects with backoff.
 */
import type { Logger } from 'pino';
import { OvercastError } from '../errors/index.js';
import { createExecResult, createPipelineExecutor, trimResult, type ExecResult, type PipelineExecutor, type RunOptions } from '../flow/execute.js';
import { ConnTable, K, PORT, TokenBucket, type Action, type ConntrackOptions, type ConntrackStats, type FlowMod, type GroupMod, type MeterMod, type MeterStats, type TokenBucketOptions } from '../flow/index.js';
import type { ControllerRole, Msg, PortDesc, PortStats } from '../protocol/index.js';
import type { BackoffOptions } from './backoff.js';
import { Bundles } from './bundles.js';
import { ChannelClient, type ChannelClientTls, type ChannelStats } from './channel-client.js';
import { createFlowClassifier, type ClassifierFactory } from './classifier-factory.js';
import { applyFlowMod, applyMeterMod, handleControlMessage, type AgentContext } from './control-agent.js';
import { RoleArbiter, type RoleHolder } from './controller-roles.js';
import { CHANNEL_DROP, countDrop, type DropCounters, type PortCounters } from './counters.js';
import { FlowTables, type InstalledFlow } from './flow-tables.js';
import { GroupTable } from './groups.js';
import { MeterTable } from './meters.js';
import type { UdpPortSpec } from './port-spec.js';
import { PORT_RECV_BUFFER_BYTES, UdpPort, buildProbeFrame } from './udp-port.js';

/** Enough for the logical pipeline (7 tables) with room to grow. */
export const DEFAULT_TABLE_COUNT = 16;
export const TIMEOUT_SWEEP_INTERVAL_MS = 1000;
/**
 * The switch's packet-in meter (OpenFlow's controller meter): 1000 packet-ins a second, bursts of
 * 2000; beyond that they are dropped here (drops_total{reason="packetInMeter"}), before the channel.
 */
export const DEFAULT_PACKET_IN_METER: TokenBucketOptions = { ratePerSec: 1000, burst: 2000 };

export interface SoftSwitchOptions {
  dpid: number;
  /** Where the controller listens; none = standalone (tests, benchmarks). */
  controller?: { host: string; port: number };
  /** Several controllers (a cluster): one channel to each, each with its own role (./controller-roles.ts). */
  controllers?: { host: string; port: number }[];
  /** Mutual TLS to the controller; without it the channel is plain TCP (development only). */
  controllerTls?: ChannelClientTls;
  /** Packet-ins per second sent to the controller (default DEFAULT_PACKET_IN_METER); false: no meter. */
  packetInMeter?: TokenBucketOptions | false;
  ports: UdpPortSpec[];
  tableCount?: number;
  /** What a table miss does (default: send to the controller). */
  tableMiss?: 'controller' | 'drop';
  echoIntervalMs?: number;
  echoTimeoutMs?: number;
  backoff?: BackoffOptions;
  /** How often idle/hard timeouts and port liveness are checked. */
  sweepIntervalMs?: number;
  recvBufferBytes?: number;
  /**
   * The Maglev table size of select groups (a prime; default MAGLEV_DEFAULT_SIZE, 128 KiB per group;
   * docs/load-balancing.md). A switch holding thousands of load balancers with small pools takes a
   * smaller one; never changed on a live switch.
   */
  maglevSize?: number;
  /** Connection tracking for `ct` actions: per-state timeouts and the per-zone connection limit. */
  conntrack?: ConntrackOptions;
}

export interface SoftSwitchComponents {
  logger: Logger;
  /** The clock flow timeouts and counters read (default Date.now); tests inject one. */
  now?: () => number;
  random?: () => number;
  createClassifier?: ClassifierFactory;
}

export interface PortInfo {
  portNo: number;
  name: string;
  local: { address: string; port: number };
  peer: { host: string; port: number } | undefined;
  live: boolean;
  counters: PortCounters;
}

export interface SwitchStats {
  dpid: number;
  flows: number;
  groups: number;
  meters: number;
  ports: PortInfo[];
  drops: DropCounters;
  channel: ChannelStats | undefined;
  /** Every controller channel with its role (`channel` is the first). */
  channels: (ChannelStats & { controller: string; role: ControllerRole })[];
  /** Packets sent to the controller. */
  packetIns: number;
  lookups: ReturnType<FlowTables['lookupStats']>;
  conntrack: ConntrackStats;
}

export interface SoftSwitch {
  readonly dpid: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Is the control channel up (Hello done)? */
  readonly connected: boolean;
  ports(): PortInfo[];
  stats(): SwitchStats;
  /** Installed flows with their counters (read-only view). */
  flows(): InstalledFlow[];
  /** Local flow-mod/group-mod, as if from the controller (benchmarks, standalone use). Throws OvercastError. */
  applyFlowMod(mod: FlowMod): void;
  applyGroupMod(mod: GroupMod): void;
  applyMeterMod(mod: MeterMod): void;
  /** Each meter's counters (packets in, per band what it dropped), in id order. */
  meterStats(): MeterStats[];
  /** Expire timed-out flows and report port liveness changes now (also runs every sweepIntervalMs). */
  sweep(): void;
  /** Point a port at a new peer address (resolves once its socket sends there). */
  setPortPeer(portNo: number, peer: { host: string; port: number }): Promise<void>;
}

const MUTABLE: RunOptions = { mutable: true };

/** One controller's channel: its own role and replies; everything else is the switch's. */
interface ControllerLink extends RoleHolder {
  readonly address: string;
  readonly client: ChannelClient;
}

class SoftSwitchImpl implements SoftSwitch, AgentContext {
  readonly dpid: number;
  readonly tableCount: number;
  readonly tables: FlowTables;
  readonly groups: GroupTable;
  readonly meters: MeterTable;
  readonly bundles: Bundles;
  readonly logger: Logger;
  readonly drops: DropCounters = {};
  private readonly portList: UdpPort[];
  private readonly portByNo = new Map<number, UdpPort>();
  private readonly portNos: number[];
  private readonly exec: PipelineExecutor<InstalledFlow>;
  /** The connection table `ct` actions consult; expired connections leave on each sweep. */
  readonly conntrack: ConnTable;
  private readonly result: ExecResult<InstalledFlow> = createExecResult<InstalledFlow>();
  private readonly outResult: ExecResult<InstalledFlow> = createExecResult<InstalledFlow>();
  private readonly links: ControllerLink[] = [];
  private readonly roles = new RoleArbiter();
  private readonly clock: () => number;
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly lastLive = new Map<number, boolean>();
  private readonly probes = new Map<number, Buffer>();
  private packetInsSent = 0;
  private readonly packetInMeter: TokenBucket | undefined;

  /** Built once per port: the probe never changes. */
  private probeFrame(portNo: number): Buffer {
    let f = this.probes.get(portNo);
    if (!f) {
      f = buildProbeFrame(portMac(this.dpid, portNo), this.dpid, portNo);
      this.probes.set(portNo, f);
    }
    return f;
  }

  constructor(
    private readonly opts: SoftSwitchOptions,
    c: SoftSwitchComponents,
  ) {
    this.dpid = opts.dpid;
    this.logger = c.logger.child({ dpid: opts.dpid });
    this.clock = c.now ?? Date.now;
    this.tableCount = opts.tableCount ?? DEFAULT_TABLE_COUNT;
    this.groups = new GroupTable(opts.maglevSize === undefined ? {} : { maglevSize: opts.maglevSize });
    this.tables = new FlowTables(this.tableCount, c.createClassifier ?? createFlowClassifier, this.clock);
    const meter = opts.packetInMeter ?? DEFAULT_PACKET_IN_METER;
    // Real time, whatever clock the flow timeouts use (tests move that one by hand).
    this.packetInMeter = meter ? new TokenBucket(meter, () => performance.now()) : undefined;
    // Meters run on real time too: a rate is packets or kilobits per second of the wire.
    this.meters = new MeterTable(() => performance.now());
    this.bundles = new Bundles(this.tables, this.groups, this.meters);
    const onFrame = (port: UdpPort, frame: Buffer) => {
      try {
        this.onFrame(port, frame);
      } catch (e) {
        // A bug must cost one frame, not the process: count it, log it, keep forwarding.
        countDrop(this.drops, 'internalError');
        port.counters.rxDropped++;
        this.logger.error({ err: (e as Error).message, port: port.portNo }, 'datapath error');
      }
    };
    this.portList = opts.ports.map((spec) => new UdpPort(spec, onFrame, this.logger, this.clock, opts.recvBufferBytes ?? PORT_RECV_BUFFER_BYTES));
    for (const p of this.portList) this.portByNo.set(p.portNo, p);
    this.portNos = this.portList.map((p) => p.portNo);
    const tableMiss = opts.tableMiss ?? 'controller';
    this.conntrack = new ConnTable(opts.conntrack ?? {}, this.clock);
    this.exec = createPipelineExecutor<InstalledFlow>({
      lookup: (table, key) => this.tables.lookup(table, key),
      conntrack: this.conntrack,
      group: (id) => this.groups.get(id),
      meter: (id, bytes) => this.meters.pass(id, bytes),
      ports: this.portNos,
      isPortLive: (p) => this.portByNo.get(p)?.isLive() ?? false,
      tableMiss,
      tableCount: this.tableCount,
    });
    const controllers = opts.controllers ?? (opts.controller ? [opts.controller] : []);
    for (const target of controllers) this.links.push(this.linkTo(target, c));
  }

  private linkTo(target: { host: string; port: number }, c: SoftSwitchComponents): ControllerLink {
    const address = `${target.host}:${target.port}`;
    const logger = this.links.length === 0 && !this.opts.controllers ? this.logger : this.logger.child({ controller: address });
    const link: ControllerLink = { address, role: 'equal', client: undefined as unknown as ChannelClient };
    // The agent answers on this link and sees its role; everything else is the switch's.
    const ctx = Object.create(this, {
      role: { get: () => link.role, set: (r: ControllerRole) => (link.role = r), enumerable: true },
      logger: { value: logger },
      send: { value: (msg: Msg) => link.client.send(msg) },
      changeRole: { value: (role: ControllerRole, generationId: number) => this.roles.request(link, role, generationId) },
    }) as AgentContext;
    (link as { client: ChannelClient }).client = new ChannelClient(
      {
        host: target.host,
        port: target.port,
        ...(this.opts.controllerTls ? { tls: this.opts.controllerTls } : {}),
        echoIntervalMs: this.opts.echoIntervalMs,
        echoTimeoutMs: this.opts.echoTimeoutMs,
        backoff: this.opts.backoff,
      },
      // The channel's keepalive runs on real time, whatever clock the flow timeouts use.
      { logger, now: Date.now, random: c.random ?? Math.random, drops: this.drops },
      {
        onReady: (version) => logger.info({ version }, 'control channel ready'),
        onMessage: (msg) => handleControlMessage(ctx, msg),
        onDisconnect: () => {
          // A controller that comes back starts equal again, and asks for its role anew.
          link.role = 'equal';
          if (this.links.every((l) => !l.client.connected)) this.bundles.clear();
        },
      },
    );
    this.roles.add(link);
    return link;
  }

  get connected(): boolean {
    return this.links.some((l) => l.client.connected);
  }

  async start(): Promise<void> {
    try {
      await Promise.all(this.portList.map((p) => p.start()));
    } catch (e) {
      await Promise.all(this.portList.map((p) => p.stop()));
      throw e;
    }
    for (const p of this.portList) {
      this.lastLive.set(p.portNo, p.isLive());
      p.sendProbe(this.probeFrame(p.portNo)); // a restarted switch announces itself to its neighbours at once
    }
    for (const l of this.links) l.client.start();
    this.sweepTimer = setInterval(() => this.sweep(), this.opts.sweepIntervalMs ?? TIMEOUT_SWEEP_INTERVAL_MS);
    this.logger.info({ ports: this.ports().map((p) => `${p.portNo}=${p.local.address}:${p.local.port}`) }, 'softswitch started');
  }

  async stop(): Promise<void> {
    clearInterval(this.sweepTimer);
    for (const l of this.links) l.client.stop();
    await Promise.all(this.portList.map((p) => p.stop()));
  }

  /** The fast path: one received datagram through the pipeline. */
  private onFrame(port: UdpPort, frame: Buffer): void {
    const pc = port.counters;
    const len = frame.length;
    pc.rxPackets++;
    pc.rxBytes += len;
    const r = this.exec.run(frame, port.portNo, this.result, MUTABLE);
    const matched = r.matched;
    const n = r.matchedCount;
    if (n > 0) {
      const now = this.clock();
      for (let i = 0; i < n; i++) {
        const f = matched[i];
        f.packets++;
        f.bytes += len;
        f.lastHitMs = now;
      }
    }
    this.transmit(r);
    if (r.drop !== undefined) {
      pc.rxDropped++;
      countDrop(this.drops, r.drop);
    }
  }

  private transmit(r: ExecResult<InstalledFlow>): void {
    const outPorts = r.outPorts;
    const n = r.outCount;
    for (let i = 0; i < n; i++) {
      const p = this.portByNo.get(outPorts[i]);
      if (p === undefined) countDrop(this.drops, CHANNEL_DROP.UNKNOWN_PORT);
      else p.send(r.outFrames[i]);
    }
    const pins = r.packetIns;
    if (pins.length === 0) return;
    // Packet-ins go to every master or equal controller that is connected (none while all are slaves).
    const to = this.links.filter((l) => l.role !== 'slave' && l.client.connected);
    for (let i = 0; i < pins.length; i++) {
      const pi = pins[i];
      if (to.length === 0) {
        countDrop(this.drops, CHANNEL_DROP.PACKET_IN_NO_CONTROLLER);
        continue;
      }
      if (this.packetInMeter && !this.packetInMeter.take()) {
        countDrop(this.drops, CHANNEL_DROP.PACKET_IN_METER);
        continue;
      }
      const msg: Msg = {
        type: 'packetIn',
        xid: 0,
        inPort: this.exec.lastKey[K.IN_PORT],
        table: pi.table,
        reason: pi.reason,
        cookie: pi.cookie,
        metadata: pi.metadata,
        data: pi.frame,
      };
      let sent = false;
      for (const l of to) sent = l.client.send(msg, true) || sent;
      if (!sent) countDrop(this.drops, CHANNEL_DROP.PACKET_IN_OVERFLOW);
      else this.packetInsSent++;
    }
  }

  // AgentContext

  now(): number {
    return this.clock();
  }

  /** Asynchronous messages of the switch: port status to every controller, the rest to masters and equals. */
  send(msg: Msg): void {
    for (const l of this.links) if (msg.type === 'portStatus' || l.role !== 'slave') l.client.send(msg);
  }

  /** The switch itself answers no role request (each link's context does). */
  changeRole(): string | undefined {
    return 'no controller channel';
  }

  role: ControllerRole = 'equal';

  portDescs(): PortDesc[] {
    return this.portList.map((p) => ({ portNo: p.portNo, name: p.spec.name, hwAddr: portMac(this.dpid, p.portNo), up: p.isLive() }));
  }

  portStats(portNo?: number): PortStats[] {
    return this.portList
      .filter((p) => portNo === undefined || portNo === PORT.ANY || p.portNo === portNo)
      .map((p) => ({ portNo: p.portNo, ...p.counters }));
  }

  packetOut(inPort: number, actions: Action[], data: Uint8Array): void {
    const r = trimResult(this.exec.runActions(actions, data, inPort, this.outResult));
    for (const f of r.matched) {
      f.packets++;
      f.bytes += data.length;
      f.lastHitMs = this.clock();
    }
    this.transmit(r);
    if (r.drop !== undefined) countDrop(this.drops, r.drop);
  }

  // SoftSwitch

  ports(): PortInfo[] {
    return this.portList.map((p) => ({
      portNo: p.portNo,
      name: p.spec.name,
      local: p.localAddress(),
      peer: p.peer(),
      live: p.isLive(),
      counters: { ...p.counters },
    }));
  }

  stats(): SwitchStats {
    return {
      dpid: this.dpid,
      flows: this.tables.size,
      groups: this.groups.size,
      meters: this.meters.size,
      ports: this.ports(),
      drops: { ...this.drops },
      channel: this.links[0]?.client.stats(),
      channels: this.links.map((l) => ({ ...l.client.stats(), controller: l.address, role: l.role })),
      packetIns: this.packetInsSent,
      lookups: this.tables.lookupStats(),
      conntrack: { ...this.conntrack.stats },
    };
  }

  flows(): InstalledFlow[] {
    return [...this.tables.flows()];
  }

  applyFlowMod(mod: FlowMod): void {
    applyFlowMod(this, mod);
  }

  applyGroupMod(mod: GroupMod): void {
    this.groups.apply(mod);
  }

  applyMeterMod(mod: MeterMod): void {
    applyMeterMod(this, mod);
  }

  meterStats(): MeterStats[] {
    return this.meters.stats();
  }

  async setPortPeer(portNo: number, peer: { host: string; port: number }): Promise<void> {
    const p = this.portByNo.get(portNo);
    if (!p) throw new OvercastError('OVC_ERR_SWITCH_BAD_OPTION', `no port ${portNo}`, 'port');
    await p.setPeer(peer.host, peer.port, this.probeFrame(portNo));
    this.logger.info({ port: portNo, peer: `${peer.host}:${peer.port}` }, 'port peer set');
  }

  sweep(): void {
    this.conntrack.expire();
    for (const { flow, reason } of this.tables.expire()) {
      this.logger.debug({ cookie: flow.flow.cookie, table: flow.flow.table, reason }, 'flow expired');
      this.send({
        type: 'flowRemoved',
        xid: 0,
        flow: flow.flow,
        reason,
        packets: flow.packets,
        bytes: flow.bytes,
        durationMs: Math.max(0, this.clock() - flow.installedAtMs),
      });
    }
    for (const p of this.portList) {
      p.sendProbe(this.probeFrame(p.portNo));
      const live = p.isLive();
      if (this.lastLive.get(p.portNo) !== live) {
        this.lastLive.set(p.portNo, live);
        this.logger.info({ port: p.portNo, live }, 'port liveness changed');
        this.send({ type: 'portStatus', xid: 0, reason: 'modify', port: { portNo: p.portNo, name: p.spec.name, hwAddr: portMac(this.dpid, p.portNo), up: live } });
      }
    }
  }
}

/** A stable, locally administered MAC per (dpid, port): 02:dd:dd:dd:pp:pp. */
export function portMac(dpid: number, portNo: number): number {
  return 0x020000000000 + (dpid % 0x1000000) * 0x10000 + (portNo & 0xffff);
}

export function createSoftSwitch(options: SoftSwitchOptions, components: SoftSwitchComponents): SoftSwitch {
  return new SoftSwitchImpl(options, components);
}
