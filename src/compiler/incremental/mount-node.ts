/**
 * Attachments' mount translations (compile-mount.ts), two owners per attachment with mount addresses:
 * - `mount`: on its endpoint's switch (the mount address's ARP, the translation to the targets); it
 *   places the storage VPC there, so the storage VPC's label groups and paths reach the targets.
 * - `mountReturn`: on its targets' switches (the source address's ARP, the replies translated back);
 *   it places the endpoint's VPC there, for the way back.
 * Reads: the attachment, its volume (targets, ports, protocol), its endpoint and the targets (address,
 * MAC, port, switch, activity), both VPCs (VNI, activity). The attachment and volume nodes mark these
 * owners on their changes (markMounts); a re-placed endpoint marks the attachments it is the endpoint
 * or a target of.
 */
import { mountsPerTarget, type Attachment, type Volume, type VolumeQos } from '../../model/index.js';
import { compileMountFlows, compileMountReturnFlows, type MountEnd, type MountPlan } from '../compile-mount.js';
import { mountCookie, mountReturnCookie } from '../cookies.js';
import { compileQosMeters, qosMeterIds } from '../compile-volume-qos.js';
import type { CompileState } from './compile-state.js';
import type { Dirty, EngineNode } from './engine-node.js';
import { labelGroupTowards } from './label-groups.js';
import type { Placement } from './presence.js';

/** Marks both mount owners of an attachment. */
export function markMounts(dirty: Dirty, attachmentId: string): void {
  dirty.mark('mount', attachmentId);
  dirty.mark('mountReturn', attachmentId);
}

/** Marks the VPC owners of an attachment's endpoint and of its volume's targets (their label groups follow mounts). */
export function markMountVpcs(state: CompileState, a: Attachment, dirty: Dirty): void {
  const s = state.intent;
  const vpcs = new Set<string>();
  const e = s.endpoints.get(a.endpointId);
  if (e) vpcs.add(e.vpcId);
  for (const t of state.volumes.volumes.get(a.volumeId)?.targets ?? []) {
    const te = s.endpoints.get(t);
    if (te) vpcs.add(te.vpcId);
  }
  for (const v of vpcs) dirty.mark('vpc', v);
}

/** Marks the mount owners of every attachment an endpoint is the endpoint or a target of. */
function markEndpoint(state: CompileState, endpointId: string, dirty: Dirty): void {
  const vs = state.volumes;
  vs.attachmentsOfEndpoint(endpointId).forEach((id) => markMounts(dirty, id));
  for (const v of vs.volumesOfTarget(endpointId)) vs.forEachAttachmentOf(v, (a) => markMounts(dirty, a.id));
}

type AttachmentMountPlan = MountPlan & { clientVpc: string; storageVpc: string; qos?: VolumeQos };

/**
 * What both owners of an attachment compile from, or undefined when it has no live translation. Both
 * nodes place and compile from it and the attachment node asks whether it has mounts: one plan per
 * attachment and engine run.
 */
function planOf(state: CompileState, a: Attachment | undefined): AttachmentMountPlan | undefined {
  return a && state.runCache<AttachmentMountPlan>('mount-plan').get(a.id, a, (x) => computePlan(state, x));
}

function computePlan(state: CompileState, a: Attachment): AttachmentMountPlan | undefined {
  const s = state.intent;
  const active = state.presence.placements('endpoint');
  const v = state.volumes.volumes.get(a.volumeId);
  const e = s.endpoints.get(a.endpointId);
  if (!v || !e || !a.mounts || !a.source || !active.has(e.id)) return undefined;
  const clientVpc = s.activeVpc(e.vpcId);
  if (!clientVpc) return undefined;
  const targets = new Map<string, MountEnd>();
  let storageVpc: { id: string; vni: number } | undefined;
  for (const t of v.targets) {
    const te = s.endpoints.get(t);
    const vpc = te && active.has(t) && t !== e.id ? s.activeVpc(te.vpcId) : undefined;
    if (!te || !vpc || (storageVpc && storageVpc.id !== vpc.id)) continue;
    storageVpc = vpc;
    targets.set(t, { id: t, ip: te.ip, mac: te.mac, port: te.port, homeDpid: te.dpid });
  }
  if (!storageVpc) return undefined;
  const live = [...targets.values()];
  const mounts = mountsPerTarget(v.protocol)
    ? a.mounts.flatMap((m) => {
        const t = m.target === undefined ? undefined : targets.get(m.target);
        return t ? [{ ip: m.ip, targets: [t] }] : [];
      })
    : a.mounts.slice(0, 1).map((m) => ({ ip: m.ip, targets: healthy(v, live) }));
  const { fabric } = state;
  return {
    attachmentId: a.id,
    client: { id: e.id, ip: e.ip, mac: e.mac, port: e.port, homeDpid: e.dpid },
    clientVni: clientVpc.vni,
    storageVni: storageVpc.vni,
    ports: v.ports,
    source: a.source.ip,
    mounts,
    labelGroupTowards: (vni, from, to) => labelGroupTowards(fabric, vni, from, to),
    clientVpc: clientVpc.id,
    storageVpc: storageVpc.id,
    // The meters both owners name, when the volume's qos limits anything (the mount owner holds them).
    meterIds: qosMeterIds(v.qos, a.id),
    ...(v.qos ? { qos: v.qos } : {}),
  };
}

