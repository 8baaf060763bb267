import { z } from 'zod';

/** A Kubernetes namespace or other DNS-1123 label. */
export const dnsLabel = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label: lower-case letters, digits and "-"');

const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Parses "90s", "15m", "2h" or "7d" into seconds; undefined when malformed. */
export function parseDurationSeconds(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const [, amount, unit] = match;
  return Number(amount) * (UNIT_SECONDS[unit ?? 's'] ?? 1);
}

/** A duration written like kubectl's --since ("30s", "15m", "1h", "2d"), parsed to seconds. */
export const duration = z
  .string()
  .refine((s) => parseDurationSeconds(s) !== undefined, 'must be a duration like 30s, 15m, 1h or 2d')
  .transform((s) => parseDurationSeconds(s) ?? 0);

/** A label selector such as "app=checkout" or "app in (a,b),tier!=web". */
export const labelSelector = z
  .string()
  .max(500)
  .regex(/^[A-Za-z0-9_./\-=!,() ]+$/, 'must be a label selector such as app=checkout');

/** Formats seconds back to the shortest duration text, e.g. 3600 → "1h". */
export function formatDuration(seconds: number): string {
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}
