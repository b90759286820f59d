/**
 * A test host: one UDP socket attached to a switch port (every datagram is one Ethernet frame). It
 * answers ARP and ICMP echo, resolves neighbours by ARP, sends UDP (and any frame a test crafts),
 * records the UDP datagrams and TCP segments it receives (it runs no TCP: a test plays both ends of a
 * connection with crafted frames), and checks every checksum it receives (so tests prove rewrites are
 * right on the receiving side, not assumed).
 */
import dgram from 'node:dgram';
import type { Logger } from 'pino';
import {
  ARP_OP_REPLY,
  ARP_OP_REQUEST,
  BROADCAST_MAC,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  buildArpReply,
  buildArpRequest,
  buildIcmpEchoFrame,
  buildIcmpEchoReply,
  buildUdpFrame,
  formatIpv4,
  isMalformed,
  parseFrame,
  verifyIpv4Checksum,
  verifyL4Checksum,
  type Cidr,
  type SocketAddress,
} from '../net/index.js';

export interface TestHostOptions {
  name: string;
  mac: number;
  ip: number;
  subnet: Cidr;
  /** Router for destinations outside the subnet (resolved by ARP like any neighbour). */
  gateway?: number;
  bind: SocketAddress;
  peer: SocketAddress;
  /** Remember at most this many received UDP datagrams and TCP segments. */
  receivedLimit?: number;
}

/** A UDP datagram or a TCP segment the host received. */
export interface ReceivedDatagram {
  atMs: number;
  proto: 'udp' | 'tcp';
  /** The TCP flags byte (0 for UDP). */
  tcpFlags: number;
  srcMac: number;
  srcIp: number;
  dstIp: number;
  srcPort: number;
  dstPort: number;
  ttl: number;
  payload: Buffer;
  /** IP header and UDP (or TCP) checksums both verified. */
  checksumsOk: boolean;
}

export interface HostCounters {
  rxFrames: number;
  txFrames: number;
  rxMalformed: number;
  rxNotForMe: number;
  rxBadChecksum: number;
  arpRequestsAnswered: number;
  echoRequestsAnswered: number;
  udpReceived: number;
  tcpReceived: number;
}

export interface PingOutcome {
  sent: number;
  received: number;
  replies: { seq: number; rttMs: number; ttl: number }[];
}

const DEFAULT_RECEIVED_LIMIT = 100_000;
const ARP_RETRY_MS = 200;

export interface TestHostComponents {
  logger: Logger;
  nowMs: () => number;
}

export class TestHost {
  readonly counters: HostCounters = {
    rxFrames: 0,
    txFrames: 0,
    rxMalformed: 0,
    rxNotForMe: 0,
    rxBadChecksum: 0,
    arpRequestsAnswered: 0,
    echoRequestsAnswered: 0,
    udpReceived: 0,
    tcpReceived: 0,
  };
  readonly received: ReceivedDatagram[] = [];
  private readonly socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
  private readonly arpCache = new Map<number, number>();
  private readonly arpWaiters = new Map<number, ((mac: number) => void)[]>();
  private readonly echoWaiters = new Map<number, (ttl: number) => void>();
  private readonly udpListeners = new Set<(d: ReceivedDatagram) => void>();
  private echoId: number;
  private nextSeq = 1;

  constructor(
    readonly options: TestHostOptions,
    private readonly components: TestHostComponents,
  ) {
    this.echoId = (options.ip ^ (options.mac & 0xffff)) & 0xffff;
    this.socket.on('message', (frame) => this.receive(frame));
    this.socket.on('error', (err) => components.logger.warn({ err }, 'host socket error'));
  }

  async start(): Promise<void> {
    const { bind, peer } = this.options;
    await new Promise<void>((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(bind.port, bind.host, () => {
        this.socket.off('error', reject);
        resolve();
      });
    });
    await new Promise<void>((resolve) => this.socket.connect(peer.port, peer.host, resolve));
    // A gratuitous ARP on link-up, as real hosts send: it also tells a switch port without a
    // configured peer where this host is (the port learns its peer from the first datagram).
    this.sendFrame(buildArpRequest({ srcMac: this.options.mac, srcIp: this.options.ip, targetIp: this.options.ip }));
  }

  get boundPort(): number {
    return this.socket.address().port;
  }

  stop(): void {
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }

  /** Send a raw frame as is (tests use it for spoofed or unknown-destination frames). */
  sendFrame(frame: Buffer): void {
    this.counters.txFrames++;
    this.socket.send(frame);
  }

  onUdp(listener: (d: ReceivedDatagram) => void): () => void {
    this.udpListeners.add(listener);
    return () => this.udpListeners.delete(listener);
  }

