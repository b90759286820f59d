/** GET /v1/cluster's answer (src/api/routes/cluster.ts). */
import { Type, type Static } from '@sinclair/typebox';

const MemberJson = Type.Object({
  id: Type.String(),
  restUrl: Type.String({ description: 'The member\'s REST API' }),
  pid: Type.Integer(),
  healthy: Type.Boolean({ description: 'Its lease is alive and its REST API answered /healthz just now' }),
  leader: Type.Boolean({ description: 'The oldest member: it delivers the intent\'s webhook events' }),
  self: Type.Boolean({ description: 'The member that answered this request' }),
});

const MasterJson = Type.Object({
  dpid: Type.Integer(),
  switch: Type.Optional(Type.String({ description: 'The topology\'s name of the switch' })),
  master: Type.Union([Type.String(), Type.Null()], { description: 'The member that masters the switch; null while none does (failover)' }),
  generationId: Type.Integer({ description: 'The OpenFlow role generation id of that mastership (an etcd revision)' }),
});

export const ClusterJson = Type.Object({
  self: Type.String(),
  store: Type.String({ description: 'Where the intent is kept: sqlite:<file> (one controller) or etcd://...' }),
  leader: Type.Union([Type.String(), Type.Null()]),
  members: Type.Array(MemberJson),
  masters: Type.Array(MasterJson),
});
export type ClusterStatus = Static<typeof ClusterJson>;
