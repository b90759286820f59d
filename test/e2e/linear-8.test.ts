/**
 * The foundation end to end on linear-8, with real processes: a controller, eight softswitches and
 * eight hosts on 127.0.0.1. Every pair talks; pings cross all eight switches, in and out of the ports
 * of the line (the switches' port counters say where the frames went); unknown destinations are
 * dropped and counted; a killed switch comes back; forwarding survives the controller's absence
 * (fail-secure).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUdpFrame, parseIpv4, parseMac } from '../../src/net/index.js';
import type { LabHandle } from '../../src/lab/index.js';
import { get, notYet, post, received, startLab, waitFor } from './lab-client.js';
import { expectAllPairsExchangeUdp } from './all-pairs.js';

interface PortStats {
  port: number;
  rxPackets: number;
  txPackets: number;
}
interface SwitchesReply {
  switches: {
    dpid: number;
    connected: boolean;
    connectedAtMs?: number;
    counters?: { syncs: number };
    packets?: { rx: number; tx: number; rxDropped: number };
    portStats?: PortStats[];
  }[];
}

/** Data frames (link probes aside) each port of each switch received and sent, by "dpid:port". */
type PortCounts = Map<string, { rx: number; tx: number }>;

/** Ports of switch i (1..8) of the line: host on 1, previous switch on 2, next switch on 3. */
const HOST_PORT = 1;
const LEFT_PORT = 2;
const RIGHT_PORT = 3;

