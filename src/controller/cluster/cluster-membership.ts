/**
 * A controller's place in a cluster, kept in etcd (docs/cluster.md):
 *
 *   cluster/members/<id>     {id, restUrl, pid, startedAtMs}, on this controller's lease
 *   cluster/masters/<dpid>   {member}, on the master's lease; its create revision is the generation id
 *
 * Every controller watches both prefixes. The members, in the order they joined (their keys' create
 * revisions), share the switches out round-robin over the switches sorted by dpid; the oldest member
 * is the leader (it delivers the intent's webhook events). A switch with no master key is taken by the
 * member the sharing names, with a Txn that creates the key only if it is absent; a master that the
 * sharing no longer names (a member joined) deletes its key so that the named one takes it. A member
 * that dies stops renewing its lease: etcd deletes its member and master keys when the lease expires,
 * every watch hears it at once, and the next members take its switches. The generation id (an etcd
 * revision, always increasing) goes into the OpenFlow role request, so a switch refuses an old master
 * that comes back.
 */
import type { Lease, Namespace, Watcher } from 'etcd3';
import type { Logger } from 'pino';
import { etcdCall } from '../store/etcd/etcd-connection.js';

/** How long a member's lease lives without renewal: the time from a controller's death to its switches' failover. */
export const DEFAULT_LEASE_TTL_S = 3;
/** Pause before a lost lease is granted again (etcd unreachable). */
const REJOIN_DELAY_MS = 500;

export interface ClusterMember {
  id: string;
  restUrl: string;
  pid: number;
  startedAtMs: number;
}

export interface MemberView extends ClusterMember {
  /** Members in join order; the first is the leader. */
  joinedAtRevision: number;
}

export interface MasterView {
  member: string;
  generationId: number;
}

export interface ClusterOptions {
  self: ClusterMember;
  leaseTtlS?: number;
}

export interface ClusterComponents {
  ns: Namespace;
  logger: Logger;
  /** The switches to share out (the topology's dpids). */
  dpids(): readonly number[];
  /** This controller's role for `dpid` changed (or the master's generation did). */
  roleChanged(dpid: number): void;
}

export interface Cluster {
  readonly self: ClusterMember;
  /** Members in join order (the leader first). */
  members(): MemberView[];
  leader(): string | undefined;
  isLeader(): boolean;
  /** Every switch's master, by dpid. */
  masters(): ReadonlyMap<number, MasterView>;
  roleOf(dpid: number): { role: 'master' | 'slave'; generationId: number };
  /** The switches changed (topology): share them out again. */
  rebalance(): void;
  /** Resolves once this controller is a member and has read the cluster's state. */
  ready(): Promise<void>;
  /** Leaves the cluster at once (revokes the lease: the other members take the switches now). */
  close(): Promise<void>;
}

export function joinCluster(options: ClusterOptions, components: ClusterComponents): Cluster {
  return new EtcdCluster(options, components);
}

const memberKey = (id: string) => `cluster/members/${id}`;
const masterKey = (dpid: number) => `cluster/masters/${dpid}`;

class EtcdCluster implements Cluster {
  readonly self: ClusterMember;
  private readonly ns: Namespace;
  private readonly logger: Logger;
  private readonly ttl: number;
  private readonly memberMap = new Map<string, MemberView>();
  private readonly masterMap = new Map<number, MasterView>();
  /** The newest generation id seen per switch (a slave's role request carries it). */
  private readonly generations = new Map<number, number>();
  private lease: Lease | undefined;
  private watcher: Watcher | undefined;
  private closed = false;
  private readonly joined: Promise<void>;
  private balancing = false;
  private again = false;

  constructor(
    options: ClusterOptions,
    private readonly c: ClusterComponents,
  ) {
    this.self = options.self;
    this.ns = c.ns;
    this.logger = c.logger;
    this.ttl = options.leaseTtlS ?? DEFAULT_LEASE_TTL_S;
    this.joined = this.join();
  }

  ready(): Promise<void> {
    return this.joined;
  }

  members(): MemberView[] {
    return [...this.memberMap.values()].sort((a, b) => a.joinedAtRevision - b.joinedAtRevision || a.id.localeCompare(b.id));
  }

  leader(): string | undefined {
    return this.members()[0]?.id;
  }

  isLeader(): boolean {
    return this.leader() === this.self.id;
  }

  masters(): ReadonlyMap<number, MasterView> {
    return this.masterMap;
  }

  roleOf(dpid: number): { role: 'master' | 'slave'; generationId: number } {
    const m = this.masterMap.get(dpid);
    const generationId = Math.max(m?.generationId ?? 0, this.generations.get(dpid) ?? 0);
    return { role: m?.member === this.self.id ? 'master' : 'slave', generationId };
  }

