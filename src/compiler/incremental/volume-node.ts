/**
 * Volumes' owners: one per volume with an active target (the drops guarding the targets it owns on
 * every switch where their VPC is present, replication between its targets; compile-volume.ts).
 * Reads: itself, the volumes sharing a target (who owns a drop or a pair), its targets (address,
 * switch, activity), their VPCs (VNI, activity, presence). A volume's change also reaches the
 * attachments of the endpoints attached to it (their grants follow its targets and ports).
 */
import { compileVolumeFlows, type VolumeTarget } from '../compile-volume.js';
import { volumeCookie } from '../cookies.js';
import type { Volume } from '../../model/index.js';
import type { CompileState } from './compile-state.js';
import { applyObjectChange, type Dirty, type EngineNode } from './engine-node.js';
import { VpcMembers } from './vpc-members.js';

export function volumeNode(state: CompileState): EngineNode {
  const s = state.intent;
  const vs = state.volumes;
  const active = state.presence.placements('endpoint');
  const members = new VpcMembers();
  /** Volumes sharing a target with `v` may win or lose a drop or a replication pair. */
  const markSharing = (v: Volume | undefined, dirty: Dirty) => {
    for (const t of v?.targets ?? []) dirty.markAll('volume', vs.volumesOfTarget(t));
  };
  /** The attachments of the volume's endpoints: their grants list its targets and ports. */
  const markAttachments = (volumeId: string, dirty: Dirty) => {
    for (const a of vs.attachmentsOfVolume(volumeId)) {
      const x = vs.attachments.get(a);
      if (x) dirty.markAll('attachment', vs.attachmentsOfEndpoint(x.endpointId));
    }
  };
  return {
    name: 'volume',
    ids: () => vs.volumes.keys(),
    change(change, dirty) {
      if (change.kind !== 'volume') return;
      const target = change.op === 'delete' ? change.id : change.volume;
      const { id, old, now } = applyObjectChange(target, vs.volumes, (x) => vs.putVolume(x), (x) => vs.deleteVolume(x));
      dirty.mark('volume', id);
      markSharing(old, dirty);
      markSharing(now, dirty);
      markAttachments(id, dirty);
    },
    vpcTouched: (vpcId, dirty) => dirty.markAll('volume', members.of(vpcId)),
    presenceChanged: (vpcId, dirty) => dirty.markAll('volume', members.of(vpcId)),
    placing(node, id, _before, dirty) {
      if (node !== 'endpoint') return;
      const volumes = vs.volumesOfTarget(id);
      if (volumes.size === 0) return;
      dirty.markAll('volume', volumes);
      for (const v of volumes) markAttachments(v, dirty);
    },
    compile(id) {
      const v = vs.volumes.get(id);
      const targets: (VolumeTarget & { vpcId: string })[] = [];
      for (const t of new Set(v?.targets ?? [])) {
        const e = s.endpoints.get(t);
        const vpc = e && active.has(t) ? s.activeVpc(e.vpcId) : undefined;
        if (e && vpc) targets.push({ id: t, ip: e.ip, vni: vpc.vni, dpid: e.dpid, vpcId: e.vpcId });
      }
      members.set(id, [...new Set(targets.map((t) => t.vpcId))]);
      if (targets.length === 0) return undefined;
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
