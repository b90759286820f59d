/**
 * Volumes with real processes, on softswitches and on Open vSwitch bridges (OpenFlow 1.3; skipped
 * without root or Open vSwitch): a function host writes to and reads from a small key-value storage
 * service (run by the test over the storage host's control API, on the volume's port) through its
 * attachment; an unattached host in the same VPC gets nothing (dropped in ACCESS, counted under the
 * volume); a detach cuts the attached host at its next packet. Attach and detach reach /v1/events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { volumeCookie } from '../../src/compiler/index.js';
import { TABLE } from '../../src/flow/index.js';
import type { LabHandle } from '../../src/lab/index.js';
import { canRunOvs } from '../support/ovs.js';
import { get, notYet, openEventStream, type PlacedHost, placeHost, post, received, send, startLab, SWITCH_KINDS, switchesInSync, vpcWithSubnet, waitFor } from './lab-client.js';

const NFS_PORT = 2049;

describe.each(SWITCH_KINDS)('volumes end to end on %s', (_label, switches) => {
  const skip = switches === 'ovs' && !canRunOvs();
  let lab: LabHandle;
  let volume: string;
  let attachment: string;
  const hosts: Record<'fn' | 'stranger' | 'target', PlacedHost> = {} as never;
  /** The storage service's data: what `put k=v` wrote, what `get k` reads. */
  const store = new Map<string, string>();
  const seenByTarget: string[] = [];

  /** One turn of the storage service: answers every datagram the target received on the volume's port. */
  async function serve(): Promise<void> {
    for (const d of await received(hosts.target.url)) {
      const text = Buffer.from(d.payloadHex, 'hex').toString();
      seenByTarget.push(`${d.srcIp} ${text}`);
      if (d.dstPort !== NFS_PORT) continue;
      const [op, arg] = text.split(' ');
      let answer = 'error';
      if (op === 'put') {
        const [k, v] = arg.split('=');
        store.set(k, v);
        answer = 'ok';
      } else if (op === 'get') answer = `${arg}=${store.get(arg) ?? ''}`;
      await post(`${hosts.target.url}/udp`, { dst: d.srcIp, srcPort: NFS_PORT, dstPort: d.srcPort, payload: answer });
    }
  }

  /** Sends a request from a host to the service and waits for the answer (serving meanwhile). */
  async function request(from: PlacedHost, payload: string, srcPort: number): Promise<string> {
    await received(from.url);
    await post(`${from.url}/udp`, { dst: hosts.target.ip, srcPort, dstPort: NFS_PORT, payload });
    const got = await waitFor(`the answer to "${payload}"`, async () => {
      await serve();
      const list = (await received(from.url)).filter((d) => d.srcPort === NFS_PORT);
      return list[0] ?? notYet({ seenByTarget });
    });
    return Buffer.from(got.payloadHex, 'hex').toString();
  }

  /** Packets the volume's ACCESS drops have counted on a switch. */
  async function dropped(dpid: number): Promise<number> {
    const { flows } = await get<{ flows: { table: number; cookie: number; packets: number }[] }>(`${lab.apiUrl}/v1/switches/${dpid}/flows`);
    return flows.filter((f) => f.table === TABLE.ACCESS && f.cookie === volumeCookie(volume)).reduce((n, f) => n + f.packets, 0);
  }

  /** Sends from a host and waits until the volume's drop on its switch has counted it; the service never saw it. */
  async function expectDropped(from: PlacedHost, dpid: number, payload: string): Promise<void> {
    const before = await dropped(dpid);
    const seen = seenByTarget.length;
    await post(`${from.url}/udp`, { dst: hosts.target.ip, srcPort: 30000, dstPort: NFS_PORT, payload });
    await waitFor(`the volume to drop "${payload}" on dpid ${dpid}`, async () => {
      const n = await dropped(dpid);
      return n > before || notYet({ before, n });
    });
    await serve();
    expect(seenByTarget.slice(seen)).toEqual([]);
  }

  beforeAll(async () => {
    if (skip) return;
    lab = await startLab({ topologyFile: 'topologies/leaf-spine-vpc.yaml', logLevel: 'warn', readyTimeoutMs: 60_000, switches });
    const api = lab.apiUrl;
    const apps = await vpcWithSubnet(api, 'apps', '10.0.0.0/16', '10.0.1.0/24');
    hosts.target = await placeHost(lab, 'target', 'storage', apps, 103, 'leaf3');
    hosts.fn = await placeHost(lab, 'fn', 'function', apps, 101, 'leaf1');
    hosts.stranger = await placeHost(lab, 'stranger', 'container', apps, 102, 'leaf2');
    volume = (await post<{ id: string }>(`${api}/v1/volumes`, { name: 'home', protocol: 'nfs', targets: [hosts.target.id], ports: [NFS_PORT] })).id;
    attachment = (await post<{ id: string }>(`${api}/v1/volumes/${volume}/attachments`, { endpoint: hosts.fn.id })).id;
    await switchesInSync(api, 60_000);
  }, 120_000);

  afterAll(async () => {
    await lab?.stop();
  });

  it.skipIf(skip)('the attached function writes to and reads from the storage service on the volume port', async () => {
    expect(await request(hosts.fn, 'put greeting=hello', 40001)).toBe('ok');
    expect(await request(hosts.fn, 'get greeting', 40002)).toBe('greeting=hello');
  });

  it.skipIf(skip)('an unattached host of the same VPC gets nothing: dropped in ACCESS under the volume', async () => {
    await expectDropped(hosts.stranger, 102, 'put greeting=evil');
    expect(await request(hosts.fn, 'get greeting', 40003)).toBe('greeting=hello');
  });

  it.skipIf(skip)('a detach cuts the function at its next packet; attaching again restores it; both are events', async () => {
    const stream = await openEventStream(lab.apiUrl, 'volume.*');
    await send(`${lab.apiUrl}/v1/volumes/${volume}/attachments/${attachment}`, undefined, 'DELETE');
    await expectDropped(hosts.fn, 101, 'get greeting');
    expect(await stream.waitForEvent('volume.detached')).toMatchObject({ volumeId: volume, attachmentId: attachment, endpointId: hosts.fn.id });
    attachment = (await post<{ id: string }>(`${lab.apiUrl}/v1/volumes/${volume}/attachments`, { endpoint: hosts.fn.id })).id;
    expect(await request(hosts.fn, 'get greeting', 40004)).toBe('greeting=hello');
    expect(await stream.waitForEvent('volume.attached')).toMatchObject({ volumeId: volume, attachmentId: attachment, endpointId: hosts.fn.id, mode: 'rw' });
    await stream.close();
  });
});
