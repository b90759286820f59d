/**
 * The foundation end to end on linear-8, with real processes: a controller, eight softswitches and
 * eight hosts on 127.0.0.1. Every pair talks; unknown destinations are dropped and counted; a killed
 * switch comes back; forwarding survives the controller's absence (fail-secure).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUdpFrame, parseIpv4, parseMac } from '../../src/net/index.js';
import { startLab, type LabHandle } from '../../src/lab/index.js';
import { get, post, received, waitFor } from './lab-client.js';
import { expectAllPairsExchangeUdp } from './all-pairs.js';

interface SwitchesReply {
  switches: { dpid: number; connected: boolean; packets?: { rx: number; tx: number; rxDropped: number } }[];
}

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

  it('answers ping end to end across all eight switches', async () => {
    const first = lab.plan.hosts[0];
    const last = lab.plan.hosts[7];
    const r = await post<{ sent: number; received: number; path: string[] }>(`${lab.apiUrl}/v1/lab/ping`, { from: first.name, to: last.name, count: 3 });
    expect(r.received).toBe(3);
    expect(r.path.length).toBe(8 + 2);
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
    await post(`${lab.hostUrl(h1.name)}/frame`, { hex: frame.toString('hex') });
    await waitFor('the drop to be counted', async () => ((await totalDrops()) > dropsBefore ? true : undefined));
    for (const h of lab.plan.hosts) expect(await received(lab.hostUrl(h.name))).toEqual([]);
  });

  it('a killed and restarted softswitch restores forwarding without touching the others', async () => {
    const middle = lab.plan.switches[3].name;
    const others = lab.plan.switches.filter((s) => s.name !== middle);
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
        return r.received === 1 ? true : undefined;
      },
      15_000,
    );
    const after = await post<{ received: number }>(`${lab.apiUrl}/v1/lab/ping`, { from: lab.plan.hosts[0].name, to: lab.plan.hosts[7].name, count: 3 });
    expect(after.received).toBe(3);
    // The others kept their sessions: none was re-synced with changes.
    const { switches } = await get<SwitchesReply>(`${lab.apiUrl}/v1/switches`);
    expect(switches.filter((s) => others.some((o) => o.dpid === s.dpid)).every((s) => s.connected)).toBe(true);
  });

  it('established forwarding keeps working while the controller is stopped', async () => {
    await lab.stopController();
    try {
      const h1 = lab.hostUrl(lab.plan.hosts[0].name);
      const h8 = lab.plan.hosts[7];
      await received(lab.hostUrl(h8.name));
      await post(`${h1}/udp`, { dst: h8.ip.split('/')[0], dstPort: 7000, payload: 'no controller' });
      const got = await waitFor('the datagram without a controller', async () => {
        const list = await received(lab.hostUrl(h8.name));
        return list.length ? list : undefined;
      });
      expect(Buffer.from(got[0].payloadHex, 'hex').toString()).toBe('no controller');
    } finally {
      await lab.startController();
      await lab.waitReady(30_000);
    }
  });

  async function totalDrops(): Promise<number> {
    const { switches } = await get<SwitchesReply>(`${lab.apiUrl}/v1/switches`);
    return switches.reduce((n, s) => n + (s.packets?.rxDropped ?? 0), 0);
  }
});
