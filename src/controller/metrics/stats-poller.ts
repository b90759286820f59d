/**
 * Polls every connected switch's flow and port counters on an interval, at most one poll in flight per
 * switch (a slow switch is skipped, never queued behind itself), and turns them into the metrics'
 * totals: flows by owner (./flow-attribution.ts) into endpoint, function, load-balancer and
 * elastic-IP traffic and drops; ports into traffic per port and port drops. It also keeps each port's
 * current rate, from which the topology page draws link rates (GET /v1/stats/links).
 */
import type { Logger } from 'pino';
import { flowKey } from '../../flow/index.js';
import { linkId, type Topology } from '../../model/index.js';
import type { Controller } from '../controller.js';
import type { FlowStatsEntry, PortStatsEntry } from '../switch-connection.js';
import type { ControllerMetrics } from './controller-metrics.js';
import { increase } from './counter-totals.js';
import { attributeFlow, type AttributionContext, type FlowTarget } from './flow-attribution.js';

/** Flow and port counters are read every this many ms by default (0 turns polling off). */
export const DEFAULT_STATS_INTERVAL_MS = 5000;

export interface StatsPollerOptions {
  intervalMs?: number;
}

export interface StatsPollerComponents {
  controller: Controller;
  metrics: ControllerMetrics;
  /** Cookie names and the intent as they are now. */
  attribution(): AttributionContext;
  /** The topology with links' operational state (the compiler's). */
  topology(): Topology;
  switchName(dpid: number): string;
  nowMs(): number;
  logger?: Logger;
}

export interface Rate {
  packetsPerSecond: number;
  bytesPerSecond: number;
}

export interface LinkRate {
  id: string;
  a: { switch: string; port: number };
  b: { switch: string; port: number };
  up: boolean;
  /** Leaving a's port into the link, and leaving b's. Absent until two polls of that switch. */
  aToB?: Rate;
  bToA?: Rate;
}

export interface StatsPoller {
  /** Polls every connected switch that has no poll in flight; resolves when those polls end. */
  pollNow(): Promise<void>;
  linkRates(): LinkRate[];
  stop(): void;
}

/** A port's counters as last read, and when. */
type PortReading = PortStatsEntry & { atMs: number };

interface SwitchPollState {
  inFlight: boolean;
  /** The last reading of every watched flow, by flow identity. */
  flows: Map<string, { packets: number; bytes: number }>;
  ports: Map<number, PortReading>;
  txRates: Map<number, Rate>;
}

