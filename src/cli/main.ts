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
import { labCompose, labDemo, labPing, labUp, printPing, stopOnSignal } from './lab-command.js';
import { registerSwitchCommand } from './switch-command.js';
import { registerBenchCommands } from './bench-command.js';
import { registerTokenCommand } from './token-command.js';
import { DEFAULT_API_URL, tokenFrom } from './api-client.js';
import { nonNegativeInt as int } from './arg-parsers.js';

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
  .option('--api-port <n>', 'REST API port', int, 8080)
  .option('--api-host <host>', 'REST API address', '127.0.0.1')
  .option('--lab-plan <file>', 'lab plan (host control addresses) written by `overcast lab up`; adds the /v1/lab routes')
  .option('--health-interval-ms <n>', 'load-balancer backend health probes every n ms (0 = off)', int, 1000)
  .option('--log-level <level>', 'pino log level', 'info')
  .action(async (o) => {
    const bootstrapToken = process.env[BOOTSTRAP_TOKEN_ENV] || undefined;
    const stop = await runControllerCommand({ ...o, ...(bootstrapToken ? { bootstrapToken } : {}) }, logger(o.logLevel, 'controller'));
    await stopOnSignal(stop);
  });

registerSwitchCommand(program, logger);

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
  .action(async (topology: string, o) => labUp(topology, o.apiPort, o.switches, o.data));
lab
  .command('demo <topology>')
  .description('lab up, then ping every host pair and show the traffic; stays up unless --exit')
  .option('--api-port <n>', 'REST API port', int, 8080)
  .option('--exit', 'stop the lab after the pings')
  .action(async (topology: string, o) => {
    process.exitCode = await labDemo(topology, o.apiPort, Boolean(o.exit));
  });
lab
  .command('ping <from> <to>')
  .description('ICMP echo from one lab host to another; exits non-zero when no reply comes back')
  .option('--api <url>', 'controller REST API', DEFAULT_API_URL)
  .option('--token <token>', 'API token (default: $OVERCAST_TOKEN; `lab up` prints one and writes it to <run dir>/token)')
  .option('-c, --count <n>', 'echo requests', int, 3)
  .option('--timeout <ms>', 'wait per request', int, 1000)
  .action(async (from: string, to: string, o) => {
    const r = await labPing(o.api, tokenFrom(o.token), from, to, o.count, o.timeout);
    printPing(r);
    process.exitCode = r.received > 0 ? 0 : 1;
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
