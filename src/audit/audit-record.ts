import { createHash } from 'node:crypto';

/** What happened to a request. */
export type AuditOutcome = 'ok' | 'error' | 'denied';

/** One audit event as the runner writes it; the store adds seq, prevHash and hash. */
export interface AuditEntry {
  /** Event type: "request" now; later "approval", "apply", "verify", … */
  type: string;
  requestId: string;
  time: string;
  actor: {
    surface: string;
    id: string;
    name?: string | undefined;
    channel?: string | undefined;
    thread?: string | undefined;
    kubeUser?: string | undefined;
    kubeGroups?: string[] | undefined;
  };
  /** The cluster acted on, when Wheelhouse serves several. */
  cluster?: string | undefined;
  /** Raw chat text as typed. */
  text: string;
  /** Parsed plan (skill steps and inputs), or null when parsing failed. */
  plan: unknown;
  skill: string | null;
  input: unknown;
  outcome: AuditOutcome;
  errorCode: string | null;
  /** Result summary or error message. */
  message: string;
  durationMs: number;
}

/** Who, as the audit records it: the chat user, where, and the Kubernetes identity acted as. */
export function auditActor(actor: {
  surface: string;
  id: string;
  name?: string | undefined;
  channel?: string | undefined;
  thread?: string | undefined;
  kube?: { user: string; groups: string[] } | undefined;
}): AuditEntry['actor'] {
  return {
    surface: actor.surface,
    id: actor.id,
    name: actor.name,
    channel: actor.channel,
    thread: actor.thread,
    kubeUser: actor.kube?.user,
    kubeGroups: actor.kube?.groups,
  };
}

/** A stored, hash-chained audit record. */
export interface AuditRecord extends AuditEntry {
  seq: number;
  prevHash: string;
  hash: string;
}

/** The prevHash of the first record. */
export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted, so the hash does not depend on key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** sha256 over the previous hash and every field of the record except its own hash. */
export function hashRecord(record: Omit<AuditRecord, 'hash'>): string {
  const { prevHash, ...rest } = record;
  return createHash('sha256').update(prevHash).update('\n').update(canonicalJson(rest)).digest('hex');
}

export function sealRecord(entry: AuditEntry, seq: number, prevHash: string): AuditRecord {
  const unsealed = { ...entry, seq, prevHash };
  return { ...unsealed, hash: hashRecord(unsealed) };
}

/** The first problem found in a chain, naming the record. */
export interface ChainProblem {
  seq: number;
  requestId: string;
  kind: 'edited' | 'missing' | 'reordered';
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  checked: number;
  problem?: ChainProblem;
}

/**
 * Walks records in seq order. An edit changes a record's hash; a deletion leaves a gap in seq
 * and a broken link; a reorder breaks the links. Reports the first bad record.
 */
export async function verifyChain(
  records: AsyncIterable<AuditRecord> | Iterable<AuditRecord>,
): Promise<VerifyReport> {
  let previous: AuditRecord | undefined;
  let checked = 0;
  for await (const record of records) {
    const bad = (kind: ChainProblem['kind'], message: string): VerifyReport => ({
      ok: false,
      checked,
      problem: { seq: record.seq, requestId: record.requestId, kind, message },
    });
    const { hash, ...rest } = record;
    if (hashRecord(rest) !== hash) {
      return bad(
        'edited',
        `record #${record.seq} (request ${record.requestId}) was changed after it was written`,
      );
    }
    const expectedSeq = previous ? previous.seq + 1 : 1;
    const expectedPrev = previous ? previous.hash : GENESIS_HASH;
    if (record.prevHash !== expectedPrev) {
      if (record.seq !== expectedSeq) {
        return bad(
          'missing',
          `record #${record.seq} (request ${record.requestId}) follows #${previous?.seq ?? 0}: ${record.seq - expectedSeq} record(s) before it were deleted`,
        );
      }
      return bad(
        'reordered',
        `record #${record.seq} (request ${record.requestId}) does not link to the record before it: records were reordered or replaced`,
      );
    }
    if (record.seq !== expectedSeq) {
      return bad(
        'reordered',
        `record #${record.seq} (request ${record.requestId}) carries the wrong sequence number`,
      );
    }
    previous = record;
    checked++;
  }
  return { ok: true, checked };
}
