/**
 * The controller runtime: keeps the desired tables of every switch (computed by the pure compiler
 * from the topology and intent), a session per attached switch, and drives each switch's installed
 * tables to the desired ones. Channels (native TCP, OpenFlow 1.3) hand it ready SwitchConnections.
 */
import type { Logger } from 'pino';
import type { SwitchDelta } from '../compiler/index.js';
import { FlowIndex, type FlowEntry, type GroupEntry, type MeterEntry } from '../flow/index.js';
import { createAdmissionCounters, type AdmissionCounters } from './channel/admission-counters.js';
import { ControllerEvents } from './events.js';
import { PacketInEvents } from './packet-in-events.js';
import { createResyncScheduler, type ResyncOptions, type ResyncScheduler } from './resync-scheduler.js';
import type { PacketInEvent, SwitchConnection } from './switch-connection.js';
import { SwitchSession, type DesiredSource, type LastSync, type SyncResult } from './switch-session.js';

export interface DesiredTables {
  flows: FlowEntry[];
  groups: GroupEntry[];
  /** Meters by id (absent: none). */
  meters?: MeterEntry[];
}

/**
 * One switch's desired tables, keyed for cheap incremental updates: flows by identity with no string
 * per flow (FlowIndex: a million flows cost a Map of small integers, not a million ~100-byte keys);
 * the flow objects are the compiler's own, shared, never copied.
 */
class DesiredState implements DesiredSource {
  readonly flowIndex = new FlowIndex();
  readonly groupsById = new Map<number, GroupEntry>();
  readonly metersById = new Map<number, MeterEntry>();

  static of(t: DesiredTables): DesiredState {
    const d = new DesiredState();
    for (const f of t.flows) d.flowIndex.set(f);
    for (const g of t.groups) d.groupsById.set(g.groupId, g);
    for (const m of t.meters ?? []) d.metersById.set(m.meterId, m);
    return d;
  }

  flows(): Iterable<FlowEntry> {
    return this.flowIndex.values();
  }

  groups(): Iterable<GroupEntry> {
    return this.groupsById.values();
  }

  meters(): Iterable<MeterEntry> {
    return this.metersById.values();
  }

  apply(delta: SwitchDelta): void {
    for (const f of delta.remove) this.flowIndex.delete(f);
    for (const f of delta.add) this.flowIndex.set(f);
    for (const m of delta.groupMods ?? []) {
      if (m.command === 'delete') this.groupsById.delete(m.group.groupId);
      else this.groupsById.set(m.group.groupId, m.group);
    }
    for (const m of delta.meterMods ?? []) {
      if (m.command === 'delete') this.metersById.delete(m.meter.meterId);
      else this.metersById.set(m.meter.meterId, m.meter);
    }
  }
}

/** How long a session whose dpid a new connection claims has to answer an echo before it is replaced. */
export const TAKEOVER_GRACE_MS = 1000;
/** A switch gone this long is dropped from status() unless the topology gives it flows. docs/security.md. */
export const FORGET_SWITCH_AFTER_MS = 60_000;

/**
 * A cluster's mastership (src/controller/cluster/): the role this controller holds for each switch.
 * Without it the controller is every switch's only (equal) controller and asks for no role.
 */
export interface SwitchRoles {
  roleOf(dpid: number): { role: 'master' | 'slave'; generationId: number };
}

export interface ControllerComponents {
  logger: Logger;
  /** Mastership in a cluster; absent for a single controller. */
  roles?: SwitchRoles;
  nowMs: () => number;
  takeoverGraceMs?: number;
  forgetSwitchAfterMs?: number;
  /** Backoff of the reconcile retried after a failed push (default 250 ms doubling to 10 s). */
  resync?: ResyncOptions;
  /** Timers for those retries (default Node's); tests pass their own. */
  setTimeout?(fn: () => void, ms: number): unknown;
  clearTimeout?(handle: unknown): void;
}

export interface SwitchStatus {
  dpid: number;
  connected: boolean;
  channel?: string;
  remoteAddress?: string;
  connectedAtMs?: number;
  desiredFlows: number;
  installedFlows: number;
  ports: { number: number; name: string; up: boolean }[];
  counters?: SwitchSession['counters'] & { packetInsDropped: number };
  /** The last push (reconcile or delta) to the connected switch: when (epoch ms), and how it went. */
  lastSync?: LastSync;
  /** In a cluster: this controller's role for the switch, as the switch last accepted it. */
  role?: 'master' | 'slave';
}


