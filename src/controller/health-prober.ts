/**
 * Health probes for load-balancer backends (docs/load-balancing.md, "Health probes") and volume targets
 * (docs/volumes.md, "Replicas"). Every interval the
 * controller sends each backend an ICMP echo request from its subnet's gateway (gateway IP,
 * GATEWAY_MAC) as a packet-out on the backend's own switch, out of the backend's port. The backend
 * answers towards the gateway; the compiler's health-reply flow (src/compiler/compile-health.ts) lifts
 * the answer back to us as a packet-in, matched here by switch, addresses, echo id and sequence.
 *
 * `unhealthyAfter` unanswered probes in a row take the backend out of every load balancer it serves
 * (`intent.loadBalancers.setBackendHealth`, so the change is stored, compiled and installed like a REST one)
 * and a target out of its volumes' replica groups (`intent.volumes.setTargetHealth`, with
 * `volume.target-down`); `healthyAfter` answers in a row put it back. The prober only returns backends it took out itself
 * (`LoadBalancer.unhealthyByProbe`, stored with the intent, so this holds across controller restarts): a
 * backend marked unhealthy over REST stays out until REST says otherwise. A switch that is not
 * connected is not probed and its backends' counts stand still: no verdict without a probe.
 *
 * Time comes from the injected clock; a probe is a miss when no answer came within `timeoutMs` (judged
 * at the next tick, so no per-probe timer exists).
 */
import type { Logger } from 'pino';
import { output, PORT, type Action } from '../flow/index.js';
import { GATEWAY_MAC, type Endpoint, type Intent } from '../model/index.js';
import { buildIcmpEchoFrame, ICMP_ECHO_REPLY, isMalformed, parseFrame } from '../net/index.js';
import type { ControllerEvents } from './events.js';
import type { IntentService, LoadBalancerResource, VolumeResource } from './intent/index.js';
import type { PacketInEvent, SwitchConnection } from './switch-connection.js';
import type { TimerHandle } from './timers.js';

export const DEFAULT_HEALTH_INTERVAL_MS = 1000;
export const DEFAULT_HEALTH_TIMEOUT_MS = 500;
export const DEFAULT_UNHEALTHY_AFTER = 3;
export const DEFAULT_HEALTHY_AFTER = 2;
/** The echo identifier of our probes ("OV"): replies with another id are not ours. */
export const HEALTH_ECHO_ID = 0x4f56;
/** Probe payload: names the sender to anyone capturing the traffic. */
const PROBE_PAYLOAD = Buffer.from('overcast-health');

export interface HealthProberOptions {
  intervalMs?: number;
  /** A probe unanswered this long is a miss. */
  timeoutMs?: number;
  /** Misses in a row that take a backend out of the pool. */
  unhealthyAfter?: number;
  /** Answers in a row that put it back. */
  healthyAfter?: number;
  echoId?: number;
}

/** What the prober needs of the controller (the Controller class satisfies it). */
export interface ProberController {
  readonly events: Pick<ControllerEvents, 'emit' | 'subscribe'>;
  session(dpid: number): { readonly connection: Pick<SwitchConnection, 'packetOut' | 'on'> } | undefined;
  readonly knownDpids: number[];
}


export interface HealthProberComponents {
  controller: ProberController;
  intent: Pick<IntentService, 'intent'> & {
    readonly loadBalancers: Pick<LoadBalancerResource, 'setBackendHealth'>;
    /** Volume targets are probed when given. */
    readonly volumes?: Pick<VolumeResource, 'setTargetHealth'>;
  };
  /** Monotonic milliseconds. */
  nowMs(): number;
  setInterval?(fn: () => void, ms: number): TimerHandle;
  clearInterval?(handle: TimerHandle): void;
  logger?: Logger;
}

export interface HealthProberStats {
  probesSent: number;
  repliesMatched: number;
  /** Answers that came after `timeoutMs` (already counted as misses). */
  repliesLate: number;
  misses: number;
  /** Backends not probed in a tick because their switch was not connected. */
  unreachable: number;
  markedUnhealthy: number;
  markedHealthy: number;
}

