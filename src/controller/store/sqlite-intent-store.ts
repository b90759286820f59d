/**
 * The intent store: VPCs, subnets, endpoints, elastic IPs, load balancers, volumes and attachments,
 * security groups, network ACLs and the topology in one SQLite file (better-sqlite3).
 * Every change is one transaction, committed (and, with synchronous=FULL, fsynced) before the caller
 * acknowledges it; WAL mode keeps a crash between statements from leaving anything half-written: after
 * a kill -9 the file holds exactly the committed transactions.
 *
 * SQLite's auto-checkpoint is off: a worker thread checkpoints the WAL when the store is idle
 * (./wal-checkpointer.ts), so no commit waits for a copy of the WAL into the database file.
 *
 * The store only persists; the IntentService validates. It is read whole once at start (`load`). A
 * transaction commits only when the store's revision (a counter in `meta`, one step per transaction)
 * is the one its writes were validated against; the watch is in process: every commit is delivered to
 * the watchers before `commit` resolves.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import type {
  AclRule,
  Attachment,
  MountAddress,
  MountSource,
  AttachmentMode,
  ElasticIp,
  Endpoint,
  EndpointKind,
  LbProtocol,
  LoadBalancer,
  NetworkAcl,
  SecurityGroup,
  SecurityRule,
  Subnet,
  Topology,
  Volume,
  VolumeProtocol,
  VolumeQos,
  Vpc,
} from '../../model/index.js';
import { ID_KINDS, type CommitResult, type IdCounters, type IdKind, type IntentStore, type StoreBatch, type StoreTransaction, type StoreWatchHandlers, type StoreWrite, type StoredState, idSeq } from './intent-store.js';
import { migrate } from './schema.js';
import { decodeTopologyDocument, encodeTopologyDocument } from './topology-document.js';
import { startWalCheckpointer, type CheckpointOptions, type WalCheckpointer } from './wal-checkpointer.js';

/** The file inside a data directory (`--data DIR`). */
export const INTENT_STORE_FILE = 'intent.sqlite';

/**
 * The SQLite implementation. Its database also holds the REST API's tokens, idempotency keys and
 * webhook subscriptions (src/controller/auth/, src/controller/webhooks.ts), which open their own
 * statements on it: one file, one durability.
 */
export interface SqliteIntentStore extends IntentStore {
  readonly database: BetterSqlite3.Database;
  /** The WAL's checkpointer (a file in WAL mode; none in memory). */
  readonly checkpointer: WalCheckpointer | undefined;
}

export interface SqliteIntentStoreOptions {
  /** When the WAL is checkpointed (defaults: ./wal-checkpointer.ts). */
  checkpoint?: CheckpointOptions;
}

/** The row writes of one SQLite transaction. */
interface RowWriter {
  putVpc(vpc: Vpc): void;
  deleteVpc(id: string): void;
  putSubnet(subnet: Subnet): void;
  deleteSubnet(id: string): void;
  putEndpoint(endpoint: Endpoint): void;
  deleteEndpoint(id: string): void;
  putElasticIp(x: ElasticIp): void;
  deleteElasticIp(id: string): void;
  putLoadBalancer(lb: LoadBalancer): void;
  deleteLoadBalancer(id: string): void;
  putVolume(v: Volume): void;
  deleteVolume(id: string): void;
  putAttachment(a: Attachment): void;
  deleteAttachment(id: string): void;
  putSecurityGroup(g: SecurityGroup): void;
  deleteSecurityGroup(id: string): void;
  putNetworkAcl(acl: NetworkAcl): void;
  deleteNetworkAcl(id: string): void;
  putTopology(topology: Topology): void;
  setSeq(kind: IdKind, seq: number): void;
}

