import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { OvercastError } from '../../errors/index.js';
import { formatFlow } from '../../flow/index.js';
import type { ApiServices } from '../services.js';

const DpidParams = Type.Object({ dpid: Type.Integer({ minimum: 0 }) });

export function registerSwitchRoutes(app: FastifyInstance, { controller }: ApiServices): void {
  app.get('/v1/switches', { schema: { tags: ['switches'], summary: 'Every known switch: connected, flows, packet counters' } }, async () => {
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
  });

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
