/**
 * `overcast controller`: the controller process — intent store, incremental compiler, native and
 * OpenFlow 1.3 switch channels, REST API — as the lab and the containers run it. Any listener may use
 * port 0 (any free port); started by a lab, the controller reports the ports it got.
 */
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { buildApi } from '../api/server.js';
import { topologyJson } from '../api/schemas/topology.js';
import { createTokenService } from '../controller/auth/index.js';
import { Controller } from '../controller/controller.js';
import { endpointEvents, linkEvents, securityEvents, volumeEvents } from '../controller/events.js';
import { watchVolumeTargets } from '../controller/volume-targets.js';
import { coldTargetOfCookie, functionKey, traceBetweenJson, traceJson } from '../compiler/index.js';
import { createHealthProber, DEFAULT_HEALTH_INTERVAL_MS, type ProberController } from '../controller/health-prober.js';
import { ControllerMetrics, createStatsPoller, switchNamesOf, timedStore } from '../controller/metrics/index.js';
import { createIntentService } from '../controller/intent/index.js';
import { attachPacketHold, createPacketHold } from '../controller/packet-hold.js';
import { createWebhookDispatcher } from '../controller/webhooks.js';
import { startIntentRuntime } from '../controller/intent-runtime.js';
import { listenNative } from '../controller/native/native-server.js';
import { listenOpenFlow } from '../controller/openflow13/index.js';
import { openControllerStores } from './controller-stores.js';
import { createControllerCluster } from './controller-cluster.js';
import { parseTopology, type Topology } from '../model/index.js';
import { OvercastError } from '../errors/index.js';
import { channelTlsProblems } from '../switch/index.js';
import { linkId } from '../model/index.js';
import { parseUrlAddress } from './addresses.js';
import { webPage } from './web-page.js';
import { createLabService, labRoutes, readLabPlanHosts, reportReady, requestAttachHost } from '../lab/index.js';

export interface ControllerCommandOptions {
  topology: string;
  listen: string;
  /** OpenFlow 1.3 listener (Open vSwitch bridges), tcp://host:port, or 'none'. */
  openflow: string;
  apiPort: number;
  apiHost: string;
  /** Intent store directory (SQLite); without it intent lives in memory only. */
  data?: string;
  /** `etcd://HOST:PORT[,HOST:PORT...]`: intent, tokens and webhooks in a shared etcd (a cluster); excludes `data`. */
  store?: string;
  /** This controller's id in a cluster (default c-<pid>-<random>). */
  memberId?: string;
  /** A cluster member's lease, in seconds: how long after its death its switches get a new master. */
  leaseTtlS?: number;
  labPlan?: string;
  /** Load-balancer backend health probes every this many ms; 0 turns them off (default 1000). */
  healthIntervalMs?: number;
  /** Switch flow and port counters polled every this many ms for the metrics; 0 turns it off (default 5000). */
  statsIntervalMs?: number;
  /** Mutual TLS on both switch channels: the controller's certificate and key, and the CA switch certificates chain to (PEM files). */
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  /** Plain TCP switch channels (development only): required when no TLS files are given. */
  insecureTcp?: boolean;
  /**
   * An admin token to register at start (BOOTSTRAP_TOKEN_ENV): how a deployment that has no token yet
   * gets its first one. Registered once; a revoked one stays revoked.
   */
  bootstrapToken?: string;
}

/** The topology as JSON, each link with its operational state (`operational`: up, or down by port state) beside the configured `up`. */
function topologyWithLinkState(t: Topology, operational: Map<string, boolean>) {
  const json = topologyJson(t);
  return { ...json, links: json.links.map((l) => ({ ...l, operational: operational.get(linkId(l)) === false ? 'down' : 'up' })) };
}

