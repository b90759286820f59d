/**
 * The OpenFlow 1.3 channel against real ovs-vswitchd bridges (an external oracle): the controller
 * pushes compiled topologies; `ovs-ofctl dump-flows` must show exactly the flows OVS itself reads from
 * the same tables written as ovs-ofctl text. Then a controller restart: the bridges keep their flows
 * (fail_mode=secure), someone has meddled meanwhile (a flow removed, one changed, one added, foreign
 * flows our codec cannot decode), and the new controller fixes exactly the difference.
 * Skipped without root or Open vSwitch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Controller } from '../../../src/controller/controller.js';
import type { ControllerEvent } from '../../../src/controller/events.js';
import { listenOpenFlow, Of13Connection, ofctlFlow, ofctlMatch } from '../../../src/controller/openflow13/index.js';
import { TABLE } from '../../../src/flow/index.js';
import { loadShipped } from '../../model/helpers.js';
import { canRunOvs } from '../../support/ovs.js';
import { bridgeDump, desiredOf, referenceDump, silent, startLiveFabric, waitSynced, type LiveFabric } from './helpers.js';

const LIVE = canRunOvs();
if (!LIVE) console.warn('Open vSwitch not installed or not root: skipping the live OpenFlow controller tests');

describe.skipIf(!LIVE)('controller over OpenFlow 1.3 to Open vSwitch: demo.yaml', () => {
  let fab: LiveFabric;

  beforeAll(async () => {
    fab = await startLiveFabric(loadShipped('demo.yaml'));
  }, 30_000);
  afterAll(async () => {
    await fab?.stop();
  });

  it('handshakes: dpid, ports as numbered in the topology, OVS description', () => {
    for (const sw of fab.topology.switches) {
      const s = fab.controller.session(sw.dpid);
      expect(s?.connection.channel).toBe('openflow13');
      expect(s?.connection.features.ports.map((p) => p.number)).toEqual(sw.ports.map((p) => p.number));
      expect(s?.connection.features.ports.map((p) => p.name)).toEqual(sw.ports.map((p) => fab.lab.portName(sw.name, p.number)));
      expect(s?.connection.features.description).toContain('Open vSwitch');
    }
  });

  it('dump-flows of every bridge equals the desired flows, as OVS reads them', async () => {
    for (const sw of fab.topology.switches) {
      const want = fab.tables.get(sw.dpid) ?? [];
      const got = await bridgeDump(fab.lab, sw.name);
      expect(got.length).toBe(want.length);
      expect(got).toEqual(await referenceDump(fab.lab, want));
      expect(fab.controller.statusOf(sw.dpid).installedFlows).toBe(want.length);
    }
  });

  it('reads the installed flows back through flow stats, decoded, equal to the desired', async () => {
    const s1 = fab.topology.switches[0];
    const stats = await fab.controller.session(s1.dpid)?.connection.flowStats();
    expect(stats?.length).toBe(fab.tables.get(s1.dpid)?.length);
  });

  it('packet-in: a frame sent to the controller raises a packetIn event with the port and bytes', async () => {
    const sw = fab.topology.switches[2];
    const conn = fab.controller.session(sw.dpid)?.connection;
    if (!conn) throw new Error('not connected');
    const got = new Promise<{ inPort: number; frame: Buffer; cookie: number }>((resolve) => conn.on('packetIn', resolve));
    // A controller flow in table 0 for an ethertype the fabric never matches; removed again after.
    const flow = { table: 0, priority: 65000, match: { ethType: 0x88b5 }, actions: [{ type: 'output' as const, port: 0xfffffffd, maxLen: 0xffff }], cookie: 77 };
    conn.sendFlowMods([{ command: 'add', flow }]);
    await conn.barrier();
    const frame = 'ffffffffffff0200000000aa88b5' + '00'.repeat(46);
    await fab.lab.ovs.appctl('netdev-dummy/receive', fab.lab.portName(sw.name, 3), frame);
    const pin = await got;
    expect(pin.inPort).toBe(3);
    expect(pin.cookie).toBe(77);
    expect(pin.frame.toString('hex')).toBe(frame);
    conn.sendFlowMods([{ command: 'deleteStrict', flow }]);
    await conn.barrier();
  });

  it('packet-out: a frame sent out of a port reaches the peer bridge (seen as a packet-in there)', async () => {
    // s1:3 is linked to s2:1; on s2 send everything of a spare ethertype to the controller.
    const [s1, s2] = fab.topology.switches;
    const c1 = fab.controller.session(s1.dpid)?.connection;
    const c2 = fab.controller.session(s2.dpid)?.connection;
    if (!c1 || !c2) throw new Error('not connected');
    const flow = { table: 0, priority: 65000, match: { inPort: 1, ethType: 0x88b6 }, actions: [{ type: 'output' as const, port: 0xfffffffd, maxLen: 0xffff }], cookie: 78 };
    c2.sendFlowMods([{ command: 'add', flow }]);
    await c2.barrier();
    const got = new Promise<{ inPort: number; frame: Buffer }>((resolve) => c2.on('packetIn', resolve));
    const frame = Buffer.from('0200000000bb0200000000aa88b6' + '11'.repeat(46), 'hex');
    c1.packetOut(frame, 0, [{ type: 'output', port: 3 }]);
    const pin = await got;
    expect(pin.inPort).toBe(1);
    expect(pin.frame.equals(frame)).toBe(true);
    c2.sendFlowMods([{ command: 'deleteStrict', flow }]);
    await c2.barrier();
  });

  it('a refused flow-mod fails the barrier that follows it (no false "synced")', async () => {
    const conn = fab.controller.session(fab.topology.switches[0].dpid)?.connection;
    if (!conn) throw new Error('not connected');
    conn.sendFlowMods([{ command: 'add', flow: { table: 0, priority: 1, match: {}, actions: [{ type: 'group', groupId: 99 }], cookie: 5 } }]);
    await expect(conn.barrier()).rejects.toMatchObject({ name: 'Of13SwitchError', errType: 2 }); // OFPET_BAD_ACTION (no such group)
  });

  it('a restarted controller reconciles: fixes only the difference, deletes foreign flows, keeps the rest', async () => {
    const { lab, topology } = fab;
    const s1 = topology.switches[0];
    const dpids = topology.switches.map((s) => s.dpid);
    // Stop the controller: the bridges keep their flows (fail_mode=secure).
    fab.controller.close();
    await fab.server.close();
    const before = await bridgeDump(lab, s1.name);
    expect(before.length).toBe(fab.tables.get(s1.dpid)?.length);

    // Meddle with s1 while no controller is connected.
    const want = fab.tables.get(s1.dpid) ?? [];
    const ofctl = (...a: string[]) => lab.ovs.ofctl('-O', 'OpenFlow13', ...a);
    const victim = want.find((f) => f.table === TABLE.FORWARD && f.actions.length > 0);
    const changed = want.find((f) => f.table === 0 && f.gotoTable !== undefined);
    if (!victim || !changed) throw new Error('demo tables changed shape');
    await ofctl('--strict', 'del-flows', s1.name, `table=${victim.table},priority=${victim.priority},${ofctlMatch(victim.match).join(',')}`);
    await ofctl('add-flow', s1.name, ofctlFlow({ ...changed, gotoTable: undefined, actions: [] }));
    await ofctl('add-flow', s1.name, 'table=2,priority=7,cookie=0x1234,udp,actions=drop');
    // Foreign: a cookie wider than 53 bits, a match field and an action outside Overcast's catalogue.
    await ofctl('add-flow', s1.name, 'table=2,priority=9,cookie=0xfff0000000000001,actions=drop');
    await ofctl('add-flow', s1.name, 'table=2,priority=8,ipv6,ipv6_src=2001:db8::1,actions=drop');
    await ofctl('add-flow', s1.name, 'table=3,priority=8,ip,actions=set_field:5->reg0,resubmit(,4)');

    // A new controller on the same port: OVS reconnects to it.
    const controller = new Controller({ logger: silent, nowMs: () => performance.now() });
    const events: ControllerEvent[] = [];
    controller.events.subscribe((e) => events.push(e));
    await controller.setDesired(desiredOf(fab.tables));
    const server = await listenOpenFlow(controller, '127.0.0.1', fab.server.port, silent);
    fab.controller = controller;
    fab.server = server;
    await waitSynced(events, dpids, 0, 20_000);

    const synced = events.filter((e): e is Extract<ControllerEvent, { type: 'switch.synced' }> => e.type === 'switch.synced');
    const bySwitch = new Map(synced.map((e) => [e.dpid, e]));
    expect(bySwitch.get(s1.dpid)).toMatchObject({ added: 1, modified: 1, removed: 1 });
    for (const sw of topology.switches.slice(1)) expect(bySwitch.get(sw.dpid)).toMatchObject({ added: 0, modified: 0, removed: 0 });
    const conn = controller.session(s1.dpid)?.connection;
    expect(conn instanceof Of13Connection && conn.counters.foreignFlowsDeleted).toBe(3);

    for (const sw of topology.switches) {
      expect(await bridgeDump(lab, sw.name)).toEqual(await referenceDump(lab, fab.tables.get(sw.dpid) ?? []));
    }
  }, 30_000);
});
