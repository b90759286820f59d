/**
 * Flow push rate into a real Open vSwitch bridge (needs root and openvswitch-switch): the time from
 * the first flow-mod to the barrier reply, for 10k and 100k flows, four ways in the same run:
 *
 *   ours, batch     Of13Connection.sendFlowMods, large corked writes of plain FLOW_MODs, then barrier
 *   ours, bundle    the same inside one atomic ONF bundle (open, adds, commit), then barrier
 *   ofctl           `ovs-ofctl -O OpenFlow13 add-flows BR FILE` (same flows as text; it ends with a barrier)
 *   ofctl --bundle  `ovs-ofctl -O OpenFlow13 --bundle add-flows BR FILE`
 *
 *   npx tsx bench/ovs-push.ts [--sizes 10000,100000] [--rounds 3]
 *
 * The bridge is emptied (del-flows + barrier) before each run; runs alternate and the best of
 * --rounds is reported (on a shared 2-core machine load only ever slows a run down). Ratios are
 * against `ovs-ofctl add-flows`. The flows look like a fabric's: per-host port security in INGRESS
 * (in_port, eth_src, ipv4_src -> goto), ARP responder rewrites in ARP, eth_dst -> output in FORWARD.
 */
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { startOvs } from '../src/lab/lab-ovs.js';
import { Of13Connection, ofctlFlow } from '../src/controller/openflow13/index.js';
import { copyField, output, PORT, setField, TABLE, type FlowEntry, type FlowMod } from '../src/flow/index.js';
import { of13 } from '../src/protocol/index.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

const ETH_TYPE_IPV4 = 0x0800;
const ETH_TYPE_ARP = 0x0806;
const PORTS = 8;

/** `n` distinct fabric-like flows. */
export function benchFlows(n: number): FlowEntry[] {
  const flows: FlowEntry[] = [];
  for (let i = 0; flows.length < n; i++) {
    const mac = 0x020000000000 + i;
    const ip = (0x0a000000 + i) >>> 0;
    const port = 1 + (i % PORTS);
    const cookie = 0x1000 + i;
    flows.push({ table: TABLE.FORWARD, priority: 100, match: { ethDst: mac }, actions: [output(port)], cookie });
    if (flows.length < n) {
      flows.push({ table: TABLE.INGRESS, priority: 100, match: { inPort: port, ethSrc: mac, ethType: ETH_TYPE_IPV4, ipv4Src: ip }, actions: [], gotoTable: TABLE.FORWARD, cookie });
    }
    if (flows.length < n) {
      flows.push({
        table: TABLE.ARP,
        priority: 100,
        match: { ethType: ETH_TYPE_ARP, arpOp: 1, arpTpa: ip },
        actions: [copyField('ethSrc', 'ethDst'), setField('ethSrc', mac), setField('arpOp', 2), copyField('arpSha', 'arpTha'), setField('arpSha', mac), copyField('arpSpa', 'arpTpa'), setField('arpSpa', ip), output(PORT.IN_PORT)],
        cookie,
      });
    }
  }
  return flows;
}

async function main(): Promise<void> {
  const sizes = arg('sizes', '10000,100000').split(',').map(Number);
  const rounds = Number(arg('rounds', '3'));
  const logger = pino({ level: 'warn' });
  const ovs = await startOvs();
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const connected = new Promise<net.Socket>((r) => server.once('connection', r));
  await ovs.addBridge('br0', { ports: PORTS, datapathId: 1n, controller: `tcp:127.0.0.1:${port}` });
  const conn = new Of13Connection(await connected, logger, {});
  await conn.handshake();

  const ofctl = (...a: string[]) => ovs.ofctl('-O', 'OpenFlow13', ...a);
  const countFlows = async () => (await ofctl('dump-aggregate', 'br0')).match(/flow_count=(\d+)/)?.[1];
  const clear = async () => {
    await ofctl('del-flows', 'br0');
    await conn.barrier();
  };

  console.log(`Open vSwitch ${(await ovs.vsctl('--version')).split('\n')[0].split(' ').pop()}, userspace datapath, one bridge; best of ${rounds}`);
  for (const n of sizes) {
    const flows = benchFlows(n);
    const mods: FlowMod[] = flows.map((flow) => ({ command: 'add', flow }));
    const file = join(ovs.dir, `flows-${n}.txt`);
    writeFileSync(file, flows.map(ofctlFlow).join('\n') + '\n');
    const encStart = performance.now();
    of13.encodeFlowModsBatch(mods, 1);
    const encodeMs = performance.now() - encStart;

    const ways: { name: string; run: () => Promise<void> }[] = [
      {
        name: 'ours, batch',
        run: async () => {
          conn.sendFlowMods(mods, { bundle: false });
          await conn.barrier();
        },
      },
      {
        name: 'ours, bundle',
        run: async () => {
          conn.sendFlowMods(mods, { bundle: true });
          await conn.barrier();
        },
      },
      { name: 'ovs-ofctl add-flows', run: async () => void (await ofctl('add-flows', 'br0', file)) },
      { name: 'ovs-ofctl --bundle add-flows', run: async () => void (await ofctl('--bundle', 'add-flows', 'br0', file)) },
    ];
    const best = new Map<string, number>();
    for (let r = 0; r < rounds; r++) {
      for (const w of ways) {
        await clear();
        const t0 = performance.now();
        await w.run();
        const ms = performance.now() - t0;
        const installed = Number(await countFlows());
        if (installed !== n) throw new Error(`${w.name}: ${installed} flows installed, expected ${n}`);
        best.set(w.name, Math.min(best.get(w.name) ?? Infinity, ms));
      }
    }
    const base = best.get('ovs-ofctl add-flows') as number;
    console.log(`\n${n} flows (encoding them alone: ${encodeMs.toFixed(0)} ms, ${Math.round(n / (encodeMs / 1000))} flows/s)`);
    for (const w of ways) {
      const ms = best.get(w.name) as number;
      console.log(`  ${w.name.padEnd(30)} ${ms.toFixed(0).padStart(6)} ms  ${String(Math.round(n / (ms / 1000))).padStart(7)} flows/s  x${(base / ms).toFixed(2)} vs ovs-ofctl`);
    }
  }
  conn.close();
  server.close();
  await ovs.stop();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
