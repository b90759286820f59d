/**
 * Volume qos with real processes, on softswitches and on Open vSwitch bridges (OpenFlow 1.3; skipped
 * without root or Open vSwitch): a function host attached to a volume with `qos: {pps}` sends a burst
 * of UDP well above the rate to the volume's target, and the target a burst of replies from the
 * volume's port back; each way about the rate gets through (at most rate x time x 1.5 + burst, more
 * than none), the attachment's one meter on the function's switch counts the rest in its drop band,
 * a PATCH of the qos modifies the meter in place (the grant flows keep their counters: no flow was
 * re-added), and a qos of mbps and pps adds the second, pktps meter in sequence, which holds bursts
 * both ways to its rate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECOND_METER_OFFSET } from '../../src/compiler/index.js';
import { TABLE } from '../../src/flow/index.js';
import type { LabHandle } from '../../src/lab/index.js';
import { canRunOvs } from '../support/ovs.js';
import { get, notYet, type PlacedHost, placeHost, post, received, send, startLab, SWITCH_KINDS, switchesInSync, vpcWithSubnet, waitFor } from './lab-client.js';

const ISCSI_PORT = 3260;
const PPS = 50;
/** The meter's burst: QOS_BURST_MS (100 ms) of the rate. */
const BURST = 5;
const SENT = 1000;
interface MeterJson {
  meterId: number;
  packetsIn: number;
  bands: { packets: number }[];
}