describe('linear-8 lab', () => {
  let lab: LabHandle;
  beforeAll(async () => {
    lab = await startLab({ topologyFile: 'topologies/linear-8.yaml', logLevel: 'warn', readyTimeoutMs: 60_000 });
  }, 90_000);
  afterAll(async () => {
    await lab?.stop();
  });

  it('every host pair exchanges UDP with the payload intact', async () => {
    expect(await expectAllPairsExchangeUdp(lab)).toBe(8 * 7);
  });

  it('answers ping end to end across all eight switches, along the line and nowhere else', async () => {
    const first = lab.plan.hosts[0];
    const last = lab.plan.hosts[7];
    const PINGS = 20;
    const before = await portCounts();
    const r = await post<{ sent: number; received: number }>(`${lab.apiUrl}/v1/lab/ping`, { from: first.name, to: last.name, count: PINGS });
    expect(r.received).toBe(PINGS);
    const moved = delta(before, await portCounts());
    // Requests go h1 -> s1:1, out s1:3 -> s2:2, out s2:3 -> ... -> s8:2, out s8:1 -> h8; replies the
    // other way: every port on the line receives and sends every ping once.
    const onPath = lab.plan.switches.flatMap((s, i) => [`${s.dpid}:${i === 0 ? HOST_PORT : LEFT_PORT}`, `${s.dpid}:${i === 7 ? HOST_PORT : RIGHT_PORT}`]);
    expect(lab.plan.switches.map((s) => s.dpid)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const short = onPath.filter((k) => (moved.get(k)?.rx ?? 0) < PINGS || (moved.get(k)?.tx ?? 0) < PINGS);
    expect(short, `ports on the line that did not carry all ${PINGS} requests and replies: ${JSON.stringify(Object.fromEntries(moved))}`).toEqual([]);
    // No other port sent them (no flood to h2..h7, nothing out of the line's open ends).
    const leaked = [...moved].filter(([k, c]) => !onPath.includes(k) && c.tx >= PINGS).map(([k]) => k);
    expect(leaked).toEqual([]);
  });

  it('drops and counts a frame to an unknown MAC', async () => {
    const h1 = lab.plan.hosts[0];
    const dropsBefore = await totalDrops();
    const frame = buildUdpFrame({
      srcMac: parseMac(h1.mac),
      dstMac: parseMac('02:ff:ff:ff:ff:01'),
      srcIp: parseIpv4(h1.ip.split('/')[0]),
      dstIp: parseIpv4('10.0.0.200'),
      srcPort: 1,
      dstPort: 2,
      payload: Buffer.from('to nobody'),
    });
    for (const h of lab.plan.hosts) await received(lab.hostUrl(h.name));
    const before = await portCounts();
    await post(`${lab.hostUrl(h1.name)}/frame`, { hex: frame.toString('hex') });
    await waitFor('the drop to be counted', async () => {
      const now = await totalDrops();
      return now > dropsBefore || notYet({ dropsBefore, now });
    });
    for (const h of lab.plan.hosts) expect(await received(lab.hostUrl(h.name))).toEqual([]);
    // Dropped where it came in: s1 sent nothing on (no port of the line sent a frame).
    const sent = [...delta(before, await portCounts())].filter(([, c]) => c.tx > 0).map(([k]) => k);
    expect(sent).toEqual([]);
  });

  it('a killed and restarted softswitch restores forwarding without touching the others', async () => {
    const middle = lab.plan.switches[3].name;
    const others = lab.plan.switches.filter((s) => s.name !== middle);
    const sessions = async () => {
      const { switches } = await get<SwitchesReply>(`${lab.apiUrl}/v1/switches`);
      return switches.filter((s) => others.some((o) => o.dpid === s.dpid)).map((s) => ({ dpid: s.dpid, connected: s.connected, since: s.connectedAtMs, syncs: s.counters?.syncs }));
    };
    const sessionsBefore = await sessions();
    expect(sessionsBefore.every((s) => s.connected && typeof s.since === 'number' && typeof s.syncs === 'number'), JSON.stringify(sessionsBefore)).toBe(true);
    await lab.killSwitch(middle);
    const r = await post<{ received: number }>(`${lab.apiUrl}/v1/lab/ping`, { from: lab.plan.hosts[0].name, to: lab.plan.hosts[7].name, count: 1, timeoutMs: 300 });
    expect(r.received).toBe(0);
    await lab.startSwitch(middle);
    await lab.waitReady(30_000);
    // The neighbours marked their ports to it down (link probes) and the controller routed around the
    // hole; the restarted switch's probes bring the links back up, and the routes return.
    await waitFor(
      'forwarding through the restarted switch',
      async () => {
        const r = await post<{ received: number }>(`${lab.apiUrl}/v1/lab/ping`, { from: lab.plan.hosts[0].name, to: lab.plan.hosts[7].name, count: 1, timeoutMs: 300 });
        return r.received === 1 || notYet(r);
      },
      { timeoutMs: 15_000 },
    );
    const after = await post<{ received: number }>(`${lab.apiUrl}/v1/lab/ping`, { from: lab.plan.hosts[0].name, to: lab.plan.hosts[7].name, count: 3 });
    expect(after.received).toBe(3);
    // The others kept their sessions (same connection, no new sync): the reroute reached them as deltas.
    expect(await sessions()).toEqual(sessionsBefore);
  });

  it('established forwarding keeps working while the controller is stopped', async () => {
    const lost = () => lab.plan.switches.map((s) => controllerLostLogged(s.name));
    const lostBefore = lost();
    await lab.stopController();
    try {
      // Every switch has seen its controller go (and keeps its flows): only then does this prove anything.
      await waitFor('every switch to notice the controller is gone', () => lost().every((n, i) => n > lostBefore[i]) || notYet({ lostBefore, now: lost() }));
      const h1 = lab.hostUrl(lab.plan.hosts[0].name);
      const h8 = lab.plan.hosts[7];
      await received(lab.hostUrl(h8.name));
      await post(`${h1}/udp`, { dst: h8.ip.split('/')[0], dstPort: 7000, payload: 'no controller' });
      const got = await waitFor('the datagram without a controller', async () => {
        const list = await received(lab.hostUrl(h8.name), false);
        return list.length > 0 ? list : notYet(list);
      });
      expect(Buffer.from(got[0].payloadHex, 'hex').toString()).toBe('no controller');
    } finally {
      await lab.startController();
      await lab.waitReady(30_000);
    }
  });

  async function portCounts(): Promise<PortCounts> {
    const { switches } = await get<SwitchesReply>(`${lab.apiUrl}/v1/switches?counters=true`);
    const counts: PortCounts = new Map();
    for (const s of switches) {
      if (!s.portStats) throw new Error(`no port counters from switch ${s.dpid}`);
      for (const p of s.portStats) counts.set(`${s.dpid}:${p.port}`, { rx: p.rxPackets, tx: p.txPackets });
    }
    return counts;
  }

  /** How many times the switch's log says its controller connection was lost. */
  function controllerLostLogged(name: string): number {
    const log = readFileSync(path.join(lab.runDir, `${name}.log`), 'utf8');
    return log.split('\n').filter((l) => l.includes('controller connection lost')).length;
  }

  async function totalDrops(): Promise<number> {
    const { switches } = await get<SwitchesReply>(`${lab.apiUrl}/v1/switches?counters=true`);
    return switches.reduce((n, s) => n + (s.packets?.rxDropped ?? 0), 0);
  }
});

function delta(before: PortCounts, after: PortCounts): PortCounts {
  return new Map([...after].map(([k, c]) => [k, { rx: c.rx - (before.get(k)?.rx ?? 0), tx: c.tx - (before.get(k)?.tx ?? 0) }]));
}
