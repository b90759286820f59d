/**
 * The bounded fault test of a controller cluster, with real processes: etcd, three controllers and a
 * leaf-spine of softswitches connected to all of them. A client creates VPCs at a steady rate through
 * randomly chosen controllers while one controller after another is killed (SIGKILL) and restarted;
 * meanwhile two hosts on different leaves ping each other. Afterwards every acknowledged create is
 * present exactly once on every controller, every switch's master has its installed flows equal to
 * the desired ones (which all three controllers compute alike), and the ping gaps are reported.
 * The variant kills one member of a three-member etcd instead.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LabHandle } from '../../src/lab/index.js';
import { clusterSynced, type SwitchStatusRow } from '../../src/lab/lab-cluster.js';
import { authFor, get, notYet, startLab, waitFor } from './lab-client.js';

/** 2 spines, 2 leaves, 2 hosts per leaf: small enough to start three times per run on a shared machine. */
const TOPOLOGY = `name: cluster-leaf-spine
switches:
  - { name: spine1, dpid: 1, ports: [1, 2] }
  - { name: spine2, dpid: 2, ports: [1, 2] }
  - { name: leaf1, dpid: 101, ports: [1, 2, 3, 4] }
  - { name: leaf2, dpid: 102, ports: [1, 2, 3, 4] }
links:
  - [leaf1:3, spine1:1]
  - [leaf1:4, spine2:1]
  - [leaf2:3, spine1:2]
  - [leaf2:4, spine2:2]
hosts:
  - { name: h1, mac: "02:00:00:00:00:01", ip: 10.0.0.1/24, attach: leaf1:1 }
  - { name: h2, mac: "02:00:00:00:00:02", ip: 10.0.0.2/24, attach: leaf1:2 }
  - { name: h3, mac: "02:00:00:00:00:03", ip: 10.0.0.3/24, attach: leaf2:1 }
  - { name: h4, mac: "02:00:00:00:00:04", ip: 10.0.0.4/24, attach: leaf2:2 }
`;

const ROUNDS = 10;
const ETCD_ROUNDS = 5;
const WRITE_INTERVAL_MS = 100;
const PING_INTERVAL_MS = 100;

interface Ack {
  name: string;
  id: string;
  revision: number;
}

function topologyFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overcast-cluster-topo-'));
  const file = path.join(dir, 'leaf-spine.yaml');
  fs.writeFileSync(file, TOPOLOGY);
  return file;
}

/** One create through one controller; undefined when it was not acknowledged (the controller died...). */
async function create(apiUrl: string, name: string, n: number): Promise<Ack | undefined> {
  try {
    const res = await fetch(`${apiUrl}/v1/vpcs`, {
      method: 'POST',
      headers: { ...authFor(apiUrl), 'content-type': 'application/json' },
      body: JSON.stringify({ name, cidr: `10.${100 + (n >> 8)}.${n & 255}.0/24` }),
      signal: AbortSignal.timeout(5000),
    });
    if (res.status !== 201) return undefined;
    const body = (await res.json()) as { id: string };
    return { name, id: body.id, revision: Number(res.headers.get('x-overcast-revision')) };
  } catch {
    return undefined;
  }
}

