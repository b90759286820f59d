/**
 * The same behaviour at the byte level, through the shared pipeline executor (src/flow/execute.ts):
 * real frames built by src/net go switch to switch over the topology's links. Independent of the
 * key-only walker: an ARP request must come back as the exact bytes of the reply src/net builds.
 */
import { describe, expect, it } from 'vitest';
import { LinearClassifier } from '../../src/classifier/index.js';
import { compileFabric } from '../../src/compiler/index.js';
import { compileMatch, PIPELINE, TABLE_COUNT, type FlowEntry } from '../../src/flow/index.js';
import { createExecResult, createPipelineExecutor, type FlowHandle, type PipelineExecutor } from '../../src/flow/execute.js';
import { buildTopologyGraph, neighbourOnPort, type HostSpec } from '../../src/model/index.js';
import { buildArpReply, buildArpRequest } from '../../src/net/packet/arp.js';
import { buildUdpFrame } from '../../src/net/packet/udp.js';
import { loadShipped } from '../model/helpers.js';

function fabricRunner(file: string) {
  const t = loadShipped(file);
  const graph = buildTopologyGraph(t);
  const tables = compileFabric(t, graph);
  const executors = new Map<string, PipelineExecutor>();
  for (const sw of t.switches) {
    const byTable = new Map<number, LinearClassifier<FlowHandle>>();
    (tables.get(sw.dpid) ?? []).forEach((flow: FlowEntry, id) => {
      let c = byTable.get(flow.table);
      if (!c) byTable.set(flow.table, (c = new LinearClassifier<FlowHandle>()));
      c.insert({ id, priority: flow.priority, match: compileMatch(flow.match), payload: { flow } });
    });
    executors.set(
      sw.name,
      createPipelineExecutor({
        lookup: (table, key) => byTable.get(table)?.lookup(key)?.payload,
        ports: sw.ports.map((p) => p.number),
        tableMiss: (table) => PIPELINE[table]?.miss ?? 'drop',
        tableCount: TABLE_COUNT,
      }),
    );
  }
  /** Sends `frame` from host `from`; returns what each host received. */
  return {
    t,
    send(from: HostSpec, frame: Uint8Array): { host: string; frame: Uint8Array }[] {
      const received: { host: string; frame: Uint8Array }[] = [];
      const queue = [{ sw: from.attach.switch, port: from.attach.port, frame }];
      for (let hops = 0; queue.length > 0; hops++) {
        if (hops > 64) throw new Error('forwarding loop');
        const { sw, port, frame: f } = queue.shift() as (typeof queue)[number];
        const result = (executors.get(sw) as PipelineExecutor).run(f, port, createExecResult());
        result.outPorts.forEach((out, i) => {
          const frameOut = Uint8Array.from(result.outFrames[i]);
          const n = neighbourOnPort(graph, sw, out);
          if (n?.kind === 'host') received.push({ host: n.host.name, frame: frameOut });
          else if (n?.kind === 'switch') queue.push({ sw: n.switch, port: n.port, frame: frameOut });
        });
      }
      return received;
    },
  };
}

describe.each(['demo.yaml', 'leaf-spine.yaml'])('%s: frames through the pipeline executor', (file) => {
  const { t, send } = fabricRunner(file);
  const pairs = t.hosts.flatMap((a) => t.hosts.filter((b) => b !== a).map((b) => [a, b] as const));

  it('a UDP frame reaches exactly its destination, byte for byte', () => {
    for (const [a, b] of pairs) {
      const frame = buildUdpFrame({ srcMac: a.mac, dstMac: b.mac, srcIp: a.ip, dstIp: b.ip, srcPort: 40000, dstPort: 7, payload: Buffer.from('hi') });
      expect(send(a, frame)).toEqual([{ host: b.name, frame: Uint8Array.from(frame) }]);
    }
  });

  it('an ARP request comes back to the asker as the exact reply bytes', () => {
    for (const [a, b] of pairs) {
      const request = buildArpRequest({ srcMac: a.mac, srcIp: a.ip, targetIp: b.ip });
      const reply = buildArpReply({ srcMac: b.mac, srcIp: b.ip, dstMac: a.mac, dstIp: a.ip });
      expect(send(a, request)).toEqual([{ host: a.name, frame: Uint8Array.from(reply) }]);
    }
  });

  it('a spoofed frame reaches nobody', () => {
    const [a, b, c] = t.hosts;
    expect(send(a, buildUdpFrame({ srcMac: b.mac, dstMac: c.mac, srcIp: a.ip, dstIp: c.ip, srcPort: 1, dstPort: 2 }))).toEqual([]);
    expect(send(a, buildArpRequest({ srcMac: a.mac, srcIp: b.ip, targetIp: c.ip }))).toEqual([]);
  });
});
