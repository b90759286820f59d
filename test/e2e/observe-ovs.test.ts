/**
 * Seeing an Open vSwitch lab: the lab says where its Open vSwitch lives (ovs-ofctl answers there),
 * GET /metrics reads the bridges' counters (which report unkept counters as all ones), and the
 * echo round trip and traffic counters come from OpenFlow 1.3 like from the native channel.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabHandle } from '../../src/lab/index.js';
import { canRunOvs } from '../support/ovs.js';
import { authFor, notYet, post, startLab, waitFor } from './lab-client.js';

describe.skipIf(!canRunOvs())('an Open vSwitch lab, observed', () => {
  let lab: LabHandle;

  beforeAll(async () => {
    lab = await startLab({ topologyFile: 'topologies/demo.yaml', switches: 'ovs', logLevel: 'warn', readyTimeoutMs: 60_000, controllerArgs: ['--stats-interval-ms', '300'] });
  }, 120_000);

  afterAll(async () => {
    await lab?.stop();
  });

  it('tells where its Open vSwitch lives, so ovs-ofctl can be pointed at it', () => {
    const ovs = lab.ovs;
    expect(ovs?.env.OVS_RUNDIR).toBe(ovs?.dir);
    const flows = execFileSync('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-flows', `unix:${ovs?.mgmtSocket('s1')}`], { env: { ...process.env, ...ovs?.env } }).toString();
    expect(flows).toMatch(/cookie=0x[0-9a-f]+/);
  });

  it('serves metrics from the bridges’ counters', async () => {
    await post(`${lab.apiUrl}/v1/lab/ping`, { from: 'h1', to: 'h4', count: 2, timeoutMs: 1000 });
    const text = await waitFor('port counters and an echo round trip from every bridge', async () => {
      const res = await fetch(`${lab.apiUrl}/metrics`, { headers: authFor(lab.apiUrl) });
      const body = await res.text();
      if (res.status !== 200) return notYet(body);
      const rtts = body.split('\n').filter((l) => l.startsWith('overcast_switch_channel_rtt_seconds{')).length;
      const rx = /^overcast_switch_port_packets_total\{switch="s1",port="1",direction="rx"\} [1-9]/m.test(body);
      return rtts === 3 && rx ? body : notYet({ rtts, rx });
    });
    expect(text).not.toMatch(/_total\{[^}]*\} -/);
    expect(text).toMatch(/^overcast_switch_connected\{switch="s1",channel="openflow13"\} 1$/m);
  });
});
