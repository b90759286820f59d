/**
 * The incremental engine: intent + topology in, per-switch flow tables out, kept current change by
 * change. It knows no owner kind: the nodes (./engine-node.ts) do. Every flow has exactly one owner;
 * a change marks dirty owners, and one run
 *   1. tells every node which VPCs the change touched (vpcTouched),
 *   2. re-places the dirty owners of the placement nodes, in registration order (placing, place),
 *   3. tells every node which VPCs' presence changed (presenceChanged),
 *   4. recompiles each dirty owner alone and compares its new flows with its old ones, switch by
 *      switch: the delta is exactly what changed.
 * A full compile is the same run with every owner dirty (and no hooks: they would only mark owners
 * already marked); a new topology (or a link up/down) marks every owner too, and the delta still holds
 * only what changed.
 */
import { FlowIndex, sameFlow, sameFlowBody, sameGroup, sameMeter, type FlowEntry, type GroupEntry, type GroupMod, type MeterEntry, type MeterMod } from '../../flow/index.js';
import { setLinkUp, type Intent, type Topology } from '../../model/index.js';
import type { SwitchTables } from '../compile-fabric.js';
import { OwnerFlows } from '../owner-flows.js';
import { OwnerRegistry, type OwnerKind, type OwnerName } from '../owner-registry.js';
import type { CompileState } from './compile-state.js';
import type { CompilerStats, IncrementalCompiler, IntentChange, TablesDelta } from './contract.js';
import { Dirty, type CompiledOwner, type EngineNode, type NodeName } from './engine-node.js';

/** An owner as its node compiled it, holding the flows the engine kept (old objects where unchanged). */
type OwnerRecord = CompiledOwner;

/** A SwitchDelta while the engine fills it. */
interface PendingDelta {
  add: FlowEntry[];
  remove: FlowEntry[];
  groupMods?: GroupMod[];
  meterMods?: MeterMod[];
}

/** Owner ids to walk: a node's dirty set, or (the full compile) every owner it has. */
interface OwnerIds {
  forEach(fn: (id: string) => void): void;
}

/** What the engine diffs by id per switch, besides flows: groups and meters. */
type IdCommand = 'add' | 'modify' | 'delete';

const EMPTY_FLOWS = new OwnerFlows();
const NO_FLOWS: FlowEntry[] = [];

export class Engine implements IncrementalCompiler {
  private readonly byName = new Map<NodeName, EngineNode>();
  /** Each node's owners with flows, by owner id (parallel to `nodes`). */
  private readonly owners: Map<string, OwnerRecord>[];
  private readonly vpcReaders: EngineNode[];
  private readonly placingReaders: EngineNode[];
  private readonly presenceReaders: EngineNode[];
  /**
   * Flows per switch, by dpid. The tables themselves are not kept: the owners' flows are the one
   * truth, and tables()/table() gather them.
   */
  private readonly flowCounts = new Map<number, number>();
  private readonly groupTables = new Map<number, Map<number, GroupEntry>>();
  private readonly meterTables = new Map<number, Map<number, MeterEntry>>();
  /** Names by cookie, built when first asked after a change (a full compile registers nothing). */
  private registry: OwnerRegistry | undefined;
  private delta: Map<number, PendingDelta> | undefined;

  constructor(
    private readonly state: CompileState,
    private readonly nodes: readonly EngineNode[],
  ) {
    for (const node of nodes) this.byName.set(node.name, node);
    this.owners = nodes.map(() => new Map());
    this.vpcReaders = nodes.filter((n) => n.vpcTouched);
    this.placingReaders = nodes.filter((n) => n.placing);
    this.presenceReaders = nodes.filter((n) => n.presenceChanged);
    this.countSwitches();
    // The full compile: every owner of every node, each once, in arrays (no dirty sets to build), and
    // no hooks (they would only mark owners already there).
    const every = nodes.map((node) => Array.from(node.ids()));
    this.run(new Dirty(), (i) => every[i], false);
  }

