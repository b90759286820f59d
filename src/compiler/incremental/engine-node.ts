/**
 * An engine node (OVN's inc-proc-eng in spirit): one kind of flow owner, with what it reads. The node
 * compiles one owner at a time from the shared state (./compile-state.ts); its hooks tell the engine
 * which owners a change touches. A hook only marks owners dirty; the engine re-places and recompiles
 * them afterwards, each once however often it was marked.
 */
import type { OwnerGroups } from '../compile-load-balancer.js';
import type { OwnerMeters } from '../compile-volume-qos.js';
import { OwnerFlows } from '../owner-flows.js';
import type { OwnerName } from '../owner-registry.js';
import type { IntentChange } from './contract.js';
import type { Placement } from './presence.js';

/** One node per owner kind; an intent change of kind K goes to node K. */
export type NodeName = 'underlay' | 'gateway' | 'tenantBlock' | 'mount' | 'mountReturn' | Exclude<IntentChange['kind'], 'link' | 'topology'>;

/** One owner's freshly compiled flows (and groups and meters), under its cookie. */
export interface CompiledOwner {
  flows: OwnerFlows;
  groups?: OwnerGroups;
  meters?: OwnerMeters;
  cookie: number;
  /**
   * The intent object the owner exists for. Absent: the object of the node's own kind named by the
   * owner's id (the node's name is its OwnerKind), so a quarter of a million owners carry no name object.
   */
  name?: OwnerName;
  /**
   * Other cookies its flows carry, each naming the intent object a flow exists for (an endpoint's
   * volume grants are one owner; each flow's cookie names the attachment that granted it).
   */
  also?: readonly { cookie: number; name: OwnerName }[];
}

export interface EngineNode {
  readonly name: NodeName;
  /**
   * Every owner the node has now: a full compile and a new topology recompile them all. Every owner a
   * hook may mark is among them: a full compile, which marks them all, runs no placing or presence hook.
   */
  ids(): Iterable<string>;
  /**
   * A change of the node's own intent: updates the working copy and marks what it touches (its owner,
   * rivals whose claims it may win or lose, owners of other nodes that read it).
   */
  change?(change: IntentChange, dirty: Dirty): void;
  /** A VPC's object or activity may have changed (`dirty.touchVpc`): marks this node's owners that read it. */
  vpcTouched?(vpcId: string, dirty: Dirty): void;
  /**
   * Placement nodes only: where an owner makes its VPC present (undefined: nowhere), from the current
   * state; `before` is where it is placed until now (returned as is when unchanged, it costs nothing).
   */
  place?(id: string, before: Placement | undefined): Placement | undefined;
  /**
   * An owner of a placement node is about to be re-placed (`before`: its placement until now): marks
   * this node's owners that read it. Placement nodes are re-placed in registration order, so a
   * placement node that reads another is registered after it (its marks would otherwise come too late
   * to re-place, only to recompile).
   */
  placing?(node: NodeName, id: string, before: Placement | undefined, dirty: Dirty): void;
  /** The switches where a VPC is present changed: marks this node's owners that read them. */
  presenceChanged?(vpcId: string, dirty: Dirty): void;
  /** One owner's flows from the current state, or undefined when it has none. */
  compile(id: string): CompiledOwner | undefined;
}

/**
 * Applies an add/update (`target` is the new object) or a delete (`target` is its id) to a working
 * copy; returns the object's id and what was stored before and after.
 */
export function applyObjectChange<T extends { id: string }>(
  target: T | string,
  stored: ReadonlyMap<string, T>,
  put: (x: T) => unknown,
  remove: (id: string) => unknown,
): { id: string; old: T | undefined; now: T | undefined } {
  const id = typeof target === 'string' ? target : target.id;
  const old = stored.get(id);
  if (typeof target === 'string') remove(target);
  else put(target);
  return { id, old, now: stored.get(id) };
}

/** The owners one change touches, per node, and the VPCs it touched. */
export class Dirty {
  private readonly owners = new Map<NodeName, Set<string>>();
  /** VPCs whose object or activity may have changed: every node's vpcTouched hears them. */
  readonly vpcs = new Set<string>();

  mark(node: NodeName, id: string): void {
    this.setOf(node).add(id);
  }

  /** Marks a set of owners (a set, not any iterable: one loop shape keeps this hot path fast). */
  markAll(node: NodeName, ids: ReadonlySet<string> | undefined): void {
    if (!ids || ids.size === 0) return;
    const set = this.setOf(node);
    ids.forEach((id) => set.add(id));
  }

  /** Marks every owner an iterable names (a full compile, a new topology). */
  markEvery(node: NodeName, ids: Iterable<string>): void {
    const set = this.owners.get(node);
    if (!set) this.owners.set(node, new Set(ids));
    else for (const id of ids) set.add(id);
  }

  touchVpc(vpcId: string): void {
    this.vpcs.add(vpcId);
  }

  /** The node's dirty owners, if any (a live set: owners marked while it is walked are walked too). */
  of(node: NodeName): ReadonlySet<string> | undefined {
    return this.owners.get(node);
  }

  private setOf(node: NodeName): Set<string> {
    let set = this.owners.get(node);
    if (!set) this.owners.set(node, (set = new Set()));
    return set;
  }
}
