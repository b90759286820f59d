/**
 * What the softswitch does with each controller message: flow-mods, group-mods, barriers, packet-outs,
 * stats, bundles, roles. Every refusal is an Error message carrying the OvercastError's code; nothing
 * thrown here reaches the channel's receive loop.
 */
import type { Logger } from 'pino';
import { isOvercastError, type ErrorCode } from '../errors/index.js';
import { compileMatch, type Action, type FlowEntry } from '../flow/index.js';
import type { ControllerRole, FlowStats, Msg, MsgOf, PortDesc, PortStats } from '../protocol/index.js';
import type { Bundles } from './bundles.js';
import type { FlowTables, InstalledFlow } from './flow-tables.js';
import type { GroupTable } from './groups.js';

/** Flow stats go out in replies of at most this many flows (well under MAX_FRAME_BYTES). */
export const FLOW_STATS_PER_REPLY = 1000;

export interface AgentContext {
  readonly dpid: number;
  readonly tableCount: number;
  readonly tables: FlowTables;
  readonly groups: GroupTable;
  readonly bundles: Bundles;
  readonly logger: Logger;
  now(): number;
  send(msg: Msg): void;
  portDescs(): PortDesc[];
  portStats(portNo?: number): PortStats[];
  packetOut(inPort: number, actions: Action[], data: Uint8Array): void;
  role: ControllerRole;
}

export function flowStatsOf(f: InstalledFlow, now: number): FlowStats {
  return { flow: f.flow, packets: f.packets, bytes: f.bytes, durationMs: Math.max(0, now - f.installedAtMs) };
}

function refuse(ctx: AgentContext, xid: number, e: unknown): void {
  const code: ErrorCode = isOvercastError(e) ? e.code : 'OVC_ERR_PROTO_MALFORMED';
  const message = e instanceof Error ? e.message : String(e);
  ctx.logger.debug({ code, message, xid }, 'refused a controller request');
  ctx.send({ type: 'error', xid, code, message });
}

function deleteFlowsOfGroup(ctx: AgentContext, groupId: number): void {
  const any: FlowEntry = { table: 0, priority: 0, match: {}, actions: [], cookie: 0 };
  ctx.tables.applyChecked({ command: 'delete', flow: any, allTables: true, outGroup: groupId });
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
        ctx.tables.apply(msg.flowMod);
        return;
      case 'groupMod':
        if (ctx.role === 'slave') return refuseSlave(ctx, xid);
        ctx.groups.apply(msg.groupMod);
        // OpenFlow: deleting a group removes the flows that forward to it.
        if (msg.groupMod.command === 'delete') deleteFlowsOfGroup(ctx, msg.groupMod.group.groupId);
        return;
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
      case 'bundleControl':
        return bundleControl(ctx, msg);
      case 'bundleAdd':
        if (ctx.role === 'slave') return refuseSlave(ctx, xid);
        ctx.bundles.add(msg.bundleId, msg.mod);
        return;
      case 'roleRequest':
        if (msg.role !== 'noChange') ctx.role = msg.role;
        ctx.send({ type: 'roleReply', xid, role: ctx.role, generationId: msg.generationId });
        return;
      case 'error':
        ctx.logger.warn({ code: msg.code, message: msg.message, xid }, 'controller reported an error');
        return;
      default:
        ctx.send({ type: 'error', xid, code: 'OVC_ERR_PROTO_UNEXPECTED', message: `a switch does not accept ${msg.type}` });
    }
  } catch (e) {
    refuse(ctx, xid, e);
  }
}

function refuseSlave(ctx: AgentContext, xid: number): void {
  ctx.send({ type: 'error', xid, code: 'OVC_ERR_PROTO_UNEXPECTED', message: 'this controller is a slave of the switch' });
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
      ctx.send({ type: 'error', xid: msg.xid, code: 'OVC_ERR_SWITCH_BAD_BUNDLE', message: `a switch does not accept bundle ${msg.ctrl}` });
  }
}