interface VpcRow {
  id: string;
  name: string;
  network: number;
  prefix_length: number;
  vni: number;
}
interface SubnetRow {
  id: string;
  vpc_id: string;
  name: string;
  network: number;
  prefix_length: number;
  gateway: number;
}
interface ElasticIpRow {
  id: string;
  public_ip: number;
  endpoint_id: string | null;
}
interface LoadBalancerRow {
  id: string;
  vpc_id: string;
  vip: number;
  protocol: string;
  port: number;
  backend_port: number;
  function: string;
  weights: string;
  unhealthy: string;
  unhealthy_by_probe: string;
  elastic_ip_id: string | null;
}
interface VolumeRow {
  id: string;
  name: string;
  protocol: string;
  targets: string;
  ports: string;
  qos: string | null;
  unhealthy: string | null;
}
interface AttachmentRow {
  id: string;
  volume_id: string;
  endpoint_id: string;
  mode: string;
  mounts: string | null;
  source: string | null;
}
interface EndpointRow {
  id: string;
  kind: string;
  vpc_id: string;
  subnet_id: string;
  dpid: number;
  port: number;
  mac: number;
  ip: number;
  labels: string;
  security_groups: string | null;
}
interface SecurityGroupRow {
  id: string;
  vpc_id: string;
  name: string;
  is_default: number;
  rules: string;
}
interface NetworkAclRow {
  id: string;
  subnet_id: string;
  rules: string;
}

/** Opens (creating if needed) the store at a file path, or an in-memory one for `':memory:'`. */
export function openIntentStore(file: string, options: SqliteIntentStoreOptions = {}): SqliteIntentStore {
  const db = new Database(file);
  try {
    const wal = db.pragma('journal_mode = WAL', { simple: true }) === 'wal';
    // FULL: a commit is fsynced before it returns (a process kill alone would be safe with NORMAL;
    // FULL also survives a power cut, and changes are rare enough that the fsync is cheap).
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db);
    return new SqliteStore(db, wal ? startWalCheckpointer(db, options.checkpoint) : undefined);
  } catch (e) {
    db.close();
    throw e;
  }
}

/** Opens the store in a data directory (created if missing). */
export function openIntentStoreInDir(dir: string, options: SqliteIntentStoreOptions = {}): SqliteIntentStore {
  fs.mkdirSync(dir, { recursive: true });
  return openIntentStore(path.join(dir, INTENT_STORE_FILE), options);
}

class SqliteStore implements SqliteIntentStore {
  readonly location: string;
  private readonly writer: RowWriter;
  private readonly tx: BetterSqlite3.Transaction<(t: StoreTransaction) => CommitResult>;
  private readonly watchers = new Set<StoreWatchHandlers>();
  private readonly getMeta: BetterSqlite3.Statement<[string], { value: string }>;