  private async join(): Promise<void> {
    const lease = this.ns.lease(this.ttl);
    this.lease = lease;
    lease.on('lost', (err: Error) => {
      if (this.closed || this.lease !== lease) return;
      this.logger.warn({ err: err.message }, 'cluster lease lost; joining again');
      this.lease = undefined;
      this.stepDown();
      setTimeout(() => {
        if (!this.closed) this.join().catch((e: unknown) => this.logger.error({ err: e }, 'cannot join the cluster again'));
      }, REJOIN_DELAY_MS);
    });
    await etcdCall('join the cluster', () => lease.put(memberKey(this.self.id)).value(JSON.stringify(this.self)).exec());
    if (!this.watcher) await this.watch();
    this.rebalance();
  }

  /** Reads members and masters, then follows their changes. */
  private async watch(): Promise<void> {
    const res = await etcdCall('read the cluster', () => this.ns.getAll().prefix('cluster/').exec());
    for (const kv of res.kvs) this.put(kv.key.toString(), kv.value.toString(), Number(kv.create_revision));
    const w = await this.ns
      .watch()
      .prefix('cluster/')
      .startRevision(String(Number(res.header.revision) + 1))
      .create();
    this.watcher = w;
    w.on('put', (kv) => {
      this.put(kv.key.toString().slice(this.prefixLength(kv.key.toString())), kv.value.toString(), Number(kv.create_revision));
      this.rebalance();
    });
    w.on('delete', (kv) => {
      this.remove(kv.key.toString().slice(this.prefixLength(kv.key.toString())));
      this.rebalance();
    });
    w.on('error', (err: Error) => this.logger.warn({ err: err.message }, 'cluster watch failed'));
    for (const dpid of this.c.dpids()) this.c.roleChanged(dpid);
  }

  /** Watch events carry whole keys; the part before `cluster/` is the namespace. */
  private prefixLength(key: string): number {
    return Math.max(0, key.indexOf('cluster/'));
  }

  private put(key: string, value: string, createRevision: number): void {
    if (key.startsWith('cluster/members/')) {
      const m = JSON.parse(value) as ClusterMember;
      this.memberMap.set(m.id, { ...m, joinedAtRevision: createRevision });
    } else if (key.startsWith('cluster/masters/')) {
      const dpid = Number(key.slice('cluster/masters/'.length));
      const { member } = JSON.parse(value) as { member: string };
      const before = this.masterMap.get(dpid);
      this.masterMap.set(dpid, { member, generationId: createRevision });
      this.generations.set(dpid, Math.max(this.generations.get(dpid) ?? 0, createRevision));
      if (before?.member !== member || before.generationId !== createRevision) this.c.roleChanged(dpid);
    }
  }

  private remove(key: string): void {
    if (key.startsWith('cluster/members/')) this.memberMap.delete(key.slice('cluster/members/'.length));
    else if (key.startsWith('cluster/masters/')) {
      const dpid = Number(key.slice('cluster/masters/'.length));
      const was = this.masterMap.get(dpid);
      this.masterMap.delete(dpid);
      if (was?.member === this.self.id) this.c.roleChanged(dpid);
    }
  }

  /** This controller holds no mastership (its lease is gone): its switches hear it as a slave. */
  private stepDown(): void {
    for (const [dpid, m] of this.masterMap) {
      if (m.member !== this.self.id) continue;
      this.masterMap.delete(dpid);
      this.c.roleChanged(dpid);
    }
  }

  /** The member the sharing names for each switch. */
  private assignment(): Map<number, string> {
    const members = this.members();
    const out = new Map<number, string>();
    if (members.length === 0) return out;
    const dpids = [...new Set(this.c.dpids())].sort((a, b) => a - b);
    dpids.forEach((dpid, i) => out.set(dpid, members[i % members.length].id));
    return out;
  }

  rebalance(): void {
    if (this.balancing) {
      this.again = true;
      return;
    }
    this.balancing = true;
    void (async () => {
      try {
        do {
          this.again = false;
          await this.balanceOnce();
        } while (this.again && !this.closed);
      } catch (err) {
        this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'cluster rebalance failed');
      } finally {
        this.balancing = false;
      }
    })();
  }

  private async balanceOnce(): Promise<void> {
    const lease = this.lease;
    if (this.closed || !lease || !this.memberMap.has(this.self.id)) return;
    const leaseId = await lease.grant();
    for (const [dpid, owner] of this.assignment()) {
      const current = this.masterMap.get(dpid);
      if (!current && owner === this.self.id) {
        const res = await etcdCall('take a switch', () =>
          this.ns
            .if(masterKey(dpid), 'Create', '==', 0)
            .then(this.ns.put(masterKey(dpid)).value(JSON.stringify({ member: this.self.id })).lease(leaseId))
            .commit(),
        );
        if (res.succeeded) this.logger.info({ dpid, generationId: Number(res.header.revision) }, 'master of switch');
      } else if (current?.member === this.self.id && owner !== this.self.id) {
        // Handed to the member the sharing names (it joined since): it takes the key once it is gone.
        await etcdCall('release a switch', () =>
          this.ns
            .if(masterKey(dpid), 'Create', '==', current.generationId)
            .then(this.ns.delete().key(masterKey(dpid)))
            .commit(),
        );
        this.logger.info({ dpid, to: owner }, 'handing switch to another member');
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.watcher?.cancel().catch(() => undefined);
    await this.lease?.revoke().catch(() => undefined);
  }
}
