/**
 * Security group and network ACL routes: `/v1/security-groups[/:id]`, `/v1/network-acls[/:id]`
 * (docs/security-groups.md). Thin: the IntentService validates and applies. Changes answer once
 * installed, so no connection a removed rule allowed survives a 2xx by more than the switches' barrier.
 */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { IntentService } from '../../controller/intent/index.js';
import { IdParams, NoContent, pageOf } from '../schemas/common.js';
import {
  CreateNetworkAclBody,
  CreateSecurityGroupBody,
  NetworkAclJson,
  NetworkAclQuery,
  SecurityGroupJson,
  SecurityGroupQuery,
  UpdateNetworkAclBody,
  UpdateSecurityGroupBody,
  networkAclJson,
  securityGroupJson,
} from '../schemas/security.js';
import type { ServiceRouteOptions } from './elastic-ips.js';

export function registerSecurityGroupRoutes(app: FastifyInstance, intent: IntentService, options: ServiceRouteOptions = {}): void {
  const tags = ['security-groups'];
  const settled = options.settled ?? (() => intent.settled());

  app.post(
    '/v1/security-groups',
    {
      schema: {
        tags,
        operationId: 'createSecurityGroup',
        summary: 'Create a security group',
        description: 'Stateful allow rules for the endpoints that join it: a connection a rule allows passes both ways, anything else to or from a member is dropped. Answers once installed.',
        body: CreateSecurityGroupBody,
        response: { 201: SecurityGroupJson },
      },
    },
    async (request, reply) => {
      const g = await intent.securityGroups.create(request.body as Static<typeof CreateSecurityGroupBody>);
      await settled();
      return reply.status(201).send(securityGroupJson(g));
    },
  );

  app.get(
    '/v1/security-groups',
    { schema: { tags, operationId: 'listSecurityGroups', summary: 'List security groups', description: 'Security groups in creation order (optionally of one VPC), a page at a time.', querystring: SecurityGroupQuery, response: { 200: pageOf(SecurityGroupJson) } } },
    async (request) => {
      const { vpc, ...page } = request.query as Static<typeof SecurityGroupQuery>;
      const out = await intent.securityGroups.list({ vpc }, page);
      return { items: out.items.map(securityGroupJson), next: out.next };
    },
  );

  app.get(
    '/v1/security-groups/:id',
    { schema: { tags, operationId: 'getSecurityGroup', summary: 'One security group', description: 'The group with this id and its rules.', params: IdParams, response: { 200: SecurityGroupJson } } },
    async (request) => securityGroupJson(await intent.securityGroups.get((request.params as Static<typeof IdParams>).id)),
  );

  app.patch(
    '/v1/security-groups/:id',
    {
      schema: {
        tags,
        operationId: 'updateSecurityGroup',
        summary: "Rename a security group or replace its rules",
        description: 'The rules are replaced whole. A connection no rule allows any more is cut: once this answers, no further packet of it passes.',
        params: IdParams,
        body: UpdateSecurityGroupBody,
        response: { 200: SecurityGroupJson },
      },
    },
    async (request) => {
      const { id } = request.params as Static<typeof IdParams>;
      const g = await intent.securityGroups.update(id, request.body as Static<typeof UpdateSecurityGroupBody>);
      await settled();
      return securityGroupJson(g);
    },
  );

  app.delete(
    '/v1/security-groups/:id',
    {
      schema: {
        tags,
        operationId: 'deleteSecurityGroup',
        summary: 'Delete a security group',
        description: "Refused while an endpoint is in it or another group's rule names it (OVC_ERR_SECURITY_GROUP_IN_USE), and for a VPC's default group.",
        params: IdParams,
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      await intent.securityGroups.delete((request.params as Static<typeof IdParams>).id);
      await settled();
      return reply.status(204).send();
    },
  );

  registerNetworkAclRoutes(app, intent, settled);
}

function registerNetworkAclRoutes(app: FastifyInstance, intent: IntentService, settled: () => Promise<void>): void {
  const tags = ['network-acls'];

  app.post(
    '/v1/network-acls',
    {
      schema: {
        tags,
        operationId: 'createNetworkAcl',
        summary: "Create a subnet's network ACL",
        description: 'Stateless numbered allow/deny rules for traffic leaving (egress) and reaching (ingress) the endpoints of the subnet, lowest number first, deny when none matches. One per subnet. Answers once installed.',
        body: CreateNetworkAclBody,
        response: { 201: NetworkAclJson },
      },
    },
    async (request, reply) => {
      const acl = await intent.networkAcls.create(request.body as Static<typeof CreateNetworkAclBody>);
      await settled();
      return reply.status(201).send(networkAclJson(acl));
    },
  );

  app.get(
    '/v1/network-acls',
    { schema: { tags, operationId: 'listNetworkAcls', summary: 'List network ACLs', description: 'Network ACLs in creation order (optionally of one subnet), a page at a time.', querystring: NetworkAclQuery, response: { 200: pageOf(NetworkAclJson) } } },
    async (request) => {
      const { subnet, ...page } = request.query as Static<typeof NetworkAclQuery>;
      const out = await intent.networkAcls.list({ subnet }, page);
      return { items: out.items.map(networkAclJson), next: out.next };
    },
  );

  app.get(
    '/v1/network-acls/:id',
    { schema: { tags, operationId: 'getNetworkAcl', summary: 'One network ACL', description: 'The network ACL with this id and its rules by number.', params: IdParams, response: { 200: NetworkAclJson } } },
    async (request) => networkAclJson(await intent.networkAcls.get((request.params as Static<typeof IdParams>).id)),
  );

  app.patch(
    '/v1/network-acls/:id',
    {
      schema: {
        tags,
        operationId: 'updateNetworkAcl',
        summary: "Replace a network ACL's rules",
        description: 'The rules are replaced whole; answers once installed.',
        params: IdParams,
        body: UpdateNetworkAclBody,
        response: { 200: NetworkAclJson },
      },
    },
    async (request) => {
      const { id } = request.params as Static<typeof IdParams>;
      const acl = await intent.networkAcls.update(id, request.body as Static<typeof UpdateNetworkAclBody>);
      await settled();
      return networkAclJson(acl);
    },
  );

  app.delete(
    '/v1/network-acls/:id',
    { schema: { tags, operationId: 'deleteNetworkAcl', summary: 'Delete a network ACL', description: 'Its subnet is unfiltered again once this answers.', params: IdParams, response: { 204: NoContent } } },
    async (request, reply) => {
      await intent.networkAcls.delete((request.params as Static<typeof IdParams>).id);
      await settled();
      return reply.status(204).send();
    },
  );
}
