/**
 * Pure generators of standard topologies (the larger files in topologies/ are their output, and a test
 * keeps the committed files equal to it), plus formatTopologyYaml, which writes any topology in the
 * compact file format parseTopology reads.
 */
import { formatMac } from '../net/mac.js';
import { formatIpv4 } from '../net/ipv4.js';
import { formatPortRef, type HostSpec, type LinkSpec, type PortRef, type SwitchSpec, type Topology } from './topology.js';

/** Locally administered unicast MACs 02:00:00:00:00:01, ...; the i-th host (1-based). */
const HOST_MAC_BASE = 0x020000000000;
/** 10.0.0.0: hosts take 10.0.0.1.. in one /24 (up to 254 hosts) or one /16 beyond that. */
const HOST_IP_BASE = 0x0a000000;

/** The i-th (1-based) of `count` generated hosts. */
function host(i: number, count: number, attach: PortRef): HostSpec {
  return { name: `h${i}`, mac: HOST_MAC_BASE + i, ip: HOST_IP_BASE + i, prefixLength: count <= 254 ? 24 : 16, attach };
}

const ports = (n: number) => Array.from({ length: n }, (_, i) => ({ number: i + 1 }));
const link = (a: string, ap: number, b: string, bp: number): LinkSpec => ({ a: { switch: a, port: ap }, b: { switch: b, port: bp }, up: true });

/** n switches s1..sn in a line, one host each: host on port 1, port 2 to the left, port 3 to the right. */
export function generateLinear(n: number, name = `linear-${n}`): Topology {
  const switches: SwitchSpec[] = [];
  const links: LinkSpec[] = [];
  const hosts: HostSpec[] = [];
  for (let i = 1; i <= n; i++) {
    switches.push({ name: `s${i}`, dpid: i, ports: ports(3) });
    hosts.push(host(i, n, { switch: `s${i}`, port: 1 }));
    if (i > 1) links.push(link(`s${i - 1}`, 3, `s${i}`, 2));
  }
  return { name, switches, links, hosts };
}

/**
 * A two-tier Clos: every leaf links to every spine. Leaf ports 1..hostsPerLeaf are hosts, then one
 * uplink per spine; spine port j goes to leaf j. Spines take dpids 1..spines, leaves 101.. .
 */
export function generateLeafSpine(spines: number, leaves: number, hostsPerLeaf: number, name = 'leaf-spine'): Topology {
  const switches: SwitchSpec[] = [];
  const links: LinkSpec[] = [];
  const hosts: HostSpec[] = [];
  const hostCount = leaves * hostsPerLeaf;
  for (let s = 1; s <= spines; s++) switches.push({ name: `spine${s}`, dpid: s, ports: ports(leaves) });
  for (let l = 1; l <= leaves; l++) {
    const leaf = `leaf${l}`;
    switches.push({ name: leaf, dpid: 100 + l, ports: ports(hostsPerLeaf + spines) });
    for (let s = 1; s <= spines; s++) links.push(link(leaf, hostsPerLeaf + s, `spine${s}`, l));
    for (let h = 1; h <= hostsPerLeaf; h++) hosts.push(host((l - 1) * hostsPerLeaf + h, hostCount, { switch: leaf, port: h }));
  }
  return { name, switches, links, hosts };
}

/**
 * The k-ary fat tree (Al-Fares et al.): (k/2)^2 core switches, k pods of k/2 aggregation and k/2 edge
 * switches, k/2 hosts per edge switch. Edge ports 1..k/2 are hosts, k/2+1..k go to the pod's
 * aggregation switches; aggregation ports 1..k/2 go to the pod's edges, k/2+1..k to cores; core port p
 * goes to pod p. Core c (0-based) joins aggregation switch floor(c / (k/2)) of every pod.
 * Dpids: cores 1.., aggregation 101.., edge 201.. .
 */
