import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { SqliteStore } from '../../../src/store/sqlite-store.ts';
import { describeRunStore } from '../../support/run-store-spec.ts';

describeRunStore('SQLite', async () => new SqliteStore(':memory:'));

it('keeps an active run across a restart', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'wh-runs-')), 'wheelhouse.db');
  const before = new SqliteStore(path);
  await before.runs.create({ id: 'r1', kind: 'verification', status: 'active', state: { n: 1 } }, new Date());
  await before.close();
  const after = new SqliteStore(path);
  expect(await after.runs.list('verification', { status: ['active'] })).toMatchObject([
    { id: 'r1', state: { n: 1 } },
  ]);
  await after.close();
});
