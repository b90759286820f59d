/** Schema version 5 (API tokens, idempotency keys): a version 4 file gains the tables and keeps its intent. */
import Database from 'better-sqlite3';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createSqliteTokenStore, createTokenService } from '../../../src/controller/auth/index.js';
import { createIntentService } from '../../../src/controller/intent/index.js';
import { SCHEMA_VERSION, openIntentStore } from '../../../src/controller/store/index.js';
import { TOPOLOGY, tempDir } from './fixtures.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => {
  tmp.remove();
});

it('migrates a version 4 file: the intent stays, the token and idempotency tables appear', async () => {
  const store = openIntentStore(tmp.file);
  const vpc = await (await createIntentService({ seedTopology: TOPOLOGY }, { store })).vpcs.create({ name: 'a', cidr: '10.0.0.0/16' });
  store.close();
  const db = new Database(tmp.file);
  db.exec('DROP TABLE api_tokens; DROP TABLE idempotency_keys;');
  db.pragma('user_version = 4');
  db.close();

  const migrated = openIntentStore(tmp.file);
  expect(migrated.database.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
  expect((await createIntentService({}, { store: migrated })).vpcs.get(vpc.id)).toEqual(vpc);
  const tokens = createTokenService({ store: createSqliteTokenStore(migrated.database), nowMs: () => 0 });
  const t = await tokens.issue({ scope: 'admin' });
  expect((await tokens.authenticate(t.token)).ok).toBe(true);
  migrated.close();
});
