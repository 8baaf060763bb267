import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { expect, it } from 'vitest';
import { SqliteStore } from '../../../src/store/sqlite-store.ts';
import { auditEntry } from '../../support/audit-entries.ts';
import { describeAuditLog } from '../../support/audit-tamper.ts';

describeAuditLog('SQLite', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'wh-audit-')), 'wheelhouse.db');
  const store = new SqliteStore(path);
  return {
    store,
    sql: {
      async run(sql: string) {
        const db = new DatabaseSync(path);
        db.exec(sql);
        db.close();
      },
    },
  };
});

it('expires idempotency keys after their ttl', async () => {
  let now = 1_000_000;
  const store = new SqliteStore(':memory:', () => now);
  expect(await store.idempotency.claim('k', 60)).toBe(true);
  now += 59_000;
  expect(await store.idempotency.claim('k', 60)).toBe(false);
  now += 2_000;
  expect(await store.idempotency.claim('k', 60)).toBe(true);
  await store.close();
});

it('keeps the chain across reopening the file', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'wh-audit-')), 'wheelhouse.db');
  const first = new SqliteStore(path);
  const a = await first.audit.append(auditEntry(1));
  await first.close();
  const second = new SqliteStore(path);
  const b = await second.audit.append(auditEntry(2));
  expect(b.seq).toBe(2);
  expect(b.prevHash).toBe(a.hash);
  await second.close();
});
