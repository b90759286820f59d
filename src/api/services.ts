/** What the API needs from the rest of the process; routes depend on this, not on the server. */
import type { TraceBetweenQuery, TracePacket } from '../compiler/index.js';
import type { IdempotencyStore } from '../controller/auth/idempotency-store.js';
import type { TokenService } from '../controller/auth/tokens.js';
import type { Controller } from '../controller/controller.js';
import type { ControllerMetrics, LinkRate } from '../controller/metrics/index.js';
import type { IntentService } from '../controller/intent/index.js';
import type { WebhookDispatcher } from '../controller/webhooks.js';
import type { ClusterStatus } from './schemas/cluster.js';

export interface ApiServices {
  controller: Controller;
  /** The topology as JSON (switches, links, hosts). */
  topology: () => unknown;
  /** Checks every request's bearer token; creates, lists and revokes tokens (`/v1/tokens`). */
  tokens: TokenService;
  /** Keeps the answers of creates sent with an Idempotency-Key. */
  idempotency: IdempotencyStore;
  /** Wall-clock milliseconds (idempotency windows); default Date.now. */
  nowMs?: () => number;
  /** Intent CRUD and topology administration (VPCs, subnets, endpoints). */
  intent?: IntentService;
  /** A packet's path through the current compiled tables (POST /v1/trace). */
  trace?: (start: { dpid: number; inPort: number; packet: TracePacket }) => unknown;
  /** The path between two named ends (POST /v1/trace/between); problems name `body.from` / `body.to`. */
  traceBetween?: (query: TraceBetweenQuery) => unknown;
  /** Webhook subscriptions for controller events. */
  webhooks?: WebhookDispatcher;
  /** Prometheus metrics (GET /metrics, REST latency) and link rates (GET /v1/stats/links). */
  metrics?: { registry: ControllerMetrics; linkRates(): LinkRate[] };
  /** The cluster's members and masters (GET /v1/cluster). */
  cluster?: () => Promise<ClusterStatus>;
  /** The topology page (GET /) and its script, bundled on first request. */
  page?: { html(): Promise<string>; script(): Promise<string> };
}
