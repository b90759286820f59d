/**
 * Table-miss flows: every switch gets, in every pipeline table, the miss behaviour that PIPELINE
 * declares, as an explicit priority-0 flow owned by the fabric. Open vSwitch drops on a bare miss and
 * the softswitch sends it to the controller; with these flows both behave the same, and a table whose
 * miss is 'next' (ACCESS, NAT_LB, ROUTE) passes packets on even on a switch where no rule lives in it.
 */
import { PIPELINE, PORT, type TableSpec } from '../flow/index.js';
import type { CompileStep } from './compile-step.js';
import { PRIORITY } from './priorities.js';

export const tableMissStep: CompileStep = {
  name: 'table-miss',
  fabric(ctx, emit) {
    for (const sw of ctx.topology.switches) {
      for (const t of PIPELINE as readonly TableSpec[]) {
        const base = { table: t.id, priority: PRIORITY.TABLE_MISS, match: {} };
        if (t.miss === 'next') emit(sw.name, { ...base, actions: [], gotoTable: t.id + 1 });
        else if (t.miss === 'controller') emit(sw.name, { ...base, actions: [{ type: 'output', port: PORT.CONTROLLER, maxLen: 0xffff }] });
        else emit(sw.name, { ...base, actions: [] });
      }
    }
  },
};
