import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { OvercastError } from '../../errors/index.js';
import { formatFlow } from '../../flow/index.js';
import { PageQuery } from '../schemas/common.js';
import type { ApiServices } from '../services.js';
import { Dpid, StrictObject } from '../schemas/common.js';

const DpidParams = StrictObject({ dpid: Dpid });

/** Open objects: the controller's status carries more than is listed, and all of it is sent. */
const Open = { additionalProperties: true } as const;

const SwitchStatusJson = Type.Object(
  {
    dpid: Type.Integer(),
    connected: Type.Boolean(),
    channel: Type.Optional(Type.String({ description: 'native or openflow13' })),
    desiredFlows: Type.Integer({ description: 'Flows the controller wants on the switch' }),
    installedFlows: Type.Integer({ description: 'Flows the switch acknowledged' }),
    packets: Type.Optional(Type.Object({ rx: Type.Integer(), tx: Type.Integer(), rxDropped: Type.Integer(), txDropped: Type.Integer() }, { description: 'Sums of the port counters, read live' })),
  },
  Open,
);

const FlowsJson = Type.Object({
  dpid: Type.Integer(),
  flows: Type.Array(Type.Object({ table: Type.Integer(), priority: Type.Integer(), packets: Type.Number(), bytes: Type.Number(), text: Type.String({ description: 'The flow in ovs-ofctl syntax' }) }, Open)),
});

const MetersJson = Type.Object({
  dpid: Type.Integer(),
  meters: Type.Array(
    Type.Object(
      {
        meterId: Type.Integer(),
        flowCount: Type.Integer(),
        packetsIn: Type.Number(),
        bytesIn: Type.Number(),
        bands: Type.Array(Type.Object({ packets: Type.Number(), bytes: Type.Number() }), { description: 'What each band dropped' }),
      },
      Open,
    ),
  ),
});

const SwitchListQuery = StrictObject({
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
        operationId: 'listSwitches',
        summary: 'Known switches in dpid order, a page at a time',
        description:
          'Connected or not, its channel, desired and installed flow counts, the last push; port counters read live with `counters=true`; what the switch channels refused (impostors, takeovers, caps).',
        querystring: SwitchListQuery,
        response: {
          200: Type.Object({
            switches: Type.Array(SwitchStatusJson),
            next: Type.Union([Type.String(), Type.Null()], { description: 'The cursor of the next page (a dpid); null on the last' }),
            channels: Type.Object({}, { ...Open, description: 'Connections the switch channels refused, by reason' }),
          }),
        },
      },
    },
    async (request) => {
      const q = request.query as Static<typeof SwitchListQuery>;
      const after = q.cursor === undefined ? undefined : Number(q.cursor);
      if (after !== undefined && !Number.isSafeInteger(after)) throw new OvercastError('OVC_ERR_API_BAD_CURSOR', `not a dpid: ${q.cursor}`, 'querystring.cursor');
      const page = controller.statusPage(q.limit, after);
      // What the switch channels refused (impostors, takeovers, caps): counted, never silent.
      const channels = { ...controller.channelCounters };
      if (!q.counters) return { ...page, channels };
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
      return { switches, next: page.next, channels };
    },
  );

  app.get(
    '/v1/switches/:dpid/flows',
    {
      schema: {
        tags: ['switches'],
        operationId: 'listSwitchFlows',
        summary: 'Flows installed on a switch',
        description: 'Read from the switch now, with their packet and byte counters and a readable form, by table and priority.',
        params: DpidParams,
        response: { 200: FlowsJson },
      },
    },
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

  app.get(
    '/v1/switches/:dpid/meters',
    {
      schema: {
        tags: ['switches'],
        operationId: 'listSwitchMeters',
        summary: 'Meters installed on a switch, with their counters',
        description: "Read from the switch now: each meter's packets and bytes in, and what each of its drop bands dropped (docs/volumes.md, QoS).",
        params: DpidParams,
        response: { 200: MetersJson },
      },
    },
    async (request) => {
      const { dpid } = request.params as { dpid: number };
      const session = controller.session(dpid);
      if (!session) throw new OvercastError('OVC_ERR_SWITCH_NOT_CONNECTED', `switch ${dpid} is not connected`, 'params.dpid');
      return { dpid, meters: (await session.connection.meterStats?.()) ?? [] };
    },
  );
}