  constructor(
    readonly database: BetterSqlite3.Database,
    readonly checkpointer: WalCheckpointer | undefined,
  ) {
    const db = database;
    this.location = `sqlite:${db.name}`;
    // Prepared once; each write is a bound statement.
    const getMeta = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?');
    const putMeta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    const putVpc = db.prepare(
      `INSERT INTO vpcs (id, seq, name, network, prefix_length, vni) VALUES (@id, @seq, @name, @network, @prefixLength, @vni)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, network = excluded.network, prefix_length = excluded.prefix_length, vni = excluded.vni`,
    );
    const putSubnet = db.prepare(
      `INSERT INTO subnets (id, seq, vpc_id, name, network, prefix_length, gateway) VALUES (@id, @seq, @vpcId, @name, @network, @prefixLength, @gateway)
       ON CONFLICT (id) DO UPDATE SET vpc_id = excluded.vpc_id, name = excluded.name, network = excluded.network,
         prefix_length = excluded.prefix_length, gateway = excluded.gateway`,
    );
    const putEndpoint = db.prepare(
      `INSERT INTO endpoints (id, seq, kind, vpc_id, subnet_id, dpid, port, mac, ip, labels, security_groups)
       VALUES (@id, @seq, @kind, @vpcId, @subnetId, @dpid, @port, @mac, @ip, @labels, @securityGroups)
       ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, vpc_id = excluded.vpc_id, subnet_id = excluded.subnet_id,
         dpid = excluded.dpid, port = excluded.port, mac = excluded.mac, ip = excluded.ip, labels = excluded.labels,
         security_groups = excluded.security_groups`,
    );
    const delVpc = db.prepare('DELETE FROM vpcs WHERE id = ?');
    const delSubnet = db.prepare('DELETE FROM subnets WHERE id = ?');
    const delEndpoint = db.prepare('DELETE FROM endpoints WHERE id = ?');
    const putEip = db.prepare(
      `INSERT INTO elastic_ips (id, seq, public_ip, endpoint_id) VALUES (@id, @seq, @publicIp, @endpointId)
       ON CONFLICT (id) DO UPDATE SET public_ip = excluded.public_ip, endpoint_id = excluded.endpoint_id`,
    );
    const delEip = db.prepare('DELETE FROM elastic_ips WHERE id = ?');
    const putLb = db.prepare(
      `INSERT INTO load_balancers (id, seq, vpc_id, vip, protocol, port, backend_port, function, weights, unhealthy, unhealthy_by_probe, elastic_ip_id)
       VALUES (@id, @seq, @vpcId, @vip, @protocol, @port, @backendPort, @fn, @weights, @unhealthy, @unhealthyByProbe, @elasticIpId)
       ON CONFLICT (id) DO UPDATE SET vpc_id = excluded.vpc_id, vip = excluded.vip, protocol = excluded.protocol, port = excluded.port,
         backend_port = excluded.backend_port, function = excluded.function, weights = excluded.weights, unhealthy = excluded.unhealthy,
         unhealthy_by_probe = excluded.unhealthy_by_probe, elastic_ip_id = excluded.elastic_ip_id`,
    );
    const delLb = db.prepare('DELETE FROM load_balancers WHERE id = ?');
    const putVolume = db.prepare(
      `INSERT INTO volumes (id, seq, name, protocol, targets, ports, qos, unhealthy) VALUES (@id, @seq, @name, @protocol, @targets, @ports, @qos, @unhealthy)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, protocol = excluded.protocol, targets = excluded.targets, ports = excluded.ports, qos = excluded.qos,
         unhealthy = excluded.unhealthy`,
    );
    const delVolume = db.prepare('DELETE FROM volumes WHERE id = ?');
    const putAttachment = db.prepare(
      `INSERT INTO volume_attachments (id, seq, volume_id, endpoint_id, mode, mounts, source) VALUES (@id, @seq, @volumeId, @endpointId, @mode, @mounts, @source)
       ON CONFLICT (id) DO UPDATE SET volume_id = excluded.volume_id, endpoint_id = excluded.endpoint_id, mode = excluded.mode,
         mounts = excluded.mounts, source = excluded.source`,
    );
    const delAttachment = db.prepare('DELETE FROM volume_attachments WHERE id = ?');
    const putSg = db.prepare(
      `INSERT INTO security_groups (id, seq, vpc_id, name, is_default, rules) VALUES (@id, @seq, @vpcId, @name, @isDefault, @rules)
       ON CONFLICT (id) DO UPDATE SET vpc_id = excluded.vpc_id, name = excluded.name, is_default = excluded.is_default, rules = excluded.rules`,
    );
    const delSg = db.prepare('DELETE FROM security_groups WHERE id = ?');
    const putAcl = db.prepare(
      `INSERT INTO network_acls (id, seq, subnet_id, rules) VALUES (@id, @seq, @subnetId, @rules)
       ON CONFLICT (id) DO UPDATE SET subnet_id = excluded.subnet_id, rules = excluded.rules`,
    );
    const delAcl = db.prepare('DELETE FROM network_acls WHERE id = ?');
    const putTopology = db.prepare('INSERT INTO topology (id, doc) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc');

    const seqOf = (kind: IdKind, id: string): number => {
      const seq = idSeq(kind, id);
      if (seq === undefined) throw new Error(`not a ${kind} id of this store: ${id}`);
      return seq;
    };
    this.getMeta = getMeta;
    this.writer = {
      setSeq: (kind, seq) => {
        const key = `seq.${kind}`;
        if (seq > Number(getMeta.get(key)?.value ?? '0')) putMeta.run(key, String(seq));
      },
      putVpc: (v) => {
        putVpc.run({ id: v.id, seq: seqOf('vpc', v.id), name: v.name, network: v.cidr.network, prefixLength: v.cidr.prefixLength, vni: v.vni });
      },
      deleteVpc: (id) => {
        delVpc.run(id);
      },
      putSubnet: (s) => {
        putSubnet.run({ id: s.id, seq: seqOf('subnet', s.id), vpcId: s.vpcId, name: s.name, network: s.cidr.network, prefixLength: s.cidr.prefixLength, gateway: s.gateway });
      },
      deleteSubnet: (id) => {
        delSubnet.run(id);
      },
      putEndpoint: (e) => {
        putEndpoint.run({
          id: e.id,
          seq: seqOf('endpoint', e.id),
          kind: e.kind,
          vpcId: e.vpcId,
          subnetId: e.subnetId,
          dpid: e.dpid,
          port: e.port,
          mac: e.mac,
          ip: e.ip,
          labels: JSON.stringify(e.labels),
          securityGroups: e.securityGroups ? JSON.stringify(e.securityGroups) : null,
        });
      },
      deleteEndpoint: (id) => {
        delEndpoint.run(id);
      },
      putElasticIp: (x) => {
        putEip.run({ id: x.id, seq: seqOf('elasticIp', x.id), publicIp: x.publicIp, endpointId: x.endpointId ?? null });
      },
      deleteElasticIp: (id) => {
        delEip.run(id);
      },
      putLoadBalancer: (lb) => {
        putLb.run({
          id: lb.id,
          seq: seqOf('loadBalancer', lb.id),
          vpcId: lb.vpcId,
          vip: lb.vip,
          protocol: lb.protocol,
          port: lb.port,
          backendPort: lb.backendPort,
          fn: lb.function,
          weights: JSON.stringify(lb.weights),
          unhealthy: JSON.stringify(lb.unhealthy),
          unhealthyByProbe: JSON.stringify(lb.unhealthyByProbe ?? []),
          elasticIpId: lb.elasticIpId ?? null,
        });
      },
      deleteLoadBalancer: (id) => {
        delLb.run(id);
      },
      putVolume: (v) => {
        putVolume.run({
          id: v.id,
          seq: seqOf('volume', v.id),
          name: v.name,
          protocol: v.protocol,
          targets: JSON.stringify(v.targets),
          ports: JSON.stringify(v.ports),
          qos: v.qos ? JSON.stringify(v.qos) : null,
          unhealthy: v.unhealthy ? JSON.stringify(v.unhealthy) : null,
        });
      },
      deleteVolume: (id) => {
        delVolume.run(id);
      },
      putAttachment: (a) => {
        putAttachment.run({
          id: a.id,
          seq: seqOf('attachment', a.id),
          volumeId: a.volumeId,
          endpointId: a.endpointId,
          mode: a.mode,
          mounts: a.mounts ? JSON.stringify(a.mounts) : null,
          source: a.source ? JSON.stringify(a.source) : null,
        });
      },
      deleteAttachment: (id) => {
        delAttachment.run(id);
      },
      putSecurityGroup: (g) => {
        putSg.run({ id: g.id, seq: seqOf('securityGroup', g.id), vpcId: g.vpcId, name: g.name, isDefault: g.isDefault ? 1 : 0, rules: JSON.stringify(g.rules) });
      },
      deleteSecurityGroup: (id) => {
        delSg.run(id);
      },
      putNetworkAcl: (acl) => {
        putAcl.run({ id: acl.id, seq: seqOf('networkAcl', acl.id), subnetId: acl.subnetId, rules: JSON.stringify(acl.rules) });
      },
      deleteNetworkAcl: (id) => {
        delAcl.run(id);
      },
      putTopology: (t) => {
        putTopology.run(encodeTopologyDocument(t));
      },
    };
    this.tx = db.transaction((t: StoreTransaction): CommitResult => {
      const revision = this.revision();
      if (t.basedOn !== revision) return { ok: false, revision };
      for (const w of t.writes) writeRow(this.writer, w);
      for (const kind of ID_KINDS) {
        const seq = t.lastSeq?.[kind];
        if (seq !== undefined) this.writer.setSeq(kind, seq);
      }
      putMeta.run('revision', String(revision + 1));
      return { ok: true, revision: revision + 1 };
    });
  }

