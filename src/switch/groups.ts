/**
 * The group table: add/modify/delete with OpenFlow 1.3's checks (add of an existing id, modify of a
 * missing one). A select group's Maglev table is built when the first packet selects from it, and
 * kept with the group's bucket list (flow/maglev.ts): a switch on which ten thousand load balancers
 * are present takes their groups in without building ten thousand tables of 65,537 slots (128 KiB
 * each) for groups no packet may ever use.
 */
import { OvercastError, type ProblemDetail } from '../errors/index.js';
import { checkActions, type FlowMod, type GroupEntry, type GroupMod } from '../flow/index.js';
import { MAGLEV_DEFAULT_SIZE, MAGLEV_MAX_SIZE, isPrime, selectTableFor, type MaglevTable } from '../flow/maglev.js';

export interface GroupTableOptions {
  /**
   * Slots in each select group's Maglev table: a prime (default 65537, 128 KiB per group). Smaller
   * primes save memory on switches with many load balancers but coarsen weights (one slot is 1/M of
   * traffic) and raise churn; keep M above ~100x the largest pool.
   */
  maglevSize?: number;
}

export class GroupTable {
  private readonly groups = new Map<number, GroupEntry>();
  readonly maglevSize: number;

  constructor(opts: GroupTableOptions = {}) {
    const size = opts.maglevSize ?? MAGLEV_DEFAULT_SIZE;
    if (!isPrime(size) || size > MAGLEV_MAX_SIZE) {
      throw new OvercastError('OVC_ERR_FLOW_BAD_MAGLEV', `Maglev table size ${size} is not a prime in 2..${MAGLEV_MAX_SIZE}`, 'maglevSize');
    }
    this.maglevSize = size;
  }

  get size(): number {
    return this.groups.size;
  }

  get(groupId: number): GroupEntry | undefined {
    return this.groups.get(groupId);
  }

  entries(): IterableIterator<GroupEntry> {
    return this.groups.values();
  }

  /** A select group's Maglev table (slot -> bucket index), or undefined for a missing or other group. */
  selectTable(groupId: number): MaglevTable | undefined {
    const g = this.groups.get(groupId);
    return g?.type === 'select' ? selectTableFor(g.buckets, this.maglevSize) : undefined;
  }

  /** Problems with a group-mod against the current table (or against `pending` ids in a bundle). */
  check(mod: GroupMod, path = 'groupMod', exists = (id: number) => this.groups.has(id)): ProblemDetail[] {
    const g = mod.group;
    const problems: ProblemDetail[] = [];
    const bad = (field: string, message: string) => problems.push({ code: 'OVC_ERR_SWITCH_BAD_GROUP', message, field: `${path}.${field}` });
    if (!Number.isInteger(g.groupId) || g.groupId < 0 || g.groupId > 0xffffff00) bad('group.groupId', `bad group id ${g.groupId}`);
    if (mod.command === 'add' && exists(g.groupId)) bad('group.groupId', `group ${g.groupId} exists`);
    if (mod.command === 'modify' && !exists(g.groupId)) bad('group.groupId', `no group ${g.groupId}`);
    if (mod.command !== 'delete') {
      if ((g.type === 'indirect') && g.buckets.length !== 1) bad('group.buckets', 'an indirect group has exactly one bucket');
      g.buckets.forEach((b, i) => {
        problems.push(...checkActions(b.actions, `${path}.group.buckets[${i}].actions`));
        if (b.weight !== undefined && (!Number.isInteger(b.weight) || b.weight < 0 || b.weight > 0xffff)) bad(`group.buckets[${i}].weight`, `bad weight ${b.weight}`);
      });
    }
    return problems;
  }

  /**
   * Problems with the groups a flow-mod's actions forward to: each must exist, as OpenFlow refuses
   * such a flow (OFPBAC_BAD_OUT_GROUP) instead of installing one that drops everything it matches.
   */
  checkFlowMod(mod: FlowMod, path = 'flowMod', exists = (id: number) => this.groups.has(id)): ProblemDetail[] {
    if (mod.command === 'delete' || mod.command === 'deleteStrict') return [];
    const problems: ProblemDetail[] = [];
    mod.flow.actions.forEach((a, i) => {
      if (a.type === 'group' && !exists(a.groupId)) {
        problems.push({ code: 'OVC_ERR_SWITCH_NO_GROUP', message: `no group ${a.groupId}`, field: `${path}.flow.actions[${i}].groupId` });
      }
    });
    return problems;
  }

  apply(mod: GroupMod): void {
    const problems = this.check(mod);
    if (problems.length > 0) throw OvercastError.fromProblems(problems);
    this.applyChecked(mod);
  }

  applyChecked(mod: GroupMod): void {
    if (mod.command === 'delete') {
      this.groups.delete(mod.group.groupId);
      return;
    }
    // The old group's table, if one was built, goes with its bucket list.
    this.groups.set(mod.group.groupId, mod.group);
  }
}
