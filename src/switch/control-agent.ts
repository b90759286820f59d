/**
 * What the softswitch does with each controller message: flow-mods, group-mods, meter-mods, barriers, packet-outs,
 * stats, bundles, roles. Every refusal is an Error message carrying the OvercastError's code and the
 * refused message's xid, counted under drops_total{reason="channelRefused"}; nothing thrown here
 * reaches the channel's receive loop.
 */
import type { Logger } from 'pino';
import { OvercastError, isOvercastError, type ErrorCode } from '../errors/index.js';
import { compileMatch, type Action, type FlowEntry, type FlowMod, type GroupEntry, type MeterMod } from '../flow/index.js';
import type { ControllerRole, FlowStats, Msg, MsgOf, PortDesc, PortStats } from '../protocol/index.js';
import type { Bundles } from './bundles.js';
import { CHANNEL_DROP, countDrop, type DropCounters } from './counters.js';
import type { FlowTables, InstalledFlow } from './flow-tables.js';
import type { GroupTable } from './groups.js';
import type { MeterTable } from './meters.js';

/** Flow stats go out in replies of at most this many flows (well under MAX_FRAME_BYTES). */
export const FLOW_STATS_PER_REPLY = 1000;
/** Meter configs and stats go out in replies of at most this many meters. */
export const METERS_PER_REPLY = 1000;
/** Group descriptions go out in replies of at most this many buckets in all (well under MAX_FRAME_BYTES). */
export const GROUP_DESC_BUCKETS_PER_REPLY = 4096;

export interface AgentContext {
  readonly dpid: number;
  readonly tableCount: number;
  readonly tables: FlowTables;
  readonly groups: GroupTable;
  readonly meters: MeterTable;
  readonly bundles: Bundles;
  readonly logger: Logger;
  /** drops_total{reason}: every refused message counts under CHANNEL_DROP.REFUSED. */
  readonly drops: DropCounters;
  now(): number;
  send(msg: Msg): void;
  portDescs(): PortDesc[];
  portStats(portNo?: number): PortStats[];
  packetOut(inPort: number, actions: Action[], data: Uint8Array): void;
  /** The role of the controller this context answers. */
  role: ControllerRole;
  /** Applies a role request of this context's controller (./controller-roles.ts); returns why it is refused. */
  changeRole(role: ControllerRole, generationId: number): string | undefined;
}

export function flowStatsOf(f: InstalledFlow, now: number): FlowStats {
  return { flow: f.flow, packets: f.packets, bytes: f.bytes, durationMs: Math.max(0, now - f.installedAtMs) };
}

function refuse(ctx: AgentContext, xid: number, e: unknown): void {
  const code: ErrorCode = isOvercastError(e) ? e.code : 'OVC_ERR_PROTO_MALFORMED';
  refuseWith(ctx, xid, code, e instanceof Error ? e.message : String(e));
}

/** Answer a message with an Error carrying its xid, and count it. */
function refuseWith(ctx: AgentContext, xid: number, code: ErrorCode, message: string): void {
  countDrop(ctx.drops, CHANNEL_DROP.REFUSED);
  ctx.logger.debug({ code, message, xid }, 'refused a controller request');
  ctx.send({ type: 'error', xid, code, message });
}

/** A flow-mod checked against the tables, the groups it forwards to and its meter, then applied. */
export function applyFlowMod(ctx: Pick<AgentContext, 'tables' | 'groups' | 'meters'>, mod: FlowMod): void {
  const problems = [...ctx.tables.check(mod), ...ctx.groups.checkFlowMod(mod), ...ctx.meters.checkFlowMod(mod)];
  if (problems.length > 0) throw OvercastError.fromProblems(problems);
  ctx.tables.applyChecked(mod);
}

function deleteFlowsOfGroup(ctx: AgentContext, groupId: number): void {
  const any: FlowEntry = { table: 0, priority: 0, match: {}, actions: [], cookie: 0 };
  ctx.tables.applyChecked({ command: 'delete', flow: any, allTables: true, outGroup: groupId });
}

/** OpenFlow: deleting a meter removes the flows that use it. */
function deleteFlowsOfMeter(ctx: AgentContext, meterId: number): void {
  for (const f of [...ctx.tables.flows()]) {
    if (f.flow.meterId === meterId) ctx.tables.applyChecked({ command: 'deleteStrict', flow: f.flow });
  }
}

/** A meter-mod applied (see MeterTable.check); a delete takes the meter's flows with it. */
export function applyMeterMod(ctx: Pick<AgentContext, 'tables' | 'meters'>, mod: MeterMod): void {
  ctx.meters.apply(mod);
  if (mod.command === 'delete') deleteFlowsOfMeter(ctx as AgentContext, mod.meter.meterId);
}

