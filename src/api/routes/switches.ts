import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { OvercastError } from '../../errors/index.js';
import { formatFlow } from '../../flow/index.js';
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

export function registerSwitchRoutes(app: FastifyInstance, { controller }: ApiServices): void {
  app.get(
    '/v1/switches',
    {
      schema: {
        tags: ['switches'],
        operationId: 'listSwitches',
        summary: 'Every known switch',
        description:
          'Connected or not, its channel, desired and installed flow counts, the last push, packet counters read live from its ports, and what the switch channels refused (impostors, takeovers, caps).',
        response: { 200: Type.Object({ switches: Type.Array(SwitchStatusJson), channels: Type.Object({}, { ...Open, description: 'Connections the switch channels refused, by reason' }) }) },
      },
    },
    async () => {
      const statuses = controller.status();
      // Port counters come live from each connected switch.
      const withPorts = await Promise.all(
        statuses.map(async (s) => {
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
      // What the switch channels refused (impostors, takeovers, caps): counted, never silent.
      return { switches: withPorts, channels: { ...controller.channelCounters } };
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
}
