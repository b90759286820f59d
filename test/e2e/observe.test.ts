/**
 * Seeing a running fabric, end to end on leaf-spine-vpc (no underlay hosts): test hosts attached to
 * VPC endpoints over REST (`overcast lab attach`), pings by endpoint id and by address, `overcast
 * status` and `overcast trace` against the controller, and GET /metrics / GET /v1/stats/links showing
 * the traffic those pings made, by endpoint, function, switch and route.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../../src/cli/api-client.js';
import { labAttach, labPing } from '../../src/cli/lab-command.js';
import { runStatus } from '../../src/cli/status-command.js';
import { runTrace } from '../../src/cli/trace-command.js';
import type { LabHandle } from '../../src/lab/index.js';
import { authFor, get, notYet, post, startLab, switchesInSync, waitFor } from './lab-client.js';

/** One sample's value from Prometheus text, or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.lastIndexOf('}'));
    if (Object.entries(labels).every(([k, v]) => body.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('observing a VPC lab', () => {
  let lab: LabHandle;
  let web1: { id: string; ip: string };
  let web2: { id: string; ip: string };
  let vpc: string;

  beforeAll(async () => {
    lab = await startLab({ topologyFile: 'topologies/leaf-spine-vpc.yaml', logLevel: 'warn', readyTimeoutMs: 60_000, controllerArgs: ['--stats-interval-ms', '300'] });
    const api = lab.apiUrl;
    vpc = (await post<{ id: string }>(`${api}/v1/vpcs`, { name: 'shop', cidr: '10.1.0.0/16' })).id;
    const subnet = (await post<{ id: string }>(`${api}/v1/vpcs/${vpc}/subnets`, { cidr: '10.1.0.0/24' })).id;
    const add = (dpid: number, port: number) => post<{ id: string; ip: string }>(`${api}/v1/endpoints`, { kind: 'function', vpc, subnet, dpid, port, labels: { function: 'web' } });
    web1 = await add(101, 1);
    web2 = await add(104, 2);
    await switchesInSync(api);
    const client = apiClient({ api, token: lab.token });
    await labAttach(client, web1.id);
    await labAttach(client, web2.id, 'second');
  }, 120_000);

  afterAll(async () => {
    await lab?.stop();
  });

  it('lists attached hosts with the endpoints they stand for', async () => {
    const { hosts } = await get<{ hosts: { name: string; endpoint?: string; ip: string }[] }>(`${lab.apiUrl}/v1/lab/hosts`);
    expect(hosts).toEqual([expect.objectContaining({ name: web1.id, endpoint: web1.id, ip: `${web1.ip}/24` }), expect.objectContaining({ name: 'second', endpoint: web2.id })]);
  });

  it('pings by endpoint id, by host name and by address, along the compiled path', async () => {
    const byId = await labPing(apiClient({ api: lab.apiUrl, token: lab.token }), web1.id, web2.id, 2);
    expect(byId.received).toBeGreaterThan(0);
    expect(byId.path[0]).toBe(web1.id);
    expect(byId.path.at(-1)).toBe(`endpoint ${web2.id}`);
    expect(byId.path.slice(1, -1).every((hop) => /^(leaf|spine)\d\(in \d, out \d\)$/.test(hop))).toBe(true);
    const byAddress = await labPing(apiClient({ api: lab.apiUrl, token: lab.token }), 'second', web1.ip, 1);
    expect(byAddress.received).toBe(1);
  });

  it('refuses a second test host for an endpoint, by code', async () => {
    await expect(labAttach(apiClient({ api: lab.apiUrl, token: lab.token }), web1.id, 'again')).rejects.toThrow(/^OVC_ERR_LAB_ATTACH:/);
  });

  it('`overcast status` shows every switch connected and in sync', async () => {
    const lines: string[] = [];
    expect(await runStatus(apiClient({ api: lab.apiUrl, token: lab.token }), (l) => lines.push(l))).toBe(0);
    expect(lines[0]).toMatch(/topology "leaf-spine-vpc", 6 switches \(6 connected\), 8 links \(8 up\), 0 hosts/);
    for (const sw of lab.topology.switches) expect(lines.some((l) => l.startsWith(sw.name) && / in sync /.test(l) && /ok \d+ s ago/.test(l)), sw.name).toBe(true);
  });

  it('`overcast trace` prints the path with tables, owners and addresses as text', async () => {
    const lines: string[] = [];
    expect(await runTrace(apiClient({ api: lab.apiUrl, token: lab.token }), web1.id, web2.ip, { protocol: 'tcp', port: 80 }, (l) => lines.push(l))).toBe(0);
    const text = lines.join('\n');
    expect(lines[0]).toBe(`trace ${web1.id} (endpoint, ${web1.ip}, vpc ${vpc}) -> ${web2.id} (endpoint, ${web2.ip}, vpc ${vpc}): tcp port 80`);
    expect(text).toMatch(/^leaf1 \(dpid 101\), in port 1$/m);
    expect(text).toMatch(new RegExp(`INGRESS +priority \\d+ +endpoint ${web1.id} `));
    expect(text).toContain(`delivered: leaf4 port 2 -> endpoint ${web2.id}`);
  });

  it('POST /v1/trace gives addresses as text', async () => {
    const between = await post<{ dpid: number; inPort: number; packet: Record<string, unknown> }>(`${lab.apiUrl}/v1/trace/between`, { from: web1.id, to: web2.id, protocol: 'udp', port: 53 });
    const r = await post<{ exits: { headers: Record<string, unknown>; frame: unknown }[]; hops: { rewrites: { to: unknown }[] }[] }>(`${lab.apiUrl}/v1/trace`, {
      dpid: between.dpid,
      inPort: between.inPort,
      packet: between.packet,
    });
    expect(r.exits).toHaveLength(1);
    expect(r.exits[0].headers).toMatchObject({ ipv4Src: web1.ip, ipv4Dst: web2.ip, ethSrc: expect.stringMatching(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/) });
    expect(r.exits[0].frame).toMatch(/^[0-9a-f]+$/);
  });

  it('GET /metrics counts the pings per endpoint, per function and per switch, and REST by route', async () => {
    await labPing(apiClient({ api: lab.apiUrl, token: lab.token }), web1.id, web2.id, 3);
    const text = await waitFor('the pings in the endpoint and function counters', async () => {
      const body = await (await fetch(`${lab.apiUrl}/metrics`, { headers: authFor(lab.apiUrl) })).text();
      const sent = sample(body, 'overcast_endpoint_packets_total', { endpoint: web1.id, direction: 'sent' }) ?? 0;
      const received = sample(body, 'overcast_function_packets_total', { function: 'web', direction: 'received' }) ?? 0;
      return sent >= 3 && received >= 6 ? body : notYet({ sent, received });
    });
    for (const sw of lab.topology.switches) {
      expect(sample(text, 'overcast_switch_connected', { switch: sw.name }), sw.name).toBe(1);
      expect(sample(text, 'overcast_switch_flows', { switch: sw.name, state: 'desired' }), sw.name).toBe(sample(text, 'overcast_switch_flows', { switch: sw.name, state: 'installed' }));
    }
    expect(sample(text, 'overcast_endpoint_bytes_total', { endpoint: web2.id, direction: 'received' })).toBeGreaterThan(0);
    expect(sample(text, 'overcast_switch_port_packets_total', { switch: 'leaf1', port: '1', direction: 'rx' })).toBeGreaterThan(0);
    expect(sample(text, 'overcast_http_request_duration_seconds_count', { route: '/v1/lab/ping', method: 'POST', status_code: '200' })).toBeGreaterThan(0);
    expect(sample(text, 'overcast_events_total', { type: 'switch.connected' })).toBeGreaterThanOrEqual(6);
    expect(sample(text, 'overcast_compile_duration_seconds_count', { change: 'endpoint' })).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/^overcast_store_commit_duration_seconds_count \d+/m);
    expect(text).toMatch(/^# TYPE overcast_switch_packet_ins_total counter$/m);
    // No raw URL ever becomes a label value.
    expect(text).not.toMatch(/route="\/v1\/vpcs\/vpc-/);
  });

  it('measures every switch channel\'s round trip from the echo keepalive', async () => {
    await waitFor('an echo round trip for every switch', async () => {
      const body = await (await fetch(`${lab.apiUrl}/metrics`, { headers: authFor(lab.apiUrl) })).text();
      const missing = lab.topology.switches.filter((sw) => !((sample(body, 'overcast_switch_channel_rtt_seconds', { switch: sw.name }) ?? -1) >= 0));
      return missing.length === 0 || notYet(missing.map((sw) => sw.name));
    });
  });

  it("every softswitch serves its own metrics on the port it reported", async () => {
    for (const sw of lab.plan.switches) {
      expect(sw.metrics, sw.name).toBeDefined();
      const text = await (await fetch(`http://${sw.metrics?.host}:${sw.metrics?.port}/metrics`)).text();
      expect(text, sw.name).toMatch(/^overcast_softswitch_flows [1-9]\d*$/m);
      expect(text, sw.name).toMatch(/^overcast_softswitch_controller_connected 1$/m);
    }
  });

  it('GET /v1/stats/links gives each link its state and rates', async () => {
    const links = await waitFor('rates on every link', async () => {
      const r = await get<{ links: { id: string; up: boolean; aToB?: { packetsPerSecond: number }; bToA?: unknown }[] }>(`${lab.apiUrl}/v1/stats/links`);
      return r.links.every((l) => l.aToB && l.bToA) ? r.links : notYet(r.links);
    });
    expect(links).toHaveLength(8);
    expect(links.every((l) => l.up)).toBe(true);
  });
});
