/**
 * Frames/s through one softswitch (64 B and 1400 B frames) next to a plain node:dgram relay measured in
 * the same run, printed as a ratio. The device under test runs in its own process; this process
 * generates frames (closed loop: a fixed window of frames in flight) and counts what comes out.
 *
 *   tsx bench/switch.ts [--duration-ms 2000] [--rounds 3] [--window 256] [--rules 0] [--sizes 64,1400]
 *
 * Relay and switch runs alternate for --rounds rounds and the best of each is reported: on a shared
 * 2-core machine the other processes' load is the main noise, and it only ever slows a run down.
 * A last line gives the pipeline's own cost per frame in process (no sockets), against a key
 * extraction alone.
 *
 * The children run from an esbuild bundle of this file (dist/bench-switch.mjs), not through tsx:
 * code loaded by tsx's loader runs the datapath several times slower, which would flatter the relay.
 *
 * --rules N installs N extra non-matching rules above the forwarding rule, so a linear classifier
 * scans them all on every frame (the classifier issue compares 10 and 10k).
 *
 * The switch also runs with connection tracking in the same rounds (--ct 0 leaves it out): IP goes through
 * ct(zone=1, table=1), where a new connection from port 1 is committed and forwarded and an
 * established one forwarded (the security-group shape), and prints the ratio with/without ct
 * (docs/conntrack.md; target >= 0.8).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { createExecResult, createPipelineExecutor } from '../src/flow/execute.js';
import { CT_STATE, createPacketKey, ct, extractKey, output, type FlowEntry } from '../src/flow/index.js';
import { buildUdpFrame } from '../src/net/index.js';
import { DEFAULT_TABLE_COUNT, FlowTables, createFlowClassifier, createSoftSwitch, type InstalledFlow } from '../src/switch/index.js';

const LO = '127.0.0.1';
const RECV_BUFFER_BYTES = 4 * 1024 * 1024;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

// ---- device under test (child process) ----

async function runRelay(sinkPort: number): Promise<number> {
  const out = dgram.createSocket({ type: 'udp4', sendBufferSize: RECV_BUFFER_BYTES });
  await new Promise<void>((r) => out.bind(0, LO, r));
  await new Promise<void>((r) => out.connect(sinkPort, LO, r));
  const inp = dgram.createSocket({ type: 'udp4', recvBufferSize: RECV_BUFFER_BYTES });
  inp.on('message', (m) => out.send(m));
  inp.on('error', () => {});
  out.on('error', () => {});
  await new Promise<void>((r) => inp.bind(0, LO, r));
  return inp.address().port;
}

/** Extra rules that never match the benchmark's frames (their destination is 10.9.x.y). */
export function extraRules(n: number): FlowEntry[] {
  const rules: FlowEntry[] = [];
  for (let i = 0; i < n; i++) {
    rules.push({
      table: 0,
      priority: 200 + (i % 1000),
      match: { ethType: 0x0800, ipProto: 17, ipv4Dst: (0x0a090000 + i) >>> 0, udpDst: 1000 + (i % 5000) },
      actions: [output(2)],
      cookie: i + 1,
    });
  }
  return rules;
}

/** The stateful pipeline of --ct: track in table 0, commit new connections from port 1, pass established ones. */
export function ctRules(): FlowEntry[] {
  const { TRK, NEW, EST } = CT_STATE;
  return [
    { table: 0, priority: 100, match: { inPort: 1, ethType: 0x0800 }, actions: [ct(1, { table: 1 })], cookie: 0 },
    { table: 1, priority: 20, match: { ethType: 0x0800, inPort: 1, ctState: { value: TRK | NEW, mask: TRK | NEW } }, actions: [ct(1, { commit: true }), output(2)], cookie: 0 },
    { table: 1, priority: 10, match: { inPort: 1, ctState: { value: TRK | EST, mask: TRK | EST } }, actions: [output(2)], cookie: 0 },
  ];
}

