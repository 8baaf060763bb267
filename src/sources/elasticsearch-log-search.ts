import { Client, type estypes } from '@elastic/elasticsearch';
import { z } from 'zod';
import { WheelhouseError } from '../errors.ts';
import { formatDuration } from '../skills/schema.ts';
import { type LogFields, type LogLayout, type LogLayoutName, logLayout } from './log-layouts.ts';
import type { LogHit, LogSearch, LogSearchQuery, LogSearchResult } from './types.ts';

/** How to reach Elasticsearch and where the log lines are. */
export interface ElasticsearchLogSearchOptions {
  /** e.g. "https://elasticsearch.logging:9200". */
  node: string;
  auth?: { username: string; password: string } | { apiKey: string } | undefined;
  /** @default "logs-*" */
  indexPattern?: string | undefined;
  /** Field preset of the log shipper. @default "ecs" */
  layout?: LogLayoutName | undefined;
  /** Field names that differ from the preset, e.g. `{ level: "severity" }`. */
  fields?: Partial<Record<string, string>> | undefined;
  /** Suffix of keyword sub-fields for exact filters; the preset's when undefined. */
  keywordSuffix?: string | undefined;
  /** The client has no timeout of its own. @default 10000 */
  timeoutMs?: number | undefined;
  /** Retries on connection errors and 502/503/504; kept small so chat answers stay fast. @default 1 */
  maxRetries?: number | undefined;
  /** Widest time range one search may cover, in seconds. @default 7 days */
  maxRangeSeconds?: number | undefined;
  /** HTTP connection class: tests pass `@elastic/elasticsearch-mock`'s. */
  connectionClass?: NonNullable<ConstructorParameters<typeof Client>[0]>['Connection'] | undefined;
}

/** `from + size` cannot go past this without search_after. */
export const MAX_ES_HITS = 10_000;
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_RANGE_SECONDS = 7 * 24 * 3600;

const hitsResponse = z.object({
  hits: z.object({
    total: z.union([z.number(), z.object({ value: z.number(), relation: z.enum(['eq', 'gte']) })]).optional(),
    hits: z.array(
      z.object({
        _id: z.string().optional(),
        _source: z.record(z.string(), z.unknown()).optional(),
      }),
    ),
  }),
});

const errorBody = z.object({
  error: z.union([
    z.string(),
    z.object({
      type: z.string().optional(),
      reason: z.string().nullish(),
      root_cause: z.array(z.object({ type: z.string().optional(), reason: z.string().nullish() })).optional(),
      caused_by: z.object({ type: z.string().optional(), reason: z.string().nullish() }).optional(),
    }),
  ]),
});

/** The parts of the client's errors we read (ResponseError adds statusCode and body). */
const clientError = z.object({
  name: z.string(),
  message: z.string(),
  statusCode: z.number().optional(),
  body: z.unknown().optional(),
});

const scalar = z.union([z.string(), z.number(), z.boolean()]);

/** Searches centralised logs in Elasticsearch, always within a bounded time range. */
export class ElasticsearchLogSearch implements LogSearch {
  readonly #client: Client;
  readonly #node: string;
  readonly #index: string;
  readonly #layout: LogLayout;
  readonly #timeoutMs: number;
  readonly #maxRangeSeconds: number;

