import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { SqliteStore } from '../../../src/store/sqlite-store.ts';
import { approval, describeApprovals } from '../../support/approval-spec.ts';

describeApprovals('SQLite', async () => new SqliteStore(':memory:'));

it('keeps a pending approval across a restart', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'wh-approvals-')), 'wheelhouse.db');
  const before = new SqliteStore(path);
  await before.approvals.create(approval('r1'));
  await before.close();
  const after = new SqliteStore(path);
  expect((await after.approvals.pending()).map((r) => r.id)).toEqual(['r1']);
  expect(await after.approvals.vote('r1', 'U-ANA', new Date('2026-11-25T09:05:00Z'))).toMatchObject({
    kind: 'approved',
  });
  await after.close();
});