export function createStatsPoller(options: StatsPollerOptions, c: StatsPollerComponents): StatsPoller {
  const { controller, metrics, switchName, nowMs } = c;
  const states = new Map<number, SwitchPollState>();
  const stateOf = (dpid: number) => {
    let s = states.get(dpid);
    if (!s) states.set(dpid, (s = { inFlight: false, flows: new Map(), ports: new Map(), txRates: new Map() }));
    return s;
  };

  const count = (t: FlowTarget, dpid: number, ctx: AttributionContext, packets: number, bytes: number) => {
    switch (t.kind) {
      case 'drop':
        metrics.drops.add({ switch: switchName(dpid), reason: t.reason }, packets);
        return;
      case 'endpoint': {
        const e = ctx.intent.endpoints.get(t.id);
        if (!e) return;
        metrics.endpoints.add({ endpoint: e.id, vpc: e.vpcId, direction: t.direction }, packets, bytes);
        const fn = e.labels.function;
        if (fn !== undefined) metrics.functions.add({ vpc: e.vpcId, function: fn, direction: t.direction }, packets, bytes);
        return;
      }
      case 'loadBalancer':
        metrics.loadBalancers.add({ load_balancer: t.id }, packets, bytes);
        return;
      case 'backend':
        metrics.backends.add({ load_balancer: t.loadBalancer, endpoint: t.endpoint }, packets, bytes);
        return;
      case 'elasticIp':
        metrics.elasticIps.add({ elastic_ip: t.id, direction: t.direction }, packets, bytes);
    }
  };

  const takeFlows = (dpid: number, state: SwitchPollState, flows: readonly FlowStatsEntry[]) => {
    const ctx = c.attribution();
    const seen = new Map<string, { packets: number; bytes: number }>();
    for (const f of flows) {
      const targets = attributeFlow(f.flow, dpid, ctx);
      if (targets.length === 0) continue;
      const key = flowKey(f.flow);
      const last = state.flows.get(key);
      const packets = increase(last?.packets, f.packets);
      const bytes = increase(last?.bytes, f.bytes);
      seen.set(key, { packets: f.packets, bytes: f.bytes });
      if (packets === 0 && bytes === 0 && last) continue;
      for (const t of targets) count(t, dpid, ctx, packets, bytes);
    }
    state.flows = seen;
  };

  const takePorts = (dpid: number, state: SwitchPollState, ports: readonly PortStatsEntry[], atMs: number) => {
    const sw = switchName(dpid);
    for (const p of ports) {
      const last = state.ports.get(p.port);
      const d = {
        rxPackets: increase(last?.rxPackets, p.rxPackets),
        txPackets: increase(last?.txPackets, p.txPackets),
        rxBytes: increase(last?.rxBytes, p.rxBytes),
        txBytes: increase(last?.txBytes, p.txBytes),
      };
      const port = String(p.port);
      metrics.ports.add({ switch: sw, port, direction: 'rx' }, d.rxPackets, d.rxBytes);
      metrics.ports.add({ switch: sw, port, direction: 'tx' }, d.txPackets, d.txBytes);
      metrics.drops.add({ switch: sw, reason: 'port_rx' }, increase(last?.rxDropped, p.rxDropped));
      metrics.drops.add({ switch: sw, reason: 'port_tx' }, increase(last?.txDropped, p.txDropped));
      if (last && atMs > last.atMs) {
        const s = (atMs - last.atMs) / 1000;
        state.txRates.set(p.port, { packetsPerSecond: d.txPackets / s, bytesPerSecond: d.txBytes / s });
      }
      state.ports.set(p.port, { atMs, ...p });
    }
  };

  const pollSwitch = async (dpid: number) => {
    const session = controller.session(dpid);
    const state = stateOf(dpid);
    if (!session || state.inFlight) return;
    state.inFlight = true;
    const started = nowMs();
    try {
      const [flows, ports] = await Promise.all([session.connection.flowStats(), session.connection.portStats()]);
      const atMs = nowMs();
      takeFlows(dpid, state, flows);
      takePorts(dpid, state, ports, atMs);
      metrics.statsPollSeconds.observe((atMs - started) / 1000);
    } catch (err) {
      metrics.statsPollFailures.inc({ switch: switchName(dpid) });
      c.logger?.debug({ dpid, err: err instanceof Error ? err.message : String(err) }, 'switch counters poll failed');
    } finally {
      state.inFlight = false;
    }
  };

  /** Series of objects that no longer exist go (bounded cardinality: only live objects have series). */
  const forgetGone = () => {
    const { intent } = c.attribution();
    const functions = new Set<string>();
    for (const e of intent.endpoints.values()) if (e.labels.function !== undefined) functions.add(`${e.vpcId}/${e.labels.function}`);
    metrics.endpoints.retain((l) => intent.endpoints.has(l.endpoint));
    metrics.functions.retain((l) => functions.has(`${l.vpc}/${l.function}`));
    metrics.loadBalancers.retain((l) => intent.loadBalancers?.has(l.load_balancer) ?? false);
    metrics.backends.retain((l) => (intent.loadBalancers?.has(l.load_balancer) ?? false) && intent.endpoints.has(l.endpoint));
    metrics.elasticIps.retain((l) => intent.elasticIps?.has(l.elastic_ip) ?? false);
    const switches = new Set(controller.knownDpids.map(switchName));
    metrics.ports.retain((l) => switches.has(l.switch));
    metrics.drops.retain((l) => switches.has(l.switch));
    for (const dpid of states.keys()) if (!controller.knownDpids.includes(dpid)) states.delete(dpid);
  };

  const pollNow = async () => {
    await Promise.all(controller.knownDpids.map(pollSwitch));
    forgetGone();
  };

  const intervalMs = options.intervalMs ?? DEFAULT_STATS_INTERVAL_MS;
  const timer = intervalMs > 0 ? setInterval(() => void pollNow(), intervalMs) : undefined;
  timer?.unref();

  return {
    pollNow,
    linkRates() {
      const t = c.topology();
      const dpidOf = new Map(t.switches.map((s) => [s.name, s.dpid]));
      const rateAt = (end: { switch: string; port: number }) => {
        const dpid = dpidOf.get(end.switch);
        return dpid === undefined ? undefined : states.get(dpid)?.txRates.get(end.port);
      };
      return t.links.map((l) => {
        const aToB = rateAt(l.a);
        const bToA = rateAt(l.b);
        return { id: linkId(l), a: { ...l.a }, b: { ...l.b }, up: l.up, ...(aToB ? { aToB } : {}), ...(bToA ? { bToA } : {}) };
      });
    },
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}
