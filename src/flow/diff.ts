/**
 * The difference between a switch's installed and desired tables, as the flow-mods that turn one into
 * the other. The controller keeps both per switch and sends only this (OVN ofctrl style).
 */
import { sameFlowBody, sameGroup, type FlowEntry, type GroupEntry } from './flow-entry.js';
import { FlowIndex } from './flow-index.js';
import type { FlowMod, GroupMod } from './flow-mod.js';

export interface FlowDiff {
  add: FlowEntry[];
  modify: FlowEntry[];
  remove: FlowEntry[];
}

export function diffFlows(installed: Iterable<FlowEntry>, desired: Iterable<FlowEntry>): FlowDiff {
  // What is left of `have` once every desired flow took its counterpart out is what goes.
  const have = new FlowIndex(installed);
  const diff: FlowDiff = { add: [], modify: [], remove: [] };
  for (const f of desired) {
    const old = have.delete(f);
    if (!old) diff.add.push(f);
    else if (old !== f && !sameFlowBody(old, f)) diff.modify.push(f);
  }
  for (const f of have.values()) diff.remove.push(f);
  return diff;
}

export function isEmptyDiff(d: FlowDiff): boolean {
  return d.add.length === 0 && d.modify.length === 0 && d.remove.length === 0;
}

/**
 * Order matters for make-before-break: new flows first, then changed ones, then removals, so no packet
 * meets a half-installed state that drops it. Adds replace any existing flow with the same identity.
 */
export function diffToFlowMods(d: FlowDiff): FlowMod[] {
  return [
    ...d.add.map((flow): FlowMod => ({ command: 'add', flow })),
    ...d.modify.map((flow): FlowMod => ({ command: 'add', flow })),
    ...d.remove.map((flow): FlowMod => ({ command: 'deleteStrict', flow })),
  ];
}

export function diffGroups(installed: Iterable<GroupEntry>, desired: Iterable<GroupEntry>): GroupMod[] {
  const have = new Map<number, GroupEntry>();
  for (const g of installed) have.set(g.groupId, g);
  const mods: GroupMod[] = [];
  const seen = new Set<number>();
  for (const g of desired) {
    seen.add(g.groupId);
    const old = have.get(g.groupId);
    if (!old) mods.push({ command: 'add', group: g });
    else if (!sameGroup(old, g)) mods.push({ command: 'modify', group: g });
  }
  for (const [id, g] of have) if (!seen.has(id)) mods.push({ command: 'delete', group: g });
  return mods;
}
