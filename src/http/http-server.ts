import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { WheelhouseError } from '../errors.ts';

/** The state of one dependency the process needs before it can serve (kube caches, store …). */
export interface ReadinessCheck {
  name: string;
  ok: boolean;
  /** Why it is not ready, e.g. "pods cache not synced". */
  message?: string | undefined;
}

/** Reports every readiness check; `/readyz` answers 503 when any is not ok. */
export type ReadinessProbe = () => Promise<ReadinessCheck[]>;

/** A request whose body was read (up to the route's cap). */
export interface HttpRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  remoteAddress: string | undefined;
}

/** What a route answers. */
export interface HttpResponse {
  status: number;
  headers?: Record<string, string> | undefined;
  body?: string | Uint8Array | undefined;
}

/** A route that gets the body read and capped for it. */
export type RouteHandler = (request: HttpRequest) => Promise<HttpResponse> | HttpResponse;

/**
 * A route that gets the untouched Node request, for libraries that read and verify the body
 * themselves (Bolt's HTTP receiver checks the Slack signature over the raw bytes).
 */
export type RawRouteHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface RouteOptions {
  /** Largest body accepted; larger requests get 413. @default the server's maxBodyBytes */
  maxBodyBytes?: number | undefined;
}

/** Health, readiness and metrics endpoints, plus the routes later features add (e.g. `/alerts`). */
export interface HttpServer {
  /** Adds a route matched on the exact path. Throws when the method and path are taken. */
  route(method: string, path: string, handler: RouteHandler, options?: RouteOptions): void;
  /** Adds a route that reads the request itself; see {@link RawRouteHandler}. */
  routeRaw(method: string, path: string, handler: RawRouteHandler): void;
  /** Starts listening; resolves with the bound address (port 0 picks a free port). */
  listen(): Promise<{ host: string; port: number; url: string }>;
  /** Stops accepting, lets requests in flight finish for the grace period, then cuts the rest. */
  close(): Promise<void>;
}

export interface HttpServerOptions {
  host: string;
  port: number;
  logger: Logger;
  /** Backs `/readyz`; without it the process is ready as soon as it listens. */
  readiness?: ReadinessProbe | undefined;
  /** Backs `/metrics`; without it the route does not exist. */
  metricsRegistry?: Registry | undefined;
  /** Default body cap for routes. @default 1 MiB */
  maxBodyBytes?: number | undefined;
  /** How long `/readyz` waits for the probe. @default 2000 */
  readinessTimeoutMs?: number | undefined;
  /** How long `close()` waits for requests in flight. @default 5000 */
  closeGraceMs?: number | undefined;
}

/** A JSON response. */
export function jsonResponse(
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): HttpResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(value),
  };
}

type Route =
  | { kind: 'buffered'; handler: RouteHandler; maxBodyBytes: number }
  | { kind: 'raw'; handler: RawRouteHandler };

class BodyTooLarge extends Error {}

