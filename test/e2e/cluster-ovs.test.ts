/**
 * A cluster on Open vSwitch: three controllers as targets of every bridge, each bridge mastered by
 * one of them through OpenFlow 1.3 role requests; when a master is killed, another takes its bridge
 * and holds exactly its desired flows.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { LabHandle } from '../../src/lab/index.js';
import { clusterSynced, type SwitchStatusRow } from '../../src/lab/lab-cluster.js';
import { canRunOvs } from '../support/ovs.js';
import { get, notYet, startLab, waitFor } from './lab-client.js';

interface ClusterJson {
  masters: { dpid: number; master: string | null; generationId: number }[];
}

describe.skipIf(!canRunOvs())('a cluster of three controllers on Open vSwitch bridges', () => {
  let lab: LabHandle | undefined;
  afterAll(async () => {
    await lab?.stop();
  });

  it('spreads the bridges over the controllers and fails one over when its master is killed', async () => {
    lab = await startLab({ topologyFile: 'topologies/demo.yaml', controllers: 3, switches: 'ovs', logLevel: 'warn', readyTimeoutMs: 90_000 });
    const l = lab;
    const before = await get<ClusterJson>(`${l.apiUrl}/v1/cluster`);
    expect(new Set(before.masters.map((m) => m.master)).size).toBe(3);
    const victim = l.controllers[1];
    const lost = before.masters.filter((m) => m.master === victim.name);
    await l.killController(victim.name);
    const survivors = l.controllers.filter((c) => c.name !== victim.name);
    await waitFor(
      `${lost.map((m) => m.dpid).join(',')} mastered again and synced`,
      async () => {
        const now = await get<ClusterJson>(`${survivors[0].apiUrl}/v1/cluster`);
        const views = await Promise.all(survivors.map(async (c) => (await get<{ switches: SwitchStatusRow[] }>(`${c.apiUrl}/v1/switches`)).switches));
        const synced = clusterSynced(views);
        const moved = lost.every((m) => {
          const n = now.masters.find((x) => x.dpid === m.dpid);
          return n?.master && n.master !== victim.name && n.generationId > m.generationId && synced.includes(m.dpid);
        });
        return moved || notYet({ masters: now.masters, synced });
      },
      { timeoutMs: 20_000, everyMs: 100 },
    );
  }, 150_000);
});