export class Controller {
  readonly events = new ControllerEvents();
  readonly channelCounters: AdmissionCounters = createAdmissionCounters();
  private readonly sessions = new Map<number, SwitchSession>();
  private desired = new Map<number, DesiredState>();
  /** Dpids a new connection is claiming while the controller checks their old session. */
  private readonly claiming = new Set<number>();
  /** When each switch that is gone left (monotonic ms), until it is forgotten. */
  private readonly leftAtMs = new Map<number, number>();
  private readonly packetInEvents: PacketInEvents;
  /**
   * Packet-ins a handler consumes as routine traffic (health-probe replies, every second per backend)
   * are counted but not published as events, so they do not flood the event ring and SSE clients.
   */
  isRoutinePacketIn: (e: PacketInEvent) => boolean = () => false;
  private readonly resync: ResyncScheduler;

  constructor(private readonly components: ControllerComponents) {
    this.packetInEvents = new PacketInEvents(components.nowMs, (e) => this.events.emit(e), {
      ...(components.setTimeout ? { setTimeout: components.setTimeout } : {}),
      ...(components.clearTimeout ? { clearTimeout: components.clearTimeout } : {}),
    });
    this.resync = createResyncScheduler(components.resync ?? {}, {
      resync: (dpid) => this.retrySync(dpid),
      ...(components.setTimeout ? { setTimeout: components.setTimeout } : {}),
      ...(components.clearTimeout ? { clearTimeout: components.clearTimeout } : {}),
    });
  }

  /** Replace the desired tables (all switches) and reconcile every attached switch against them. */
  setDesired(desired: Map<number, DesiredTables>): Promise<void> {
    this.desired = new Map([...desired].map(([dpid, t]) => [dpid, DesiredState.of(t)]));
    return this.syncAll();
  }

  /**
   * Apply the incremental compiler's per-switch deltas and push them; resolves when every affected,
   * connected switch has acknowledged them with a barrier reply.
   */
  async applyDelta(deltas: ReadonlyMap<number, SwitchDelta>): Promise<void> {
    const pushes: Promise<unknown>[] = [];
    for (const [dpid, delta] of deltas) {
      const state = this.stateFor(dpid);
      state.apply(delta);
      const session = this.sessions.get(dpid);
      if (session && this.pushesTo(session)) pushes.push(this.report(session, session.delta(delta.add, delta.remove, delta.groupMods ?? [], state, delta.meterMods ?? [])));
    }
    await Promise.all(pushes);
  }

  desiredFor(dpid: number): DesiredTables {
    const d = this.desired.get(dpid);
    return d ? { flows: [...d.flows()], groups: [...d.groups()], meters: [...d.meters()] } : { flows: [], groups: [], meters: [] };
  }

  desiredFlowCount(dpid: number): number {
    return this.desired.get(dpid)?.flowIndex.size ?? 0;
  }

  private stateFor(dpid: number): DesiredState {
    let d = this.desired.get(dpid);
    if (!d) {
      d = new DesiredState();
      this.desired.set(dpid, d);
    }
    return d;
  }

  /**
   * Switches the controller knows: connected ones, those the desired tables give flows or groups (the
   * topology's), and those that left less than FORGET_SWITCH_AFTER_MS ago. Any other is forgotten here.
   */
  get knownDpids(): number[] {
    this.forgetGone();
    return [...new Set([...this.desired.keys(), ...this.sessions.keys(), ...this.leftAtMs.keys()])].sort((a, b) => a - b);
  }

  private forgetGone(): void {
    const now = this.components.nowMs();
    const after = this.components.forgetSwitchAfterMs ?? FORGET_SWITCH_AFTER_MS;
    for (const [dpid, at] of this.leftAtMs) {
      if (this.sessions.has(dpid) || now - at < after) continue;
      this.leftAtMs.delete(dpid);
      const d = this.desired.get(dpid);
      if (d && d.flowIndex.size === 0 && d.groupsById.size === 0 && d.metersById.size === 0) this.desired.delete(dpid);
    }
  }

  session(dpid: number): SwitchSession | undefined {
    return this.sessions.get(dpid);
  }

