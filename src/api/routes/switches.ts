import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { OvercastError } from '../../errors/index.js';
import { formatFlow } from '../../flow/index.js';
import { PageQuery } from '../schemas/common.js';
import type { ApiServices } from '../services.js';

const DpidParams = Type.Object({ dpid: Type.Integer({ minimum: 0 }) });

const SwitchListQuery = Type.Object({
  ...PageQuery,
  cursor: Type.Optional(Type.String({ maxLength: 20, pattern: '^[0-9]+$', description: 'The `next` of the previous page (a dpid)' })),
  counters: Type.Optional(
    Type.Boolean({ default: false, description: "Read each listed switch's port counters: one round trip to each connected switch of the page" }),
  ),
});

export function registerSwitchRoutes(app: FastifyInstance, { controller }: ApiServices): void {
  app.get(
    '/v1/switches',
    {
      schema: {
        tags: ['switches'],
        summary: 'Known switches in dpid order, a page at a time: connected, channel, desired and installed flows, session counters; port counters on request',
        querystring: SwitchListQuery,
      },
    },
    async (request) => {
      const q = request.query as Static<typeof SwitchListQuery>;
      const after = q.cursor === undefined ? undefined : Number(q.cursor);
      if (after !== undefined && !Number.isSafeInteger(after)) throw new OvercastError('OVC_ERR_API_BAD_CURSOR', `not a dpid: ${q.cursor}`, 'querystring.cursor');
      const page = controller.statusPage(q.limit, after);
      if (!q.counters) return page;
      // Port counters come live from each connected switch of the page (at most `limit` round trips, in parallel).
      const switches = await Promise.all(
        page.switches.map(async (s) => {
          const session = controller.session(s.dpid);
          if (!session) return s;
          try {
            const ports = await session.connection.portStats();
            const sum = (k: 'rxPackets' | 'txPackets' | 'rxDropped' | 'txDropped') => ports.reduce((n, p) => n + p[k], 0);
            return { ...s, packets: { rx: sum('rxPackets'), tx: sum('txPackets'), rxDropped: sum('rxDropped'), txDropped: sum('txDropped') }, portStats: ports };
          } catch {
            return s;
          }
        }),
      );
      return { switches, next: page.next };
    },
  );

  app.get(
    '/v1/switches/:dpid/flows',
    { schema: { tags: ['switches'], summary: 'Flows installed on a switch, with counters', params: DpidParams } },
    async (request) => {
      const { dpid } = request.params as { dpid: number };
      const session = controller.session(dpid);
      if (!session) throw new OvercastError('OVC_ERR_SWITCH_NOT_CONNECTED', `switch ${dpid} is not connected`, 'params.dpid');
      const stats = await session.connection.flowStats();
      stats.sort((a, b) => a.flow.table - b.flow.table || b.flow.priority - a.flow.priority);
      return {
        dpid,
        flows: stats.map((s) => ({ ...s.flow, packets: s.packets, bytes: s.bytes, text: formatFlow(s.flow) })),
      };
    },
  );
}
