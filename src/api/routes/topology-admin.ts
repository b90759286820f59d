/**
 * Topology admin routes: add/remove switches and links, set a link down/up. Each answers with the
 * whole new topology. (`GET /v1/topology` lives in ./topology.ts.)
 */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { IntentService } from '../../controller/intent/index.js';
import { ErrorReply, refuseUnknownFields } from '../schemas/common.js';
import { AddLinkBody, AddSwitchBody, LinkIdParams, LinkStateBody, SwitchNameParams, TopologyJson, topologyJson } from '../schemas/topology.js';

const errors = { '4xx': ErrorReply };

export function registerTopologyAdminRoutes(app: FastifyInstance, intent: IntentService): void {
  const tags = ['topology'];

  app.post('/v1/topology/switches', { schema: { tags, summary: 'Add a switch', body: AddSwitchBody, response: { 201: TopologyJson, ...errors } } }, async (request, reply) => {
    refuseUnknownFields(request.body, AddSwitchBody, 'body');
    const b = request.body as Static<typeof AddSwitchBody>;
    const ports = b.ports.map((p) => (typeof p === 'number' ? { number: p } : p));
    return reply.status(201).send(topologyJson(intent.topology.addSwitch({ name: b.name, dpid: b.dpid, ports })));
  });

  app.delete(
    '/v1/topology/switches/:name',
    { schema: { tags, summary: 'Remove a switch with its links and hosts (refused while endpoints attach to it)', params: SwitchNameParams, response: { 200: TopologyJson, ...errors } } },
    async (request) => {
      const { name } = request.params as Static<typeof SwitchNameParams>;
      return topologyJson(intent.topology.removeSwitch(name));
    },
  );

  app.post('/v1/topology/links', { schema: { tags, summary: 'Add a link between two free ports', body: AddLinkBody, response: { 201: TopologyJson, ...errors } } }, async (request, reply) => {
    refuseUnknownFields(request.body, AddLinkBody, 'body');
    const b = request.body as Static<typeof AddLinkBody>;
    return reply.status(201).send(topologyJson(intent.topology.addLink(b.a, b.b, b.up ?? true)));
  });

  app.delete('/v1/topology/links/:id', { schema: { tags, summary: 'Remove a link', params: LinkIdParams, response: { 200: TopologyJson, ...errors } } }, async (request) => {
    const { id } = request.params as Static<typeof LinkIdParams>;
    return topologyJson(intent.topology.removeLink(id));
  });

  app.patch(
    '/v1/topology/links/:id',
    { schema: { tags, summary: 'Set a link down or up', params: LinkIdParams, body: LinkStateBody, response: { 200: TopologyJson, ...errors } } },
    async (request) => {
      refuseUnknownFields(request.body, LinkStateBody, 'body');
      const { id } = request.params as Static<typeof LinkIdParams>;
      return topologyJson(intent.topology.setLinkUp(id, (request.body as Static<typeof LinkStateBody>).up));
    },
  );
}
