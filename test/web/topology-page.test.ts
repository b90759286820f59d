/**
 * The topology page in a real browser: Debian's Chromium, headless, driven by playwright-core, against
 * a running lab. The page names every switch in its DOM, shows a link going down as soon as it is set
 * down over REST (the event stream, not a poll), and draws the path between two endpoints. A
 * screenshot goes to test-output/. Skipped only when no Chromium binary exists.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../../src/cli/api-client.js';
import { labAttach } from '../../src/cli/lab-command.js';
import type { LabHandle } from '../../src/lab/index.js';
import { patch, post, startLab, switchesInSync } from '../e2e/lab-client.js';

const CHROMIUM = '/usr/bin/chromium';
const OUT_DIR = path.resolve('test-output');
const ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const skipped = existsSync(CHROMIUM) ? undefined : `no ${CHROMIUM} (apt-get install chromium)`;

describe.skipIf(skipped !== undefined)(`the topology page in Chromium${skipped ? `: skipped, ${skipped}` : ''}`, () => {
  let lab: LabHandle;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const endpoints: { id: string; ip: string }[] = [];

  beforeAll(async () => {
    lab = await startLab({ topologyFile: 'topologies/leaf-spine-vpc.yaml', logLevel: 'warn', readyTimeoutMs: 60_000, controllerArgs: ['--stats-interval-ms', '500'] });
    const api = lab.apiUrl;
    const vpc = (await post<{ id: string }>(`${api}/v1/vpcs`, { name: 'shop', cidr: '10.1.0.0/16' })).id;
    const subnet = (await post<{ id: string }>(`${api}/v1/vpcs/${vpc}/subnets`, { cidr: '10.1.0.0/24' })).id;
    for (const [dpid, port] of [
      [101, 1],
      [103, 1],
    ]) {
      endpoints.push(await post(`${api}/v1/endpoints`, { kind: 'function', vpc, subnet, dpid, port, labels: { function: 'web' } }));
    }
    await switchesInSync(api);
    for (const e of endpoints) await labAttach(apiClient({ api, token: lab.token }), e.id);
    profile = mkdtempSync(path.join(os.tmpdir(), 'overcast-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: false, args: ARGS, viewport: { width: 1280, height: 800 } });
    page = context.pages()[0] ?? (await context.newPage());
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await lab?.stop();
  });

  it('names every switch in the DOM and groups endpoints by VPC', async () => {
    // The token in the page's URL goes on every fetch and on the event stream.
    await page.goto(`${lab.apiUrl}/?token=${lab.token}`);
    await page.waitForSelector('body[data-state="ready"]', { timeout: 20_000 });
    const names = await page.$$eval('#switch-list li[data-switch]', (lis) => lis.map((li) => li.getAttribute('data-switch')));
    expect(names.sort()).toEqual(lab.topology.switches.map((s) => s.name).sort());
    await page.waitForSelector('#switch-list li[data-connected="true"]', { timeout: 10_000 });
    const members = await page.$$eval('#vpc-list section[data-vpc] li[data-member]', (lis) => lis.map((li) => li.getAttribute('data-member')));
    expect(members.sort()).toEqual(endpoints.map((e) => e.id).sort());
    expect(await page.locator('#graph canvas').count()).toBeGreaterThan(0);
  });

  it('shows a link down as soon as it is set down', async () => {
    const link = 'leaf1:5~spine1:1';
    await page.waitForSelector(`#link-list li[data-link="${link}"][data-state="up"]`, { timeout: 10_000 });
    await patch(`${lab.apiUrl}/v1/topology/links/${encodeURIComponent(link)}`, { up: false });
    // Within two seconds: the link.down event, not the rate poll, brings it.
    await page.waitForSelector(`#link-list li[data-link="${link}"][data-state="down"]`, { timeout: 2000 });
    expect(await page.textContent(`#link-list li[data-link="${link}"]`)).toContain('down (set down)');
  });

  it('draws the path between two endpoints, and saves a screenshot', async () => {
    await page.selectOption('#trace-from', endpoints[0].id);
    await page.selectOption('#trace-to', endpoints[1].id);
    await page.click('#trace-form button[type="submit"]');
    await page.waitForSelector(`#trace-result li:has-text("delivered to endpoint ${endpoints[1].id}")`, { timeout: 10_000 });
    const steps = await page.$$eval('#trace-result li', (lis) => lis.map((li) => li.textContent ?? ''));
    // leaf1:5 is down: the path goes up through spine2.
    expect(steps).toContain('leaf1 (in 1, out 6)');
    expect(steps.some((s) => s.startsWith('spine2'))).toBe(true);
    mkdirSync(OUT_DIR, { recursive: true });
    const file = path.join(OUT_DIR, 'topology-page.png');
    await page.screenshot({ path: file });
    expect(existsSync(file)).toBe(true);
  });
});
