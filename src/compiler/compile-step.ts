/**
 * A compile step turns one kind of owner into flows. Steps never choose cookies: the driver stamps each
 * flow with its owner's cookie, so every flow is explained by construction and one owner's flows can
 * be recomputed alone. Later intent (VPCs, subnets, routers, elastic IPs) adds owner kinds and steps,
 * not rewrites of these.
 */
import type { FlowEntry } from '../flow/index.js';
import type { HostSpec, LinkSpec } from '../model/index.js';
import type { FabricContext } from './fabric-context.js';

/** A flow before the driver gives it its owner's cookie. */
export type FlowSpec = Omit<FlowEntry, 'cookie'>;

/** Adds a flow to a switch, by switch name. */
export type Emit = (switchName: string, flow: FlowSpec) => void;

export interface CompileStep {
  readonly name: string;
  fabric?(ctx: FabricContext, emit: Emit): void;
  link?(ctx: FabricContext, link: LinkSpec, emit: Emit): void;
  host?(ctx: FabricContext, host: HostSpec, emit: Emit): void;
}