export function generateFatTree(k: number, name = `fat-tree-k${k}`): Topology {
  if (k < 2 || k % 2 !== 0) throw new RangeError(`fat tree arity must be even and >= 2, not ${k}`);
  const half = k / 2;
  const switches: SwitchSpec[] = [];
  const links: LinkSpec[] = [];
  const hosts: HostSpec[] = [];
  const hostCount = k * half * half;
  for (let c = 1; c <= half * half; c++) switches.push({ name: `core${c}`, dpid: c, ports: ports(k) });
  for (let pod = 0; pod < k; pod++) {
    for (let a = 1; a <= half; a++) {
      const n = pod * half + a;
      switches.push({ name: `agg${n}`, dpid: 100 + n, ports: ports(k) });
    }
  }
  for (let pod = 0; pod < k; pod++) {
    for (let e = 1; e <= half; e++) {
      const n = pod * half + e;
      switches.push({ name: `edge${n}`, dpid: 200 + n, ports: ports(k) });
    }
  }
  for (let pod = 0; pod < k; pod++) {
    for (let e = 1; e <= half; e++) {
      const edge = `edge${pod * half + e}`;
      for (let a = 1; a <= half; a++) links.push(link(edge, half + a, `agg${pod * half + a}`, e));
      for (let h = 1; h <= half; h++) {
        const i = (pod * half + e - 1) * half + h;
        hosts.push(host(i, hostCount, { switch: edge, port: h }));
      }
    }
    for (let a = 1; a <= half; a++) {
      for (let j = 1; j <= half; j++) {
        const core = (a - 1) * half + j;
        links.push(link(`agg${pod * half + a}`, half + j, `core${core}`, pod + 1));
      }
    }
  }
  return { name, switches, links, hosts };
}

/** Plain scalars YAML would read as something other than a string. */
const YAML_KEYWORD = /^(true|false|null|yes|no|on|off|~)$/i;
const scalar = (s: string) => (YAML_KEYWORD.test(s) ? JSON.stringify(s) : s);

/** The compact file form of a topology (flow-style lines, one element each); parseTopology reads it back. */
export function formatTopologyYaml(t: Topology, comment?: string): string {
  const lines: string[] = [];
  if (comment) for (const c of comment.split('\n')) lines.push(`# ${c}`.trimEnd());
  lines.push(`name: ${scalar(t.name)}`, 'switches:');
  for (const sw of t.switches) {
    const named = sw.ports.some((p) => p.name !== undefined);
    const portList = named
      ? sw.ports.map((p) => (p.name === undefined ? `${p.number}` : `{ number: ${p.number}, name: ${JSON.stringify(p.name)} }`))
      : sw.ports.map((p) => `${p.number}`);
    lines.push(`  - { name: ${scalar(sw.name)}, dpid: ${sw.dpid}, ports: [${portList.join(', ')}] }`);
  }
  lines.push(t.links.length > 0 ? 'links:' : 'links: []');
  for (const l of t.links) {
    lines.push(l.up ? `  - [${formatPortRef(l.a)}, ${formatPortRef(l.b)}]` : `  - { a: ${formatPortRef(l.a)}, b: ${formatPortRef(l.b)}, up: false }`);
  }
  lines.push(t.hosts.length > 0 ? 'hosts:' : 'hosts: []');
  for (const h of t.hosts) {
    lines.push(
      `  - { name: ${scalar(h.name)}, mac: "${formatMac(h.mac)}", ip: ${formatIpv4(h.ip)}/${h.prefixLength}, attach: ${formatPortRef(h.attach)} }`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The shipped generated topologies: file name -> contents, as committed in topologies/. */
export function shippedGeneratedTopologies(): Map<string, string> {
  const note = 'Generated by src/model/generate-topology.ts (shippedGeneratedTopologies); do not edit by hand.';
  return new Map([
    ['linear-8.yaml', formatTopologyYaml(generateLinear(8), `8 switches in a line, one host each.\n${note}`)],
    ['leaf-spine.yaml', formatTopologyYaml(generateLeafSpine(2, 4, 4), `2 spines, 4 leaves, 4 hosts per leaf.\n${note}`)],
    ['fat-tree-k4.yaml', formatTopologyYaml(generateFatTree(4), `k=4 fat tree: 4 core, 8 aggregation, 8 edge switches, 16 hosts.\n${note}`)],
  ]);
}