export interface BackendHealthStatus {
  endpointId: string;
  dpid: number;
  port: number;
  /** Misses / answers in a row. */
  misses: number;
  successes: number;
  loadBalancers: string[];
}

export interface HealthProber {
  /** One round: judge the previous probes, apply verdicts, send the next probes. The timer calls it. */
  tick(): void;
  /** Offer a packet-in; true when it was one of our probes' answers. */
  offer(p: PacketInEvent & { dpid: number }): boolean;
  stats(): HealthProberStats;
  status(): BackendHealthStatus[];
  stop(): void;
}

interface Target {
  endpoint: Endpoint;
  gateway: number;
  misses: number;
  successes: number;
  /** The probe awaiting an answer. */
  outstanding?: { seq: number; sentAtMs: number };
  loadBalancers: string[];
  /** The volumes it is a target of. */
  volumes: string[];
}

/** Endpoint id -> the load balancers it is a backend of (same rule as the compiler's members). */
function backendsOf(intent: Intent): Map<string, string[]> {
  const byFunction = new Map<string, string[]>();
  for (const lb of intent.loadBalancers?.values() ?? []) {
    const k = `${lb.vpcId}\u0000${lb.function}`;
    const list = byFunction.get(k);
    if (list) list.push(lb.id);
    else byFunction.set(k, [lb.id]);
  }
  const out = new Map<string, string[]>();
  if (byFunction.size === 0) return out;
  for (const e of intent.endpoints.values()) {
    const fn = e.labels.function;
    if (fn === undefined) continue;
    const lbs = byFunction.get(`${e.vpcId}\u0000${fn}`);
    if (lbs) out.set(e.id, lbs);
  }
  return out;
}

/** Endpoint id -> the volumes it is a target of. */
function volumeTargetsOf(intent: Intent): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const v of intent.volumes?.values() ?? []) {
    for (const t of v.targets) {
      const list = out.get(t);
      if (list) list.push(v.id);
      else out.set(t, [v.id]);
    }
  }
  return out;
}

