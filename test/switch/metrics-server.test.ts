/**
 * The softswitch's metrics listener: a real softswitch (no controller) with two UDP ports, frames
 * forwarded and dropped, and GET /metrics on port 0 showing them by port, by drop reason, flows and
 * lookups.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { output } from '../../src/flow/index.js';
import { buildUdpFrame } from '../../src/net/index.js';
import { createSoftSwitch, startSwitchMetricsServer, type SoftSwitch, type SwitchMetricsServer } from '../../src/switch/index.js';
import { notYet, waitFor } from '../support/wait-for.js';
import { startHost, type TestHost } from './udp-hosts.js';

const frame = buildUdpFrame({ srcMac: 0x020000000001, dstMac: 0x020000000002, srcIp: 0x0a000001, dstIp: 0x0a000002, srcPort: 1000, dstPort: 53, payload: Buffer.from('ping') });

describe('softswitch metrics listener', () => {
  let sw: SoftSwitch;
  let a: TestHost;
  let b: TestHost;
  let server: SwitchMetricsServer;

  beforeAll(async () => {
    a = await startHost();
    b = await startHost();
    sw = createSoftSwitch(
      {
        dpid: 9,
        ports: [
          { portNo: 1, name: 'a', localHost: '127.0.0.1', localPort: 0, peerHost: '127.0.0.1', peerPort: a.port },
          { portNo: 2, name: 'b', localHost: '127.0.0.1', localPort: 0, peerHost: '127.0.0.1', peerPort: b.port },
        ],
        tableMiss: 'drop',
        sweepIntervalMs: 60_000,
      },
      { logger: pino({ level: 'silent' }) },
    );
    await sw.start();
    sw.applyFlowMod({ command: 'add', flow: { table: 0, priority: 10, match: { inPort: 1 }, actions: [output(2)], cookie: 1 } });
    server = await startSwitchMetricsServer(sw, { host: '127.0.0.1', port: 0 });
  });

  afterAll(async () => {
    await server?.close();
    await sw?.stop();
    await a?.close();
    await b?.close();
  });

  it('listens on the port it was given (0: a free one) and serves only /metrics', async () => {
    expect(server.port).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);
  });

  it('counts frames by port and drops by reason, with flows and lookups', async () => {
    const port1 = sw.ports()[0].local.port;
    const port2 = sw.ports()[1].local.port;
    a.send(frame, port1); // forwarded to port 2
    b.send(frame, port2); // no flow: a table miss, dropped
    const text = await waitFor('both frames counted', async () => {
      const body = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      return /overcast_softswitch_port_packets_total\{port="2",direction="tx"\} 1/.test(body) && /overcast_softswitch_port_dropped_packets_total\{port="2",direction="rx"\} 1/.test(body)
        ? body
        : notYet(body.split('\n').filter((l) => l.startsWith('overcast_softswitch_port')));
    });
    expect(text).toMatch(/^overcast_softswitch_port_packets_total\{port="1",direction="rx"\} 1$/m);
    expect(text).toMatch(/^overcast_softswitch_port_bytes_total\{port="1",direction="rx"\} \d{2,}$/m);
    expect(text).toMatch(/^overcast_softswitch_dropped_packets_total\{reason="[a-zA-Z]+"\} 1$/m);
    expect(text).toMatch(/^overcast_softswitch_flows 1$/m);
    expect(text).toMatch(/^overcast_softswitch_lookups_total\{path="(cache|classifier)"\} [1-9]/m);
    expect(text).toMatch(/^overcast_softswitch_controller_connected 0$/m);
    expect(text).toMatch(/^# TYPE overcast_softswitch_packet_ins_total counter$/m);
  });
});