  private revision(): number {
    return Number(this.getMeta.get('revision')?.value ?? '0');
  }

  async load(): Promise<StoredState> {
    return this.loadNow();
  }

  private loadNow(): StoredState {
    const db = this.database;
    return db.transaction((): StoredState => {
      const vpcs = new Map<string, Vpc>();
      for (const r of db.prepare<[], VpcRow>('SELECT id, name, network, prefix_length, vni FROM vpcs ORDER BY seq').all()) {
        vpcs.set(r.id, { id: r.id, name: r.name, cidr: { network: r.network, prefixLength: r.prefix_length }, vni: r.vni });
      }
      const subnets = new Map<string, Subnet>();
      for (const r of db.prepare<[], SubnetRow>('SELECT id, vpc_id, name, network, prefix_length, gateway FROM subnets ORDER BY seq').all()) {
        subnets.set(r.id, { id: r.id, vpcId: r.vpc_id, name: r.name, cidr: { network: r.network, prefixLength: r.prefix_length }, gateway: r.gateway });
      }
      const endpoints = new Map<string, Endpoint>();
      const endpointRows = db.prepare<[], EndpointRow>('SELECT id, kind, vpc_id, subnet_id, dpid, port, mac, ip, labels, security_groups FROM endpoints ORDER BY seq').all();
      for (const r of endpointRows) {
        const groups = r.security_groups === null ? {} : { securityGroups: JSON.parse(r.security_groups) as string[] };
        endpoints.set(r.id, {
          id: r.id,
          kind: r.kind as EndpointKind,
          vpcId: r.vpc_id,
          subnetId: r.subnet_id,
          dpid: r.dpid,
          port: r.port,
          mac: r.mac,
          ip: r.ip,
          labels: JSON.parse(r.labels) as Record<string, string>,
          ...groups,
        });
      }
      const elasticIps = new Map<string, ElasticIp>();
      for (const r of db.prepare<[], ElasticIpRow>('SELECT id, public_ip, endpoint_id FROM elastic_ips ORDER BY seq').all()) {
        elasticIps.set(r.id, r.endpoint_id === null ? { id: r.id, publicIp: r.public_ip } : { id: r.id, publicIp: r.public_ip, endpointId: r.endpoint_id });
      }
      const loadBalancers = new Map<string, LoadBalancer>();
      const lbRows = db.prepare<[], LoadBalancerRow>('SELECT id, vpc_id, vip, protocol, port, backend_port, function, weights, unhealthy, unhealthy_by_probe, elastic_ip_id FROM load_balancers ORDER BY seq').all();
      for (const r of lbRows) {
        const byProbe = JSON.parse(r.unhealthy_by_probe) as string[];
        const lb: LoadBalancer = {
          id: r.id,
          vpcId: r.vpc_id,
          vip: r.vip,
          protocol: r.protocol as LbProtocol,
          port: r.port,
          backendPort: r.backend_port,
          function: r.function,
          weights: JSON.parse(r.weights) as Record<string, number>,
          unhealthy: JSON.parse(r.unhealthy) as string[],
        };
        const placed = r.elastic_ip_id === null ? lb : { ...lb, elasticIpId: r.elastic_ip_id };
        loadBalancers.set(r.id, byProbe.length === 0 ? placed : { ...placed, unhealthyByProbe: byProbe });
      }
      const volumes = new Map<string, Volume>();
      for (const r of db.prepare<[], VolumeRow>('SELECT id, name, protocol, targets, ports, qos, unhealthy FROM volumes ORDER BY seq').all()) {
        const v: Volume = { id: r.id, name: r.name, protocol: r.protocol as VolumeProtocol, targets: JSON.parse(r.targets) as string[], ports: JSON.parse(r.ports) as number[] };
        const withQos = r.qos === null ? v : { ...v, qos: JSON.parse(r.qos) as VolumeQos };
        volumes.set(r.id, r.unhealthy === null ? withQos : { ...withQos, unhealthy: JSON.parse(r.unhealthy) as string[] });
      }
      const attachments = new Map<string, Attachment>();
      for (const r of db.prepare<[], AttachmentRow>('SELECT id, volume_id, endpoint_id, mode, mounts, source FROM volume_attachments ORDER BY seq').all()) {
        const a: Attachment = { id: r.id, volumeId: r.volume_id, endpointId: r.endpoint_id, mode: r.mode as AttachmentMode };
        // A row from before schema 10 has neither (no mount addresses until attached again).
        attachments.set(r.id, r.mounts === null || r.source === null ? a : { ...a, mounts: JSON.parse(r.mounts) as MountAddress[], source: JSON.parse(r.source) as MountSource });
      }
      const securityGroups = new Map<string, SecurityGroup>();
      for (const r of db.prepare<[], SecurityGroupRow>('SELECT id, vpc_id, name, is_default, rules FROM security_groups ORDER BY seq').all()) {
        securityGroups.set(r.id, { id: r.id, vpcId: r.vpc_id, name: r.name, isDefault: r.is_default === 1, rules: JSON.parse(r.rules) as SecurityRule[] });
      }
      const networkAcls = new Map<string, NetworkAcl>();
      for (const r of db.prepare<[], NetworkAclRow>('SELECT id, subnet_id, rules FROM network_acls ORDER BY seq').all()) {
        networkAcls.set(r.id, { id: r.id, subnetId: r.subnet_id, rules: JSON.parse(r.rules) as AclRule[] });
      }
      const doc = db.prepare<[], { doc: string }>('SELECT doc FROM topology WHERE id = 1').get();
      const seq = (kind: IdKind) => Number(db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get(`seq.${kind}`)?.value ?? '0');
      return {
        intent: { vpcs, subnets, endpoints, elasticIps, loadBalancers, volumes, attachments, securityGroups, networkAcls },
        topology: doc ? decodeTopologyDocument(doc.doc) : undefined,
        lastSeq: Object.fromEntries(ID_KINDS.map((k) => [k, seq(k)])) as unknown as IdCounters,
        revision: this.revision(),
      };
    })();
  }

