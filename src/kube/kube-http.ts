import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { WheelhouseError } from '../errors.ts';
import { unreachableError } from './kube-errors.ts';
import type { TokenBucket } from './token-bucket.ts';
import type { KubeIdentity } from './types.ts';

/**
 * Body types the API server takes: JSON for create/update/delete options, and one per patch
 * strategy (`apply-patch+yaml` is server-side apply; a JSON document is valid YAML).
 */
export type KubeContentType =
  | 'application/json'
  | 'application/merge-patch+json'
  | 'application/strategic-merge-patch+json'
  | 'application/json-patch+json'
  | 'application/apply-patch+yaml';

/** One request to the API server. */
export interface KubeHttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path below the server URL, e.g. "/api/v1/namespaces/shop/pods". */
  path: string;
  query?: Record<string, string | number | boolean | undefined> | undefined;
  /** Body, sent as JSON (POST, PUT, PATCH, and DeleteOptions for DELETE). */
  body?: unknown;
  /** @default 'application/json' */
  contentType?: KubeContentType | undefined;
  /** Overrides the client's per-request timeout (connect to last byte), e.g. for a watch. */
  timeoutMs?: number | undefined;
  /** Sent as Impersonate-User / Impersonate-Group; undefined acts as Wheelhouse itself. */
  identity?: KubeIdentity | undefined;
  /** Sent as Audit-ID so the API server's audit log joins Wheelhouse's. */
  auditId?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Stops reading the body after this many bytes and marks the response truncated. */
  maxBytes?: number | undefined;
  /** Skips the rate limiter: for the caches' own LISTs, which are few and must not queue behind chat. */
  unlimited?: boolean | undefined;
}

export interface KubeHttpResponse {
  status: number;
  body: string;
  /** True when `maxBytes` cut the body. */
  truncated: boolean;
}

export interface KubeHttpOptions {
  /** Per-request timeout (connect to last byte). @default 10_000 */
  timeoutMs?: number;
  limiter?: TokenBucket | undefined;
  userAgent?: string;
}

/**
 * Requests to the API server over node:http(s), authenticated by client-node's KubeConfig
 * (`applyToHTTPSOptions`: CA, client certificates, tokens, exec plugins, and a cached agent).
 *
 * Wheelhouse does its own requests instead of client-node's generated API classes because
 * impersonating several groups needs the `Impersonate-Group` header repeated once per group, which
 * neither fetch nor the generated clients' `Record<string, string>` headers can express. Node's
 * http module sends an array header value as repeated header lines.
 */
