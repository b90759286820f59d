/**
 * The `overcast` command. The only place that composes runtimes: it reads arguments, builds loggers
 * and clocks, and hands them to the controller, switch, host and lab factories.
 */
import { Command } from 'commander';
import pino from 'pino';
import { isOvercastError } from '../errors/index.js';
import { BOOTSTRAP_TOKEN_ENV } from '../controller/auth/index.js';
import { runControllerCommand } from './controller-command.js';
import { runHostCommand } from './host-command.js';
import { labAttach, labCerts, labCompose, labDemo, labPing, labUp, printAttach, printPing, stopOnSignal } from './lab-command.js';
import { registerSwitchCommand } from './switch-command.js';
import { registerBenchCommands } from './bench-command.js';
import { registerTokenCommand } from './token-command.js';
import { nonNegativeInt as int } from './arg-parsers.js';
import { apiClient, withApiOptions } from './api-client.js';
import { runStatus } from './status-command.js';
import { runTrace, type TraceProtocol } from './trace-command.js';

function logger(level: string, name: string) {
  return pino({ level, base: { name } });
}

const program = new Command('overcast')
  .description('Overcast: an SDN controller and software switch for functions, containers and volumes')
  .showHelpAfterError();

program
  .command('controller')
  .description(`run the controller: native switch channel, OpenFlow 1.3, REST API (every listener on 127.0.0.1 unless told otherwise; $${BOOTSTRAP_TOKEN_ENV} registers an admin token)`)
  .requiredOption('--topology <file>', 'topology YAML file')
  .option('--listen <tcp://host:port>', 'native channel address', 'tcp://127.0.0.1:6633')
  .option('--openflow <tcp://host:port|none>', 'OpenFlow 1.3 channel address (Open vSwitch bridges)', 'tcp://127.0.0.1:6653')
  .option('--data <dir>', 'intent store directory (SQLite); without it intent lives in memory only')
  .option('--member-id <id>', 'this controller\'s id in a cluster (default c-<pid>-<random>)')
  .option('--lease-ttl-s <n>', 'a cluster member\'s etcd lease in seconds: its switches fail over this long after it dies', int, 3)
  .option('--store <url>', 'etcd://HOST:PORT[,HOST:PORT...]: keep intent, tokens and webhooks in etcd, shared by a cluster of controllers (excludes --data)')
  .option('--api-port <n>', 'REST API port', int, 8080)
  .option('--api-host <host>', 'REST API address', '127.0.0.1')
  .option('--lab-plan <file>', 'lab plan (host control addresses) written by `overcast lab up`; adds the /v1/lab routes')
  .option('--health-interval-ms <n>', 'load-balancer backend health probes every n ms (0 = off)', int, 1000)
  .option('--stats-interval-ms <n>', 'read switch flow and port counters every n ms for /metrics (0 = off)', int, 5000)
  .option('--tls-cert <file>', 'the controller\'s certificate for both switch channels (PEM)')
  .option('--tls-key <file>', 'the private key of --tls-cert (PEM)')
  .option('--tls-ca <file>', 'the CA switch certificates must chain to (PEM); their urn:overcast:dpid:<n> URIs bind dpids')
  .option('--insecure-tcp', 'plain TCP switch channels, no TLS: any client may claim any dpid (development only)')
  .option('--log-level <level>', 'pino log level', 'info')
  .action(async (o) => {
    const bootstrapToken = process.env[BOOTSTRAP_TOKEN_ENV] || undefined;
    const stop = await runControllerCommand({ ...o, ...(bootstrapToken ? { bootstrapToken } : {}) }, logger(o.logLevel, 'controller'));
    await stopOnSignal(stop);
  });

registerSwitchCommand(program, logger);

withApiOptions(program.command('status'))
  .description('switches of a running controller: channel, flows desired / installed, last sync; exits 1 unless all are in sync')
  .action(async (o) => {
    process.exitCode = await runStatus(apiClient(o));
  });

withApiOptions(program.command('trace <from> <to>'))
  .description("a packet's path between two endpoints (ids), hosts (names) or addresses, through the compiled tables")
  .option('--tcp <port>', 'a TCP segment to this port', int)
  .option('--udp <port>', 'a UDP datagram to this port', int)
  .option('--icmp', 'an ICMP echo request (the default)')
  .action(async (from: string, to: string, o) => {
    if ([o.tcp !== undefined, o.udp !== undefined, Boolean(o.icmp)].filter(Boolean).length > 1) throw new Error('give one of --tcp, --udp, --icmp');
    const l4: TraceProtocol = o.tcp !== undefined ? { protocol: 'tcp', port: o.tcp } : o.udp !== undefined ? { protocol: 'udp', port: o.udp } : { protocol: 'icmp' };
    process.exitCode = await runTrace(apiClient(o), from, to, l4);
  });

