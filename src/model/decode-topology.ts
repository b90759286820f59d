/**
 * The shape of a topology document (what parseTopology reads after YAML): checks types and turns text
 * (`s1:2`, MACs, `10.0.0.1/24`) into the typed value. A broken element is kept with placeholder values
 * (NaN, '') so the value rules (./check-topology.ts) can still run on everything around it; the caller
 * drops the value-rule problems that fall under a field this stage already reported.
 */
import type { ProblemDetail } from '../errors/index.js';
import { isOvercastError } from '../errors/index.js';
import { parseMac } from '../net/mac.js';
import { parseIpv4 } from '../net/ipv4.js';
import type { TopologyPaths } from './check-topology.js';
import { parseCidr } from '../net/cidr.js';
import type { GatewaySpec, HostSpec, LinkSpec, PortRef, PortSpec, SwitchSpec, Topology } from './topology.js';

export interface DecodedTopology {
  topology: Topology;
  paths: TopologyPaths;
  problems: ProblemDetail[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const TOP_KEYS = ['name', 'switches', 'links', 'hosts', 'gateways'];
const SWITCH_KEYS = ['name', 'dpid', 'ports'];
const PORT_KEYS = ['number', 'name'];
const LINK_KEYS = ['a', 'b', 'up'];
const HOST_KEYS = ['name', 'mac', 'ip', 'attach'];
const REF_KEYS = ['switch', 'port'];
const GATEWAY_KEYS = ['name', 'attach', 'mac', 'ip', 'routerMac', 'publicPool'];
const PORT_REF_TEXT = /^([^:\s]+):([0-9]+)$/;
const HOST_ADDRESS_TEXT = /^([^/]*)\/([0-9]{1,2})$/;

export function decodeTopology(raw: unknown): DecodedTopology {
  const problems: ProblemDetail[] = [];
  const schema = (field: string, message: string) => problems.push({ code: 'OVC_ERR_TOPO_SCHEMA', message, field });

  const unknownKeys = (o: Obj, allowed: readonly string[], at: string) => {
    for (const k of Object.keys(o)) {
      if (!allowed.includes(k)) schema(join(at, k), `unknown field "${k}" (expected one of ${allowed.join(', ')})`);
    }
  };
  const str = (o: Obj, key: string, at: string): string => {
    const v = o[key];
    if (typeof v === 'string') return v;
    schema(join(at, key), v === undefined ? `missing ${key}` : `${key} must be a string`);
    return '';
  };
  const int = (v: unknown, field: string, what: string): number => {
    if (typeof v === 'number' && Number.isInteger(v)) return v;
    schema(field, v === undefined ? `missing ${what}` : `${what} must be an integer`);
    return NaN;
  };
  const list = (o: Obj, key: string, required: boolean): unknown[] => {
    const v = o[key];
    if (Array.isArray(v)) return v;
    if (v === undefined || v === null) {
      if (required) schema(key, `missing ${key} (a list)`);
    } else schema(key, `${key} must be a list`);
    return [];
  };
  const portRef = (v: unknown, field: string): PortRef => {
    if (typeof v === 'string') {
      const m = PORT_REF_TEXT.exec(v);
      if (m) return { switch: m[1], port: Number(m[2]) };
      schema(field, `"${v}" is not switch:port`);
      return { switch: '', port: NaN };
    }
    if (isObj(v)) {
      unknownKeys(v, REF_KEYS, field);
      return { switch: str(v, 'switch', field), port: int(v.port, `${field}.port`, 'port') };
    }
    schema(field, v === undefined ? 'missing switch:port' : 'expected switch:port or {switch, port}');
    return { switch: '', port: NaN };
  };

  const top: Obj = isObj(raw) ? raw : {};
  if (!isObj(raw)) {
    problems.push({ code: 'OVC_ERR_TOPO_SCHEMA', message: 'a topology file is a mapping with name, switches, links, hosts' });
  }
  unknownKeys(top, TOP_KEYS, '');
  const name = str(top, 'name', '').trim();

  const paths: TopologyPaths = { switches: [], links: [], hosts: [] };

  const switches = list(top, 'switches', true).map((v, i): SwitchSpec => {
    const at = `switches[${i}]`;
    paths.switches.push(at);
    if (!isObj(v)) {
      schema(at, 'a switch is a mapping with name, dpid, ports');
      return { name: '', dpid: NaN, ports: [] };
    }
    unknownKeys(v, SWITCH_KEYS, at);
    const rawPorts = v.ports;
    if (!Array.isArray(rawPorts)) schema(`${at}.ports`, rawPorts === undefined ? 'missing ports' : 'ports must be a list');
    const ports = (Array.isArray(rawPorts) ? rawPorts : []).map((p, j): PortSpec => {
      const field = `${at}.ports[${j}]`;
      if (isObj(p)) {
        unknownKeys(p, PORT_KEYS, field);
        const number = int(p.number, `${field}.number`, 'port number');
        if (p.name === undefined) return { number };
        if (typeof p.name !== 'string') schema(`${field}.name`, 'a port name must be a string');
        return { number, name: String(p.name) };
      }
      return { number: int(p, field, 'port number') };
    });
    return { name: str(v, 'name', at), dpid: int(v.dpid, `${at}.dpid`, 'dpid'), ports };
  });

  const links = list(top, 'links', false).map((v, i): LinkSpec => {
    const self = `links[${i}]`;
    if (Array.isArray(v)) {
      paths.links.push({ self, a: `${self}[0]`, b: `${self}[1]` });
      if (v.length !== 2) {
        schema(self, 'a link is a pair [switch:port, switch:port]');
        return { a: { switch: '', port: NaN }, b: { switch: '', port: NaN }, up: true };
      }
      return { a: portRef(v[0], `${self}[0]`), b: portRef(v[1], `${self}[1]`), up: true };
    }
    paths.links.push({ self, a: `${self}.a`, b: `${self}.b` });
    if (!isObj(v)) {
      schema(self, 'a link is [switch:port, switch:port] or {a, b, up}');
      return { a: { switch: '', port: NaN }, b: { switch: '', port: NaN }, up: true };
    }
    unknownKeys(v, LINK_KEYS, self);
    let up = true;
    if (v.up !== undefined) {
      if (typeof v.up === 'boolean') up = v.up;
      else schema(`${self}.up`, 'up must be true or false');
    }
    return { a: portRef(v.a, `${self}.a`), b: portRef(v.b, `${self}.b`), up };
  });

  const hosts = list(top, 'hosts', false).map((v, i): HostSpec => {
    const at = `hosts[${i}]`;
    paths.hosts.push(at);
    if (!isObj(v)) {
      schema(at, 'a host is a mapping with name, mac, ip, attach');
      return { name: '', mac: NaN, ip: NaN, prefixLength: NaN, attach: { switch: '', port: NaN } };
    }
    unknownKeys(v, HOST_KEYS, at);
    let mac = NaN;
    if (typeof v.mac !== 'string') schema(`${at}.mac`, v.mac === undefined ? 'missing mac' : 'mac must be a string aa:bb:cc:dd:ee:ff');
    else mac = parseOr(problems, () => parseMac(v.mac as string, `${at}.mac`));
    let ip = NaN;
    let prefixLength = NaN;
    if (typeof v.ip !== 'string') {
      schema(`${at}.ip`, v.ip === undefined ? 'missing ip' : 'ip must be a string a.b.c.d/len');
    } else {
      const m = HOST_ADDRESS_TEXT.exec(v.ip);
      if (!m) problems.push({ code: 'OVC_ERR_NET_BAD_CIDR', message: `"${v.ip}" is not address/prefix-length`, field: `${at}.ip` });
      else {
        ip = parseOr(problems, () => parseIpv4(m[1], `${at}.ip`));
        prefixLength = Number(m[2]);
      }
    }
    return { name: str(v, 'name', at), mac, ip, prefixLength, attach: portRef(v.attach, `${at}.attach`) };
  });

  const macField = (v: Obj, key: string, at: string): number => {
    if (typeof v[key] !== 'string') {
      schema(`${at}.${key}`, v[key] === undefined ? `missing ${key}` : `${key} must be a string aa:bb:cc:dd:ee:ff`);
      return NaN;
    }
    return parseOr(problems, () => parseMac(v[key] as string, `${at}.${key}`));
  };
  const addressField = (v: Obj, key: string, at: string): { ip: number; prefixLength: number } => {
    if (typeof v[key] !== 'string') {
      schema(`${at}.${key}`, v[key] === undefined ? `missing ${key}` : `${key} must be a string a.b.c.d/len`);
      return { ip: NaN, prefixLength: NaN };
    }
    const m = HOST_ADDRESS_TEXT.exec(v[key] as string);
    if (!m) {
      problems.push({ code: 'OVC_ERR_NET_BAD_CIDR', message: `"${String(v[key])}" is not address/prefix-length`, field: `${at}.${key}` });
      return { ip: NaN, prefixLength: NaN };
    }
    return { ip: parseOr(problems, () => parseIpv4(m[1], `${at}.${key}`)), prefixLength: Number(m[2]) };
  };

  const hasGateways = top.gateways !== undefined;
  paths.gateways = [];
  const gateways = list(top, 'gateways', false).map((v, i): GatewaySpec => {
    const at = `gateways[${i}]`;
    paths.gateways?.push(at);
    const pool = { network: NaN, prefixLength: NaN };
    if (!isObj(v)) {
      schema(at, 'a gateway is a mapping with name, attach, mac, ip, routerMac, publicPool');
      return { name: '', attach: { switch: '', port: NaN }, mac: NaN, ip: NaN, prefixLength: NaN, routerMac: NaN, publicPool: pool };
    }
    unknownKeys(v, GATEWAY_KEYS, at);
    const { ip, prefixLength } = addressField(v, 'ip', at);
    if (typeof v.publicPool !== 'string') schema(`${at}.publicPool`, v.publicPool === undefined ? 'missing publicPool' : 'publicPool must be a string a.b.c.d/len');
    else {
      const c = parseOr(problems, () => {
        const cidr = parseCidr(v.publicPool as string, `${at}.publicPool`);
        pool.prefixLength = cidr.prefixLength;
        return cidr.network;
      });
      pool.network = c;
    }
    return { name: str(v, 'name', at), attach: portRef(v.attach, `${at}.attach`), mac: macField(v, 'mac', at), ip, prefixLength, routerMac: macField(v, 'routerMac', at), publicPool: pool };
  });

  const topology: Topology = hasGateways ? { name, switches, links, hosts, gateways } : { name, switches, links, hosts };
  return { topology, paths, problems };
}

function join(at: string, key: string): string {
  return at ? `${at}.${key}` : key;
}

/** Runs a src/net parser; its OvercastError becomes a problem and the value a NaN placeholder. */
function parseOr(problems: ProblemDetail[], parse: () => number): number {
  try {
    return parse();
  } catch (e) {
    if (!isOvercastError(e)) throw e;
    problems.push(...e.problems);
    return NaN;
  }
}
