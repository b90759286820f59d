/**
 * Verdicts with groups, for the intent differential test. Select groups make the verdict a choice:
 * the softswitch picks a bucket by Maglev over its flow hash, Open vSwitch by its own hash (dp_hash
 * with recirculation by default since OVS 2.10). So each side is asked per bucket:
 *   ours:  the executor with one select group pinned to one bucket (every bucket in turn), and the
 *          executor's own, unpinned choice;
 *   OVS:   `ofproto/trace` with a preset dp_hash (which selects the bucket in the same pass instead of
 *          recirculating), over dp_hash values until every bucket of the group has been reported
 *          ("-> using bucket N").
 * A select verdict agrees when OVS's verdict for bucket N equals ours for bucket N, every bucket OVS
 * can take is one we could take, and our own choice is one of them.
 */
import { LinearClassifier } from '../../../src/classifier/index.js';
import { createExecResult, createPipelineExecutor, type FlowHandle, type TraceStep } from '../../../src/flow/execute.js';
import { compileMatch, PIPELINE, TABLE_COUNT, type Bucket, type FlowEntry, type GroupEntry } from '../../../src/flow/index.js';
import { frameFields, ovsVerdict, splitTopLevel, type Verdict } from './verdict.js';

/** The same order as verdict.ts gives OVS's verdicts, so JSON comparison is exact. */
function sortOutputs(v: Verdict): Verdict {
  const rank = (p: number | 'controller') => (p === 'controller' ? Infinity : p);
  v.outputs.sort((a, b) => rank(a.port) - rank(b.port) || JSON.stringify(a.changed).localeCompare(JSON.stringify(b.changed)));
  return v;
}

function changed(frame: Uint8Array, inPort: number, before: ReturnType<typeof frameFields>): Verdict['outputs'][number]['changed'] {
  const now = frameFields(frame, inPort);
  const out: Verdict['outputs'][number]['changed'] = {};
  for (const f of Object.keys(now) as (keyof typeof now)[]) if (now[f] !== before[f]) out[f] = now[f];
  return out;
}

export interface GroupJudgement {
  /** The executor's own verdict (its Maglev choice for select groups). */
  verdict: Verdict;
  /** Select groups the frame went through, with the bucket the executor chose. */
  selects: { groupId: number; bucket: number; buckets: number }[];
}

export interface GroupJudge {
  judge(frame: Uint8Array, inPort: number): GroupJudgement;
  /** The verdict with select group `groupId` forced to bucket `bucket`. */
  pinned(frame: Uint8Array, inPort: number, groupId: number, bucket: number): Verdict;
}

export function createGroupJudge(flows: readonly FlowEntry[], groups: readonly GroupEntry[], ports: readonly number[]): GroupJudge {
  const byTable = new Map<number, LinearClassifier<FlowHandle>>();
  flows.forEach((flow, id) => {
    let c = byTable.get(flow.table);
    if (!c) byTable.set(flow.table, (c = new LinearClassifier<FlowHandle>()));
    c.insert({ id, priority: flow.priority, match: compileMatch(flow.match), payload: { flow } });
  });
  const byId = new Map(groups.map((g) => [g.groupId, g]));
  let pin: { groupId: number; group: GroupEntry } | undefined;
  const exec = createPipelineExecutor({
    lookup: (table, key) => byTable.get(table)?.lookup(key)?.payload,
    group: (id) => (pin?.groupId === id ? pin.group : byId.get(id)),
    ports,
    tableMiss: (table) => PIPELINE[table]?.miss ?? 'drop',
    tableCount: TABLE_COUNT,
  });
  const run = (frame: Uint8Array, inPort: number, trace?: TraceStep[]): Verdict => {
    const before = frameFields(frame, inPort);
    const r = exec.run(frame, inPort, createExecResult(), trace ? { trace } : {});
    const outputs: Verdict['outputs'] = [];
    for (let i = 0; i < r.outCount; i++) outputs.push({ port: r.outPorts[i], changed: changed(r.outFrames[i], inPort, before) });
    for (const p of r.packetIns) outputs.push({ port: 'controller', changed: changed(p.frame, inPort, before) });
    return sortOutputs({ outputs });
  };
  return {
    judge(frame, inPort) {
      const trace: TraceStep[] = [];
      const verdict = run(frame, inPort, trace);
      const selects = trace.flatMap((s) =>
        s.kind === 'group' && s.type === 'select' ? [{ groupId: s.groupId, bucket: s.bucket, buckets: byId.get(s.groupId)?.buckets.length ?? 0 }] : [],
      );
      return { verdict, selects };
    },
    pinned(frame, inPort, groupId, bucket) {
      const g = byId.get(groupId);
      if (!g) throw new Error(`no group ${groupId}`);
      // A select group of that one bucket: the same actions, no choice left, and a bucket that
      // recirculates (a ct with a table: a load balancer's local backend) still does.
      pin = { groupId, group: { ...g, buckets: [{ ...g.buckets[bucket], weight: Math.max(1, g.buckets[bucket].weight ?? 1) }] } };
      try {
        return run(frame, inPort);
      } finally {
        pin = undefined;
      }
    },
  };
}

/** OFPR_INVALID_TTL in the userspace(controller(reason=...)) action of a dec_ttl exception. */
const REASON_INVALID_TTL = 2;

