/** Volume and attachment JSON shapes, the list query, and formatting from the model. */
import { Type } from '@sinclair/typebox';
import { ATTACHMENT_MODES, VOLUME_PROTOCOLS, type Attachment, type Volume } from '../../model/index.js';
import { formatIpv4 } from '../../net/index.js';
import { PageQuery, StrictObject } from './common.js';

export const VolumeProtocolJson = Type.Union(
  VOLUME_PROTOCOLS.map((p) => Type.Literal(p)),
  { description: 'nfs | iscsi | nvme-tcp | gluster' },
);
export const AttachmentModeJson = Type.Union(
  ATTACHMENT_MODES.map((m) => Type.Literal(m)),
  { description: 'rw | ro' },
);

const EndpointId = Type.String({ minLength: 1, maxLength: 64 });
const Targets = Type.Array(EndpointId, { minItems: 1, maxItems: 64, description: 'Storage endpoints (kind: storage), one per replica or brick, all in one VPC' });
const Ports = Type.Array(Type.Integer({ minimum: 1, maximum: 65535 }), {
  minItems: 1,
  maxItems: 64,
  description: "TCP and UDP ports the targets serve the volume on. Default: the protocol's (NFS 2049 and 111, iSCSI 3260, NVMe/TCP 4420, Gluster 24007, 24008 and 49152)",
});
const Qos = StrictObject(
  {
    mbps: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Megabits per second' })),
    pps: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000_000, description: 'Packets per second' })),
  },
  { description: "Each attachment's rate limit (a meter on the attached endpoint's switch)" },
);
const QosJson = Type.Object({ mbps: Type.Optional(Type.Integer()), pps: Type.Optional(Type.Integer()) });

export const VolumeJson = Type.Object({
  id: Type.String({ examples: ['vol-1'] }),
  name: Type.String(),
  protocol: VolumeProtocolJson,
  targets: Type.Array(Type.String()),
  ports: Type.Array(Type.Integer()),
  qos: Type.Union([QosJson, Type.Null()], { description: 'The rate limit of each attachment, or null (unlimited)' }),
  vpc: Type.Union([Type.String(), Type.Null()], { description: "The targets' VPC (the storage network)" }),
  attachments: Type.Integer({ description: 'How many endpoints are attached' }),
  unhealthyTargets: Type.Array(Type.String(), {
    description: "Targets out of service (switch disconnected, port down, or failing health probes): mount addresses spread over the others",
  }),
});

export const CreateVolumeBody = StrictObject({
  name: Type.String({ minLength: 1, maxLength: 128 }),
  protocol: VolumeProtocolJson,
  targets: Targets,
  ports: Type.Optional(Ports),
  qos: Type.Optional(Qos),
});

export const UpdateVolumeBody = StrictObject({
  targets: Type.Optional(Targets),
  qos: Type.Optional(Type.Union([Qos, Type.Null()], { description: 'A new rate limit; null removes it' })),
});

export const VolumeQuery = StrictObject({
  protocol: Type.Optional(VolumeProtocolJson),
  name: Type.Optional(Type.String({ maxLength: 128 })),
  target: Type.Optional(Type.String({ maxLength: 64, description: 'Volumes this endpoint is a target of' })),
  endpoint: Type.Optional(Type.String({ maxLength: 64, description: 'Volumes this endpoint is attached to' })),
  ...PageQuery,
});

const MountJson = Type.Object({
  target: Type.Union([Type.String(), Type.Null()], { description: 'The target (brick) this address reaches; null: the volume\'s healthy targets' }),
  address: Type.String({ examples: ['10.1.0.9'] }),
});

export const AttachmentJson = Type.Object({
  id: Type.String({ examples: ['att-1'] }),
  volume: Type.String(),
  endpoint: Type.String(),
  mode: AttachmentModeJson,
  mountAddress: Type.Union([Type.String(), Type.Null()], {
    description: "Where the endpoint mounts the volume: an address in its own subnet, translated to the volume's targets (Gluster: its first target's); null for an attachment stored before mount addresses existed",
    examples: ['10.1.0.9'],
  }),
  mountAddresses: Type.Array(MountJson, { description: 'Every mount address: one for nfs, iscsi and nvme-tcp; one per target (brick) for gluster' }),
  sourceAddress: Type.Union([Type.String(), Type.Null()], { description: "The address the targets see the endpoint's mount traffic from, unique in the storage VPC" }),
});

export const AttachBody = StrictObject({
  endpoint: EndpointId,
  mode: Type.Optional(AttachmentModeJson),
});

export const AttachmentParams = StrictObject({ id: Type.String({ minLength: 1, maxLength: 64 }), attachmentId: Type.String({ minLength: 1, maxLength: 64 }) });

export function volumeJson(v: Volume, vpc: string | undefined, attachments: number) {
  return {
    id: v.id,
    name: v.name,
    protocol: v.protocol,
    targets: [...v.targets],
    ports: [...v.ports],
    qos: v.qos ? { ...v.qos } : null,
    vpc: vpc ?? null,
    attachments,
    unhealthyTargets: [...(v.unhealthy ?? [])],
  };
}

export function attachmentJson(a: Attachment) {
  const mounts = (a.mounts ?? []).map((m) => ({ target: m.target ?? null, address: formatIpv4(m.ip) }));
  return {
    id: a.id,
    volume: a.volumeId,
    endpoint: a.endpointId,
    mode: a.mode,
    mountAddress: mounts[0]?.address ?? null,
    mountAddresses: mounts,
    sourceAddress: a.source ? formatIpv4(a.source.ip) : null,
  };
}
