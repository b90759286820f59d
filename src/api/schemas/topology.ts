/** Topology admin shapes: a switch, a link, a link's state, and the topology as JSON. */
import { Type } from '@sinclair/typebox';
import { linkId, type Topology } from '../../model/index.js';
import { formatIpv4, formatMac } from '../../net/index.js';
import { Dpid, PortNumber, PortRefJson, StrictObject } from './common.js';

const PortJson = Type.Object({ number: Type.Integer(), name: Type.Optional(Type.String()) });
const PortInput = StrictObject({ number: PortNumber, name: Type.Optional(Type.String({ maxLength: 64 })) });

export const AddSwitchBody = StrictObject({
  name: Type.String({ minLength: 1, maxLength: 64 }),
  dpid: Dpid,
  ports: Type.Array(Type.Union([PortNumber, PortInput]), { maxItems: 4096, description: 'Port numbers, or {number, name}' }),
});

export const AddLinkBody = StrictObject({
  a: PortRefJson,
  b: PortRefJson,
  up: Type.Optional(Type.Boolean({ default: true })),
});

export const LinkStateBody = StrictObject({ up: Type.Boolean({ description: 'false: no path uses the link; true: back in use' }) });

export const SwitchNameParams = StrictObject({ name: Type.String({ minLength: 1, maxLength: 64 }) });
export const LinkIdParams = StrictObject({ id: Type.String({ minLength: 1, maxLength: 160, description: 'The link id, `s1:2~s2:1` (ends sorted)' }) });

export const TopologyJson = Type.Object({
  name: Type.String(),
  switches: Type.Array(Type.Object({ name: Type.String(), dpid: Type.Integer(), ports: Type.Array(PortJson) })),
  links: Type.Array(
    Type.Object({
      id: Type.String(),
      a: PortRefJson,
      b: PortRefJson,
      up: Type.Boolean({ description: 'As configured (PATCH /v1/topology/links/:id)' }),
      operational: Type.Optional(Type.Union([Type.Literal('up'), Type.Literal('down')], { description: 'Up, or down because a switch reports one of its ports down' })),
    }),
  ),
  hosts: Type.Array(Type.Object({ name: Type.String(), mac: Type.String(), ip: Type.String(), attach: PortRefJson })),
});

export function topologyJson(t: Topology) {
  return {
    name: t.name,
    switches: t.switches.map((s) => ({ name: s.name, dpid: s.dpid, ports: s.ports })),
    links: t.links.map((l) => ({ id: linkId(l), a: l.a, b: l.b, up: l.up })),
    hosts: t.hosts.map((h) => ({ name: h.name, mac: formatMac(h.mac), ip: `${formatIpv4(h.ip)}/${h.prefixLength}`, attach: h.attach })),
  };
}
