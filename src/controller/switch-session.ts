/**
 * One attached switch: its connection, the flows we believe are installed, and the two ways of making
 * them equal to the desired ones:
 * - reconcile (after every (re)connect, or when unsure): read the switch's flows, diff against the
 *   desired tables, push only the difference (never a blind re-add), then a barrier;
 * - delta (the incremental path): the compiler says exactly which flows came and went; send those
 *   flow-mods and a barrier, no diff of whole tables.
 * Groups and meters go the same two ways, by id: read back (group descriptions, meter configs) and
 * diffed on a reconcile, the compiler's group-mods and meter-mods on a delta.
 * Operations run one at a time, in order, so a delta never overtakes the reconcile before it.
 */
import {
  diffFlows,
  diffGroups,
  diffMeters,
  diffToFlowMods,
  FlowIndex,
  isEmptyDiff,
  type FlowEntry,
  type FlowMod,
  type GroupEntry,
  type GroupMod,
  type MeterEntry,
  type MeterMod,
} from '../flow/index.js';
import type { SwitchConnection } from './switch-connection.js';

export interface SyncResult {
  added: number;
  modified: number;
  removed: number;
  groupMods: number;
  meterMods: number;
}

/** A push's outcome: when it ended (epoch ms), how long it took, what it changed or why it failed. */
export type LastSync = { timeMs: number; ms: number } & (({ ok: true } & SyncResult) | { ok: false; error: string });

export interface SessionCounters {
  flowModsSent: number;
  groupModsSent: number;
  meterModsSent: number;
  barriers: number;
  packetIns: number;
  syncs: number;
  deltas: number;
}

export interface DesiredSource {
  flows(): Iterable<FlowEntry>;
  groups(): Iterable<GroupEntry>;
  meters(): Iterable<MeterEntry>;
}

const NO_CHANGE: SyncResult = { added: 0, modified: 0, removed: 0, groupMods: 0, meterMods: 0 };

/**
 * A push of more flow-mods than this goes in chunks, each confirmed by a barrier before the next is
 * encoded: a switch installing a million flows answers every barrier well within the request timeout,
 * and the controller holds one chunk's bytes at a time, not a million messages'.
 */
export const PUSH_CHUNK_FLOW_MODS = 20_000;

