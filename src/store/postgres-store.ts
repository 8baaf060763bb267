import pg from 'pg';
import { type AuditEntry, type AuditRecord, GENESIS_HASH, sealRecord } from '../audit/audit-record.ts';
import { type AuditRow, fromRow, toRow } from './audit-row.ts';
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
`;

/** Any number, fixed: the transaction lock that serialises audit appends across replicas. */
const AUDIT_LOCK = 0x77686175;

/** PostgreSQL behind the same interface, for several replicas. */
export class PostgresStore implements Store {
  readonly kind = 'postgres';
  readonly audit: AuditLog;
  readonly idempotency: Idempotency;
  readonly #pool: pg.Pool;

  private constructor(pool: pg.Pool, now: () => number) {
    this.#pool = pool;
    this.audit = new PostgresAuditLog(pool);
    this.idempotency = new PostgresIdempotency(pool, now);
  }

  static async open(url: string, now: () => number = Date.now): Promise<PostgresStore> {
    const pool = new pg.Pool({
      connectionString: url,
      max: 5,
      connectionTimeoutMillis: 5000,
      statement_timeout: 10_000,
    });
    try {
      await pool.query(SCHEMA);
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