export class KubeHttp {
  readonly #kubeConfig: KubeConfig;
  readonly #timeoutMs: number;
  readonly #limiter: TokenBucket | undefined;
  readonly #userAgent: string;
  /**
   * Keep-alive agents: client-node's own agents open a new TLS connection per request, which costs a
   * handshake for every access review and read. TLS options stay on each request, so connections are
   * pooled per CA/certificate. Not used behind a proxy, where client-node's proxy agent is needed.
   */
  readonly #agents = {
    http: new http.Agent({ keepAlive: true, maxSockets: 20 }),
    https: new https.Agent({ keepAlive: true, maxSockets: 20 }),
  };

  constructor(kubeConfig: KubeConfig, options: KubeHttpOptions = {}) {
    this.#kubeConfig = kubeConfig;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#limiter = options.limiter;
    this.#userAgent = options.userAgent ?? 'wheelhouse';
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.#agents.http.destroy();
    this.#agents.https.destroy();
  }

  /** The API server URL of the current context. */
  get server(): string {
    return this.#kubeConfig.getCurrentCluster()?.server ?? '(no cluster in kubeconfig)';
  }

  /**
   * Sends the request and returns any HTTP answer (callers map non-2xx statuses). Throws
   * KUBE_UNREACHABLE when there is no answer in time or no connection, RATE_LIMITED when the
   * client-side limiter would wait too long, and the caller's abort reason when it aborts.
   */
  async request(req: KubeHttpRequest): Promise<KubeHttpResponse> {
    return this.#send(req, (response) => readBody(response, req.maxBytes));
  }

  /**
   * A streaming request (a watch, `?watch=1`): calls `onLine` with every newline-terminated line
   * of a 2xx answer as it arrives, until `onLine` returns 'stop' (the connection is closed) or the
   * server ends the stream (ask for that with the watch's `timeoutSeconds`, and set `req.timeoutMs`
   * above it). A non-2xx answer resolves with its body, like `request`. Throws like `request`:
   * KUBE_UNREACHABLE (also when `req.timeoutMs` passes first), RATE_LIMITED, the caller's abort reason.
   */
  async stream(
    req: KubeHttpRequest,
    onLine: (line: string) => 'stop' | undefined,
  ): Promise<KubeHttpResponse> {
    return this.#send(req, (response) => {
      const status = response.statusCode ?? 0;
      if (status < 200 || status >= 300) return readBody(response, req.maxBytes);
      return readLines(response, onLine).then(() => ({ status, body: '', truncated: false }));
    });
  }

  async #send(
    req: KubeHttpRequest,
    handle: (response: IncomingMessage) => Promise<KubeHttpResponse>,
  ): Promise<KubeHttpResponse> {
    if (this.#limiter && !req.unlimited) await this.#limiter.take(req.signal);
    const url = new URL(this.server.replace(/\/+$/, '') + req.path);
    for (const [key, value] of Object.entries(req.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const options: https.RequestOptions = {};
    try {
      await this.#kubeConfig.applyToHTTPSOptions(options);
    } catch (error) {
      throw new WheelhouseError('CONFIG', 'Wheelhouse could not use its Kubernetes credentials.', {
        hint: 'Check the kubeconfig (or service account) Wheelhouse runs with.',
        detail: error instanceof Error ? error.message : String(error),
        cause: error,
      });
    }
    const headers: OutgoingHttpHeaders = {
      ...plainHeaders(options.headers),
      Accept: 'application/json, */*',
      'User-Agent': this.#userAgent,
    };
    if (req.auditId) headers['Audit-ID'] = req.auditId;
    if (req.identity) {
      headers['Impersonate-User'] = req.identity.user;
      if (req.identity.groups.length > 0) headers['Impersonate-Group'] = [...req.identity.groups];
    }
    const payload = req.body === undefined ? undefined : JSON.stringify(req.body);
    if (payload !== undefined) {
      headers['Content-Type'] = req.contentType ?? 'application/json';
      headers['Content-Length'] = Buffer.byteLength(payload);
    }

    if (!this.#kubeConfig.getCurrentCluster()?.proxyUrl) {
      options.agent = url.protocol === 'http:' ? this.#agents.http : this.#agents.https;
    }

    const timeoutMs = req.timeoutMs ?? this.#timeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    const transport = url.protocol === 'http:' ? http : https;
    try {
      return await new Promise<KubeHttpResponse>((resolve, reject) => {
        const request = transport.request(
          url,
          { ...options, method: req.method, headers, signal },
          (response) => {
            handle(response).then(resolve, reject);
          },
        );
        request.on('error', reject);
        request.end(payload);
      });
    } catch (error) {
      if (req.signal?.aborted) throw req.signal.reason ?? error;
      if (timeout.aborted) {
        throw unreachableError(this.server, `no answer within ${Math.round(timeoutMs / 100) / 10} s`, error);
      }
      throw unreachableError(this.server, networkReason(error), error);
    }
  }
}

function plainHeaders(headers: OutgoingHttpHeaders | readonly string[] | undefined): OutgoingHttpHeaders {
  if (headers === undefined || isStringArray(headers)) return {};
  return headers;
}

function isStringArray(value: unknown): value is readonly string[] {
  return Array.isArray(value);
}

function readBody(response: IncomingMessage, maxBytes: number | undefined): Promise<KubeHttpResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    const finish = (): void => {
      const body = Buffer.concat(chunks);
      resolve({
        status: response.statusCode ?? 0,
        body: (maxBytes !== undefined && body.length > maxBytes ? body.subarray(0, maxBytes) : body).toString(
          'utf8',
        ),
        truncated,
      });
    };
    response.on('data', (chunk: Buffer) => {
      if (truncated) return;
      chunks.push(chunk);
      size += chunk.length;
      if (maxBytes !== undefined && size > maxBytes) {
        // Enough: stop the transfer instead of downloading a multi-gigabyte log.
        truncated = true;
        response.destroy();
        finish();
      }
    });
    response.on('end', () => {
      if (!truncated) finish();
    });
    response.on('error', (error) => {
      if (!truncated) reject(error);
    });
    response.on('aborted', () => {
      if (!truncated) reject(new Error('the API server closed the connection mid-response'));
    });
  });
}

/**
 * Calls `onLine` per complete line (a watch sends one JSON event per line); resolves at the end of
 * the stream, or at once when `onLine` returns 'stop' (the response is destroyed: the connection
 * is not reused, and what the server still sends is dropped).
 */
function readLines(response: IncomingMessage, onLine: (line: string) => 'stop' | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    let pending = '';
    let stopped = false;
    const stop = (): void => {
      stopped = true;
      response.destroy();
      resolve();
    };
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      if (stopped) return;
      pending += chunk;
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line && onLine(line) === 'stop') {
          stop();
          return;
        }
        newline = pending.indexOf('\n');
      }
    });
    response.on('end', () => {
      if (stopped) return;
      const line = pending.trim();
      if (line) onLine(line);
      resolve();
    });
    response.on('error', (error) => {
      if (!stopped) reject(error);
    });
    response.on('aborted', () => {
      if (!stopped) reject(new Error('the API server closed the connection mid-response'));
    });
  });
}

function networkReason(error: unknown): string {
  if (error instanceof Error) {
    const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
    return code ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
