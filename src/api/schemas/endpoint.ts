/** Endpoint JSON shapes, the list query, and formatting from the model (addresses as text). */
import { Type } from '@sinclair/typebox';
import { ENDPOINT_KINDS, type Endpoint } from '../../model/index.js';
import { formatIpv4, formatMac } from '../../net/index.js';
import { Dpid, Labels, PageQuery, PortNumber, StrictObject } from './common.js';

export const EndpointKindJson = Type.Union(
  ENDPOINT_KINDS.map((k) => Type.Literal(k)),
  { description: 'function | container | storage | host' },
);


export const EndpointJson = Type.Object({
  id: Type.String({ examples: ['ep-1'] }),
  kind: EndpointKindJson,
  vpc: Type.String(),
  subnet: Type.String(),
  dpid: Type.Integer(),
  port: Type.Integer(),
  mac: Type.String({ examples: ['06:00:00:00:00:01'] }),
  ip: Type.String({ examples: ['10.0.1.2'] }),
  labels: Labels,
  securityGroups: Type.Array(Type.String(), { description: 'The security groups it is in (docs/security-groups.md)' }),
});

const SecurityGroupIds = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
  minItems: 1,
  maxItems: 16,
  description: "Security group ids of the endpoint's VPC, replacing its groups whole. Default on create: the VPC's default group",
});

export const CreateEndpointBody = StrictObject({
  kind: EndpointKindJson,
  vpc: Type.String({ minLength: 1, maxLength: 64 }),
  subnet: Type.String({ minLength: 1, maxLength: 64 }),
  dpid: Dpid,
  port: PortNumber,
  mac: Type.Optional(Type.String({ maxLength: 17, description: 'Default: a free locally administered MAC' })),
  ip: Type.Optional(Type.String({ maxLength: 15, description: "Default: the subnet's lowest free address" })),
  labels: Type.Optional(Labels),
  securityGroups: Type.Optional(SecurityGroupIds),
});

export const UpdateEndpointBody = StrictObject({
  dpid: Type.Optional(Dpid),
  port: Type.Optional(PortNumber),
  labels: Type.Optional(Labels),
  securityGroups: Type.Optional(SecurityGroupIds),
});

export const EndpointQuery = StrictObject({
  vpc: Type.Optional(Type.String({ maxLength: 64 })),
  subnet: Type.Optional(Type.String({ maxLength: 64 })),
  kind: Type.Optional(EndpointKindJson),
  dpid: Type.Optional(Dpid),
  label: Type.Optional(Type.Array(Type.String({ maxLength: 320 }), { maxItems: 16, description: 'key=value; repeat for several (all must match)' })),
  ...PageQuery,
});

export function endpointJson(e: Endpoint) {
  return {
    id: e.id,
    kind: e.kind,
    vpc: e.vpcId,
    subnet: e.subnetId,
    dpid: e.dpid,
    port: e.port,
    mac: formatMac(e.mac),
    ip: formatIpv4(e.ip),
    labels: e.labels,
    securityGroups: e.securityGroups ?? [],
  };
}
