import { z } from 'zod';
import type { AuditRecord } from '../audit/audit-record.ts';

/** The JSON body of a stored record: parsed on the way out, since the file can be edited by hand. */
const entrySchema = z.object({
  type: z.string(),
  requestId: z.string(),
  time: z.string(),
  actor: z.object({
    surface: z.string(),
    id: z.string(),
    name: z.string().optional(),
    channel: z.string().optional(),
    thread: z.string().optional(),
    kubeUser: z.string().optional(),
    kubeGroups: z.array(z.string()).optional(),
  }),
  cluster: z.string().optional(),
  text: z.string(),
  plan: z.unknown(),
  skill: z.string().nullable(),
  input: z.unknown(),
  outcome: z.enum(['ok', 'error', 'denied']),
  errorCode: z.string().nullable(),
  message: z.string(),
  durationMs: z.number(),
});

/** A row as both stores keep it: indexed columns plus the record body. */
export interface AuditRow {
  seq: number;
  body: string;
  prev_hash: string;
  hash: string;
}

export function toRow(record: AuditRecord): AuditRow {
  const { seq, prevHash, hash, ...entry } = record;
  return { seq, body: JSON.stringify(entry), prev_hash: prevHash, hash };
}

/** A row whose body no longer parses is returned as-is so that verification reports it as edited. */
export function fromRow(row: AuditRow): AuditRecord {
  let body: unknown;
  try {
    body = JSON.parse(row.body);
  } catch {
    body = undefined;
  }
  const parsed = entrySchema.safeParse(body);
  const entry = parsed.success
    ? parsed.data
    : {
        type: 'unreadable',
        requestId: '(unreadable)',
        time: '',
        actor: { surface: '', id: '' },
        text: row.body,
        plan: null,
        skill: null,
        input: null,
        outcome: 'error' as const,
        errorCode: null,
        message: 'record body is not valid JSON of an audit record',
        durationMs: 0,
      };
  return { ...entry, seq: Number(row.seq), prevHash: row.prev_hash, hash: row.hash };
}
