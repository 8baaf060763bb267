import { type FieldChange, REQUEST_ANNOTATION } from './types.ts';

/**
 * Fields a diff never shows: the server writes them on every change (or they are the object's
 * bookkeeping), so they say nothing about what the change does. Paths as `diffObjects` prints them.
 */
export const IGNORED_PATHS: readonly string[] = [
  'status',
  'metadata.managedFields',
  'metadata.resourceVersion',
  'metadata.generation',
  'metadata.uid',
  'metadata.creationTimestamp',
  'metadata.selfLink',
  `metadata.annotations${formatKey(REQUEST_ANNOTATION)}`,
];

/**
 * Keys that identify the items of a list, in the order they are tried: a list whose items all
 * carry a distinct value of one of them (on both sides) is compared item by item, matched by that
 * key, like server-side apply's list-map keys. `name` covers containers, env, ports, volumes;
 * `mountPath` covers volumeMounts (whose names may repeat), `containerPort` unnamed ports.
 */
const LIST_KEYS = ['name', 'mountPath', 'containerPort', 'type'] as const;

export interface DiffOptions {
  /** Paths to leave out in addition to IGNORED_PATHS (a path also hides everything below it). */
  ignore?: readonly string[] | undefined;
}

/**
 * The fields that differ between the live object and the object after a change (the dry-run
 * result): one entry per changed leaf, or per added/removed subtree (a new env var is one entry
 * whose `after` is the whole item). Paths read like `spec.template.spec.containers[checkout].image`:
 * list items are named by their `name` (or another list-map key as `[mountPath=/data]`), other
 * lists by index; keys that are not plain identifiers are quoted
 * (`metadata.annotations["kubectl.kubernetes.io/restartedAt"]`). Lists of scalars (args, command)
 * change as a whole. `null` and a missing field are the same. The order is deterministic: object
 * keys sorted, list items in their order (after first, then removed ones).
 */
export function diffObjects(live: unknown, after: unknown, options: DiffOptions = {}): FieldChange[] {
  const ignored = new Set([...IGNORED_PATHS, ...(options.ignore ?? [])]);
  const changes: FieldChange[] = [];
  walk(normalize(live), normalize(after), '', ignored, changes);
  return changes;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function walk(before: Json, after: Json, path: string, ignored: Set<string>, out: FieldChange[]): void {
  if (path && ignored.has(path)) return;
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    for (const key of keys) {
      walk(before[key] ?? null, after[key] ?? null, join(path, key), ignored, out);
    }
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    walkList(before, after, path, ignored, out);
    return;
  }
  if (!equal(before, after)) {
    out.push({ path, before: before ?? undefined, after: after ?? undefined });
  }
}

function walkList(
  before: Json[],
  after: Json[],
  path: string,
  ignored: Set<string>,
  out: FieldChange[],
): void {
  if (before.every(isScalar) && after.every(isScalar)) {
    if (!equal(before, after)) out.push({ path, before, after });
    return;
  }
  const key = listKey(before, after);
  if (key) {
    const old = new Map(before.map((item) => [keyValue(item, key), item]));
    const seen = new Set<string>();
    for (const item of after) {
      const id = keyValue(item, key);
      seen.add(id);
      walk(old.get(id) ?? null, item, `${path}[${itemLabel(key, id)}]`, ignored, out);
    }
    for (const item of before) {
      const id = keyValue(item, key);
      if (!seen.has(id)) walk(item, null, `${path}[${itemLabel(key, id)}]`, ignored, out);
    }
    return;
  }
  const length = Math.max(before.length, after.length);
  for (let i = 0; i < length; i++) {
    walk(before[i] ?? null, after[i] ?? null, `${path}[${i}]`, ignored, out);
  }
}

/** The first list-map key that every item on both sides has, with distinct values per side. */
function listKey(before: Json[], after: Json[]): string | undefined {
  const items = [...before, ...after];
  if (items.length === 0 || !items.every(isObject)) return undefined;
  return LIST_KEYS.find((key) => {
    const distinct = (list: Json[]): boolean => {
      const values = list.map((item) => (isObject(item) ? item[key] : undefined));
      if (!values.every((v) => typeof v === 'string' || typeof v === 'number')) return false;
      return new Set(values.map(String)).size === values.length;
    };
    return distinct(before) && distinct(after);
  });
}

function keyValue(item: Json, key: string): string {
  return isObject(item) ? String(item[key]) : '';
}

function itemLabel(key: string, value: string): string {
  return key === 'name' ? value : `${key}=${value}`;
}

function join(path: string, key: string): string {
  const part = formatKey(key);
  if (!path) return part.startsWith('[') ? part : part.slice(1);
  return path + part;
}

/** `.spec` for identifiers, `["kubectl.kubernetes.io/restartedAt"]` for anything else. */
function formatKey(key: string): string {
  return /^[A-Za-z_$][\w$-]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** Plain JSON: Dates become their RFC 3339 text, undefined becomes null, functions vanish. */
function normalize(value: unknown): Json {
  if (value === undefined || value === null) return null;
  return JSON.parse(JSON.stringify(value)) as Json;
}

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isScalar(value: Json): boolean {
  return value === null || typeof value !== 'object';
}

function equal(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) if (!equal(a[key] ?? null, b[key] ?? null)) return false;
    return true;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => equal(item, b[i] ?? null));
  }
  return false;
}
