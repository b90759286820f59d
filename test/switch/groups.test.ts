import { describe, expect, it } from 'vitest';
import { isOvercastError } from '../../src/errors/index.js';
import { createExecResult, createPipelineExecutor, selectBucket, type PipelineEnv } from '../../src/flow/execute.js';
import { group, output, setField, type Bucket, type GroupEntry, type GroupMod } from '../../src/flow/index.js';
import { MAGLEV_DEFAULT_SIZE, bucketName, compileSelectTable, maglevCounts, maglevDisruption, selectTableFor } from '../../src/flow/maglev.js';
import { buildUdpFrame } from '../../src/net/index.js';
import { GroupTable } from '../../src/switch/groups.js';

const backend = (i: number, weight?: number): Bucket => ({
  ...(weight === undefined ? {} : { weight }),
  actions: [setField('ethDst', 0x020000000200 + i), setField('ipv4Dst', 0x0a020000 + i), output(100 + i)],
});
const pool = (ids: number[]) => ids.map((i) => backend(i));
const select = (groupId: number, buckets: Bucket[]): GroupEntry => ({ groupId, type: 'select', buckets });
const mod = (command: GroupMod['command'], g: GroupEntry): GroupMod => ({ command, group: g });
const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return isOvercastError(e) ? e.code : 'not an OvercastError';
  }
  return undefined;
};

describe('GroupTable with Maglev select groups', () => {
  it('builds the Maglev table when a select group is added, and drops it with the group', () => {
    const groups = new GroupTable({ maglevSize: 4099 });
    const buckets = pool([1, 2, 3]);
    groups.apply(mod('add', select(1, buckets)));
    const t = groups.selectTable(1)!;
    expect(t.size).toBe(4099);
    // The executor finds the very table the group table built (no build on the packet path).
    expect(selectTableFor(buckets)).toBe(t);
    expect(Array.from(t.entries)).toEqual(Array.from(compileSelectTable(buckets, 4099).entries));
    groups.apply(mod('add', { groupId: 2, type: 'all', buckets }));
    expect(groups.selectTable(2)).toBeUndefined();
    groups.apply(mod('delete', select(1, [])));
    expect(groups.selectTable(1)).toBeUndefined();
    expect(new GroupTable().maglevSize).toBe(MAGLEV_DEFAULT_SIZE);
  });

  it('refuses a table size that is not prime, and keeps OpenFlow\'s group checks', () => {
    expect(codeOf(() => new GroupTable({ maglevSize: 4096 }))).toBe('OVC_ERR_FLOW_BAD_MAGLEV');
    const groups = new GroupTable({ maglevSize: 251 });
    groups.apply(mod('add', select(1, pool([1]))));
    expect(codeOf(() => groups.apply(mod('add', select(1, pool([2])))))).toBe('OVC_ERR_SWITCH_BAD_GROUP');
    expect(codeOf(() => groups.apply(mod('modify', select(9, pool([2])))))).toBe('OVC_ERR_SWITCH_BAD_GROUP');
    expect(codeOf(() => groups.apply(mod('modify', select(1, [{ weight: 1.5, actions: [output(1)] }]))))).toBe('OVC_ERR_SWITCH_BAD_GROUP');
    expect(codeOf(() => groups.apply(mod('modify', select(1, [{ weight: 70000, actions: [output(1)] }]))))).toBe('OVC_ERR_SWITCH_BAD_GROUP');
  });

  it('rebuilds on modify: endpoints joining and leaving move about 1/N of connections', () => {
    const groups = new GroupTable();
    const ten = pool([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    groups.apply(mod('add', select(1, ten)));
    const before = groups.selectTable(1)!;
    groups.apply(mod('modify', select(1, ten.filter((_, i) => i !== 4))));
    const after = groups.selectTable(1)!;
    expect(after).not.toBe(before);
    const left = maglevDisruption(before, after);
    expect(left).toBeGreaterThan(0.099);
    expect(left).toBeLessThan(0.11);
    groups.apply(mod('modify', select(1, [...ten, backend(10)])));
    const joined = maglevDisruption(before, groups.selectTable(1)!);
    expect(joined).toBeGreaterThan(1 / 11 - 0.001);
    expect(joined).toBeLessThan(1 / 11 + 0.01);
  });

  it('changes a canary split at runtime by weight (90/10 -> 50/50) with a modify', () => {
    const groups = new GroupTable();
    const stable = backend(1, 90);
    const canary = backend(2, 10);
    groups.apply(mod('add', select(1, [stable, canary])));
    const share = () => maglevCounts(groups.selectTable(1)!)[1] / MAGLEV_DEFAULT_SIZE;
    expect(Math.abs(share() - 0.1)).toBeLessThan(0.001);
    groups.apply(mod('modify', select(1, [{ ...stable, weight: 50 }, { ...canary, weight: 50 }])));
    expect(Math.abs(share() - 0.5)).toBeLessThan(0.001);
    // Weight alone does not rename a bucket: the canary keeps the slots it had and gains more.
    expect(bucketName({ ...canary, weight: 50 })).toBe(bucketName(canary));
  });

  it('in the executor: after a pool change, only connections of the removed backend and a few others move', () => {
    const groups = new GroupTable();
    const ten = pool([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    groups.apply(mod('add', select(3, ten)));
    const vip = { table: 0, priority: 1, match: {}, actions: [group(3)], cookie: 0 };
    const env: PipelineEnv = {
      lookup: () => ({ flow: vip }),
      group: (id) => groups.get(id),
      ports: [1],
      tableMiss: 'drop',
      tableCount: 8,
    };
    const ex = createPipelineExecutor(env);
    const res = createExecResult();
    const frames = Array.from({ length: 2000 }, (_, i) =>
      buildUdpFrame({ srcMac: 0x020000000001, dstMac: 0x02000000ffff, srcIp: 0x0a000001 + (i >>> 8), dstIp: 0x0a0000fe, srcPort: 1024 + i, dstPort: 53 }),
    );
    const before = frames.map((f) => ex.run(f, 1, res).outPorts[0]);
    groups.apply(mod('modify', select(3, ten.filter((_, i) => i !== 6))));
    const after = frames.map((f) => ex.run(f, 1, res).outPorts[0]);
    let ofRemoved = 0;
    let others = 0;
    for (let i = 0; i < frames.length; i++) {
      expect(after[i]).not.toBe(106);
      if (before[i] === 106) ofRemoved++;
      else if (after[i] !== before[i]) others++;
    }
    expect(ofRemoved / frames.length).toBeGreaterThan(0.06);
    expect(ofRemoved / frames.length).toBeLessThan(0.14);
    expect(others / frames.length).toBeLessThan(0.02);
    // The executor's choice is selectBucket over the installed list.
    expect(selectBucket(groups.get(3)!.buckets, 12345)).toBeGreaterThanOrEqual(0);
  });
});
