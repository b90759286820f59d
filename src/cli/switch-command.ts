/**
 * `overcast switch`: wires the softswitch's own option parser into the CLI. Started by a lab, it
 * reports the UDP port each switch port bound and takes its peers from the lab (src/lab/child-channel.ts).
 */
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { acceptPeerCommands, reportReady } from '../lab/index.js';
import { runSwitchCommand, startSwitchMetricsServer } from '../switch/index.js';
import { parseUrlAddress } from './addresses.js';

export function registerSwitchCommand(program: Command, logger: (level: string, name: string) => Logger): void {
  program
    .command('switch')
    .description('run a softswitch whose ports are UDP sockets')
    .requiredOption('--dpid <n>', 'datapath id')
    .option('--name <name>', 'switch name (for logs)')
    .option('--controller <tcp://host:port[,...]>', 'controller address, or a cluster\'s addresses comma-separated (reconnects with backoff; flows are kept meanwhile)')
    .option('--port <N[:name]=udp://HOST:PORT[@PEERHOST:PEERPORT]>', 'a port: local address (port 0: any free port) and peer (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--tls-cert <file>', 'this switch\'s certificate (PEM; its SAN URIs urn:overcast:dpid:<n> name the dpids it may claim)')
    .option('--tls-key <file>', 'the private key of --tls-cert (PEM)')
    .option('--tls-ca <file>', 'the CA certificate the controller\'s certificate must chain to (PEM)')
    .option('--insecure-tcp', 'plain TCP to the controller, no TLS (development only)')
    .option('--tables <n>', 'number of flow tables')
    .option('--table-miss <controller|drop>', 'what a table miss does', 'controller')
    .option('--echo-interval-ms <ms>', 'keepalive interval')
    .option('--metrics <http://host:port>', 'serve Prometheus metrics at http://host:port/metrics (port 0: any free port)')
    .option('--log-level <level>', 'pino log level', 'info')
    .action(async (o) => {
      const log = logger(o.logLevel, o.name ?? `dpid${o.dpid}`);
      const metricsAt = o.metrics ? parseUrlAddress(o.metrics, 'http') : undefined;
      const sw = await runSwitchCommand(o, { logger: log });
      const metrics = metricsAt ? await startSwitchMetricsServer(sw, metricsAt) : undefined;
      if (metrics) log.info({ metrics: `http://${metricsAt?.host}:${metrics.port}/metrics` }, 'metrics listening');
      acceptPeerCommands(
        (number, peer) => sw.setPortPeer(number, peer),
        (e) => log.error({ err: String(e) }, 'cannot set a port peer'),
      );
      reportReady({ kind: 'switch', ports: sw.ports().map((p) => ({ number: p.portNo, port: p.local.port })), ...(metrics ? { metricsPort: metrics.port } : {}) });
    });
}
