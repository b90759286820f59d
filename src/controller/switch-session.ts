/**
 * One attached switch: its connection, the flows we believe are installed, and the two ways of making
 * them equal to the desired ones:
 * - reconcile (after every (re)connect, or when unsure): read the switch's flows, diff against the
 *   desired tables, push only the difference (never a blind re-add), then a barrier;
 * - delta (the incremental path): the compiler says exactly which flows came and went; send those
 *   flow-mods and a barrier, no diff of whole tables.
 * Operations run one at a time, in order, so a delta never overtakes the reconcile before it.
 */
import {
  diffFlows,
  diffGroups,
  diffToFlowMods,
  FlowIndex,
  isEmptyDiff,
  type FlowEntry,
  type FlowMod,
  type GroupEntry,
  type GroupMod,
} from '../flow/index.js';
import type { SwitchConnection } from './switch-connection.js';

export interface SyncResult {
  added: number;
  modified: number;
  removed: number;
  groupMods: number;
}

/** A push's outcome: when it ended (epoch ms), how long it took, what it changed or why it failed. */
export type LastSync = { timeMs: number; ms: number } & (({ ok: true } & SyncResult) | { ok: false; error: string });

export interface SessionCounters {
  flowModsSent: number;
  groupModsSent: number;
  barriers: number;
  packetIns: number;
  syncs: number;
  deltas: number;
}

export interface DesiredSource {
  flows(): Iterable<FlowEntry>;
  groups(): Iterable<GroupEntry>;
}

const NO_CHANGE: SyncResult = { added: 0, modified: 0, removed: 0, groupMods: 0 };

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
  readonly counters: SessionCounters = { flowModsSent: 0, groupModsSent: 0, barriers: 0, packetIns: 0, syncs: 0, deltas: 0 };
  private installed = new FlowIndex();
  private installedGroups = new Map<number, GroupEntry>();
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
      return this.pushDifference([...desired.flows()], [...desired.groups()]);
    });
  }

  /**
   * Incremental: the desired tables changed by exactly `add` and `remove` (and group mods). When the
   * installed state is unknown (a reconcile is due), falls back to reconciling against `desired`.
   */
  delta(add: readonly FlowEntry[], remove: readonly FlowEntry[], groupMods: readonly GroupMod[], desired: DesiredSource): Promise<SyncResult> {
    return this.enqueue(async () => {
      if (!this.knownInstalled) {
        await this.readInstalled();
        return this.pushDifference([...desired.flows()], [...desired.groups()]);
      }
      this.counters.deltas++;
      const mods: FlowMod[] = [];
      for (const flow of add) mods.push({ command: 'add', flow });
      for (const flow of remove) mods.push({ command: 'deleteStrict', flow });
      await this.send(mods, groupMods);
      for (const f of remove) this.installed.delete(f);
      for (const f of add) this.installed.set(f);
      this.applyGroupMods(groupMods);
      return { added: add.length, modified: 0, removed: remove.length, groupMods: groupMods.length };
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
    this.knownInstalled = true;
  }

  private async pushDifference(flows: FlowEntry[], groups: GroupEntry[]): Promise<SyncResult> {
    const diff = diffFlows(this.installed.values(), flows);
    const groupMods = diffGroups(this.installedGroups.values(), groups);
    this.counters.syncs++;
    if (isEmptyDiff(diff) && groupMods.length === 0) return NO_CHANGE;
    await this.send(diffToFlowMods(diff), groupMods);
    for (const f of diff.remove) this.installed.delete(f);
    for (const f of diff.add) this.installed.set(f);
    for (const f of diff.modify) this.installed.set(f);
    this.applyGroupMods(groupMods);
    return { added: diff.add.length, modified: diff.modify.length, removed: diff.remove.length, groupMods: groupMods.length };
  }

  /**
   * Flow-mods and group-mods, groups a flow points at first and groups no flow needs last; then a
   * barrier. Long pushes go in chunks of PUSH_CHUNK_FLOW_MODS, a barrier after each.
   */
  private async send(mods: FlowMod[], groupMods: readonly GroupMod[]): Promise<void> {
    const groupAdds = groupMods.filter((m) => m.command !== 'delete');
    const groupDeletes = groupMods.filter((m) => m.command === 'delete');
    this.counters.groupModsSent += groupMods.length;
    if (groupAdds.length) this.connection.sendGroupMods(groupAdds);
    for (let at = 0; at < mods.length; at += PUSH_CHUNK_FLOW_MODS) {
      const chunk = mods.length <= PUSH_CHUNK_FLOW_MODS ? mods : mods.slice(at, at + PUSH_CHUNK_FLOW_MODS);
      this.connection.sendFlowMods(chunk);
      this.counters.flowModsSent += chunk.length;
      if (at + PUSH_CHUNK_FLOW_MODS < mods.length) await this.barrier();
    }
    if (groupDeletes.length) this.connection.sendGroupMods(groupDeletes);
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
}
