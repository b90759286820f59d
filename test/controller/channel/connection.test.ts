/**
 * The switch-connection core (src/controller/channel/connection.ts) over a real loopback socket, with a
 * minimal line codec (./line-channel.ts): replies matched by xid, multipart collection, timeouts,
 * refusals failing the next barrier, keepalive, close, and one write per event-loop turn.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SwitchRefusedError } from '../../../src/controller/channel/refusals.js';
import { healthy, linePair, type LineMsg, type LinePeer } from './line-channel.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function connected(script: (m: LineMsg, peer: LinePeer) => void, options = {}) {
  const pair = await linePair(script, options);
  cleanups.push(pair.stop);
  await pair.conn.handshake();
  return pair;
}

describe('connection core: requests', () => {
  it('matches replies to requests by xid, whatever their order, and collects every part of a multipart reply', async () => {
    let first: LineMsg | undefined;
    const { conn } = await connected(
      healthy((m, peer) => {
        if (m.type === 'slow') first = m;
        if (m.type === 'fast') {
          peer.send({ type: 'fastReply', xid: m.xid });
          if (!first) throw new Error('slow request not seen first');
          peer.send({ type: 'part', xid: first.xid, more: true, body: 'a' }, { type: 'part', xid: first.xid, more: true, body: 'b' });
          peer.send({ type: 'part', xid: first.xid, body: 'c' });
        }
      }),
    );
    const slow = conn.ask('slow');
    const fast = conn.ask('fast');
    expect(await fast).toEqual([{ type: 'fastReply', xid: expect.any(Number) }]);
    expect((await slow).map((m) => m.body)).toEqual(['a', 'b', 'c']);
  });

  it('an error reply fails its request; a request nobody answers times out', async () => {
    const { conn } = await connected(
      healthy((m, peer) => {
        if (m.type === 'refuseMe') peer.send({ type: 'error', xid: m.xid, code: 'NOPE' });
      }),
    );
    await expect(conn.ask('refuseMe')).rejects.toMatchObject({ name: 'SwitchRefusedError', code: 'NOPE', refused: 'refuseMe' });
    await expect(conn.ask('ignored', 50)).rejects.toThrow(/ignored xid \d+ timed out after 50 ms/);
    // The refusal answered its own request: it does not fail the next barrier.
    await expect(conn.barrier()).resolves.toBeUndefined();
    expect(conn.counters.switchErrors).toBe(1);
  });

  it('unsolicited messages reach the listeners', async () => {
    const { conn, peer } = await connected(healthy());
    const got = new Promise<Buffer>((r) => conn.on('packetIn', (e) => r(e.frame)));
    peer.send({ type: 'packetIn', xid: 0, body: 'frame' });
    expect((await got).toString()).toBe('frame');
  });
});

describe('connection core: refusals of messages nobody waits on', () => {
  it('fail the next barrier with an error naming the refused message, and only that barrier', async () => {
    const { conn } = await connected(
      healthy((m, peer) => {
        if (m.type === 'mod' && m.body === 'mod 1') peer.send({ type: 'error', xid: m.xid, code: 'BAD_MOD' });
      }),
    );
    conn.sendMods(3);
    const err = await conn.barrier().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SwitchRefusedError);
    expect(err).toMatchObject({ code: 'BAD_MOD', refused: 'mod 1', count: 1 });
    await expect(conn.barrier()).resolves.toBeUndefined();
  });

  it('a refused message that changes no table (a packet-out) is counted but fails no barrier', async () => {
    const { conn } = await connected(
      healthy((m, peer) => {
        if (m.type === 'mod') peer.send({ type: 'error', xid: m.xid, code: 'BAD_OUT_PORT' });
      }),
    );
    conn.sendMods(2, false);
    await expect(conn.barrier()).resolves.toBeUndefined();
    expect(conn.counters.switchErrors).toBe(2);
  });

  it('several refusals before one barrier: the first is reported with the count', async () => {
    const { conn } = await connected(
      healthy((m, peer) => {
        if (m.type === 'mod' && m.body !== 'mod 0') peer.send({ type: 'error', xid: m.xid, code: 'BAD_MOD' });
      }),
    );
    conn.sendMods(4);
    await expect(conn.barrier()).rejects.toMatchObject({ refused: 'mod 1', count: 3, message: expect.stringContaining('and 2 more') });
  });

  it('a refusal that arrives right after a barrier reply (same chunk) fails the next barrier, not that one', async () => {
    let heldMod: LineMsg | undefined;
    let barriers = 0;
    const { conn } = await connected((m, peer) => {
      if (m.type === 'hello') peer.send({ type: 'hello', xid: m.xid });
      if (m.type === 'mod') heldMod = m;
      if (m.type === 'barrier' && ++barriers === 1) {
        // The switch answers the first barrier, then refuses the mod sent after it, in one write.
        const refuse = () => {
          if (!heldMod) return setImmediate(refuse);
          peer.send({ type: 'barrierReply', xid: m.xid }, { type: 'error', xid: heldMod.xid, code: 'LATE' });
        };
        refuse();
      } else if (m.type === 'barrier') peer.send({ type: 'barrierReply', xid: m.xid });
    });
    const first = conn.barrier();
    conn.sendMods(1);
    await expect(first).resolves.toBeUndefined();
    await expect(conn.barrier()).rejects.toMatchObject({ code: 'LATE', refused: 'mod 0' });
  });
});

describe('connection core: keepalive, close, writes', () => {
  it('answers echo requests, and closes when its own go unanswered', async () => {
    const { conn, peer } = await connected(
      (m, p) => {
        if (m.type === 'hello') p.send({ type: 'hello', xid: m.xid });
      },
      { echoIntervalMs: 20, echoMissesAllowed: 2 },
    );
    peer.send({ type: 'echoRequest', xid: 77 });
    await peer.waitFor((m) => m.type === 'echoReply' && m.xid === 77);
    const reason = await new Promise<string>((r) => conn.on('close', r));
    expect(reason).toBe('echo keepalive failed');
    expect(peer.received.filter((m) => m.type === 'echoRequest').length).toBe(2);
  });

  it('stays open while echoes are answered', async () => {
    const { conn, peer } = await connected(healthy(), { echoIntervalMs: 10, echoMissesAllowed: 1 });
    await peer.waitFor(() => peer.received.filter((m) => m.type === 'echoRequest').length >= 6);
    expect(conn.isClosed).toBe(false);
  });

  it('stays open while the switch sends anything, its echoes unanswered (a switch busy with a batch)', async () => {
    const { conn, peer } = await connected(
      (m, p) => {
        if (m.type === 'hello') p.send({ type: 'hello', xid: m.xid });
      },
      { echoIntervalMs: 10, echoMissesAllowed: 1 },
    );
    const busy = setInterval(() => peer.send({ type: 'packetIn', xid: 0, body: 'still here' }), 3);
    cleanups.push(() => clearInterval(busy));
    await peer.waitFor(() => peer.received.filter((m) => m.type === 'echoRequest').length >= 6);
    expect(conn.isClosed).toBe(false);
    clearInterval(busy);
    // Silence: the misses add up and close it.
    expect(await new Promise<string>((r) => conn.on('close', r))).toBe('echo keepalive failed');
  });

  it('close fails the requests in flight and tells the listeners', async () => {
    const { conn } = await connected(healthy());
    const pending = conn.ask('neverAnswered');
    const reason = new Promise<string>((r) => conn.on('close', r));
    conn.close();
    await expect(pending).rejects.toThrow(/connection closed/);
    expect(await reason).toBe('closed by controller');
    await expect(conn.ask('late')).rejects.toThrow(/connection closed/);
  });

  it('the peer closing the socket closes the connection', async () => {
    const { conn, peer } = await connected(healthy());
    const reason = new Promise<string>((r) => conn.on('close', r));
    peer.socket.destroy();
    expect(await reason).toBe('connection closed');
  });

  it('writes everything queued in one event-loop turn at once', async () => {
    const { conn, peer, counter } = await connected(healthy());
    const before = counter.writes;
    conn.sendMods(500);
    await peer.waitFor((m) => m.body === 'mod 499');
    expect(counter.writes - before).toBe(1);
    expect(peer.received.filter((m) => m.type === 'mod').map((m) => m.body)).toEqual(Array.from({ length: 500 }, (_, i) => `mod ${i}`));
  });

  it('a barrier sends what is queued at once, in one write with it, not at the end of the turn', async () => {
    const { conn, peer, counter } = await connected(healthy());
    const before = counter.writes;
    conn.sendMods(10);
    const replied = conn.barrier();
    // Still in the turn that queued them: written already.
    expect(counter.writes - before).toBe(1);
    await replied;
    expect(peer.received.filter((m) => m.type === 'mod' || m.type === 'barrier').map((m) => m.body ?? m.type)).toEqual([...Array.from({ length: 10 }, (_, i) => `mod ${i}`), 'barrier']);
  });
});