export async function runControllerCommand(o: ControllerCommandOptions, logger: Logger): Promise<() => Promise<void>> {
  const tlsProblems = channelTlsProblems(o);
  if (tlsProblems.length > 0) throw OvercastError.fromProblems(tlsProblems.flatMap((e) => e.problems));
  const tls = o.tlsCert && o.tlsKey && o.tlsCa ? { cert: fs.readFileSync(o.tlsCert), key: fs.readFileSync(o.tlsKey), ca: fs.readFileSync(o.tlsCa) } : undefined;
  if (!tls) logger.warn('switch channels on plain TCP (--insecure-tcp): any client that reaches them can claim to be any switch');
  const seed = parseTopology(fs.readFileSync(o.topology, 'utf8'), o.topology);
  const nowMs = () => performance.now();
  const stores = openControllerStores(o);
  const cluster = createControllerCluster({
    etcd: stores.etcd,
    memberId: o.memberId,
    leaseTtlS: o.leaseTtlS,
    storeLocation: stores.intent.location,
    topology: () => intent.topology.get(),
    logger,
  });
  const controller = new Controller({ logger, nowMs, ...(cluster.roles ? { roles: cluster.roles } : {}) });
  const webhooks = createWebhookDispatcher({}, { logger, store: stores.webhooks, owns: (e) => cluster.owns(e) });
  // The switch label of every metric: the topology's name of the switch (read through `intent`, below).
  const switchName = switchNamesOf(() => intent.topology.get());
  const metrics = new ControllerMetrics({ controller, switchName, webhooks });
  const offMetrics = metrics.attach(controller.events);
  const store = timedStore(stores.intent, (s) => metrics.storeCommitSeconds.observe(s), nowMs);
  const tokens = createTokenService({ store: stores.tokens, nowMs: Date.now });
  const idempotency = stores.idempotency;
  if (o.bootstrapToken !== undefined) {
    const t = await tokens.adopt(o.bootstrapToken, { scope: 'admin', name: 'bootstrap' });
    logger.info({ token: t.id, revoked: t.revokedAt !== undefined }, 'bootstrap admin token');
  }
  const intent = await createIntentService({ seedTopology: seed }, { store, logger });
  if (intent.topology.get().name !== seed.name) {
    logger.warn({ stored: intent.topology.get().name, file: seed.name }, 'the intent store already holds a topology; the file only seeds a new store');
  }
  const runtime = await startIntentRuntime(intent, controller, logger, { compiled: (change, s) => metrics.compileSeconds.observe({ change }, s), nowMs });
  const poller = createStatsPoller(
    { intervalMs: o.statsIntervalMs },
    {
      controller,
      metrics,
      attribution: () => ({ describeCookie: (c) => runtime.compiler.describeCookie(c), intent: intent.intent() }),
      topology: () => runtime.compiler.topology(),
      switchName,
      nowMs,
      logger,
    },
  );
  const offWebhooks = webhooks.attach(controller.events);
  const offTopology = intent.onChange((changes) => {
    if (changes.some((c) => c.kind === 'topology')) cluster.rebalance();
  });
  const offVolumeTargets = watchVolumeTargets({
    events: controller.events,
    intent: () => intent.intent(),
    setTargetHealth: (volumeId, endpointId, healthy) => intent.volumes.setTargetHealth(volumeId, endpointId, healthy),
    onError: (err) => logger.debug({ err }, 'volume target health not applied'),
  });
  const offEndpointEvents = intent.onChange((changes) => {
    for (const e of endpointEvents(changes)) controller.events.emit(e);
    for (const e of securityEvents(changes)) controller.events.emit(e);
    for (const e of linkEvents(changes)) controller.events.emit(e);
    for (const e of volumeEvents(changes)) controller.events.emit(e);
  });
  // Scale from zero: packets for a function with no instance wait here until one registers.
  const hold = createPacketHold(
    { classify: (p) => coldTargetOfCookie(p.cookie, (c) => runtime.compiler.describeCookie(c), intent.intent()) },
    { nowMs: () => performance.now(), emit: (e) => controller.events.emit(e) },
  );
  const scaleFromZero = attachPacketHold(controller, hold);
  // The first instance of a held function: once its flows are installed, replay what waited for it.
  const offActivation = intent.onChange((changes) => {
    for (const c of changes) {
      if (c.kind !== 'endpoint' || c.op === 'delete' || c.after.labels.function === undefined) continue;
      const key = functionKey(c.after.vpcId, c.after.labels.function);
      if (hold.held(key) === 0) continue;
      const registeredAtMs = performance.now();
      void intent.settled().then(() => scaleFromZero.activate(key, { registeredAtMs }));
    }
  });
  // Backends that stop answering echo requests leave their load balancers' pools until they answer again.
  // Health-probe replies come back under their subnet's cookie: routine, not worth an event each.
  controller.isRoutinePacketIn = (e) => runtime.compiler.describeCookie(e.cookie)?.kind === 'subnet';
  const healthIntervalMs = o.healthIntervalMs ?? DEFAULT_HEALTH_INTERVAL_MS;
  // In a cluster, a switch's master probes through it (it alone hears the answers).
  const mastersOnly: ProberController = {
    events: controller.events,
    get knownDpids() {
      return controller.knownDpids;
    },
    session: (dpid) => (cluster.masters(dpid) ? controller.session(dpid) : undefined),
  };
  const prober =
    healthIntervalMs > 0
      ? createHealthProber(
          { intervalMs: healthIntervalMs, timeoutMs: Math.min(500, Math.max(1, Math.floor(healthIntervalMs / 2))) },
          { controller: cluster.roles ? mastersOnly : controller, intent, nowMs: () => performance.now(), logger },
        )
      : undefined;
  const listen = parseUrlAddress(o.listen, 'tcp');
  const channel = tls ? { tls } : {};
  const native = await listenNative(controller, listen.host, listen.port, logger, channel);
  const ofAddr = o.openflow === 'none' ? undefined : parseUrlAddress(o.openflow, 'tcp');
  const openflow = ofAddr ? await listenOpenFlow(controller, ofAddr.host, ofAddr.port, logger, channel) : undefined;
  const labPlan = o.labPlan;
  // With a lab plan, the lab's routes (/v1/lab/*) join the API; hosts come from the plan file.
  const plugins = labPlan
    ? [
        labRoutes(
          createLabService({
            topology: () => intent.topology.get(),
            intent: () => intent.intent(),
            hostAddresses: () => readLabPlanHosts(labPlan),
            trace: (start) => runtime.trace(start),
            attachHost: (spec) => requestAttachHost(spec),
          }),
        ),
      ]
    : [];
  const api = await buildApi(
    {
      controller,
      topology: () => topologyWithLinkState(intent.topology.get(), runtime.operationalLinks()),
      tokens,
      idempotency,
      intent,
      webhooks,
      trace: (start) => traceJson(runtime.trace(start)),
      traceBetween: (q) => traceBetweenJson(intent.topology.get(), intent.intent(), q, (start) => runtime.trace(start), 'body.'),
      metrics: { registry: metrics, linkRates: () => poller.linkRates() },
      page: webPage(),
      cluster: () => cluster.status(),
    },
    logger,
    plugins,
  );
  await api.listen({ port: o.apiPort, host: o.apiHost });
  const apiPort = (api.server.address() as AddressInfo).port;
  await cluster.start(`http://${o.apiHost}:${apiPort}`, (dpid) => void controller.roleChanged(dpid));
  logger.info({ api: `http://${o.apiHost}:${apiPort}`, native: native.port, openflow: openflow?.port, store: o.store ?? o.data ?? 'memory' }, 'controller up');
  reportReady({ kind: 'controller', nativePort: native.port, apiPort, ...(openflow ? { openflowPort: openflow.port } : {}) });
  return async () => {
    // Leaving first hands this controller's switches to the others at once.
    await cluster.close();
    offTopology();
    poller.stop();
    offMetrics();
    prober?.stop();
    runtime.stop();
    offActivation();
    scaleFromZero.detach();
    hold.close();
    offWebhooks();
    offVolumeTargets();
    webhooks.close();
    offEndpointEvents();
    await api.close();
    intent.close();
    await stores.close();
    controller.close();
    await native.close();
    await openflow?.close();
  };
}
