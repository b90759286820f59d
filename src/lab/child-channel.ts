/**
 * What a process started by the lab tells the lab, and what the lab tells it, over Node's IPC channel
 * (the lab spawns every process with one). Every process binds port 0 where the lab asks it to and
 * reports the ports it got once it listens; the lab wires peers only then, so two labs (or a lab and
 * anything else) never race for a port. A process run by hand or in a container has no channel: the
 * functions here do nothing there, and its ports are the fixed ones on its command line.
 */
import { OvercastError } from '../errors/index.js';
import type { SocketAddress } from '../net/index.js';

/** The ports a process listens on, sent once it is ready. */
export type ReadyReport =
  | { kind: 'controller'; nativePort: number; openflowPort?: number; apiPort: number }
  | { kind: 'switch'; ports: { number: number; port: number }[]; metricsPort?: number }
  | { kind: 'host'; dataPort: number; controlPort: number };

/** Where a switch's ports send (sent after every switch and host has reported). */
export interface SetPeersCommand {
  type: 'setPeers';
  peers: { number: number; peer: SocketAddress }[];
}

/** A test host to start on a switch port (an endpoint's data plane, or any host a test plugs in). */
export interface HostAttachSpec {
  name: string;
  mac: string;
  /** a.b.c.d/len */
  ip: string;
  gateway?: string;
  switch: string;
  port: number;
  /** The VPC endpoint the host stands for, when it stands for one. */
  endpoint?: string;
}

/** The controller asks the lab that started it for a test host (`overcast lab attach`). */
export interface AttachHostRequest {
  type: 'attachHost';
  id: number;
  spec: HostAttachSpec;
}

/** The lab's answer: the host's control URL, or why it could not start it. */
export interface HostAttachedReply {
  type: 'hostAttached';
  id: number;
  url?: string;
  error?: string;
}

export type ChildMessage = { type: 'ready'; report: ReadyReport } | { type: 'peersSet' } | AttachHostRequest;

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

/** How long the lab may take to start an attached host. */
export const ATTACH_TIMEOUT_MS = 30_000;
let nextAttachId = 1;

/**
 * Asks the lab that started this process to start a test host; resolves with its control URL.
 * Refused (OVC_ERR_LAB_ATTACH) without a lab, when the lab cannot, and after ATTACH_TIMEOUT_MS.
 */
export function requestAttachHost(spec: HostAttachSpec, timeoutMs = ATTACH_TIMEOUT_MS): Promise<string> {
  const send = process.send?.bind(process);
  if (!send || !process.connected) {
    return Promise.reject(new OvercastError('OVC_ERR_LAB_ATTACH', 'this controller was not started by a lab: no lab to start a test host', 'body.endpoint'));
  }
  const id = nextAttachId++;
  return new Promise<string>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      process.off('message', onMessage);
      process.channel?.unref();
    };
    const onMessage = (m: HostAttachedReply) => {
      if (m?.type !== 'hostAttached' || m.id !== id) return;
      done();
      if (m.url) resolve(m.url);
      else reject(new OvercastError('OVC_ERR_LAB_ATTACH', m.error ?? 'the lab could not start the host', 'body.endpoint'));
    };
    const timer = setTimeout(() => {
      done();
      reject(new OvercastError('OVC_ERR_LAB_ATTACH', `the lab started no host in ${timeoutMs} ms`, 'body.endpoint'));
    }, timeoutMs);
    process.on('message', onMessage);
    send({ type: 'attachHost', id, spec } satisfies ChildMessage);
  });
}
