/**
 * Attachments' flows, one owner per attached endpoint: its way to each active target of each volume
 * it is attached to, on each of the volume's ports (compile-volume.ts). One owner per endpoint rather
 * than per attachment: an endpoint mounting many volumes of one array would otherwise hold thousands
 * of tiny owners, and the grant two attachments share (same target, same port) is one flow. Each flow's
 * cookie names the attachment that granted it (the smallest attachment id granting it), so counters
 * and traces still name the attachment.
 * Reads: the endpoint's attachments, the endpoint (address, switch, activity, VPC), their volumes
 * (targets, ports: the volume node marks it), the targets (the volume node marks it when one is
 * re-placed), its VPC (VNI, activity). A volume with qos gives each of its attachments its meters on
 * the endpoint's switch (two for mbps and pps), which that attachment's grants and the targets'
 * replies to them carry (compile-volume-qos.ts); the meters are the attachment's mount owner's when
 * that owner compiles (its translation goes through them too).
 */
import { compileAttachmentFlows, type AttachmentGrant } from '../compile-volume.js';
import { compileQosMeters, qosMeterIds } from '../compile-volume-qos.js';
import { attachmentCookie } from '../cookies.js';
import type { MeterEntry } from '../../flow/index.js';
import type { OwnerName } from '../owner-registry.js';
import type { CompileState } from './compile-state.js';
import { applyObjectChange, type EngineNode } from './engine-node.js';
import { markMounts, markMountVpcs, mountOwnsMeter } from './mount-node.js';

const validPort = (p: number) => Number.isInteger(p) && p >= 1 && p <= 0xffff;

export function attachmentNode(state: CompileState): EngineNode {
  const s = state.intent;
  const vs = state.volumes;
  const active = state.presence.placements('endpoint');
  return {
    name: 'attachment',
    ids: () => vs.attachedEndpoints(),
    change(change, dirty) {
      if (change.kind !== 'attachment') return;
      const target = change.op === 'delete' ? change.id : change.attachment;
      const { old, now } = applyObjectChange(target, vs.attachments, (x) => vs.putAttachment(x), (x) => vs.deleteAttachment(x));
      for (const x of [old, now]) {
        if (!x) continue;
        dirty.mark('attachment', x.endpointId);
        // Both ends' VPCs have label groups while a mount translation runs between them.
        markMountVpcs(state, x, dirty);
      }
      markMounts(dirty, typeof target === 'string' ? target : target.id);
    },
    // Its VPC is its endpoint's.
    vpcTouched(vpcId, dirty) {
      for (const e of s.endpointsByVpc.get(vpcId) ?? []) if (vs.attachmentsOfEndpoint(e).size > 0) dirty.mark('attachment', e);
    },
    placing(node, id, _before, dirty) {
      if (node === 'endpoint' && vs.attachmentsOfEndpoint(id).size > 0) dirty.mark('attachment', id);
    },
    compile(endpointId) {
      const mine = vs.attachmentsOfEndpoint(endpointId);
      const e = s.endpoints.get(endpointId);
      const vpc = e && mine.size > 0 && active.has(endpointId) ? s.activeVpc(e.vpcId) : undefined;
      if (!e || !vpc) return undefined;
      const grants: AttachmentGrant[] = [];
      const granted = new Set<string>();
      const names: { cookie: number; name: OwnerName }[] = [];
      let meters: MeterEntry[] | undefined;
      for (const id of mine.size === 1 ? mine : [...mine].sort()) {
        const a = vs.attachments.get(id);
        const v = vs.volumes.get(a?.volumeId ?? '');
        if (!a || !v) continue;
        const cookie = attachmentCookie(id);
        // Most volumes have no qos: no meter id is worked out for them.
        const meterIds = qosMeterIds(v.qos, id);
        const before = grants.length;
        for (const t of v.targets) {
          const te = s.endpoints.get(t);
          if (t === endpointId || !te || !active.has(t) || te.vpcId !== e.vpcId) continue;
          for (const port of v.ports) {
            const key = `${t}|${port}`;
            if (!validPort(port) || granted.has(key)) continue;
            granted.add(key);
            grants.push(meterIds.length > 0 ? { targetIp: te.ip, port, cookie, meterIds } : { targetIp: te.ip, port, cookie });
          }
        }
        if (grants.length > before) {
          names.push({ cookie, name: { kind: 'attachment', name: id } });
          if (meterIds.length > 0 && !mountOwnsMeter(state, a)) (meters ??= []).push(...compileQosMeters(v.qos, meterIds, cookie));
        }
      }
      if (names.length === 0) return undefined;
      const [first, ...also] = names;
      const flows = compileAttachmentFlows({ ip: e.ip, vni: vpc.vni, dpid: e.dpid, mac: e.mac, port: e.port, grants });
      return { flows, ...(meters ? { meters: new Map([[e.dpid, meters]]) } : {}), ...first, ...(also.length > 0 ? { also } : {}) };
    },
  };
}