  apply(change: IntentChange): TablesDelta {
    const delta = new Map<number, PendingDelta>();
    this.delta = delta;
    try {
      const dirty = new Dirty();
      if (change.kind === 'link' || change.kind === 'topology') {
        const next = change.kind === 'link' ? setLinkUp(this.state.topology, change.link, change.op === 'up') : change.topology;
        if (next !== this.state.topology) {
          this.markEveryOwner(dirty);
          this.state.setTopology(next);
          this.countSwitches();
          this.markEveryOwner(dirty);
          this.run(dirty, (i) => dirty.of(this.nodes[i].name), true);
        }
      } else {
        this.byName.get(change.kind)?.change?.(change, dirty);
        this.run(dirty, (i) => dirty.of(this.nodes[i].name), true);
      }
    } finally {
      this.delta = undefined;
    }
    // An add replaces a flow with the same identity: a remove of that identity would undo it.
    for (const [dpid, d] of delta) {
      if (d.add.length > 0 && d.remove.length > 0) {
        const added = new FlowIndex(d.add);
        d.remove = d.remove.filter((f) => !added.has(f));
      }
      if (d.add.length === 0 && d.remove.length === 0 && (d.groupMods?.length ?? 0) === 0 && (d.meterMods?.length ?? 0) === 0) delta.delete(dpid);
    }
    return delta;
  }

  /** Every owner with flows, every placed owner, and every owner the nodes know now. */
  private markEveryOwner(dirty: Dirty): void {
    this.nodes.forEach((node, i) => {
      dirty.markEvery(node.name, this.owners[i].keys());
      if (node.place) dirty.markEvery(node.name, this.state.presence.placements(node.name).keys());
      dirty.markEvery(node.name, node.ids());
    });
  }

  private countSwitches(): void {
    for (const sw of this.state.topology.switches) if (!this.flowCounts.has(sw.dpid)) this.flowCounts.set(sw.dpid, 0);
  }

  /**
   * One run over the owners `idsOf` gives per node (by its index): the dirty ones (a live set: owners
   * marked while it is walked are walked too). `hooks`: whether the placing and presence hooks mark
   * owners (not in the full compile, where every owner is walked anyway).
   */
  private run(dirty: Dirty, idsOf: (node: number) => OwnerIds | undefined, hooks: boolean): void {
    this.state.beginRun();
    try {
      this.runNodes(dirty, idsOf, hooks);
    } finally {
      this.state.endRun();
    }
  }

  private runNodes(dirty: Dirty, idsOf: (node: number) => OwnerIds | undefined, hooks: boolean): void {
    for (const vpcId of dirty.vpcs) for (const node of this.vpcReaders) node.vpcTouched?.(vpcId, dirty);
    const presence = this.state.presence;
    const moved = new Set<string>();
    for (let i = 0; i < this.nodes.length; i++) {
      const node = this.nodes[i];
      const ids = node.place ? idsOf(i) : undefined;
      if (!ids) continue;
      const placed = presence.placements(node.name);
      const readers = hooks ? this.placingReaders : [];
      ids.forEach((id) => {
        const before = placed.get(id);
        for (let r = 0; r < readers.length; r++) readers[r].placing?.(node.name, id, before, dirty);
        presence.move(placed, id, before, node.place?.(id, before), moved);
      });
    }
    const presenceReaders = hooks ? this.presenceReaders : [];
    for (const vpcId of moved) {
      presence.invalidate(vpcId);
      for (const node of presenceReaders) node.presenceChanged?.(vpcId, dirty);
    }
    for (let i = 0; i < this.nodes.length; i++) {
      const node = this.nodes[i];
      const ids = idsOf(i);
      const owners = this.owners[i];
      // forEach, not for-of: no iterator result per owner (a full compile walks a quarter of a million).
      if (ids) ids.forEach((id) => this.replaceOwner(owners, id, node.compile(id)));
    }
  }

