/**
 * The volume differential test: Open vSwitch's verdict (`ofproto/trace`) on bridges our controller
 * programmed with the incremental compiler's flows and meters (volumes with qos, one with both mbps
 * and pps: two meters in sequence, one without) equals the softswitch executor's on the same tables:
 * an attached endpoint's grants (metered for the qos volumes: the trace shows the meter instruction), the target drops for everyone else, replication
 * between targets, other ports. A meter changes no header, and ofproto/trace passes it, as the
 * executor does without a meter table: the verdicts compare forwarding, the meter tests
 * (ovs-meters.test.ts, test/e2e/volume-qos.test.ts) the rates. Skipped without root or Open vSwitch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIncrementalCompiler, type IncrementalCompiler } from '../../../src/compiler/index.js';
import type { Attachment, Endpoint, Volume } from '../../../src/model/index.js';
import { buildTcpFrame } from '../../../src/net/packet/tcp.js';
import { buildUdpFrame } from '../../../src/net/packet/udp.js';
import { fnEndpoint, gatewayTopology, serviceIntent } from '../../compiler/service-fixture.js';
import { canRunOvs } from '../../support/ovs.js';
import { createGroupJudge, withoutInvalidTtl } from './group-verdict.js';
import { startLiveIntent, type LiveIntent } from './live-intent.js';
import { frameFields, ovsVerdict, parseDpifShow } from './verdict.js';

const LIVE = canRunOvs();

const storage = (id: string, dpid: number, port: number, n: number): Endpoint => ({ ...fnEndpoint(id, dpid, port, n), kind: 'storage' });
const clients = [fnEndpoint('c1', 101, 7, 1), fnEndpoint('c2', 102, 7, 2), fnEndpoint('c3', 103, 8, 3), fnEndpoint('c4', 101, 8, 4)];
const targets = [storage('t1', 103, 7, 11), storage('t2', 104, 7, 12)];
const VOLUMES: Volume[] = [
  { id: 'vol-1', name: 'db', protocol: 'iscsi', targets: ['t1', 't2'], ports: [3260], qos: { pps: 100 } },
  { id: 'vol-2', name: 'home', protocol: 'nfs', targets: ['t2'], ports: [2049, 111], qos: { mbps: 20, pps: 1000 } },
  { id: 'vol-3', name: 'scratch', protocol: 'nfs', targets: ['t1'], ports: [2049] },
];
const ATTACHMENTS: Attachment[] = [
  { id: 'att-1', volumeId: 'vol-1', endpointId: 'c1', mode: 'rw' },
  { id: 'att-2', volumeId: 'vol-2', endpointId: 'c1', mode: 'rw' },
  { id: 'att-3', volumeId: 'vol-1', endpointId: 'c3', mode: 'ro' },
  { id: 'att-4', volumeId: 'vol-3', endpointId: 'c2', mode: 'rw' },
];

describe.skipIf(!LIVE)('volume tables with meters: ofproto/trace equals the softswitch executor', () => {
  const topology = gatewayTopology();
  const all = [...clients, ...targets];
  let compiler: IncrementalCompiler;
  let live: LiveIntent;

  beforeAll(async () => {
    compiler = createIncrementalCompiler(topology, {
      ...serviceIntent(all),
      volumes: new Map(VOLUMES.map((v) => [v.id, v])),
      attachments: new Map(ATTACHMENTS.map((a) => [a.id, a])),
    });
    live = await startLiveIntent(topology, compiler.tables(), compiler.groups(), compiler.meters());
  }, 30_000);
  afterAll(async () => {
    await live?.stop();
  });

  it('installs every meter and every metered flow on the bridges', async () => {
    expect(live.events.filter((e) => e.type === 'switch.sync-failed')).toEqual([]);
    for (const sw of topology.switches) {
      const want = compiler.meters().get(sw.dpid) ?? [];
      const dump = await live.lab.ovs.ofctl('-O', 'OpenFlow13', 'dump-meters', sw.name);
      for (const m of want) expect(dump).toContain(`meter=${m.meterId} ${m.unit} burst stats bands=`);
      const flows = await live.lab.ovs.ofctl('-O', 'OpenFlow13', 'dump-flows', sw.name);
      const metered = (compiler.tables().get(sw.dpid) ?? []).filter((f) => f.meterId !== undefined).length;
      expect(flows.split('\n').filter((l) => /actions=meter:\d+,/.test(l)).length).toBe(metered);
    }
    // att-1 and att-3 one meter each (pps), att-2 two (mbps and pps).
    expect([...compiler.meters().values()].flat().length).toBe(4);
  });

  it('every volume probe gets the same verdict on every bridge; metered grants show the meter in the trace', async () => {
    const odp = parseDpifShow(await live.lab.ovs.appctl('dpif/show'));
    const tables = compiler.tables();
    const mismatches: unknown[] = [];
    let compared = 0;
    let forwarded = 0;
    let metered = 0;
    let twoMeters = 0;
    for (const sw of topology.switches) {
      const judge = createGroupJudge(tables.get(sw.dpid) ?? [], [], sw.ports.map((p) => p.number));
      const odpToOf = odp.get(sw.name);
      if (!odpToOf) throw new Error(`bridge ${sw.name} missing from dpif/show`);
      for (const a of all.filter((e) => e.dpid === sw.dpid)) {
        for (const t of targets) {
          if (t === a) continue;
          for (const port of [3260, 2049, 111, 22]) {
            for (const frame of [
              buildUdpFrame({ srcMac: a.mac, dstMac: t.mac, srcIp: a.ip, dstIp: t.ip, srcPort: 900, dstPort: port, ttl: 64, payload: Buffer.from('blk') }),
              buildTcpFrame({ srcMac: a.mac, dstMac: t.mac, srcIp: a.ip, dstIp: t.ip, srcPort: 901, dstPort: port, ttl: 64, flags: 0x02 }),
            ]) {
              const trace = withoutInvalidTtl(await live.lab.ovs.unixctl('ofproto/trace', sw.name, `in_port=${a.port}`, frame.toString('hex'))).trace;
              const ours = judge.judge(frame, a.port).verdict;
              const theirs = ovsVerdict(trace, frameFields(frame, a.port), odpToOf);
              compared++;
              if (ours.outputs.length > 0) forwarded++;
              // Each meter the frame's flows name (two in sequence for mbps and pps) shows in the trace.
              const meterIds = new Set(
                (tables.get(sw.dpid) ?? [])
                  .filter((f) => f.meterId !== undefined && f.match.ipv4Src === a.ip && f.match.ipv4Dst === t.ip && (f.match.udpDst === port || f.match.tcpDst === port))
                  .map((f) => f.meterId),
              );
              if (meterIds.size > 0) metered++;
              if (meterIds.size > 1) twoMeters++;
              for (const id of meterIds) if (!trace.includes(`meter:${id}`)) mismatches.push({ sw: sw.name, what: `${a.id}->${t.id}:${port}`, missing: `meter:${id}` });
              if (JSON.stringify(theirs) !== JSON.stringify(ours)) mismatches.push({ sw: sw.name, what: `${a.id}->${t.id}:${port}`, ovs: theirs, ours });
            }
          }
        }
      }
    }
    console.log(`ovs-trace-diff-volumes: ${compared} frames compared, ${forwarded} forwarded, ${metered} through a meter (${twoMeters} through two), ${mismatches.length} mismatches`);
    expect(mismatches.slice(0, 5)).toEqual([]);
    expect(metered).toBeGreaterThanOrEqual(8);
    expect(twoMeters).toBeGreaterThanOrEqual(4);
    expect(forwarded).toBeGreaterThan(metered);
    expect(compared - forwarded).toBeGreaterThan(20);
  }, 90_000);
});