  /** The MAC to send to for `ip`: the neighbour itself on the subnet, else the gateway. ARP if unknown. */
  async resolve(ip: number, timeoutMs = 1000): Promise<number> {
    const { subnet, gateway } = this.options;
    const nextHop = subnet.contains(ip) || gateway === undefined ? ip : gateway;
    const known = this.arpCache.get(nextHop);
    if (known !== undefined) return known;
    return new Promise<number>((resolve, reject) => {
      const waiters = this.arpWaiters.get(nextHop) ?? [];
      this.arpWaiters.set(nextHop, waiters);
      const ask = () =>
        this.sendFrame(buildArpRequest({ srcMac: this.options.mac, srcIp: this.options.ip, targetIp: nextHop }));
      const retry = setInterval(ask, ARP_RETRY_MS);
      const timer = setTimeout(() => {
        clearInterval(retry);
        const list = this.arpWaiters.get(nextHop);
        if (list) list.splice(list.indexOf(done), 1);
        reject(new Error(`${this.options.name}: no ARP reply for ${formatIpv4(nextHop)} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (mac: number) => {
        clearInterval(retry);
        clearTimeout(timer);
        resolve(mac);
      };
      waiters.push(done);
      ask();
    });
  }

  async sendUdp(dstIp: number, srcPort: number, dstPort: number, payload: Buffer, timeoutMs = 1000): Promise<void> {
    const dstMac = await this.resolve(dstIp, timeoutMs);
    this.sendFrame(
      buildUdpFrame({ srcMac: this.options.mac, dstMac, srcIp: this.options.ip, dstIp, srcPort, dstPort, payload }),
    );
  }

  async ping(dstIp: number, count: number, timeoutMs: number, intervalMs = 0): Promise<PingOutcome> {
    const outcome: PingOutcome = { sent: 0, received: 0, replies: [] };
    let dstMac: number;
    try {
      dstMac = await this.resolve(dstIp, timeoutMs);
    } catch {
      outcome.sent = count;
      return outcome;
    }
    const waits: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const seq = this.nextSeq++ & 0xffff;
      const sentAt = this.components.nowMs();
      waits.push(
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            this.echoWaiters.delete(seq);
            resolve();
          }, timeoutMs);
          this.echoWaiters.set(seq, (ttl) => {
            clearTimeout(timer);
            outcome.received++;
            outcome.replies.push({ seq, rttMs: this.components.nowMs() - sentAt, ttl });
            resolve();
          });
        }),
      );
      this.sendFrame(
        buildIcmpEchoFrame({
          srcMac: this.options.mac,
          dstMac,
          srcIp: this.options.ip,
          dstIp,
          type: 'request',
          id: this.echoId,
          seq,
          payload: Buffer.from(`overcast ping ${seq}`),
        }),
      );
      outcome.sent++;
      if (intervalMs > 0 && i < count - 1) await new Promise((r) => setTimeout(r, intervalMs));
    }
    await Promise.all(waits);
    outcome.replies.sort((a, b) => a.seq - b.seq);
    return outcome;
  }

  private receive(frame: Buffer): void {
    this.counters.rxFrames++;
    const p = parseFrame(frame);
    if (isMalformed(p)) {
      this.counters.rxMalformed++;
      return;
    }
    const { mac, ip } = this.options;
    if (p.eth.dst !== mac && p.eth.dst !== BROADCAST_MAC) {
      this.counters.rxNotForMe++;
      return;
    }
    if (p.arp) {
      // Learn from every ARP we see addressed to us (request or reply), as hosts do.
      if (p.arp.tpa === ip) this.learn(p.arp.spa, p.arp.sha);
      if (p.arp.op === ARP_OP_REQUEST && p.arp.tpa === ip) {
        this.counters.arpRequestsAnswered++;
        this.sendFrame(buildArpReply({ srcMac: mac, srcIp: ip, dstMac: p.arp.sha, dstIp: p.arp.spa }));
      } else if (p.arp.op === ARP_OP_REPLY) {
        this.learn(p.arp.spa, p.arp.sha);
      }
      return;
    }
    if (!p.ip || p.ip.dst !== ip) {
      this.counters.rxNotForMe++;
      return;
    }
    const l4Ok = p.udp || p.tcp || p.icmp ? verifyL4Checksum(frame, p.ip.offset) : true;
    if (!verifyIpv4Checksum(frame, p.ip.offset) || !l4Ok) {
      this.counters.rxBadChecksum++;
      if (!p.udp && !p.tcp) return; // UDP and TCP are still recorded, flagged, so a test can say what was wrong
    }
    if (p.icmp) {
      if (p.icmp.type === ICMP_ECHO_REQUEST) {
        const reply = buildIcmpEchoReply(frame);
        if (reply) {
          this.counters.echoRequestsAnswered++;
          this.sendFrame(reply);
        }
      } else if (p.icmp.type === ICMP_ECHO_REPLY && p.icmp.id === this.echoId) {
        const waiter = this.echoWaiters.get(p.icmp.seq);
        if (waiter) {
          this.echoWaiters.delete(p.icmp.seq);
          waiter(p.ip.ttl);
        }
      }
      return;
    }
    const l4 = p.udp ?? p.tcp;
    if (!l4) return;
    if (p.udp) this.counters.udpReceived++;
    else this.counters.tcpReceived++;
    const d: ReceivedDatagram = {
      atMs: this.components.nowMs(),
      proto: p.udp ? 'udp' : 'tcp',
      tcpFlags: p.tcp?.flags ?? 0,
      srcMac: p.eth.src,
      srcIp: p.ip.src,
      dstIp: p.ip.dst,
      srcPort: l4.srcPort,
      dstPort: l4.dstPort,
      ttl: p.ip.ttl,
      payload: Buffer.from(p.payload),
      checksumsOk: l4Ok && verifyIpv4Checksum(frame, p.ip.offset),
    };
    if (this.received.length >= (this.options.receivedLimit ?? DEFAULT_RECEIVED_LIMIT)) this.received.shift();
    this.received.push(d);
    if (p.udp) for (const l of this.udpListeners) l(d);
  }

  private learn(ipAddr: number, mac: number): void {
    this.arpCache.set(ipAddr, mac);
    const waiters = this.arpWaiters.get(ipAddr);
    if (!waiters) return;
    this.arpWaiters.delete(ipAddr);
    for (const w of waiters) w(mac);
  }
}
