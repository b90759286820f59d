/**
 * The codec against a running ovs-vswitchd: we are its controller over TCP on loopback, push flows and
 * groups (plain batch and in an ONF bundle), and read them back both through our decoder (flow stats)
 * and through `ovs-ofctl dump-flows`. Skipped where Open vSwitch is not installed.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PORT, normalizeMatch, type FlowEntry, type FlowMod } from '../../../src/flow/index.js';
import {
  createOf13FrameSplitter,
  decodeOf13,
  encodeBundledFlowModsBatch,
  encodeFlowModsBatch,
  encodeOf13,
  type Of13Message,
} from '../../../src/protocol/openflow13/index.js';
import { ovsAvailable, startOvs, type OvsInstance } from '../../support/ovs.js';
import { notYet, waitFor } from '../../support/wait-for.js';
import { ofctlFlow } from '../../../src/controller/openflow13/ofctl-syntax.js';
import { ARP_RESPONDER, CT_FLOWS, TCP_FLOW, UDP_ICMP_FLOWS } from './sample-messages.js';

const HAVE_OVS = ovsAvailable() && process.getuid?.() === 0;
if (!HAVE_OVS) console.warn('Open vSwitch not installed or not root: skipping the live ovs-vswitchd codec tests');

/** A minimal controller connection: send messages, await the reply with a given xid. */
class Conn {
  private readonly splitter = createOf13FrameSplitter();
  private readonly waiting = new Map<number, (m: Of13Message[]) => void>();
  private readonly parts = new Map<number, Of13Message[]>();
  readonly unsolicited: Of13Message[] = [];

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk) => {
      const { frames, error } = this.splitter.push(chunk);
      if (error) throw new Error(error.reason);
      for (const f of frames) this.onMessage(decodeOf13(f));
    });
  }

  private onMessage(m: Of13Message | { type: 'malformed'; reason: string; xid?: number }): void {
    if (m.type === 'malformed') throw new Error(`malformed from OVS: ${m.reason}`);
    if (m.type === 'echoRequest') return this.send(encodeOf13({ type: 'echoReply', xid: m.xid, data: m.data }));
    const done = this.waiting.get(m.xid);
    if (!done) return void this.unsolicited.push(m);
    const got = [...(this.parts.get(m.xid) ?? []), m];
    if ('more' in m && m.more) return void this.parts.set(m.xid, got);
    this.waiting.delete(m.xid);
    done(got);
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  request(msg: Of13Message): Promise<Of13Message[]> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no reply to ${msg.type} xid ${msg.xid}`)), 10_000);
      this.waiting.set(msg.xid, (m) => {
        clearTimeout(t);
        resolve(m);
      });
      this.send(encodeOf13(msg));
    });
  }
}

describe.skipIf(!HAVE_OVS)('live Open vSwitch', () => {
  let ovs: OvsInstance;
  let server: Server;
  let conn: Conn;
  let hello: Of13Message;

  beforeAll(async () => {
    ovs = await startOvs();
    const connected = new Promise<Socket>((resolve) => {
      server = createServer(resolve);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await ovs.addBridge('br0', { ports: 3, datapathId: 0x42n, controller: `tcp:127.0.0.1:${port}` });
    conn = new Conn(await connected);
    conn.send(encodeOf13({ type: 'hello', xid: 1, versions: [4] }));
    hello = await waitFor("the switch's first message", () => conn.unsolicited[0], { timeoutMs: 10_000 });
  });

  afterAll(async () => {
    conn?.socket.destroy();
    server?.close();
    await ovs?.stop();
  });

  it('handshakes: HELLO with a version bitmap, FEATURES_REPLY with the datapath id', async () => {
    expect(hello).toMatchObject({ type: 'hello', versions: [4] });
    const [features] = await conn.request({ type: 'featuresRequest', xid: 2 });
    expect(features).toMatchObject({ type: 'featuresReply', datapathId: 0x42n });
    const [ports] = await conn.request({ type: 'portDescRequest', xid: 3 });
    expect(ports.type === 'portDescReply' && ports.ports.map((p) => p.name).sort()).toEqual(['br0', 'p1', 'p2', 'p3']);
  });

  it('installs a batch and a bundle of flow-mods and groups exactly as encoded', async () => {
    const groups: Of13Message[] = [
      { type: 'groupMod', xid: 10, command: 'add', group: { groupId: 4, type: 'select', buckets: [{ weight: 3, actions: [{ type: 'output', port: 1 }] }] } },
      {
        type: 'groupMod',
        xid: 11,
        command: 'add',
        group: { groupId: 5, type: 'fastFailover', buckets: [{ watchPort: 2, actions: [{ type: 'output', port: 2 }] }] },
      },
    ];
    conn.send(Buffer.concat(groups.map((g) => encodeOf13(g))));
    // OVS's userspace datapath has meters, but keep the flows independent of meter support.
    const { meterId: _meter, ...arp } = ARP_RESPONDER;
    const plain: FlowMod[] = [{ command: 'add', flow: arp }, ...UDP_ICMP_FLOWS.map((flow): FlowMod => ({ command: 'add', flow }))];
    conn.send(encodeFlowModsBatch(plain, 100));
    await conn.request({ type: 'barrierRequest', xid: 199 });

    const bundled: FlowMod[] = [{ command: 'add', flow: TCP_FLOW }];
    const [open] = await conn.request({ type: 'bundleControl', xid: 200, bundleId: 1, ctrlType: 'openRequest', flags: 1 });
    expect(open).toMatchObject({ type: 'bundleControl', ctrlType: 'openReply' });
    conn.send(encodeBundledFlowModsBatch(1, bundled, 201, 1));
    const [commit] = await conn.request({ type: 'bundleControl', xid: 300, bundleId: 1, ctrlType: 'commitRequest', flags: 1 });
    expect(commit).toMatchObject({ type: 'bundleControl', ctrlType: 'commitReply' });

    const replies = await conn.request({ type: 'flowStatsRequest', xid: 301, match: {} });
    const installed = replies.flatMap((r) => (r.type === 'flowStatsReply' ? r.flows.map((s) => s.flow) : []));
    const expected = [arp, ...UDP_ICMP_FLOWS, TCP_FLOW].map((f) => ({ ...f, match: normalizeMatch(f.match) }));
    const byKey = (f: FlowEntry) => `${f.table}/${f.priority}`;
    expect(installed.map((f) => ({ ...f, match: normalizeMatch(f.match) })).sort((a, b) => byKey(a).localeCompare(byKey(b)))).toEqual(
      expected.sort((a, b) => byKey(a).localeCompare(byKey(b))),
    );
    expect(conn.unsolicited.filter((m) => m.type === 'error')).toEqual([]);

    const [groupDesc] = await conn.request({ type: 'groupDescRequest', xid: 302 });
    expect(groupDesc.type === 'groupDescReply' && groupDesc.groups.map((g) => g.groupId).sort()).toEqual([4, 5]);

    const dump = await ovs.ofctl('-O', 'OpenFlow13', 'dump-flows', 'br0');
    expect(dump).toContain('move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]');
    expect(dump).toContain('tcp_flags=+syn-ack');
    expect(dump).toContain(`cookie=0x${ARP_RESPONDER.cookie.toString(16)}`);
  });

  it('installs ct and conjunction flows as encoded, and as ovs-ofctl parses our text for them', async () => {
    conn.send(encodeFlowModsBatch(CT_FLOWS.map((flow): FlowMod => ({ command: 'add', flow })), 500));
    await conn.request({ type: 'barrierRequest', xid: 599 });
    expect(conn.unsolicited.filter((m) => m.type === 'error')).toEqual([]);
    const replies = await conn.request({ type: 'flowStatsRequest', xid: 600, match: {}, tableId: 255 });
    const installed = replies.flatMap((r) => (r.type === 'flowStatsReply' ? r.flows.map((s) => s.flow) : [])).filter((f) => CT_FLOWS.some((c) => c.cookie === f.cookie));
    const byKey = (f: FlowEntry) => `${f.table}/${f.priority}/${f.cookie}`;
    const norm = (fs: FlowEntry[]) => fs.map((f) => ({ ...f, match: normalizeMatch(f.match) })).sort((a, b) => byKey(a).localeCompare(byKey(b)));
    expect(norm(installed)).toEqual(norm(CT_FLOWS));
    const dump = await ovs.ofctl('-O', 'OpenFlow13', '--no-stats', 'dump-flows', 'br0');
    expect(dump).toContain('actions=ct(commit,zone=7,exec(load:0x5->NXM_NX_CT_MARK[0..7])),output:3');
    expect(dump).toContain('actions=conjunction(42,1/2),conjunction(43,2/3)');
    // The same flows as ofctl-syntax text on a second bridge: Open vSwitch dumps both alike.
    await ovs.addBridge('br1', { ports: ['q1', 'q2', 'q3'], datapathId: 0x43n });
    for (const f of CT_FLOWS) await ovs.ofctl('-O', 'OpenFlow13', 'add-flow', 'br1', ofctlFlow(f));
    const cookies = new Set(CT_FLOWS.map((f) => `cookie=0x${f.cookie.toString(16)},`));
    const lines = (text: string) => text.split('\n').map((l) => l.trim()).filter((l) => cookies.has(l.split(' ')[0])).sort();
    expect(lines(await ovs.ofctl('-O', 'OpenFlow13', '--no-stats', 'dump-flows', 'br1'))).toEqual(lines(dump));
  });

  it('gets a PACKET_IN for a table miss sent to the controller, and an ERROR quoting a bad request', async () => {
    conn.send(encodeOf13({ type: 'flowMod', xid: 400, command: 'add', flow: { table: 0, priority: 0, match: {}, actions: [{ type: 'output', port: PORT.CONTROLLER, maxLen: 0xffff }], cookie: 9 } }));
    await conn.request({ type: 'barrierRequest', xid: 401 });
    const frame = 'ffffffffffff02000000000108060001080006040001020000000001' + '0a000001000000000000' + '0a000002';
    await ovs.appctl('netdev-dummy/receive', 'p2', frame);
    const pin = await waitFor('a packet-in', () => conn.unsolicited.find((m) => m.type === 'packetIn') ?? notYet(conn.unsolicited.map((m) => m.type)));
    expect(pin).toMatchObject({ type: 'packetIn', cookie: 9, match: { inPort: 2 } });
    expect(pin?.type === 'packetIn' && pin.data.toString('hex')).toBe(frame);

    conn.send(encodeOf13({ type: 'groupMod', xid: 402, command: 'add', group: { groupId: 4, type: 'all', buckets: [] } }));
    await conn.request({ type: 'barrierRequest', xid: 403 });
    const err = conn.unsolicited.find((m) => m.type === 'error' && m.xid === 402);
    expect(err).toMatchObject({ errType: 6, errCode: 0 }); // OFPGMFC_GROUP_EXISTS
  });
});