describe.each(SWITCH_KINDS)('volume qos end to end on %s', (_label, switches) => {
  const skip = switches === 'ovs' && !canRunOvs();
  let lab: LabHandle;
  let volume: string;
  let meterId: number;
  const hosts: Record<'fn' | 'target', PlacedHost> = {} as never;

  const meter = async (id = meterId): Promise<MeterJson | undefined> =>
    (await get<{ meters: MeterJson[] }>(`${lab.apiUrl}/v1/switches/101/meters`)).meters.find((m) => m.meterId === id);

  beforeAll(async () => {
    if (skip) return;
    lab = await startLab({ topologyFile: 'topologies/leaf-spine-vpc.yaml', logLevel: 'warn', readyTimeoutMs: 60_000, switches });
    const api = lab.apiUrl;
    const apps = await vpcWithSubnet(api, 'apps', '10.0.0.0/16', '10.0.1.0/24');
    hosts.target = await placeHost(lab, 'target', 'storage', apps, 103, 'leaf3');
    hosts.fn = await placeHost(lab, 'fn', 'function', apps, 101, 'leaf1');
    volume = (await post<{ id: string }>(`${api}/v1/volumes`, { name: 'db', protocol: 'iscsi', targets: [hosts.target.id], qos: { pps: PPS } })).id;
    const attachment = (await post<{ id: string }>(`${api}/v1/volumes/${volume}/attachments`, { endpoint: hosts.fn.id })).id;
    meterId = Number(attachment.replace('att-', ''));
    await switchesInSync(api, 60_000);
  }, 120_000);

  afterAll(async () => {
    await lab?.stop();
  });

  /**
   * `from` sends SENT datagrams from `srcPort` to `to`'s `dstPort`; the attachment's meter sees them
   * all and its band drops what is over the rate; `to` receives exactly what the meter passed.
   */
  const burst = async (from: PlacedHost, to: PlacedHost, srcPort: number, dstPort: number, direction: string, id = meterId) => {
    const before = (await meter(id)) ?? { packetsIn: 0, bands: [{ packets: 0 }] };
    await received(to.url);
    const started = performance.now();
    await post(`${from.url}/udp`, { dst: to.ip, srcPort, dstPort, payload: 'block', count: SENT });
    // Every datagram the switch took reaches the meter; an OVS lab port may take a burst in over a
    // while, so the burst is over once the meter's count stops growing between two reads (or reaches
    // SENT) and the receiver holds what the meter passed. The receiver is read before the meter: what
    // it holds was metered before that read.
    let got = 0;
    let last = -1;
    const m = await waitFor(`meter ${id} to see the ${direction} burst and ${to.id} to receive what it passed`, async () => {
      got += (await received(to.url)).filter((d) => d.dstPort === dstPort).length;
      const now = await meter(id);
      const seen = now ? now.packetsIn - before.packetsIn : 0;
      const passedNow = now ? seen - (now.bands[0].packets - before.bands[0].packets) : 0;
      const settled = seen > 0 && (seen >= SENT || seen === last);
      last = seen;
      return now && settled && got >= passedNow ? now : notYet({ seen, got, passedNow });
    });
    // The window the meter saw the burst in ends no later than this read (an OVS lab port takes a
    // burst in over longer than the host took to send it).
    const seconds = (performance.now() - started) / 1000;
    const metered = m.packetsIn - before.packetsIn;
    const dropped = m.bands[0].packets - before.bands[0].packets;
    const passed = metered - dropped;
    console.log(`volume-qos (${switches}, ${direction}): ${metered} metered in ${seconds.toFixed(2)} s, ${got} through, ${dropped} dropped by the band (rate ${PPS} pps, burst ${BURST})`);
    expect(got).toBe(passed);
    expect(got).toBeGreaterThan(0);
    expect(got).toBeLessThanOrEqual(PPS * seconds * 1.5 + BURST);
    expect(dropped).toBeGreaterThan(0);
  };

  it.skipIf(skip)('a burst of writes well above the rate gets about the rate through; the meter band counts the rest', async () => {
    await burst(hosts.fn, hosts.target, 40000, ISCSI_PORT, 'writes');
  });

  it.skipIf(skip)("the target's replies go through the same meter on the function's switch", async () => {
    await burst(hosts.target, hosts.fn, ISCSI_PORT, 40000, 'replies');
  });

  it.skipIf(skip)('a PATCH of the qos modifies the meter in place: the grant flows are not re-added', async () => {
    const grantPackets = async () => {
      const { flows } = await get<{ flows: { table: number; packets: number; meterId?: number }[] }>(`${lab.apiUrl}/v1/switches/101/flows`);
      return flows.filter((f) => f.table === TABLE.ACCESS && f.meterId === meterId).map((f) => f.packets);
    };
    // An OVS lab port may still be taking the burst in: the counters first settle (two reads alike).
    let last: number[] = [];
    const before = await waitFor('the grant counters to settle', async () => {
      const now = await grantPackets();
      const settled = now.length === 2 && now.every((p, i) => p === last[i]);
      last = now;
      return settled ? now : notYet(now);
    });
    expect(Math.max(...before)).toBeGreaterThan(0);
    await send(`${lab.apiUrl}/v1/volumes/${volume}`, { qos: { pps: 5000 } }, 'PATCH');
    await switchesInSync(lab.apiUrl, 20_000);
    expect((await meter())?.meterId).toBe(meterId);
    // A re-added flow would count from zero again.
    const after = await grantPackets();
    expect(after.length).toBe(2);
    after.forEach((p, i) => expect(p).toBeGreaterThanOrEqual(before[i]));
  });

  it.skipIf(skip)('mbps and pps together: the pps meter, second in sequence, holds a burst to its rate both ways', async () => {
    await send(`${lab.apiUrl}/v1/volumes/${volume}`, { qos: { mbps: 100, pps: PPS } }, 'PATCH');
    await switchesInSync(lab.apiUrl, 20_000);
    const second = meterId + SECOND_METER_OFFSET;
    expect((await meter())?.meterId).toBe(meterId);
    await burst(hosts.fn, hosts.target, 40001, ISCSI_PORT, 'writes, mbps and pps', second);
    await burst(hosts.target, hosts.fn, ISCSI_PORT, 40001, 'replies, mbps and pps', second);
  });
});
