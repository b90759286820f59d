/**
 * Topology admin routes: add/remove switches and links, set a link down/up. Each answers with the
 * whole new topology. (`GET /v1/topology` lives in ./topology.ts.)
 */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { IntentService } from '../../controller/intent/index.js';
import { AddLinkBody, AddSwitchBody, LinkIdParams, LinkStateBody, SwitchNameParams, TopologyJson, topologyJson } from '../schemas/topology.js';

export function registerTopologyAdminRoutes(app: FastifyInstance, intent: IntentService): void {
  const tags = ['topology'];

  app.post(
    '/v1/topology/switches',
    { schema: { tags, operationId: 'addSwitch', summary: 'Add a switch', description: 'A switch with its dpid and ports; answers with the whole new topology.', body: AddSwitchBody, response: { 201: TopologyJson } } },
    async (request, reply) => {
      const b = request.body as Static<typeof AddSwitchBody>;
      const ports = b.ports.map((p) => (typeof p === 'number' ? { number: p } : p));
      return reply.status(201).send(topologyJson(await intent.topology.addSwitch({ name: b.name, dpid: b.dpid, ports })));
    },
  );

  app.delete(
    '/v1/topology/switches/:name',
    {
      schema: {
        tags,
        operationId: 'removeSwitch',
        summary: 'Remove a switch',
        description: 'Removes the switch with its links and hosts; refused while endpoints attach to it.',
        params: SwitchNameParams,
        response: { 200: TopologyJson },
      },
    },
    async (request) => {
      const { name } = request.params as Static<typeof SwitchNameParams>;
      return topologyJson(await intent.topology.removeSwitch(name));
    },
  );

  app.post(
    '/v1/topology/links',
    { schema: { tags, operationId: 'addLink', summary: 'Add a link', description: 'A link between two free ports; answers with the whole new topology.', body: AddLinkBody, response: { 201: TopologyJson } } },
    async (request, reply) => {
      const b = request.body as Static<typeof AddLinkBody>;
      return reply.status(201).send(topologyJson(await intent.topology.addLink(b.a, b.b, b.up ?? true)));
    },
  );

  app.delete(
    '/v1/topology/links/:id',
    { schema: { tags, operationId: 'removeLink', summary: 'Remove a link', description: 'Frees both ports; answers with the whole new topology.', params: LinkIdParams, response: { 200: TopologyJson } } },
    async (request) => {
      const { id } = request.params as Static<typeof LinkIdParams>;
      return topologyJson(await intent.topology.removeLink(id));
    },
  );

  app.patch(
    '/v1/topology/links/:id',
    {
      schema: {
        tags,
        operationId: 'setLinkState',
        summary: 'Set a link down or up',
        description: 'A down link stays (its ports stay taken) but no path uses it; traffic reroutes. Answers with the whole new topology.',
        params: LinkIdParams,
        body: LinkStateBody,
        response: { 200: TopologyJson },
      },
    },
    async (request) => {
      const { id } = request.params as Static<typeof LinkIdParams>;
      return topologyJson(await intent.topology.setLinkUp(id, (request.body as Static<typeof LinkStateBody>).up));
    },
  );
}
