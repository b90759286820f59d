import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { createApiApp } from '../../src/api/app.js';
import { registerIntentRoutes } from '../../src/api/routes/vpcs.js';
import { createIntentService, type IntentService } from '../../src/controller/intent/index.js';
import { openIntentStore, type IntentStore } from '../../src/controller/store/index.js';
import { parseTopology } from '../../src/model/index.js';

/** Two switches joined on port 8; host h1 holds s1:1. Ports 2..7 are free on both. */
export const TOPOLOGY = parseTopology(`
name: t
switches:
  - { name: s1, dpid: 1, ports: [1, 2, 3, 4, 5, 6, 7, 8] }
  - { name: s2, dpid: 2, ports: [1, 2, 3, 4, 5, 6, 7, 8] }
links:
  - [s1:8, s2:8]
hosts:
  - { name: h1, mac: "02:00:00:00:00:01", ip: 192.168.0.1/24, attach: s1:1 }
`);

export interface TestApi {
  app: FastifyInstance;
  intent: IntentService;
  store: IntentStore;
  close(): Promise<void>;
}

// One app per test file (compiling the route schemas is most of a test's cost); each test gets a fresh
// store and service behind it, through a forwarding object the routes were registered with.
let current: IntentService | undefined;
let shared: Promise<FastifyInstance> | undefined;
const forwarding = new Proxy({} as IntentService, {
  get(_, key) {
    if (!current) throw new Error('no test intent service');
    const value = Reflect.get(current, key) as unknown;
    return typeof value === 'function' ? value.bind(current) : value;
  },
});

async function sharedApp(): Promise<FastifyInstance> {
  shared ??= (async () => {
    // The API's own app (validation, error shape), without auth: these tests are about the routes.
    const app = await createApiApp();
    registerIntentRoutes(app, forwarding);
    await app.ready();
    return app;
  })();
  return shared;
}

/** The intent routes over a fresh in-memory store seeded with TOPOLOGY. */
export async function buildTestApi(file = ':memory:'): Promise<TestApi> {
  const app = await sharedApp();
  const store = openIntentStore(file);
  const intent = await createIntentService({ seedTopology: TOPOLOGY }, { store });
  current = intent;
  return {
    app,
    intent,
    store,
    close: async () => {
      current = undefined;
      store.close();
    },
  };
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export async function call(app: FastifyInstance, method: Method, url: string, payload?: object): Promise<LightMyRequestResponse> {
  return app.inject({ method, url, ...(payload ? { payload } : {}) });
}

/** Asserts a success status and returns the JSON body. */
export async function ok<T = Record<string, unknown>>(app: FastifyInstance, method: Method, url: string, payload?: object, status?: number): Promise<T> {
  const r = await call(app, method, url, payload);
  expect(r.statusCode, r.body).toBe(status ?? (method === 'POST' ? 201 : method === 'DELETE' ? 204 : 200));
  return (r.body ? r.json() : undefined) as T;
}

/** Asserts a refusal with this status, code and field (the one JSON error shape). */
export async function refused(app: FastifyInstance, method: Method, url: string, payload: object | undefined, status: number, code: string, field: string | undefined) {
  const r = await call(app, method, url, payload);
  expect(r.statusCode, r.body).toBe(status);
  const body = r.json() as { statusCode: number; code: string; field?: string; error: string; message: string; problems?: { code: string; field?: string }[] };
  expect(body.statusCode).toBe(status);
  expect(body.code).toBe(code);
  expect(body.field).toBe(field);
  expect(typeof body.error).toBe('string');
  return body;
}

export interface Vpc {
  id: string;
  name: string;
  cidr: string;
  vni: number;
}
export interface Subnet {
  id: string;
  vpc: string;
  name: string;
  cidr: string;
  gateway: string;
}
export interface Endpoint {
  id: string;
  kind: string;
  vpc: string;
  subnet: string;
  dpid: number;
  port: number;
  mac: string;
  ip: string;
  labels: Record<string, string>;
}

/** A VPC 10.0.0.0/16 with subnet 10.0.1.0/24. */
export async function vpcWithSubnet(app: FastifyInstance, cidr = '10.0.0.0/16', subnetCidr = '10.0.1.0/24'): Promise<{ vpc: Vpc; subnet: Subnet }> {
  const vpc = await ok<Vpc>(app, 'POST', '/v1/vpcs', { name: 'v', cidr });
  const subnet = await ok<Subnet>(app, 'POST', `/v1/vpcs/${vpc.id}/subnets`, { cidr: subnetCidr });
  return { vpc, subnet };
}
