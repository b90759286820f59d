/**
 * The softswitch's flow tables: one classifier per table, OpenFlow 1.3 flow-mod semantics (add
 * replaces an identical flow; modify and delete, strict or not, with cookie, out-port and out-group
 * filters), per-flow counters and idle/hard timeouts against an injected clock. Conjunction clause
 * flows stay out of the classifiers, in each table's ConjunctionClauses, which finishes its lookups.
 */
import { CachedClassifier, type Classifier } from '../classifier/index.js';
import { OvercastError, type ProblemDetail } from '../errors/index.js';
import type { FlowHandle } from '../flow/execute.js';
import {
  and48,
  checkFlow,
  checkMatch,
  compileMatch,
  ConjunctionClauses,
  isConjunctionClause,
  FlowIndex,
  matchCovers,
  type CompiledMatch,
  type FlowEntry,
  type FlowMod,
  type PacketKey,
} from '../flow/index.js';
import type { ClassifierFactory } from './classifier-factory.js';

export interface InstalledFlow extends FlowHandle {
  readonly id: number;
  /** Replaced as a whole by modify (instructions change; identity, cookie and timeouts stay). */
  flow: FlowEntry;
  readonly compiled: CompiledMatch;
  packets: number;
  bytes: number;
  readonly installedAtMs: number;
  lastHitMs: number;
}

export type RemovalReason = 'idleTimeout' | 'hardTimeout' | 'delete';

export interface FlowFilter {
  table?: number;
  match: CompiledMatch;
  cookie: number;
  cookieMask: number;
  outPort?: number;
  outGroup?: number;
}

export class FlowTables {
  private readonly tables: Classifier<InstalledFlow>[] = [];
  /** Per table: its conjunction clause flows and the ordinary lookup they re-run with conjId set. */
  private readonly conj: ConjunctionClauses<InstalledFlow>[] = [];
  private readonly relookups: ((key: PacketKey) => InstalledFlow | undefined)[] = [];
  /** By identity (table, priority, canonical match): FlowIndex, no string per flow. */
  private readonly byIdentity = new FlowIndex<InstalledFlow>(undefined, (x) => x.flow);
  /** Flows with an idle or hard timeout: the only ones the sweep looks at. */
  private readonly timed = new Set<InstalledFlow>();
  private nextId = 1;

  constructor(
    readonly tableCount: number,
    createClassifier: ClassifierFactory,
    private readonly now: () => number,
  ) {
    for (let t = 0; t < tableCount; t++) {
      const c = createClassifier<InstalledFlow>();
      this.tables.push(c);
      this.conj.push(new ConjunctionClauses<InstalledFlow>());
      this.relookups.push((key) => c.lookup(key)?.payload);
    }
  }

  get size(): number {
    return this.byIdentity.size;
  }

  /** The fast path: the best flow of a table for a packet key. */
  lookup(table: number, key: PacketKey): InstalledFlow | undefined {
    const c = this.tables[table];
    if (c === undefined) return undefined;
    const hard = c.lookup(key)?.payload;
    const conj = this.conj[table];
    if (conj.size === 0) return hard;
    return conj.resolve(key, hard, hard === undefined ? -1 : hard.flow.priority, this.relookups[table]);
  }

  flows(): IterableIterator<InstalledFlow> {
    return this.byIdentity.values();
  }

  /**
   * Lookups so far, summed over the tables' flow caches (counted there anyway, so free here): answered
   * by the cache, by the classifier after a cache miss, or by the classifier with the cache stepped aside.
   */
  lookupStats(): { cacheHits: number; cacheMisses: number; bypassed: number } {
    const out = { cacheHits: 0, cacheMisses: 0, bypassed: 0 };
    for (const t of this.tables) {
      if (!(t instanceof CachedClassifier)) continue;
      const s = t.stats;
      out.cacheHits += s.hits;
      out.cacheMisses += s.misses;
      out.bypassed += s.bypassed;
    }
    return out;
  }

  /** Every problem with a flow-mod, reported before anything changes (a bundle checks all first). */
  check(mod: FlowMod, path = 'flowMod'): ProblemDetail[] {
    if (mod.command === 'add' || mod.command === 'modify' || mod.command === 'modifyStrict') return checkFlow(mod.flow, this.tableCount, `${path}.flow`);
    const problems = checkMatch(mod.flow.match, `${path}.flow.match`);
    if (!mod.allTables && (!Number.isInteger(mod.flow.table) || mod.flow.table < 0 || mod.flow.table >= this.tableCount)) {
      problems.push({ code: 'OVC_ERR_FLOW_BAD_TABLE', message: `no table ${mod.flow.table}`, field: `${path}.flow.table` });
    }
    return problems;
  }

  /** Apply a flow-mod; returns the flows it removed. Throws OvercastError (OVC_ERR_FLOW_*) when invalid. */
  apply(mod: FlowMod): InstalledFlow[] {
    const problems = this.check(mod);
    if (problems.length > 0) throw OvercastError.fromProblems(problems);
    return this.applyChecked(mod);
  }

  /** Apply a flow-mod already checked with check(). */
  applyChecked(mod: FlowMod): InstalledFlow[] {
    switch (mod.command) {
      case 'add':
        return this.add(mod.flow);
      case 'modify':
      case 'modifyStrict':
        for (const f of this.select(mod, mod.command === 'modifyStrict')) this.replaceInstructions(f, mod.flow);
        return [];
      case 'delete':
      case 'deleteStrict': {
        const victims = this.select(mod, mod.command === 'deleteStrict');
        for (const f of victims) this.remove(f);
        return victims;
      }
    }
  }