/** The replicas a single mount address spreads over: the live targets not marked unhealthy. */
function healthy(v: Volume, live: MountEnd[]): MountEnd[] {
  const out = v.unhealthy;
  return out === undefined || out.length === 0 ? live : live.filter((t) => !out.includes(t.id));
}

function placement(state: CompileState, vpcId: string, dpids: Iterable<number>): Placement | undefined {
  const homes = new Set<string>();
  for (const d of dpids) {
    const name = state.fabric.switchNameOf.get(d);
    if (name !== undefined) homes.add(name);
  }
  return homes.size === 0 ? undefined : { vpcId, homes: [...homes].sort() };
}

/** The hooks both nodes share: which owners a VPC or a re-placed endpoint touches. */
function mountHooks(state: CompileState): Pick<EngineNode, 'ids' | 'vpcTouched' | 'placing'> {
  const vs = state.volumes;
  return {
    ids: () => vs.attachments.keys(),
    vpcTouched(vpcId, dirty) {
      for (const e of state.intent.endpointsByVpc.get(vpcId) ?? []) markEndpoint(state, e, dirty);
    },
    placing(node, id, before, dirty) {
      if (node !== 'endpoint') return;
      markEndpoint(state, id, dirty);
      // A mount end arriving in or leaving a VPC may give it label groups or take them away.
      const vs = state.volumes;
      if (!vs.isAttachedEndpoint(id) && ![...vs.volumesOfTarget(id)].some((v) => vs.isAttached(v))) return;
      if (before) dirty.mark('vpc', before.vpcId);
      const vpcId = state.intent.endpoints.get(id)?.vpcId;
      if (vpcId !== undefined) dirty.mark('vpc', vpcId);
    },
  };
}

/**
 * Does the attachment's mount owner compile (a live translation with a mount address)? Then it owns the
 * attachment's qos meter, which the direct grants of the attachment node name too.
 */
export function mountOwnsMeter(state: CompileState, a: Attachment): boolean {
  const plan = planOf(state, a);
  return plan !== undefined && plan.mounts.length > 0;
}

export function mountNode(state: CompileState): EngineNode {
  return {
    name: 'mount',
    ...mountHooks(state),
    place(id) {
      const plan = planOf(state, state.volumes.attachments.get(id));
      return plan && plan.mounts.length > 0 ? placement(state, plan.storageVpc, [plan.client.homeDpid]) : undefined;
    },
    compile(id) {
      const plan = planOf(state, state.volumes.attachments.get(id));
      if (!plan || plan.mounts.length === 0) return undefined;
      const cookie = mountCookie(id);
      // The attachment's qos meters are this owner's: mount traffic both ways and the direct grants go through them.
      const meters = plan.meterIds.length > 0 ? { meters: new Map([[plan.client.homeDpid, compileQosMeters(plan.qos, plan.meterIds, cookie)]]) } : {};
      return { ...compileMountFlows(plan, cookie), ...meters, cookie, name: { kind: 'attachment', name: id } };
    },
  };
}

export function mountReturnNode(state: CompileState): EngineNode {
  return {
    name: 'mountReturn',
    ...mountHooks(state),
    place(id) {
      const plan = planOf(state, state.volumes.attachments.get(id));
      return plan ? placement(state, plan.clientVpc, plan.mounts.flatMap((m) => m.targets.map((t) => t.homeDpid))) : undefined;
    },
    compile(id) {
      const plan = planOf(state, state.volumes.attachments.get(id));
      if (!plan) return undefined;
      const cookie = mountReturnCookie(id);
      return { flows: compileMountReturnFlows(plan, cookie), cookie, name: { kind: 'attachment', name: id } };
    },
  };
}
