/**
 * The softswitch's own Prometheus metrics on an HTTP listener (`overcast switch --metrics
 * http://127.0.0.1:0`): its ports, drops by datapath reason, flows, lookups and packet-ins, read from
 * the switch when Prometheus scrapes, in a prom-client registry of its own. Names start with
 * `overcast_softswitch_` (docs/observability.md).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import type { SoftSwitch } from './soft-switch.js';

export interface SwitchMetricsServer {
  readonly port: number;
  readonly registry: Registry;
  close(): Promise<void>;
}

/** The switch's metrics in a registry of their own (each collector reads `sw.stats()` at scrape time). */
export function createSwitchRegistry(sw: SoftSwitch): Registry {
  const registry = new Registry();
  const registers = [registry];
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[], read: (set: (labels: Record<L, string>, v: number) => void) => void) =>
    new Counter<L>({
      name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        read((labels, v) => this.inc(labels, v));
      },
    });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });
  counter('overcast_softswitch_port_packets_total', 'Frames through a port: rx (received) or tx (sent)', ['port', 'direction'], (add) => {
    for (const p of sw.ports()) {
      add({ port: String(p.portNo), direction: 'rx' }, p.counters.rxPackets);
      add({ port: String(p.portNo), direction: 'tx' }, p.counters.txPackets);
    }
  });
  counter('overcast_softswitch_port_bytes_total', 'Bytes through a port: rx or tx', ['port', 'direction'], (add) => {
    for (const p of sw.ports()) {
      add({ port: String(p.portNo), direction: 'rx' }, p.counters.rxBytes);
      add({ port: String(p.portNo), direction: 'tx' }, p.counters.txBytes);
    }
  });
  counter('overcast_softswitch_port_dropped_packets_total', 'Frames a port dropped: rx (went nowhere) or tx (could not be sent)', ['port', 'direction'], (add) => {
    for (const p of sw.ports()) {
      add({ port: String(p.portNo), direction: 'rx' }, p.counters.rxDropped);
      add({ port: String(p.portNo), direction: 'tx' }, p.counters.txDropped);
    }
  });
  counter('overcast_softswitch_port_tx_errors_total', 'Send errors a port socket reported', ['port'], (add) => {
    for (const p of sw.ports()) add({ port: String(p.portNo) }, p.counters.txErrors);
  });
  new Gauge({
    name: 'overcast_softswitch_port_live',
    help: "Whether the port's link is live (liveness probes answered)",
    labelNames: ['port'],
    registers,
    collect() {
      this.reset();
      for (const p of sw.ports()) this.set({ port: String(p.portNo) }, p.live ? 1 : 0);
    },
  });
  counter('overcast_softswitch_dropped_packets_total', 'Frames dropped, by reason (datapath and channel reasons)', ['reason'], (add) => {
    for (const [reason, n] of Object.entries(sw.stats().drops)) add({ reason }, n);
  });
  counter('overcast_softswitch_lookups_total', 'Flow table lookups: cache (hit), classifier (cache miss) or bypass (cache stepped aside)', ['path'], (add) => {
    const l = sw.stats().lookups;
    add({ path: 'cache' }, l.cacheHits);
    add({ path: 'classifier' }, l.cacheMisses);
    add({ path: 'bypass' }, l.bypassed);
  });
  counter('overcast_softswitch_packet_ins_total', 'Packets sent to the controller', [], (add) => add({}, sw.stats().packetIns));
  gauge('overcast_softswitch_flows', 'Flows installed', () => sw.stats().flows);
  gauge('overcast_softswitch_groups', 'Groups installed', () => sw.stats().groups);
  gauge('overcast_softswitch_meters', 'Meters installed', () => sw.stats().meters);
  gauge('overcast_softswitch_controller_connected', 'Whether the control channel is up (1) or not (0)', () => (sw.connected ? 1 : 0));
  return registry;
}

/** Serves GET /metrics on `host:port` (port 0: any free port; read `.port`). */
export async function startSwitchMetricsServer(sw: SoftSwitch, address: { host: string; port: number }): Promise<SwitchMetricsServer> {
  const registry = createSwitchRegistry(sw);
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    registry,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
