/** ofp_port (64 bytes) and ofp_port_stats (112 bytes), OpenFlow 1.3 §7.2.1 and §7.3.5.6. */
import type { Of13PortDesc, Of13PortStats } from './messages.js';
import type { Reader, Writer } from './wire.js';

export const PORT_DESC_LEN = 64;
export const PORT_STATS_LEN = 112;
const OFP_MAX_PORT_NAME_LEN = 16;

export function writePortDesc(w: Writer, p: Of13PortDesc): void {
  w.u32(p.portNo);
  w.u32(0);
  w.u48(p.hwAddr);
  w.u16(0);
  w.fixedString(p.name, OFP_MAX_PORT_NAME_LEN);
  w.u32(p.config);
  w.u32(p.state);
  w.u32(p.curr);
  w.u32(p.advertised);
  w.u32(p.supported);
  w.u32(p.peer);
  w.u32(p.currSpeed);
  w.u32(p.maxSpeed);
}

export function readPortDesc(r: Reader): Of13PortDesc {
  const portNo = r.u32();
  r.skip(4);
  const hwAddr = r.u48();
  r.skip(2);
  const name = r.fixedString(OFP_MAX_PORT_NAME_LEN);
  return {
    portNo,
    hwAddr,
    name,
    config: r.u32(),
    state: r.u32(),
    curr: r.u32(),
    advertised: r.u32(),
    supported: r.u32(),
    peer: r.u32(),
    currSpeed: r.u32(),
    maxSpeed: r.u32(),
  };
}

const COUNTERS = [
  'rxPackets',
  'txPackets',
  'rxBytes',
  'txBytes',
  'rxDropped',
  'txDropped',
  'rxErrors',
  'txErrors',
  'rxFrameErr',
  'rxOverErr',
  'rxCrcErr',
  'collisions',
] as const;

export function writePortStats(w: Writer, s: Of13PortStats): void {
  w.u32(s.portNo);
  w.u32(0);
  for (const c of COUNTERS) w.u64(s[c]);
  w.u32(s.durationSec);
  w.u32(s.durationNsec);
}

export function readPortStats(r: Reader): Of13PortStats {
  const portNo = r.u32();
  r.skip(4);
  const counters = {} as Record<(typeof COUNTERS)[number], number>;
  for (const c of COUNTERS) counters[c] = r.u64Counter();
  return { portNo, ...counters, durationSec: r.u32(), durationNsec: r.u32() };
}
