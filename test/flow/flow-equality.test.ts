/**
 * Flow and group equality (src/flow/flow-entry.ts), used by the controller's diffs and the incremental
 * compiler: key order never matters, and an absent optional field equals its default.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  diffFlows,
  diffGroups,
  flowKey,
  output,
  PORT,
  sameFlow,
  sameFlowBody,
  sameFlowKey,
  sameGroup,
  TABLE,
  toController,
  type Action,
  type FlowEntry,
  type GroupEntry,
  type Match,
} from '../../src/flow/index.js';

const base: FlowEntry = { table: TABLE.FORWARD, priority: 100, match: { ethDst: 0x020000000001 }, actions: [output(3)], cookie: 7 };
const flow = (over: Partial<FlowEntry>): FlowEntry => ({ ...base, ...over });

describe('flow equality ignores key order', () => {
  it('actions with the same fields in another order are the same body', () => {
    const a = flow({ actions: [{ type: 'output', port: 3, maxLen: 128 }] });
    const b = flow({ actions: [{ maxLen: 128, port: 3, type: 'output' } as Action] });
    expect(sameFlowBody(a, b)).toBe(true);
    expect(sameFlow(a, b)).toBe(true);
    expect(diffFlows([a], [b])).toEqual({ add: [], modify: [], remove: [] });
  });

  it('a write-metadata with its value and mask in another order is the same body', () => {
    const a = flow({ writeMetadata: { value: 5, mask: 0xff } });
    const b = flow({ writeMetadata: { mask: 0xff, value: 5 } });
    expect(sameFlowBody(a, b)).toBe(true);
    expect(diffFlows([a], [b]).modify).toEqual([]);
  });

  it('groups whose buckets list their fields in another order need no group-mod', () => {
    const a: GroupEntry = { groupId: 9, type: 'select', buckets: [{ weight: 2, actions: [output(1)] }], cookie: 4 };
    const b: GroupEntry = { cookie: 4, buckets: [{ actions: [output(1)], weight: 2 }], type: 'select', groupId: 9 };
    expect(sameGroup(a, b)).toBe(true);
    expect(diffGroups([a], [b])).toEqual([]);
  });

  it('a group read back without its cookie (OpenFlow 1.3 keeps none) needs no group-mod', () => {
    const desired: GroupEntry = { groupId: 9, type: 'select', buckets: [{ weight: 2, actions: [output(1)] }], cookie: 4 };
    const readBack: GroupEntry = { groupId: 9, type: 'select', buckets: [{ weight: 2, actions: [output(1)] }] };
    expect(diffGroups([readBack], [desired])).toEqual([]);
  });
});

describe('flow equality reads an absent field as its default', () => {
  it('no timeout is a timeout of 0', () => {
    const a = flow({ idleTimeoutSec: 0, hardTimeoutSec: 0 });
    expect(sameFlow(a, base)).toBe(true);
    expect(sameFlowBody(a, base)).toBe(true);
    expect(sameFlow(flow({ idleTimeoutSec: 10 }), base)).toBe(false);
  });

  it("an output's missing max_len is the full frame to the controller and 0 elsewhere", () => {
    expect(sameFlowBody(flow({ actions: [output(PORT.CONTROLLER)] }), flow({ actions: [toController()] }))).toBe(true);
    expect(sameFlowBody(flow({ actions: [output(3)] }), flow({ actions: [output(3, 0)] }))).toBe(true);
    expect(diffFlows([flow({ actions: [toController()] })], [flow({ actions: [output(PORT.CONTROLLER)] })]).modify).toEqual([]);
    expect(sameFlowBody(flow({ actions: [output(PORT.CONTROLLER, 128)] }), flow({ actions: [toController()] }))).toBe(false);
    expect(sameFlowBody(flow({ actions: [output(3, 64)] }), flow({ actions: [output(3)] }))).toBe(false);
  });

  it("a select bucket's missing weight is 1, a missing watch port or group is ANY", () => {
    const a: GroupEntry = { groupId: 9, type: 'select', buckets: [{ actions: [output(1)] }] };
    const b: GroupEntry = { groupId: 9, type: 'select', buckets: [{ weight: 1, watchPort: PORT.ANY, watchGroup: 0xffffffff, actions: [output(1)] }] };
    expect(sameGroup(a, b)).toBe(true);
    expect(diffGroups([a], [b])).toEqual([]);
    expect(sameGroup(a, { ...b, buckets: [{ weight: 2, actions: [output(1)] }] })).toBe(false);
    expect(sameGroup({ ...a, type: 'all' }, { ...b, type: 'all' })).toBe(false);
  });

  it('a zero-mask field matches everything, like an absent one; a full mask is the exact value', () => {
    expect(sameFlowKey(flow({ match: { ethDst: 0x020000000001, ipv4Src: { value: 1, mask: 0 } } }), base)).toBe(true);
    expect(sameFlowKey(flow({ match: { ethDst: { value: 0x020000000001, mask: 0xffffffffffff } } }), base)).toBe(true);
    expect(sameFlowKey(flow({ match: { metadata: { value: 0x1ff, mask: 0xff } } }), flow({ match: { metadata: { value: 0xff, mask: 0xff } } }))).toBe(true);
  });
});

describe('flow equality tells different entries apart', () => {
  it('every body field counts', () => {
    const changed: Partial<FlowEntry>[] = [
      { cookie: 8 },
      { gotoTable: TABLE.FORWARD + 1 },
      { meterId: 1 },
      { writeMetadata: { value: 1, mask: 1 } },
      { actions: [output(4)] },
      { actions: [output(3), output(4)] },
      { actions: [{ type: 'setField', field: 'ethDst', value: 1 }] },
      { actions: [] },
    ];
    for (const over of changed) expect(sameFlowBody(flow(over), base), JSON.stringify(over)).toBe(false);
    expect(sameFlowBody(flow({ writeMetadata: { value: 1, mask: 1 } }), flow({ writeMetadata: { value: 1, mask: 3 } }))).toBe(false);
  });

  it('identity is table, priority and match, not the body', () => {
    expect(sameFlowKey(flow({ cookie: 99, actions: [] }), base)).toBe(true);
    expect(sameFlowKey(flow({ priority: 101 }), base)).toBe(false);
    expect(sameFlowKey(flow({ table: TABLE.FORWARD + 1 }), base)).toBe(false);
    expect(sameFlowKey(flow({ match: { ethDst: 0x020000000002 } }), base)).toBe(false);
    expect(sameFlowKey(flow({ match: {} }), base)).toBe(false);
  });

  it('sameFlowKey agrees with flowKey on random matches', () => {
    const field = fc.oneof(
      fc.constant(undefined),
      fc.constantFrom(0, 1, 5, 0xff),
      fc.record({ value: fc.constantFrom(0, 1, 5, 0x1ff), mask: fc.constantFrom(0, 1, 0xff, 0xffff, 0xffffffff) }),
    );
    const mac = fc.oneof(fc.constant(undefined), fc.constantFrom(0x020000000001, 0xffffffffffff), fc.record({ value: fc.constantFrom(0x020000000001, 1), mask: fc.constantFrom(0, 0xff, 0xffffffffffff) }));
    const match = fc.record({ metadata: field, udpDst: field, ethDst: mac }).map((m) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(m)) if (v !== undefined) out[k] = v;
      return out as Match;
    });
    fc.assert(
      fc.property(match, match, (a, b) => {
        const x = flow({ match: a });
        const y = flow({ match: b });
        expect(sameFlowKey(x, y)).toBe(flowKey(x) === flowKey(y));
      }),
      { numRuns: 2000 },
    );
  });
});
