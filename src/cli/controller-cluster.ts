/**
 * The controller's cluster side, composed for `overcast controller`: membership and mastership on
 * etcd (src/controller/cluster/) when the store is etcd, or a cluster of one on the embedded store;
 * and GET /v1/cluster's answer.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { ClusterStatus } from '../api/schemas/cluster.js';
import { joinCluster, type Cluster } from '../controller/cluster/cluster-membership.js';
import type { SwitchRoles } from '../controller/controller.js';
import type { ControllerEvent } from '../controller/events.js';
import type { EtcdConnection } from '../controller/store/etcd/etcd-connection.js';
import type { Topology } from '../model/index.js';

/** How long GET /v1/cluster waits for a member's /healthz. */
const HEALTH_TIMEOUT_MS = 500;

export interface ControllerCluster {
  /** Mastership for the Controller; undefined for a single controller. */
  readonly roles: SwitchRoles | undefined;
  /** Does this controller deliver the event (its switches' events; the leader: the rest)? */
  owns(e: ControllerEvent): boolean;
  /** May this controller probe through the switch (it masters it)? */
  masters(dpid: number): boolean;
  /** Joins, once the REST URL is known. */
  start(restUrl: string, roleChanged: (dpid: number) => void): Promise<void>;
  rebalance(): void;
  status(): Promise<ClusterStatus>;
  close(): Promise<void>;
}

export interface ControllerClusterOptions {
  etcd: EtcdConnection | undefined;
  memberId?: string;
  leaseTtlS?: number;
  storeLocation: string;
  topology: () => Topology;
  logger: Logger;
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) })).ok;
  } catch {
    return false;
  }
}

export function createControllerCluster(o: ControllerClusterOptions): ControllerCluster {
  const id = o.memberId ?? `c-${process.pid}-${randomBytes(3).toString('hex')}`;
  const names = () => new Map(o.topology().switches.map((s) => [s.dpid, s.name]));
  const dpids = () => o.topology().switches.map((s) => s.dpid);
  let restUrl = '';
  let cluster: Cluster | undefined;
  const etcd = o.etcd;
  if (!etcd) {
    return {
      roles: undefined,
      owns: () => true,
      masters: () => true,
      async start(url) {
        restUrl = url;
      },
      rebalance: () => undefined,
      async status() {
        const byDpid = names();
        return {
          self: id,
          store: o.storeLocation,
          leader: id,
          members: [{ id, restUrl, pid: process.pid, healthy: true, leader: true, self: true }],
          masters: dpids().map((dpid) => ({ dpid, switch: byDpid.get(dpid), master: id, generationId: 0 })),
        };
      },
      close: async () => undefined,
    };
  }
  return {
    roles: { roleOf: (dpid) => cluster?.roleOf(dpid) ?? { role: 'slave', generationId: 0 } },
    owns: (e) => (cluster ? ('dpid' in e && typeof e.dpid === 'number' ? cluster.roleOf(e.dpid).role === 'master' : cluster.isLeader()) : false),
    masters: (dpid) => cluster?.roleOf(dpid).role === 'master',
    async start(url, roleChanged) {
      restUrl = url;
      cluster = joinCluster({ self: { id, restUrl, pid: process.pid, startedAtMs: Date.now() }, ...(o.leaseTtlS ? { leaseTtlS: o.leaseTtlS } : {}) }, { ns: etcd.ns, logger: o.logger, dpids, roleChanged });
      await cluster.ready();
    },
    rebalance: () => cluster?.rebalance(),
    async status() {
      const c = cluster;
      const leader = c?.leader();
      const members = c?.members() ?? [];
      const healthy = await Promise.all(members.map((m) => (m.id === id ? Promise.resolve(true) : answers(m.restUrl))));
      const byDpid = names();
      return {
        self: id,
        store: o.storeLocation,
        leader: leader ?? null,
        members: members.map((m, i) => ({ id: m.id, restUrl: m.restUrl, pid: m.pid, healthy: healthy[i], leader: m.id === leader, self: m.id === id })),
        masters: dpids().map((dpid) => {
          const m = c?.masters().get(dpid);
          return { dpid, switch: byDpid.get(dpid), master: m?.member ?? null, generationId: m?.generationId ?? 0 };
        }),
      };
    },
    async close() {
      await cluster?.close();
    },
  };
}
