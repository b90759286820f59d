/** Elastic IP and load balancer JSON shapes, and formatting from the model (addresses as text). */
import { Type } from '@sinclair/typebox';
import { LB_PROTOCOLS, type ElasticIp, type LoadBalancer } from '../../model/index.js';
import { formatIpv4 } from '../../net/index.js';
import { StrictObject } from './common.js';

export const ElasticIpJson = Type.Object({
  id: Type.String({ examples: ['eip-1'] }),
  publicIp: Type.String({ examples: ['203.0.113.1'] }),
  endpoint: Type.Union([Type.String(), Type.Null()], { description: 'The associated endpoint, or null' }),
});

export const AllocateElasticIpBody = StrictObject({
  address: Type.Optional(Type.String({ maxLength: 15, description: "Default: the lowest free address of the gateways' pools" })),
  endpoint: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Associate at once' })),
});

export const UpdateElasticIpBody = StrictObject({
  endpoint: Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()], {
    description: 'Associate with (or move to) this endpoint; null disassociates. The reply comes once the switches have installed it.',
  }),
});

export function elasticIpJson(x: ElasticIp) {
  return { id: x.id, publicIp: formatIpv4(x.publicIp), endpoint: x.endpointId ?? null };
}

const L4Port = Type.Integer({ minimum: 1, maximum: 65535 });
const Weights = Type.Record(Type.String({ minLength: 0, maxLength: 63 }), Type.Integer({ minimum: 0 }), {
  maxProperties: 64,
  propertyNames: { maxLength: 63 },
  description: 'Revision label -> weight, e.g. {"v1": 90, "v2": 10}; empty: every backend weighs the same',
});
export const ProtocolJson = Type.Union(LB_PROTOCOLS.map((p) => Type.Literal(p)));

export const LoadBalancerJson = Type.Object({
  id: Type.String({ examples: ['lb-1'] }),
  vpc: Type.String(),
  vip: Type.String({ examples: ['10.0.0.200'] }),
  protocol: ProtocolJson,
  port: Type.Integer(),
  backendPort: Type.Integer(),
  function: Type.String(),
  weights: Weights,
  unhealthy: Type.Array(Type.String()),
  unhealthyByProbe: Type.Array(Type.String(), {
    description: 'Of unhealthy, the backends the health prober took out: it returns them when they answer again. The others were marked over REST and stay out until REST returns them.',
  }),
  elasticIp: Type.Union([Type.String(), Type.Null()], { description: 'The elastic IP the LB is reachable at from outside (publicIp:port), or null' }),
});

export const CreateLoadBalancerBody = StrictObject({
  vpc: Type.String({ minLength: 1, maxLength: 64 }),
  vip: Type.String({ maxLength: 15 }),
  protocol: ProtocolJson,
  port: L4Port,
  backendPort: Type.Optional(L4Port),
  function: Type.String({ minLength: 1, maxLength: 256, description: 'Backends are the endpoints labelled function=<this>' }),
  weights: Type.Optional(Weights),
  elasticIp: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'An allocated elastic IP associated with no endpoint: outside clients reach the LB at publicIp:port' })),
});

export const UpdateLoadBalancerBody = StrictObject({
  weights: Type.Optional(Weights),
  unhealthy: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 10_000 })),
  elasticIp: Type.Optional(
    Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()], { description: 'Put the LB behind this elastic IP (associated with no endpoint); null detaches' }),
  ),
});

export const BackendParams = StrictObject({ id: Type.String({ minLength: 1, maxLength: 64 }), endpointId: Type.String({ minLength: 1, maxLength: 64 }) });
export const BackendHealthBody = StrictObject({ healthy: Type.Boolean({ description: 'true: back in the pool; false: out of it until marked healthy again' }) });

export function loadBalancerJson(lb: LoadBalancer) {
  return {
    id: lb.id,
    vpc: lb.vpcId,
    vip: formatIpv4(lb.vip),
    protocol: lb.protocol,
    port: lb.port,
    backendPort: lb.backendPort,
    function: lb.function,
    weights: lb.weights,
    unhealthy: [...lb.unhealthy],
    unhealthyByProbe: [...(lb.unhealthyByProbe ?? [])],
    elasticIp: lb.elasticIpId ?? null,
  };
}
