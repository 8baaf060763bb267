import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WheelhouseError } from '../../../src/errors.ts';
import {
  ElasticsearchLogSearch,
  type ElasticsearchLogSearchOptions,
} from '../../../src/sources/elasticsearch-log-search.ts';
import type { LogSearchQuery } from '../../../src/sources/types.ts';

function portOf(listening: Server): number {
  const address = listening.address();
  if (address === null || typeof address === 'string') throw new Error('the server has no TCP port');
  return address.port;
}

const require = createRequire(import.meta.url);
// The mock is CommonJS (`module.exports = Mocker`, though its types declare an ES default export)
// and builds on the client's CommonJS build, whose classes TypeScript cannot match to the ES module
// build under test. It is loaded untyped with require; it recognises only CommonJS error classes.
const Mock = require('@elastic/elasticsearch-mock');
const { errors } = require('@elastic/elasticsearch');
const mock = new Mock();

const NODE = 'http://es.test:9200';
const to = new Date('2026-03-01T12:00:00.000Z');
const from = new Date('2026-03-01T11:45:00.000Z');

let searches: Array<{ path: string; body: Record<string, unknown> }>;

beforeEach(() => {
  searches = [];
});

afterEach(() => {
  mock.clearAll();
});

function source(options: Partial<ElasticsearchLogSearchOptions> = {}): ElasticsearchLogSearch {
  return new ElasticsearchLogSearch({
    node: NODE,
    connectionClass: mock.getConnection(),
    maxRetries: 0,
    ...options,
  });
}

function answer(body: unknown): void {
  mock.add(
    { method: 'POST', path: '/:index/_search' },
    (params: { path: string; body: Record<string, unknown> }) => {
      searches.push({ path: params.path, body: params.body });
      return body;
    },
  );
}

function fail(error: unknown): void {
  mock.add(
    { method: 'POST', path: '/:index/_search' },
    (params: { path: string; body: Record<string, unknown> }) => {
      searches.push({ path: params.path, body: params.body });
      return error;
    },
  );
}

function responseError(statusCode: number, body: unknown): unknown {
  return new errors.ResponseError({ body, statusCode, headers: {}, warnings: null, meta: {} });
}

const query = (extra: Partial<LogSearchQuery> = {}): LogSearchQuery => ({ from, to, size: 100, ...extra });

async function failure(
  search: ElasticsearchLogSearch,
  q: LogSearchQuery = query(),
): Promise<WheelhouseError> {
  const error = await search.search(q).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof WheelhouseError))
    throw new Error(`expected a WheelhouseError, got ${String(error)}`);
  return error;
}

const emptyHits = { hits: { total: { value: 0, relation: 'eq' }, hits: [] } };

describe('ElasticsearchLogSearch with the ECS layout', () => {
  it('filters by term and a bounded time range, newest first, with the text as a phrase', async () => {
    answer(emptyHits);
    await source().search(
      query({
        namespace: 'shop',
        app: 'checkout',
        pod: 'checkout-7d9f8-abcde',
        level: 'error',
        text: 'connection reset',
      }),
    );

    expect(searches).toHaveLength(1);
    const [search] = searches;
    expect(search?.path).toBe('/logs-*/_search');
    expect(search?.body).toMatchObject({
      size: 100,
      track_total_hits: 10_000,
      sort: [{ '@timestamp': { order: 'desc', unmapped_type: 'date' } }],
      query: {
        bool: {
          filter: [
            {
              range: {
                '@timestamp': {
                  gte: '2026-03-01T11:45:00.000Z',
                  lte: '2026-03-01T12:00:00.000Z',
                  format: 'strict_date_optional_time',
                },
              },
            },
            { term: { 'kubernetes.namespace': 'shop' } },
            { term: { 'kubernetes.labels.app': 'checkout' } },
            { term: { 'kubernetes.pod.name': 'checkout-7d9f8-abcde' } },
            { terms: { 'log.level': ['error', 'ERROR', 'Error'] } },
          ],
          must: [{ match_phrase: { message: 'connection reset' } }],
        },
      },
    });
  });

  it('reads nested ECS documents into hits and the total', async () => {
    answer({
      hits: {
        total: { value: 2, relation: 'eq' },
        hits: [
          {
            _id: '1',
            _source: {
              '@timestamp': '2026-03-01T11:59:00.000Z',
              kubernetes: {
                namespace: 'shop',
                pod: { name: 'checkout-7d9f8-abcde' },
                container: { name: 'app' },
              },
              log: { level: 'error' },
              message: 'connection reset by peer',
            },
          },
          {
            _id: '2',
            _source: { '@timestamp': 1772366280000, 'kubernetes.namespace': 'shop', message: 'flat keys' },
          },
        ],
      },
    });
    const result = await source().search(query());
    expect(result.total).toBe(2);
    expect(result.totalIsLowerBound).toBe(false);
    expect(result.hits[0]).toEqual({
      time: '2026-03-01T11:59:00.000Z',
      namespace: 'shop',
      pod: 'checkout-7d9f8-abcde',
      container: 'app',
      level: 'error',
      message: 'connection reset by peer',
    });
    expect(result.hits[1]).toMatchObject({
      time: '2026-03-01T11:58:00.000Z',
      namespace: 'shop',
      message: 'flat keys',
    });
  });

  it('says when the total is only a lower bound', async () => {
    answer({ hits: { total: { value: 10_000, relation: 'gte' }, hits: [] } });
    const result = await source().search(query());
    expect(result).toEqual({ hits: [], total: 10_000, totalIsLowerBound: true });
  });

  it('uses simple_query_string when the text has operators', async () => {
    answer(emptyHits);
    await source().search(query({ text: 'timeout | refused -healthz' }));
    expect(searches[0]?.body).toMatchObject({
      query: {
        bool: {
          must: [
            {
              simple_query_string: {
                query: 'timeout | refused -healthz',
                fields: ['message'],
                default_operator: 'and',
              },
            },
          ],
        },
      },
    });
  });
});