  /**
   * A switch finished its handshake on some channel; resolves true when it joined. Refused (closed,
   * counted, logged): a dpid its certificate does not list, and a dpid whose session is alive (it
   * answers an echo within the takeover grace). A session that does not answer is replaced.
   */
  async attach(connection: SwitchConnection): Promise<boolean> {
    const { logger } = this.components;
    const dpid = connection.features.dpid;
    const identity = connection.peerIdentity;
    if (identity && !identity.dpids.includes(dpid)) {
      this.channelCounters.identityRefused++;
      logger.warn({ dpid, allowed: identity.dpids, subject: identity.subject, remote: connection.remoteAddress }, 'switch claims a dpid its certificate does not list; refusing');
      connection.close('dpid not in the certificate');
      return false;
    }
    const previous = this.sessions.get(dpid);
    if (this.claiming.has(dpid) || (previous && (await this.stillAlive(dpid, previous)))) {
      this.channelCounters.takeoverRefused++;
      logger.warn({ dpid, remote: connection.remoteAddress, live: previous?.connection.remoteAddress }, 'a connection claims a dpid whose session is alive; refusing');
      connection.close('dpid already connected');
      return false;
    }
    const stale = this.sessions.get(dpid);
    if (stale) {
      this.channelCounters.takeovers++;
      logger.warn({ dpid, old: stale.connection.remoteAddress, remote: connection.remoteAddress }, 'old session no longer answers; the new connection replaces it');
      stale.connection.close('replaced: the session no longer answered');
    }
    this.join(connection);
    return true;
  }

  /** Is `previous` still the session of `dpid` and answering? Other claims wait (and are refused) meanwhile. */
  private async stillAlive(dpid: number, previous: SwitchSession): Promise<boolean> {
    this.claiming.add(dpid);
    try {
      const alive = (await previous.connection.isAlive?.(this.components.takeoverGraceMs ?? TAKEOVER_GRACE_MS)) ?? false;
      return alive && this.sessions.get(dpid) === previous;
    } finally {
      this.claiming.delete(dpid);
    }
  }

  private join(connection: SwitchConnection): void {
    const { logger, nowMs } = this.components;
    const dpid = connection.features.dpid;
    const session = new SwitchSession(connection, nowMs());
    this.sessions.set(dpid, session);
    this.leftAtMs.delete(dpid);
    this.resync.forget(dpid);
    this.events.emit({ type: 'switch.connected', dpid, channel: connection.channel, remoteAddress: connection.remoteAddress });
    logger.info({ dpid, channel: connection.channel, remote: connection.remoteAddress, ports: connection.features.ports.length, subject: connection.peerIdentity?.subject }, 'switch connected');

    connection.on('close', (reason) => {
      if (this.sessions.get(dpid) !== session) return;
      this.sessions.delete(dpid);
      this.leftAtMs.set(dpid, nowMs());
      this.resync.forget(dpid);
      this.forgetGone();
      logger.info({ dpid, reason }, 'switch disconnected');
      this.events.emit({ type: 'switch.disconnected', dpid, reason });
    });
    connection.on('packetIn', (e) => {
      session.counters.packetIns++;
      if (this.isRoutinePacketIn(e)) return;
      this.packetInEvents.record(dpid, e);
    });
    connection.on('portStatus', (e) => {
      this.events.emit({ type: 'port.status', dpid, port: e.port.number, up: e.port.up, reason: e.reason });
    });
    if (this.components.roles) void this.claimRole(session);
    else void this.syncOne(session);
  }

  /** Does this controller change the switch's tables (no cluster, or its master)? */
  private pushesTo(session: SwitchSession): boolean {
    return !this.components.roles || session.role === 'master';
  }

  /**
   * The cluster changed who masters `dpid`: tell the switch, and as its new master reconcile it by
   * difference (read its tables, push only what differs).
   */
  roleChanged(dpid: number): Promise<void> {
    const session = this.sessions.get(dpid);
    return session ? this.claimRole(session) : Promise.resolve();
  }

