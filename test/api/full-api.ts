/**
 * The whole REST API as the controller builds it (buildApi: auth, idempotency, every route, the lab's
 * routes with a stand-in lab) over an in-memory store and a controller with no switch: for tests that
 * need the real thing through `inject`, no socket.
 */
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { buildApi } from '../../src/api/server.js';
import { createControllerCluster } from '../../src/cli/controller-cluster.js';
import { topologyJson } from '../../src/api/schemas/topology.js';
import { createSqliteIdempotencyStore, createSqliteTokenStore, createTokenService, type TokenService } from '../../src/controller/auth/index.js';
import { traceBetweenJson, traceJson } from '../../src/compiler/index.js';
import { Controller } from '../../src/controller/controller.js';
import { ControllerMetrics, switchNamesOf } from '../../src/controller/metrics/index.js';
import { createIntentService, type IntentService } from '../../src/controller/intent/index.js';
import { startIntentRuntime } from '../../src/controller/intent-runtime.js';
import { openIntentStore } from '../../src/controller/store/index.js';
import { createWebhookDispatcher } from '../../src/controller/webhooks.js';
import { labRoutes, type LabService } from '../../src/lab/index.js';
import { TOPOLOGY } from './helpers.js';

export interface FullApi {
  app: FastifyInstance;
  intent: IntentService;
  tokens: TokenService;
  /** Tokens of each scope, ready to send. */
  admin: string;
  write: string;
  read: string;
  /** Authorization headers for a token. */
  bearer(token: string): { authorization: string };
  close(): Promise<void>;
}

/** A lab with two hosts that answers every ping. */
const STAND_IN_LAB: LabService = {
  hosts: () => [
    { name: 'h1', mac: '02:00:00:00:00:01', ip: '192.168.0.1/24', control: 'http://127.0.0.1:1' },
    { name: 'h2', mac: '02:00:00:00:00:02', ip: '192.168.0.2/24', control: 'http://127.0.0.1:2' },
  ],
  ping: async (from, to, count) => ({ from, to, sent: count, received: count, replies: [], path: [from, to] }),
  attach: async (endpoint, name) => ({ name: name ?? endpoint, mac: '06:00:00:00:00:01', ip: '10.0.0.2/24', control: 'http://127.0.0.1:3', endpoint, switch: 's1', port: 1 }),
};

export interface FullApiOptions {
  logger?: pino.Logger;
  /** Wall clock of the idempotency windows. */
  nowMs?: () => number;
  /** What webhook deliveries fetch with (default: the real fetch). */
  fetch?: typeof fetch;
}

export async function buildFullApi(o: FullApiOptions = {}): Promise<FullApi> {
  const logger = o.logger ?? pino({ level: 'silent' });
  const store = openIntentStore(':memory:');
  const intent = await createIntentService({ seedTopology: TOPOLOGY }, { store });
  const controller = new Controller({ logger, nowMs: () => performance.now() });
  const runtime = await startIntentRuntime(intent, controller, logger);
  const webhooks = createWebhookDispatcher({}, { logger, ...(o.fetch ? { fetch: o.fetch } : {}) });
  const tokens = createTokenService({ store: createSqliteTokenStore(store.database), nowMs: Date.now });
  const cluster = createControllerCluster({ etcd: undefined, memberId: 'c1', storeLocation: store.location, topology: () => intent.topology.get(), logger });
  const app = await buildApi(
    {
      controller,
      topology: () => topologyJson(intent.topology.get()),
      tokens,
      idempotency: createSqliteIdempotencyStore(store.database),
      ...(o.nowMs ? { nowMs: o.nowMs } : {}),
      intent,
      webhooks,
      trace: (start) => traceJson(runtime.trace(start)),
      traceBetween: (q) => traceBetweenJson(intent.topology.get(), intent.intent(), q, (start) => runtime.trace(start), 'body.'),
      metrics: { registry: new ControllerMetrics({ controller, switchName: switchNamesOf(() => intent.topology.get()), webhooks }), linkRates: () => [] },
      cluster: () => cluster.status(),
    },
    logger,
    [labRoutes(STAND_IN_LAB)],
  );
  const [admin, write, read] = await Promise.all((['admin', 'write', 'read'] as const).map(async (scope) => (await tokens.issue({ scope })).token));
  return {
    app,
    intent,
    tokens,
    admin,
    write,
    read,
    bearer: (token) => ({ authorization: `Bearer ${token}` }),
    close: async () => {
      await app.close();
      runtime.stop();
      webhooks.close();
      controller.close();
      store.close();
    },
  };
}

/** One API for a test file: built before its tests, closed after them. Call at the file's top level. */
export function fullApiPerFile(o: FullApiOptions = {}): () => FullApi {
  let api: FullApi | undefined;
  beforeAll(async () => {
    api = await buildFullApi(o);
  });
  afterAll(async () => {
    await api?.close();
  });
  return () => {
    if (!api) throw new Error('the API is built in beforeAll');
    return api;
  };
}