async function allVpcs(apiUrl: string, minRevision: number): Promise<{ id: string; name: string }[]> {
  const out: { id: string; name: string }[] = [];
  let cursor: string | null = null;
  do {
    const url = `${apiUrl}/v1/vpcs?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await fetch(url, { headers: { ...authFor(apiUrl), 'x-overcast-min-revision': String(minRevision) } });
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    const page = (await res.json()) as { items: { id: string; name: string }[]; next: string | null };
    out.push(...page.items);
    cursor = page.next;
  } while (cursor);
  return out;
}

/** Pings h1 -> h4 (different leaves) every PING_INTERVAL_MS until stopped; the longest run of losses. */
function pinger(lab: LabHandle): { stop(): Promise<{ sent: number; lost: number; longestGapMs: number }> } {
  let stopped = false;
  let sent = 0;
  let lost = 0;
  let gapStart: number | undefined;
  let longestGapMs = 0;
  const loop = (async () => {
    while (!stopped) {
      const started = Date.now();
      let ok = false;
      try {
        const res = await fetch(`${lab.hostUrl('h1')}/ping`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ dst: '10.0.0.4', count: 1, timeoutMs: 500 }),
        });
        ok = ((await res.json()) as { received: number }).received === 1;
      } catch {
        ok = false;
      }
      sent++;
      if (ok) {
        if (gapStart !== undefined) longestGapMs = Math.max(longestGapMs, Date.now() - gapStart);
        gapStart = undefined;
      } else {
        lost++;
        gapStart ??= started;
      }
      await new Promise((r) => setTimeout(r, PING_INTERVAL_MS));
    }
    if (gapStart !== undefined) longestGapMs = Math.max(longestGapMs, Date.now() - gapStart);
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { sent, lost, longestGapMs };
    },
  };
}

async function clusterHealthy(lab: LabHandle, timeoutMs: number): Promise<void> {
  const wanted = lab.topology.switches.length;
  await waitFor(
    'three healthy members, a master for every switch, every switch synced',
    async () => {
      const cluster = await get<{ members: { healthy: boolean }[]; masters: { master: string | null }[] }>(`${lab.apiUrl}/v1/cluster`);
      const views = await Promise.all(lab.controllers.map(async (c) => (await get<{ switches: SwitchStatusRow[] }>(`${c.apiUrl}/v1/switches`)).switches));
      const synced = clusterSynced(views);
      const ok = cluster.members.length === lab.controllers.length && cluster.members.every((m) => m.healthy) && cluster.masters.every((m) => m.master) && synced.length === wanted;
      return ok || notYet({ members: cluster.members, masters: cluster.masters, synced });
    },
    { timeoutMs, everyMs: 200 },
  );
}

async function checkOutcome(lab: LabHandle, acks: readonly Ack[]): Promise<void> {
  const head = Math.max(0, ...acks.map((a) => a.revision));
  const lists = await Promise.all(lab.controllers.map((c) => allVpcs(c.apiUrl, head)));
  for (const list of lists) {
    const byName = new Map<string, number>();
    for (const v of list) byName.set(v.name, (byName.get(v.name) ?? 0) + 1);
    const missing = acks.filter((a) => byName.get(a.name) !== 1);
    expect(missing, 'acknowledged creates not present exactly once').toEqual([]);
    expect(list.map((v) => v.id)).toEqual(lists[0].map((v) => v.id));
  }
  // Installed == desired at each switch's master, the desired tables alike at every controller.
  const views = await Promise.all(lab.controllers.map(async (c) => (await get<{ switches: SwitchStatusRow[] }>(`${c.apiUrl}/v1/switches`)).switches));
  for (const s of lab.topology.switches) {
    const rows = views.map((v) => v.find((x) => x.dpid === s.dpid));
    const desired = rows.map((r) => r?.desiredFlows);
    expect(new Set(desired).size, `desired flows of ${s.name} differ between controllers: ${desired.join(', ')}`).toBe(1);
    const master = rows.find((r) => r?.role === 'master');
    expect(master?.installedFlows, `${s.name} at its master`).toBe(master?.desiredFlows);
    const flows = await get<{ flows: unknown[] }>(`${lab.apiUrl}/v1/switches/${s.dpid}/flows`);
    expect(flows.flows.length, `${s.name}'s flows read from the switch`).toBe(desired[0]);
  }
}

/** Writes to random controllers until stopped; the acknowledged ones. */
function writer(lab: LabHandle, tag: string): { progress(): Promise<{ acks: number }>; stop(): Promise<{ acks: Ack[]; attempts: number }> } {
  let stopped = false;
  const acks: Ack[] = [];
  const inflight = new Set<Promise<void>>();
  let n = 0;
  const loop = (async () => {
    while (!stopped) {
      const i = n++;
      const target = lab.controllers[Math.floor(Math.random() * lab.controllers.length)];
      const p = create(target.apiUrl, `${tag}-${i}`, i).then((a) => {
        if (a) acks.push(a);
      });
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
      await new Promise((r) => setTimeout(r, WRITE_INTERVAL_MS));
    }
    await Promise.all(inflight);
  })();
  return {
    progress: async () => ({ acks: acks.length }),
    async stop() {
      stopped = true;
      await loop;
      return { acks, attempts: n };
    },
  };
}

