import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { pipelineSpecSchema } from '../../../src/pipelines/pipeline-config.ts';
import { newRunState } from '../../../src/pipelines/run-manifests.ts';
import { callWebhook, signBody } from '../../../src/pipelines/webhook-trigger.ts';

const SECRET = 'webhook-secret-0123456789';
const NOW = new Date('2026-01-01T00:00:00Z');
let close: (() => void) | undefined;
afterEach(() => close?.());

/** A loopback CI endpoint that records what it got and answers `status`. */
async function ci(
  status: number,
): Promise<{ url: string; got: Array<{ headers: IncomingHttpHeaders; body: string }> }> {
  const got: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      res.writeHead(status).end(status === 200 ? 'queued' : 'nope');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  close = () => server.close();
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got };
}

function run(url: string) {
  const pipeline = pipelineSpecSchema.parse({
    name: 'jenkins-build',
    type: 'webhook',
    namespace: 'shop',
    url,
    secret: SECRET,
  });
  if (pipeline.type !== 'webhook') throw new Error('not a webhook pipeline');
  const state = newRunState(pipeline, {
    id: 'r1',
    name: 'jenkins-build-1',
    params: { branch: 'main' },
    actor: { surface: 'slack', id: 'U1', name: 'bob', channel: 'C1', kube: { user: 'bob', groups: [] } },
    requestId: 'req-1',
    now: NOW,
  });
  return { pipeline, state };
}

describe('webhook trigger', () => {
  it('posts the run as JSON with an HMAC-SHA256 signature over timestamp and body', async () => {
    const peer = await ci(200);
    const { pipeline, state } = run(peer.url);
    expect(await callWebhook(pipeline, state, NOW)).toEqual({ ok: true, message: 'triggered (HTTP 200)' });
    const [request] = peer.got;
    expect(request).toBeDefined();
    const timestamp = String(request?.headers['x-wheelhouse-timestamp']);
    expect(timestamp).toBe(String(NOW.getTime() / 1000));
    expect(request?.headers['x-wheelhouse-signature']).toBe(signBody(SECRET, timestamp, request?.body ?? ''));
    expect(request?.headers['x-wheelhouse-delivery']).toBe('jenkins-build-1');
    expect(JSON.parse(request?.body ?? '{}')).toMatchObject({
      run: 'jenkins-build-1',
      params: { branch: 'main' },
      auditId: 'req-1',
    });
  });

  it('fails the trigger with the CI answer when it is not 2xx', async () => {
    const peer = await ci(403);
    const { pipeline, state } = run(peer.url);
    expect(await callWebhook(pipeline, state, NOW)).toEqual({
      ok: false,
      message: 'the CI answered HTTP 403: nope',
    });
  });

  it('a signature made with another secret does not match', () => {
    expect(signBody(SECRET, '1', '{}')).not.toBe(signBody('another-secret-0123456', '1', '{}'));
  });
});
