/**
 * A VPC's label group on one switch towards another, along the fabric's paths: the group a delivery
 * to an endpoint on another switch ends in (deliver.ts).
 */
import type { FabricContext } from '../fabric-context.js';
import { vniGroupId } from '../vpc-encoding.js';

/** The label group of VNI `vni` on switch `from` towards switch `to` (undefined when unreachable or to === from). */
export function labelGroupTowards(fabric: FabricContext, vni: number, from: number, to: number): number | undefined {
  const toName = fabric.switchNameOf.get(to);
  const fromName = fabric.switchNameOf.get(from);
  if (toName === undefined || fromName === undefined) return undefined;
  const port = fabric.nextHopsTo(toName).get(fromName)?.outPort;
  const slot = port === undefined ? undefined : fabric.linkPortSlots.get(from)?.get(port);
  return slot === undefined ? undefined : vniGroupId(vni, slot);
}
