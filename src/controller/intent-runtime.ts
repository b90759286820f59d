/**
 * The loop that keeps switches true to the intent: every committed intent change goes through the
 * incremental compiler, and the per-switch deltas it returns go to the switches (flow-mods + barrier).
 * What the switches say of their ports (features on every (re)connect, port status) moves links
 * down/up (operational state, not stored intent; ./link-state.ts).
 */
import type { Logger } from 'pino';
import {
  createIncrementalCompiler,
  traceIntent,
  type IncrementalCompiler,
  type IntentChange,
  type IntentTrace,
  type TracePacket,
} from '../compiler/index.js';
import type { GroupEntry, MeterEntry } from '../flow/index.js';
import type { Controller, DesiredTables } from './controller.js';
import type { CommittedChange, IntentService } from './intent/index.js';
import { PortStates, linkChanges, operationalLinks } from './link-state.js';

export interface IntentRuntime {
  readonly compiler: IncrementalCompiler;
  /** A packet's path through the current tables, named by owners and endpoints. */
  trace(start: { dpid: number; inPort: number; packet: TracePacket }): IntentTrace;
  /** Resolves when every change committed so far is installed on every connected switch (barrier replies). */
  settled(): Promise<void>;
  /** Each stored link's operational state (up as configured and neither port reported down), by link id. */
  operationalLinks(): Map<string, boolean>;
  stop(): void;
}

export function toCompilerChange(c: CommittedChange): IntentChange {
  if (c.kind === 'topology') return { kind: 'topology', topology: c.topology };
  if (c.op === 'delete') return { kind: c.kind, op: 'delete', id: c.before.id };
  switch (c.kind) {
    case 'vpc':
      return { kind: 'vpc', op: c.op, vpc: c.after };
    case 'subnet':
      return { kind: 'subnet', op: c.op, subnet: c.after };
    case 'endpoint':
      return { kind: 'endpoint', op: c.op, endpoint: c.after };
    case 'elasticIp':
      return { kind: 'elasticIp', op: c.op, elasticIp: c.after };
    case 'loadBalancer':
      return { kind: 'loadBalancer', op: c.op, loadBalancer: c.after };
    case 'volume':
      return { kind: 'volume', op: c.op, volume: c.after };
    case 'attachment':
      return { kind: 'attachment', op: c.op, attachment: c.after };
    case 'securityGroup':
      return { kind: 'securityGroup', op: c.op, securityGroup: c.after };
    case 'networkAcl':
      return { kind: 'networkAcl', op: c.op, networkAcl: c.after };
  }
}

export function tablesToDesired(
  tables: ReadonlyMap<number, readonly { table: number }[]>,
  groups?: ReadonlyMap<number, readonly GroupEntry[]>,
  meters?: ReadonlyMap<number, readonly MeterEntry[]>,
): Map<number, DesiredTables> {
  return new Map(
    [...tables].map(([dpid, flows]) => [
      dpid,
      { flows: [...flows] as DesiredTables['flows'], groups: [...(groups?.get(dpid) ?? [])], meters: [...(meters?.get(dpid) ?? [])] },
    ]),
  );
}

/** What the runtime reports as it works (metrics); every member optional. */
export interface IntentRuntimeHooks {
  /** One incremental compile took `seconds` (clock: `nowMs`, default performance.now). */
  compiled?(change: IntentChange['kind'], seconds: number): void;
  nowMs?(): number;
}

export async function startIntentRuntime(intent: IntentService, controller: Controller, logger: Logger, hooks: IntentRuntimeHooks = {}): Promise<IntentRuntime> {
  const nowMs = hooks.nowMs ?? (() => performance.now());
  let compiler = createIncrementalCompiler(intent.topology.get(), intent.intent());
  await controller.setDesired(tablesToDesired(compiler.tables(), compiler.groups(), compiler.meters()));
  const pending = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };

  const push = (change: IntentChange) => {
    try {
      const started = nowMs();
      const delta = compiler.apply(change);
      hooks.compiled?.(change.kind, (nowMs() - started) / 1000);
      if (delta.size > 0) track(controller.applyDelta(delta));
    } catch (err) {
      logger.error({ err, change: change.kind }, 'incremental compile failed; recompiling everything');
      compiler = createIncrementalCompiler(intent.topology.get(), intent.intent());
      track(controller.setDesired(tablesToDesired(compiler.tables(), compiler.groups(), compiler.meters())));
    }
  };

  const ports = new PortStates();
  /** Bring the compiler's links in line with the ports' known state (after any change to either). */
  const reconcileLinks = () => {
    for (const c of linkChanges(intent.topology.get(), compiler.topology(), ports)) {
      logger.info({ link: `${c.link.switch}:${c.link.port}`, op: c.op }, 'link operational state changed; rerouting');
      push({ kind: 'link', op: c.op, link: c.link });
    }
  };

  const offIntent = intent.onChange((changes) => {
    for (const c of changes) push(toCompilerChange(c));
    // A topology change hands the compiler the stored link states: lay the ports' state over them.
    if (changes.some((c) => c.kind === 'topology')) reconcileLinks();
  });
  const offEvents = controller.events.subscribe((e) => {
    if (e.type === 'switch.connected') {
      ports.replaceSwitch(e.dpid, controller.session(e.dpid)?.connection.features.ports ?? []);
      reconcileLinks();
    } else if (e.type === 'port.status') {
      ports.set(e.dpid, e.port, e.up);
      reconcileLinks();
    }
  });

  const settled = async () => {
    while (pending.size > 0) await Promise.all([...pending]);
  };
  // The REST layer acknowledges intent changes (an elastic IP move) only once they are installed.
  intent.setSettler(settled);

  return {
    get compiler() {
      return compiler;
    },
    trace(start) {
      return traceIntent(compiler.tables(), compiler.topology(), start, {
        describeCookie: (cookie: number) => compiler.describeCookie(cookie),
        intent: compiler.intent(),
        groups: compiler.groups(),
      });
    },
    settled,
    operationalLinks: () => operationalLinks(intent.topology.get(), ports),
    stop() {
      intent.setSettler(undefined);
      offIntent();
      offEvents();
    },
  };
}
