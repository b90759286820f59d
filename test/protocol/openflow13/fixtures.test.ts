/**
 * Byte captures of Open vSwitch 3.1 (ovs-ofctl's encoder and ovs-vswitchd's replies; see
 * fixtures/make-fixtures.ts): every message decodes to what Open vSwitch meant, and re-encodes to the
 * very same bytes.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PORT, copyField, output, setField } from '../../../src/flow/index.js';
import { decodeOf13, encodeOf13, type Of13Message } from '../../../src/protocol/openflow13/index.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

interface Captured {
  dir: 'to-switch' | 'from-switch';
  bytes: Buffer;
}

function load(name: string): Captured[] {
  return readFileSync(join(DIR, name), 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const [dir, hex] = l.split(' ');
      return { dir: dir as Captured['dir'], bytes: Buffer.from(hex, 'hex') };
    });
}

function decodeAll(name: string): Of13Message[] {
  return load(name).map((c) => {
    const m = decodeOf13(c.bytes);
    if (m.type === 'malformed') throw new Error(`${name}: ${m.code} ${m.reason}`);
    return m;
  });
}

const only = <T extends Of13Message['type']>(msgs: Of13Message[], type: T) =>
  msgs.filter((m): m is Extract<Of13Message, { type: T }> => m.type === type);

describe('Open vSwitch captures', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.hex'));

  it('has the captures', () => {
    expect(files.length).toBeGreaterThanOrEqual(9);
  });

  it.each(files)('%s: every message decodes and re-encodes to the same bytes', (name) => {
    for (const c of load(name)) {
      const m = decodeOf13(c.bytes);
      expect(m.type, `${name} ${c.bytes.toString('hex').slice(0, 40)}`).not.toBe('malformed');
      if (m.type !== 'malformed') expect(encodeOf13(m).toString('hex')).toBe(c.bytes.toString('hex'));
    }
  });

  it('ovs-ofctl --bundle: open (atomic, ordered), three flow-mods, commit', () => {
    const msgs = decodeAll('ofctl-bundle-add-flows.hex');
    const ctrl = only(msgs, 'bundleControl').map((m) => m.ctrlType);
    expect(ctrl).toEqual(['openRequest', 'openReply', 'commitRequest', 'commitReply']);
    expect(only(msgs, 'bundleControl')[0].flags).toBe(3);
    const adds = only(msgs, 'bundleAdd');
    expect(adds.map((a) => a.message.xid)).toEqual(adds.map((a) => a.xid));
    const flows = adds.map((a) => (a.message.type === 'flowMod' ? a.message.flow : undefined));
    expect(flows[0]).toEqual({ table: 0, priority: 10, match: { inPort: 2 }, actions: [output(3)], cookie: 1 });
    expect(flows[1]).toEqual({
      table: 1,
      priority: 100,
      match: { ethType: 0x0806, arpOp: 1 },
      actions: [
        copyField('ethSrc', 'ethDst'),
        setField('ethSrc', 0x020000000001),
        setField('arpOp', 2),
        copyField('arpSha', 'arpTha'),
        copyField('arpSpa', 'arpTpa'),
        output(PORT.IN_PORT),
      ],
      cookie: 5,
    });
    expect(flows[2]).toEqual({
      table: 2,
      priority: 20,
      match: { ethType: 0x0800, ipProto: 6, tcpFlags: { value: 0x002, mask: 0x012 } },
      actions: [],
      writeMetadata: { value: 7, mask: 0xff },
      gotoTable: 3,
      cookie: 5,
    });
  });

  it('ovs-ofctl add-group: select, fast-failover, all', () => {
    const groups = only(decodeAll('ofctl-add-groups.hex'), 'groupMod').map((g) => g.group);
    expect(groups).toEqual([
      { groupId: 1, type: 'select', buckets: [{ weight: 5, actions: [output(1)] }, { weight: 1, actions: [output(2)] }] },
      { groupId: 2, type: 'fastFailover', buckets: [{ watchPort: 1, actions: [output(1)] }, { watchPort: 2, actions: [output(2)] }] },
      { groupId: 3, type: 'all', buckets: [{ actions: [output(1)] }, { actions: [output(3)] }] },
    ]);
  });

  it('ovs-ofctl add-meter', () => {
    expect(only(decodeAll('ofctl-add-meter.hex'), 'meterMod')).toEqual([
      { type: 'meterMod', xid: 2, command: 'add', flags: 1 | 4, meterId: 1, bands: [{ type: 'drop', rate: 1000, burstSize: 100 }] },
    ]);
  });

  it('ovs-ofctl del-flows cookie=0x5/-1: all tables, exact cookie', () => {
    const [del] = only(decodeAll('ofctl-del-flows.hex'), 'flowMod');
    expect(del).toMatchObject({ command: 'delete', allTables: true, cookieMask: Number.MAX_SAFE_INTEGER, flow: { cookie: 5, match: {} } });
  });

  it('the flow stats reply holds the bundled flows as installed', () => {
    const [reply] = only(decodeAll('ofctl-dump-flows.hex'), 'flowStatsReply');
    expect(reply.flows.map((f) => [f.flow.table, f.flow.priority, f.flow.cookie])).toEqual([
      [0, 10, 1],
      [1, 100, 5],
      [2, 20, 5],
    ]);
    expect(reply.flows[1].flow.actions).toHaveLength(6);
  });

  it('group description, port description and port stats replies', () => {
    const [groups] = only(decodeAll('ofctl-dump-groups.hex'), 'groupDescReply');
    expect(groups.groups.map((g) => [g.groupId, g.type]).sort()).toEqual([
      [1, 'select'],
      [2, 'fastFailover'],
      [3, 'all'],
    ]);
    const [ports] = only(decodeAll('ofctl-dump-ports-desc.hex'), 'portDescReply');
    expect(ports.ports.map((p) => [p.portNo, p.name])).toEqual([
      [PORT.LOCAL, 'br0'],
      [1, 'p1'],
      [2, 'p2'],
      [3, 'p3'],
    ]);
    expect(ports.ports.every((p) => p.hwAddr > 0 && p.hwAddr < 2 ** 48)).toBe(true);
    const [stats] = only(decodeAll('ofctl-dump-ports.hex'), 'portStatsReply');
    expect(stats.stats).toHaveLength(4);
    // The dummy datapath keeps no drop/error counters: OpenFlow's all ones, decoded as -1.
    expect(stats.stats[0]).toMatchObject({ rxPackets: 0, rxDropped: -1, collisions: -1 });
  });

  it('a controller session: handshake, packet-in, stats, error', () => {
    const msgs = decodeAll('controller-session.hex');
    expect(msgs[0]).toMatchObject({ type: 'hello', version: 4, versions: [4] });
    expect(only(msgs, 'featuresReply')[0]).toMatchObject({ xid: 2, datapathId: 0xabcn, nTables: 254 });
    expect(only(msgs, 'descReply')[0]).toMatchObject({ mfrDesc: 'Nicira, Inc.', hwDesc: 'Open vSwitch' });
    expect(only(msgs, 'roleReply')[0]).toMatchObject({ xid: 7, role: 'master', generationId: 1n });
    expect(only(msgs, 'echoReply')[0].data.toString()).toBe('ping');
    const [pin] = only(msgs, 'packetIn');
    expect(pin).toMatchObject({ reason: 0, tableId: 0, cookie: 0x1234, match: { inPort: 1 }, totalLen: 42, bufferId: 0xffffffff });
    expect(pin.data.subarray(12, 14).toString('hex')).toBe('0806');
    const [flows] = only(msgs, 'flowStatsReply');
    expect(flows.flows).toEqual([
      expect.objectContaining({ packetCount: 1, byteCount: 42, flow: { table: 0, priority: 0, match: {}, actions: [output(PORT.CONTROLLER, 0xffff)], cookie: 0x1234 } }),
    ]);
    expect(only(msgs, 'getConfigReply')[0]).toMatchObject({ missSendLen: 0xffff });
    // The flow-mod to table 255 was refused: OFPET_FLOW_MOD_FAILED / OFPFMFC_BAD_TABLE_ID, quoting our request.
    const [err] = only(msgs, 'error');
    expect(err).toMatchObject({ xid: 15, errType: 5, errCode: 2 });
    expect(err.data.subarray(0, 8).toString('hex')).toBe('040e00380000000f');
  });
});
