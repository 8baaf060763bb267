import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { castVote } from '../approvals/approval-rules.ts';
import type { ApprovalRecord, ApprovalStatus, ApprovalStore, VoteResult } from '../approvals/types.ts';
import { type AuditEntry, type AuditRecord, GENESIS_HASH, sealRecord } from '../audit/audit-record.ts';
import { parseApproval } from './approval-row.ts';
import { type AuditRow, fromRow, toRow } from './audit-row.ts';
import { runRow } from './run-row.ts';
import type { NewRun, RunRecord, RunStore } from './run-store.ts';
import type { AuditLog, Idempotency, Store } from './types.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY,
  request_id TEXT NOT NULL,
  time TEXT NOT NULL,
  type TEXT NOT NULL,
  body TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_request ON audit (request_id);
CREATE TABLE IF NOT EXISTS idempotency (
  key TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS approvals (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS approvals_status ON approvals (status, expires_at);
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  key TEXT,
  status TEXT NOT NULL,
  state TEXT NOT NULL,
  version INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (kind, key)
);
CREATE INDEX IF NOT EXISTS runs_kind_status ON runs (kind, status, created_at);
`;

/** The embedded default: one SQLite file through Node's built-in node:sqlite. */
export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly audit: AuditLog;
  readonly idempotency: Idempotency;
  readonly approvals: ApprovalStore;
  readonly runs: RunStore;
  readonly #db: DatabaseSync;

  constructor(path: string, now: () => number = Date.now) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path);
    // WAL lets `audit tail` read while the bot writes; busy_timeout waits instead of failing.
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;');
    this.#db.exec(SCHEMA);
    this.audit = new SqliteAuditLog(this.#db);
    this.idempotency = new SqliteIdempotency(this.#db, now);
    this.approvals = new SqliteApprovals(this.#db);
    this.runs = new SqliteRuns(this.#db);
  }

  async ping(): Promise<void> {
    this.#db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
  }
}

function auditRow(row: Record<string, unknown>): AuditRow {
  return {
    seq: Number(row['seq']),
    body: String(row['body']),
    prev_hash: String(row['prev_hash']),
    hash: String(row['hash']),
  };
}

class SqliteAuditLog implements AuditLog {
  readonly #db: DatabaseSync;
  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  async append(entry: AuditEntry): Promise<AuditRecord> {
    // IMMEDIATE takes the write lock first, so two processes never chain onto the same head.
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const head = this.#db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get();
      const seq = head ? Number(head['seq']) + 1 : 1;
      const prevHash = head ? String(head['hash']) : GENESIS_HASH;
      const record = sealRecord(entry, seq, prevHash);
      const row = toRow(record);
      this.#db
        .prepare(
          'INSERT INTO audit (seq, request_id, time, type, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(row.seq, record.requestId, record.time, record.type, row.body, row.prev_hash, row.hash);
      this.#db.exec('COMMIT');
      return record;
    } catch (e) {
      this.#db.exec('ROLLBACK');
      throw e;
    }
  }

  async tail(limit: number): Promise<AuditRecord[]> {
    const rows = this.#db
      .prepare('SELECT seq, body, prev_hash, hash FROM audit ORDER BY seq DESC LIMIT ?')
      .all(limit)
      .map(auditRow);
    return rows.map(fromRow).reverse();
  }

  async *all(pageSize = 1000): AsyncIterable<AuditRecord> {
    let after = 0;
    for (;;) {
      const rows = this.#db
        .prepare('SELECT seq, body, prev_hash, hash FROM audit WHERE seq > ? ORDER BY seq LIMIT ?')
        .all(after, pageSize)
        .map(auditRow);
      for (const row of rows) yield fromRow(row);
      const last = rows[rows.length - 1];
      if (!last || rows.length < pageSize) return;
      after = Number(last.seq);
    }
  }
}

class SqliteIdempotency implements Idempotency {
  readonly #db: DatabaseSync;
  readonly #now: () => number;
  constructor(db: DatabaseSync, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  async claim(key: string, ttlSeconds: number): Promise<boolean> {
    const now = this.#now();
    this.#db.prepare('DELETE FROM idempotency WHERE expires_at <= ?').run(now);
    const result = this.#db
      .prepare('INSERT INTO idempotency (key, expires_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING')
      .run(key, now + ttlSeconds * 1000);
    return Number(result.changes) === 1;
  }
}

class SqliteApprovals implements ApprovalStore {
  readonly #db: DatabaseSync;
  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  #read(id: string): ApprovalRecord | undefined {
    const row = this.#db.prepare('SELECT body FROM approvals WHERE id = ?').get(id);
    return row ? parseApproval(String(row['body'])) : undefined;
  }

  #write(record: ApprovalRecord): void {
    this.#db
      .prepare('UPDATE approvals SET status = ?, expires_at = ?, body = ? WHERE id = ?')
      .run(record.status, record.expiresAt, JSON.stringify(record), record.id);
  }

  /** Read-modify-write under SQLite's write lock, so concurrent clicks see each other. */
  #locked<T>(fn: () => T): T {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.#db.exec('COMMIT');
      return result;
    } catch (e) {
      this.#db.exec('ROLLBACK');
      throw e;
    }
  }

  async create(record: ApprovalRecord): Promise<void> {
    this.#db
      .prepare('INSERT INTO approvals (id, status, expires_at, body) VALUES (?, ?, ?, ?)')
      .run(record.id, record.status, record.expiresAt, JSON.stringify(record));
  }

  async get(id: string): Promise<ApprovalRecord | undefined> {
    return this.#read(id);
  }

  async vote(id: string, approverId: string, now: Date): Promise<VoteResult> {
    return this.#locked(() => {
      const record = this.#read(id);
      if (!record) return { kind: 'rejected', reason: 'unknown' };
      const { next, result } = castVote(record, approverId, now);
      if (next) this.#write(next);
      return result;
    });
  }

  async deny(id: string, by: string, reason: string, now: Date): Promise<boolean> {
    return this.#locked(() => {
      const record = this.#read(id);
      if (record?.status !== 'pending') return false;
      this.#write({
        ...record,
        status: 'denied',
        decidedBy: by,
        reason: `${reason} (at ${now.toISOString()})`,
      });
      return true;
    });
  }

  async transition(id: string, from: ApprovalStatus, to: ApprovalStatus, reason?: string): Promise<boolean> {
    return this.#locked(() => {
      const record = this.#read(id);
      if (record?.status !== from) return false;
      this.#write({ ...record, status: to, ...(reason === undefined ? {} : { reason }) });
      return true;
    });
  }

  async expire(now: Date): Promise<ApprovalRecord[]> {
    return this.#locked(() => {
      const rows = this.#db
        .prepare("SELECT body FROM approvals WHERE status = 'pending' AND expires_at <= ?")
        .all(now.toISOString());
      const expired = rows.map((row) => ({
        ...parseApproval(String(row['body'])),
        status: 'expired' as const,
      }));
      for (const record of expired) this.#write(record);
      return expired;
    });
  }

  async pending(): Promise<ApprovalRecord[]> {
    return this.#db
      .prepare("SELECT body FROM approvals WHERE status = 'pending' ORDER BY expires_at")
      .all()
      .map((row) => parseApproval(String(row['body'])));
  }

  async markReminded(id: string, now: Date): Promise<boolean> {
    return this.#locked(() => {
      const record = this.#read(id);
      if (record?.status !== 'pending' || record.remindedAt) return false;
      this.#write({ ...record, remindedAt: now.toISOString() });
      return true;
    });
  }

  async setMessage(id: string, where: ApprovalRecord['where']): Promise<void> {
    this.#locked(() => {
      const record = this.#read(id);
      if (record) this.#write({ ...record, where });
    });
  }
}

class SqliteRuns implements RunStore {
  readonly #db: DatabaseSync;
  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  async create(run: NewRun, now: Date): Promise<RunRecord | undefined> {
    const at = now.toISOString();
    const result = this.#db
      .prepare(
        `INSERT INTO runs (id, kind, key, status, state, version, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 1, ?, ?) ON CONFLICT DO NOTHING`,
      )
      .run(run.id, run.kind, run.key ?? null, run.status, JSON.stringify(run.state), at, at);
    return Number(result.changes) === 1 ? this.get(run.id) : undefined;
  }

  async get(id: string): Promise<RunRecord | undefined> {
    const row = this.#db.prepare('SELECT * FROM runs WHERE id = ?').get(id);
    return row ? runRow(row) : undefined;
  }

  async byKey(kind: string, key: string): Promise<RunRecord | undefined> {
    const row = this.#db.prepare('SELECT * FROM runs WHERE kind = ? AND key = ?').get(kind, key);
    return row ? runRow(row) : undefined;
  }

  async update(
    id: string,
    version: number,
    next: { status?: string; state?: unknown },
    now: Date,
  ): Promise<RunRecord | undefined> {
    const result = this.#db
      .prepare(
        `UPDATE runs SET status = COALESCE(?, status), state = COALESCE(?, state), version = version + 1,
         updated_at = ? WHERE id = ? AND version = ?`,
      )
      .run(
        next.status ?? null,
        next.state === undefined ? null : JSON.stringify(next.state),
        now.toISOString(),
        id,
        version,
      );
    return Number(result.changes) === 1 ? this.get(id) : undefined;
  }

  async list(
    kind: string,
    options: { status?: readonly string[]; limit?: number } = {},
  ): Promise<RunRecord[]> {
    const statuses = options.status ?? [];
    const where = statuses.length ? ` AND status IN (${statuses.map(() => '?').join(', ')})` : '';
    return this.#db
      .prepare(`SELECT * FROM runs WHERE kind = ?${where} ORDER BY created_at, id LIMIT ?`)
      .all(kind, ...statuses, options.limit ?? 1000)
      .map(runRow);
  }
}
