/**
 * VPC and subnet routes: `/v1/vpcs[/:id]`, `/v1/vpcs/:id/subnets[/:subnetId]`. Thin: the
 * IntentService validates and applies; refusals arrive as OvercastErrors with their field.
 * Also home of registerIntentRoutes, which installs every intent route at once.
 */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { IntentService } from '../../controller/intent/index.js';
import { ErrorReply, IdParams, PageQuery, pageOf, refuseUnknownFields } from '../schemas/common.js';
import { CreateSubnetBody, CreateVpcBody, SubnetJson, SubnetParams, UpdateVpcBody, VpcJson, subnetJson, vpcJson } from '../schemas/vpc.js';
import { Type } from '@sinclair/typebox';
import { registerElasticIpRoutes, type ServiceRouteOptions } from './elastic-ips.js';
import { registerEndpointRoutes } from './endpoints.js';
import { registerLoadBalancerRoutes } from './load-balancers.js';
import { registerTopologyAdminRoutes } from './topology-admin.js';

const PageOnly = Type.Object(PageQuery);
const errors = { '4xx': ErrorReply };

/** Every intent route: VPCs, subnets, endpoints, elastic IPs, load balancers, topology admin. */
export function registerIntentRoutes(app: FastifyInstance, intent: IntentService, options: ServiceRouteOptions = {}): void {
  registerVpcRoutes(app, intent);
  registerEndpointRoutes(app, intent);
  registerElasticIpRoutes(app, intent, options);
  registerLoadBalancerRoutes(app, intent, options);
  registerTopologyAdminRoutes(app, intent);
}

export function registerVpcRoutes(app: FastifyInstance, intent: IntentService): void {
  const tags = ['vpcs'];

  app.post('/v1/vpcs', { schema: { tags, summary: 'Create a VPC (a VNI is allocated, or the one asked for)', body: CreateVpcBody, response: { 201: VpcJson, ...errors } } }, async (request, reply) => {
    refuseUnknownFields(request.body, CreateVpcBody, 'body');
    const b = request.body as Static<typeof CreateVpcBody>;
    return reply.status(201).send(vpcJson(intent.vpcs.create(b)));
  });

  app.get('/v1/vpcs', { schema: { tags, summary: 'List VPCs', querystring: PageOnly, response: { 200: pageOf(VpcJson), ...errors } } }, async (request) => {
    const q = request.query as Static<typeof PageOnly>;
    const page = intent.vpcs.list(q);
    return { items: page.items.map(vpcJson), next: page.next };
  });

  app.get('/v1/vpcs/:id', { schema: { tags, summary: 'One VPC', params: IdParams, response: { 200: VpcJson, ...errors } } }, async (request) => {
    const { id } = request.params as Static<typeof IdParams>;
    return vpcJson(intent.vpcs.get(id));
  });

  app.patch(
    '/v1/vpcs/:id',
    { schema: { tags, summary: 'Rename a VPC or change its CIDR (it must still cover every subnet)', params: IdParams, body: UpdateVpcBody, response: { 200: VpcJson, ...errors } } },
    async (request) => {
      refuseUnknownFields(request.body, UpdateVpcBody, 'body');
      const { id } = request.params as Static<typeof IdParams>;
      return vpcJson(intent.vpcs.update(id, request.body as Static<typeof UpdateVpcBody>));
    },
  );

  app.delete('/v1/vpcs/:id', { schema: { tags, summary: 'Delete a VPC and its subnets (refused while it has endpoints)', params: IdParams, response: errors } }, async (request, reply) => {
    const { id } = request.params as Static<typeof IdParams>;
    intent.vpcs.delete(id);
    return reply.status(204).send();
  });

  app.post(
    '/v1/vpcs/:id/subnets',
    { schema: { tags, summary: 'Create a subnet inside the VPC', params: IdParams, body: CreateSubnetBody, response: { 201: SubnetJson, ...errors } } },
    async (request, reply) => {
      refuseUnknownFields(request.body, CreateSubnetBody, 'body');
      const { id } = request.params as Static<typeof IdParams>;
      return reply.status(201).send(subnetJson(intent.subnets.create(id, request.body as Static<typeof CreateSubnetBody>)));
    },
  );

  app.get(
    '/v1/vpcs/:id/subnets',
    { schema: { tags, summary: "List a VPC's subnets", params: IdParams, querystring: PageOnly, response: { 200: pageOf(SubnetJson), ...errors } } },
    async (request) => {
      const { id } = request.params as Static<typeof IdParams>;
      const page = intent.subnets.list(id, request.query as Static<typeof PageOnly>);
      return { items: page.items.map(subnetJson), next: page.next };
    },
  );

  app.get('/v1/vpcs/:id/subnets/:subnetId', { schema: { tags, summary: 'One subnet', params: SubnetParams, response: { 200: SubnetJson, ...errors } } }, async (request) => {
    const { id, subnetId } = request.params as Static<typeof SubnetParams>;
    return subnetJson(intent.subnets.get(id, subnetId));
  });

  app.delete(
    '/v1/vpcs/:id/subnets/:subnetId',
    { schema: { tags, summary: 'Delete a subnet (refused while it has endpoints)', params: SubnetParams, response: errors } },
    async (request, reply) => {
      const { id, subnetId } = request.params as Static<typeof SubnetParams>;
      intent.subnets.delete(id, subnetId);
      return reply.status(204).send();
    },
  );
}