async function runSwitch(sinkPort: number, rules: number, withCt: boolean): Promise<number> {
  const sw = createSoftSwitch(
    {
      dpid: 1,
      ports: [
        { portNo: 1, name: 'in', localHost: LO, localPort: 0 },
        { portNo: 2, name: 'out', localHost: LO, localPort: 0, peerHost: LO, peerPort: sinkPort },
      ],
      tableMiss: 'drop',
    },
    { logger: pino({ level: 'silent' }) },
  );
  await sw.start();
  for (const flow of extraRules(rules)) sw.applyFlowMod({ command: 'add', flow });
  if (withCt) for (const flow of ctRules()) sw.applyFlowMod({ command: 'add', flow });
  else sw.applyFlowMod({ command: 'add', flow: { table: 0, priority: 100, match: { inPort: 1 }, actions: [output(2)], cookie: 0 } });
  return sw.ports()[0].local.port;
}

async function child(): Promise<void> {
  const kind = arg('child', 'relay');
  if (kind === 'cost') {
    process.stdout.write(`${JSON.stringify(pipelineCost(Number(arg('rules', '0'))))}\n`);
    return;
  }
  const sinkPort = Number(arg('sink', '0'));
  const port = kind === 'relay' ? await runRelay(sinkPort) : await runSwitch(sinkPort, Number(arg('rules', '0')), kind === 'switch-ct');
  process.stdout.write(`${JSON.stringify({ port })}\n`);
  process.on('disconnect', () => process.exit(0));
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

// ---- generator and sink (this process) ----

interface Result {
  framesPerSec: number;
  lost: number;
}

async function measure(kind: 'relay' | 'switch' | 'switch-ct', size: number, durationMs: number, window: number, rules: number): Promise<Result> {
  const sink = dgram.createSocket({ type: 'udp4', recvBufferSize: RECV_BUFFER_BYTES });
  await new Promise<void>((r) => sink.bind(0, LO, r));
  const proc = spawn(process.execPath, [bundlePath, '--child', kind, '--sink', String(sink.address().port), '--rules', String(rules)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const dutPort = (await firstJsonLine<{ port: number }>(proc, kind)).port;
  const gen = dgram.createSocket({ type: 'udp4', sendBufferSize: RECV_BUFFER_BYTES });
  await new Promise<void>((r) => gen.bind(0, LO, r));
  await new Promise<void>((r) => gen.connect(dutPort, LO, r));
  const frame = benchFrame(size);

  let inflight = 0;
  let received = 0;
  let lost = 0;
  const topUp = () => {
    while (inflight < window) {
      gen.send(frame);
      inflight++;
    }
  };
  sink.on('message', () => {
    received++;
    inflight--;
    if (inflight < window / 2) topUp();
  });
  // Frames lost in a full socket buffer never come back: refill the window when progress stalls.
  let lastReceived = 0;
  const stall = setInterval(() => {
    if (received === lastReceived) {
      lost += inflight;
      inflight = 0;
      topUp();
    }
    lastReceived = received;
  }, 50);
  topUp();
  await new Promise((r) => setTimeout(r, 500)); // warm up (JIT, buffers)
  const start = received;
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, durationMs));
  const frames = received - start;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  clearInterval(stall);
  proc.stdin!.end();
  proc.kill();
  await new Promise<void>((r) => gen.close(() => r()));
  await new Promise<void>((r) => sink.close(() => r()));
  return { framesPerSec: frames / seconds, lost };
}

function benchFrame(size: number): Buffer {
  const payload = Buffer.alloc(Math.max(0, size - 42), 0xab);
  return buildUdpFrame({ srcMac: 0x020000000001, dstMac: 0x020000000002, srcIp: 0x0a000001, dstIp: 0x0a000002, srcPort: 4000, dstPort: 5000, payload });
}

/** ns per frame of fn, best of 5 batches. */
function nsPerFrame(fn: () => void, frames = 200_000): number {
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < frames; i++) fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / frames);
  }
  return best;
}

