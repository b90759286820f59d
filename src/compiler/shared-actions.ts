/**
 * Actions shared by value: flows are immutable, so an action (or a whole action list) that many flows
 * carry is one frozen object for all of them. On OVN's workload every VPC uses the same address plan,
 * so set-fields of an IP address or a port, and the distributed gateway's ARP answers, repeat in every
 * VPC (docs/vpc.md, "Figures"). The memos are bounded: past MAX_SHARED values a new one is made per
 * call and not remembered.
 */
import { decTtl, group, output, setField, type Action, type FieldName } from '../flow/index.js';

const MAX_SHARED = 65536;

/** A bounded memo from a number to a frozen value. */
class Memo<T> {
  private readonly values = new Map<number, T>();

  get(key: number, make: () => T): T {
    let v = this.values.get(key);
    if (v === undefined) {
      v = Object.freeze(make()) as T;
      if (this.values.size < MAX_SHARED) this.values.set(key, v);
    }
    return v;
  }
}

const setFields = new Map<FieldName, Memo<Action>>();
const outputs = new Memo<Action[]>();
const groups = new Memo<Action>();

/** `setField(field, value)`, one frozen object per field and value. */
export function sharedSetField(field: FieldName, value: number): Action {
  let memo = setFields.get(field);
  if (!memo) setFields.set(field, (memo = new Memo<Action>()));
  return memo.get(value, () => setField(field, value));
}

/** `[output(port)]`, one frozen list per port. */
export function outputList(port: number): Action[] {
  return outputs.get(port, () => [output(port)]);
}

/** `group(groupId)`, one frozen object per group id. */
export function sharedGroup(groupId: number): Action {
  return groups.get(groupId, () => group(groupId));
}

/** dec_ttl (it has no arguments: one object). */
export const DEC_TTL: Action = Object.freeze(decTtl());

/** A bounded memo for lists of actions keyed by a number (the caller's own table: one per kind of list). */
export class ActionListMemo extends Memo<Action[]> {}
