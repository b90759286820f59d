/**
 * What the page shows, from what the REST API says: switches, links with their state and rates, hosts
 * and endpoints grouped by VPC, and a trace as the nodes and edges it crosses. Pure (no DOM), so it is
 * tested under Node like the rest.
 */
export interface PagePortRef {
  switch: string;
  port: number;
}
export interface PageTopology {
  name: string;
  switches: { name: string; dpid: number }[];
  links: { a: PagePortRef; b: PagePortRef; up: boolean }[];
  hosts: { name: string; mac: string; ip: string; attach: PagePortRef }[];
}
export interface PageSwitch {
  dpid: number;
  connected: boolean;
  channel?: string;
  desiredFlows: number;
  installedFlows: number;
  ports?: { number: number; up: boolean }[];
}
export interface PageVpc {
  id: string;
  name: string;
  cidr: string;
}
export interface PageEndpoint {
  id: string;
  kind: string;
  vpc: string;
  dpid: number;
  port: number;
  ip: string;
  labels: Record<string, string>;
}
export interface PageRate {
  packetsPerSecond: number;
  bytesPerSecond: number;
}
export interface PageLinkStats {
  id: string;
  up: boolean;
  aToB?: PageRate;
  bToA?: PageRate;
}

export interface ViewSwitch {
  id: string;
  name: string;
  dpid: number;
  connected: boolean;
  /** "40/40 flows" (desired/installed). */
  flows: string;
}
export interface ViewLink {
  id: string;
  /** The link's id in the API (`s1:2~s2:1`). */
  linkId: string;
  source: string;
  target: string;
  label: string;
  up: boolean;
  /** Why it is down: "set down", "port down". */
  why?: string;
  packetsPerSecond?: number;
}
export interface ViewMember {
  id: string;
  label: string;
  kind: 'host' | 'endpoint';
  /** The switch node it hangs from. */
  switchId: string;
  port: number;
  ip: string;
  /** What a trace calls it: endpoint id or host name. */
  name: string;
}
export interface ViewGroup {
  /** VPC id, or '' for the topology's own hosts (the underlay). */
  vpc: string;
  title: string;
  members: ViewMember[];
}
export interface View {
  name: string;
  switches: ViewSwitch[];
  links: ViewLink[];
  groups: ViewGroup[];
}

export const switchNodeId = (name: string) => `sw:${name}`;
export const attachEdgeId = (memberId: string) => `att:${memberId}`;

/** The API's link id: both ends sorted by switch name, then port (`leaf1:5~spine1:1`). */
export function linkIdOf(a: PagePortRef, b: PagePortRef): string {
  const first = a.switch !== b.switch ? a.switch < b.switch : a.port <= b.port;
  const [x, y] = first ? [a, b] : [b, a];
  return `${x.switch}:${x.port}~${y.switch}:${y.port}`;
}

/** Below this a link counts as idle (health probes and keepalives aside). */
const IDLE_PPS = 0.05;

export function rateText(pps: number | undefined): string {
  if (pps === undefined) return '';
  if (pps < IDLE_PPS) return 'idle';
  if (pps >= 1e6) return `${(pps / 1e6).toFixed(1)} Mpkt/s`;
  if (pps >= 1e3) return `${(pps / 1e3).toFixed(1)} kpkt/s`;
  return `${pps < 10 ? pps.toFixed(1) : Math.round(pps)} pkt/s`;
}