  constructor(options: ElasticsearchLogSearchOptions) {
    this.#node = options.node.replace(/\/+$/, '');
    this.#index = options.indexPattern ?? 'logs-*';
    this.#layout = logLayout(options.layout ?? 'ecs', options.fields ?? {}, options.keywordSuffix);
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#maxRangeSeconds = options.maxRangeSeconds ?? DEFAULT_MAX_RANGE_SECONDS;
    this.#client = new Client({
      node: this.#node,
      ...(options.auth ? { auth: options.auth } : {}),
      requestTimeout: this.#timeoutMs,
      maxRetries: options.maxRetries ?? 1,
      ...(options.connectionClass ? { Connection: options.connectionClass } : {}),
    });
  }

  /** The fields this instance reads, after preset and overrides. */
  get fields(): Readonly<LogFields> {
    return this.#layout.fields;
  }

  async search(query: LogSearchQuery): Promise<LogSearchResult> {
    const request = this.buildRequest(query);
    let response: unknown;
    try {
      response = await this.#client.search(request, query.signal ? { signal: query.signal } : {});
    } catch (e) {
      throw elasticsearchErrorFrom(e, {
        node: this.#node,
        indexPattern: this.#index,
        timeoutMs: this.#timeoutMs,
        signal: query.signal,
      });
    }
    return this.#parse(response);
  }

  /** The search request for a query: exposed so tests and `--explain` can show it. */
  buildRequest(query: LogSearchQuery): estypes.SearchRequest {
    const { fields, keywordSuffix } = this.#layout;
    const rangeSeconds = (query.to.getTime() - query.from.getTime()) / 1000;
    if (!(rangeSeconds > 0)) {
      throw new WheelhouseError('INVALID_INPUT', 'The log search range ends before it starts.', {
        detail: { from: query.from.toISOString(), to: query.to.toISOString() },
      });
    }
    if (rangeSeconds > this.#maxRangeSeconds) {
      throw new WheelhouseError(
        'INVALID_INPUT',
        `A log search may cover at most ${formatDuration(this.#maxRangeSeconds)}; this one covers ${formatDuration(Math.ceil(rangeSeconds))}.`,
        { hint: 'Use a shorter --since. The limit is `elasticsearch.maxRange` in the config.' },
      );
    }
    const exact = (field: string): string => `${field}${keywordSuffix}`;
    const filter: estypes.QueryDslQueryContainer[] = [
      {
        range: {
          [fields.timestamp]: {
            gte: query.from.toISOString(),
            lte: query.to.toISOString(),
            format: 'strict_date_optional_time',
          },
        },
      },
    ];
    if (query.namespace) filter.push({ term: { [exact(fields.namespace)]: query.namespace } });
    if (query.app) filter.push({ term: { [exact(fields.app)]: query.app } });
    if (query.pod) filter.push({ term: { [exact(fields.pod)]: query.pod } });
    // Shippers keep the level as the application wrote it: "error", "ERROR" or "Error".
    if (query.level) filter.push({ terms: { [exact(fields.level)]: spellings(query.level) } });
    const must: estypes.QueryDslQueryContainer[] = query.text ? [textQuery(query.text, fields.message)] : [];
    const size = Math.max(0, Math.min(Math.floor(query.size), MAX_ES_HITS));
    return {
      index: this.#index,
      size,
      track_total_hits: MAX_ES_HITS,
      sort: [{ [fields.timestamp]: { order: 'desc', unmapped_type: 'date' } }],
      _source: [...new Set(Object.values(fields))],
      query: { bool: { filter, must } },
    };
  }

  /** Closes the client's connections. */
  async close(): Promise<void> {
    await this.#client.close();
  }

  #parse(response: unknown): LogSearchResult {
    const parsed = hitsResponse.safeParse(response);
    if (!parsed.success) {
      throw new WheelhouseError(
        'SOURCE_ERROR',
        `Elasticsearch at ${this.#node} answered the search in a shape I cannot read.`,
        {
          detail: parsed.error.issues,
        },
      );
    }
    const { total, hits } = parsed.data.hits;
    const logHits = hits.map((hit) => this.#toHit(hit._source ?? {}));
    if (total === undefined) return { hits: logHits, total: logHits.length, totalIsLowerBound: false };
    if (typeof total === 'number') return { hits: logHits, total, totalIsLowerBound: false };
    return { hits: logHits, total: total.value, totalIsLowerBound: total.relation === 'gte' };
  }

  #toHit(source: Record<string, unknown>): LogHit {
    const { fields } = this.#layout;
    const text = (path: string): string | undefined => {
      const value = scalar.safeParse(valueAt(source, path));
      return value.success ? String(value.data) : undefined;
    };
    const rawTime = scalar.safeParse(valueAt(source, fields.timestamp));
    const message = text(fields.message);
    return {
      time: rawTime.success ? toIsoTime(rawTime.data) : '',
      namespace: text(fields.namespace),
      pod: text(fields.pod),
      container: text(fields.container),
      level: text(fields.level),
      message: message === undefined ? `(no ${fields.message} field)` : message.replace(/\s+$/, ''),
    };
  }
}

