/**
 * The topology page (GET /): loads the topology, switch states, VPCs and endpoints from the REST API,
 * draws them, and keeps them live: the event stream (switch, port, link and endpoint events) triggers a
 * reload at once, link rates are polled every few seconds. Picking two endpoints or hosts draws the
 * path POST /v1/trace/between computes.
 */
import { createApi } from './api.js';
import { createGraph } from './graph.js';
import { renderPanel, renderTrace } from './panel.js';
import { buildView, tracePath, type PageEndpoint, type PageLinkStats, type PageSwitch, type PageTopology, type PageTrace, type PageVpc } from './view.js';

const RATES_EVERY_MS = 2000;
const EVENT_TYPES = ['switch.connected', 'switch.disconnected', 'switch.synced', 'port.status', 'link.down', 'link.up', 'endpoint.up', 'endpoint.down'];

const api = createApi(location.search);
const graph = createGraph(document.getElementById('graph') as HTMLElement);
const statusLine = document.getElementById('status') as HTMLElement;

let topology: PageTopology | undefined;
let switches: PageSwitch[] = [];
let vpcs: PageVpc[] = [];
let endpoints: PageEndpoint[] = [];
let stats: PageLinkStats[] = [];
let statsAvailable = true;

function render(): void {
  if (!topology) return;
  const view = buildView(topology, switches, vpcs, endpoints, stats);
  graph.render(view);
  renderPanel(view);
  document.title = `${view.name} · Overcast`;
  document.body.dataset.state = 'ready';
}

async function loadStats(): Promise<void> {
  if (!statsAvailable) return;
  try {
    stats = (await api.get<{ links: PageLinkStats[] }>('/v1/stats/links')).links;
  } catch {
    statsAvailable = false;
  }
}

async function load(): Promise<void> {
  const [t, s, v, e] = await Promise.all([
    api.get<PageTopology>('/v1/topology'),
    api.get<{ switches: PageSwitch[] }>('/v1/switches'),
    api.all<PageVpc>('/v1/vpcs').catch(() => []),
    api.all<PageEndpoint>('/v1/endpoints').catch(() => []),
    loadStats(),
  ]);
  topology = t;
  switches = s.switches;
  vpcs = v;
  endpoints = e;
  render();
}

/** Reloads soon (events come in bursts: one reload per burst), never two at once. */
let pending: Promise<void> | undefined;
let again = false;
function reload(): void {
  if (pending) {
    again = true;
    return;
  }
  pending = new Promise<void>((r) => setTimeout(r, 50))
    .then(load)
    .catch((err: unknown) => {
      statusLine.textContent = `cannot load: ${err instanceof Error ? err.message : String(err)}`;
    })
    .finally(() => {
      pending = undefined;
      if (again) {
        again = false;
        reload();
      }
    });
}

function listen(): void {
  const source = new EventSource(api.eventsUrl(EVENT_TYPES.join(',')));
  source.onopen = () => {
    statusLine.textContent = 'live';
    reload();
  };
  source.onerror = () => {
    statusLine.textContent = 'reconnecting to the event stream…';
  };
  for (const type of EVENT_TYPES) source.addEventListener(type, reload);
}

const form = document.getElementById('trace-form') as HTMLFormElement;
form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const from = (document.getElementById('trace-from') as HTMLSelectElement).value;
  const to = (document.getElementById('trace-to') as HTMLSelectElement).value;
  const protocol = (document.getElementById('trace-protocol') as HTMLSelectElement).value;
  const port = Number((document.getElementById('trace-port') as HTMLInputElement).value);
  const body = { from, to, protocol, ...(protocol !== 'icmp' && port > 0 ? { port } : {}) };
  api
    .post<PageTrace>('/v1/trace/between', body)
    .then((r) => {
      const path = tracePath(r);
      graph.highlight(path);
      renderTrace(path.steps);
    })
    .catch((err: unknown) => {
      graph.highlight(undefined);
      renderTrace([`trace failed: ${err instanceof Error ? err.message : String(err)}`]);
    });
});

setInterval(() => {
  void loadStats().then(render);
}, RATES_EVERY_MS);
listen();
reload();
