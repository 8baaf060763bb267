import { z } from 'zod';

/**
 * The Alertmanager webhook payload, version 4 (Alertmanager ≥ 0.16 up to today): one notification
 * for one alert group. Parsed once at the edge; inside, the types are trusted.
 */

const labelSet = z.record(z.string(), z.string());

/** Alertmanager writes the zero time for "not ended yet". */
const ZERO_TIME = '0001-01-01T00:00:00Z';

const timestamp = z
  .string()
  .refine((s) => s === ZERO_TIME || !Number.isNaN(Date.parse(s)), 'must be an RFC 3339 timestamp');

export const webhookAlertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: labelSet,
  annotations: labelSet.default({}),
  startsAt: timestamp,
  endsAt: timestamp.default(ZERO_TIME),
  generatorURL: z.string().max(8192).default(''),
  /** Hash of the labels: the alert's identity within its group. */
  fingerprint: z.string().min(1).max(128),
});

export const webhookPayloadSchema = z.object({
  version: z.literal('4', { error: 'must be "4" (Alertmanager webhook payload version 4)' }),
  /** Identifies the group for its whole life (route + group labels). */
  groupKey: z.string().min(1).max(4096),
  truncatedAlerts: z.number().int().min(0).default(0),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupLabels: labelSet.default({}),
  commonLabels: labelSet.default({}),
  commonAnnotations: labelSet.default({}),
  externalURL: z.string().max(2048).default(''),
  alerts: z.array(webhookAlertSchema).max(10_000),
});

export type WebhookAlert = z.output<typeof webhookAlertSchema>;
export type WebhookPayload = z.output<typeof webhookPayloadSchema>;

/** The outcome of reading a request body: the payload, or why it is not one (for the 400 and the audit). */
export type ParsedPayload = { ok: true; payload: WebhookPayload } | { ok: false; reason: string };

/** Parses a webhook body: JSON first, then the schema; every problem is named by its path. */
export function parseWebhookPayload(body: Buffer | string): ParsedPayload {
  let json: unknown;
  try {
    json = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch (error) {
    return {
      ok: false,
      reason: `body is not JSON: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  const parsed = webhookPayloadSchema.safeParse(json);
  if (parsed.success) return { ok: true, payload: parsed.data };
  const problems = parsed.error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
  const more = parsed.error.issues.length > 5 ? ` (and ${parsed.error.issues.length - 5} more)` : '';
  return { ok: false, reason: `not an Alertmanager v4 payload: ${problems.join('; ')}${more}` };
}

/** The alert's start or end as a Date; undefined for Alertmanager's zero time. */
export function alertTime(text: string): Date | undefined {
  if (text === ZERO_TIME || text.startsWith('0001-')) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

/**
 * The PromQL of the rule that raised the alert, from its generatorURL
 * (`…/graph?g0.expr=<expr>&g0.tab=1`); undefined when the URL carries none.
 */
export function generatorExpression(generatorURL: string): string | undefined {
  if (generatorURL === '') return undefined;
  try {
    const expr = new URL(generatorURL).searchParams.get('g0.expr');
    return expr === null || expr.trim() === '' ? undefined : expr;
  } catch {
    return undefined;
  }
}