describe('ElasticsearchLogSearch with the Fluent Bit layout', () => {
  it('filters on keyword sub-fields and reads `log` as the message', async () => {
    answer({
      hits: {
        total: { value: 1, relation: 'eq' },
        hits: [
          {
            _source: {
              '@timestamp': '2026-03-01T11:50:00.000Z',
              kubernetes: { namespace_name: 'shop', pod_name: 'checkout-7d9f8-abcde', container_name: 'app' },
              level: 'warn',
              log: 'slow upstream\n',
            },
          },
        ],
      },
    });
    const result = await source({ layout: 'fluent-bit', indexPattern: 'fluent-bit-*' }).search(
      query({ namespace: 'shop', app: 'checkout', pod: 'checkout-7d9f8-abcde', level: 'warn', text: 'slow' }),
    );
    expect(searches[0]?.path).toBe('/fluent-bit-*/_search');
    expect(searches[0]?.body).toMatchObject({
      query: {
        bool: {
          filter: [
            { range: { '@timestamp': { gte: from.toISOString(), lte: to.toISOString() } } },
            { term: { 'kubernetes.namespace_name.keyword': 'shop' } },
            { term: { 'kubernetes.labels.app.keyword': 'checkout' } },
            { term: { 'kubernetes.pod_name.keyword': 'checkout-7d9f8-abcde' } },
            { terms: { 'level.keyword': ['warn', 'WARN', 'Warn'] } },
          ],
          must: [{ match_phrase: { log: 'slow' } }],
        },
      },
    });
    expect(result.hits).toEqual([
      {
        time: '2026-03-01T11:50:00.000Z',
        namespace: 'shop',
        pod: 'checkout-7d9f8-abcde',
        container: 'app',
        level: 'warn',
        message: 'slow upstream',
      },
    ]);
  });

  it('applies field overrides and a custom keyword suffix', async () => {
    answer(emptyHits);
    await source({
      layout: 'fluent-bit',
      fields: { level: 'severity', unknown: 'x' },
      keywordSuffix: '',
    }).search(query({ level: 'error' }));
    expect(searches[0]?.body).toMatchObject({
      query: { bool: { filter: [{ range: {} }, { terms: { severity: ['error', 'ERROR', 'Error'] } }] } },
    });
  });
});

describe('ElasticsearchLogSearch bounds', () => {
  it('always sends a bounded range, even with no other filter', async () => {
    answer(emptyHits);
    await source().search(query());
    // toMatchObject compares arrays element by element and by length: the range is the only filter.
    expect(searches[0]?.body).toMatchObject({
      query: {
        bool: {
          filter: [
            {
              range: {
                '@timestamp': {
                  gte: from.toISOString(),
                  lte: to.toISOString(),
                  format: 'strict_date_optional_time',
                },
              },
            },
          ],
          must: [],
        },
      },
    });
  });

  it('refuses a range wider than the maximum before asking the server', async () => {
    answer(emptyHits);
    const search = source({ maxRangeSeconds: 24 * 3600 });
    const error = await failure(search, query({ from: new Date(to.getTime() - 2 * 86_400_000) }));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toContain('at most 1d');
    expect(error.hint).toContain('elasticsearch.maxRange');
    expect(searches).toHaveLength(0);
  });

  it('refuses a range that ends before it starts', async () => {
    const error = await failure(source(), query({ from: to, to: from }));
    expect(error.code).toBe('INVALID_INPUT');
  });

  it('caps size at 10,000 hits', async () => {
    answer(emptyHits);
    await source().search(query({ size: 50_000 }));
    expect(searches[0]?.body['size']).toBe(10_000);
  });
});

