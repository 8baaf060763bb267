import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
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
