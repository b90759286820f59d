/**
 * Health probes with real processes: three instances of a function behind a VIP; one instance's
 * process stops, the controller's probes go unanswered and it leaves the pool (every connection lands
 * on the other two); a new process with the same MAC and IP on the same port answers again and it
 * returns. The controller runs with its default probing (every 1000 ms, 3 misses out, 2 answers in).
 * Across a controller restart, an operator's drain (a REST mark) stays although the backend answers,
 * and the prober's own mark is lifted when its backend answers again. Probe rounds are counted at the
 * backends (the echo requests each one answered), not by the clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabHandle } from '../../src/lab/index.js';
import { DEFAULT_HEALTHY_AFTER, DEFAULT_UNHEALTHY_AFTER } from '../../src/controller/health-prober.js';
import { get, notYet, post, received, send, startLab, switchesInSync, waitFor } from './lab-client.js';

const CONNECTIONS = 600;

interface Backend {
  name: string;
  id: string;
  mac: string;
  ip: string;
  leaf: string;
  port: number;
  url: string;
}

describe('health probes, end to end', () => {
  let lab: LabHandle;
  let gateway: string;
  let lbId: string;
  let clientUrl: string;
  const backends: Backend[] = [];

  async function unhealthy(): Promise<string[]> {
    return (await get<{ unhealthy: string[] }>(`${lab.apiUrl}/v1/load-balancers/${lbId}`)).unhealthy;
  }

  /** Waits until the load balancer's unhealthy list satisfies `ok`. */
  async function untilUnhealthy(what: string, ok: (ids: string[]) => boolean): Promise<void> {
    await waitFor(
      what,
      async () => {
        const ids = await unhealthy();
        return ok(ids) || notYet({ unhealthy: ids });
      },
      { timeoutMs: 15_000, everyMs: 100 },
    );
  }

  /** How many health probes (echo requests) a backend has answered so far. */
  async function probesAnswered(b: Backend): Promise<number> {
    return (await get<{ counters: { echoRequestsAnswered: number } }>(`${b.url}/info`)).counters.echoRequestsAnswered;
  }

  /**
   * Waits until each backend has answered `rounds` more probes than `since` says it had: by then the
   * prober has judged every earlier round (it applies verdicts before sending the next probe).
   */
  async function probeRounds(what: string, of: Backend[], rounds: number, since?: Map<string, number>): Promise<void> {
    await waitFor(
      what,
      async () => {
        const now = new Map(await Promise.all(of.map(async (b) => [b.name, await probesAnswered(b)] as const)));
        return of.every((b) => (now.get(b.name) ?? 0) - (since?.get(b.name) ?? 0) >= rounds) || notYet({ answered: now, since });
      },
      { timeoutMs: 15_000 + rounds * 2000, everyMs: 200 },
    );
  }

  /**
   * A burst of distinct connections to the VIP: how many each live backend got. The burst counts once
   * 99% have arrived and then a marker sent straight to each live backend (not through the VIP) after
   * the burst has arrived there too: a connection the VIP sent to that backend would have come first,
   * so a count of zero means none went there.
   */
  async function burst(tag: string, live: Backend[]): Promise<Map<string, number>> {
    for (const b of live) await received(b.url);
    await post(`${clientUrl}/udp`, { dst: '10.0.9.9', srcPort: 20000, dstPort: 8080, payload: tag, count: CONNECTIONS, connections: true });
    const seen = new Map<string, Set<string>>(live.map((b) => [b.name, new Set<string>()]));
    const markers = new Set<string>();
    const marker = `end-of-${tag}`;
    const counts = () => new Map([...seen].map(([k, v]) => [k, v.size]));
    const total = () => [...seen.values()].reduce((n, s) => n + s.size, 0);
    const collect = async () => {
      for (const b of live) {
        for (const d of await received(b.url)) {
          const text = Buffer.from(d.payloadHex, 'hex').toString();
          if (text === marker) markers.add(b.name);
          else if (text.startsWith(tag)) seen.get(b.name)?.add(text);
        }
      }
    };
    await waitFor(
      `the burst ${tag} at the backends`,
      async () => {
        await collect();
        return total() >= CONNECTIONS * 0.99 || notYet({ total: total(), perBackend: counts() });
      },
      { timeoutMs: 20_000, everyMs: 200 },
    );
    for (const b of live) await post(`${clientUrl}/udp`, { dst: b.ip, srcPort: 20000, dstPort: 7, payload: marker });
    await waitFor(
      `the marker after burst ${tag} at every live backend`,
      async () => {
        await collect();
        return live.every((b) => markers.has(b.name)) || notYet({ markersAt: markers, perBackend: counts() });
      },
      { timeoutMs: 10_000, everyMs: 100 },
    );
    return counts();
  }

  beforeAll(async () => {
    lab = await startLab({ topologyFile: 'topologies/leaf-spine-vpc.yaml', logLevel: 'warn', readyTimeoutMs: 60_000 });
    const vpc = String((await send(`${lab.apiUrl}/v1/vpcs`, { name: 'fn', cidr: '10.0.0.0/16' })).id);
    const sn = await send(`${lab.apiUrl}/v1/vpcs/${vpc}/subnets`, { cidr: '10.0.1.0/24' });
    gateway = String(sn.gateway);
    const client = await send(`${lab.apiUrl}/v1/endpoints`, { kind: 'container', vpc, subnet: sn.id, dpid: 101, port: 1 });
    clientUrl = await lab.attachHost({ name: 'client', mac: String(client.mac), ip: `${client.ip}/24`, gateway, switch: 'leaf1', port: 1 });
    const leaves = ['leaf2', 'leaf3', 'leaf4'];
    for (let i = 0; i < 3; i++) {
      const b = { name: `f${i}`, mac: `02:bb:00:00:00:0${i + 1}`, ip: `10.0.1.${100 + i}`, leaf: leaves[i], port: 1 };
      const url = await lab.attachHost({ name: b.name, mac: b.mac, ip: `${b.ip}/24`, gateway, switch: b.leaf, port: b.port });
      const ep = await send(`${lab.apiUrl}/v1/endpoints`, { kind: 'function', vpc, subnet: sn.id, dpid: 102 + i, port: b.port, mac: b.mac, ip: b.ip, labels: { function: 'resize' } });
      backends.push({ ...b, id: String(ep.id), url });
    }
    lbId = String((await send(`${lab.apiUrl}/v1/load-balancers`, { vpc, vip: '10.0.9.9', protocol: 'udp', port: 8080, function: 'resize' })).id);
    await switchesInSync(lab.apiUrl);
  }, 120_000);

  afterAll(async () => {
    await lab?.stop();
  });

  it('all three answer their probes and share the connections', async () => {
    // Enough probe rounds with everyone alive that unmatched answers would have marked someone: nobody is.
    await probeRounds('every backend to answer enough probes for a verdict', backends, DEFAULT_UNHEALTHY_AFTER + 1);
    expect(await unhealthy()).toEqual([]);
    const got = await burst('a', backends);
    for (const b of backends) expect(got.get(b.name)).toBeGreaterThan(CONNECTIONS / 10);
  }, 60_000);

  it('a backend whose process stops leaves the pool within a few seconds; one that answers again returns', async () => {
    const dead = backends[1];
    const live = backends.filter((b) => b !== dead);
    const t0 = Date.now();
    await lab.detachHost(dead.name);
    await untilUnhealthy('the dead backend marked unhealthy', (ids) => ids.includes(dead.id));
    const outMs = Date.now() - t0;
    await switchesInSync(lab.apiUrl);
    const during = await burst('b', live);
    const landed = [...during.values()].reduce((a, b) => a + b, 0);
    console.log(`out of the pool ${outMs} ms after the process stopped; burst while out: ${[...during].map(([k, v]) => `${k}=${v}`).join(' ')}`);
    expect(landed).toBeGreaterThanOrEqual(CONNECTIONS * 0.99);

    const t1 = Date.now();
    dead.url = await lab.attachHost({ name: dead.name, mac: dead.mac, ip: `${dead.ip}/24`, gateway, switch: dead.leaf, port: dead.port });
    await untilUnhealthy('the backend back in the pool', (ids) => ids.length === 0);
    const backMs = Date.now() - t1;
    await switchesInSync(lab.apiUrl);
    const after = await burst('c', backends);
    console.log(`back in the pool ${backMs} ms after the new process started; burst: ${[...after].map(([k, v]) => `${k}=${v}`).join(' ')}`);
    expect(after.get(dead.name)).toBeGreaterThan(CONNECTIONS / 10);
    expect([...after.values()].reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(CONNECTIONS * 0.99);
  }, 90_000);

  it("across a controller restart, an operator's drain stays and the prober's own mark is lifted", async () => {
    const [drained, , dead] = backends;
    await send(`${lab.apiUrl}/v1/load-balancers/${lbId}/backends/${drained.id}/health`, { healthy: false }, 'PUT');
    await lab.detachHost(dead.name);
    await untilUnhealthy('the dead backend marked unhealthy', (ids) => ids.includes(dead.id));
    const lb = () => get<{ unhealthy: string[]; unhealthyByProbe: string[] }>(`${lab.apiUrl}/v1/load-balancers/${lbId}`);
    expect(await lb()).toMatchObject({ unhealthy: [drained.id, dead.id].sort(), unhealthyByProbe: [dead.id] });

    await lab.stopController();
    await lab.startController();
    await switchesInSync(lab.apiUrl);
    expect(await lb()).toMatchObject({ unhealthy: [drained.id, dead.id].sort(), unhealthyByProbe: [dead.id] });

    dead.url = await lab.attachHost({ name: dead.name, mac: dead.mac, ip: `${dead.ip}/24`, gateway, switch: dead.leaf, port: dead.port });
    await untilUnhealthy('the prober lifting its own mark', (ids) => !ids.includes(dead.id));
    // More probe rounds than it takes the prober to return a backend it took out: the drained one
    // answers every one and stays out.
    const answered = new Map([[drained.name, await probesAnswered(drained)]]);
    await probeRounds('the drained backend to answer more probe rounds', [drained], DEFAULT_HEALTHY_AFTER + 1, answered);
    expect(await lb()).toMatchObject({ unhealthy: [drained.id], unhealthyByProbe: [] });
    await switchesInSync(lab.apiUrl);
    const got = await burst('d', backends);
    expect(got.get(drained.name)).toBe(0);
    expect([...got.values()].reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(CONNECTIONS * 0.99);
  }, 120_000);
});
