/**
 * `overcast switch`: options as the CLI parses them (strings), turned into a running softswitch.
 *
 *   overcast switch --dpid N [--controller tcp://HOST:PORT[,tcp://HOST:PORT...] (--tls-cert F --tls-key F --tls-ca F | --insecure-tcp)]
 *                   --port N=udp://HOST:PORT[@PEERHOST:PEERPORT] ...
 *                   [--tables N] [--table-miss controller|drop] [--echo-interval-ms MS] [--log-level LEVEL]
 */
import fs from 'node:fs';
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
  /** Mutual TLS to the controller: this switch's certificate and key (PEM files), and the CA's certificate. */
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  /** Plain TCP to the controller (development only): required when no TLS files are given. */
  insecureTcp?: boolean;
}

/** TLS file paths, or plain TCP said out loud: every problem, with the options' names as fields. */
export function channelTlsProblems(o: { tlsCert?: string; tlsKey?: string; tlsCa?: string; insecureTcp?: boolean }): OvercastError[] {
  const given = [o.tlsCert, o.tlsKey, o.tlsCa].filter((f) => f !== undefined).length;
  if (o.insecureTcp && given > 0) return [new OvercastError('OVC_ERR_CHANNEL_TLS_OPTIONS', '--insecure-tcp and TLS files exclude each other', 'insecureTcp')];
  if (o.insecureTcp || given === 3) return [];
  if (given === 0) return [new OvercastError('OVC_ERR_CHANNEL_TLS_OPTIONS', 'give --tls-cert, --tls-key and --tls-ca, or --insecure-tcp for plain TCP', 'tlsCert')];
  const missing = (['tlsCert', 'tlsKey', 'tlsCa'] as const).filter((k) => o[k] === undefined);
  return missing.map((k) => new OvercastError('OVC_ERR_CHANNEL_TLS_OPTIONS', `${k} is missing (the TLS files go together)`, k));
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
  // A cluster's controllers, comma-separated: one channel to each.
  const controllers = o.controller !== undefined ? o.controller.split(',').map((c, i, all) => attempt(() => parseControllerUrl(c, all.length > 1 ? `controller[${i}]` : 'controller'))) : [];
  const ports = (o.port ?? []).map((p, i) => attempt(() => parsePortSpec(p, `port[${i}]`)));
  const seen = new Set<number>();
  for (const p of ports) {
    if (!p) continue;
    if (seen.has(p.portNo)) problems.push(new OvercastError('OVC_ERR_SWITCH_BAD_OPTION', `port ${p.portNo} given twice`, 'port'));
    seen.add(p.portNo);
  }
  if (o.controller !== undefined) problems.push(...channelTlsProblems(o));
  const tableCount = o.tables !== undefined ? attempt(() => positiveInt(o.tables ?? '', 'tables')) : undefined;
  const echoIntervalMs = o.echoIntervalMs !== undefined ? attempt(() => positiveInt(o.echoIntervalMs ?? '', 'echoIntervalMs')) : undefined;
  if (o.tableMiss !== undefined && o.tableMiss !== 'controller' && o.tableMiss !== 'drop') {
    problems.push(new OvercastError('OVC_ERR_SWITCH_BAD_OPTION', 'table-miss must be controller or drop', 'tableMiss'));
  }
  if (problems.length > 0) throw OvercastError.fromProblems(problems.flatMap((e) => e.problems));
  const out: SoftSwitchOptions = { dpid: dpid as number, ports: ports.filter((p) => p !== undefined) };
  const targets = controllers.filter((c) => c !== undefined);
  if (targets.length === 1) out.controller = targets[0];
  else if (targets.length > 1) out.controllers = targets;
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
  if (o.tlsCert && o.tlsKey && o.tlsCa) {
    options.controllerTls = { cert: fs.readFileSync(o.tlsCert), key: fs.readFileSync(o.tlsKey), ca: fs.readFileSync(o.tlsCa) };
  } else if (options.controller || options.controllers) {
    logger.warn('plain TCP to the controller (--insecure-tcp): anyone on the path can read and change the channel');
  }
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
