import { describe, expect, it } from 'vitest';
import { createPacketKey, extractKey, group, output, type FlowEntry } from '../../src/flow/index.js';
import { buildUdpFrame } from '../../src/net/index.js';
import { FlowTables, createFlowClassifier } from '../../src/switch/index.js';

const f = (priority: number, match: FlowEntry['match'], extra: Partial<FlowEntry> = {}): FlowEntry => ({
  table: 0,
  priority,
  match,
  actions: [output(2)],
  cookie: 1,
  ...extra,
});
const any = (extra: Partial<FlowEntry> = {}): FlowEntry => ({ table: 0, priority: 0, match: {}, actions: [], cookie: 0, ...extra });

function tables(now = () => 0): FlowTables {
  return new FlowTables(4, createFlowClassifier, now);
}

describe('FlowTables', () => {
  it('looks up the highest priority match; add replaces an identical flow', () => {
    const t = tables();
    t.apply({ command: 'add', flow: f(10, { inPort: 1 }) });
    t.apply({ command: 'add', flow: f(20, { inPort: 1, ethType: 0x0800 }, { actions: [output(3)] }) });
    const key = createPacketKey();
    extractKey(buildUdpFrame({ srcMac: 1, dstMac: 2, srcIp: 3, dstIp: 4, srcPort: 5, dstPort: 6 }), 1, 0, key);
    expect(t.lookup(0, key)?.flow.priority).toBe(20);
    t.apply({ command: 'add', flow: f(20, { ethType: 0x0800, inPort: 1 }, { actions: [output(4)] }) });
    expect(t.size).toBe(2);
    expect(t.lookup(0, key)?.flow.actions).toEqual([output(4)]);
    expect(t.lookup(1, key)).toBeUndefined();
  });

  it('modify changes instructions of covered flows, keeps counters and cookie; strict needs the exact identity', () => {
    const t = tables();
    t.apply({ command: 'add', flow: f(10, { inPort: 1, ethType: 0x0800 }, { cookie: 7 }) });
    t.apply({ command: 'add', flow: f(11, { inPort: 2 }) });
    const [first] = [...t.flows()];
    first.packets = 5;
    t.apply({ command: 'modify', flow: any({ match: { inPort: 1 }, actions: [output(9)], cookie: 99 }) });
    expect(first.flow.actions).toEqual([output(9)]);
    expect(first.flow.cookie).toBe(7);
    expect(first.packets).toBe(5);
    t.apply({ command: 'modifyStrict', flow: f(10, { inPort: 1 }, { actions: [output(8)] }) });
    expect(first.flow.actions).toEqual([output(9)]);
    t.apply({ command: 'modifyStrict', flow: f(10, { inPort: 1, ethType: 0x0800 }, { actions: [output(8)] }) });
    expect(first.flow.actions).toEqual([output(8)]);
    expect(t.size).toBe(2);
  });

  it('deletes by covering match, cookie mask, out port, out group, across all tables', () => {
    const t = tables();
    t.apply({ command: 'add', flow: f(10, { inPort: 1 }, { cookie: 0x100 }) });
    t.apply({ command: 'add', flow: f(10, { inPort: 2 }, { cookie: 0x200, actions: [output(5)] }) });
    t.apply({ command: 'add', flow: f(10, { inPort: 3 }, { cookie: 0x201, table: 2, actions: [group(4)] }) });
    t.apply({ command: 'delete', flow: any({ cookie: 0x200 }), cookieMask: 0xf00, allTables: true, outPort: 5 });
    expect([...t.flows()].map((x) => x.flow.match.inPort)).toEqual([1, 3]);
    t.apply({ command: 'delete', flow: any(), allTables: true, outGroup: 4 });
    expect([...t.flows()].map((x) => x.flow.match.inPort)).toEqual([1]);
    t.apply({ command: 'deleteStrict', flow: f(11, { inPort: 1 }) });
    expect(t.size).toBe(1);
    t.apply({ command: 'delete', flow: any({ match: { inPort: 1 } }) });
    expect(t.size).toBe(0);
  });

  it('expires on idle and hard timeouts against the given clock', () => {
    let now = 0;
    const t = tables(() => now);
    t.apply({ command: 'add', flow: f(1, { inPort: 1 }, { idleTimeoutSec: 2 }) });
    t.apply({ command: 'add', flow: f(1, { inPort: 2 }, { hardTimeoutSec: 3, idleTimeoutSec: 1 }) });
    t.apply({ command: 'add', flow: f(1, { inPort: 3 }) });
    now = 1500;
    const [a, b] = [...t.flows()];
    a.lastHitMs = 1500;
    b.lastHitMs = 1500;
    expect(t.expire()).toEqual([]);
    now = 2600;
    expect(t.expire().map((e) => [e.flow.flow.match.inPort, e.reason])).toEqual([[2, 'idleTimeout']]);
    now = 3600;
    expect(t.expire().map((e) => e.reason)).toEqual(['idleTimeout']);
    expect(t.size).toBe(1);
  });

  it('rejects invalid flows with codes, changing nothing', () => {
    const t = tables();
    expect(() => t.apply({ command: 'add', flow: f(1, { tcpDst: 80 }) })).toThrow(expect.objectContaining({ code: 'OVC_ERR_FLOW_BAD_MATCH' }));
    expect(() => t.apply({ command: 'add', flow: f(1, {}, { table: 9 }) })).toThrow(expect.objectContaining({ code: 'OVC_ERR_FLOW_BAD_TABLE' }));
    expect(t.size).toBe(0);
  });
});