  /** Installs an owner's fresh flows in place of its old ones (in `owners`, under `id`), recording the delta. */
  private replaceOwner(owners: Map<string, OwnerRecord>, id: string, fresh: CompiledOwner | undefined): void {
    const old = owners.get(id);
    const oldFlows = old?.flows ?? EMPTY_FLOWS;
    const newFlows = fresh?.flows ?? EMPTY_FLOWS;
    let kept: OwnerFlows;
    if (!old) {
      // A new owner (every owner of a full compile): its flows go in as they are.
      kept = newFlows;
      for (let i = 0; i < newFlows.size; i++) this.diffSwitch(newFlows.dpidAt(i), undefined, newFlows.listAt(i));
    } else {
      kept = new OwnerFlows();
      for (let i = 0; i < newFlows.size; i++) {
        const dpid = newFlows.dpidAt(i);
        kept.set(dpid, this.diffSwitch(dpid, oldFlows.get(dpid), newFlows.listAt(i)));
      }
    }
    for (let i = 0; i < oldFlows.size; i++) if (!newFlows.has(oldFlows.dpidAt(i))) this.diffSwitch(oldFlows.dpidAt(i), oldFlows.listAt(i), []);
    if (old?.groups || fresh?.groups) {
      this.diffById(old?.groups, fresh?.groups, this.groupTables, (g) => g.groupId, sameGroup, (d, command, group) => (d.groupMods ??= []).push({ command, group }));
    }
    if (old?.meters || fresh?.meters) {
      this.diffById(old?.meters, fresh?.meters, this.meterTables, (m) => m.meterId, sameMeter, (d, command, meter) => (d.meterMods ??= []).push({ command, meter }));
    }
    this.registry = undefined;
    if (fresh && kept.size > 0) {
      fresh.flows = kept;
      owners.set(id, fresh);
    } else {
      owners.delete(id);
    }
  }

  /**
   * Replaces an owner's flows on one switch and records the difference. Returns the list to keep: old
   * objects where nothing changed (stable identity for the controller), new ones elsewhere.
   */
  private diffSwitch(dpid: number, before: FlowEntry[] | undefined, after: FlowEntry[]): FlowEntry[] {
    const old = before ?? NO_FLOWS;
    if (old.length === after.length && old.every((f, i) => sameFlow(f, after[i]))) return old;
    this.flowCounts.set(dpid, (this.flowCounts.get(dpid) ?? 0) + after.length - old.length);
    const d = this.deltaFor(dpid);
    if (old.length === 0) {
      if (d) for (const f of after) d.add.push(f);
      return after;
    }
    const oldByKey = new FlowIndex(old);
    const kept: FlowEntry[] = [];
    for (const f of after) {
      const prev = oldByKey.get(f);
      if (prev && sameFlowBody(prev, f)) {
        kept.push(prev);
        oldByKey.delete(f);
      } else {
        kept.push(f);
        d?.add.push(f);
      }
    }
    if (d) for (const f of oldByKey.values()) d.remove.push(f);
    return kept;
  }

  /**
   * Replaces an owner's groups or meters on every switch (in `tables`, by id) and records a mod for
   * each difference while a change is applied (a full compile needs none).
   */
  private diffById<T>(
    before: Map<number, T[]> | undefined,
    after: Map<number, T[]> | undefined,
    tables: Map<number, Map<number, T>>,
    idOf: (x: T) => number,
    same: (a: T, b: T) => boolean,
    record: (d: PendingDelta, command: IdCommand, x: T) => void,
  ): void {
    const on = (dpid: number, old: readonly T[] | undefined, fresh: readonly T[]) => this.diffByIdOn(dpid, old, fresh, tables, idOf, same, record);
    if (after) for (const [dpid, fresh] of after) on(dpid, before?.get(dpid), fresh);
    if (before) for (const [dpid, old] of before) if (!after?.has(dpid)) on(dpid, old, []);
  }