/**
 * The trace with dec_ttl exceptions' packet-ins taken out of "Datapath actions", and how many there
 * were. OVS turns a TTL that runs out into a packet-in with reason OFPR_INVALID_TTL, but its default
 * asynchronous configuration for OpenFlow 1.3 leaves that reason out and Overcast never sends
 * SET_ASYNC, so no controller receives it: for the network it is a drop, which is what the executor
 * does (drop reason ttlExpired). The live test checks the "nobody receives it" part with a real frame.
 */
export function withoutInvalidTtl(trace: string): { trace: string; invalidTtl: number } {
  let invalidTtl = 0;
  const lines = trace.split('\n').map((l) => {
    if (!l.startsWith('Datapath actions:')) return l;
    const kept = splitTopLevel(l.slice('Datapath actions:'.length).trim()).filter((a) => {
      // Plain, or through the controller meter: sample(sample=100.0%,actions(meter(N),userspace(...))).
      const toController = a.startsWith('userspace(') || a.startsWith('sample(sample=100.0%,actions(meter(');
      const ttl = toController && new RegExp(`controller\\(reason=${REASON_INVALID_TTL},`).test(a);
      if (ttl) invalidTtl++;
      return !ttl;
    });
    return `Datapath actions: ${kept.length > 0 ? kept.join(',') : 'drop'}`;
  });
  return { trace: lines.join('\n'), invalidTtl };
}

/**
 * Why a bucket is NOT order-free, or undefined when it is. OVS applies an OpenFlow 1.3 bucket's
 * actions as an action SET (push_vlan, then dec_ttl, then the set_fields, then output: the spec's
 * action-set order), the executor as a LIST. The two agree when no kind of action repeats (set_field
 * per field), output (or a load balancer's recirculating ct) comes last, a VLAN id is only set after a push, and an MPLS label only after a
 * push_mpls, with no IPv4 set-field or dec_ttl beside it (they would land on the label stack).
 */
export function bucketOrderProblem(b: Bucket): string | undefined {
  const seen = new Set<string>();
  let pushed = false;
  const mpls = b.actions.some((a) => a.type === 'pushMpls');
  let pushedMpls = false;
  for (const [i, a] of b.actions.entries()) {
    const kind = a.type === 'setField' ? `setField:${a.field}` : a.type;
    if (seen.has(kind)) return `${kind} twice`;
    seen.add(kind);
    if (a.type === 'copyField') return 'copyField has no action-set slot';
    if (a.type === 'output' && i !== b.actions.length - 1) return 'output before the end';
    if (a.type === 'ct' && i !== b.actions.length - 1) return 'ct before the end';
    if (a.type === 'pushVlan') pushed = true;
    if (a.type === 'setField' && a.field === 'vlanVid' && !pushed) return 'vlan id set before the push';
    if (a.type === 'pushMpls') pushedMpls = true;
    if (a.type === 'setField' && a.field === 'mplsLabel' && !pushedMpls) return 'mpls label set before the push';
    if (mpls && (a.type === 'decTtl' || (a.type === 'setField' && !a.field.startsWith('eth') && !a.field.startsWith('mpls')))) {
      return `${a.type === 'setField' ? a.field : a.type} beside a push_mpls`;
    }
  }
  return undefined;
}

/** Does OVS's first pass stop at a select group's hash-and-recirculate? */
export function recirculates(trace: string): boolean {
  const line = trace.split('\n').find((l) => l.startsWith('Datapath actions:')) ?? '';
  return /\brecirc\(/.test(line);
}

/** The buckets OVS reports choosing ("-> using bucket N"), in trace order. */
export function ovsBuckets(trace: string): number[] {
  return [...trace.matchAll(/-> using bucket (\d+)/g)].map((m) => Number(m[1]));
}

export interface OvsSelectVerdicts {
  /** OVS's verdict per bucket it took. */
  byBucket: Map<number, Verdict>;
  /** dp_hash values traced. */
  traces: number;
}

/**
 * OVS's verdicts over the buckets of a select group: `trace(dpHash)` runs `ofproto/trace` with that
 * dp_hash preset. Stops once `buckets` distinct buckets were seen, or after 64 values (OVS's dp_hash
 * table has at most 64 slots, so 1..64 reach every slot). Throws if one bucket yields two verdicts.
 */
export async function ovsSelectVerdicts(
  trace: (dpHash: number) => Promise<string>,
  input: ReturnType<typeof frameFields>,
  odpToOf: Map<number, number>,
  buckets: number,
): Promise<OvsSelectVerdicts> {
  const byBucket = new Map<number, Verdict>();
  let traces = 0;
  for (let h = 1; h <= 64 && byBucket.size < buckets; h++) {
    const text = await trace(h);
    traces++;
    const used = ovsBuckets(text);
    if (used.length !== 1) throw new Error(`expected one select bucket in the trace, got [${used.join(',')}]:\n${text}`);
    const v = ovsVerdict(text, input, odpToOf);
    const seen = byBucket.get(used[0]);
    if (seen && JSON.stringify(seen) !== JSON.stringify(v)) throw new Error(`bucket ${used[0]} gave two verdicts under different dp_hash`);
    byBucket.set(used[0], v);
  }
  return { byBucket, traces };
}
