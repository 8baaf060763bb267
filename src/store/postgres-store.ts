import pg from 'pg';
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
  seq BIGINT PRIMARY KEY,
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
  expires_at BIGINT NOT NULL
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

/** Any number, fixed: the transaction lock that serialises audit appends across replicas. */
const AUDIT_LOCK = 0x77686175;
/** Another: the one that serialises creating the schema when replicas start together. */
const SCHEMA_LOCK = 0x77687363;

/** PostgreSQL behind the same interface, for several replicas. */
export class PostgresStore implements Store {
  readonly kind = 'postgres';
  readonly audit: AuditLog;
  readonly idempotency: Idempotency;
  readonly approvals: ApprovalStore;
  readonly runs: RunStore;
  readonly #pool: pg.Pool;

  private constructor(pool: pg.Pool, now: () => number) {
    this.#pool = pool;
    this.audit = new PostgresAuditLog(pool);
    this.idempotency = new PostgresIdempotency(pool, now);
    this.approvals = new PostgresApprovals(pool);
    this.runs = new PostgresRuns(pool);
  }

  static async open(url: string, now: () => number = Date.now): Promise<PostgresStore> {
    const pool = new pg.Pool({
      connectionString: url,
      max: 5,
      connectionTimeoutMillis: 5000,
      statement_timeout: 10_000,
    });
    // An idle connection PostgreSQL drops (a restart, a failover, an admin's terminate) is emitted
    // here; with no listener Node would end the whole process. The pool has already discarded that
    // client, and the next query opens a new one (readiness pings show whether that works).
    pool.on('error', () => undefined);
    try {
      await createSchema(pool);
    } catch (e) {
      await pool.end();
      throw e;
    }
    return new PostgresStore(pool, now);
  }

  async ping(): Promise<void> {
    await this.#pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}

/**
 * Creates the tables that are missing. `CREATE ... IF NOT EXISTS` is not safe against itself: two
 * replicas starting on a fresh database both find a table missing and one fails on the catalog's
 * unique index (pg_type_typname_nsp_index), so creation takes a lock first.
 */
async function createSchema(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
    await client.query(SCHEMA);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
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

class PostgresAuditLog implements AuditLog {
  readonly #pool: pg.Pool;
  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async append(entry: AuditEntry): Promise<AuditRecord> {
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK]);
      const head = await client.query('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1');
      const last = head.rows[0];
      const seq = last ? Number(last.seq) + 1 : 1;
      const prevHash = last ? String(last.hash) : GENESIS_HASH;
      const record = sealRecord(entry, seq, prevHash);
      const row = toRow(record);
      await client.query(
        'INSERT INTO audit (seq, request_id, time, type, body, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [row.seq, record.requestId, record.time, record.type, row.body, row.prev_hash, row.hash],
      );
      await client.query('COMMIT');
      return record;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  async tail(limit: number): Promise<AuditRecord[]> {
    const result = await this.#pool.query(
      'SELECT seq, body, prev_hash, hash FROM audit ORDER BY seq DESC LIMIT $1',
      [limit],
    );
    return result.rows.map(auditRow).map(fromRow).reverse();
  }

  async *all(pageSize = 1000): AsyncIterable<AuditRecord> {
    let after = 0;
    for (;;) {
      const result = await this.#pool.query(
        'SELECT seq, body, prev_hash, hash FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2',
        [after, pageSize],
      );
      const rows = result.rows.map(auditRow);
      for (const row of rows) yield fromRow(row);
      const last = rows[rows.length - 1];
      if (!last || rows.length < pageSize) return;
      after = last.seq;
    }
  }
}

class PostgresIdempotency implements Idempotency {
  readonly #pool: pg.Pool;
  readonly #now: () => number;
  constructor(pool: pg.Pool, now: () => number) {
    this.#pool = pool;
    this.#now = now;
  }

  async claim(key: string, ttlSeconds: number): Promise<boolean> {
    const now = this.#now();
    // An expired key is taken over in the same statement, so two replicas cannot both win it.
    const result = await this.#pool.query(
      `INSERT INTO idempotency (key, expires_at) VALUES ($1, $2)
       ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE idempotency.expires_at <= $3`,
      [key, now + ttlSeconds * 1000, now],
    );
    return result.rowCount === 1;
  }
}

