/** A tiny controller for tests: accepts switches over the real channel, records messages, sends ours. */
import net from 'node:net';
import { FrameDecoder, decodeMessage, encodeMessage, isMalformed, type Msg } from '../../src/protocol/index.js';

export interface StubSession {
  socket: net.Socket;
  received: Msg[];
  send(msg: Msg): void;
  sendRaw(bytes: Uint8Array): void;
  waitFor<T extends Msg['type']>(type: T, pred?: (m: Extract<Msg, { type: T }>) => boolean, timeoutMs?: number): Promise<Extract<Msg, { type: T }>>;
  closed: Promise<void>;
}

export interface ControllerStub {
  port: number;
  sessions: StubSession[];
  nextSession(timeoutMs?: number): Promise<StubSession>;
  close(): Promise<void>;
}

export async function startControllerStub(
  opts: { port?: number; versions?: number[]; onSession?: (s: StubSession) => void; /** Never answer echo requests. */ silent?: boolean } = {},
): Promise<ControllerStub> {
  const sessions: StubSession[] = [];
  const sockets = new Set<net.Socket>();
  const sessionWaiters: ((s: StubSession) => void)[] = [];
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const dec = new FrameDecoder();
    const received: Msg[] = [];
    const waiters: (() => void)[] = [];
    let resolveClosed: () => void = () => {};
    const session: StubSession = {
      socket,
      received,
      send: (msg) => socket.write(encodeMessage(msg)),
      sendRaw: (bytes) => socket.write(bytes),
      waitFor: (type, pred, timeoutMs = 3000) =>
        new Promise((resolve, reject) => {
          const check = () => {
            const m = received.find((x) => x.type === type && (!pred || pred(x as never)));
            if (m) {
              resolve(m as never);
              return true;
            }
            return false;
          };
          if (check()) return;
          const timer = setTimeout(() => reject(new Error(`timed out waiting for ${type}; last seen: ${received.slice(-10).map((m) => m.type).join(', ') || 'nothing'}`)), timeoutMs);
          const w = () => {
            if (check()) {
              clearTimeout(timer);
              waiters.splice(waiters.indexOf(w), 1);
            }
          };
          waiters.push(w);
        }),
      closed: new Promise<void>((r) => (resolveClosed = r)),
    };
    socket.on('data', (chunk) => {
      for (const ev of dec.push(chunk)) {
        if (ev.type !== 'frame') continue;
        const m = decodeMessage(ev.frame);
        if (isMalformed(m)) continue;
        received.push(m);
        if (m.type === 'hello') {
          session.send({ type: 'hello', xid: m.xid, versions: opts.versions ?? [1] });
          if (!opts.versions || opts.versions.includes(1)) session.send({ type: 'featuresRequest', xid: 1000 });
        }
        if (m.type === 'echoRequest' && !opts.silent) session.send({ type: 'echoReply', xid: m.xid, data: m.data });
        for (const w of [...waiters]) w();
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      resolveClosed();
    });
    sessions.push(session);
    opts.onSession?.(session);
    for (const w of sessionWaiters.splice(0)) w(session);
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    sessions,
    nextSession: (timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no switch connected')), timeoutMs);
        sessionWaiters.push((s) => {
          clearTimeout(timer);
          resolve(s);
        });
      }),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
