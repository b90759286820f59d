/**
 * Bundles (OpenFlow 1.4 style, as Open vSwitch offers on 1.3): open, add flow-mods and group-mods,
 * commit. A commit checks every staged mod first and applies them all or none; applying is
 * synchronous, so no packet ever sees half a bundle.
 */
import { OvercastError, type ProblemDetail } from '../errors/index.js';
import type { BundleMod } from '../protocol/index.js';
import type { FlowTables } from './flow-tables.js';
import type { GroupTable } from './groups.js';
import type { MeterTable } from './meters.js';

/** A bundle left open without commit or discard is dropped when the channel closes. */
export const MAX_OPEN_BUNDLES = 64;
export const MAX_BUNDLE_MODS = 1_000_000;

export class Bundles {
  private readonly open = new Map<number, BundleMod[]>();

  constructor(
    private readonly tables: FlowTables,
    private readonly groups: GroupTable,
    /** The meters a staged flow-mod may name (meter-mods themselves are not bundled). */
    private readonly meters?: MeterTable,
  ) {}

  openBundle(id: number): void {
    if (this.open.has(id)) throw new OvercastError('OVC_ERR_SWITCH_BAD_BUNDLE', `bundle ${id} is already open`, 'bundleId');
    if (this.open.size >= MAX_OPEN_BUNDLES) throw new OvercastError('OVC_ERR_SWITCH_BAD_BUNDLE', `too many open bundles`, 'bundleId');
    this.open.set(id, []);
  }

  add(id: number, mod: BundleMod): void {
    const mods = this.open.get(id);
    if (!mods) throw new OvercastError('OVC_ERR_SWITCH_BAD_BUNDLE', `no open bundle ${id}`, 'bundleId');
    if (mods.length >= MAX_BUNDLE_MODS) throw new OvercastError('OVC_ERR_SWITCH_BAD_BUNDLE', `bundle ${id} is full`, 'bundleId');
    mods.push(mod);
  }

  close(id: number): void {
    if (!this.open.has(id)) throw new OvercastError('OVC_ERR_SWITCH_BAD_BUNDLE', `no open bundle ${id}`, 'bundleId');
  }

  discard(id: number): void {
    if (!this.open.delete(id)) throw new OvercastError('OVC_ERR_SWITCH_BAD_BUNDLE', `no open bundle ${id}`, 'bundleId');
  }

  /** Check every mod, then apply them all; on any problem nothing changes and the bundle is gone. */
  commit(id: number): { groupsDeleted: number[] } {
    const mods = this.open.get(id);
    if (!mods) throw new OvercastError('OVC_ERR_SWITCH_BAD_BUNDLE', `no open bundle ${id}`, 'bundleId');
    this.open.delete(id);
    const problems: ProblemDetail[] = [];
    // Group adds and deletes earlier in the bundle count for the checks of later ones.
    const present = new Map<number, boolean>();
    const exists = (gid: number) => present.get(gid) ?? this.groups.get(gid) !== undefined;
    mods.forEach((m, i) => {
      if (m.type === 'flowMod') {
        const path = `bundle[${i}].flowMod`;
        problems.push(...this.tables.check(m.flowMod, path), ...this.groups.checkFlowMod(m.flowMod, path, exists), ...(this.meters?.checkFlowMod(m.flowMod, path) ?? []));
      } else {
        problems.push(...this.groups.check(m.groupMod, `bundle[${i}].groupMod`, exists));
        present.set(m.groupMod.group.groupId, m.groupMod.command !== 'delete');
      }
    });
    if (problems.length > 0) throw OvercastError.fromProblems(problems);
    const groupsDeleted: number[] = [];
    for (const m of mods) {
      if (m.type === 'flowMod') this.tables.applyChecked(m.flowMod);
      else {
        this.groups.applyChecked(m.groupMod);
        if (m.groupMod.command === 'delete') groupsDeleted.push(m.groupMod.group.groupId);
      }
    }
    return { groupsDeleted };
  }

  clear(): void {
    this.open.clear();
  }
}