describe('a cluster of three controllers under faults', () => {
  const labs: LabHandle[] = [];
  afterAll(async () => {
    for (const lab of labs) await lab.stop();
  });

  it('keeps every acknowledged write, exactly once, while controllers are killed and restarted', async () => {
    const lab = await startLab({ topologyFile: topologyFile(), controllers: 3, logLevel: 'warn', readyTimeoutMs: 90_000 });
    labs.push(lab);
    await clusterHealthy(lab, 60_000);
    const pings = pinger(lab);
    const writes = writer(lab, 'c');
    const failovers: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const victim = lab.controllers[Math.floor(Math.random() * lab.controllers.length)];
      const killedAt = Date.now();
      await lab.killController(victim.name);
      // The survivors take the victim's switches once its lease expires.
      await waitFor(
        `round ${round}: every switch mastered by a live controller`,
        async () => {
          const live = lab.controllers.find((c) => c.name !== victim.name) as { apiUrl: string };
          const cluster = await get<{ masters: { master: string | null }[] }>(`${live.apiUrl}/v1/cluster`);
          return cluster.masters.every((m) => m.master && m.master !== victim.name) || notYet(cluster.masters);
        },
        { timeoutMs: 15_000, everyMs: 50 },
      );
      failovers.push(Date.now() - killedAt);
      await lab.startController(victim.name);
    }
    const { acks, attempts } = await writes.stop();
    const ping = await pings.stop();
    await clusterHealthy(lab, 60_000);
    console.log(
      `cluster fault test: ${attempts} creates sent, ${acks.length} acknowledged; failover (kill -> all switches mastered) ms: ${failovers.join(', ')}; ` +
        `pings ${ping.sent} sent, ${ping.lost} lost, longest gap ${ping.longestGapMs} ms`,
    );
    expect(acks.length).toBeGreaterThan(attempts / 2);
    await checkOutcome(lab, acks);
    expect(ping.lost).toBeLessThan(ping.sent / 10);
  }, 240_000);

  it('keeps every acknowledged write, exactly once, while one etcd member of three is killed and restarted', async () => {
    const lab = await startLab({ topologyFile: topologyFile(), controllers: 3, etcdMembers: 3, logLevel: 'warn', readyTimeoutMs: 90_000 });
    labs.push(lab);
    const etcd = lab.etcd as NonNullable<LabHandle['etcd']>;
    await clusterHealthy(lab, 60_000);
    const pings = pinger(lab);
    const writes = writer(lab, 'e');
    for (let round = 0; round < ETCD_ROUNDS; round++) {
      const victim = etcd.members[Math.floor(Math.random() * etcd.members.length)];
      etcd.kill(victim.name);
      // Two members keep a quorum: writes go on through them.
      const before = (await writes.progress()).acks;
      await waitFor(`round ${round}: writes acknowledged without ${victim.name}`, async () => ((await writes.progress()).acks > before + 20 ? true : notYet((await writes.progress()).acks)), {
        timeoutMs: 20_000,
        everyMs: 100,
      });
      await etcd.restart(victim.name);
    }
    const { acks, attempts } = await writes.stop();
    const ping = await pings.stop();
    await clusterHealthy(lab, 60_000);
    console.log(`etcd member fault test: ${attempts} creates sent, ${acks.length} acknowledged; pings ${ping.sent} sent, ${ping.lost} lost, longest gap ${ping.longestGapMs} ms`);
    expect(acks.length).toBeGreaterThan(attempts / 2);
    await checkOutcome(lab, acks);
    expect(ping.lost).toBeLessThan(ping.sent / 10);
  }, 240_000);
});