/** What `elasticsearchErrorFrom` needs to say where and why. */
export interface ElasticsearchErrorContext {
  node: string;
  indexPattern: string;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/**
 * Turns a client error into a WheelhouseError: unreachable → SOURCE_UNAVAILABLE, timeout →
 * SOURCE_TIMEOUT, unknown index → NOT_FOUND, query errors → INVALID_QUERY, a server that is not
 * Elasticsearch → SOURCE_ERROR.
 */
export function elasticsearchErrorFrom(error: unknown, context: ElasticsearchErrorContext): WheelhouseError {
  const { node, indexPattern } = context;
  // Matched by name, not instanceof: the client ships separate ESM and CommonJS builds whose
  // error classes differ, and a library loaded the other way would slip past instanceof.
  const known = clientError.safeParse(error);
  const name = known.success ? known.data.name : undefined;
  const message = known.success ? known.data.message : String(error);
  const detail = { node, indexPattern, error: `${name ?? 'Error'}: ${message}` };
  if (context.signal?.aborted || name === 'RequestAbortedError') {
    if (context.signal?.reason instanceof WheelhouseError) return context.signal.reason;
    return new WheelhouseError(
      'SOURCE_TIMEOUT',
      'The log search was cancelled before Elasticsearch answered.',
      {
        detail,
      },
    );
  }
  switch (name) {
    case 'TimeoutError':
      return new WheelhouseError(
        'SOURCE_TIMEOUT',
        `Elasticsearch did not answer within ${Number((context.timeoutMs / 1000).toFixed(1))} s.`,
        { hint: 'Try a shorter --since or a narrower filter.', detail },
      );
    case 'ConnectionError':
    case 'NoLivingConnectionsError':
      return new WheelhouseError(
        'SOURCE_UNAVAILABLE',
        `Elasticsearch at ${node} is unreachable (${message}).`,
        {
          hint: 'Check that Elasticsearch is running and that `elasticsearch.node` (env WH_ES_NODE) is right.',
          detail,
        },
      );
    case 'ProductNotSupportedError':
      return new WheelhouseError(
        'SOURCE_ERROR',
        `The server at ${node} does not identify itself as Elasticsearch, so the client refuses to talk to it.`,
        {
          hint:
            'The 9.x client checks the X-Elastic-Product header. OpenSearch is not supported, and a proxy in ' +
            'front of Elasticsearch must pass that header through.',
          detail,
        },
      );
    case 'ResponseError':
      return fromResponse(known.data?.statusCode ?? 0, known.data?.body, context, detail);
    case 'DeserializationError':
      return new WheelhouseError(
        'SOURCE_ERROR',
        `Elasticsearch at ${node} sent an answer that is not JSON.`,
        {
          hint: 'Check that `elasticsearch.node` points at Elasticsearch itself, not a login page or proxy.',
          detail,
        },
      );
    default:
      return new WheelhouseError('SOURCE_ERROR', `The log search at ${node} failed.`, {
        detail,
        cause: error,
      });
  }
}

function fromResponse(
  status: number,
  rawBody: unknown,
  context: ElasticsearchErrorContext,
  detail: object,
): WheelhouseError {
  const body = errorBody.safeParse(rawBody);
  const info = body.success && typeof body.data.error === 'object' ? body.data.error : undefined;
  const rootCause = info?.root_cause?.[0];
  const type = rootCause?.type ?? info?.type;
  const reason =
    info?.caused_by?.reason ??
    rootCause?.reason ??
    info?.reason ??
    (body.success && typeof body.data.error === 'string' ? body.data.error : undefined) ??
    `HTTP ${status}`;
  const withBody = { ...detail, status, body: rawBody };

  if (type === 'index_not_found_exception') {
    return new WheelhouseError('NOT_FOUND', `No Elasticsearch index matches "${context.indexPattern}".`, {
      hint: 'Check `elasticsearch.indexPattern` (env WH_ES_INDEX) against the indices your log shipper writes.',
      detail: withBody,
    });
  }
  if (status === 401) {
    return new WheelhouseError('SOURCE_ERROR', 'Elasticsearch refused the credentials (HTTP 401).', {
      hint: 'Check `elasticsearch.username`/`password` or `elasticsearch.apiKey`.',
      detail: withBody,
    });
  }
  if (status === 403) {
    return new WheelhouseError(
      'SOURCE_ERROR',
      `The Elasticsearch user may not search "${context.indexPattern}" (HTTP 403: ${reason}).`,
      { hint: 'Grant the Wheelhouse user the `read` privilege on that index pattern.', detail: withBody },
    );
  }
  if (status === 429 || status >= 500) {
    return new WheelhouseError(
      'SOURCE_UNAVAILABLE',
      `Elasticsearch at ${context.node} could not serve the search (HTTP ${status}: ${reason}).`,
      { hint: 'Try again in a minute; if it persists, check the cluster health.', detail: withBody },
    );
  }
  if (status === 400) {
    return new WheelhouseError('INVALID_QUERY', `Elasticsearch rejected the search: ${reason}`, {
      hint: 'Check the search text, and that the field layout (`elasticsearch.layout`, `elasticsearch.fields`) matches your indices.',
      detail: withBody,
    });
  }
  return new WheelhouseError(
    'SOURCE_ERROR',
    `Elasticsearch at ${context.node} answered HTTP ${status}: ${reason}`,
    {
      detail: withBody,
    },
  );
}

/**
 * Plain words are searched as a phrase; text using simple_query_string syntax (`|`, `+`, `-word`,
 * quotes, `*`, parentheses) is passed to simple_query_string, which never fails on bad syntax.
 */
function textQuery(text: string, field: string): estypes.QueryDslQueryContainer {
  if (/[|+"*()~]|(^|\s)-\S/.test(text)) {
    return { simple_query_string: { query: text, fields: [field], default_operator: 'and' } };
  }
  return { match_phrase: { [field]: text } };
}

function spellings(level: string): string[] {
  const lower = level.toLowerCase();
  return [...new Set([level, lower, level.toUpperCase(), lower.charAt(0).toUpperCase() + lower.slice(1)])];
}

/** Reads a dotted path from a document that may hold nested objects, dotted keys, or both. */
function valueAt(source: unknown, path: string): unknown {
  if (source === null || typeof source !== 'object') return undefined;
  const record = z.record(z.string(), z.unknown()).safeParse(Array.isArray(source) ? source[0] : source);
  if (!record.success) return undefined;
  const object = record.data;
  if (path in object) return first(object[path]);
  const parts = path.split('.');
  for (let i = parts.length - 1; i >= 1; i--) {
    const head = parts.slice(0, i).join('.');
    if (head in object) {
      const found = valueAt(first(object[head]), parts.slice(i).join('.'));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function first(value: unknown): unknown {
  return Array.isArray(value) ? value[0] : value;
}

function toIsoTime(value: string | number | boolean): string {
  if (typeof value === 'number') return new Date(value).toISOString();
  return String(value);
}
