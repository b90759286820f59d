/**
 * End to end with real processes: two softswitch processes in a line (host A - s1 - s2 - host B), a
 * controller on the real channel. Killing and restarting one switch restores forwarding (the
 * controller re-installs its flows on the new connection); stopping the controller leaves established
 * forwarding working (fail-secure).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { output, type FlowEntry } from '../../src/flow/index.js';
import { buildUdpFrame } from '../../src/net/index.js';
import { notYet, waitFor } from '../support/wait-for.js';
import { startControllerStub, type StubSession } from './controller-stub.js';
import { startHost } from './udp-hosts.js';

const launcher = fileURLToPath(new URL('./fixtures/run-switch.ts', import.meta.url));

/** A switch process, the UDP port each switch port bound (its `ready` line), and its stdout so far. */
interface SwitchProcess {
  child: ChildProcess;
  ports: Record<number, number>;
  output(): string;
}

function startSwitch(args: string[]): Promise<SwitchProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', launcher, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`switch did not start; it wrote: ${out}`)), 15_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = /^ready (.*)$/m.exec(out);
      if (line) {
        clearTimeout(timer);
        resolve({ child, ports: JSON.parse(line[1]) as Record<number, number>, output: () => out });
      }
    });
    child.on('exit', (code) => reject(new Error(`switch exited ${code}`)));
  });
}

const fwd = (inPort: number, outPort: number): FlowEntry => ({ table: 0, priority: 10, match: { inPort }, actions: [output(outPort)], cookie: 1 });
const frame = (n: number) =>
  buildUdpFrame({ srcMac: 0x020000000001, dstMac: 0x020000000002, srcIp: 0x0a000001, dstIp: 0x0a000002, srcPort: n, dstPort: 7, payload: Buffer.from(`f${n}`) });

describe('softswitch processes', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  it('forwards across two switches, survives a switch restart and a controller stop', async () => {
    const a = await startHost();
    const b = await startHost();
    // s1: port 1 <-> host A, port 2 <-> s2 port 1; s2: port 2 <-> host B. Every port binds port 0:
    // s2 first (its port 1 learns s1 from s1's first probe), then s1, sending to the port s2 reported.
    const lo = '127.0.0.1';
    // The controller installs "1 -> 2" on every switch that (re)connects, as a reconciling controller would.
    const ctl = await startControllerStub({
      onSession: (s: StubSession) => {
        void s.waitFor('featuresReply', undefined, 15_000).then(() => {
          s.send({ type: 'flowMod', xid: 2, flowMod: { command: 'add', flow: fwd(1, 2) } });
          s.send({ type: 'barrierRequest', xid: 3 });
        }, () => {});
      },
    });
    const controller = `tcp://${lo}:${ctl.port}`;
    let s2 = await startSwitch(['--dpid', '2', '--controller', controller, '--port', `1=udp://${lo}:0`, '--port', `2=udp://${lo}:0@${lo}:${b.port}`]);
    children.push(s2.child);
    const [s2p1, s2p2] = [s2.ports[1], s2.ports[2]];
    const s1 = await startSwitch(['--dpid', '1', '--controller', controller, '--port', `1=udp://${lo}:0@${lo}:${a.port}`, '--port', `2=udp://${lo}:0@${lo}:${s2p1}`]);
    children.push(s1.child);
    const [s1p1, s1p2] = [s1.ports[1], s1.ports[2]];
    // A restarted s2 binds the ports it had, its port 1 now told where s1 is.
    const s2Args = ['--dpid', '2', '--controller', controller, '--port', `1=udp://${lo}:${s2p1}@${lo}:${s1p2}`, '--port', `2=udp://${lo}:${s2p2}@${lo}:${b.port}`];
    await waitFor('both switches to acknowledge their flows', () => {
      const ready = ctl.sessions.filter((s) => s.received.some((m) => m.type === 'barrierReply' && m.xid === 3) && !s.socket.destroyed);
      return ready.length >= 2 || notYet({ sessions: ctl.sessions.length, ready: ready.length });
    }, { timeoutMs: 15_000 });

    let n = 0;
    /** Frames from A until one reaches B (the first after a restart may meet a socket still binding). */
    const crosses = (what: string) => {
      const before = b.received.length;
      return waitFor(what, () => {
        if (b.received.length > before) return true;
        a.send(frame(++n), s1p1);
        return notYet({ sent: n, atB: b.received.length });
      }, { timeoutMs: 5000 });
    };
    await crosses('a frame across both switches');

    // Kill s2 hard and start it again on the same ports: the controller reinstalls, forwarding returns.
    s2.child.kill('SIGKILL');
    await new Promise((r) => s2.child.once('exit', r));
    s2 = await startSwitch(s2Args);
    children.push(s2.child);
    await crosses('a frame across both switches after s2 restarted');

    // Stop the controller: once both switches have seen it go (and kept their flows), forwarding works.
    await ctl.close();
    await waitFor('both switches to report the controller gone', () => [s1, s2].every((s) => s.output().includes('controller connection lost')) || notYet({ s1: s1.output(), s2: s2.output() }));
    await crosses('a frame across both switches without a controller');
    const last = b.received[b.received.length - 1];
    expect(last.subarray(0, 12).equals(frame(1).subarray(0, 12))).toBe(true);
    await a.close();
    await b.close();
  }, 60_000);
});
