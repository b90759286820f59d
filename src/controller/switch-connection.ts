/**
 * The controller's view of one attached switch, whichever channel it speaks (the native protobuf
 * channel or OpenFlow 1.3). Sessions and the reconcile loop are written against this contract only;
 * each channel has one adapter that implements it.
 */
import type { Action, FlowEntry, FlowMod, GroupEntry, GroupMod, MeterEntry, MeterMod, MeterStats } from '../flow/index.js';

export interface SwitchPort {
  number: number;
  name: string;
  up: boolean;
  /** Port MAC, when the switch reports one. */
  hwAddr?: number;
}

export interface SwitchFeatures {
  dpid: number;
  ports: SwitchPort[];
  /** Free text: "overcast-softswitch", "Open vSwitch 3.1.0", ... */
  description: string;
}

export interface FlowStatsEntry {
  flow: FlowEntry;
  packets: number;
  bytes: number;
  durationSec: number;
}

export interface PortStatsEntry {
  port: number;
  rxPackets: number;
  txPackets: number;
  rxBytes: number;
  txBytes: number;
  rxDropped: number;
  txDropped: number;
}

export interface PacketInEvent {
  reason: 'noMatch' | 'action' | 'invalidTtl';
  table: number;
  cookie: number;
  inPort: number;
  frame: Buffer;
}

export interface PortStatusEvent {
  reason: 'add' | 'delete' | 'modify';
  port: SwitchPort;
}

export type ClusterRole = 'master' | 'slave' | 'equal';

export interface SwitchConnectionEvents {
  packetIn(e: PacketInEvent): void;
  portStatus(e: PortStatusEvent): void;
  /** The connection is gone (closed by either side, or keepalive failed). */
  close(reason: string): void;
}

/** What a TLS peer's certificate lets it claim. */
export interface PeerIdentity {
  /** Datapath ids the certificate lists (urn:overcast:dpid:<n>). */
  dpids: readonly number[];
  /** The certificate's subject, for logs. */
  subject: string;
}

export interface SwitchConnection {
  readonly channel: 'native' | 'openflow13';
  readonly remoteAddress: string;
  readonly features: SwitchFeatures;
  /** Round trip of the last answered echo keepalive, in ms (undefined until one is answered). */
  readonly echoRttMs?: number;
  /** The certificate's claims on a TLS channel; undefined on plain TCP (anyone may claim any dpid). */
  readonly peerIdentity?: PeerIdentity;
  /** Packet-ins dropped over the channel's budget so far. */
  readonly packetInsDropped?: number;
  /** Does the switch answer an echo within `timeoutMs`? */
  isAlive?(timeoutMs: number): Promise<boolean>;
  /**
   * Asks the switch to make this controller its master, a slave or an equal (a cluster's mastership,
   * src/controller/cluster/); `generationId` orders masters. Rejects when the switch refuses it (a
   * newer master's generation id is known there).
   */
  requestRole?(role: ClusterRole, generationId: number): Promise<void>;
  /** Queue flow-mods; they go out in large writes (corked) without waiting. */
  sendFlowMods(mods: readonly FlowMod[]): void;
  sendGroupMods(mods: readonly GroupMod[]): void;
  /** Queue meter-mods (both channels have them; a connection without meters is one no meter is desired on). */
  sendMeterMods?(mods: readonly MeterMod[]): void;
  /**
   * Resolves when the switch has processed everything sent before. Rejects when the switch refused any
   * of it (a SwitchRefusedError naming the first refused message), on timeout, and on close.
   */
  barrier(): Promise<void>;
  packetOut(frame: Buffer, inPort: number, actions: Action[]): void;
  flowStats(): Promise<FlowStatsEntry[]>;
  groupStats(): Promise<GroupEntry[]>;
  /** The switch's meters as it holds them (no cookies): what a reconcile diffs against. */
  meterConfig?(): Promise<MeterEntry[]>;
  /** Each meter's counters: packets in, and per band what it dropped. */
  meterStats?(): Promise<MeterStats[]>;
  portStats(): Promise<PortStatsEntry[]>;
  on<E extends keyof SwitchConnectionEvents>(event: E, listener: SwitchConnectionEvents[E]): void;
  close(reason?: string): void;
}
