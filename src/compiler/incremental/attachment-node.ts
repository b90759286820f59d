/**
 * Attachments' owners: one per attachment of an active endpoint to a volume (the endpoint's way to
 * each active target of the volume in its VPC, on each of the volume's ports; compile-volume.ts).
 * Reads: itself, the other attachments of its endpoint (who owns a grant), its endpoint (address,
 * switch, activity), its volume (targets, ports: the volume node marks it), the targets (the volume
 * node marks it when one is re-placed), its VPC (VNI, activity).
 */
import { compileAttachmentFlows } from '../compile-volume.js';
import { attachmentCookie } from '../cookies.js';
import type { CompileState } from './compile-state.js';
import { applyObjectChange, type EngineNode } from './engine-node.js';

const validPort = (p: number) => Number.isInteger(p) && p >= 1 && p <= 0xffff;

export function attachmentNode(state: CompileState): EngineNode {
  const s = state.intent;
  const vs = state.volumes;
  const active = state.presence.placements('endpoint');
  return {
    name: 'attachment',
    ids: () => vs.attachments.keys(),
    change(change, dirty) {
      if (change.kind !== 'attachment') return;
      const target = change.op === 'delete' ? change.id : change.attachment;
      const { id, old, now } = applyObjectChange(target, vs.attachments, (x) => vs.putAttachment(x), (x) => vs.deleteAttachment(x));
      dirty.mark('attachment', id);
      // The other attachments of the old and the new endpoint may win or lose a grant.
      for (const x of [old, now]) if (x) dirty.markAll('attachment', vs.attachmentsOfEndpoint(x.endpointId));
    },
    // Its VPC is its endpoint's: the attachments of the VPC's endpoints.
    vpcTouched(vpcId, dirty) {
      for (const e of s.endpointsByVpc.get(vpcId) ?? []) dirty.markAll('attachment', vs.attachmentsOfEndpoint(e));
    },
    placing(node, id, _before, dirty) {
      if (node === 'endpoint') dirty.markAll('attachment', vs.attachmentsOfEndpoint(id));
    },
    compile(id) {
      const a = vs.attachments.get(id);
      const v = a ? vs.volumes.get(a.volumeId) : undefined;
      const e = a ? s.endpoints.get(a.endpointId) : undefined;
      const vpc = e && active.has(e.id) ? s.activeVpc(e.vpcId) : undefined;
      if (!v || !e || !vpc) return undefined;
      // Each distinct target and valid distinct port once (the lists are short: no Set).
      const { targets, ports } = v;
      const grants: { targetIp: number; port: number }[] = [];
      for (let i = 0; i < targets.length; i++) {
        const t = targets[i];
        const te = s.endpoints.get(t);
        if (t === e.id || !te || !active.has(t) || te.vpcId !== e.vpcId || targets.indexOf(t) !== i) continue;
        for (let j = 0; j < ports.length; j++) {
          const port = ports[j];
          if (validPort(port) && ports.indexOf(port) === j && vs.ownsGrant(id, e.id, t, port)) grants.push({ targetIp: te.ip, port });
        }
      }
      const cookie = attachmentCookie(id);
      return { flows: compileAttachmentFlows({ ip: e.ip, vni: vpc.vni, dpid: e.dpid, grants }, cookie), cookie, name: { kind: 'attachment', name: id } };
    },
  };
}
