/**
 * `overcast switch`: options as the CLI parses them (strings), turned into a running softswitch.
 *
 *   overcast switch --dpid N [--controller tcp://HOST:PORT] --port N=udp://HOST:PORT[@PEERHOST:PEERPORT] ...
 *                   [--tables N] [--table-miss controller|drop] [--echo-interval-ms MS] [--log-level LEVEL]
 */
import { pino, type Logger } from 'pino';
import { OvercastError } from '../errors/index.js';
import { parseControllerUrl, parseDpid, parsePortSpec } from './port-spec.js';
import { createSoftSwitch, type SoftSwitch, type SoftSwitchOptions } from './soft-switch.js';

export interface SwitchCommandOptions {
  dpid: string;
  controller?: string;
  /** Repeatable --port. */
  port: string[];
  tables?: string;
  tableMiss?: string;
  echoIntervalMs?: string;
  logLevel?: string;
}

function positiveInt(text: string, field: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new OvercastError('OVC_ERR_SWITCH_BAD_OPTION', `${field} must be a positive integer`, field);
  return n;
}

/** Validate the command-line options (every problem at once) into SoftSwitchOptions. */
export function parseSwitchCommandOptions(o: SwitchCommandOptions): SoftSwitchOptions {
  const problems: OvercastError[] = [];
  const attempt = <T>(f: () => T): T | undefined => {
    try {
      return f();
    } catch (e) {
      if (e instanceof OvercastError) problems.push(e);
      else throw e;
      return undefined;
    }
  };
  const dpid = attempt(() => parseDpid(o.dpid ?? ''));
  const controller = o.controller !== undefined ? attempt(() => parseControllerUrl(o.controller ?? '')) : undefined;
  const ports = (o.port ?? []).map((p, i) => attempt(() => parsePortSpec(p, `port[${i}]`)));
  const seen = new Set<number>();
  for (const p of ports) {
    if (!p) continue;
    if (seen.has(p.portNo)) problems.push(new OvercastError('OVC_ERR_SWITCH_BAD_OPTION', `port ${p.portNo} given twice`, 'port'));
    seen.add(p.portNo);
  }
  const tableCount = o.tables !== undefined ? attempt(() => positiveInt(o.tables ?? '', 'tables')) : undefined;
  const echoIntervalMs = o.echoIntervalMs !== undefined ? attempt(() => positiveInt(o.echoIntervalMs ?? '', 'echoIntervalMs')) : undefined;
  if (o.tableMiss !== undefined && o.tableMiss !== 'controller' && o.tableMiss !== 'drop') {
    problems.push(new OvercastError('OVC_ERR_SWITCH_BAD_OPTION', 'table-miss must be controller or drop', 'tableMiss'));
  }
  if (problems.length > 0) throw OvercastError.fromProblems(problems.flatMap((e) => e.problems));
  const out: SoftSwitchOptions = { dpid: dpid as number, ports: ports.filter((p) => p !== undefined) };
  if (controller) out.controller = controller;
  if (tableCount !== undefined) out.tableCount = tableCount;
  if (echoIntervalMs !== undefined) {
    out.echoIntervalMs = echoIntervalMs;
    out.echoTimeoutMs = echoIntervalMs * 3;
  }
  if (o.tableMiss === 'controller' || o.tableMiss === 'drop') out.tableMiss = o.tableMiss;
  return out;
}

/**
 * Start a softswitch from command-line options; stops it cleanly on SIGINT/SIGTERM. Resolves once the
 * ports are bound (the controller connection comes up in the background and retries forever).
 */
export async function runSwitchCommand(o: SwitchCommandOptions, components: { logger?: Logger; handleSignals?: boolean } = {}): Promise<SoftSwitch> {
  const options = parseSwitchCommandOptions(o);
  const logger = components.logger ?? pino({ level: o.logLevel ?? 'info', base: { svc: 'switch' } });
  const sw = createSoftSwitch(options, { logger });
  await sw.start();
  if (components.handleSignals !== false) {
    const shutdown = (signal: string) => {
      logger.info({ signal }, 'softswitch stopping');
      void sw.stop().finally(() => process.exit(0));
    };
    process.once('SIGINT', () => shutdown('SIGINT'));
    process.once('SIGTERM', () => shutdown('SIGTERM'));
  }
  return sw;
}
