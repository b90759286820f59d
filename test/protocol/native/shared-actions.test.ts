/**
 * Decoded actions are shared by a key of their fields (flow-codec.ts): two actions that differ in any
 * field must never come back as one another, whatever order they are decoded in.
 */
import { describe, expect, it } from 'vitest';
import type { Action, FlowEntry } from '../../../src/flow/index.js';
import { decodeFramed, encodeMessage } from '../../../src/protocol/native/index.js';

const cts: Action[] = [];
for (const table of [undefined, 0, 5])
  for (const commit of [undefined, true])
    for (const mark of [undefined, { value: 0, mask: 0 }, { value: 1, mask: 0xff }]) {
      const a: Action = { type: 'ct', zone: 7 };
      if (table !== undefined) a.table = table;
      if (commit) a.commit = true;
      if (mark) a.mark = mark;
      cts.push(a);
    }
const conjunctions: Action[] = [];
for (const id of [0, 1, 64]) for (const [clause, nClauses] of [[1, 2], [2, 2], [1, 3]]) conjunctions.push({ type: 'conjunction', id, clause, nClauses });

function roundTrip(action: Action): Action {
  const flow: FlowEntry = { table: 3, priority: 10, match: { ethType: 0x0800 }, actions: [action], cookie: 1 };
  const back = decodeFramed(encodeMessage({ type: 'flowMod', xid: 1, flowMod: { command: 'add', flow } }));
  if (back.type !== 'flowMod') throw new Error(`decoded ${back.type}`);
  return back.flowMod.flow.actions[0];
}

describe('shared decoded actions', () => {
  it('give back each ct and conjunction action as it was sent, in any order', () => {
    const all = [...cts, ...conjunctions];
    for (const order of [all, [...all].reverse(), [...all, ...all]]) for (const a of order) expect(roundTrip(a)).toEqual(a);
  });
});
