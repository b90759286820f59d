/**
 * VPC and subnet routes: `/v1/vpcs[/:id]`, `/v1/vpcs/:id/subnets[/:subnetId]`. Thin: the
 * IntentService validates and applies; refusals arrive as OvercastErrors with their field.
 * Also home of registerIntentRoutes, which installs every intent route at once.
 */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { IntentService } from '../../controller/intent/index.js';
import { IdParams, NoContent, PageOnly, pageOf } from '../schemas/common.js';
import { CreateSubnetBody, CreateVpcBody, SubnetJson, SubnetParams, UpdateVpcBody, VpcJson, subnetJson, vpcJson } from '../schemas/vpc.js';
import { registerElasticIpRoutes, type ServiceRouteOptions } from './elastic-ips.js';
import { registerEndpointRoutes } from './endpoints.js';
import { registerLoadBalancerRoutes } from './load-balancers.js';
import { registerSecurityGroupRoutes } from './security-groups.js';
import { registerTopologyAdminRoutes } from './topology-admin.js';
import { registerVolumeRoutes } from './volumes.js';

/** Every intent route: VPCs, subnets, endpoints, elastic IPs, load balancers, volumes, security groups and ACLs, topology admin. */
export function registerIntentRoutes(app: FastifyInstance, intent: IntentService, options: ServiceRouteOptions = {}): void {
  registerVpcRoutes(app, intent);
  registerEndpointRoutes(app, intent);
  registerElasticIpRoutes(app, intent, options);
  registerLoadBalancerRoutes(app, intent, options);
  registerVolumeRoutes(app, intent, options);
  registerSecurityGroupRoutes(app, intent, options);
  registerTopologyAdminRoutes(app, intent);
}

export function registerVpcRoutes(app: FastifyInstance, intent: IntentService): void {
  const tags = ['vpcs'];

  app.post(
    '/v1/vpcs',
    {
      schema: {
        tags,
        operationId: 'createVpc',
        summary: 'Create a VPC',
        description: 'A tenant network with its own address space (address spaces of different VPCs may overlap). It gets the VNI asked for (`vni`, 1..16,777,215) or the lowest free one.',
        body: CreateVpcBody,
        response: { 201: VpcJson },
      },
    },
    async (request, reply) => {
      const b = request.body as Static<typeof CreateVpcBody>;
      return reply.status(201).send(vpcJson(await intent.vpcs.create(b)));
    },
  );

  app.get(
    '/v1/vpcs',
    { schema: { tags, operationId: 'listVpcs', summary: 'List VPCs', description: 'VPCs in creation order, a page at a time.', querystring: PageOnly, response: { 200: pageOf(VpcJson) } } },
    async (request) => {
      const page = await intent.vpcs.list(request.query as Static<typeof PageOnly>);
      return { items: page.items.map(vpcJson), next: page.next };
    },
  );

  app.get('/v1/vpcs/:id', { schema: { tags, operationId: 'getVpc', summary: 'One VPC', description: 'The VPC with this id.', params: IdParams, response: { 200: VpcJson } } }, async (request) => {
    const { id } = request.params as Static<typeof IdParams>;
    return vpcJson(await intent.vpcs.get(id));
  });

  app.patch(
    '/v1/vpcs/:id',
    {
      schema: {
        tags,
        operationId: 'updateVpc',
        summary: 'Rename a VPC or change its CIDR',
        description: 'A new CIDR must still cover every subnet of the VPC.',
        params: IdParams,
        body: UpdateVpcBody,
        response: { 200: VpcJson },
      },
    },
    async (request) => {
      const { id } = request.params as Static<typeof IdParams>;
      return vpcJson(await intent.vpcs.update(id, request.body as Static<typeof UpdateVpcBody>));
    },
  );

  app.delete(
    '/v1/vpcs/:id',
    { schema: { tags, operationId: 'deleteVpc', summary: 'Delete a VPC', description: 'Deletes the VPC and its subnets; refused while it has endpoints or load balancers.', params: IdParams, response: { 204: NoContent } } },
    async (request, reply) => {
      const { id } = request.params as Static<typeof IdParams>;
      await intent.vpcs.delete(id);
      return reply.status(204).send();
    },
  );

  app.post(
    '/v1/vpcs/:id/subnets',
    {
      schema: {
        tags,
        operationId: 'createSubnet',
        summary: 'Create a subnet inside the VPC',
        description: "At least a /30, inside the VPC's CIDR, overlapping no other subnet of the VPC. Its gateway (the distributed router's address) defaults to the first host address.",
        params: IdParams,
        body: CreateSubnetBody,
        response: { 201: SubnetJson },
      },
    },
    async (request, reply) => {
      const { id } = request.params as Static<typeof IdParams>;
      return reply.status(201).send(subnetJson(await intent.subnets.create(id, request.body as Static<typeof CreateSubnetBody>)));
    },
  );

  app.get(
    '/v1/vpcs/:id/subnets',
    { schema: { tags, operationId: 'listSubnets', summary: "List a VPC's subnets", description: 'Subnets of the VPC in creation order, a page at a time.', params: IdParams, querystring: PageOnly, response: { 200: pageOf(SubnetJson) } } },
    async (request) => {
      const { id } = request.params as Static<typeof IdParams>;
      const page = await intent.subnets.list(id, request.query as Static<typeof PageOnly>);
      return { items: page.items.map(subnetJson), next: page.next };
    },
  );

  app.get(
    '/v1/vpcs/:id/subnets/:subnetId',
    { schema: { tags, operationId: 'getSubnet', summary: 'One subnet', description: 'The subnet with this id in this VPC.', params: SubnetParams, response: { 200: SubnetJson } } },
    async (request) => {
      const { id, subnetId } = request.params as Static<typeof SubnetParams>;
      return subnetJson(await intent.subnets.get(id, subnetId));
    },
  );

  app.delete(
    '/v1/vpcs/:id/subnets/:subnetId',
    { schema: { tags, operationId: 'deleteSubnet', summary: 'Delete a subnet', description: 'Refused while the subnet has endpoints.', params: SubnetParams, response: { 204: NoContent } } },
    async (request, reply) => {
      const { id, subnetId } = request.params as Static<typeof SubnetParams>;
      await intent.subnets.delete(id, subnetId);
      return reply.status(204).send();
    },
  );
}
