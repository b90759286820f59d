/**
 * A push Open vSwitch refuses, end to end over OpenFlow 1.3 with a private ovs-vswitchd: the sync fails
 * (switch.sync-failed naming the refused flow-mod), the controller retries with backoff (timers moved
 * by the test), and once the cause is gone the switch holds exactly the desired tables:
 * - a flow to a group the switch does not have: the group joins the desired tables;
 * - a table full (flow_limit with overflow_policy=refuse): the limit is raised on the switch, and the
 *   retry itself succeeds.
 * Skipped without root or Open vSwitch.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Controller } from '../../../src/controller/controller.js';
import type { ControllerEvent } from '../../../src/controller/events.js';
import { listenOpenFlow, ofctlFlow, stableDump, type OpenFlowServer } from '../../../src/controller/openflow13/index.js';
import { group, output, type FlowEntry, type GroupEntry } from '../../../src/flow/index.js';
import { fakeTimers } from '../packet-hold/fake-timers.js';
import { canRunOvs, startOvs, type OvsInstance } from '../../support/ovs.js';
import { silent } from './helpers.js';

const LIVE = canRunOvs();
const DPID = 0x51;

const flow = (n: number, extra: Partial<FlowEntry> = {}): FlowEntry => ({
  table: 0,
  priority: 100 + n,
  match: { inPort: n },
  actions: [output(3)],
  cookie: 0x70 + n,
  ...extra,
});
const lb: GroupEntry = { groupId: 9, type: 'select', buckets: [{ weight: 1, actions: [output(1)] }, { weight: 1, actions: [output(2)] }] };

describe.skipIf(!LIVE)('a push Open vSwitch refuses: fail, retry with backoff, succeed once the cause is gone', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(desired: FlowEntry[], prepare: (ovs: OvsInstance) => Promise<void> = async () => undefined) {
    const timers = fakeTimers();
    const controller = new Controller({ logger: silent, nowMs: () => performance.now(), setTimeout: timers.setTimeout, clearTimeout: timers.clearTimeout });
    const events: ControllerEvent[] = [];
    controller.events.subscribe((e) => events.push(e));
    await controller.setDesired(new Map([[DPID, { flows: desired, groups: [] }]]));
    const server: OpenFlowServer = await listenOpenFlow(controller, '127.0.0.1', 0, silent);
    const ovs = await startOvs();
    cleanups.push(async () => {
      controller.close();
      await server.close();
      await ovs.stop();
    });
    await ovs.addBridge('br0', { ports: 3, datapathId: BigInt(DPID) });
    await prepare(ovs);
    await ovs.vsctl('set-controller', 'br0', `tcp:127.0.0.1:${server.port}`);
    const count = (type: ControllerEvent['type']) => events.filter((e) => e.type === type).length;
    const waitCount = (type: ControllerEvent['type'], n: number) => controller.events.waitFor(() => count(type) >= n, 15_000);
    const dump = async () => stableDump(await ovs.ofctl('-O', 'OpenFlow13', 'dump-flows', 'br0'));
    /** What OVS itself makes of `flows` (written as ovs-ofctl text, after the groups they need). */
    const reference = async (flows: FlowEntry[], groups: string[] = []) => {
      await ovs.vsctl('--may-exist', 'add-br', 'ref', '--', 'set', 'bridge', 'ref', 'datapath_type=dummy', 'fail-mode=secure', 'protocols=OpenFlow13');
      await ovs.ofctl('-O', 'OpenFlow13', 'del-flows', 'ref');
      await ovs.ofctl('-O', 'OpenFlow13', 'del-groups', 'ref');
      for (const g of groups) await ovs.ofctl('-O', 'OpenFlow13', 'add-group', 'ref', g);
      for (const f of flows) await ovs.ofctl('-O', 'OpenFlow13', 'add-flow', 'ref', ofctlFlow(f));
      return stableDump(await ovs.ofctl('-O', 'OpenFlow13', 'dump-flows', 'ref'));
    };
    return { timers, controller, events, ovs, waitCount, count, dump, reference };
  }

  it('a flow to a missing group: refused until the group is desired too, then installed with it', async () => {
    const toGroup = flow(2, { actions: [group(9)] });
    const { timers, controller, events, ovs, waitCount, count, dump, reference } = await setup([flow(1), toGroup]);

    // OFPET_BAD_ACTION / OFPBAC_BAD_OUT_GROUP for the flow-mod: the barrier after it fails.
    expect(await waitCount('switch.sync-failed', 1)).toMatchObject({
      dpid: DPID,
      retryInMs: 250,
      error: expect.stringMatching(/flow-mod add table 0 priority 102 .*OFPET_BAD_ACTION\/9/),
    });
    timers.advance(250);
    expect(await waitCount('switch.sync-failed', 2)).toMatchObject({ retryInMs: 500 });
    expect(count('switch.synced')).toBe(0);
    expect(await dump()).toEqual(await reference([flow(1)]));

    await controller.applyDelta(new Map([[DPID, { add: [], remove: [], groupMods: [{ command: 'add' as const, group: lb }] }]]));
    expect(events.at(-1)).toMatchObject({ type: 'switch.synced', dpid: DPID, added: 1 });
    expect(await dump()).toEqual(await reference([flow(1), toGroup], ['group_id=9,type=select,bucket=weight:1,actions=output:1,bucket=weight:1,actions=output:2']));
    expect(await ovs.ofctl('-O', 'OpenFlow13', 'dump-groups', 'br0')).toMatch(/group_id=9,type=select/);
    expect(controller.statusOf(DPID)).toMatchObject({ desiredFlows: 2, installedFlows: 2 });
    expect(timers.pending()).toBe(0);
  }, 30_000);

  it('a full table: refused until the switch takes more flows, then the retry installs the rest', async () => {
    const desired = [flow(1), flow(2), flow(3)];
    const { timers, controller, ovs, waitCount, count, dump, reference } = await setup(desired, async (o) => {
      // In-band control would add hidden flows to table 0, which count against its limit.
      await o.vsctl('set', 'Bridge', 'br0', 'other-config:disable-in-band=true');
      await o.vsctl('--', '--id=@ft', 'create', 'Flow_Table', 'flow_limit=1', 'overflow_policy=refuse', '--', 'set', 'Bridge', 'br0', 'flow_tables:0=@ft');
    });

    // OFPET_FLOW_MOD_FAILED / OFPFMFC_TABLE_FULL.
    expect(await waitCount('switch.sync-failed', 1)).toMatchObject({ retryInMs: 250, error: expect.stringContaining('OFPET_FLOW_MOD_FAILED/1') });
    timers.advance(250);
    expect(await waitCount('switch.sync-failed', 2)).toMatchObject({ retryInMs: 500 });
    expect((await dump()).length).toBe(1);

    // The operator raises the limit; nothing changes on the controller's side. The next retry reads
    // the switch again and pushes only what is missing.
    await ovs.vsctl('set', 'Flow_Table', (await ovs.vsctl('get', 'Bridge', 'br0', 'flow_tables:0')).trim(), 'flow_limit=100');
    timers.advance(500);
    expect(await waitCount('switch.synced', 1)).toMatchObject({ dpid: DPID, added: 2, removed: 0 });
    expect(count('switch.sync-failed')).toBe(2);
    expect(await dump()).toEqual(await reference(desired));
    expect(controller.statusOf(DPID)).toMatchObject({ desiredFlows: 3, installedFlows: 3 });
    expect(timers.pending()).toBe(0);
  }, 30_000);
});
