/**
 * The controller's Prometheus metrics (prom-client, its own registry): every metric is declared here,
 * once. Switch state is read from the controller when Prometheus scrapes; traffic per endpoint,
 * function, load balancer, elastic IP and port comes from the stats poller (./stats-poller.ts);
 * durations are observed where the work happens (compiler, store, REST, pushes). docs/observability.md
 * lists them.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Controller } from '../controller.js';
import type { ControllerEvent, ControllerEvents } from '../events.js';
import type { SwitchSession } from '../switch-session.js';
import type { WebhookDispatcher } from '../webhooks.js';
import { CounterTotals, increase, PacketByteTotals } from './counter-totals.js';

/** Seconds: compiles and store commits take microseconds to tens of milliseconds. */
const FAST_BUCKETS_S = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
/** Seconds: pushes wait for a barrier; REST requests may wait for one too. */
const PUSH_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

export interface ControllerMetricsComponents {
  controller: Controller;
  /** A switch's name in the topology (the `switch` label); its dpid when the topology has none. */
  switchName(dpid: number): string;
  webhooks?: WebhookDispatcher;
  /** Node's process metrics (CPU, memory, event loop) beside ours; default true. */
  processMetrics?: boolean;
}

export class ControllerMetrics {
  readonly registry = new Registry();
  readonly compileSeconds: Histogram<'change'>;
  readonly storeCommitSeconds: Histogram;
  readonly httpSeconds: Histogram<'method' | 'route' | 'status_code'>;
  readonly statsPollSeconds: Histogram;
  readonly statsPollFailures: Counter<'switch'>;
  /** Traffic per endpoint: sent (admitted at its port), received (delivered to it), dropped (refused at its port). */
  readonly endpoints: PacketByteTotals<'endpoint' | 'vpc' | 'direction'>;
  /** The same, summed over a function's endpoints (endpoints labelled `function: X`). */
  readonly functions: PacketByteTotals<'vpc' | 'function' | 'direction'>;
  /** Requests into a load balancer's select group. */
  readonly loadBalancers: PacketByteTotals<'load_balancer'>;
  /** A backend's answers through its load balancer (the return flows matching its address). */
  readonly backends: PacketByteTotals<'load_balancer' | 'endpoint'>;
  readonly elasticIps: PacketByteTotals<'elastic_ip' | 'direction'>;
  readonly ports: PacketByteTotals<'switch' | 'port' | 'direction'>;
  readonly drops: CounterTotals<'switch' | 'reason'>;
  private readonly pushSeconds: Histogram;
  private readonly pushFailures: Counter;
  private readonly events: Counter<'type'>;
  private readonly packetIns: CounterTotals<'switch'>;
  private readonly webhookTotals: CounterTotals<'result'>;
  private readonly packetInsSeen = new WeakMap<SwitchSession, number>();
  private readonly webhookSeen = new Map<string, { delivered: number; failed: number; dropped: number }>();

