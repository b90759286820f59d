/**
 * Open vSwitch over `ssl:`: one ovs-vswitchd presents one certificate for all its bridges, listing
 * their dpids. Bridges it lists join over mutual TLS and get the controller meter; a bridge whose
 * dpid the certificate does not list is refused every time it tries. Skipped without root or Open
 * vSwitch.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Controller } from '../../../src/controller/controller.js';
import { listenOpenFlow, type OpenFlowServer } from '../../../src/controller/openflow13/index.js';
import { writeLabPki, type LabPki } from '../../../src/lab/index.js';
import { canRunOvs, startOvs, type OvsInstance } from '../../support/ovs.js';
import { notYet, waitFor } from '../../support/wait-for.js';
import { silent } from './helpers.js';

describe.skipIf(!canRunOvs())('Open vSwitch bridges over ssl: (mutual TLS)', () => {
  let dir: string;
  let pki: LabPki;
  let ovs: OvsInstance;
  let controller: Controller;
  let server: OpenFlowServer;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovs-tls-'));
    pki = await writeLabPki(dir, { switches: [], ovsDpids: [1, 2] });
    controller = new Controller({ logger: silent, nowMs: () => performance.now() });
    const files = pki.controller;
    server = await listenOpenFlow(controller, '127.0.0.1', 0, silent, {
      tls: { cert: fs.readFileSync(files.cert), key: fs.readFileSync(files.key), ca: fs.readFileSync(files.ca) },
      controllerMeter: { ratePerSec: 500, burst: 700 },
    });
    ovs = await startOvs();
    const ovsFiles = pki.ovs as NonNullable<LabPki['ovs']>;
    await ovs.vsctl('set-ssl', ovsFiles.key, ovsFiles.cert, ovsFiles.ca);
    for (const [name, dpid] of [['br1', 1n], ['br2', 2n], ['br3', 3n]] as const) {
      await ovs.addBridge(name, { ports: [`${name}-p1`, `${name}-p2`], datapathId: dpid, controller: `ssl:127.0.0.1:${server.port}` });
    }
  }, 30_000);

  afterAll(async () => {
    controller?.close();
    await server?.close();
    await ovs?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the bridges the certificate lists join; the one it does not is refused', async () => {
    await waitFor('br1 and br2 to join and br3 to be refused', () => {
      const joined = [1, 2].every((d) => controller.session(d));
      return (joined && controller.channelCounters.identityRefused >= 1) || notYet({ dpids: controller.knownDpids, ...controller.channelCounters });
    }, { timeoutMs: 20_000 });
    expect(controller.session(1)?.connection.peerIdentity?.dpids).toEqual([1, 2]);
    expect(controller.session(1)?.connection.channel).toBe('openflow13');
    expect(controller.session(3)).toBeUndefined();
  });

  it('each joined bridge gets the controller meter', async () => {
    const meters = await waitFor('the controller meter on br1', async () => {
      const out = await ovs.ofctl('-O', 'OpenFlow13', 'dump-meters', 'br1');
      return /meter=controller/.test(out) ? out : notYet(out);
    }, { timeoutMs: 10_000 });
    expect(meters).toMatch(/pktps/);
    expect(meters).toMatch(/type=drop rate=500 burst_size=700/);
  });
});
