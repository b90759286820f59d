/**
 * The underlay's owners: the fabric, each link, each topology host (compile-fabric.ts spells their
 * flows). They read the topology alone, and a new topology recompiles every owner.
 */
import { linkId, type Topology } from '../../model/index.js';
import { compileOwnerFlows, fabricOwners, ownerCookie, type Owner } from '../compile-fabric.js';
import { OwnerFlows } from '../owner-flows.js';
import type { OwnerName } from '../owner-registry.js';
import type { CompileState } from './compile-state.js';
import type { EngineNode } from './engine-node.js';

function ownerKey(owner: Owner): string {
  switch (owner.kind) {
    case 'fabric':
      return 'fabric';
    case 'link':
      return `l:${linkId(owner.link)}`;
    case 'host':
      return `h:${owner.host.name}`;
  }
}

function ownerName(owner: Owner): OwnerName {
  switch (owner.kind) {
    case 'fabric':
      return { kind: 'fabric', name: '' };
    case 'link':
      return { kind: 'link', name: linkId(owner.link) };
    case 'host':
      return { kind: 'host', name: owner.host.name };
  }
}

export function underlayNode(state: CompileState): EngineNode {
  let owners = new Map<string, Owner>();
  let ownersOf: Topology | undefined;
  /** The current topology's owners by key, rebuilt when the topology changes. */
  const current = (): Map<string, Owner> => {
    if (ownersOf !== state.topology) {
      owners = new Map(fabricOwners(state.topology).map((o) => [ownerKey(o), o]));
      ownersOf = state.topology;
    }
    return owners;
  };
  return {
    name: 'underlay',
    ids: () => current().keys(),
    compile(key) {
      const owner = current().get(key);
      if (!owner) return undefined;
      return { flows: OwnerFlows.from(compileOwnerFlows(state.fabric, owner)), cookie: ownerCookie(owner), name: ownerName(owner) };
    },
  };
}
