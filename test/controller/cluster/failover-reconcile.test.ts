/**
 * A switch's mastership moving between two controllers: the new master reconciles by difference (it
 * reads the switch's tables and finds nothing to change), the flows stay installed as they were, and
 * the old master, now a slave, cannot change the tables.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Controller, type SwitchRoles } from '../../../src/controller/controller.js';
import { listenNative, type NativeServer } from '../../../src/controller/native/native-server.js';
import { output, type FlowEntry } from '../../../src/flow/index.js';
import { createSoftSwitch, type SoftSwitch } from '../../../src/switch/index.js';
import { notYet, waitFor } from '../../support/wait-for.js';

const logger = pino({ level: 'silent' });
const DPID = 5;
const FLOWS: FlowEntry[] = [1, 2, 3].map((p) => ({ table: 0, priority: 100, match: { inPort: p }, actions: [output(4)], cookie: 7 }));

describe('mastership moving between two controllers', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function controllerWith(role: { role: 'master' | 'slave'; generationId: number }): Promise<{ controller: Controller; server: NativeServer; role: typeof role }> {
    const state = { ...role };
    const roles: SwitchRoles = { roleOf: () => ({ ...state }) };
    const controller = new Controller({ logger, nowMs: () => performance.now(), roles });
    await controller.setDesired(new Map([[DPID, { flows: FLOWS, groups: [] }]]));
    const server = await listenNative(controller, '127.0.0.1', 0, logger);
    cleanups.push(async () => {
      controller.close();
      await server.close();
    });
    return { controller, server, role: state };
  }

  it('the new master pushes nothing, the flows stay, the old master is refused', async () => {
    const a = await controllerWith({ role: 'master', generationId: 1 });
    const b = await controllerWith({ role: 'slave', generationId: 1 });
    const sw: SoftSwitch = createSoftSwitch(
      {
        dpid: DPID,
        controllers: [a, b].map((x) => ({ host: '127.0.0.1', port: x.server.port })),
        ports: [1, 2, 3, 4].map((p) => ({ portNo: p, name: `p${p}`, localHost: '127.0.0.1', localPort: 0 })),
        backoff: { initialMs: 20, maxMs: 100 },
      },
      { logger },
    );
    await sw.start();
    cleanups.push(() => sw.stop());
    await waitFor('a to master the switch and install its flows', () => {
      const s = a.controller.statusOf(DPID);
      return (s.role === 'master' && s.lastSync?.ok && sw.flows().length === FLOWS.length) || notYet({ s, flows: sw.flows().length });
    });
    await waitFor('b to be a slave', () => b.controller.statusOf(DPID).role === 'slave' || notYet(b.controller.statusOf(DPID)));
    const installedAt = sw.flows().map((f) => f.installedAtMs);

    // The lease of a expired: b is elected with a newer generation.
    b.role.role = 'master';
    b.role.generationId = 2;
    await b.controller.roleChanged(DPID);
    const s = b.controller.statusOf(DPID);
    expect(s.role).toBe('master');
    expect(s.lastSync).toMatchObject({ ok: true, added: 0, modified: 0, removed: 0, groupMods: 0 });
    expect(sw.flows().map((f) => f.installedAtMs)).toEqual(installedAt);
    await waitFor('the switch to make a a slave', () => sw.stats().channels.map((c) => c.role).join() === 'slave,master' || notYet(sw.stats().channels));

    // a hears of the new master and steps down; coming back with its old generation, it is refused.
    a.role.role = 'slave';
    a.role.generationId = 2;
    await a.controller.roleChanged(DPID);
    expect(a.controller.statusOf(DPID).role).toBe('slave');
    a.role.role = 'master';
    a.role.generationId = 1;
    await a.controller.roleChanged(DPID);
    expect(a.controller.statusOf(DPID).role).toBe('slave');
    expect(sw.stats().channels.map((c) => c.role)).toEqual(['slave', 'master']);
    expect(sw.flows().map((f) => f.installedAtMs)).toEqual(installedAt);
  });
});
