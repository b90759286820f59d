/**
 * Helpers for end-to-end tests: talk to lab hosts' control APIs and the controller's REST API.
 *
 * The controller's API wants the lab's token; tests start labs with this module's `startLab`, which
 * remembers each lab's token by its API's origin, and every request here sends it to that origin
 * (hosts' control APIs take none).
 */
import pino from 'pino';
import { startLab as startLabProcesses, type LabHandle, type LabOptions } from '../../src/lab/index.js';
import { TestHost } from '../../src/host/index.js';
import { cidrContaining, parseIpv4, parseMac } from '../../src/net/index.js';
import { notYet, waitFor } from '../support/wait-for.js';

export { notYet, waitFor };

const hostLogger = pino({ level: 'warn' });

/** Lab tokens by the origin of the lab's REST API. */
const tokens = new Map<string, string>();

/** startLab, remembering the lab's token for the requests below. */
export async function startLab(o: LabOptions): Promise<LabHandle> {
  const lab = await startLabProcesses(o);
  for (const url of [lab.apiUrl, ...lab.controllers.map((c) => c.apiUrl)]) tokens.set(new URL(url).origin, lab.token);
  return lab;
}

/** The Authorization header for a URL of a lab's API (none for other URLs). */
export function authFor(url: string): Record<string, string> {
  const token = tokens.get(new URL(url).origin);
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** A JSON request to the controller's (or a host's) REST API; a non-2xx answer throws with its body. */
export async function send<T = Record<string, unknown>>(url: string, body?: unknown, method = 'POST'): Promise<T> {
  const headers = { ...authFor(url), ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
  const res = await fetch(url, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const json = (res.status === 204 ? {} : await res.json()) as T;
  if (!res.ok) throw new Error(`${method} ${url}: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json;
}

export const post = <T>(url: string, body: unknown): Promise<T> => send<T>(url, body, 'POST');
export const patch = <T>(url: string, body: unknown): Promise<T> => send<T>(url, body, 'PATCH');
export const get = <T>(url: string): Promise<T> => send<T>(url, undefined, 'GET');

interface SwitchSync {
  dpid: number;
  connected: boolean;
  desiredFlows: number;
  installedFlows: number;
}

/** Waits until every switch is connected and holds the flows the controller wants it to hold. */
export async function switchesInSync(apiUrl: string, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    'every switch connected and holding its desired flows',
    async () => {
      const { switches } = await get<{ switches: SwitchSync[] }>(`${apiUrl}/v1/switches`);
      const behind = switches.filter((s) => !s.connected || s.desiredFlows !== s.installedFlows);
      return behind.length === 0 || notYet({ behind: behind.map(({ dpid, connected, desiredFlows, installedFlows }) => ({ dpid, connected, desiredFlows, installedFlows })) });
    },
    { timeoutMs },
  );
}

/** The e2e tests' VPC: "shop", 10.1.0.0/16, with one subnet 10.1.0.0/24 for the function instances. */
export interface ShopVpc {
  vpc: string;
  subnet: string;
  /** Registers a function instance (an endpoint of kind function) in the subnet; labels default to function "web". */
  addFunction(at: { dpid: number; port: number; ip: string; mac: string; labels?: Record<string, string> }): Promise<{ id: string }>;
}

export async function createShopVpc(api: string): Promise<ShopVpc> {
  const vpc = (await post<{ id: string }>(`${api}/v1/vpcs`, { name: 'shop', cidr: '10.1.0.0/16' })).id;
  const subnet = (await post<{ id: string }>(`${api}/v1/vpcs/${vpc}/subnets`, { cidr: '10.1.0.0/24' })).id;
  return {
    vpc,
    subnet,
    addFunction: ({ labels = { function: 'web' }, ...at }) => post<{ id: string }>(`${api}/v1/endpoints`, { kind: 'function', vpc, subnet, ...at, labels }),
  };
}

export interface Received {
  proto: 'udp' | 'tcp';
  /** The TCP flags byte (0 for UDP). */
  tcpFlags: number;
  srcIp: string;
  srcPort: number;
  dstPort: number;
  ttl: number;
  payloadHex: string;
  checksumsOk: boolean;
}

export async function received(hostUrl: string, clear = true): Promise<Received[]> {
  return (await get<{ received: Received[] }>(`${hostUrl}/received${clear ? '?clear=1' : ''}`)).received;
}

/** What a test host plugged into a lab port is: its addresses, its prefix (default 24) and its gateway. */
export interface PlugOptions {
  name: string;
  mac: string;
  ip: string;
  prefix?: number;
  gateway: string;
}

/**
 * A test host in this process, plugged into a switch port of the lab (the port learns the host from its
 * first frame); started, and pushed on `hosts` so the test can stop them all.
 */
export async function plugHost(lab: LabHandle, hosts: TestHost[], sw: string, port: number, o: PlugOptions): Promise<TestHost> {
  const sp = lab.plan.switches.find((s) => s.name === sw)?.ports.find((p) => p.number === port);
  if (!sp) throw new Error(`no ${sw}:${port}`);
  const ip = parseIpv4(o.ip);
  const h = new TestHost(
    { name: o.name, mac: parseMac(o.mac), ip, subnet: cidrContaining(ip, o.prefix ?? 24), gateway: parseIpv4(o.gateway), bind: { host: '127.0.0.1', port: 0 }, peer: sp.bind },
    { logger: hostLogger, nowMs: () => performance.now() },
  );
  await h.start();
  hosts.push(h);
  return h;
}

/** The switch kinds an end-to-end suite runs on with describe.each: its label and the lab's `switches`. */
export const SWITCH_KINDS = [
  ['softswitches', 'soft'],
  ['Open vSwitch bridges', 'ovs'],
] as const;

/** A lab host standing for an endpoint: the endpoint's id and address, the host's control URL. */
export interface PlacedHost {
  id: string;
  ip: string;
  url: string;
}

/** One VPC with one /24 subnet on the lab's API. */
export async function vpcWithSubnet(api: string, name: string, cidr: string, subnetCidr: string): Promise<{ vpc: string; subnet: { id: string; gateway: string } }> {
  const vpc = String((await post<{ id: string }>(`${api}/v1/vpcs`, { name, cidr })).id);
  const subnet = await post<{ id: string; gateway: string }>(`${api}/v1/vpcs/${vpc}/subnets`, { cidr: subnetCidr });
  return { vpc, subnet };
}

/**
 * Creates an endpoint on `dpid` (port 1 unless told, in the given security groups if any) and
 * attaches a lab host for it to the same port of `leaf`.
 */
export async function placeHost(
  lab: LabHandle,
  name: string,
  kind: string,
  at: { vpc: string; subnet: { id: string; gateway: string } },
  dpid: number,
  leaf: string,
  o: { port?: number; securityGroups?: string[] } = {},
): Promise<PlacedHost> {
  const port = o.port ?? 1;
  const ep = await post<{ id: string; mac: string; ip: string }>(`${lab.apiUrl}/v1/endpoints`, { kind, vpc: at.vpc, subnet: at.subnet.id, dpid, port, ...(o.securityGroups ? { securityGroups: o.securityGroups } : {}) });
  const url = await lab.attachHost({ name, mac: ep.mac, ip: `${ep.ip}/24`, gateway: at.subnet.gateway, switch: leaf, port });
  return { id: ep.id, ip: ep.ip, url };
}

/** A server-sent-event stream being read into `text` (every chunk so far, concatenated). */
export interface EventStream {
  readonly text: () => string;
  /** The data of every complete event of this type so far, parsed. */
  events(type: string): Record<string, unknown>[];
  /** Waits for the first event of this type and returns its data; a timeout fails with the stream so far. */
  waitForEvent(type: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

/**
 * Opens `GET /v1/events` and resolves once the controller has subscribed it: the route writes its
 * preamble and subscribes in one synchronous step, so events emitted after this resolves are on the
 * stream (a bare fetch() resolves before that, and traffic sent then may raise events the stream
 * never sees).
 */
export async function openEventStream(apiUrl: string, types: string): Promise<EventStream> {
  const chunks: string[] = [];
  const abort = new AbortController();
  const res = await fetch(`${apiUrl}/v1/events?types=${encodeURIComponent(types)}`, { headers: authFor(apiUrl), signal: abort.signal });
  if (!res.ok || !res.body) throw new Error(`GET /v1/events: HTTP ${res.status}`);
  const reader = res.body.getReader();
  let failure: unknown;
  const reading = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      chunks.push(Buffer.from(value).toString());
    }
  })().catch((e: unknown) => {
    if (!abort.signal.aborted) failure = e;
  });
  const text = () => chunks.join('');
  const events = (type: string) =>
    text()
      .split('\n\n')
      .slice(0, -1) // the last piece is an event still arriving (or empty)
      .map((frame) => frame.split('\n'))
      .filter((lines) => lines.includes(`event: ${type}`))
      .map((lines) => JSON.parse(lines.find((l) => l.startsWith('data: '))?.slice(6) ?? '{}') as Record<string, unknown>);
  await waitFor('the event stream to open', () => text().includes(': overcast events') || notYet(text()), { timeoutMs: 10_000, everyMs: 10 });
  return {
    text,
    events,
    waitForEvent: (type, timeoutMs = 5000) =>
      waitFor(`a ${type} event`, () => events(type)[0] ?? notYet(failure ?? text()), { timeoutMs, everyMs: 10 }),
    async close() {
      abort.abort();
      await reading;
      if (failure) throw failure;
    },
  };
}