/** Creates the process's one HTTP server; routes are matched on method and exact path. */
export function createHttpServer(options: HttpServerOptions): HttpServer {
  const { logger } = options;
  const defaultMaxBody = options.maxBodyBytes ?? 1024 * 1024;
  const readinessTimeoutMs = options.readinessTimeoutMs ?? 2000;
  const closeGraceMs = options.closeGraceMs ?? 5000;
  const routes = new Map<string, Map<string, Route>>();
  let server: Server | undefined;
  let closing: Server | undefined;

  const add = (method: string, path: string, route: Route): void => {
    const m = method.toUpperCase();
    const byMethod = routes.get(path) ?? new Map<string, Route>();
    if (byMethod.has(m)) throw new WheelhouseError('CONFIG', `HTTP route ${m} ${path} is registered twice.`);
    byMethod.set(m, route);
    routes.set(path, byMethod);
  };

  const api: HttpServer = {
    route(method, path, handler, routeOptions = {}) {
      add(method, path, {
        kind: 'buffered',
        handler,
        maxBodyBytes: routeOptions.maxBodyBytes ?? defaultMaxBody,
      });
    },
    routeRaw(method, path, handler) {
      add(method, path, { kind: 'raw', handler });
    },
    async listen() {
      if (server !== undefined) throw new WheelhouseError('CONFIG', 'The HTTP server is already listening.');
      const s = createServer((req, res) => {
        dispatch(req, res).catch((error: unknown) => {
          logger.error({ err: error, path: req.url }, 'HTTP request failed');
          if (!res.headersSent) send(res, jsonResponse(500, { error: 'internal' }));
          else res.destroy();
        });
      });
      // Slow or stuck clients must not hold sockets forever.
      s.headersTimeout = 10_000;
      s.requestTimeout = 30_000;
      s.keepAliveTimeout = 5_000;
      server = s;
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(options.port, options.host, () => {
          s.off('error', reject);
          resolve();
        });
      });
      s.on('error', (error) => logger.error({ err: error }, 'HTTP server error'));
      const address = s.address();
      const port = isAddressInfo(address) ? address.port : options.port;
      const host = options.host.includes(':') ? `[${options.host}]` : options.host;
      logger.info({ host: options.host, port }, 'HTTP server listening');
      return { host: options.host, port, url: `http://${host}:${port}` };
    },
    async close() {
      const s = server;
      if (s === undefined) return;
      server = undefined;
      closing = s;
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      s.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          logger.warn(
            { graceMs: closeGraceMs },
            'HTTP server: cutting connections still open after the grace period',
          );
          s.closeAllConnections();
          resolve();
        }, closeGraceMs);
      });
      await Promise.race([closed, grace]);
      clearTimeout(timer);
      await closed;
      closing = undefined;
    },
  };

  api.route('GET', '/healthz', () => jsonResponse(200, { status: 'ok' }));
  api.route('GET', '/readyz', async () => {
    const checks = await probe(options.readiness, readinessTimeoutMs);
    const failing = checks.filter((c) => !c.ok);
    return failing.length === 0
      ? jsonResponse(200, { status: 'ready', checks })
      : jsonResponse(503, { status: 'not_ready', failing, checks });
  });
  const registry = options.metricsRegistry;
  if (registry !== undefined) {
    api.route('GET', '/metrics', async () => ({
      status: 200,
      headers: { 'content-type': registry.contentType },
      body: await registry.metrics(),
    }));
  }

  async function dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    const byMethod = routes.get(url.pathname);
    const route = byMethod?.get(method) ?? (method === 'HEAD' ? byMethod?.get('GET') : undefined);
    res.on('finish', () => {
      logger.debug(
        { method, path: url.pathname, status: res.statusCode, ms: Math.round(performance.now() - started) },
        'HTTP request',
      );
      // While closing, a keep-alive connection that just finished its last request is let go at once.
      closing?.closeIdleConnections();
    });
    if (closing !== undefined) res.setHeader('connection', 'close');
    if (byMethod === undefined) return send(res, jsonResponse(404, { error: 'not_found' }));
    if (route === undefined) {
      return send(
        res,
        jsonResponse(405, { error: 'method_not_allowed' }, { allow: [...byMethod.keys()].join(', ') }),
      );
    }
    if (route.kind === 'raw') return route.handler(req, res);

    let body: Buffer;
    try {
      body = await readBody(req, route.maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        send(
          res,
          jsonResponse(
            413,
            { error: 'payload_too_large', limit: route.maxBodyBytes },
            { connection: 'close' },
          ),
        );
        // Stop reading the rest of an oversized upload.
        res.on('finish', () => req.destroy());
        return;
      }
      throw error;
    }
    const response = await route.handler({
      method,
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body,
      remoteAddress: req.socket.remoteAddress,
    });
    send(res, method === 'HEAD' ? { ...response, body: undefined } : response);
  }

  return api;
}

function isAddressInfo(value: string | AddressInfo | null): value is AddressInfo {
  return typeof value === 'object' && value !== null;
}

function send(res: ServerResponse, response: HttpResponse): void {
  const body = response.body ?? '';
  res.writeHead(response.status, { 'content-length': Buffer.byteLength(body), ...response.headers });
  res.end(body);
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) return Promise.reject(new BodyTooLarge());
  // Events rather than `for await`: leaving an async iterator early destroys the socket, and the
  // client should still get its 413.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > max) {
        req.off('data', onData);
        req.pause();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

async function probe(readiness: ReadinessProbe | undefined, timeoutMs: number): Promise<ReadinessCheck[]> {
  if (readiness === undefined) return [];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ReadinessCheck[]>((resolve) => {
    timer = setTimeout(
      () =>
        resolve([{ name: 'readiness', ok: false, message: `checks did not answer within ${timeoutMs} ms` }]),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([readiness(), timeout]);
  } catch (error) {
    return [
      { name: 'readiness', ok: false, message: error instanceof Error ? error.message : String(error) },
    ];
  } finally {
    clearTimeout(timer);
  }
}