describe('ElasticsearchLogSearch errors', () => {
  it('maps index_not_found_exception to NOT_FOUND naming the pattern', async () => {
    fail(
      responseError(404, {
        error: {
          root_cause: [{ type: 'index_not_found_exception', reason: 'no such index [app-logs]' }],
          type: 'index_not_found_exception',
          reason: 'no such index [app-logs]',
        },
        status: 404,
      }),
    );
    const error = await failure(source({ indexPattern: 'app-logs' }));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toContain('"app-logs"');
    expect(error.hint).toContain('elasticsearch.indexPattern');
  });

  it('maps a query parse error to INVALID_QUERY quoting the reason', async () => {
    fail(
      responseError(400, {
        error: {
          root_cause: [
            { type: 'query_shard_exception', reason: 'failed to create query: For input string: "abc"' },
          ],
          type: 'search_phase_execution_exception',
          reason: 'all shards failed',
        },
        status: 400,
      }),
    );
    const error = await failure(source());
    expect(error.code).toBe('INVALID_QUERY');
    expect(error.message).toContain('failed to create query: For input string: "abc"');
  });

  it.each([
    [401, 'SOURCE_ERROR', 'credentials'],
    [403, 'SOURCE_ERROR', 'may not search'],
    [429, 'SOURCE_UNAVAILABLE', 'HTTP 429'],
    [503, 'SOURCE_UNAVAILABLE', 'HTTP 503'],
    [418, 'SOURCE_ERROR', 'HTTP 418'],
  ])('maps HTTP %d to %s', async (status, code, text) => {
    fail(responseError(status, { error: { type: 'some_exception', reason: 'because' }, status }));
    const error = await failure(source());
    expect(error.code).toBe(code);
    expect(error.message).toContain(text);
  });

  it('maps a connection error to SOURCE_UNAVAILABLE naming the node', async () => {
    fail(new errors.ConnectionError('getaddrinfo ENOTFOUND es.test'));
    const error = await failure(source());
    expect(error.code).toBe('SOURCE_UNAVAILABLE');
    expect(error.message).toContain(NODE);
  });

  it('maps a client timeout to SOURCE_TIMEOUT', async () => {
    fail(new errors.TimeoutError('Request timed out'));
    const error = await failure(source());
    expect(error.code).toBe('SOURCE_TIMEOUT');
    expect(error.message).toBe('Elasticsearch did not answer within 10 s.');
  });

  it('rejects an answer without hits as SOURCE_ERROR', async () => {
    answer({ acknowledged: true });
    const error = await failure(source());
    expect(error.code).toBe('SOURCE_ERROR');
  });

  it('stops when the request signal aborts', async () => {
    answer(emptyHits);
    const reason = new WheelhouseError('SOURCE_TIMEOUT', 'The request took longer than 30 s.');
    const error = await failure(source(), query({ signal: AbortSignal.abort(reason) }));
    expect(error).toBe(reason);
  });
});

describe('ElasticsearchLogSearch against loopback servers', () => {
  let server: Server | undefined;

  afterEach(async () => {
    const running = server;
    server = undefined;
    if (!running) return;
    running.closeAllConnections();
    await new Promise((resolve) => running.close(resolve));
  });

  async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
    const started = createServer(handler);
    server = started;
    await new Promise<void>((resolve) => started.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${portOf(started)}`;
  }

  it('refuses a server that does not identify as Elasticsearch (product check)', async () => {
    const node = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(emptyHits));
    });
    const search = new ElasticsearchLogSearch({ node, maxRetries: 0 });
    const error = await failure(search);
    await search.close();
    expect(error.code).toBe('SOURCE_ERROR');
    expect(error.message).toContain('does not identify itself as Elasticsearch');
    expect(error.hint).toContain('X-Elastic-Product');
  });

  it('gives up after timeoutMs with SOURCE_TIMEOUT', async () => {
    const node = await listen(() => {
      // Never answers.
    });
    const search = new ElasticsearchLogSearch({ node, maxRetries: 0, timeoutMs: 300 });
    const error = await failure(search);
    await search.close();
    expect(error.code).toBe('SOURCE_TIMEOUT');
    expect(error.message).toBe('Elasticsearch did not answer within 0.3 s.');
  });

  it('reports a refused connection as SOURCE_UNAVAILABLE', async () => {
    const node = await listen(() => undefined);
    const running = server;
    server = undefined;
    await new Promise((resolve) => running?.close(resolve));
    const search = new ElasticsearchLogSearch({ node, maxRetries: 0 });
    const error = await failure(search);
    await search.close();
    expect(error.code).toBe('SOURCE_UNAVAILABLE');
    expect(error.message).toContain(node);
  });
});