  /** One switch's part of diffById; a new owner's entries go in without a map of the old ones. */
  private diffByIdOn<T>(
    dpid: number,
    before: readonly T[] | undefined,
    fresh: readonly T[],
    tables: Map<number, Map<number, T>>,
    idOf: (x: T) => number,
    same: (a: T, b: T) => boolean,
    record: (d: PendingDelta, command: IdCommand, x: T) => void,
  ): void {
    let table = tables.get(dpid);
    if (!table) tables.set(dpid, (table = new Map()));
    const recording = this.delta !== undefined;
    const mods: [IdCommand, T][] = [];
    if (!before || before.length === 0) {
      for (const x of fresh) {
        table.set(idOf(x), x);
        if (recording) mods.push(['add', x]);
      }
    } else {
      const old = new Map(before.map((x) => [idOf(x), x]));
      for (const x of fresh) {
        const id = idOf(x);
        const prev = old.get(id);
        old.delete(id);
        if (prev && same(prev, x)) continue;
        table.set(id, x);
        if (recording) mods.push([prev ? 'modify' : 'add', x]);
      }
      for (const [id, x] of old) {
        table.delete(id);
        if (recording) mods.push(['delete', x]);
      }
    }
    if (table.size === 0) tables.delete(dpid);
    const d = mods.length > 0 ? this.deltaFor(dpid) : undefined;
    if (d) for (const [command, x] of mods) record(d, command, x);
  }

  private deltaFor(dpid: number): PendingDelta | undefined {
    if (!this.delta) return undefined;
    let d = this.delta.get(dpid);
    if (!d) this.delta.set(dpid, (d = { add: [], remove: [] }));
    return d;
  }

  tables(): SwitchTables {
    // Pre-sized from the counts: growing 100,000-flow arrays push by push costs more than the walk.
    const out: SwitchTables = new Map();
    const slots = new Map<number, { flows: FlowEntry[]; n: number }>();
    for (const sw of this.state.topology.switches) {
      const flows = new Array<FlowEntry>(this.flowCounts.get(sw.dpid) ?? 0);
      out.set(sw.dpid, flows);
      slots.set(sw.dpid, { flows, n: 0 });
    }
    const gather = (flows: FlowEntry[], dpid: number): void => {
      const slot = slots.get(dpid);
      if (!slot) return;
      const into = slot.flows;
      let n = slot.n;
      for (let i = 0; i < flows.length; i++) into[n++] = flows[i];
      slot.n = n;
    };
    for (const owners of this.owners) for (const owner of owners.values()) owner.flows.forEach(gather);
    return out;
  }

  table(dpid: number): FlowEntry[] {
    const out: FlowEntry[] = [];
    for (const owners of this.owners) {
      for (const owner of owners.values()) {
        const flows = owner.flows.get(dpid);
        if (flows) for (const f of flows) out.push(f);
      }
    }
    return out;
  }

  groups(): Map<number, GroupEntry[]> {
    const out = new Map<number, GroupEntry[]>();
    for (const [dpid, t] of this.groupTables) out.set(dpid, [...t.values()]);
    return out;
  }

  meters(): Map<number, MeterEntry[]> {
    const out = new Map<number, MeterEntry[]>();
    for (const [dpid, t] of this.meterTables) out.set(dpid, [...t.values()]);
    return out;
  }

  topology(): Topology {
    return this.state.topology;
  }

  intent(): Intent {
    return this.state.currentIntent();
  }

  describeCookie(cookie: number): OwnerName | undefined {
    if (!this.registry) {
      const registry = new OwnerRegistry();
      this.owners.forEach((owners, i) => {
        const kind = this.nodes[i].name as OwnerKind;
        owners.forEach((o, id) => {
          registry.set(o.cookie, o.name ?? { kind, name: id });
          if (o.also) for (const x of o.also) registry.set(x.cookie, x.name);
        });
      });
      this.registry = registry;
    }
    return this.registry.describe(cookie);
  }

  stats(): CompilerStats {
    const flowsPerSwitch = new Map<number, number>();
    let flows = 0;
    for (const [dpid, n] of this.flowCounts) {
      flowsPerSwitch.set(dpid, n);
      flows += n;
    }
    let owners = 0;
    for (const table of this.owners) owners += table.size;
    return { owners, flows, flowsPerSwitch };
  }
}