  async commit(t: StoreTransaction): Promise<CommitResult> {
    // IMMEDIATE: the revision read and the writes hold one lock (another process on the file waits).
    const r = this.tx.immediate(t);
    if (r.ok) {
      this.checkpointer?.committed();
      const batch: StoreBatch = { revision: r.revision, writes: t.writes, lastSeq: t.lastSeq ?? {} };
      for (const w of [...this.watchers]) w.batch(batch);
    }
    return r;
  }

  watch(afterRevision: number, handlers: StoreWatchHandlers): () => void {
    // No history is kept: a watcher behind the file's revision starts again from the whole state.
    if (afterRevision !== this.revision()) handlers.reset?.(this.loadNow());
    this.watchers.add(handlers);
    return () => this.watchers.delete(handlers);
  }

  async close(): Promise<void> {
    this.watchers.clear();
    if (this.database.open) this.database.close();
    await this.checkpointer?.close();
  }
}

function writeRow(w: RowWriter, x: StoreWrite): void {
  switch (x.kind) {
    case 'topology':
      return w.putTopology(x.value);
    case 'vpc':
      return x.value ? w.putVpc(x.value) : w.deleteVpc(x.id);
    case 'subnet':
      return x.value ? w.putSubnet(x.value) : w.deleteSubnet(x.id);
    case 'endpoint':
      return x.value ? w.putEndpoint(x.value) : w.deleteEndpoint(x.id);
    case 'elasticIp':
      return x.value ? w.putElasticIp(x.value) : w.deleteElasticIp(x.id);
    case 'loadBalancer':
      return x.value ? w.putLoadBalancer(x.value) : w.deleteLoadBalancer(x.id);
    case 'volume':
      return x.value ? w.putVolume(x.value) : w.deleteVolume(x.id);
    case 'attachment':
      return x.value ? w.putAttachment(x.value) : w.deleteAttachment(x.id);
    case 'securityGroup':
      return x.value ? w.putSecurityGroup(x.value) : w.deleteSecurityGroup(x.id);
    case 'networkAcl':
      return x.value ? w.putNetworkAcl(x.value) : w.deleteNetworkAcl(x.id);
  }
}
