/**
 * The intent store's SQLite schema, one version at a time. `PRAGMA user_version` records the version a
 * file was written with; opening a file from a newer build is refused rather than guessed at.
 *
 * Addresses are integers (as in src/model); `seq` is the number in an object's id (`ep-17` -> 17) and
 * orders lists and pagination, so an id is never reused after a delete. Constraints (NOT NULL, foreign
 * keys, UNIQUE) make a half-written or dangling row impossible even if the service had a bug.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { OvercastError } from '../../errors/index.js';

export const SCHEMA_VERSION = 10;

const SCHEMA_V1 = `
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
CREATE TABLE vpcs (
  id            TEXT PRIMARY KEY,
  seq           INTEGER NOT NULL UNIQUE,
  name          TEXT NOT NULL,
  network       INTEGER NOT NULL CHECK (network BETWEEN 0 AND 4294967295),
  prefix_length INTEGER NOT NULL CHECK (prefix_length BETWEEN 0 AND 32),
  vni           INTEGER NOT NULL UNIQUE CHECK (vni >= 1)
) STRICT;
CREATE TABLE subnets (
  id            TEXT PRIMARY KEY,
  seq           INTEGER NOT NULL UNIQUE,
  vpc_id        TEXT NOT NULL REFERENCES vpcs(id),
  name          TEXT NOT NULL,
  network       INTEGER NOT NULL CHECK (network BETWEEN 0 AND 4294967295),
  prefix_length INTEGER NOT NULL CHECK (prefix_length BETWEEN 0 AND 32),
  gateway       INTEGER NOT NULL CHECK (gateway BETWEEN 0 AND 4294967295)
) STRICT;
CREATE INDEX subnets_vpc ON subnets (vpc_id);
CREATE TABLE endpoints (
  id        TEXT PRIMARY KEY,
  seq       INTEGER NOT NULL UNIQUE,
  kind      TEXT NOT NULL CHECK (kind IN ('function', 'container', 'storage', 'host')),
  vpc_id    TEXT NOT NULL REFERENCES vpcs(id),
  subnet_id TEXT NOT NULL REFERENCES subnets(id),
  dpid      INTEGER NOT NULL,
  port      INTEGER NOT NULL,
  mac       INTEGER NOT NULL UNIQUE,
  ip        INTEGER NOT NULL,
  labels    TEXT NOT NULL,
  UNIQUE (subnet_id, ip),
  UNIQUE (dpid, port)
) STRICT;
CREATE INDEX endpoints_vpc ON endpoints (vpc_id);
-- The topology is one document (the topology file's JSON form): it changes rarely and always whole.
CREATE TABLE topology (
  id  INTEGER PRIMARY KEY CHECK (id = 1),
  doc TEXT NOT NULL
) STRICT;
`;

/** Version 2: elastic IPs and load balancers (docs/elastic-ip.md). */
const SCHEMA_V2 = `
CREATE TABLE elastic_ips (
  id          TEXT PRIMARY KEY,
  seq         INTEGER NOT NULL UNIQUE,
  public_ip   INTEGER NOT NULL UNIQUE CHECK (public_ip BETWEEN 0 AND 4294967295),
  endpoint_id TEXT UNIQUE REFERENCES endpoints(id)
) STRICT;
CREATE TABLE load_balancers (
  id           TEXT PRIMARY KEY,
  seq          INTEGER NOT NULL UNIQUE,
  vpc_id       TEXT NOT NULL REFERENCES vpcs(id),
  vip          INTEGER NOT NULL CHECK (vip BETWEEN 0 AND 4294967295),
  protocol     TEXT NOT NULL CHECK (protocol IN ('tcp', 'udp')),
  port         INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
  backend_port INTEGER NOT NULL CHECK (backend_port BETWEEN 1 AND 65535),
  function     TEXT NOT NULL,
  weights      TEXT NOT NULL,
  unhealthy    TEXT NOT NULL,
  UNIQUE (vpc_id, vip, protocol, port)
) STRICT;
`;

