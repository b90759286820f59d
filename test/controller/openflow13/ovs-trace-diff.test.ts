/**
 * The differential test: for hundreds of frames (targeted and random), Open vSwitch's verdict
 * (`ofproto/trace`: output ports, header rewrites, drop) on a bridge our controller programmed equals
 * the softswitch's own executor on the same tables, switch by switch. Grows with every feature: a new
 * action OVS turns into a datapath action this file does not model fails loudly (./verdict.ts).
 * Skipped without root or Open vSwitch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostSpec, SwitchSpec } from '../../../src/model/index.js';
import { buildArpRequest } from '../../../src/net/packet/arp.js';
import { buildEthernet } from '../../../src/net/packet/ethernet.js';
import { buildIcmpEchoFrame } from '../../../src/net/packet/icmp.js';
import { buildTcpFrame } from '../../../src/net/packet/tcp.js';
import { buildUdpFrame } from '../../../src/net/packet/udp.js';
import { loadShipped } from '../../model/helpers.js';
import { canRunOvs } from '../../support/ovs.js';
import { startLiveFabric, type LiveFabric } from './helpers.js';
import { createOurJudge, frameFields, ovsVerdict, parseDpifShow, type Verdict } from './verdict.js';
import { prng } from '../../support/prng.js';

const LIVE = canRunOvs();
const RANDOM_FRAMES_PER_SWITCH = 120;
const BROADCAST = 0xffffffffffff;
const UNKNOWN_MAC = 0x02aa00000099;
const UNKNOWN_IP = 0x0a0000fe;

interface Probe {
  what: string;
  inPort: number;
  frame: Buffer;
}


function udp(srcMac: number, dstMac: number, srcIp: number, dstIp: number, ttl = 64): Buffer {
  return buildUdpFrame({ srcMac, dstMac, srcIp, dstIp, srcPort: 40000, dstPort: 7, ttl, payload: Buffer.from('overcast') });
}

/** Every host pair, ARP for everyone, spoofs, unknowns, broadcast, from host ports and link ports. */
function targetedProbes(sw: SwitchSpec, hosts: readonly HostSpec[], linkPorts: number[]): Probe[] {
  const probes: Probe[] = [];
  const local = hosts.filter((h) => h.attach.switch === sw.name);
  for (const a of local) {
    const p = a.attach.port;
    for (const b of hosts) {
      if (b !== a) probes.push({ what: `udp ${a.name}->${b.name}`, inPort: p, frame: udp(a.mac, b.mac, a.ip, b.ip) });
      probes.push({ what: `arp ${a.name} who-has ${b.name}`, inPort: p, frame: buildArpRequest({ srcMac: a.mac, srcIp: a.ip, targetIp: b.ip }) });
      if (b !== a) {
        probes.push({ what: `spoofed mac ${a.name} as ${b.name}`, inPort: p, frame: udp(b.mac, a.mac === BROADCAST ? 0 : hosts[0].mac, a.ip, b.ip) });
        probes.push({ what: `spoofed ip ${a.name} as ${b.name}`, inPort: p, frame: udp(a.mac, b.mac, b.ip, b.ip) });
        probes.push({ what: `spoofed arp ${a.name} as ${b.name}`, inPort: p, frame: buildArpRequest({ srcMac: a.mac, srcIp: b.ip, targetIp: a.ip }) });
      }
    }
    probes.push({ what: `unknown mac from ${a.name}`, inPort: p, frame: udp(a.mac, UNKNOWN_MAC, a.ip, UNKNOWN_IP) });
    probes.push({ what: `arp for unknown ip from ${a.name}`, inPort: p, frame: buildArpRequest({ srcMac: a.mac, srcIp: a.ip, targetIp: UNKNOWN_IP }) });
    probes.push({ what: `broadcast udp from ${a.name}`, inPort: p, frame: udp(a.mac, BROADCAST, a.ip, 0xffffffff) });
    probes.push({ what: `multicast from ${a.name}`, inPort: p, frame: udp(a.mac, 0x01005e000001, a.ip, 0xe0000001) });
    probes.push({ what: `ipv6 from ${a.name}`, inPort: p, frame: buildEthernet({ dst: BROADCAST, src: a.mac, ethType: 0x86dd, payload: Buffer.alloc(40) }) });
  }
  for (const p of linkPorts) {
    for (const b of hosts) {
      const a = hosts.find((h) => h !== b) ?? b;
      probes.push({ what: `udp via link ${p} to ${b.name}`, inPort: p, frame: udp(a.mac, b.mac, a.ip, b.ip) });
      probes.push({ what: `arp via link ${p} for ${b.name}`, inPort: p, frame: buildArpRequest({ srcMac: a.mac, srcIp: a.ip, targetIp: b.ip }) });
    }
    probes.push({ what: `unknown mac via link ${p}`, inPort: p, frame: udp(hosts[0].mac, UNKNOWN_MAC, hosts[0].ip, UNKNOWN_IP) });
  }
  return probes;
}

