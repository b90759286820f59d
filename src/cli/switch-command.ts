/** `overcast switch`: wires the softswitch's own option parser into the CLI. */
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { runSwitchCommand } from '../switch/index.js';

export function registerSwitchCommand(program: Command, logger: (level: string, name: string) => Logger): void {
  program
    .command('switch')
    .description('run a softswitch whose ports are UDP sockets')
    .requiredOption('--dpid <n>', 'datapath id')
    .option('--name <name>', 'switch name (for logs)')
    .option('--controller <tcp://host:port>', 'controller address (reconnects with backoff; flows are kept meanwhile)')
    .option('--port <N[:name]=udp://HOST:PORT[@PEERHOST:PEERPORT]>', 'a port: local address and peer (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--tables <n>', 'number of flow tables')
    .option('--table-miss <controller|drop>', 'what a table miss does', 'controller')
    .option('--echo-interval-ms <ms>', 'keepalive interval')
    .option('--log-level <level>', 'pino log level', 'info')
    .action(async (o) => {
      await runSwitchCommand(o, { logger: logger(o.logLevel, o.name ?? `dpid${o.dpid}`) });
    });
}