  private add(flow: FlowEntry): InstalledFlow[] {
    const old = this.byIdentity.get(flow);
    if (old) this.remove(old);
    const now = this.now();
    const installed: InstalledFlow = {
      id: this.nextId++,
      flow,
      compiled: compileMatch(flow.match),
      packets: 0,
      bytes: 0,
      installedAtMs: now,
      lastHitMs: now,
    };
    this.place(installed);
    this.byIdentity.set(installed);
    if (flow.idleTimeoutSec || flow.hardTimeoutSec) this.timed.add(installed);
    // OpenFlow: an add that replaces a flow resets it; the old one is not reported as removed.
    return [];
  }

  /** Into the table's classifier, or its conjunction clauses when the flow is one. */
  private place(f: InstalledFlow): void {
    const flow = f.flow;
    if (isConjunctionClause(flow.actions)) this.conj[flow.table].add(f, flow.priority, f.compiled, flow.actions);
    else this.tables[flow.table].insert({ id: f.id, priority: flow.priority, match: f.compiled, payload: f });
  }

  private unplace(f: InstalledFlow): void {
    if (!this.conj[f.flow.table].remove(f)) this.tables[f.flow.table].remove(f.id);
  }

  private replaceInstructions(f: InstalledFlow, from: FlowEntry): void {
    const next: FlowEntry = { ...f.flow, actions: from.actions };
    if (from.gotoTable !== undefined) next.gotoTable = from.gotoTable;
    else delete next.gotoTable;
    if (from.writeMetadata !== undefined) next.writeMetadata = from.writeMetadata;
    else delete next.writeMetadata;
    if (from.meterId !== undefined) next.meterId = from.meterId;
    else delete next.meterId;
    const moves = isConjunctionClause(f.flow.actions) !== isConjunctionClause(next.actions) || isConjunctionClause(next.actions);
    if (moves) this.unplace(f);
    f.flow = next;
    if (moves) this.place(f);
  }

  private remove(f: InstalledFlow): void {
    this.unplace(f);
    this.byIdentity.delete(f.flow);
    this.timed.delete(f);
  }

  /** The flows a modify/delete names: strict = same identity; otherwise every flow the match covers. */
  private select(mod: FlowMod, strict: boolean): InstalledFlow[] {
    const filter: FlowFilter = {
      match: compileMatch(mod.flow.match),
      cookie: mod.flow.cookie,
      cookieMask: mod.cookieMask ?? 0,
      outPort: mod.outPort,
      outGroup: mod.outGroup,
    };
    if (!mod.allTables) filter.table = mod.flow.table;
    if (strict) {
      const f = this.byIdentity.get(mod.flow);
      if (f && (mod.allTables || f.flow.table === mod.flow.table) && passesFilters(f, filter)) return [f];
      if (!mod.allTables) return [];
      // Strict across all tables: the same priority and match in any table.
      return [...this.byIdentity.values()].filter(
        (g) => g.flow.priority === mod.flow.priority && sameCompiled(g.compiled, filter.match) && passesFilters(g, filter),
      );
    }
    return this.query(filter);
  }

  /** Flows in the filter's table (or all) whose match the filter covers and which pass the cookie/out filters. */
  query(filter: FlowFilter): InstalledFlow[] {
    const out: InstalledFlow[] = [];
    for (const f of this.byIdentity.values()) {
      if (filter.table !== undefined && f.flow.table !== filter.table) continue;
      if (!matchCovers(filter.match, f.compiled)) continue;
      if (!passesFilters(f, filter)) continue;
      out.push(f);
    }
    return out;
  }

  /** Remove flows whose idle or hard timeout has passed; returns them with the reason. */
  expire(): { flow: InstalledFlow; reason: RemovalReason }[] {
    const now = this.now();
    const out: { flow: InstalledFlow; reason: RemovalReason }[] = [];
    for (const f of this.timed) {
      const hard = f.flow.hardTimeoutSec ?? 0;
      const idle = f.flow.idleTimeoutSec ?? 0;
      if (hard > 0 && now - f.installedAtMs >= hard * 1000) out.push({ flow: f, reason: 'hardTimeout' });
      else if (idle > 0 && now - f.lastHitMs >= idle * 1000) out.push({ flow: f, reason: 'idleTimeout' });
    }
    for (const { flow } of out) this.remove(flow);
    return out;
  }
}

function passesFilters(f: InstalledFlow, filter: FlowFilter): boolean {
  if (filter.cookieMask !== 0 && and48(f.flow.cookie, filter.cookieMask) !== and48(filter.cookie, filter.cookieMask)) return false;
  if (filter.outPort !== undefined && !f.flow.actions.some((a) => a.type === 'output' && a.port === filter.outPort)) return false;
  if (filter.outGroup !== undefined && !f.flow.actions.some((a) => a.type === 'group' && a.groupId === filter.outGroup)) return false;
  return true;
}

function sameCompiled(a: CompiledMatch, b: CompiledMatch): boolean {
  for (let i = 0; i < a.value.length; i++) if (a.value[i] !== b.value[i] || a.mask[i] !== b.mask[i]) return false;
  return true;
}