/**
 * Version 3: a load balancer may sit behind an elastic IP (docs/elastic-ip.md). One address serves at
 * most one load balancer (the unique index; NULLs do not collide).
 */
const SCHEMA_V3 = `
ALTER TABLE load_balancers ADD COLUMN elastic_ip_id TEXT REFERENCES elastic_ips(id);
CREATE UNIQUE INDEX load_balancers_elastic_ip ON load_balancers (elastic_ip_id);
`;

/**
 * Version 4: which unhealthy backends the health prober took out (a JSON list, a subset of
 * `unhealthy`): it may return only those, so REST marks and probe marks both survive a restart.
 * Marks in older files were made by either; they are kept as REST marks (an operator clears them).
 */
const SCHEMA_V4 = `
ALTER TABLE load_balancers ADD COLUMN unhealthy_by_probe TEXT NOT NULL DEFAULT '[]';
`;

/**
 * Version 5: REST API tokens and idempotency keys (docs/security.md). A token is kept as the SHA-256 of
 * its text, never the text; its id is the first hex digits of that hash, so a request's token is found
 * by id and then compared whole in constant time. An idempotency key is kept per token with a
 * fingerprint of the request it came with and, once answered, the answer (status and JSON text); a
 * row with no status is a request still in progress. (IF NOT EXISTS: a file whose version was set back by
 * hand keeps its tokens.)
 */
const SCHEMA_V5 = `
CREATE TABLE IF NOT EXISTS api_tokens (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  scope         TEXT NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
  hash          TEXT NOT NULL UNIQUE CHECK (length(hash) = 64),
  created_at_ms INTEGER NOT NULL,
  revoked_at_ms INTEGER
) STRICT;
CREATE TABLE IF NOT EXISTS idempotency_keys (
  owner         TEXT NOT NULL,
  key           TEXT NOT NULL,
  fingerprint   TEXT NOT NULL,
  status        INTEGER CHECK (status BETWEEN 100 AND 599),
  body          TEXT,
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (owner, key)
) STRICT;
CREATE INDEX IF NOT EXISTS idempotency_keys_created ON idempotency_keys (created_at_ms);
`;

/**
 * Version 6: VNIs are 24 bits (1..16,777,215, docs/vpc.md); files from before hold VNIs 1..4094, which
 * stay as they are. SQLite cannot change a column's CHECK in place (that is a table rebuild, with the
 * foreign keys of subnets, endpoints and load balancers pointing at it), so the range is two triggers
 * that refuse a VNI outside it, as the CHECK would.
 */
const SCHEMA_V6 = `
CREATE TRIGGER IF NOT EXISTS vpcs_vni_range_insert BEFORE INSERT ON vpcs WHEN NEW.vni NOT BETWEEN 1 AND 16777215
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: vni BETWEEN 1 AND 16777215'); END;
CREATE TRIGGER IF NOT EXISTS vpcs_vni_range_update BEFORE UPDATE OF vni ON vpcs WHEN NEW.vni NOT BETWEEN 1 AND 16777215
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: vni BETWEEN 1 AND 16777215'); END;
`;

/**
 * Version 7: webhook subscriptions (src/controller/webhook-store.ts), kept so that a restart and every
 * controller sharing the store deliver to them. The store's revision (one step per intent
 * transaction) lives in `meta` and needs no table.
 */
const SCHEMA_V7 = `
CREATE TABLE IF NOT EXISTS webhooks (
  id            TEXT PRIMARY KEY,
  url           TEXT NOT NULL,
  types         TEXT NOT NULL,
  secret        TEXT,
  created_at_ms INTEGER NOT NULL
) STRICT;
`;

/**
 * Version 8: volumes and their attachments (docs/volumes.md). A volume's targets, ports and qos are
 * JSON (small lists, always read and written whole); an attachment names its volume and endpoint by
 * foreign key, once per pair. (IF NOT EXISTS: a file whose version was set back by hand keeps them.)
 */