/** Random frames over a pool of known and unknown addresses, protocols and ports. */
function randomProbes(sw: SwitchSpec, hosts: readonly HostSpec[], n: number, seed: number): Probe[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const macs = [...hosts.map((h) => h.mac), UNKNOWN_MAC, BROADCAST, 0x01005e000001];
  const ips = [...hosts.map((h) => h.ip), UNKNOWN_IP, 0];
  const ports = sw.ports.map((p) => p.number);
  const probes: Probe[] = [];
  for (let i = 0; i < n; i++) {
    const srcMac = pick(macs.slice(0, -2).concat([UNKNOWN_MAC]));
    const dstMac = pick(macs);
    const srcIp = pick(ips);
    const dstIp = pick(ips);
    const inPort = pick(ports);
    const kind = pick(['udp', 'tcp', 'icmp', 'arp', 'arp', 'other'] as const);
    const ttl = pick([64, 1, 2, 255]);
    let frame: Buffer;
    switch (kind) {
      case 'udp':
        frame = udp(srcMac, dstMac, srcIp, dstIp, ttl);
        break;
      case 'tcp':
        frame = buildTcpFrame({ srcMac, dstMac, srcIp, dstIp, ttl, srcPort: 1 + Math.floor(rnd() * 65534), dstPort: pick([22, 80, 443]), flags: 0x02 });
        break;
      case 'icmp':
        frame = buildIcmpEchoFrame({ srcMac, dstMac, srcIp, dstIp, ttl, type: 'request', id: 7, seq: i });
        break;
      case 'arp':
        frame = buildArpRequest({ srcMac, srcIp, targetIp: dstIp, dstMac: rnd() < 0.8 ? BROADCAST : dstMac });
        break;
      case 'other':
        frame = buildEthernet({ dst: dstMac, src: srcMac, ethType: pick([0x88cc, 0x86dd, 0x8847]), payload: Buffer.alloc(46, i) });
        break;
    }
    probes.push({ what: `random #${i} ${kind}`, inPort, frame });
  }
  return probes;
}

describe.skipIf(!LIVE).each(['demo.yaml', 'leaf-spine.yaml'])('%s: ofproto/trace equals the softswitch executor', (file) => {
  let fab: LiveFabric;
  let odp: Map<string, Map<number, number>>;

  beforeAll(async () => {
    fab = await startLiveFabric(loadShipped(file));
    odp = parseDpifShow(await fab.lab.ovs.appctl('dpif/show'));
  }, 30_000);
  afterAll(async () => {
    await fab?.stop();
  });

  it('targeted and random frames get the same verdict on every bridge', async () => {
    const { topology } = fab;
    let compared = 0;
    const mismatches: { sw: string; what: string; ovs: Verdict; ours: Verdict }[] = [];
    const outputs = { forwarded: 0, dropped: 0, rewritten: 0 };
    for (const [i, sw] of topology.switches.entries()) {
      const flows = fab.tables.get(sw.dpid) ?? [];
      const judge = createOurJudge(flows, sw.ports.map((p) => p.number));
      const linkPorts = topology.links.flatMap((l) => [l.a, l.b]).filter((e) => e.switch === sw.name).map((e) => e.port);
      const probes = [...targetedProbes(sw, topology.hosts, linkPorts), ...randomProbes(sw, topology.hosts, RANDOM_FRAMES_PER_SWITCH, 1000 + i)];
      const odpToOf = odp.get(sw.name);
      if (!odpToOf) throw new Error(`bridge ${sw.name} missing from dpif/show`);
      for (const p of probes) {
        const trace = await fab.lab.ovs.unixctl('ofproto/trace', sw.name, `in_port=${p.inPort}`, p.frame.toString('hex'));
        const theirs = ovsVerdict(trace, frameFields(p.frame, p.inPort), odpToOf);
        const ours = judge(p.frame, p.inPort);
        compared++;
        if (ours.outputs.length === 0) outputs.dropped++;
        else outputs.forwarded++;
        if (ours.outputs.some((o) => Object.keys(o.changed).length > 0)) outputs.rewritten++;
        if (JSON.stringify(theirs) !== JSON.stringify(ours)) mismatches.push({ sw: sw.name, what: p.what, ovs: theirs, ours });
      }
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
    expect(compared).toBeGreaterThanOrEqual(300);
    // The probes exercise every kind of verdict, not just drops.
    expect(outputs.forwarded).toBeGreaterThan(30);
    expect(outputs.dropped).toBeGreaterThan(30);
    expect(outputs.rewritten).toBeGreaterThan(10);
  }, 60_000);
});
