/**
 * The gateways' owners: one per gateway of the topology (its uplink's own flows, compile-elastic-ip.ts).
 * They read the topology alone, and a new topology recompiles every owner.
 */
import { compileGatewayFlows } from '../compile-elastic-ip.js';
import { gatewayCookie } from '../cookies.js';
import type { CompileState } from './compile-state.js';
import type { EngineNode } from './engine-node.js';

export function gatewayNode(state: CompileState): EngineNode {
  return {
    name: 'gateway',
    ids: () => state.gateways.map((g) => g.name),
    compile(name) {
      const g = state.gateways.find((x) => x.name === name);
      if (!g) return undefined;
      const cookie = gatewayCookie(name);
      return { flows: compileGatewayFlows(g, cookie), cookie, name: { kind: 'gateway', name } };
    },
  };
}
