/** The group table: add/modify/delete with OpenFlow 1.3's checks (add of an existing id, modify of a missing one). */
import { OvercastError, type ProblemDetail } from '../errors/index.js';
import { checkActions, type GroupEntry, type GroupMod } from '../flow/index.js';

export class GroupTable {
  private readonly groups = new Map<number, GroupEntry>();

  get size(): number {
    return this.groups.size;
  }

  get(groupId: number): GroupEntry | undefined {
    return this.groups.get(groupId);
  }

  entries(): IterableIterator<GroupEntry> {
    return this.groups.values();
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

  apply(mod: GroupMod): void {
    const problems = this.check(mod);
    if (problems.length > 0) throw OvercastError.fromProblems(problems);
    this.applyChecked(mod);
  }

  applyChecked(mod: GroupMod): void {
    if (mod.command === 'delete') this.groups.delete(mod.group.groupId);
    else this.groups.set(mod.group.groupId, mod.group);
  }
}