export function handleControlMessage(ctx: AgentContext, msg: Msg): void {
  const xid = msg.xid;
  try {
    switch (msg.type) {
      case 'featuresRequest':
        ctx.send({ type: 'featuresReply', xid, dpid: ctx.dpid, nTables: ctx.tableCount, ports: ctx.portDescs() });
        return;
      case 'flowMod':
        if (ctx.role === 'slave') return refuseSlave(ctx, xid);
        applyFlowMod(ctx, msg.flowMod);
        return;
      case 'groupMod':
        if (ctx.role === 'slave') return refuseSlave(ctx, xid);
        ctx.groups.apply(msg.groupMod);
        // OpenFlow: deleting a group removes the flows that forward to it.
        if (msg.groupMod.command === 'delete') deleteFlowsOfGroup(ctx, msg.groupMod.group.groupId);
        return;
      case 'meterMod':
        if (ctx.role === 'slave') return refuseSlave(ctx, xid);
        applyMeterMod(ctx, msg.meterMod);
        return;
      case 'meterConfigRequest':
        return inParts(ctx.meters.entries(), (meters, more) => ctx.send({ type: 'meterConfigReply', xid, meters, more }));
      case 'meterStatsRequest':
        return meterStats(ctx, xid, msg.meterId);
      case 'barrierRequest':
        // Messages are applied synchronously in arrival order: everything before is done.
        ctx.send({ type: 'barrierReply', xid });
        return;
      case 'packetOut':
        if (ctx.role === 'slave') return refuseSlave(ctx, xid);
        ctx.packetOut(msg.inPort, msg.actions, msg.data);
        return;
      case 'flowStatsRequest':
        return flowStats(ctx, msg);
      case 'portStatsRequest':
        ctx.send({ type: 'portStatsReply', xid, ports: ctx.portStats(msg.portNo), more: false });
        return;
      case 'groupDescRequest':
        return groupDesc(ctx, xid);
      case 'bundleControl':
        return bundleControl(ctx, msg);
      case 'bundleAdd':
        if (ctx.role === 'slave') return refuseSlave(ctx, xid);
        ctx.bundles.add(msg.bundleId, msg.mod);
        return;
      case 'roleRequest': {
        const refused = ctx.changeRole(msg.role, msg.generationId);
        if (refused !== undefined) return refuseWith(ctx, xid, 'OVC_ERR_SWITCH_STALE_ROLE', refused);
        ctx.send({ type: 'roleReply', xid, role: ctx.role, generationId: msg.generationId });
        return;
      }
      case 'error':
        ctx.logger.warn({ code: msg.code, message: msg.message, xid }, 'controller reported an error');
        return;
      default:
        refuseWith(ctx, xid, 'OVC_ERR_PROTO_UNEXPECTED', `a switch does not accept ${msg.type}`);
    }
  } catch (e) {
    refuse(ctx, xid, e);
  }
}

function refuseSlave(ctx: AgentContext, xid: number): void {
  refuseWith(ctx, xid, 'OVC_ERR_PROTO_UNEXPECTED', 'this controller is a slave of the switch');
}

function flowStats(ctx: AgentContext, msg: MsgOf<'flowStatsRequest'>): void {
  const filter = { match: compileMatch(msg.match), cookie: msg.cookie, cookieMask: msg.cookieMask, ...(msg.table !== undefined ? { table: msg.table } : {}) };
  const now = ctx.now();
  const flows = ctx.tables.query(filter).map((f) => flowStatsOf(f, now));
  for (let i = 0; i < flows.length || i === 0; i += FLOW_STATS_PER_REPLY) {
    const chunk = flows.slice(i, i + FLOW_STATS_PER_REPLY);
    ctx.send({ type: 'flowStatsReply', xid: msg.xid, flows: chunk, more: i + FLOW_STATS_PER_REPLY < flows.length });
  }
}

/** Sends `items` in replies of at most METERS_PER_REPLY (one empty reply when there are none). */
function inParts<T>(items: T[], send: (part: T[], more: boolean) => void): void {
  for (let i = 0; i < items.length || i === 0; i += METERS_PER_REPLY) send(items.slice(i, i + METERS_PER_REPLY), i + METERS_PER_REPLY < items.length);
}

function meterStats(ctx: AgentContext, xid: number, meterId: number | undefined): void {
  const stats = ctx.meters.stats(meterId);
  const flowCount = new Map<number, number>();
  for (const f of ctx.tables.flows()) {
    const id = f.flow.meterId;
    if (id !== undefined) flowCount.set(id, (flowCount.get(id) ?? 0) + 1);
  }
  for (const s of stats) s.flowCount = flowCount.get(s.meterId) ?? 0;
  inParts(stats, (meters, more) => ctx.send({ type: 'meterStatsReply', xid, meters, more }));
}

function groupDesc(ctx: AgentContext, xid: number): void {
  let part: GroupEntry[] = [];
  let buckets = 0;
  for (const g of ctx.groups.entries()) {
    if (part.length > 0 && buckets + g.buckets.length > GROUP_DESC_BUCKETS_PER_REPLY) {
      ctx.send({ type: 'groupDescReply', xid, groups: part, more: true });
      part = [];
      buckets = 0;
    }
    part.push(g);
    buckets += g.buckets.length;
  }
  ctx.send({ type: 'groupDescReply', xid, groups: part, more: false });
}

function bundleControl(ctx: AgentContext, msg: MsgOf<'bundleControl'>): void {
  const reply = (ctrl: MsgOf<'bundleControl'>['ctrl']) => ctx.send({ type: 'bundleControl', xid: msg.xid, bundleId: msg.bundleId, ctrl });
  switch (msg.ctrl) {
    case 'openRequest':
      ctx.bundles.openBundle(msg.bundleId);
      return reply('openReply');
    case 'closeRequest':
      ctx.bundles.close(msg.bundleId);
      return reply('closeReply');
    case 'commitRequest': {
      if (ctx.role === 'slave') return refuseSlave(ctx, msg.xid);
      const { groupsDeleted } = ctx.bundles.commit(msg.bundleId);
      for (const g of groupsDeleted) deleteFlowsOfGroup(ctx, g);
      return reply('commitReply');
    }
    case 'discardRequest':
      ctx.bundles.discard(msg.bundleId);
      return reply('discardReply');
    default:
      refuseWith(ctx, msg.xid, 'OVC_ERR_SWITCH_BAD_BUNDLE', `a switch does not accept bundle ${msg.ctrl}`);
  }
}