class PostgresApprovals implements ApprovalStore {
  readonly #pool: pg.Pool;
  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /** Read-modify-write of one row under SELECT … FOR UPDATE, so concurrent clicks on any replica serialise. */
  async #locked<T>(
    id: string,
    fn: (record: ApprovalRecord | undefined) => { next?: ApprovalRecord; result: T },
  ): Promise<T> {
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      const row = await client.query('SELECT body FROM approvals WHERE id = $1 FOR UPDATE', [id]);
      const current = row.rows[0] ? parseApproval(String(row.rows[0].body)) : undefined;
      const { next, result } = fn(current);
      if (next) {
        await client.query('UPDATE approvals SET status = $1, expires_at = $2, body = $3 WHERE id = $4', [
          next.status,
          next.expiresAt,
          JSON.stringify(next),
          next.id,
        ]);
      }
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  async create(record: ApprovalRecord): Promise<void> {
    await this.#pool.query('INSERT INTO approvals (id, status, expires_at, body) VALUES ($1, $2, $3, $4)', [
      record.id,
      record.status,
      record.expiresAt,
      JSON.stringify(record),
    ]);
  }

  async get(id: string): Promise<ApprovalRecord | undefined> {
    const row = await this.#pool.query('SELECT body FROM approvals WHERE id = $1', [id]);
    return row.rows[0] ? parseApproval(String(row.rows[0].body)) : undefined;
  }

  vote(id: string, approverId: string, now: Date): Promise<VoteResult> {
    return this.#locked<VoteResult>(id, (record) =>
      record ? castVote(record, approverId, now) : { result: { kind: 'rejected', reason: 'unknown' } },
    );
  }

  deny(id: string, by: string, reason: string, now: Date): Promise<boolean> {
    return this.#locked(id, (record) =>
      record?.status === 'pending'
        ? {
            next: {
              ...record,
              status: 'denied',
              decidedBy: by,
              reason: `${reason} (at ${now.toISOString()})`,
            },
            result: true,
          }
        : { result: false },
    );
  }

  transition(id: string, from: ApprovalStatus, to: ApprovalStatus, reason?: string): Promise<boolean> {
    return this.#locked(id, (record) =>
      record?.status === from
        ? { next: { ...record, status: to, ...(reason === undefined ? {} : { reason }) }, result: true }
        : { result: false },
    );
  }

  async expire(now: Date): Promise<ApprovalRecord[]> {
    const result = await this.#pool.query(
      `UPDATE approvals SET status = 'expired', body = jsonb_set(body::jsonb, '{status}', '"expired"')::text
       WHERE status = 'pending' AND expires_at <= $1 RETURNING body`,
      [now.toISOString()],
    );
    return result.rows.map((row) => parseApproval(String(row.body)));
  }

  async pending(): Promise<ApprovalRecord[]> {
    const result = await this.#pool.query(
      "SELECT body FROM approvals WHERE status = 'pending' ORDER BY expires_at",
    );
    return result.rows.map((row) => parseApproval(String(row.body)));
  }

  markReminded(id: string, now: Date): Promise<boolean> {
    return this.#locked(id, (record) =>
      record?.status === 'pending' && !record.remindedAt
        ? { next: { ...record, remindedAt: now.toISOString() }, result: true }
        : { result: false },
    );
  }

  async setMessage(id: string, where: ApprovalRecord['where']): Promise<void> {
    await this.#locked(id, (record) => ({
      next: record ? { ...record, where } : undefined,
      result: undefined,
    }));
  }
}

class PostgresRuns implements RunStore {
  readonly #pool: pg.Pool;
  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async create(run: NewRun, now: Date): Promise<RunRecord | undefined> {
    const at = now.toISOString();
    const result = await this.#pool.query(
      `INSERT INTO runs (id, kind, key, status, state, version, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, 1, $6, $6) ON CONFLICT DO NOTHING RETURNING *`,
      [run.id, run.kind, run.key ?? null, run.status, JSON.stringify(run.state), at],
    );
    return result.rows[0] ? runRow(result.rows[0]) : undefined;
  }

  async get(id: string): Promise<RunRecord | undefined> {
    const result = await this.#pool.query('SELECT * FROM runs WHERE id = $1', [id]);
    return result.rows[0] ? runRow(result.rows[0]) : undefined;
  }

  async byKey(kind: string, key: string): Promise<RunRecord | undefined> {
    const result = await this.#pool.query('SELECT * FROM runs WHERE kind = $1 AND key = $2', [kind, key]);
    return result.rows[0] ? runRow(result.rows[0]) : undefined;
  }

  async update(
    id: string,
    version: number,
    next: { status?: string; state?: unknown },
    now: Date,
  ): Promise<RunRecord | undefined> {
    const result = await this.#pool.query(
      `UPDATE runs SET status = COALESCE($1, status), state = COALESCE($2, state), version = version + 1,
       updated_at = $3 WHERE id = $4 AND version = $5 RETURNING *`,
      [
        next.status ?? null,
        next.state === undefined ? null : JSON.stringify(next.state),
        now.toISOString(),
        id,
        version,
      ],
    );
    return result.rows[0] ? runRow(result.rows[0]) : undefined;
  }

  async list(
    kind: string,
    options: { status?: readonly string[]; limit?: number } = {},
  ): Promise<RunRecord[]> {
    const statuses = options.status ?? [];
    const result = await this.#pool.query(
      `SELECT * FROM runs WHERE kind = $1 AND (cardinality($2::text[]) = 0 OR status = ANY($2::text[]))
       ORDER BY created_at, id LIMIT $3`,
      [kind, [...statuses], options.limit ?? 1000],
    );
    return result.rows.map(runRow);
  }
}