program
  .command('host')
  .description('run a test host on a UDP socket attached to a switch port')
  .requiredOption('--name <name>', 'host name')
  .requiredOption('--mac <mac>', 'MAC address')
  .requiredOption('--ip <a.b.c.d/len>', 'IPv4 address with prefix length')
  .requiredOption('--port <udp://bind@udp://peer>', 'data socket and the switch port it attaches to')
  .requiredOption('--control <http://host:port>', 'control API address')
  .option('--gateway <ip>', 'default gateway')
  .option('--log-level <level>', 'pino log level', 'info')
  .action(async (o) => {
    const stop = await runHostCommand(o, logger(o.logLevel, o.name));
    await stopOnSignal(stop);
  });

const lab = program.command('lab').description('bring topologies up as real processes on this machine');
lab
  .command('up <topology>')
  .description('start the controller, one softswitch per switch and the hosts; Ctrl-C stops them all')
  .option('--api-port <n>', 'REST API port', int, 8080)
  .option('--switches <kind>', 'softswitch processes (soft) or Open vSwitch bridges (ovs; root, openvswitch-switch)', 'soft')
  .option('--data <dir>', 'intent store directory (default: <run dir>/data)')
  .option('--insecure-tcp', 'plain TCP switch channels instead of mutual TLS with certificates made for the lab (development only)')
  .option('--controllers <n>', 'controllers sharing a private etcd (in the run dir); every switch connects to all', int, 1)
  .action(async (topology: string, o) => labUp(topology, o.apiPort, o.switches, o.data, Boolean(o.insecureTcp), o.controllers));
lab
  .command('demo <topology>')
  .description('lab up, then ping every host pair and show the traffic; stays up unless --exit')
  .option('--api-port <n>', 'REST API port', int, 8080)
  .option('--exit', 'stop the lab after the pings')
  .action(async (topology: string, o) => {
    process.exitCode = await labDemo(topology, o.apiPort, Boolean(o.exit));
  });
withApiOptions(lab.command('ping <from> <to>'))
  .description('ICMP echo from a lab host or an attached endpoint (name, endpoint id or address) to a host, endpoint or address; exits non-zero when no reply comes back')
  .option('-c, --count <n>', 'echo requests', int, 3)
  .option('--timeout <ms>', 'wait per request', int, 1000)
  .action(async (from: string, to: string, o) => {
    const r = await labPing(apiClient(o), from, to, o.count, o.timeout);
    printPing(r);
    process.exitCode = r.received > 0 ? 0 : 1;
  });
withApiOptions(lab.command('attach <endpoint>'))
  .description("put a test host on a VPC endpoint's switch port (softswitch labs), so lab ping works from and to it")
  .option('--name <name>', 'host name (default: the endpoint id)')
  .action(async (endpoint: string, o) => {
    const client = apiClient(o);
    printAttach(await labAttach(client, endpoint, o.name), client.url);
  });
lab
  .command('certs <topology>')
  .description('write a private CA, the controller\'s certificate and one per switch (and one for Open vSwitch) for the switch channels\' mutual TLS')
  .option('--out <dir>', 'where to write them (docker/compose.yaml mounts docker/pki)', 'docker/pki')
  .action(async (topology: string, o) => {
    for (const f of await labCerts(topology, o.out)) console.log(f);
  });
lab
  .command('compose <topology>')
  .description('print the docker compose file for a topology (the same layout lab up runs)')
  .option('--image <name>', 'image name', 'overcast:latest')
  .action((topology: string, o) => {
    process.stdout.write(labCompose(topology, o.image));
  });

registerTokenCommand(program);
registerBenchCommands(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  if (isOvercastError(e)) {
    console.error(`${e.code}: ${e.message}`);
    for (const p of e.problems.length > 1 ? e.problems : []) console.error(`  ${p.field ?? ''}: ${p.code} ${p.message}`);
  } else {
    console.error(e instanceof Error ? e.message : e);
  }
  process.exit(1);
});
