/** The ledger that names a refused message by its xid, and the refusal error. */
import { describe, expect, it } from 'vitest';
import { MAX_SENT_SPANS, SentLedger, SwitchRefusedError, describeFlowMod, describeGroupMod } from '../../../src/controller/channel/refusals.js';
import { output } from '../../../src/flow/index.js';

describe('sent ledger', () => {
  it('names a message of a batch by xid, across the 2^32 wrap', () => {
    const ledger = new SentLedger();
    ledger.record(0xfffffffe, 4, (i) => `m${i}`);
    expect([0xfffffffe, 0xffffffff, 0, 1, 2].map((x) => ledger.describe(x))).toEqual(['m0', 'm1', 'm2', 'm3', undefined]);
  });

  it('forgets what a barrier covered, keeps what came after it', () => {
    const ledger = new SentLedger();
    ledger.record(10, 2, () => 'before');
    const mark = ledger.mark();
    ledger.record(20, 1, () => 'after');
    ledger.settle(mark);
    expect([ledger.describe(10), ledger.describe(20)]).toEqual([undefined, 'after']);
  });

  it('stays bounded when no barrier ever comes, keeping the latest', () => {
    const ledger = new SentLedger();
    for (let i = 0; i < MAX_SENT_SPANS * 3; i++) ledger.record(i, 1, () => `p${i}`);
    expect(ledger.describe(MAX_SENT_SPANS * 3 - 1)).toBe(`p${MAX_SENT_SPANS * 3 - 1}`);
    expect(ledger.describe(0)).toBeUndefined();
  });
});

describe('SwitchRefusedError', () => {
  it('says what was refused, why, and how many more', () => {
    const flow = { table: 5, priority: 100, match: { ethDst: 1 }, actions: [output(2)], cookie: 0x2a };
    const e = new SwitchRefusedError('OVC_ERR_SWITCH_NO_GROUP', 7, describeFlowMod({ command: 'add', flow }), 'no group 9').followedBy(2);
    expect(e.message).toBe('switch refused flow-mod add table 5 priority 100 cookie 0x2a match {"ethDst":1}: OVC_ERR_SWITCH_NO_GROUP (no group 9) and 2 more');
    expect(e.count).toBe(3);
    expect(describeGroupMod({ command: 'add', group: { groupId: 9, type: 'select', buckets: [{ actions: [] }] } })).toBe('group-mod add group 9 (select, 1 buckets)');
  });
});