export function buildView(t: PageTopology, switches: PageSwitch[], vpcs: PageVpc[], endpoints: PageEndpoint[], stats: PageLinkStats[] = []): View {
  const status = new Map(switches.map((s) => [s.dpid, s]));
  const dpidOf = new Map(t.switches.map((s) => [s.name, s.dpid]));
  const nameOf = new Map(t.switches.map((s) => [s.dpid, s.name]));
  const statsOf = new Map(stats.map((l) => [l.id, l]));
  const portDown = (end: PagePortRef) => {
    const s = status.get(dpidOf.get(end.switch) ?? -1);
    return s?.connected === true && s.ports?.find((p) => p.number === end.port)?.up === false;
  };
  const links = t.links.map((l): ViewLink => {
    const linkId = linkIdOf(l.a, l.b);
    const st = statsOf.get(linkId);
    const why = !l.up ? 'set down' : portDown(l.a) || portDown(l.b) || st?.up === false ? 'port down' : undefined;
    const pps = st?.aToB || st?.bToA ? (st.aToB?.packetsPerSecond ?? 0) + (st.bToA?.packetsPerSecond ?? 0) : undefined;
    const up = why === undefined;
    return {
      id: `link:${linkId}`,
      linkId,
      source: switchNodeId(l.a.switch),
      target: switchNodeId(l.b.switch),
      label: up ? rateText(pps) : 'down',
      up,
      ...(why ? { why } : {}),
      ...(pps !== undefined ? { packetsPerSecond: pps } : {}),
    };
  });
  const viewSwitches = t.switches.map((s): ViewSwitch => {
    const st = status.get(s.dpid);
    return { id: switchNodeId(s.name), name: s.name, dpid: s.dpid, connected: st?.connected ?? false, flows: st ? `${st.desiredFlows}/${st.installedFlows} flows` : 'unknown' };
  });
  const groups: ViewGroup[] = [];
  if (t.hosts.length > 0) {
    groups.push({
      vpc: '',
      title: 'Hosts (underlay)',
      members: t.hosts.map((h) => ({ id: `host:${h.name}`, label: `${h.name}\n${h.ip}`, kind: 'host', switchId: switchNodeId(h.attach.switch), port: h.attach.port, ip: h.ip, name: h.name })),
    });
  }
  for (const v of vpcs) {
    const members = endpoints
      .filter((e) => e.vpc === v.id)
      .map((e): ViewMember => {
        const fn = e.labels.function;
        return {
          id: `ep:${e.id}`,
          label: `${e.id}${fn ? ` (${fn})` : ''}\n${e.ip}`,
          kind: 'endpoint',
          switchId: switchNodeId(nameOf.get(e.dpid) ?? String(e.dpid)),
          port: e.port,
          ip: e.ip,
          name: e.id,
        };
      });
    groups.push({ vpc: v.id, title: `VPC ${v.name} (${v.id}, ${v.cidr})`, members });
  }
  return { name: t.name, switches: viewSwitches, links, groups };
}

type Target = { kind: 'switch'; switch: string; port: number } | { kind: 'host'; host: string } | { kind: 'endpoint'; endpoint: string } | { kind: 'port' };
export interface PageTrace {
  from: { kind: string; name: string };
  to: { kind: string; name: string; ip: string };
  trace: {
    hops: { switch: string; inPort: number; outputs: { port: number; to: Target }[]; drop?: string }[];
    exits: { switch: string; port: number; to: Target }[];
    drops: { switch: string; reason: string; table?: string }[];
    truncated: boolean;
  };
}

const memberOf = (t: Target): string | undefined => (t.kind === 'endpoint' ? `ep:${t.endpoint}` : t.kind === 'host' ? `host:${t.host}` : undefined);

/** The nodes and edges a trace crosses, and its story in steps. */
export function tracePath(r: PageTrace): { nodes: string[]; edges: string[]; steps: string[] } {
  const source = r.from.kind === 'endpoint' ? `ep:${r.from.name}` : `host:${r.from.name}`;
  const nodes = new Set([source]);
  const edges = new Set([attachEdgeId(source)]);
  const steps: string[] = [`from ${r.from.kind} ${r.from.name}`];
  for (const hop of r.trace.hops) {
    nodes.add(switchNodeId(hop.switch));
    steps.push(`${hop.switch} (in ${hop.inPort}, out ${hop.outputs.map((o) => o.port).join(',') || '-'})`);
    for (const o of hop.outputs) {
      if (o.to.kind === 'switch') edges.add(`link:${linkIdOf({ switch: hop.switch, port: o.port }, { switch: o.to.switch, port: o.to.port })}`);
      const m = memberOf(o.to);
      if (m) {
        nodes.add(m);
        edges.add(attachEdgeId(m));
      }
    }
  }
  for (const e of r.trace.exits) {
    const m = memberOf(e.to);
    steps.push(m ? `delivered to ${e.to.kind} ${m.slice(m.indexOf(':') + 1)}` : `left ${e.switch} port ${e.port}`);
  }
  for (const d of r.trace.drops) steps.push(`dropped at ${d.switch}${d.table ? ` in ${d.table}` : ''}: ${d.reason}`);
  if (r.trace.truncated) steps.push('loop: stopped');
  return { nodes: [...nodes], edges: [...edges], steps };
}
