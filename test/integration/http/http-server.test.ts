import { request } from 'node:http';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpServer, type HttpServer, jsonResponse } from '../../../src/http/http-server.ts';
import { createMetrics } from '../../../src/telemetry/metrics.ts';

const logger = pino({ level: 'silent' });
let server: HttpServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(options: Partial<Parameters<typeof createHttpServer>[0]> = {}) {
  server = createHttpServer({ host: '127.0.0.1', port: 0, logger, ...options });
  return server;
}

const get = (url: string, init: RequestInit = {}) =>
  fetch(url, { ...init, signal: AbortSignal.timeout(5000) });

describe('createHttpServer', () => {
  it('answers /healthz while the process is alive', async () => {
    const { url } = await (await start()).listen();
    const res = await get(`${url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz with 503 and the failing checks until every check passes', async () => {
    let synced = false;
    const s = await start({
      readiness: async () => [
        { name: 'store', ok: true },
        { name: 'kube-cache', ok: synced, ...(synced ? {} : { message: 'pods cache not synced' }) },
      ],
    });
    const { url } = await s.listen();
    const before = await get(`${url}/readyz`);
    expect(before.status).toBe(503);
    expect(await before.json()).toMatchObject({
      status: 'not_ready',
      failing: [{ name: 'kube-cache', ok: false, message: 'pods cache not synced' }],
    });
    synced = true;
    const after = await get(`${url}/readyz`);
    expect(after.status).toBe(200);
    expect(await after.json()).toMatchObject({ status: 'ready' });
  });

  it('reports a readiness probe that throws as not ready', async () => {
    const s = await start({
      readiness: async () => {
        throw new Error('store closed');
      },
    });
    const { url } = await s.listen();
    const res = await get(`${url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ failing: [{ name: 'readiness', message: 'store closed' }] });
  });

  it('serves the Prometheus text of the registry it was given', async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.observeReply({
      ok: true,
      requestId: 'r',
      skill: 'pods-list',
      durationMs: 5,
      result: { summary: '', sections: [] },
    });
    const { url } = await (await start({ metricsRegistry: metrics.registry })).listen();
    const res = await get(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(await res.text()).toContain('wheelhouse_requests_total{skill="pods-list",outcome="ok"} 1');
  });

  it('routes added later get the body, and unknown paths and methods get 404 and 405', async () => {
    const s = await start();
    s.route('POST', '/alerts', (req) =>
      jsonResponse(202, { got: JSON.parse(req.body.toString('utf8')), q: req.query.get('x') }),
    );
    const { url } = await s.listen();
    const res = await get(`${url}/alerts?x=1`, { method: 'POST', body: JSON.stringify({ a: 1 }) });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ got: { a: 1 }, q: '1' });
    expect((await get(`${url}/nope`)).status).toBe(404);
    const wrong = await get(`${url}/alerts`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect(() => s.route('POST', '/alerts', () => jsonResponse(200, {}))).toThrow(/registered twice/);
  });

  it('refuses bodies over the cap with 413, declared or streamed', async () => {
    let called = false;
    const s = await start({ maxBodyBytes: 1000 });
    s.route('POST', '/alerts', () => {
      called = true;
      return jsonResponse(200, {});
    });
    const { url, port } = await s.listen();
    const declared = await get(`${url}/alerts`, { method: 'POST', body: 'x'.repeat(1001) });
    expect(declared.status).toBe(413);
    // Chunked, so the size is only known while reading.
    const streamed = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/alerts', method: 'POST', timeout: 5000 },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.write('y'.repeat(800));
      req.write('y'.repeat(800));
      req.end();
    });
    expect(streamed).toBe(413);
    expect(called).toBe(false);
  });

  it('answers 500 without details when a route throws', async () => {
    const s = await start();
    s.route('GET', '/boom', () => {
      throw new Error('secret detail');
    });
    const { url } = await s.listen();
    const res = await get(`${url}/boom`);
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain('secret detail');
  });

  it('hands raw routes the untouched request', async () => {
    const s = await start();
    s.routeRaw('POST', '/slack/events', (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString('utf8');
      });
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`raw:${body}`);
      });
    });
    const { url } = await s.listen();
    const res = await get(`${url}/slack/events`, { method: 'POST', body: 'a=1' });
    expect(await res.text()).toBe('raw:a=1');
  });

  it('lets a request in flight finish when closing, then stops listening', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered: () => void = () => {};
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const s = await start();
    s.route('GET', '/slow', async () => {
      entered();
      await gate;
      return jsonResponse(200, { done: true });
    });
    const { url } = await s.listen();
    const pending = get(`${url}/slow`);
    await inside;
    const closing = s.close();
    release();
    const res = await pending;
    expect(await res.json()).toEqual({ done: true });
    await closing;
    server = undefined;
    await expect(get(`${url}/healthz`)).rejects.toThrow();
  });
});