function pipelineCost(rules: number): { extract: number; pipeline: number } {
  const tables = new FlowTables(DEFAULT_TABLE_COUNT, createFlowClassifier, Date.now);
  for (const flow of extraRules(rules)) tables.apply({ command: 'add', flow });
  tables.apply({ command: 'add', flow: { table: 0, priority: 100, match: { inPort: 1 }, actions: [output(2)], cookie: 0 } });
  const exec = createPipelineExecutor<InstalledFlow>({ lookup: (t, k) => tables.lookup(t, k), ports: [1, 2], tableMiss: 'drop', tableCount: DEFAULT_TABLE_COUNT });
  const res = createExecResult<InstalledFlow>();
  const frame = benchFrame(64);
  const key = createPacketKey();
  // As many frames whatever the rule count: the classifier's lookup does not grow with the rules, and a
  // short run would time code V8 has not optimized yet (the fused lookup comes after 1024 lookups).
  const frames = 200_000;
  const extract = nsPerFrame(() => extractKey(frame, 1, 0, key), frames);
  const pipeline = nsPerFrame(() => {
    exec.run(frame, 1, res, { mutable: true });
    const m = res.matched[res.matchedCount - 1];
    m.packets++;
    m.bytes += frame.length;
  }, frames);
  return { extract, pipeline };
}

const bundlePath = fileURLToPath(new URL('../dist/bench-switch.mjs', import.meta.url));

async function bundleSelf(): Promise<void> {
  const { build } = await import('esbuild');
  await build({
    entryPoints: [fileURLToPath(import.meta.url)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile: bundlePath,
    logLevel: 'error',
  });
}

function firstJsonLine<T>(proc: ChildProcess, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)) as T);
    });
    proc.on('exit', (code) => reject(new Error(`${what} exited ${code}`)));
  });
}

async function main(): Promise<void> {
  await bundleSelf();
  const durationMs = Number(arg('duration-ms', '2000'));
  const rounds = Number(arg('rounds', '3'));
  const window = Number(arg('window', '256'));
  const rules = Number(arg('rules', '0'));
  const sizes = arg('sizes', '64,1400').split(',').map(Number);
  const withCt = arg('ct', '1') === '1';
  console.log(`softswitch vs plain dgram relay (${durationMs} ms per run, best of ${rounds}, window ${window}, ${rules} extra rules)`);
  console.log('size   relay frames/s   switch frames/s   switch/relay');
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(15);
  for (const size of sizes) {
    let relay = 0;
    let sw = 0;
    let swCt = 0;
    for (let r = 0; r < rounds; r++) {
      relay = Math.max(relay, (await measure('relay', size, durationMs, window, 0)).framesPerSec);
      sw = Math.max(sw, (await measure('switch', size, durationMs, window, rules)).framesPerSec);
      if (withCt) swCt = Math.max(swCt, (await measure('switch-ct', size, durationMs, window, rules)).framesPerSec);
    }
    console.log(`${String(size).padStart(4)} B ${fmt(relay)}   ${fmt(sw)}   ${(sw / relay).toFixed(2).padStart(12)}`);
    if (withCt) console.log(`       with ct:        ${fmt(swCt)}   with/without ct ${(swCt / sw).toFixed(2)} (target >= 0.80)`);
  }
  const costProc = spawn(process.execPath, [bundlePath, '--child', 'cost', '--rules', String(rules)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const cost = await firstJsonLine<{ extract: number; pipeline: number }>(costProc, 'cost');
  console.log(`in process, 64 B frame: extractKey ${cost.extract.toFixed(0)} ns, whole pipeline ${cost.pipeline.toFixed(0)} ns (x${(cost.pipeline / cost.extract).toFixed(1)})`);
}

// Run only as a script (or as the bundled child), so other benchmarks can import extraRules.
if (process.argv.includes('--child')) await child();
else if (process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === import.meta.url) await main();

