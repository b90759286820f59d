/**
 * Of13Connection against a scripted fake switch on loopback (no Open vSwitch needed): handshake
 * refusals, multipart flow stats with a foreign (undecodable) entry turned into a raw strict delete,
 * switch errors failing the next barrier, and a broken byte stream closing the connection.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Of13Connection, strictDeleteFromRawEntry } from '../../../src/controller/openflow13/index.js';
import type { FlowEntry } from '../../../src/flow/index.js';
import { of13 } from '../../../src/protocol/index.js';
import { silent } from './helpers.js';

type Msg = of13.Of13Message;

/** A fake switch: answers by a script, records what it received. */
class FakeSwitch {
  readonly received: Msg[] = [];
  readonly raw: Buffer[] = [];
  private readonly splitter = of13.createOf13FrameSplitter();
  private waiters: (() => void)[] = [];
  constructor(
    readonly socket: net.Socket,
    private readonly answer: (m: Msg, sw: FakeSwitch) => void,
  ) {
    socket.on('data', (chunk) => {
      for (const f of this.splitter.push(chunk).frames) {
        this.raw.push(Buffer.from(f));
        const m = of13.decodeOf13(f);
        if (m.type === 'malformed') continue;
        this.received.push(m);
        this.answer(m, this);
      }
      for (const w of this.waiters.splice(0)) w();
    });
  }
  send(m: Msg | Buffer): void {
    this.socket.write(Buffer.isBuffer(m) ? m : of13.encodeOf13(m));
  }
  /** The first received message of `type` (that `pred` accepts); fails after `timeoutMs` with what was received. */
  waitFor<T extends Msg['type']>(type: T, pred: (m: Extract<Msg, { type: T }>) => boolean = () => true, timeoutMs = 3000): Promise<Extract<Msg, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${type} received; got ${this.received.map((m) => m.type).join(', ')}`)), timeoutMs);
      const check = () => {
        const m = this.received.find((r): r is Extract<Msg, { type: T }> => r.type === type && pred(r as Extract<Msg, { type: T }>));
        if (!m) return this.waiters.push(check);
        clearTimeout(timer);
        resolve(m);
      };
      check();
    });
  }
}

const FLOW: FlowEntry = { table: 5, priority: 100, match: { ethDst: 0x020000000001 }, actions: [{ type: 'output', port: 2 }], cookie: 7 };

/** Answers the handshake as a 1.3 switch with `dpid` and two ports (plus LOCAL). */
function handshakeScript(dpid: bigint, extra: (m: Msg, sw: FakeSwitch) => void = () => undefined) {
  return (m: Msg, sw: FakeSwitch) => {
    const port = (portNo: number, name: string): of13.Of13PortDesc => ({
      portNo, hwAddr: 0x020000000000 + portNo, name, config: 0, state: 0, curr: 0, advertised: 0, supported: 0, peer: 0, currSpeed: 0, maxSpeed: 0,
    });
    switch (m.type) {
      case 'featuresRequest':
        return sw.send({ type: 'featuresReply', xid: m.xid, datapathId: dpid, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0 });
      case 'descRequest':
        return sw.send({ type: 'descReply', xid: m.xid, mfrDesc: 'fake', hwDesc: 'Fake Switch', swDesc: '1.0', serialNum: '', dpDesc: '' });
      case 'portDescRequest':
        sw.send({ type: 'portDescReply', xid: m.xid, more: true, ports: [port(2, 'p2'), port(0xfffffffe, 'br0')] });
        return sw.send({ type: 'portDescReply', xid: m.xid, ports: [port(1, 'p1')] });
      default:
        extra(m, sw);
    }
  };
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function pair(script: (m: Msg, sw: FakeSwitch) => void, hello: Msg = { type: 'hello', xid: 1, versions: [4] }) {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const sw = new FakeSwitch(client, script);
  const conn = new Of13Connection(await accepted, silent, { echoIntervalMs: 60_000 });
  cleanups.push(() => {
    conn.close();
    client.destroy();
    server.close();
  });
  sw.send(hello);
  return { sw, conn };
}

describe('Of13Connection handshake', () => {
  it('learns dpid, data ports in order (LOCAL left out), description; sets miss_send_len to the whole packet', async () => {
    const { sw, conn } = await pair(handshakeScript(0x2an));
    const f = await conn.handshake();
    expect(f).toEqual({ dpid: 42, description: 'Fake Switch 1.0', ports: [expect.objectContaining({ number: 1, name: 'p1', up: true }), expect.objectContaining({ number: 2, name: 'p2' })] });
    expect(await sw.waitFor('setConfig')).toMatchObject({ missSendLen: 0xffff });
    expect(sw.received[0]).toMatchObject({ type: 'hello', versions: [4] });
  });

  it('refuses a datapath id above 2^53', async () => {
    const { conn } = await pair(handshakeScript(1n << 60n));
    const closed = new Promise<string>((r) => conn.on('close', r));
    await expect(conn.handshake()).rejects.toThrow();
    await closed;
  });

  it('refuses a switch that does not speak 1.3', async () => {
    const { conn } = await pair(handshakeScript(1n), { type: 'hello', xid: 1, version: 1, versions: [1] });
    await expect(conn.handshake()).rejects.toThrow();
  });

  it('answers echo requests', async () => {
    const { sw, conn } = await pair(handshakeScript(1n));
    await conn.handshake();
    sw.send({ type: 'echoRequest', xid: 77, data: Buffer.from('hi') });
    expect(await sw.waitFor('echoReply')).toMatchObject({ xid: 77, data: Buffer.from('hi') });
  });
});

describe('Of13Connection flow stats with foreign flows', () => {
  it('returns decodable flows from every part and strict-deletes each undecodable entry by its raw match', async () => {
    const foreign: FlowEntry = { table: 3, priority: 9, match: { ethType: 0x0800, ipv4Src: 0x0a000001 }, actions: [], cookie: 1 };
    const { sw, conn } = await pair(
      handshakeScript(1n, (m, s) => {
        if (m.type !== 'flowStatsRequest') return;
        const stat = (flow: FlowEntry): of13.Of13FlowStats => ({ flow, durationSec: 1, durationNsec: 0, flags: 0, packetCount: 3, byteCount: 300 });
        // Part one: our flow and a foreign one whose cookie is wider than 53 bits.
        const part1 = of13.encodeOf13({ type: 'flowStatsReply', xid: m.xid, more: true, flows: [stat(FLOW), stat(foreign)] });
        const entry2 = 16 + part1.readUInt16BE(16);
        part1.writeUInt32BE(0xfff00000, entry2 + 24);
        s.send(part1);
        s.send({ type: 'flowStatsReply', xid: m.xid, flows: [stat({ ...FLOW, priority: 50 })] });
      }),
    );
    await conn.handshake();
    const stats = await conn.flowStats();
    expect(stats.map((s) => s.flow)).toEqual([FLOW, { ...FLOW, priority: 50 }]);
    expect(conn.counters.foreignFlowsDeleted).toBe(1);
    const del = await sw.waitFor('flowMod');
    expect(del).toMatchObject({ type: 'flowMod', command: 'deleteStrict', flow: { table: 3, priority: 9, match: foreign.match, actions: [] } });
  });

  it('a raw entry cut inside its match gives no delete', () => {
    const entry = Buffer.alloc(56);
    entry.writeUInt16BE(56, 0);
    entry.writeUInt16BE(1, 48); // OFPMT_OXM
    entry.writeUInt16BE(64, 50); // a match longer than the entry
    expect(strictDeleteFromRawEntry(entry)).toBeUndefined();
  });
});

describe('Of13Connection errors', () => {
  it('an error for a flow-mod fails the next barrier, naming the flow-mod, and only that barrier', async () => {
    const { conn } = await pair(
      handshakeScript(1n, (m, s) => {
        if (m.type === 'flowMod' && m.flow.priority === 50) s.send({ type: 'error', xid: m.xid, errType: of13.OFPET.BAD_ACTION, errCode: 9, data: Buffer.alloc(0) });
        if (m.type === 'barrierRequest') s.send({ type: 'barrierReply', xid: m.xid });
      }),
    );
    await conn.handshake();
    conn.sendFlowMods([{ command: 'add', flow: FLOW }, { command: 'add', flow: { ...FLOW, priority: 50 } }]);
    await expect(conn.barrier()).rejects.toMatchObject({
      name: 'Of13SwitchError',
      errType: 2,
      errCode: 9,
      code: 'OFPET_BAD_ACTION/9',
      refused: expect.stringContaining('flow-mod add table 5 priority 50'),
    });
    await expect(conn.barrier()).resolves.toBeUndefined();
    expect(conn.counters.switchErrors).toBe(1);
  });

  it('flow-mods keep their order with small messages around them, in one bundle when asked', async () => {
    const { sw, conn } = await pair(
      handshakeScript(1n, (m, s) => {
        if (m.type === 'barrierRequest') s.send({ type: 'barrierReply', xid: m.xid });
      }),
    );
    await conn.handshake();
    const mods = Array.from({ length: 5000 }, (_, i) => ({ command: 'add' as const, flow: { ...FLOW, match: { ethDst: 0x020000000000 + i } } }));
    conn.sendFlowMods(mods, { bundle: true });
    await conn.barrier();
    const tail = sw.received.slice(sw.received.findIndex((m) => m.type === 'bundleControl'));
    expect(tail[0]).toMatchObject({ type: 'bundleControl', ctrlType: 'openRequest' });
    expect(tail.slice(1, 5001).every((m) => m.type === 'bundleAdd' && m.message.type === 'flowMod')).toBe(true);
    expect(tail[5001]).toMatchObject({ type: 'bundleControl', ctrlType: 'commitRequest' });
    expect(tail[5002]).toMatchObject({ type: 'barrierRequest' });
  });

  it('a frame with an impossible length closes the connection', async () => {
    const { sw, conn } = await pair(handshakeScript(1n));
    await conn.handshake();
    const closed = new Promise<string>((r) => conn.on('close', r));
    sw.send(Buffer.from([4, 0, 0, 2, 0, 0, 0, 0]));
    await expect(closed).resolves.toBeTruthy();
  });
});
