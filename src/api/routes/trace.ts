/**
 * POST /v1/trace: a packet description and a starting switch port in, its path through the compiled
 * tables out (tables hit, flows matched with their owner, rewrites, where it leaves or why it drops).
 * A read: it changes nothing, so a read token may call it.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { TracePacket } from '../../compiler/index.js';
import { OvercastError } from '../../errors/index.js';
import type { Topology } from '../../model/index.js';
import type { ApiServices } from '../services.js';
import { parseIpv4, parseMac } from '../../net/index.js';
import { Dpid, PortNumber, StrictObject } from '../schemas/common.js';

const Mac = Type.String({ pattern: '^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$' });
const Ip = Type.String({ maxLength: 15, description: 'Dotted quad' });
const Vlan = Type.Optional(Type.Integer({ minimum: 0, maximum: 4095 }));

const TraceBody = StrictObject({
  dpid: Dpid,
  inPort: PortNumber,
  packet: Type.Union([
    StrictObject({
      kind: Type.Union([Type.Literal('udp'), Type.Literal('tcp'), Type.Literal('icmp')]),
      ethSrc: Mac,
      ethDst: Mac,
      ipv4Src: Ip,
      ipv4Dst: Ip,
      ttl: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
      l4Src: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
      l4Dst: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
      vlan: Vlan,
    }),
    StrictObject({
      kind: Type.Literal('arp'),
      op: Type.Union([Type.Literal('request'), Type.Literal('reply')]),
      ethSrc: Mac,
      ethDst: Type.Optional(Mac),
      arpSha: Mac,
      arpSpa: Ip,
      arpTpa: Ip,
      arpTha: Type.Optional(Mac),
      vlan: Vlan,
    }),
  ]),
});
type TraceBody = Static<typeof TraceBody>;

function toTracePacket(p: TraceBody['packet']): TracePacket {
  if (p.kind === 'arp') {
    return {
      kind: 'arp',
      op: p.op,
      ethSrc: parseMac(p.ethSrc, 'body.packet.ethSrc'),
      ...(p.ethDst ? { ethDst: parseMac(p.ethDst, 'body.packet.ethDst') } : {}),
      arpSha: parseMac(p.arpSha, 'body.packet.arpSha'),
      arpSpa: parseIpv4(p.arpSpa, 'body.packet.arpSpa'),
      arpTpa: parseIpv4(p.arpTpa, 'body.packet.arpTpa'),
      ...(p.arpTha ? { arpTha: parseMac(p.arpTha, 'body.packet.arpTha') } : {}),
      ...(p.vlan !== undefined ? { vlan: p.vlan } : {}),
    };
  }
  return {
    kind: p.kind,
    ethSrc: parseMac(p.ethSrc, 'body.packet.ethSrc'),
    ethDst: parseMac(p.ethDst, 'body.packet.ethDst'),
    ipv4Src: parseIpv4(p.ipv4Src, 'body.packet.ipv4Src'),
    ipv4Dst: parseIpv4(p.ipv4Dst, 'body.packet.ipv4Dst'),
    ...(p.ttl !== undefined ? { ttl: p.ttl } : {}),
    ...(p.l4Src !== undefined ? { l4Src: p.l4Src } : {}),
    ...(p.l4Dst !== undefined ? { l4Dst: p.l4Dst } : {}),
    ...(p.vlan !== undefined ? { vlan: p.vlan } : {}),
  };
}

/** A Uint8Array, or a Buffer after its toJSON ({type: 'Buffer', data}). */
function isBytes(v: unknown): boolean {
  if (v instanceof Uint8Array) return true;
  const b = v as { type?: unknown; data?: unknown } | null;
  return typeof b === 'object' && b !== null && b.type === 'Buffer' && Array.isArray(b.data);
}
function bytesOf(v: unknown): Uint8Array | number[] {
  return v instanceof Uint8Array ? v : (v as { data: number[] }).data;
}

export const TraceJson = Type.Object(
  {
    hops: Type.Array(Type.Object({}, { additionalProperties: true }), { description: 'Switch by switch: tables hit, flows matched with their owner, rewrites, outputs' }),
    exits: Type.Array(Type.Object({}, { additionalProperties: true }), { description: 'Where copies of the packet leave the fabric' }),
    drops: Type.Array(Type.Object({}, { additionalProperties: true }), { description: 'Where and why copies were dropped' }),
    truncated: Type.Boolean({ description: 'The walk stopped at its hop limit' }),
  },
  { additionalProperties: true },
);

/** The trace starts at a port of a switch the topology has; anything else is a typed 404. */
function checkStart(topology: Topology, dpid: number, inPort: number): void {
  const sw = topology.switches.find((s) => s.dpid === dpid);
  if (!sw) throw new OvercastError('OVC_ERR_TOPO_UNKNOWN_SWITCH', `no switch with dpid ${dpid}`, 'body.dpid');
  if (!sw.ports.some((p) => p.number === inPort)) throw new OvercastError('OVC_ERR_TOPO_UNKNOWN_PORT', `switch ${sw.name} has no port ${inPort}`, 'body.inPort');
}

export function registerTraceRoutes(app: FastifyInstance, trace: NonNullable<ApiServices['trace']>, topology?: () => Topology | Promise<Topology>): void {
  app.post(
    '/v1/trace',
    {
      config: { access: 'read' },
      schema: {
        tags: ['trace'],
        operationId: 'tracePacket',
        summary: "A packet's path through the compiled tables",
        description: 'Walks a described packet from a switch port through the flow tables the controller compiled, switch by switch: tables, flows and their owners, rewrites, where it leaves or why it drops. Changes nothing.',
        body: TraceBody,
        response: { 200: TraceJson },
      },
    },
    async (request) => {
      const body = request.body as TraceBody;
      if (topology) checkStart(await topology(), body.dpid, body.inPort);
      const result = trace({ dpid: body.dpid, inPort: body.inPort, packet: toTracePacket(body.packet) });
      // Frames are bytes; the API shows them as hex.
      return JSON.parse(JSON.stringify(result, (_k, v: unknown) => (isBytes(v) ? Buffer.from(bytesOf(v)).toString('hex') : v)));
    },
  );
}
