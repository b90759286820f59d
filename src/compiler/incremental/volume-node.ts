/**
 * Volumes' owners: one per volume with an active target (the drops guarding the targets it owns on
 * every switch where their VPC is present, replication between its targets; compile-volume.ts).
 * Reads: itself, who owns each target's drop and each pair (volume-state.ts), its targets (address,
 * switch, activity), their VPCs (VNI, activity, presence). A volume's change also reaches the grants
 * of the endpoints attached to it (they follow its targets and ports).
 */
import { compileVolumeFlows, type VolumeTarget } from '../compile-volume.js';
import { volumeCookie } from '../cookies.js';
import type { CompileState } from './compile-state.js';
import { applyObjectChange, type Dirty, type EngineNode } from './engine-node.js';
import { markMounts } from './mount-node.js';

export function volumeNode(state: CompileState): EngineNode {
  const s = state.intent;
  const vs = state.volumes;
  const active = state.presence.placements('endpoint');
  const markTargetsIn = (vpcId: string, dirty: Dirty) => {
    for (const e of s.endpointsByVpc.get(vpcId) ?? []) dirty.markAll('volume', vs.volumesOfTarget(e));
  };
  /** The grants and mount translations of the volume's attachments list its targets and ports. */
  const markAttachments = (volumeId: string, dirty: Dirty) =>
    vs.forEachAttachmentOf(volumeId, (a) => {
      dirty.mark('attachment', a.endpointId);
      markMounts(dirty, a.id);
    });
  return {
    name: 'volume',
    ids: () => vs.volumes.keys(),
    change(change, dirty) {
      if (change.kind !== 'volume') return;
      const target = change.op === 'delete' ? change.id : change.volume;
      // Volumes sharing a target or a pair with it may have won or lost its drop or replication flows.
      let owners: Set<string> | undefined;
      const { id, old, now } = applyObjectChange(target, vs.volumes, (x) => (owners = vs.putVolume(x)), (x) => (owners = vs.deleteVolume(x)));
      // Its targets' VPCs have label groups while it has targets (mount translations end there).
      for (const v of [old, now]) for (const t of v?.targets ?? []) {
        const vpcId = s.endpoints.get(t)?.vpcId;
        if (vpcId !== undefined) dirty.mark('vpc', vpcId);
      }
      dirty.mark('volume', id);
      if (owners) dirty.markAll('volume', owners);
      markAttachments(id, dirty);
    },
    // A target's VPC is its endpoint's: the volumes of the VPC's endpoints.
    vpcTouched: (vpcId, dirty) => markTargetsIn(vpcId, dirty),
    presenceChanged: (vpcId, dirty) => markTargetsIn(vpcId, dirty),
    placing(node, id, _before, dirty) {
      if (node !== 'endpoint') return;
      const volumes = vs.volumesOfTarget(id);
      if (volumes.size === 0) return;
      // Its volumes' drops, replication and attachments name its address and switch.
      dirty.markAll('volume', volumes);
      for (const v of volumes) markAttachments(v, dirty);
    },
    compile(id) {
      const v = vs.volumes.get(id);
      // Most volumes of an array have one target whose drop an older volume owns: nothing to compile.
      if (!v || (v.targets.length === 1 && !vs.ownsTarget(id, v.targets[0]))) return undefined;
      const targets: (VolumeTarget & { vpcId: string })[] = [];
      let owned = 0;
      for (let i = 0; i < v.targets.length; i++) {
        const t = v.targets[i];
        const e = s.endpoints.get(t);
        const vpc = e && active.has(t) ? s.activeVpc(e.vpcId) : undefined;
        if (!e || !vpc || v.targets.indexOf(t) !== i) continue;
        targets.push({ id: t, ip: e.ip, vni: vpc.vni, dpid: e.dpid, vpcId: e.vpcId });
        if (vs.ownsTarget(id, t)) owned++;
      }
      if (targets.length === 0 || (owned === 0 && targets.length === 1)) return undefined;
      const guarded = targets.filter((t) => vs.ownsTarget(id, t.id)).map((target) => ({ target, presentDpids: state.presence.present(target.vpcId).dpids }));
      const replicas: [VolumeTarget, VolumeTarget][] = [];
      for (const a of targets) {
        for (const b of targets) if (a !== b && a.vpcId === b.vpcId && vs.ownsPair(id, a.id, b.id)) replicas.push([a, b]);
      }
      const cookie = volumeCookie(id);
      return { flows: compileVolumeFlows({ guarded, replicas }, cookie), cookie, name: { kind: 'volume', name: id } };
    },
  };
}
