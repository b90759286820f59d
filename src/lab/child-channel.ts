/**
 * What a process started by the lab tells the lab, and what the lab tells it, over Node's IPC channel
 * (the lab spawns every process with one). Every process binds port 0 where the lab asks it to and
 * reports the ports it got once it listens; the lab wires peers only then, so two labs (or a lab and
 * anything else) never race for a port. A process run by hand or in a container has no channel: the
 * functions here do nothing there, and its ports are the fixed ones on its command line.
 */
import type { SocketAddress } from '../net/index.js';

/** The ports a process listens on, sent once it is ready. */
export type ReadyReport =
  | { kind: 'controller'; nativePort: number; openflowPort?: number; apiPort: number }
  | { kind: 'switch'; ports: { number: number; port: number }[] }
  | { kind: 'host'; dataPort: number; controlPort: number };

/** Where a switch's ports send (sent after every switch and host has reported). */
export interface SetPeersCommand {
  type: 'setPeers';
  peers: { number: number; peer: SocketAddress }[];
}

export type ChildMessage = { type: 'ready'; report: ReadyReport } | { type: 'peersSet' };

/** Tells the lab (if this process has one) the ports it listens on. */
export function reportReady(report: ReadyReport): void {
  if (process.send && process.connected) process.send({ type: 'ready', report } satisfies ChildMessage);
  // The channel must not keep the process alive: it ends when its sockets close, as without a lab.
  process.channel?.unref();
}

/**
 * Applies the lab's setPeers commands with `setPeer` and acknowledges each once applied (a failure
 * goes to `onError` and the lab finds the port unwired). Nothing happens without a lab channel.
 */
export function acceptPeerCommands(setPeer: (number: number, peer: SocketAddress) => Promise<void>, onError: (e: unknown) => void): void {
  if (!process.send) return;
  process.on('message', (m: SetPeersCommand) => {
    if (m?.type !== 'setPeers') return;
    void Promise.all(m.peers.map((p) => setPeer(p.number, p.peer)))
      .catch(onError)
      .finally(() => {
        if (process.connected) process.send?.({ type: 'peersSet' } satisfies ChildMessage);
      });
  });
  process.channel?.unref();
}
