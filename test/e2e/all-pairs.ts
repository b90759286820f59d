/**
 * Every ordered host pair exchanges UDP through the lab: each sender sends one datagram per
 * destination carrying a payload that names the pair; then every host must hold exactly the payloads
 * addressed to it, intact, with valid checksums.
 */
import { expect } from 'vitest';
import type { LabHandle } from '../../src/lab/index.js';
import { notYet, post, received, waitFor } from './lab-client.js';

export async function expectAllPairsExchangeUdp(lab: LabHandle, dstPort = 5001): Promise<number> {
  const hosts = lab.plan.hosts;
  for (const h of hosts) await received(lab.hostUrl(h.name));
  await Promise.all(
    hosts.map(async (src) => {
      for (const dst of hosts) {
        if (dst === src) continue;
        await post(`${lab.hostUrl(src.name)}/udp`, {
          dst: dst.ip.split('/')[0],
          srcPort: 40000,
          dstPort,
          payload: `${src.name}->${dst.name}`,
        });
      }
    }),
  );
  let pairs = 0;
  for (const dst of hosts) {
    const want = hosts.filter((s) => s !== dst).map((s) => `${s.name}->${dst.name}`).sort();
    const got = await waitFor(`all datagrams at ${dst.name}`, async () => {
      const list = await received(lab.hostUrl(dst.name), false);
      return list.length >= want.length ? list : notYet(list.map((d) => Buffer.from(d.payloadHex, 'hex').toString()));
    });
    const payloads = got.map((d) => Buffer.from(d.payloadHex, 'hex').toString()).sort();
    expect(payloads).toEqual(want);
    expect(got.every((d) => d.checksumsOk && d.dstPort === dstPort)).toBe(true);
    pairs += want.length;
  }
  return pairs;
}
