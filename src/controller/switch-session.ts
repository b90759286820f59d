/**
 * One attached switch: its connection, the flows we believe are installed, and the reconcile step that
 * makes them equal to the desired ones. The controller never re-adds what is already there: after a
 * (re)connect it reads the switch's flows and pushes only the difference (OVN ofctrl style), followed by
 * a barrier so "synced" means "the switch has applied it".
 */
import {
  diffFlows,
  diffGroups,
  diffToFlowMods,
  flowKey,
  isEmptyDiff,
  type FlowEntry,
  type FlowMod,
  type GroupEntry,
} from '../flow/index.js';
import type { SwitchConnection } from './switch-connection.js';

export interface SyncResult {
  added: number;
  modified: number;
  removed: number;
  groupMods: number;
}

export interface SessionCounters {
  flowModsSent: number;
  groupModsSent: number;
  barriers: number;
  packetIns: number;
  syncs: number;
}

export class SwitchSession {
  readonly dpid: number;
  readonly connectedAtMs: number;
  readonly counters: SessionCounters = { flowModsSent: 0, groupModsSent: 0, barriers: 0, packetIns: 0, syncs: 0 };
  private installed = new Map<string, FlowEntry>();
  private installedGroups = new Map<number, GroupEntry>();
  private knownInstalled = false;
  /** Serialises syncs: one diff-push-barrier round at a time, the latest desired state wins. */
  private syncing: Promise<SyncResult> | undefined;
  private pending: { flows: FlowEntry[]; groups: GroupEntry[] } | undefined;

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
   * Make the switch's tables equal `flows` and `groups`. The first sync after a connect reads the
   * switch's flows (reconcile); later ones diff against what we pushed. Resolves after the barrier.
   */
  sync(flows: FlowEntry[], groups: GroupEntry[] = []): Promise<SyncResult> {
    this.pending = { flows, groups };
    if (!this.syncing) {
      this.syncing = this.drain().finally(() => {
        this.syncing = undefined;
      });
    }
    return this.syncing;
  }

  private async drain(): Promise<SyncResult> {
    const total: SyncResult = { added: 0, modified: 0, removed: 0, groupMods: 0 };
    while (this.pending) {
      const { flows, groups } = this.pending;
      this.pending = undefined;
      if (!this.knownInstalled) await this.readInstalled();
      const r = await this.pushDifference(flows, groups);
      total.added += r.added;
      total.modified += r.modified;
      total.removed += r.removed;
      total.groupMods += r.groupMods;
    }
    return total;
  }

  private async readInstalled(): Promise<void> {
    const stats = await this.connection.flowStats();
    this.installed = new Map(stats.map((s) => [flowKey(s.flow), s.flow]));
    if (this.connection.groupStats) {
      const groups = await this.connection.groupStats();
      this.installedGroups = new Map(groups.map((g) => [g.groupId, g]));
    }
    this.knownInstalled = true;
  }

  private async pushDifference(flows: FlowEntry[], groups: GroupEntry[]): Promise<SyncResult> {
    const diff = diffFlows(this.installed.values(), flows);
    const groupMods = diffGroups(this.installedGroups.values(), groups);
    this.counters.syncs++;
    if (isEmptyDiff(diff) && groupMods.length === 0) return { added: 0, modified: 0, removed: 0, groupMods: 0 };
    // Groups a flow points at must exist before the flow arrives, and go only after it left.
    const groupAdds = groupMods.filter((m) => m.command !== 'delete');
    const groupDeletes = groupMods.filter((m) => m.command === 'delete');
    const mods: FlowMod[] = diffToFlowMods(diff);
    if (groupAdds.length) this.connection.sendGroupMods(groupAdds);
    this.connection.sendFlowMods(mods);
    if (groupDeletes.length) this.connection.sendGroupMods(groupDeletes);
    this.counters.flowModsSent += mods.length;
    this.counters.groupModsSent += groupMods.length;
    this.counters.barriers++;
    try {
      await this.connection.barrier();
    } catch (e) {
      // We no longer know what the switch holds: read it again on the next sync.
      this.knownInstalled = false;
      throw e;
    }
    for (const f of diff.remove) this.installed.delete(flowKey(f));
    for (const f of [...diff.add, ...diff.modify]) this.installed.set(flowKey(f), f);
    for (const m of groupMods) {
      if (m.command === 'delete') this.installedGroups.delete(m.group.groupId);
      else this.installedGroups.set(m.group.groupId, m.group);
    }
    return { added: diff.add.length, modified: diff.modify.length, removed: diff.remove.length, groupMods: groupMods.length };
  }
}