export function createHealthProber(options: HealthProberOptions, components: HealthProberComponents): HealthProber {
  const intervalMs = options.intervalMs ?? DEFAULT_HEALTH_INTERVAL_MS;
  const timeoutMs = options.timeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
  const unhealthyAfter = Math.max(1, options.unhealthyAfter ?? DEFAULT_UNHEALTHY_AFTER);
  const healthyAfter = Math.max(1, options.healthyAfter ?? DEFAULT_HEALTHY_AFTER);
  const echoId = (options.echoId ?? HEALTH_ECHO_ID) & 0xffff;
  const { controller, intent, nowMs, logger } = components;

  const targets = new Map<string, Target>();
  /** seq -> endpoint id of the probe that carries it. */
  const bySeq = new Map<number, string>();
  let nextSeq = 0;
  const stats: HealthProberStats = { probesSent: 0, repliesMatched: 0, repliesLate: 0, misses: 0, unreachable: 0, markedUnhealthy: 0, markedHealthy: 0 };
  let stopped = false;

  /** Verdicts being committed (`lb/endpoint`): a tick meanwhile does not commit them again. */
  const committing = new Set<string>();
  const setHealth = (lbId: string, endpointId: string, healthy: boolean, count: number) => {
    const key = `${lbId}/${endpointId}`;
    if (committing.has(key)) return;
    committing.add(key);
    void intent.loadBalancers.setBackendHealth(lbId, endpointId, healthy, 'probe').then(
      () => {
        committing.delete(key);
        if (healthy) {
          stats.markedHealthy++;
          controller.events.emit({ type: 'backend.healthy', loadBalancerId: lbId, endpointId, successes: count });
        } else {
          stats.markedUnhealthy++;
          controller.events.emit({ type: 'backend.unhealthy', loadBalancerId: lbId, endpointId, misses: count });
        }
        logger?.info({ lbId, endpointId, healthy, count }, healthy ? 'backend answers health probes again; back in the pool' : 'backend missed health probes; out of the pool');
      },
      // The load balancer or endpoint went away between the tick and now (or the store refused): nothing marked.
      (err: unknown) => {
        committing.delete(key);
        logger?.debug({ err, lbId, endpointId }, 'health verdict not applied');
      },
    );
  };

  const setVolumeHealth = (volumeId: string, endpointId: string, healthy: boolean, count: number) => {
    const key = `${volumeId}/${endpointId}`;
    const volumes = intent.volumes;
    if (!volumes || committing.has(key)) return;
    committing.add(key);
    void volumes.setTargetHealth(volumeId, endpointId, healthy).then(
      () => {
        committing.delete(key);
        if (healthy) stats.markedHealthy++;
        else stats.markedUnhealthy++;
        controller.events.emit(
          healthy ? { type: 'volume.target-up', volumeId, endpointId } : { type: 'volume.target-down', volumeId, endpointId, reason: `${count} health probes unanswered` },
        );
      },
      (err: unknown) => {
        committing.delete(key);
        logger?.debug({ err, volumeId, endpointId }, 'volume target health verdict not applied');
      },
    );
  };

  /** Apply the verdict the counts give, against the current intent (REST may have changed it). */
  const decide = (t: Target) => {
    if (t.misses < unhealthyAfter && t.successes < healthyAfter) return;
    const vols = intent.intent().volumes;
    for (const volumeId of t.volumes) {
      const out = vols?.get(volumeId)?.unhealthy?.includes(t.endpoint.id);
      if (out === undefined && !vols?.has(volumeId)) continue;
      if (t.misses >= unhealthyAfter && !out) setVolumeHealth(volumeId, t.endpoint.id, false, t.misses);
      else if (t.successes >= healthyAfter && out) setVolumeHealth(volumeId, t.endpoint.id, true, t.successes);
    }
    const lbs = intent.intent().loadBalancers;
    for (const lbId of t.loadBalancers) {
      const lb = lbs?.get(lbId);
      if (!lb) continue;
      const out = lb.unhealthy.includes(t.endpoint.id);
      if (t.misses >= unhealthyAfter && !out) setHealth(lbId, t.endpoint.id, false, t.misses);
      else if (t.successes >= healthyAfter && out && (lb.unhealthyByProbe ?? []).includes(t.endpoint.id)) setHealth(lbId, t.endpoint.id, true, t.successes);
    }
  };

  const forget = (t: Target) => {
    if (t.outstanding) bySeq.delete(t.outstanding.seq);
    t.outstanding = undefined;
  };

  /** Bring the target list in line with the intent: new backends, moved ones (counts restart), gone ones. */
  const refresh = (current: Intent) => {
    const backends = backendsOf(current);
    const served = intent.volumes ? volumeTargetsOf(current) : new Map<string, string[]>();
    for (const [id, t] of targets) {
      const e = current.endpoints.get(id);
      const moved = e !== undefined && (e.dpid !== t.endpoint.dpid || e.port !== t.endpoint.port || e.mac !== t.endpoint.mac || e.ip !== t.endpoint.ip);
      if (!e || !(backends.has(id) || served.has(id)) || moved) {
        forget(t);
        targets.delete(id);
      }
    }
    for (const id of new Set([...backends.keys(), ...served.keys()])) {
      const e = current.endpoints.get(id);
      const subnet = e ? current.subnets.get(e.subnetId) : undefined;
      if (!e || !subnet) continue;
      const lbs = backends.get(id) ?? [];
      const volumes = served.get(id) ?? [];
      const t = targets.get(id);
      if (t) {
        t.loadBalancers = lbs;
        t.volumes = volumes;
        t.gateway = subnet.gateway;
      } else targets.set(id, { endpoint: e, gateway: subnet.gateway, misses: 0, successes: 0, loadBalancers: lbs, volumes });
    }
  };

  const send = (t: Target, now: number) => {
    const session = controller.session(t.endpoint.dpid);
    if (!session) {
      stats.unreachable++;
      return;
    }
    // Skip sequence numbers still awaiting an answer (more than 65535 backends per interval).
    let seq = nextSeq;
    for (let i = 0; i < 0x10000 && bySeq.has(seq); i++) seq = (seq + 1) & 0xffff;
    nextSeq = (seq + 1) & 0xffff;
    const e = t.endpoint;
    const frame = buildIcmpEchoFrame({ srcMac: GATEWAY_MAC, dstMac: e.mac, srcIp: t.gateway, dstIp: e.ip, type: 'request', id: echoId, seq, payload: PROBE_PAYLOAD });
    const actions: Action[] = [output(e.port)];
    try {
      session.connection.packetOut(frame, PORT.CONTROLLER, actions);
    } catch (err) {
      logger?.debug({ err, dpid: e.dpid }, 'health probe not sent');
      stats.unreachable++;
      return;
    }
    t.outstanding = { seq, sentAtMs: now };
    bySeq.set(seq, e.id);
    stats.probesSent++;
  };

  const tick = () => {
    if (stopped) return;
    const now = nowMs();
    refresh(intent.intent());
    for (const t of targets.values()) {
      if (t.outstanding) {
        if (now - t.outstanding.sentAtMs < timeoutMs) continue; // still in time: no new probe yet
        forget(t);
        t.misses++;
        t.successes = 0;
        stats.misses++;
        decide(t);
      }
      send(t, now);
    }
  };

  const offer = (p: PacketInEvent & { dpid: number }): boolean => {
    if (stopped) return false;
    const f = parseFrame(p.frame);
    if (isMalformed(f) || !f.icmp || !f.ip || f.icmp.type !== ICMP_ECHO_REPLY || f.icmp.id !== echoId) return false;
    const id = bySeq.get(f.icmp.seq);
    const t = id === undefined ? undefined : targets.get(id);
    if (!t || !t.outstanding || t.outstanding.seq !== f.icmp.seq) return false;
    const e = t.endpoint;
    if (p.dpid !== e.dpid || f.ip.src !== e.ip || f.ip.dst !== t.gateway) return false;
    const late = nowMs() - t.outstanding.sentAtMs > timeoutMs;
    if (late) {
      // Leave it outstanding: the next tick counts the miss.
      stats.repliesLate++;
      return true;
    }
    forget(t);
    stats.repliesMatched++;
    t.successes++;
    t.misses = 0;
    decide(t);
    return true;
  };

  // Answers arrive as packet-ins on the switch connections (the events carry no frame).
  const seen = new WeakSet<object>();
  const watch = (dpid: number) => {
    const connection = controller.session(dpid)?.connection;
    if (!connection || seen.has(connection)) return;
    seen.add(connection);
    connection.on('packetIn', (e) => {
      offer({ ...e, dpid });
    });
  };
  for (const dpid of controller.knownDpids) watch(dpid);
  const off = controller.events.subscribe((e) => {
    if (e.type === 'switch.connected') watch(e.dpid);
  });
  const si = components.setInterval ?? ((fn: () => void, ms: number) => setInterval(fn, ms));
  const ci = components.clearInterval ?? ((h: TimerHandle) => clearInterval(h as ReturnType<typeof setInterval>));
  const timer = intervalMs > 0 ? si(tick, intervalMs) : undefined;
  const unref = timer as { unref?: () => void } | undefined;
  unref?.unref?.();

  return {
    tick,
    offer,
    stats: () => ({ ...stats }),
    status: () =>
      [...targets.values()].map((t) => ({
        endpointId: t.endpoint.id,
        dpid: t.endpoint.dpid,
        port: t.endpoint.port,
        misses: t.misses,
        successes: t.successes,
        loadBalancers: [...t.loadBalancers],
      })),
    stop() {
      stopped = true;
      off();
      if (timer !== undefined) ci(timer);
      targets.clear();
      bySeq.clear();
    },
  };
}
