/** The CLI's human output: status lines, lab descriptions (OVS location, hostless labs), progress. */
import { describe, expect, it } from 'vitest';
import { describeLab, labProgressReporter } from '../../src/cli/lab-command.js';
import { createProgressLine, isInteractive } from '../../src/cli/progress.js';
import { formatStatus } from '../../src/cli/status-command.js';
import type { LabHandle } from '../../src/lab/index.js';

describe('overcast status', () => {
  it('shows each switch with its channel, flows and last push, and the links that are down', () => {
    const now = 1_000_000;
    const lines = formatStatus(
      'http://api',
      {
        name: 'demo',
        switches: [
          { name: 's1', dpid: 1 },
          { name: 's2', dpid: 2 },
        ],
        links: [{ a: { switch: 's1', port: 3 }, b: { switch: 's2', port: 1 }, up: false }],
        hosts: [{}, {}],
      },
      [
        { dpid: 1, connected: true, channel: 'native', remoteAddress: '127.0.0.1:5000', desiredFlows: 9, installedFlows: 9, lastSync: { timeMs: now - 3000, ms: 1.25, ok: true, added: 9, modified: 0, removed: 0 } },
        { dpid: 2, connected: false, desiredFlows: 7, installedFlows: 0 },
      ],
      now,
    );
    expect(lines).toEqual([
      'controller http://api: topology "demo", 2 switches (1 connected), 1 links (0 up), 2 hosts',
      '',
      'SWITCH  DPID  CHANNEL                FLOWS desired/installed  LAST SYNC',
      's1      1     native 127.0.0.1:5000  9/9 in sync              ok 3 s ago (+9 ~0 -0, 1.3 ms)',
      's2      2     not connected          7/0                      -',
      '',
      'link s1:3 - s2:1 is down',
    ]);
  });

  it('shows a switch this controller is a slave of as left to its master', () => {
    const lines = formatStatus('http://api', { name: 'c', switches: [{ name: 's1', dpid: 1 }], links: [], hosts: [] }, [{ dpid: 1, connected: true, channel: 'native', desiredFlows: 9, installedFlows: 0, role: 'slave' }], 0);
    expect(lines[3]).toContain('9/- (slave: its master pushes)');
  });
});

const labLike = (over: Partial<LabHandle>): Pick<LabHandle, 'topology' | 'plan' | 'apiUrl' | 'runDir' | 'ovs' | 'pki' | 'token' | 'tokenFile'> => ({
  topology: { name: 't', switches: [], links: [], hosts: [] },
  pki: undefined,
  token: 'a-token',
  tokenFile: '/tmp/run/token',
  plan: { name: 't', controller: { host: '127.0.0.1', bindHost: '127.0.0.1', nativePort: 1, apiPort: 2 }, switches: [{ name: 's1', dpid: 1, ports: [] }], hosts: [] },
  apiUrl: 'http://127.0.0.1:2',
  runDir: '/tmp/run',
  ...over,
});

describe('lab up output', () => {
  it('tells a hostless lab how to attach test hosts instead of suggesting lab ping h1 h2', () => {
    const text = describeLab(labLike({})).join('\n');
    expect(text).not.toContain('lab ping h1');
    expect(text).toContain('overcast lab attach <endpoint-id> --api http://127.0.0.1:2');
  });

  it('says where an Open vSwitch lab lives, so ovs-ofctl can be pointed at it', () => {
    const ovs = { dir: '/tmp/ovs-x', env: { OVS_RUNDIR: '/tmp/ovs-x', OVS_DBDIR: '/tmp/ovs-x' }, mgmtSocket: (sw: string) => `/tmp/ovs-x/${sw}.mgmt` };
    const text = describeLab(labLike({ ovs })).join('\n');
    expect(text).toContain('export OVS_RUNDIR=/tmp/ovs-x OVS_DBDIR=/tmp/ovs-x');
    expect(text).toContain('ovs-ofctl -O OpenFlow13 dump-flows unix:/tmp/ovs-x/s1.mgmt');
  });

  it('prints every controller\'s REST URL and the etcd of a cluster lab', () => {
    const controllers = [1, 2, 3].map((i) => ({ name: i === 1 ? 'controller' : `controller${i}`, apiUrl: `http://127.0.0.1:${8000 + i}` }));
    const text = describeLab({ ...labLike({}), controllers, etcd: { url: 'etcd://127.0.0.1:2379' } as LabHandle['etcd'] }).join('\n');
    for (const c of controllers) expect(text).toContain(c.apiUrl);
    expect(text).toContain('etcd://127.0.0.1:2379');
  });

  it('draws progress on a terminal and prints finished phases elsewhere', () => {
    const written: string[] = [];
    const tty = { isTTY: true, write: (s: string) => written.push(s) };
    const report = labProgressReporter('t.yaml', createProgressLine(tty, true, () => 0), (t) => written.push(`LINE ${t}`));
    report({ phase: 'switches', done: 1, total: 2, detail: 's1' });
    expect(written).toEqual(['\r\x1b[Kstarting lab t.yaml: switches 1/2 (s1)']);
    const lines: string[] = [];
    const plain = labProgressReporter('t.yaml', createProgressLine({ write: () => true }, false), (t) => lines.push(t));
    plain({ phase: 'switches', done: 1, total: 2 });
    plain({ phase: 'switches', done: 2, total: 2 });
    expect(lines).toEqual(['  switches 2/2']);
  });

  it('stays quiet in CI and off a terminal', () => {
    expect(isInteractive({ isTTY: true, write: () => true }, { CI: 'true' })).toBe(false);
    expect(isInteractive({ isTTY: false, write: () => true }, {})).toBe(false);
    expect(isInteractive({ isTTY: true, write: () => true }, {})).toBe(true);
  });
});