  private async claimRole(session: SwitchSession): Promise<void> {
    const roles = this.components.roles;
    if (!roles) return;
    const { role, generationId } = roles.roleOf(session.dpid);
    if (session.role === role && session.generationId === generationId) return;
    try {
      await session.connection.requestRole?.(role, generationId);
    } catch (e) {
      this.components.logger.warn({ dpid: session.dpid, role, generationId, error: e instanceof Error ? e.message : String(e) }, 'switch refused a role request');
      return;
    }
    if (this.sessions.get(session.dpid) !== session) return;
    const was = session.role;
    session.role = role;
    session.generationId = generationId;
    this.components.logger.info({ dpid: session.dpid, role, was, generationId }, 'switch role');
    if (role === 'master') await this.report(session, session.sync(this.stateFor(session.dpid), { reread: true }));
  }

  private syncAll(): Promise<void> {
    return Promise.all([...this.sessions.values()].filter((s) => this.pushesTo(s)).map((s) => this.syncOne(s))).then(() => undefined);
  }

  private syncOne(session: SwitchSession): Promise<void> {
    return this.report(session, session.sync(this.stateFor(session.dpid)));
  }

  /** The retry after a failed push: read the switch's tables again and push the difference. */
  private retrySync(dpid: number): void {
    const session = this.sessions.get(dpid);
    if (session && this.pushesTo(session)) void this.report(session, session.sync(this.stateFor(dpid), { reread: true }));
  }

  /**
   * Log and emit the outcome of a sync or delta; never rejects. A failed push schedules a reconcile
   * with backoff (resync-scheduler.ts); a successful one cancels it.
   */
  private async report(session: SwitchSession, op: Promise<SyncResult>): Promise<void> {
    const { logger, nowMs } = this.components;
    const started = nowMs();
    try {
      const r = await op;
      const ms = nowMs() - started;
      if (this.sessions.get(session.dpid) === session) this.resync.succeeded(session.dpid);
      logger.debug({ dpid: session.dpid, ...r, ms }, 'switch synced');
      const e = this.events.emit({ type: 'switch.synced', dpid: session.dpid, ...r, ms });
      session.lastSync = { timeMs: e.timeMs, ms, ok: true, ...r };
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      const current = this.sessions.get(session.dpid) === session;
      const retryInMs = current ? this.resync.failed(session.dpid) : undefined;
      logger.warn({ dpid: session.dpid, error, retryInMs }, 'switch sync failed');
      const ev = this.events.emit({ type: 'switch.sync-failed', dpid: session.dpid, error, ...(retryInMs !== undefined ? { retryInMs } : {}) });
      session.lastSync = { timeMs: ev.timeMs, ms: nowMs() - started, ok: false, error };
    }
  }

  status(): SwitchStatus[] {
    return this.knownDpids.map((dpid) => this.statusOf(dpid));
  }

  /**
   * Up to `limit` switches in dpid order after dpid `after` (exclusive), and the cursor of the next
   * page (the last dpid listed) or null. No round trip to any switch: what the sessions know.
   */
  statusPage(limit: number, after?: number): { switches: SwitchStatus[]; next: string | null } {
    const dpids = this.knownDpids;
    let i = 0;
    if (after !== undefined) {
      let hi = dpids.length;
      while (i < hi) {
        const mid = (i + hi) >>> 1;
        if (dpids[mid] <= after) i = mid + 1;
        else hi = mid;
      }
    }
    const page = dpids.slice(i, i + limit);
    return { switches: page.map((dpid) => this.statusOf(dpid)), next: i + limit < dpids.length ? String(page[page.length - 1]) : null };
  }

  statusOf(dpid: number): SwitchStatus {
    const s = this.sessions.get(dpid);
    const desiredFlows = this.desiredFlowCount(dpid);
    if (!s) return { dpid, connected: false, desiredFlows, installedFlows: 0, ports: [] };
    return {
      dpid,
      connected: true,
      channel: s.connection.channel,
      remoteAddress: s.connection.remoteAddress,
      connectedAtMs: s.connectedAtMs,
      desiredFlows,
      installedFlows: s.installedFlowCount,
      ports: s.connection.features.ports.map((p) => ({ number: p.number, name: p.name, up: p.up })),
      counters: { ...s.counters, packetInsDropped: s.connection.packetInsDropped ?? 0 },
      ...(s.lastSync ? { lastSync: s.lastSync } : {}),
      ...(s.role ? { role: s.role } : {}),
    };
  }

  /** Close every switch connection (the switches keep their flows: fail-secure). */
  close(): void {
    this.resync.close();
    this.packetInEvents.close();
    for (const s of this.sessions.values()) s.connection.close();
    this.sessions.clear();
  }
}
