import { join } from 'node:path';
import type { Config } from '../config/schema.ts';
import { PostgresStore } from './postgres-store.ts';
import { SqliteStore } from './sqlite-store.ts';
import type { Store } from './types.ts';

/** Opens the configured store: SQLite under the data dir by default, PostgreSQL when asked. */
export async function openStore(config: Config): Promise<Store> {
  if (config.store.driver === 'postgres' && config.store.postgresUrl) {
    return PostgresStore.open(config.store.postgresUrl);
  }
  return new SqliteStore(config.store.sqlitePath ?? join(config.dataDir, 'wheelhouse.db'));
}
