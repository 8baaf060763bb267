import type { RunRecord } from './run-store.ts';

/** A `runs` row as both stores return it (snake_case columns, JSON state) → RunRecord. */
export function runRow(row: Record<string, unknown>): RunRecord {
  return {
    id: String(row['id']),
    kind: String(row['kind']),
    key: row['key'] === null || row['key'] === undefined ? undefined : String(row['key']),
    status: String(row['status']),
    state: JSON.parse(String(row['state'])),
    version: Number(row['version']),
    createdAt: String(row['created_at']),
    updatedAt: String(row['updated_at']),
  };
}
