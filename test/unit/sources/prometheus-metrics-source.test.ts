import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WheelhouseError } from '../../../src/errors.ts';
import {
  PrometheusMetricsSource,
  prometheusErrorFrom,
} from '../../../src/sources/prometheus-metrics-source.ts';

function portOf(listening: Server): number {
  const address = listening.address();
  if (address === null || typeof address === 'string') throw new Error('the server has no TCP port');
  return address.port;
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

// One loopback server whose answer each test sets: real HTTP through axios, no patched modules.
let server: Server;
let baseUrl: string;
let handler: Handler;
let requests: Array<{ url: URL; headers: IncomingMessage['headers'] }>;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push({ url, headers: req.headers });
    handler(req, res, url);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${portOf(server)}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  requests = [];
  handler = (_req, res) =>
    json(res, 500, { status: 'error', errorType: 'internal', error: 'no handler set' });
});

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function html(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'content-type': 'text/html' });
  res.end('<html><body>Bad Gateway</body></html>');
}

const start = new Date('2026-01-01T10:00:00Z');
const end = new Date('2026-01-01T11:00:00Z');

async function failure(source: PrometheusMetricsSource, signal?: AbortSignal): Promise<WheelhouseError> {
  const error = await source.rangeQuery({ query: 'up', start, end, stepSeconds: 60, signal }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof WheelhouseError))
    throw new Error(`expected a WheelhouseError, got ${String(error)}`);
  return error;
}

