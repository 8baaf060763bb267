import type { V1LabelSelector } from '@kubernetes/client-node';
import { WheelhouseError } from '../errors.ts';

/** One clause of a label selector, e.g. `app=checkout`, `tier notin (web)` or `!canary`. */
export type LabelRequirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'doesnotexist' };

/** A parsed label selector: every requirement must hold. An empty list selects everything. */
export type LabelMatcher = readonly LabelRequirement[];

const KEY = '[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?';
const VALUE = '([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?';
const EQUALITY = new RegExp(`^(${KEY})\\s*(==|=|!=)\\s*(${VALUE})$`);
const SET = new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\(([^)]*)\\)$`);
const EXISTS = new RegExp(`^(!?)\\s*(${KEY})$`);
const VALUE_ONLY = new RegExp(`^${VALUE}$`);

/**
 * Parses a Kubernetes label selector the way the API server does (`app=checkout,tier!=web`,
 * `env in (prod,staging)`, `!canary`). Throws INVALID_INPUT naming the clause it could not read.
 */
export function parseLabelSelector(text: string | undefined): LabelMatcher {
  if (text === undefined || text.trim() === '') return [];
  return splitClauses(text).map((clause) => parseClause(clause, text));
}

/** Builds a matcher from a workload's `spec.selector`. */
export function matcherFromLabelSelector(selector: V1LabelSelector | undefined): LabelMatcher {
  if (!selector) return [];
  const requirements: LabelRequirement[] = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => ({
    key,
    op: 'in',
    values: [value],
  }));
  for (const expression of selector.matchExpressions ?? []) {
    const op = expression.operator.toLowerCase();
    if (op === 'in' || op === 'notin') {
      requirements.push({ key: expression.key, op, values: expression.values ?? [] });
    } else if (op === 'exists' || op === 'doesnotexist') {
      requirements.push({ key: expression.key, op });
    }
  }
  return requirements;
}

/** Writes a `spec.selector` back as selector text, e.g. for a LIST request or for display. */
export function formatLabelSelector(selector: V1LabelSelector | undefined): string {
  return formatMatcher(matcherFromLabelSelector(selector));
}

export function formatMatcher(matcher: LabelMatcher): string {
  return matcher
    .map((r) => {
      switch (r.op) {
        case 'exists':
          return r.key;
        case 'doesnotexist':
          return `!${r.key}`;
        case 'in':
          return r.values.length === 1 ? `${r.key}=${r.values[0]}` : `${r.key} in (${r.values.join(',')})`;
        case 'notin':
          return r.values.length === 1
            ? `${r.key}!=${r.values[0]}`
            : `${r.key} notin (${r.values.join(',')})`;
      }
      return '';
    })
    .join(',');
}

/** True when the labels satisfy every requirement (same semantics as the API server). */
export function matchesLabels(labels: Record<string, string> | undefined, matcher: LabelMatcher): boolean {
  const all = labels ?? {};
  return matcher.every((r) => {
    const has = Object.hasOwn(all, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case 'doesnotexist':
        return !has;
      case 'in':
        return has && r.values.includes(all[r.key] ?? '');
      case 'notin':
        // As in Kubernetes: a missing label satisfies `notin` and `!=`.
        return !has || !r.values.includes(all[r.key] ?? '');
    }
    return false;
  });
}

/** Splits on commas that are not inside `( … )`. */
function splitClauses(text: string): string[] {
  const clauses: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      clauses.push(current.trim());
      current = '';
    } else {
      current += ch;
    }
  }
  clauses.push(current.trim());
  return clauses;
}

function parseClause(clause: string, whole: string): LabelRequirement {
  const set = SET.exec(clause);
  if (set) {
    const values = (set[4] ?? '').split(',').map((v) => v.trim());
    if (values.every((v) => VALUE_ONLY.test(v))) {
      return { key: set[1] ?? '', op: set[3] === 'notin' ? 'notin' : 'in', values };
    }
  }
  const equality = EQUALITY.exec(clause);
  if (equality) {
    const op = equality[3] === '!=' ? 'notin' : 'in';
    return { key: equality[1] ?? '', op, values: [equality[4] ?? ''] };
  }
  const exists = EXISTS.exec(clause);
  if (exists) return { key: exists[2] ?? '', op: exists[1] === '!' ? 'doesnotexist' : 'exists' };
  throw new WheelhouseError(
    'INVALID_INPUT',
    `"${clause || whole}" is not a label selector clause I can read.`,
    {
      hint: 'Write selectors like app=checkout, tier!=web, "env in (prod,staging)" or !canary.',
    },
  );
}