const SCHEMA_V8 = `
CREATE TABLE IF NOT EXISTS volumes (
  id       TEXT PRIMARY KEY,
  seq      INTEGER NOT NULL UNIQUE,
  name     TEXT NOT NULL,
  protocol TEXT NOT NULL CHECK (protocol IN ('nfs', 'iscsi', 'nvme-tcp', 'gluster')),
  targets  TEXT NOT NULL,
  ports    TEXT NOT NULL,
  qos      TEXT
) STRICT;
CREATE TABLE IF NOT EXISTS volume_attachments (
  id          TEXT PRIMARY KEY,
  seq         INTEGER NOT NULL UNIQUE,
  volume_id   TEXT NOT NULL REFERENCES volumes(id),
  endpoint_id TEXT NOT NULL REFERENCES endpoints(id),
  mode        TEXT NOT NULL CHECK (mode IN ('rw', 'ro')),
  UNIQUE (volume_id, endpoint_id)
) STRICT;
CREATE INDEX IF NOT EXISTS volume_attachments_endpoint ON volume_attachments (endpoint_id);
`;

/**
 * Version 9: security groups and network ACLs (docs/security-groups.md; version 8 is the volumes').
 * Rules are JSON lists, replaced whole like a load balancer's weights. An endpoint's groups are a JSON
 * list of group ids; NULL (an endpoint stored before groups existed) means its VPC's default group.
 */
const SCHEMA_V9 = `
CREATE TABLE IF NOT EXISTS security_groups (
  id         TEXT PRIMARY KEY,
  seq        INTEGER NOT NULL UNIQUE,
  vpc_id     TEXT NOT NULL REFERENCES vpcs(id),
  name       TEXT NOT NULL,
  is_default INTEGER NOT NULL CHECK (is_default IN (0, 1)),
  rules      TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX IF NOT EXISTS security_groups_default ON security_groups (vpc_id) WHERE is_default = 1;
CREATE TABLE IF NOT EXISTS network_acls (
  id        TEXT PRIMARY KEY,
  seq       INTEGER NOT NULL UNIQUE,
  subnet_id TEXT NOT NULL UNIQUE REFERENCES subnets(id),
  rules     TEXT NOT NULL
) STRICT;
`;

/**
 * Version 10: an attachment's mount addresses and source address (docs/volumes.md), JSON like a
 * volume's targets, NULL for an attachment stored before (it has none until attached again); a
 * volume's unhealthy targets (JSON, NULL: none).
 */
const V10_COLUMNS = [
  ['volume_attachments', 'mounts'],
  ['volume_attachments', 'source'],
  ['volumes', 'unhealthy'],
] as const;

/** Creates the schema in an empty database, or checks the version of an existing one. */
export function migrate(db: BetterSqlite3.Database, field?: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === SCHEMA_VERSION) return;
  if (version > SCHEMA_VERSION) {
    throw new OvercastError('OVC_ERR_STORE_SCHEMA_VERSION', `intent store schema ${version} is newer than this build's ${SCHEMA_VERSION}`, field);
  }
  db.transaction(() => {
    if (version < 1) db.exec(SCHEMA_V1);
    if (version < 2) db.exec(SCHEMA_V2);
    if (version < 3) db.exec(SCHEMA_V3);
    if (version < 4) db.exec(SCHEMA_V4);
    if (version < 5) db.exec(SCHEMA_V5);
    if (version < 6) db.exec(SCHEMA_V6);
    if (version < 7) db.exec(SCHEMA_V7);
    if (version < 8) db.exec(SCHEMA_V8);
    if (version < 9) {
      db.exec(SCHEMA_V9);
      // A file whose version was set back by hand may have the column already.
      const columns = db.pragma('table_info(endpoints)') as { name: string }[];
      if (!columns.some((c) => c.name === 'security_groups')) db.exec('ALTER TABLE endpoints ADD COLUMN security_groups TEXT');
    }
    if (version < 10) {
      for (const [table, column] of V10_COLUMNS) {
        const columns = db.pragma(`table_info(${table})`) as { name: string }[];
        if (!columns.some((x) => x.name === column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} TEXT`);
      }
    }
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}