  constructor(private readonly c: ControllerMetricsComponents) {
    const registers = [this.registry];
    if (c.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
    const { controller, switchName } = c;
    const sessions = () => controller.knownDpids.map((dpid) => ({ dpid, name: switchName(dpid), session: controller.session(dpid) }));

    new Gauge({
      name: 'overcast_switch_connected',
      help: 'Whether the switch has a channel to the controller (1) or not (0)',
      labelNames: ['switch', 'channel'],
      registers,
      collect() {
        this.reset();
        for (const s of sessions()) this.set({ switch: s.name, channel: s.session?.connection.channel ?? 'none' }, s.session ? 1 : 0);
      },
    });
    new Gauge({
      name: 'overcast_switch_flows',
      help: 'Flows the controller wants on the switch (desired) and believes installed (installed)',
      labelNames: ['switch', 'state'],
      registers,
      collect() {
        this.reset();
        for (const s of sessions()) {
          this.set({ switch: s.name, state: 'desired' }, controller.desiredFlowCount(s.dpid));
          this.set({ switch: s.name, state: 'installed' }, s.session?.installedFlowCount ?? 0);
        }
      },
    });
    new Gauge({
      name: 'overcast_switch_channel_rtt_seconds',
      help: 'Round trip of the last echo keepalive on the switch channel',
      labelNames: ['switch'],
      registers,
      collect() {
        this.reset();
        for (const s of sessions()) {
          const ms = s.session?.connection.echoRttMs;
          if (ms !== undefined) this.set({ switch: s.name }, ms / 1000);
        }
      },
    });
    this.packetIns = new CounterTotals(this.registry, 'overcast_switch_packet_ins_total', 'Packets the switch sent to the controller', ['switch'], () =>
      this.countPacketIns(),
    );
    this.ports = new PacketByteTotals(this.registry, 'overcast_switch_port', 'Traffic through a switch port, rx (into the switch) or tx (out of it)', ['switch', 'port', 'direction']);
    this.drops = new CounterTotals(
      this.registry,
      'overcast_switch_dropped_packets_total',
      'Packets the switch dropped: port_rx / port_tx from port counters, <table>_miss and <table>_<owner> from drop flows',
      ['switch', 'reason'],
    );
    this.endpoints = new PacketByteTotals(this.registry, 'overcast_endpoint', 'Traffic of an endpoint, from its flows', ['endpoint', 'vpc', 'direction']);
    this.functions = new PacketByteTotals(this.registry, 'overcast_function', "Traffic of a function's endpoints, from their flows", ['vpc', 'function', 'direction']);
    this.loadBalancers = new PacketByteTotals(this.registry, 'overcast_load_balancer', "Requests into a load balancer's backend group", ['load_balancer']);
    this.backends = new PacketByteTotals(this.registry, 'overcast_load_balancer_backend', 'Answers of a load balancer backend, from its return flows', ['load_balancer', 'endpoint']);
    this.elasticIps = new PacketByteTotals(this.registry, 'overcast_elastic_ip', 'Traffic of an elastic IP: in (translated to its endpoint) or out (translated from it)', ['elastic_ip', 'direction']);
    this.compileSeconds = new Histogram({
      name: 'overcast_compile_duration_seconds',
      help: 'Incremental compile of one committed intent change',
      labelNames: ['change'],
      buckets: FAST_BUCKETS_S,
      registers,
    });
    this.pushSeconds = new Histogram({
      name: 'overcast_push_duration_seconds',
      help: "A push of one switch's changes (flow-mods, group-mods) until its barrier reply",
      buckets: PUSH_BUCKETS_S,
      registers,
    });
    this.pushFailures = new Counter({ name: 'overcast_push_failures_total', help: 'Pushes a switch refused or that timed out (each is retried)', registers });
    this.storeCommitSeconds = new Histogram({
      name: 'overcast_store_commit_duration_seconds',
      help: 'One intent store transaction, until it is committed',
      buckets: FAST_BUCKETS_S,
      registers,
    });
    this.httpSeconds = new Histogram({
      name: 'overcast_http_request_duration_seconds',
      help: 'REST requests by route pattern, method and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: PUSH_BUCKETS_S,
      registers,
    });
    this.events = new Counter({ name: 'overcast_events_total', help: 'Controller events emitted, by type', labelNames: ['type'], registers });
    this.webhookTotals = new CounterTotals(
      this.registry,
      'overcast_webhook_deliveries_total',
      'Webhook deliveries: delivered, failed (given up after retries) or dropped (queue full)',
      ['result'],
      () => this.countWebhooks(),
    );
    this.statsPollSeconds = new Histogram({
      name: 'overcast_stats_poll_duration_seconds',
      help: "One poll of a switch's flow and port counters",
      buckets: PUSH_BUCKETS_S,
      registers,
    });
    this.statsPollFailures = new Counter({ name: 'overcast_stats_poll_failures_total', help: 'Polls of switch counters that failed', labelNames: ['switch'], registers });
  }

  /** Counts events by type and observes push outcomes; returns the unsubscribe. */
  attach(events: ControllerEvents): () => void {
    return events.subscribe((e: ControllerEvent) => {
      this.events.inc({ type: e.type });
      if (e.type === 'switch.synced') this.pushSeconds.observe(e.ms / 1000);
      else if (e.type === 'switch.sync-failed') this.pushFailures.inc();
    });
  }

  /** Prometheus text (the body of GET /metrics). */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Packet-ins each session counted since the last scrape. */
  private countPacketIns(): void {
    const { controller, switchName } = this.c;
    for (const dpid of controller.knownDpids) {
      const session = controller.session(dpid);
      if (!session) continue;
      const now = session.counters.packetIns;
      this.packetIns.add({ switch: switchName(dpid) }, increase(this.packetInsSeen.get(session), now));
      this.packetInsSeen.set(session, now);
    }
  }

  /** Deliveries each webhook subscription counted since the last scrape. */
  private countWebhooks(): void {
    const { webhooks } = this.c;
    if (!webhooks) return;
    const live = new Set<string>();
    for (const sub of webhooks.list()) {
      live.add(sub.id);
      const seen = this.webhookSeen.get(sub.id);
      for (const result of ['delivered', 'failed', 'dropped'] as const) {
        this.webhookTotals.add({ result }, increase(seen?.[result], sub.counters[result]));
      }
      this.webhookSeen.set(sub.id, { delivered: sub.counters.delivered, failed: sub.counters.failed, dropped: sub.counters.dropped });
    }
    for (const id of this.webhookSeen.keys()) if (!live.has(id)) this.webhookSeen.delete(id);
  }
}

/** `switchName` for the metrics: the topology's names, looked up once per topology value. */
export function switchNamesOf(topology: () => { switches: readonly { name: string; dpid: number }[] }): (dpid: number) => string {
  let seen: object | undefined;
  let names = new Map<number, string>();
  return (dpid) => {
    const t = topology();
    if (t !== seen) {
      seen = t;
      names = new Map(t.switches.map((s) => [s.dpid, s.name]));
    }
    return names.get(dpid) ?? String(dpid);
  };
}