export class SwitchSession {
  readonly dpid: number;
  /** The last push's outcome, kept by the controller for status (GET /v1/switches). */
  lastSync: LastSync | undefined;
  readonly connectedAtMs: number;
  /** In a cluster: the role the switch accepted from this controller, and its generation id. */
  role: 'master' | 'slave' | undefined;
  generationId: number | undefined;
  readonly counters: SessionCounters = { flowModsSent: 0, groupModsSent: 0, meterModsSent: 0, barriers: 0, packetIns: 0, syncs: 0, deltas: 0 };
  private installed = new FlowIndex();
  private installedGroups = new Map<number, GroupEntry>();
  private installedMeters = new Map<number, MeterEntry>();
  private knownInstalled = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly connection: SwitchConnection,
    nowMs: number,
  ) {
    this.dpid = connection.features.dpid;
    this.connectedAtMs = nowMs;
  }

  get installedFlows(): FlowEntry[] {
    return [...this.installed.values()];
  }

  get installedFlowCount(): number {
    return this.installed.size;
  }

  /**
   * Reconcile: make the switch's tables equal `desired` (read at the time the operation runs).
   * `reread` reads the switch's tables first even when the session believes it knows them.
   */
  sync(desired: DesiredSource, options: { reread?: boolean } = {}): Promise<SyncResult> {
    return this.enqueue(async () => {
      if (!this.knownInstalled || options.reread) await this.readInstalled();
      return this.pushDifference(desired);
    });
  }

  /**
   * Incremental: the desired tables changed by exactly `add` and `remove` (and group and meter mods).
   * When the installed state is unknown (a reconcile is due), falls back to reconciling against `desired`.
   */
  delta(
    add: readonly FlowEntry[],
    remove: readonly FlowEntry[],
    groupMods: readonly GroupMod[],
    desired: DesiredSource,
    meterMods: readonly MeterMod[] = [],
  ): Promise<SyncResult> {
    return this.enqueue(async () => {
      if (!this.knownInstalled) {
        await this.readInstalled();
        return this.pushDifference(desired);
      }
      this.counters.deltas++;
      const mods: FlowMod[] = [];
      for (const flow of add) mods.push({ command: 'add', flow });
      for (const flow of remove) mods.push({ command: 'deleteStrict', flow });
      await this.send(mods, groupMods, meterMods);
      for (const f of remove) this.installed.delete(f);
      for (const f of add) this.installed.set(f);
      this.applyGroupMods(groupMods);
      this.applyMeterMods(meterMods);
      return { added: add.length, modified: 0, removed: remove.length, groupMods: groupMods.length, meterMods: meterMods.length };
    });
  }

  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async readInstalled(): Promise<void> {
    const stats = await this.connection.flowStats();
    this.installed = new FlowIndex(stats.map((s) => s.flow));
    const groups = await this.connection.groupStats();
    this.installedGroups = new Map(groups.map((g) => [g.groupId, g]));
    const meters = (await this.connection.meterConfig?.()) ?? [];
    this.installedMeters = new Map(meters.map((m) => [m.meterId, m]));
    this.knownInstalled = true;
  }

  private async pushDifference(desired: DesiredSource): Promise<SyncResult> {
    const diff = diffFlows(this.installed.values(), [...desired.flows()]);
    const groupMods = diffGroups(this.installedGroups.values(), desired.groups());
    const meterMods = diffMeters(this.installedMeters.values(), desired.meters());
    this.counters.syncs++;
    if (isEmptyDiff(diff) && groupMods.length === 0 && meterMods.length === 0) return NO_CHANGE;
    await this.send(diffToFlowMods(diff), groupMods, meterMods);
    for (const f of diff.remove) this.installed.delete(f);
    for (const f of diff.add) this.installed.set(f);
    for (const f of diff.modify) this.installed.set(f);
    this.applyGroupMods(groupMods);
    this.applyMeterMods(meterMods);
    return { added: diff.add.length, modified: diff.modify.length, removed: diff.remove.length, groupMods: groupMods.length, meterMods: meterMods.length };
  }

  /**
   * Meter-mods, flow-mods and group-mods in the order a switch accepts them: the meters and groups a
   * flow points at first, then the flows, then the groups and meters no flow needs any more; then a
   * barrier. Long pushes go in chunks of PUSH_CHUNK_FLOW_MODS, a barrier after each.
   */
  private async send(mods: FlowMod[], groupMods: readonly GroupMod[], meterMods: readonly MeterMod[] = []): Promise<void> {
    const groupAdds = groupMods.filter((m) => m.command !== 'delete');
    const groupDeletes = groupMods.filter((m) => m.command === 'delete');
    const meterAdds = meterMods.filter((m) => m.command !== 'delete');
    const meterDeletes = meterMods.filter((m) => m.command === 'delete');
    this.counters.groupModsSent += groupMods.length;
    this.counters.meterModsSent += meterMods.length;
    if (meterAdds.length) this.connection.sendMeterMods?.(meterAdds);
    if (groupAdds.length) this.connection.sendGroupMods(groupAdds);
    for (let at = 0; at < mods.length; at += PUSH_CHUNK_FLOW_MODS) {
      const chunk = mods.length <= PUSH_CHUNK_FLOW_MODS ? mods : mods.slice(at, at + PUSH_CHUNK_FLOW_MODS);
      this.connection.sendFlowMods(chunk);
      this.counters.flowModsSent += chunk.length;
      if (at + PUSH_CHUNK_FLOW_MODS < mods.length) await this.barrier();
    }
    if (groupDeletes.length) this.connection.sendGroupMods(groupDeletes);
    if (meterDeletes.length) this.connection.sendMeterMods?.(meterDeletes);
    await this.barrier();
  }

  private async barrier(): Promise<void> {
    this.counters.barriers++;
    try {
      await this.connection.barrier();
    } catch (e) {
      // We no longer know what the switch holds: the next operation reads it again.
      this.knownInstalled = false;
      throw e;
    }
  }

  private applyGroupMods(groupMods: readonly GroupMod[]): void {
    for (const m of groupMods) {
      if (m.command === 'delete') this.installedGroups.delete(m.group.groupId);
      else this.installedGroups.set(m.group.groupId, m.group);
    }
  }

  private applyMeterMods(meterMods: readonly MeterMod[]): void {
    for (const m of meterMods) {
      if (m.command === 'delete') this.installedMeters.delete(m.meter.meterId);
      else this.installedMeters.set(m.meter.meterId, m.meter);
    }
  }
}
