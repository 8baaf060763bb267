import type { ApprovalStore } from '../approvals/types.ts';
import type { AuditEntry, AuditRecord } from '../audit/audit-record.ts';
import type { RunStore } from './run-store.ts';

/** The append-only, hash-chained audit log. */
export interface AuditLog {
  /** Appends one record atomically after the current head; concurrent appends are serialised. */
  append(entry: AuditEntry): Promise<AuditRecord>;
  /** The newest `limit` records, oldest first. */
  tail(limit: number): Promise<AuditRecord[]>;
  /** Every record in seq order, streamed in pages. */
  all(pageSize?: number): AsyncIterable<AuditRecord>;
}

/**
 * Side-effect deduplication. Slack retries events (a slow handler is retried while the first
 * attempt still runs), so every answer is claimed by a key derived from the event first; in the
 * store, so several replicas share the claims. Keep keys ≥ 6 minutes: Slack's retries span ~5.
 */
export interface Idempotency {
  /** True for the first caller of a key within ttlSeconds, false for every repeat. */
  claim(key: string, ttlSeconds: number): Promise<boolean>;
}

/** Everything Wheelhouse keeps: SQLite by default, PostgreSQL to scale out. */
export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  audit: AuditLog;
  idempotency: Idempotency;
  /** Pending and decided change approvals. */
  approvals: ApprovalStore;
  /** Verifications, alert threads, canary and pipeline runs: work that outlives a process. */
  runs: RunStore;
  /** For /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
