import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../../src/store/postgres-store.ts';
import { describeApprovals } from '../../support/approval-spec.ts';
import { describeAuditLog } from '../../support/audit-tamper.ts';
import { describeRunStore } from '../../support/run-store-spec.ts';

// The PostgreSQL server on 127.0.0.1:5432 (trust auth). Each store gets a database of its own.
const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const created: string[] = [];
let admin: pg.Client;

beforeAll(async () => {
  admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
  await admin.connect();
});

afterAll(async () => {
  for (const db of created) await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await admin.end();
});

describeAuditLog('PostgreSQL', async () => {
  const db = `wh_test_${process.pid}_${created.length}`;
  await admin.query(`CREATE DATABASE ${db}`);
  created.push(db);
  const url = `postgres://postgres@127.0.0.1:5432/${db}`;
  const store = await PostgresStore.open(url);
  return {
    store,
    sql: {
      async run(sql: string) {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        await client.query(sql);
        await client.end();
      },
    },
  };
});

describeApprovals('PostgreSQL', async () => {
  const db = `wh_test_${process.pid}_${created.length}`;
  await admin.query(`CREATE DATABASE ${db}`);
  created.push(db);
  return PostgresStore.open(`postgres://postgres@127.0.0.1:5432/${db}`);
});

describeRunStore('PostgreSQL', async () => {
  const db = `wh_test_${process.pid}_${created.length}`;
  await admin.query(`CREATE DATABASE ${db}`);
  created.push(db);
  return PostgresStore.open(`postgres://postgres@127.0.0.1:5432/${db}`);
});

describe('PostgreSQL schema', () => {
  it('opens for every replica when several start together on a fresh database', async () => {
    const db = `wh_test_${process.pid}_${created.length}`;
    await admin.query(`CREATE DATABASE ${db}`);
    created.push(db);
    // Without a lock around the schema, most of these lose a race on the catalog and throw.
    const opened = await Promise.allSettled(
      Array.from({ length: 4 }, () => PostgresStore.open(`postgres://postgres@127.0.0.1:5432/${db}`)),
    );
    for (const o of opened) if (o.status === 'fulfilled') await o.value.close();
    expect(opened.map((o) => (o.status === 'rejected' ? String(o.reason) : 'opened'))).toEqual(
      Array(4).fill('opened'),
    );
  });
});

describe('PostgreSQL connections', () => {
  it('survives PostgreSQL dropping its idle connections and carries on with new ones', async () => {
    const db = `wh_test_${process.pid}_${created.length}`;
    await admin.query(`CREATE DATABASE ${db}`);
    created.push(db);
    const store = await PostgresStore.open(`postgres://postgres@127.0.0.1:5432/${db}`);
    try {
      await store.ping();
      const dropped = await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [db],
      );
      expect(dropped.rowCount).toBeGreaterThan(0);
      // The pool hears of the dropped connection on its own schedule; a crash would end this run.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await store.ping();
      expect(await store.idempotency.claim('after-drop', 60)).toBe(true);
    } finally {
      await store.close();
    }
  });
});
