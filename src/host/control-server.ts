/**
 * The test host's control API (plain HTTP + JSON on its control port), so `overcast lab ping`, the
 * lab's REST routes and the e2e tests can make a host ping, send UDP, or inject a raw frame (a
 * crafted TCP segment, say), and read the UDP datagrams and TCP segments it received. One host = one process = one container, as deployed.
 */
import http from 'node:http';
import { formatIpv4, formatMac, parseIpv4 } from '../net/index.js';
import type { TestHost } from './test-host.js';

const MAX_BODY_BYTES = 1 << 20;

type Json = Record<string, unknown>;

async function readJson(req: http.IncomingMessage): Promise<Json> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ControlError(413, 'body too large');
    chunks.push(c as Buffer);
  }
  if (size === 0) return {};
  try {
    const v: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v as Json;
  } catch {
    throw new ControlError(400, 'body is not a JSON object');
  }
}

class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function int(body: Json, field: string, dflt: number, min: number, max: number): number {
  const v = body[field] ?? dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ControlError(400, `${field} must be an integer in [${min}, ${max}]`);
  }
  return v;
}

function ipField(body: Json, field: string): number {
  const v = body[field];
  if (typeof v !== 'string') throw new ControlError(400, `${field} must be an IPv4 address`);
  try {
    return parseIpv4(v, field);
  } catch {
    throw new ControlError(400, `${field} must be an IPv4 address`);
  }
}

export function createHostControlServer(host: TestHost): http.Server {
  const routes: Record<string, (body: Json, url: URL) => Promise<unknown> | unknown> = {
    'GET /info': () => ({
      name: host.options.name,
      mac: formatMac(host.options.mac),
      ip: formatIpv4(host.options.ip),
      counters: host.counters,
    }),
    'POST /ping': async (body) =>
      host.ping(ipField(body, 'dst'), int(body, 'count', 3, 1, 10_000), int(body, 'timeoutMs', 1000, 1, 60_000), int(body, 'intervalMs', 0, 0, 10_000)),
    'POST /udp': async (body) => {
      const dst = ipField(body, 'dst');
      const count = int(body, 'count', 1, 1, 100_000);
      const srcPort = int(body, 'srcPort', 40000, 0, 65535);
      const dstPort = int(body, 'dstPort', 9, 0, 65535);
      const payload = typeof body.payloadHex === 'string' ? Buffer.from(body.payloadHex, 'hex') : Buffer.from(String(body.payload ?? ''));
      // `connections: true`: datagram i leaves from srcPort + i (mod the port space) carrying "<payload><i>",
      // so one call opens `count` distinct 5-tuples (load-balancer tests).
      const connections = body.connections === true;
      for (let i = 0; i < count; i++) {
        const sport = connections ? 1024 + ((srcPort - 1024 + i) % (65536 - 1024)) : srcPort;
        await host.sendUdp(dst, sport, dstPort, connections ? Buffer.concat([payload, Buffer.from(String(i))]) : payload);
      }
      return { sent: count };
    },
    'POST /frame': (body) => {
      if (typeof body.hex !== 'string' || !/^([0-9a-fA-F]{2})+$/.test(body.hex)) throw new ControlError(400, 'hex must be a hex string');
      host.sendFrame(Buffer.from(body.hex, 'hex'));
      return { sent: 1 };
    },
    'GET /received': (_body, url) => {
      const list = host.received.map((d) => ({
        atMs: d.atMs,
        proto: d.proto,
        tcpFlags: d.tcpFlags,
        srcMac: formatMac(d.srcMac),
        srcIp: formatIpv4(d.srcIp),
        dstIp: formatIpv4(d.dstIp),
        srcPort: d.srcPort,
        dstPort: d.dstPort,
        ttl: d.ttl,
        payloadHex: d.payload.toString('hex'),
        checksumsOk: d.checksumsOk,
      }));
      if (url.searchParams.get('clear') === '1') host.received.length = 0;
      return { received: list };
    },
  };

  return http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://host');
    const handler = routes[`${req.method} ${url.pathname}`];
    const send = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    if (!handler) return send(404, { error: `no route ${req.method} ${url.pathname}` });
    readJson(req)
      .then((body) => handler(body, url))
      .then((value) => send(200, value))
      .catch((e: unknown) => {
        if (e instanceof ControlError) send(e.status, { error: e.message });
        else send(500, { error: e instanceof Error ? e.message : String(e) });
      });
  });
}
