/**
 * A minimal channel over the connection core for its tests: JSON messages, one per line, and a peer
 * (the "switch") on the other end of a real loopback socket that answers by a script.
 */
import net from 'node:net';
import { pino } from 'pino';
import { ChannelConnection, createChannelCounters, type ChannelOptions, type InboundKind } from '../../../src/controller/channel/connection.js';
import { SwitchRefusedError } from '../../../src/controller/channel/refusals.js';
import type { FlowStatsEntry, PortStatsEntry } from '../../../src/controller/switch-connection.js';
import type { GroupEntry } from '../../../src/flow/index.js';

export interface LineMsg {
  type: string;
  xid: number;
  more?: boolean;
  code?: string;
  body?: string;
}

const encodeLine = (m: LineMsg) => Buffer.from(JSON.stringify(m) + '\n');

function lineSplitter(deliver: (m: LineMsg) => void): (chunk: Buffer) => void {
  let rest = '';
  return (chunk) => {
    const lines = (rest + chunk.toString()).split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) deliver(JSON.parse(l) as LineMsg);
  };
}

export class LineConnection extends ChannelConnection<LineMsg> {
  readonly channel = 'native' as const;
  private readonly split = lineSplitter((m) => this.receive(m));

  protected bufferedBytes(): number {
    return 0;
  }

  constructor(socket: net.Socket, options: ChannelOptions = {}) {
    super(socket, pino({ level: 'silent' }), createChannelCounters(), options);
  }

  async handshake(): Promise<void> {
    const hello = this.waitForHello();
    this.send({ type: 'hello', xid: this.xid() });
    await hello;
    this.features = { dpid: 1, ports: [], description: 'line switch' };
    this.startKeepalive();
  }

  /** A request of `type`, resolved with every part of its reply. */
  ask(type: string, timeoutMs?: number): Promise<LineMsg[]> {
    return this.request({ type, xid: 0 }, timeoutMs);
  }

  /** `n` fire-and-forget messages, tracked as "mod 0".."mod n-1" (`changesTables` false: like packet-outs). */
  sendMods(n: number, changesTables = true): void {
    const first = this.reserveXids(n);
    for (let i = 0; i < n; i++) this.send({ type: 'mod', xid: (first + i) >>> 0, body: `mod ${i}` });
    this.track(first, n, (i) => `mod ${i}`, changesTables);
  }

  sendFlowMods(): void {}
  sendGroupMods(): void {}
  packetOut(): void {}
  flowStats(): Promise<FlowStatsEntry[]> {
    return Promise.resolve([]);
  }
  groupStats(): Promise<GroupEntry[]> {
    return Promise.resolve([]);
  }
  portStats(): Promise<PortStatsEntry[]> {
    return Promise.resolve([]);
  }

  protected encode(m: LineMsg): Buffer {
    return encodeLine(m);
  }
  protected decode(chunk: Buffer): void {
    this.split(chunk);
  }
  protected kindOf(m: LineMsg): InboundKind {
    if (m.type === 'hello' || m.type === 'echoRequest' || m.type === 'echoReply' || m.type === 'error') return m.type;
    return m.more ? 'part' : 'message';
  }
  protected echoRequest(xid: number): LineMsg {
    return { type: 'echoRequest', xid };
  }
  protected echoReply(request: LineMsg): LineMsg {
    return { type: 'echoReply', xid: request.xid };
  }
  protected barrierRequest(xid: number): LineMsg {
    return { type: 'barrier', xid };
  }
  protected refusalOf(m: LineMsg, refused: string | undefined): SwitchRefusedError {
    return new SwitchRefusedError(m.code ?? 'unknown', m.xid, refused);
  }
  protected onMessage(m: LineMsg): void {
    if (m.type === 'packetIn') this.emitPacketIn({ reason: 'action', table: 0, cookie: 0, inPort: 1, frame: Buffer.from(m.body ?? '') });
  }
}

/** The switch end: records what it receives and answers through `script`. */
export class LinePeer {
  readonly received: LineMsg[] = [];
  private waiters: (() => void)[] = [];

  constructor(
    readonly socket: net.Socket,
    private readonly script: (m: LineMsg, peer: LinePeer) => void,
  ) {
    socket.on(
      'data',
      lineSplitter((m) => {
        this.received.push(m);
        this.script(m, this);
        for (const w of this.waiters.splice(0)) w();
      }),
    );
  }

  /** Several messages in one write: they arrive in one chunk. */
  send(...msgs: LineMsg[]): void {
    this.socket.write(Buffer.concat(msgs.map(encodeLine)));
  }

  /** Resolves once a received message satisfies `pred`; rejects after `timeoutMs` with what was seen. */
  waitFor(pred: (m: LineMsg) => boolean, timeoutMs = 3000): Promise<LineMsg> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`peer saw no such message; got ${JSON.stringify(this.received.map((m) => m.type))}`)), timeoutMs);
      const check = () => {
        const m = this.received.find(pred);
        if (m) {
          clearTimeout(timer);
          resolve(m);
        } else this.waiters.push(check);
      };
      check();
    });
  }
}

/** A connection and its peer over loopback; `writes` counts the connection's socket writes. */
export async function linePair(script: (m: LineMsg, peer: LinePeer) => void, options: ChannelOptions = {}) {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const peer = new LinePeer(client, script);
  const socket = await accepted;
  const counter = { writes: 0 };
  const write = socket.write.bind(socket) as (b: Buffer) => boolean;
  socket.write = ((b: Buffer) => {
    counter.writes++;
    return write(b);
  }) as typeof socket.write;
  const conn = new LineConnection(socket, options);
  const stop = () => {
    conn.close();
    client.destroy();
    server.close();
  };
  return { conn, peer, counter, stop };
}

/** Answers hello, barriers (in order) and echo requests like a healthy switch. */
export function healthy(extra: (m: LineMsg, peer: LinePeer) => void = () => undefined) {
  return (m: LineMsg, peer: LinePeer) => {
    if (m.type === 'hello') peer.send({ type: 'hello', xid: m.xid });
    else if (m.type === 'barrier') peer.send({ type: 'barrierReply', xid: m.xid });
    else if (m.type === 'echoRequest') peer.send({ type: 'echoReply', xid: m.xid });
    else extra(m, peer);
  };
}
