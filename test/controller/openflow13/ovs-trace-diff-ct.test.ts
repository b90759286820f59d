/**
 * The differential test for connection tracking and conjunctive match: a stateful firewall built of
 * `ct` (with and without recirculation, commit with a mark) and a two-clause conjunction, loaded into
 * an Open vSwitch bridge as ovs-ofctl text; for every probe frame and every ct state ofproto/trace is
 * told to resume with (--ct-next), its verdict equals the softswitch executor's given the same state.
 * Skipped without root or Open vSwitch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ofctlFlow } from '../../../src/controller/openflow13/ofctl-syntax.js';
import { CT_STATE, conjunction, ct, output, type FlowEntry, type Match } from '../../../src/flow/index.js';
import { buildArpRequest, buildIcmpEchoFrame, buildTcpFrame, buildUdpFrame, parseIpv4 } from '../../../src/net/index.js';
import { canRunOvs, startOvs, type OvsInstance } from '../../support/ovs.js';
import { createOurJudge, frameFields, ovsVerdict, parseDpifShow, type Verdict } from './verdict.js';

const LIVE = canRunOvs();
const { TRK, NEW, EST, REL, RPL, INV } = CT_STATE;
const IP = { ethType: 0x0800 };
const state = (bits: number): Match['ctState'] => ({ value: bits, mask: bits });
const flow = (table: number, priority: number, match: Match, actions: FlowEntry['actions'], gotoTable?: number): FlowEntry => ({
  table,
  priority,
  match,
  actions,
  cookie: table * 100 + priority,
  ...(gotoTable === undefined ? {} : { gotoTable }),
});

const FLOWS: FlowEntry[] = [
  flow(0, 10, IP, [ct(5, { table: 1 })]),
  flow(0, 0, {}, []),
  // Sources {.1, .3} x TCP ports {80, 443}: conjunction 1.
  flow(1, 50, { ...IP, ipv4Src: parseIpv4('10.0.0.1') }, [conjunction(1, 1, 2)]),
  flow(1, 50, { ...IP, ipv4Src: parseIpv4('10.0.0.3') }, [conjunction(1, 1, 2)]),
  flow(1, 50, { ...IP, ipProto: 6, tcpDst: 80 }, [conjunction(1, 2, 2)]),
  flow(1, 50, { ...IP, ipProto: 6, tcpDst: 443 }, [conjunction(1, 2, 2)]),
  flow(1, 50, { ...IP, conjId: 1, ctState: state(TRK | NEW) }, [ct(5, { commit: true, mark: { value: 1, mask: 1 } }), output(2)]),
  flow(1, 40, { inPort: 1, ctState: state(TRK | EST) }, [output(2)]),
  flow(1, 40, { inPort: 2, ctState: state(TRK | EST) }, [output(1)]),
  flow(1, 38, { ctState: state(TRK | REL) }, [output(1)]),
  flow(1, 35, { ctState: state(TRK | INV) }, []),
  // New UDP: committed in another zone, then on untracked (ct clears the fields for the rest of the pass).
  flow(1, 30, { ...IP, ipProto: 17, ctState: state(TRK | NEW) }, [ct(6, { commit: true })], 2),
  flow(1, 0, {}, []),
  flow(2, 10, { ctState: { value: 0, mask: TRK } }, [output(2)]),
  flow(2, 5, { ctState: state(TRK) }, [output(1)]),
  flow(2, 0, {}, []),
];

const CT_NEXT: [string, number][] = [
  ['trk,new', TRK | NEW],
  ['trk,est', TRK | EST],
  ['trk,est,rpl', TRK | EST | RPL],
  ['trk,rel', TRK | REL],
  ['trk,inv', TRK | INV],
];

function probes(): { what: string; inPort: number; frame: Buffer }[] {
  const out: { what: string; inPort: number; frame: Buffer }[] = [];
  const dst = parseIpv4('10.0.0.9');
  for (const inPort of [1, 2]) {
    for (const src of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) {
      const srcIp = parseIpv4(src);
      for (const dstPort of [80, 443, 22]) {
        out.push({ what: `tcp ${src}->:${dstPort} in ${inPort}`, inPort, frame: buildTcpFrame({ srcMac: 1, dstMac: 2, srcIp, dstIp: dst, srcPort: 40000, dstPort, flags: 0x02 }) });
      }
      out.push({ what: `udp ${src} in ${inPort}`, inPort, frame: buildUdpFrame({ srcMac: 1, dstMac: 2, srcIp, dstIp: dst, srcPort: 5000, dstPort: 53 }) });
      out.push({ what: `icmp ${src} in ${inPort}`, inPort, frame: buildIcmpEchoFrame({ srcMac: 1, dstMac: 2, srcIp, dstIp: dst, type: 'request', id: 1, seq: 1 }) });
    }
    out.push({ what: `arp in ${inPort}`, inPort, frame: buildArpRequest({ srcMac: 1, srcIp: parseIpv4('10.0.0.1'), targetIp: dst }) });
  }
  return out;
}

describe.skipIf(!LIVE)('ct and conjunction: ofproto/trace equals the softswitch executor', () => {
  let ovs: OvsInstance;
  let odpToOf: Map<number, number>;

  beforeAll(async () => {
    ovs = await startOvs();
    await ovs.addBridge('br0', { ports: 2 });
    for (const f of FLOWS) await ovs.ofctl('-O', 'OpenFlow13', 'add-flow', 'br0', ofctlFlow(f));
    const odp = parseDpifShow(await ovs.appctl('dpif/show')).get('br0');
    if (!odp) throw new Error('br0 missing from dpif/show');
    odpToOf = odp;
  }, 30_000);
  afterAll(async () => {
    await ovs?.stop();
  });

  it('every probe under every resumed ct state gets the same verdict', async () => {
    const mismatches: { what: string; ctNext: string; ovs: Verdict; ours: Verdict }[] = [];
    const seen = { forwarded: 0, dropped: 0 };
    for (const [ctNext, bits] of CT_NEXT) {
      const judge = createOurJudge(FLOWS, [1, 2], bits);
      for (const p of probes()) {
        const trace = await ovs.unixctl('ofproto/trace', '--ct-next', ctNext, 'br0', `in_port=${p.inPort}`, p.frame.toString('hex'));
        const theirs = ovsVerdict(trace, frameFields(p.frame, p.inPort), odpToOf);
        const ours = judge(p.frame, p.inPort);
        if (ours.outputs.length > 0) seen.forwarded++;
        else seen.dropped++;
        if (JSON.stringify(theirs) !== JSON.stringify(ours)) mismatches.push({ what: p.what, ctNext, ovs: theirs, ours });
      }
    }
    expect(mismatches).toEqual([]);
    // The probes exercise both outcomes under several states.
    expect(seen.forwarded).toBeGreaterThan(20);
    expect(seen.dropped).toBeGreaterThan(20);
  });
});