describe('PrometheusMetricsSource.rangeQuery', () => {
  it('sends the range query and returns series with labels and millisecond points', async () => {
    handler = (_req, res) =>
      json(res, 200, {
        status: 'success',
        data: {
          resultType: 'matrix',
          result: [
            {
              metric: { __name__: 'up', pod: 'checkout-7d9f8-abcde' },
              values: [
                [1767261600, '1'],
                [1767261660, 'NaN'],
              ],
            },
            { metric: {}, values: [[1767261600, '0.5']] },
          ],
        },
      });
    const source = new PrometheusMetricsSource({
      url: `${baseUrl}/`,
      headers: { 'X-Scope-OrgID': 'tenant-a' },
      auth: { username: 'wh', password: 's3cret' },
    });
    const series = await source.rangeQuery({ query: 'up{job="x"}', start, end, stepSeconds: 60 });

    expect(series).toHaveLength(2);
    expect(series[0]?.labels).toEqual({ pod: 'checkout-7d9f8-abcde', __name__: 'up' });
    expect(series[0]?.points[0]).toEqual([1767261600000, 1]);
    expect(Number.isNaN(series[0]?.points[1]?.[1])).toBe(true);
    expect(series[1]).toEqual({ labels: {}, points: [[1767261600000, 0.5]] });

    const sent = requests[0];
    expect(sent?.url.pathname).toBe('/api/v1/query_range');
    expect(sent?.url.searchParams.get('query')).toBe('up{job="x"}');
    expect(sent?.url.searchParams.get('start')).toBe(String(start.getTime() / 1000));
    expect(sent?.url.searchParams.get('end')).toBe(String(end.getTime() / 1000));
    expect(sent?.url.searchParams.get('step')).toBe('60');
    expect(sent?.url.searchParams.get('timeout')).toBe('10s');
    expect(sent?.headers['x-scope-orgid']).toBe('tenant-a');
    expect(sent?.headers.authorization).toBe(`Basic ${Buffer.from('wh:s3cret').toString('base64')}`);
    expect(source.url).toBe(baseUrl);
  });

  it('turns a PromQL parse error into INVALID_QUERY quoting Prometheus', async () => {
    handler = (_req, res) =>
      json(res, 400, {
        status: 'error',
        errorType: 'bad_data',
        error: '1:15: parse error: unclosed left parenthesis',
      });
    const error = await failure(new PrometheusMetricsSource({ url: baseUrl }));
    expect(error.code).toBe('INVALID_QUERY');
    expect(error.message).toContain('1:15: parse error: unclosed left parenthesis');
  });

  it('turns an execution error into INVALID_QUERY', async () => {
    handler = (_req, res) =>
      json(res, 422, {
        status: 'error',
        errorType: 'execution',
        error: 'found duplicate series for the match group',
      });
    const error = await failure(new PrometheusMetricsSource({ url: baseUrl }));
    expect(error.code).toBe('INVALID_QUERY');
    expect(error.message).toContain('duplicate series');
  });

  it('turns a server-side query timeout into SOURCE_TIMEOUT', async () => {
    handler = (_req, res) =>
      json(res, 503, {
        status: 'error',
        errorType: 'timeout',
        error: 'query timed out in expression evaluation',
      });
    const error = await failure(new PrometheusMetricsSource({ url: baseUrl }));
    expect(error.code).toBe('SOURCE_TIMEOUT');
    expect(error.message).toContain('query timed out');
  });

  it('turns a proxy 502 page into SOURCE_UNAVAILABLE naming the URL and status', async () => {
    handler = (_req, res) => html(res, 502);
    const error = await failure(new PrometheusMetricsSource({ url: baseUrl }));
    expect(error.code).toBe('SOURCE_UNAVAILABLE');
    expect(error.message).toContain(baseUrl);
    expect(error.message).toContain('HTTP 502');
  });

  it('turns a Prometheus 500 into SOURCE_UNAVAILABLE', async () => {
    handler = (_req, res) =>
      json(res, 500, { status: 'error', errorType: 'internal', error: 'storage failure' });
    const error = await failure(new PrometheusMetricsSource({ url: baseUrl }));
    expect(error.code).toBe('SOURCE_UNAVAILABLE');
    expect(error.message).toContain('storage failure');
  });

  it('turns a 404 page into SOURCE_ERROR about the URL path', async () => {
    handler = (_req, res) => html(res, 404);
    const error = await failure(new PrometheusMetricsSource({ url: baseUrl }));
    expect(error.code).toBe('SOURCE_ERROR');
    expect(error.message).toContain('/api/v1');
    expect(error.hint).toContain('prometheus.url');
  });

  it('turns a 401 into SOURCE_ERROR about credentials', async () => {
    handler = (_req, res) => {
      res.writeHead(401, { 'content-type': 'text/plain' });
      res.end('Unauthorized');
    };
    const error = await failure(new PrometheusMetricsSource({ url: baseUrl }));
    expect(error.code).toBe('SOURCE_ERROR');
    expect(error.message).toContain('HTTP 401');
  });

  it('turns a 200 that is not the API into SOURCE_ERROR', async () => {
    handler = (_req, res) => html(res, 200);
    const error = await failure(new PrometheusMetricsSource({ url: baseUrl }));
    expect(error.code).toBe('SOURCE_ERROR');
  });

  it('rejects an answer that is not a matrix', async () => {
    handler = (_req, res) =>
      json(res, 200, { status: 'success', data: { resultType: 'scalar', result: [1, '1'] } });
    const error = await failure(new PrometheusMetricsSource({ url: baseUrl }));
    expect(error.code).toBe('SOURCE_ERROR');
  });

  it('stops reading an answer larger than maxResponseBytes', async () => {
    handler = (_req, res) =>
      json(res, 200, {
        status: 'success',
        data: {
          resultType: 'matrix',
          result: Array.from({ length: 200 }, (_, i) => ({
            metric: { pod: `p-${i}` },
            values: [[1767261600, '1']],
          })),
        },
      });
    const error = await failure(new PrometheusMetricsSource({ url: baseUrl, maxResponseBytes: 2048 }));
    expect(error.code).toBe('SOURCE_ERROR');
    expect(error.message).toBe('Prometheus answered with more than 2 KiB; I stopped reading.');
    expect(error.hint).toContain('topk');
  });

  it('turns a refused connection into SOURCE_UNAVAILABLE naming the URL', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${portOf(closed)}`;
    await new Promise((resolve) => closed.close(resolve));
    const error = await failure(new PrometheusMetricsSource({ url }));
    expect(error.code).toBe('SOURCE_UNAVAILABLE');
    expect(error.message).toContain(url);
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('gives up after timeoutMs with SOURCE_TIMEOUT', async () => {
    handler = () => {
      // Never answers.
    };
    const error = await failure(new PrometheusMetricsSource({ url: baseUrl, timeoutMs: 300 }));
    expect(error.code).toBe('SOURCE_TIMEOUT');
    expect(error.message).toBe('Prometheus did not answer within 0.3 s.');
    expect(requests[0]?.url.searchParams.get('timeout')).toBe('1s');
  });

  it('stops when the request signal aborts', async () => {
    const controller = new AbortController();
    handler = () => controller.abort();
    const error = await failure(
      new PrometheusMetricsSource({ url: baseUrl, timeoutMs: 60_000 }),
      controller.signal,
    );
    expect(error.code).toBe('SOURCE_TIMEOUT');
    expect(error.message).toContain('cancelled');
  });

  it('passes on the reason of an abort that is already a WheelhouseError', async () => {
    const reason = new WheelhouseError('SOURCE_TIMEOUT', 'The request took longer than 30 s.');
    const error = await failure(new PrometheusMetricsSource({ url: baseUrl }), AbortSignal.abort(reason));
    expect(error).toBe(reason);
    expect(requests).toHaveLength(0);
  });
});

describe('prometheusErrorFrom', () => {
  const context = { url: 'http://prometheus.invalid:9090', timeoutMs: 10_000, query: 'up' };

  it('treats DNS failures as SOURCE_UNAVAILABLE', () => {
    const error = prometheusErrorFrom(
      {
        status: 'error',
        errorType: 'network_error',
        error: 'getaddrinfo ENOTFOUND prometheus.invalid',
        code: 'ENOTFOUND',
      },
      context,
    );
    expect(error.code).toBe('SOURCE_UNAVAILABLE');
    expect(error.message).toContain('http://prometheus.invalid:9090');
  });

  it('treats a TLS failure as SOURCE_ERROR', () => {
    const error = prometheusErrorFrom(
      { status: 'error', errorType: 'ssl_error', error: 'self-signed certificate', code: 'ERR_SSL_X' },
      context,
    );
    expect(error.code).toBe('SOURCE_ERROR');
    expect(error.message).toContain('TLS');
  });

  it('treats anything unknown as SOURCE_ERROR', () => {
    expect(prometheusErrorFrom(new Error('Unexpected resultType: x'), context).code).toBe('SOURCE_ERROR');
  });
});
