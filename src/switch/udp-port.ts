/**
 * A switch port: one UDP socket. It binds its local address and sends every frame to its peer, one
 * frame per datagram. A configured peer is connect()ed once, so each send is a bare `send(buf)` (no
 * address lookup, no callback): the fastest pattern node:dgram has. Socket errors never escape: they
 * are counted, and an unreachable peer marks the port not live for a while (fast-failover groups and
 * PortStatus read that).
 */
import dgram from 'node:dgram';
import type { Logger } from 'pino';
import { createPortCounters, type PortCounters } from './counters.js';
import type { UdpPortSpec } from './port-spec.js';
import { OvercastError } from '../errors/index.js';

/** 4 MiB: net.core.rmem_max on the project's machines; absorbs GC pauses without drops. */
export const PORT_RECV_BUFFER_BYTES = 4 * 1024 * 1024;
/** After the peer's port was found closed, the port counts as down this long unless a frame arrives. */
export const PORT_DOWN_HOLD_MS = 3000;

export type FrameHandler = (port: UdpPort, frame: Buffer) => void;

/** Link probes use LLDP's EtherType, sent to the nearest-bridge group (never forwarded by bridges). */
export const PROBE_ETH_TYPE = 0x88cc;
const PROBE_DST = Buffer.from([0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e]);

/**
 * A link liveness probe: an LLDP-typed frame naming the sending switch and port. Like BFD on a real
 * fabric, it tells each end the other is alive (a restarted neighbour announces itself at once) and,
 * when the peer's socket is gone, draws the ICMP "port unreachable" that marks the port down.
 */
export function buildProbeFrame(srcMac: number, dpid: number, portNo: number): Buffer {
  const b = Buffer.alloc(14 + 12);
  PROBE_DST.copy(b, 0);
  b.writeUIntBE(srcMac, 6, 6);
  b.writeUInt16BE(PROBE_ETH_TYPE, 12);
  b.writeUIntBE(dpid, 14, 6);
  b.writeUInt32BE(portNo, 20);
  return b;
}

function isProbe(frame: Buffer): boolean {
  return frame.length >= 14 && frame[12] === 0x88 && frame[13] === 0xcc;
}

export class UdpPort {
  readonly counters: PortCounters = createPortCounters();
  private readonly socket: dgram.Socket;
  private connected = false;
  private peerHost: string | undefined;
  private peerPort: number | undefined;
  private lastErrorMs = 0;
  private lastRxMs = 0;
  private open = false;

  constructor(
    readonly spec: UdpPortSpec,
    private readonly onFrame: FrameHandler,
    private readonly logger: Logger,
    private readonly now: () => number,
    private readonly recvBufferBytes = PORT_RECV_BUFFER_BYTES,
  ) {
    this.peerHost = spec.peerHost;
    this.peerPort = spec.peerPort;
    this.socket = dgram.createSocket({ type: 'udp4', recvBufferSize: recvBufferBytes, sendBufferSize: recvBufferBytes });
    this.socket.on('message', (msg, rinfo) => {
      this.lastRxMs = this.lastErrorMs === 0 ? 0 : this.now();
      if (this.peerPort === undefined) this.learnPeer(rinfo.address, rinfo.port);
      if (isProbe(msg)) {
        this.counters.rxProbes++;
        return; // liveness only: probes never enter the pipeline
      }
      this.onFrame(this, msg);
    });
    this.socket.on('error', (err: NodeJS.ErrnoException) => {
      this.counters.txErrors++;
      if (err.code === 'ECONNREFUSED') this.lastErrorMs = this.now();
      else this.logger.debug({ port: spec.portNo, err: err.message }, 'port socket error');
    });
  }

  get portNo(): number {
    return this.spec.portNo;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      this.socket.once('error', onError);
      this.socket.bind(this.spec.localPort, this.spec.localHost, () => {
        this.socket.off('error', onError);
        resolve();
      });
    });
    this.open = true;
    try {
      this.socket.setRecvBufferSize(this.recvBufferBytes);
    } catch {
      // The kernel caps it at rmem_max; the default still works, only with less headroom.
    }
    if (this.peerHost !== undefined && this.peerPort !== undefined) await this.connectPeer(this.peerHost, this.peerPort);
  }

  private connectPeer(host: string, port: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.socket.connect(port, host, () => {
        this.connected = true;
        resolve();
      });
    });
  }

  /**
   * Sends to `host:port` from now on (the lab wires a port this way once its peer has reported the
   * port it bound), and announces this end with a probe. A port bound to port 0 takes one peer only:
   * disconnecting its socket would give it another local port (the kernel keeps only an explicitly
   * bound port across a disconnect), so a second, different peer is refused.
   */
  async setPeer(host: string, port: number, probe: Buffer): Promise<void> {
    if (this.connected) {
      if (host === this.peerHost && port === this.peerPort) return;
      if (this.spec.localPort === 0) {
        throw new OvercastError('OVC_ERR_SWITCH_BAD_OPTION', `port ${this.spec.portNo} was bound to port 0 and has its peer already`, 'port');
      }
      this.socket.disconnect();
      this.connected = false;
    }
    this.peerHost = host;
    this.peerPort = port;
    this.lastErrorMs = 0;
    if (this.open) {
      await this.connectPeer(host, port);
      this.sendProbe(probe);
    }
  }

  private learnPeer(host: string, port: number): void {
    this.peerHost = host;
    this.peerPort = port;
    this.logger.info({ port: this.spec.portNo, peer: `${host}:${port}` }, 'port learned its peer');
  }

  /** Send one frame; false when the port has no peer yet (counted as a tx drop). */
  send(frame: Uint8Array): boolean {
    const c = this.counters;
    if (this.connected) {
      this.socket.send(frame);
    } else if (this.peerPort !== undefined && this.peerHost !== undefined && this.open) {
      this.socket.send(frame, this.peerPort, this.peerHost);
    } else {
      c.txDropped++;
      return false;
    }
    c.txPackets++;
    c.txBytes += frame.length;
    return true;
  }

  /** Send a liveness probe to a known peer (not counted as data). */
  sendProbe(frame: Buffer): void {
    if (this.connected) this.socket.send(frame);
    else if (this.peerPort !== undefined && this.peerHost !== undefined && this.open) this.socket.send(frame, this.peerPort, this.peerHost);
  }

  /** Live unless the peer's port was recently found closed and nothing arrived since. */
  isLive(): boolean {
    if (!this.open) return false;
    if (this.lastErrorMs === 0 || this.lastRxMs > this.lastErrorMs) return true;
    return this.now() - this.lastErrorMs > PORT_DOWN_HOLD_MS;
  }

  localAddress(): { address: string; port: number } {
    return this.socket.address();
  }

  peer(): { host: string; port: number } | undefined {
    return this.peerHost !== undefined && this.peerPort !== undefined ? { host: this.peerHost, port: this.peerPort } : undefined;
  }

  async stop(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
