import { describe, expect, it } from 'vitest';
import { verifyChain } from '../../src/audit/audit-record.ts';
import type { Store } from '../../src/store/types.ts';
import { auditEntry } from './audit-entries.ts';

/** Raw SQL access to the audit table, to tamper with it the way an attacker would. */
export interface RawSql {
  run(sql: string, params?: unknown[]): Promise<void>;
}

/**
 * The same specification for every store: appends chain, and verify names the first record that
 * was edited, deleted or reordered.
 */
export function describeAuditLog(name: string, open: () => Promise<{ store: Store; sql: RawSql }>): void {
  describe(`${name} audit log`, () => {
    async function withRecords(n: number) {
      const { store, sql } = await open();
      for (let i = 1; i <= n; i++) await store.audit.append(auditEntry(i));
      return { store, sql };
    }

    it('chains records and verifies a clean log', async () => {
      const { store } = await withRecords(5);
      const tail = await store.audit.tail(2);
      expect(tail.map((r) => r.seq)).toEqual([4, 5]);
      expect(tail[1]?.prevHash).toBe(tail[0]?.hash);
      expect(await verifyChain(store.audit.all(2))).toEqual({ ok: true, checked: 5 });
      await store.close();
    });

    it('names an edited record', async () => {
      const { store, sql } = await withRecords(5);
      await sql.run(`UPDATE audit SET body = replace(body, '"alice"', '"mallory"') WHERE seq = 3`);
      const report = await verifyChain(store.audit.all());
      expect(report.ok).toBe(false);
      expect(report.problem).toMatchObject({ seq: 3, requestId: 'req-3', kind: 'edited' });
      await store.close();
    });

    it('names the record after a deleted one', async () => {
      const { store, sql } = await withRecords(5);
      await sql.run('DELETE FROM audit WHERE seq = 2');
      const report = await verifyChain(store.audit.all());
      expect(report.problem).toMatchObject({ seq: 3, kind: 'missing' });
      expect(report.problem?.message).toContain('1 record(s) before it were deleted');
      await store.close();
    });

    it('names a reordered record', async () => {
      const { store, sql } = await withRecords(5);
      // Swap the bodies and hashes of #2 and #3 but keep the seq column: the links break at #2.
      await sql.run('UPDATE audit SET seq = 100 WHERE seq = 2');
      await sql.run('UPDATE audit SET seq = 2 WHERE seq = 3');
      await sql.run('UPDATE audit SET seq = 3 WHERE seq = 100');
      const report = await verifyChain(store.audit.all());
      expect(report.ok).toBe(false);
      expect(report.problem?.seq).toBe(2);
      await store.close();
    });

    it('names a record whose body is no longer JSON', async () => {
      const { store, sql } = await withRecords(3);
      await sql.run(`UPDATE audit SET body = 'garbage' WHERE seq = 2`);
      const report = await verifyChain(store.audit.all());
      expect(report.problem).toMatchObject({ seq: 2, kind: 'edited' });
      await store.close();
    });

    it('serialises concurrent appends into one chain', async () => {
      const { store } = await open();
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.audit.append(auditEntry(i + 1))));
      expect(await verifyChain(store.audit.all())).toEqual({ ok: true, checked: 20 });
      await store.close();
    });

    it('claims an idempotency key once', async () => {
      const { store } = await open();
      expect(await store.idempotency.claim('event:Ev1', 360)).toBe(true);
      expect(await store.idempotency.claim('event:Ev1', 360)).toBe(false);
      expect(await store.idempotency.claim('event:Ev2', 360)).toBe(true);
      await store.close();
    });
  });
}
