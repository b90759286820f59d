import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';

export interface PingReply {
  seq: number;
  rttMs: number;
}

export interface PingResult {
  from: string;
  to: string;
  sent: number;
  received: number;
  replies: PingReply[];
  /** The switches and ports the request crosses, from the compiled tables. */
  path: string[];
}

export interface LabService {
  hosts(): { name: string; mac: string; ip: string; control: string }[];
  ping(from: string, to: string, count: number, timeoutMs: number): Promise<PingResult>;
}

const PingBody = Type.Object({
  from: Type.String({ minLength: 1 }),
  to: Type.String({ minLength: 1 }),
  count: Type.Integer({ minimum: 1, maximum: 100, default: 3 }),
  timeoutMs: Type.Integer({ minimum: 10, maximum: 30000, default: 1000 }),
});

export function registerLabRoutes(app: FastifyInstance, lab: LabService): void {
  app.get('/v1/lab/hosts', { schema: { tags: ['lab'], summary: 'Lab hosts and their control addresses' } }, async () => ({ hosts: lab.hosts() }));
  app.post('/v1/lab/ping', { schema: { tags: ['lab'], summary: 'ICMP echo from one lab host to another', body: PingBody } }, async (request) => {
    const b = request.body as Static<typeof PingBody>;
    return lab.ping(b.from, b.to, b.count, b.timeoutMs);
  });
}
