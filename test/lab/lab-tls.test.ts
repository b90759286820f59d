/**
 * A lab runs its switch channels over mutual TLS by default, with a CA and certificates of its own in
 * its run directory: softswitch processes and Open vSwitch bridges (ssl: targets) join, traffic
 * flows, and strangers are refused and counted (GET /v1/switches `channels`) while the real switches
 * keep their sessions: plain TCP, an impostor holding another switch's certificate, and a second
 * connection with the real switch's own certificate.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdmissionCounters } from '../../src/controller/channel/admission-counters.js';
import type { LabHandle, LabPingResult } from '../../src/lab/index.js';
import { connectFakeSwitch } from '../controller/channel/fake-switch.js';
import { get, notYet, post, startLab, waitFor } from '../e2e/lab-client.js';
import { canRunOvs } from '../support/ovs.js';

const DEMO = 'topologies/demo.yaml';
const ping = (lab: LabHandle, from: string, to: string) => post<LabPingResult>(`${lab.apiUrl}/v1/lab/ping`, { from, to, count: 2 });
const channels = async (lab: LabHandle) => (await get<{ channels: AdmissionCounters }>(`${lab.apiUrl}/v1/switches`)).channels;
const connectedSince = async (lab: LabHandle) =>
  Object.fromEntries((await get<{ switches: { dpid: number; connectedAtMs?: number }[] }>(`${lab.apiUrl}/v1/switches`)).switches.map((s) => [s.dpid, s.connectedAtMs]));
const read = (file: string) => fs.readFileSync(file, 'utf8');

describe('a lab of softswitches over mutual TLS', () => {
  let lab: LabHandle;
  beforeAll(async () => {
    lab = await startLab({ topologyFile: DEMO, logLevel: 'warn', readyTimeoutMs: 60_000 });
  }, 120_000);
  afterAll(async () => {
    await lab?.stop();
  });

  it('writes a CA and one certificate per switch in its run directory; keys are the owner\'s only', () => {
    const pki = lab.pki;
    expect(pki?.dir).toBe(path.join(lab.runDir, 'pki'));
    expect([...(pki?.switches.keys() ?? [])].sort()).toEqual(['s1', 's2', 's3']);
    const key = pki?.switches.get('s1')?.key ?? '';
    expect(fs.statSync(key).mode & 0o777).toBe(0o600);
    expect(read(pki?.switches.get('s1')?.cert ?? '')).toMatch(/BEGIN CERTIFICATE/);
  });

  it('its switches joined and forward; the topology shows each link operational', async () => {
    expect((await ping(lab, 'h1', 'h4')).received).toBe(2);
    const topology = await get<{ links: { up: boolean; operational: string }[] }>(`${lab.apiUrl}/v1/topology`);
    expect(topology.links.map((l) => [l.up, l.operational])).toEqual(topology.links.map(() => [true, 'up']));
  });

  it('refuses plain TCP, an impostor with s2\'s certificate and a second s1; s1 keeps its session', async () => {
    const before = await connectedSince(lab);
    const port = lab.plan.controller.nativePort;
    const plain = net.connect({ host: '127.0.0.1', port });
    plain.on('error', () => undefined);
    plain.resume();
    plain.write(Buffer.from([0, 0, 0, 2, 8, 1]));
    const files = (name: string) => {
      const f = lab.pki?.switches.get(name);
      if (!f) throw new Error(`no certificate for ${name}`);
      return { cert: read(f.cert), key: read(f.key), ca: read(f.ca) };
    };
    const impostor = connectFakeSwitch({ port, dpid: 1, tls: files('s2') });
    const second = connectFakeSwitch({ port, dpid: 1, tls: files('s1') });
    try {
      await Promise.all([impostor.closed, second.closed, new Promise((r) => plain.once('close', r))]);
      const counters = await waitFor('the refusals counted', async () => {
        const c = await channels(lab);
        return c.tlsRefused >= 1 && c.identityRefused >= 1 && c.takeoverRefused >= 1 ? c : notYet(c);
      });
      expect(counters.takeovers).toBe(0);
      expect(await connectedSince(lab)).toEqual(before);
      expect((await ping(lab, 'h1', 'h4')).received).toBe(2);
    } finally {
      plain.destroy();
      impostor.close();
      second.close();
    }
  });
});

describe.skipIf(!canRunOvs())('a lab of Open vSwitch bridges over ssl:', () => {
  let lab: LabHandle;
  beforeAll(async () => {
    lab = await startLab({ topologyFile: DEMO, switches: 'ovs', logLevel: 'warn', readyTimeoutMs: 60_000 });
  }, 120_000);
  afterAll(async () => {
    await lab?.stop();
  });

  it('joins with one certificate listing every bridge\'s dpid, and forwards', async () => {
    expect(lab.pki?.ovs).toBeDefined();
    expect((await ping(lab, 'h1', 'h4')).received).toBe(2);
    const { switches } = await get<{ switches: { dpid: number; connected: boolean; channel?: string }[] }>(`${lab.apiUrl}/v1/switches`);
    expect(switches.map((s) => [s.dpid, s.connected, s.channel])).toEqual([
      [1, true, 'openflow13'],
      [2, true, 'openflow13'],
      [3, true, 'openflow13'],
    ]);
  });
});
