import { PrometheusDriver } from 'prometheus-query';
import { z } from 'zod';
import { WheelhouseError } from '../errors.ts';
import { formatMetricValue } from './metric-templates.ts';
import type { MetricSeries, MetricsSource, RangeQuery } from './types.ts';

/** How to reach Prometheus (or a compatible API such as Thanos Query or Mimir). */
export interface PrometheusMetricsSourceOptions {
  /** Base URL without `/api/v1`, e.g. "http://prometheus.monitoring:9090". */
  url: string;
  /**
   * Milliseconds before a query is given up; also sent to Prometheus as its query timeout so
   * the server stops evaluating too. @default 10000
   */
  timeoutMs?: number | undefined;
  /** Extra headers, e.g. `{ "X-Scope-OrgID": "tenant" }` for Mimir. */
  headers?: Record<string, string> | undefined;
  /** HTTP basic auth. */
  auth?: { username: string; password: string } | undefined;
  /** Largest answer read, in bytes; a query over thousands of series stops here. @default 20 MiB */
  maxResponseBytes?: number | undefined;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_RESPONSE_BYTES = 20 * 1024 * 1024;

/** What prometheus-query throws: a plain object, not an Error (see its `handleResponse`). */
const driverError = z.object({
  errorType: z.string(),
  error: z.unknown().optional(),
  code: z.string().optional(),
  httpStatus: z.number().optional(),
  prometheus: z.object({ errorType: z.string().optional(), error: z.string().optional() }).optional(),
});

const withStatus = z.object({ response: z.object({ status: z.number() }) });

/** The driver's QueryResult for a range query: a matrix of RangeVector objects. */
const matrixResult = z.object({
  resultType: z.literal('matrix'),
  result: z.array(
    z.object({
      metric: z
        .object({
          name: z.string().optional(),
          labels: z.record(z.string(), z.string()).optional(),
        })
        .nullable(),
      // The driver parses "NaN" and "+Inf" with parseFloat; zod's number() alone refuses NaN.
      values: z.array(z.object({ time: z.date(), value: z.union([z.number(), z.nan()]) })),
    }),
  ),
});

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

/** Reads Prometheus through its HTTP API with prometheus-query; every failure becomes a coded error. */
export class PrometheusMetricsSource implements MetricsSource {
  readonly url: string;
  readonly #timeoutMs: number;
  readonly #headers: Record<string, string>;
  readonly #auth: { username: string; password: string } | undefined;
  readonly #maxResponseBytes: number;

  constructor(options: PrometheusMetricsSourceOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#headers = { ...(options.headers ?? {}) };
    this.#auth = options.auth;
    this.#maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  }

  async rangeQuery(query: RangeQuery): Promise<MetricSeries[]> {
    if (query.signal?.aborted) throw cancelled(query.signal);
    // A driver per query: its interceptors carry this query's signal and the HTTP status of a
    // failed answer, which the driver drops when the body is not Prometheus JSON (a proxy's 502).
    let failedStatus: number | undefined;
    const signal = query.signal;
    const maxBytes = this.#maxResponseBytes;
    const driver = new PrometheusDriver({
      endpoint: this.url,
      baseURL: '/api/v1/',
      headers: this.#headers,
      ...(this.#auth ? { auth: this.#auth } : {}),
      timeout: this.#timeoutMs,
      requestInterceptor: {
        onFulfilled: (config) => {
          if (signal) config.signal = signal;
          config.maxContentLength = maxBytes;
          return config;
        },
      },
      responseInterceptor: {
        onFulfilled: (response) => response,
        onRejected: (error) => {
          const parsed = withStatus.safeParse(error);
          if (parsed.success) failedStatus = parsed.data.response.status;
          throw error;
        },
      },
    });
    const serverTimeout = `${Math.max(1, Math.ceil(this.#timeoutMs / 1000))}s`;
    let result: unknown;
    try {
      result = await driver.rangeQuery(query.query, query.start, query.end, query.stepSeconds, serverTimeout);
    } catch (e) {
      throw prometheusErrorFrom(e, {
        url: this.url,
        timeoutMs: this.#timeoutMs,
        query: query.query,
        signal,
        failedStatus,
        maxResponseBytes: maxBytes,
      });
    }
    return toSeries(result, this.url);
  }
}

/** What `prometheusErrorFrom` needs to say where and why. */
export interface PrometheusErrorContext {
  url: string;
  timeoutMs: number;
  query: string;
  signal?: AbortSignal | undefined;
  /** HTTP status of a failed answer, when the driver did not keep it. */
  failedStatus?: number | undefined;
  maxResponseBytes?: number | undefined;
}

/**
 * Turns whatever prometheus-query threw into a WheelhouseError: PromQL errors are INVALID_QUERY
 * quoting Prometheus, timeouts SOURCE_TIMEOUT, unreachable servers and 5xx SOURCE_UNAVAILABLE,
 * anything else SOURCE_ERROR.
 */
export function prometheusErrorFrom(error: unknown, context: PrometheusErrorContext): WheelhouseError {
  if (context.signal?.aborted) return cancelled(context.signal);
  const { url } = context;
  const detail = { url, query: context.query, error: describe(error) };
  const parsed = driverError.safeParse(error);
  if (!parsed.success) {
    return new WheelhouseError('SOURCE_ERROR', `Prometheus at ${url} gave an answer I could not read.`, {
      hint: 'Check that `prometheus.url` points at the Prometheus HTTP API.',
      detail,
      cause: error,
    });
  }
  const failure = parsed.data;
  const message =
    failure.prometheus?.error ?? (typeof failure.error === 'string' ? failure.error : undefined);
  const seconds = formatSeconds(context.timeoutMs);

  switch (failure.errorType) {
    case 'timeout_error':
      return new WheelhouseError('SOURCE_TIMEOUT', `Prometheus did not answer within ${seconds}.`, {
        hint: 'Try a shorter --last, or check that Prometheus is not overloaded.',
        detail,
      });
    case 'ssl_error':
      return new WheelhouseError('SOURCE_ERROR', `The TLS handshake with Prometheus at ${url} failed.`, {
        hint: 'Check the certificate of the Prometheus endpoint and the scheme in `prometheus.url`.',
        detail,
      });
    case 'network_error': {
      if (failure.code === 'ETIMEDOUT') {
        return new WheelhouseError(
          'SOURCE_TIMEOUT',
          `Prometheus at ${url} did not accept the connection in time.`,
          {
            hint: 'Check the network path to Prometheus.',
            detail,
          },
        );
      }
      if (failure.code === 'ERR_BAD_RESPONSE' && message?.includes('maxContentLength')) {
        const limit = formatMetricValue(context.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES, 'bytes');
        return new WheelhouseError(
          'SOURCE_ERROR',
          `Prometheus answered with more than ${limit}; I stopped reading.`,
          {
            hint: 'Narrow the query: select fewer series (add label matchers, use topk) or use a shorter --last.',
            detail,
          },
        );
      }
      if (failure.code && UNREACHABLE_CODES.has(failure.code)) {
        return unavailable(url, `(${failure.code})`, detail);
      }
      return new WheelhouseError(
        'SOURCE_ERROR',
        `The request to Prometheus at ${url} failed: ${message ?? 'network error'}.`,
        {
          hint: 'Check `prometheus.url` (env WH_PROMETHEUS_URL).',
          detail,
        },
      );
    }
    case 'http_error':
      return fromPrometheusAnswer(
        failure.prometheus?.errorType,
        failure.httpStatus,
        message,
        context,
        detail,
      );
    default:
      // `client_error`: the body was not Prometheus JSON (a proxy page, a login form, a wrong path).
      return fromHttpStatus(context.failedStatus, url, detail);
  }
}

function fromPrometheusAnswer(
  errorType: string | undefined,
  status: number | undefined,
  message: string | undefined,
  context: PrometheusErrorContext,
  detail: unknown,
): WheelhouseError {
  const quoted = message ?? 'no message';
  switch (errorType) {
    case 'bad_data':
    case 'execution':
      return new WheelhouseError('INVALID_QUERY', `Prometheus rejected the query: ${quoted}`, {
        hint: `Check the PromQL: ${context.query}`,
        detail,
      });
    case 'timeout':
    case 'canceled':
      return new WheelhouseError(
        'SOURCE_TIMEOUT',
        `Prometheus gave up evaluating the query within ${formatSeconds(context.timeoutMs)}: ${quoted}`,
        { hint: 'Try a shorter --last or a narrower selector.', detail },
      );
    default:
      if (status !== undefined && status >= 500)
        return unavailable(context.url, `(HTTP ${status}: ${quoted})`, detail);
      return fromHttpStatus(status, context.url, detail, quoted);
  }
}

function fromHttpStatus(
  status: number | undefined,
  url: string,
  detail: unknown,
  message?: string,
): WheelhouseError {
  if (status !== undefined && status >= 500) return unavailable(url, `(HTTP ${status})`, detail);
  if (status === 401 || status === 403) {
    return new WheelhouseError('SOURCE_ERROR', `Prometheus at ${url} refused the request (HTTP ${status}).`, {
      hint: 'Check the credentials or headers Wheelhouse sends to Prometheus.',
      detail,
    });
  }
  if (status === 404) {
    return new WheelhouseError('SOURCE_ERROR', `There is no Prometheus API at ${url}/api/v1 (HTTP 404).`, {
      hint: 'Check `prometheus.url`; behind a proxy it may need a path prefix such as /prometheus.',
      detail,
    });
  }
  const what = status === undefined ? '' : ` (HTTP ${status}${message ? `: ${message}` : ''})`;
  return new WheelhouseError('SOURCE_ERROR', `Prometheus at ${url} gave an answer I could not use${what}.`, {
    hint: 'Check that `prometheus.url` points at the Prometheus HTTP API.',
    detail,
  });
}

function unavailable(url: string, why: string, detail: unknown): WheelhouseError {
  return new WheelhouseError('SOURCE_UNAVAILABLE', `Prometheus at ${url} is unreachable ${why}.`, {
    hint: 'Check that Prometheus is running and that `prometheus.url` (env WH_PROMETHEUS_URL) is right.',
    detail,
  });
}

function cancelled(signal: AbortSignal): WheelhouseError {
  if (signal.reason instanceof WheelhouseError) return signal.reason;
  return new WheelhouseError(
    'SOURCE_TIMEOUT',
    'The metrics query was cancelled before Prometheus answered.',
    {
      detail: String(signal.reason),
    },
  );
}

function toSeries(result: unknown, url: string): MetricSeries[] {
  const parsed = matrixResult.safeParse(result);
  if (!parsed.success) {
    throw new WheelhouseError(
      'SOURCE_ERROR',
      `Prometheus at ${url} did not answer the range query with a matrix.`,
      {
        detail: parsed.error.issues,
      },
    );
  }
  return parsed.data.result.map((vector) => {
    const labels: Record<string, string> = { ...(vector.metric?.labels ?? {}) };
    if (vector.metric?.name) labels['__name__'] = vector.metric.name;
    return {
      labels,
      points: vector.values.map((sample): [number, number] => [sample.time.getTime(), sample.value]),
    };
  });
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

function describe(error: unknown): unknown {
  const parsed = driverError.safeParse(error);
  if (parsed.success) {
    const { errorType, error: message, code, httpStatus, prometheus } = parsed.data;
    return { errorType, message, code, httpStatus, prometheus };
  }
  return error instanceof Error ? error.message : String(error);
}
