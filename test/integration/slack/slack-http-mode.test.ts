import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SlackBlockAction } from '../../../src/chat/slack/slack-payloads.ts';
import {
  createSlackSurface,
  type SlackSurface,
  type SlackSurfaceOptions,
} from '../../../src/chat/slack/slack-surface.ts';
import { WheelhouseError } from '../../../src/errors.ts';
import { createHttpServer, type HttpServer } from '../../../src/http/http-server.ts';
import type { KubeIdentity } from '../../../src/kube/types.ts';
import type { ChatRequest, Reply } from '../../../src/runner/types.ts';
import { createMetrics } from '../../../src/telemetry/metrics.ts';
import { MemoryIdempotency } from '../../support/memory-idempotency.ts';
import { type PeerCall, SlackPeer } from '../../support/slack-peer.ts';
import {
  appMentionEvent,
  blockActionsRequest,
  directMessageEvent,
  eventCallbackRequest,
  postSigned,
  slashCommandRequest,
  urlVerificationRequest,
} from '../../support/slack-signing.ts';

const SECRET = 'test-signing-secret';
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
const logger = pino({ level: 'silent' });

/** A stub RequestHandler: "pods …" answers a table, "cpu …" a chart, anything else FORBIDDEN. */
function stubReply(request: ChatRequest): Reply {
  const base = { requestId: `req-${request.text.split(' ')[0] ?? 'x'}`, skill: 'pods-list', durationMs: 12 };
  if (request.text.startsWith('pods')) {
    return {
      ...base,
      ok: true,
      result: {
        summary: '3 pods in shop, 1 unhealthy',
        tone: 'warning',
        sections: [
          {
            type: 'table',
            columns: ['NAME', 'STATUS'],
            rows: [
              ['checkout-1', 'Running'],
              ['checkout-2', 'CrashLoopBackOff'],
              ['payments-1', 'Running'],
            ],
          },
        ],
      },
    };
  }
  if (request.text.startsWith('cpu')) {
    return {
      ...base,
      ok: true,
      skill: 'metrics-cpu',
      result: {
        summary: 'CPU of checkout',
        sections: [
          {
            type: 'chart',
            title: 'CPU',
            attachment: 'cpu.png',
            stats: [{ series: 'checkout-1', min: 0.1, avg: 0.2, max: 0.3, last: 0.2, unit: 'cores' }],
          },
        ],
        attachments: [{ name: 'cpu.png', title: 'CPU chart', mimeType: 'image/png', content: PNG }],
      },
    };
  }
  return {
    ...base,
    ok: false,
    error: new WheelhouseError('FORBIDDEN', 'You may not delete pods in shop.', {
      hint: 'Ask in #platform.',
    }),
  };
}

/** Delivery outcomes as the surface reports them, with a way to wait for them. */
class WatchedDeliveries {
  readonly real = createMetrics({ processMetrics: false });
  readonly outcomes: string[] = [];
  #waiters: Array<() => void> = [];

  observeDelivery(surface: string, outcome: 'ok' | 'fallback' | 'failed'): void {
    this.real.observeDelivery(surface, outcome);
    this.outcomes.push(outcome);
    for (const w of this.#waiters) w();
  }

  count(n: number, timeoutMs = 3000): Promise<void> {
    if (this.outcomes.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${this.outcomes.length} deliveries`)), timeoutMs);
      this.#waiters.push(() => {
        if (this.outcomes.length < n) return;
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

interface Harness {
  peer: SlackPeer;
  http: HttpServer;
  surface: SlackSurface;
  events: string;
  requests: ChatRequest[];
  idempotency: MemoryIdempotency;
  metrics: WatchedDeliveries;
  /** Resolved by a test to let the stub handler answer. */
  gate: { wait: Promise<void> | undefined };
}

let h: Harness;

async function setUp(overrides: Partial<SlackSurfaceOptions> = {}): Promise<Harness> {
  const peer = await SlackPeer.start({
    users: [
      { id: 'U0001', name: 'ana', email: 'ana@example.com' },
      { id: 'U0002', name: 'bo' },
      { id: 'U0003', name: 'cy' },
    ],
    channels: [
      { id: 'C0001', name: 'general' },
      { id: 'C0002', name: 'ops', isMember: false },
      { id: 'D0001', name: 'ana-dm', isIm: true, user: 'U0001' },
    ],
  });
  const http = createHttpServer({ host: '127.0.0.1', port: 0, logger });
  const requests: ChatRequest[] = [];
  const idempotency = new MemoryIdempotency();
  const metrics = new WatchedDeliveries();
  const gate: Harness['gate'] = { wait: undefined };
  const identities: Record<string, KubeIdentity | null> = {
    U0001: { user: 'ana@example.com', groups: ['shop-devs'] },
    U0002: null,
  };
  const surface = createSlackSurface({
    mode: 'http',
    botToken: peer.token,
    signingSecret: SECRET,
    apiUrl: peer.apiUrl,
    logger,
    httpServer: http,
    idempotency,
    metrics,
    resolveIdentity: async (id) => (id in identities ? (identities[id] ?? null) : undefined),
    handler: {
      async handle(request) {
        requests.push(request);
        if (gate.wait) await gate.wait;
        return stubReply(request);
      },
    },
    ...overrides,
  });
  const { url } = await http.listen();
  await surface.start();
  return { peer, http, surface, events: `${url}/slack/events`, requests, idempotency, metrics, gate };
}

const sectionTexts = (call: PeerCall): string => JSON.stringify(call.args.blocks ?? []);

describe('Slack surface in HTTP mode, through our HTTP server', () => {
  beforeEach(async () => {
    h = await setUp();
  });

  afterEach(async () => {
    await h.surface.stop();
    await h.http.close();
    await h.peer.close();
  });

  it('acknowledges a signed slash command before the answer is ready, then posts the answer', async () => {
    let release: () => void = () => {};
    h.gate.wait = new Promise((resolve) => {
      release = resolve;
    });
    const res = await postSigned(
      h.events,
      slashCommandRequest({ text: 'pods shop', triggerId: 't-1' }, { secret: SECRET }),
    );
    // The ack came back while the handler is still held at the gate.
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      response_type: 'ephemeral',
      text: ':hourglass_flowing_sand: Working on it…',
    });
    expect(h.peer.calls('chat.postMessage')).toHaveLength(0);
    release();

    const post = await h.peer.waitFor('chat.postMessage');
    expect(post.args.channel).toBe('C0001');
    expect(post.args.text).toBe('3 pods in shop, 1 unhealthy');
    expect(post.token).toBe(h.peer.token);
    expect(sectionTexts(post)).toContain('<@U0001> asked `/wh pods shop`');
    expect(sectionTexts(post)).toContain('checkout-2  CrashLoopBackOff');
    expect(h.requests).toHaveLength(1);
    expect(h.requests[0]).toMatchObject({
      text: 'pods shop',
      actor: {
        surface: 'slack',
        id: 'U0001',
        name: 'ana',
        channel: 'C0001',
        kube: { user: 'ana@example.com', groups: ['shop-devs'] },
      },
    });
    await h.metrics.count(1);
    expect(await h.metrics.real.registry.metrics()).toContain(
      'wheelhouse_chat_deliveries_total{surface="slack",outcome="ok"} 1',
    );
  });

  it('rejects a wrong signature with 401 and never calls the handler', async () => {
    const request = slashCommandRequest({ text: 'pods shop' }, { secret: 'not-the-secret' });
    const res = await postSigned(h.events, request);
    expect(res.status).toBe(401);
    const tampered = slashCommandRequest({ text: 'pods shop' }, { secret: SECRET });
    const res2 = await postSigned(h.events, { ...tampered, body: tampered.body.replace('pods', 'nuke') });
    expect(res2.status).toBe(401);
    expect(h.requests).toHaveLength(0);
    expect(h.idempotency.history).toHaveLength(0);
  });

  it('rejects a correctly signed request older than 5 minutes', async () => {
    const old = Math.floor(Date.now() / 1000) - 6 * 60;
    const res = await postSigned(
      h.events,
      slashCommandRequest({ text: 'pods shop' }, { secret: SECRET, timestamp: old }),
    );
    expect(res.status).toBe(401);
    expect(h.requests).toHaveLength(0);
  });

  it('answers the url_verification challenge', async () => {
    const res = await postSigned(h.events, urlVerificationRequest('challenge-42', { secret: SECRET }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ challenge: 'challenge-42' });
  });

  it('answers a mention in its thread, once, however often Slack retries the event', async () => {
    const event = appMentionEvent({ text: `<@${h.peer.botUserId}> pods shop`, ts: '1700000100.000100' });
    const first = await postSigned(
      h.events,
      eventCallbackRequest(event, { eventId: 'Ev001' }, { secret: SECRET }),
    );
    expect(first.status).toBe(200);
    const post = await h.peer.waitFor('chat.postMessage');
    expect(post.args).toMatchObject({ channel: 'C0001', thread_ts: '1700000100.000100' });

    const retry = await postSigned(
      h.events,
      eventCallbackRequest(
        event,
        { eventId: 'Ev001' },
        { secret: SECRET, retryNum: 1, retryReason: 'http_timeout' },
      ),
    );
    expect(retry.status).toBe(200);
    await h.idempotency.claimed('slack:event:Ev001', 2);
    expect(h.idempotency.history.filter((c) => c.key === 'slack:event:Ev001').map((c) => c.first)).toEqual([
      true,
      false,
    ]);
    expect(h.requests.map((r) => r.text)).toEqual(['pods shop']);
    expect(h.peer.calls('chat.postMessage')).toHaveLength(1);
  });

  it('answers a mention inside a thread in that thread', async () => {
    const event = appMentionEvent({
      text: `<@${h.peer.botUserId}> pods`,
      ts: '1700000200.000200',
      threadTs: '1700000150.000001',
    });
    await postSigned(h.events, eventCallbackRequest(event, { eventId: 'Ev002' }, { secret: SECRET }));
    const post = await h.peer.waitFor('chat.postMessage');
    expect(post.args.thread_ts).toBe('1700000150.000001');
    expect(h.requests[0]?.actor.thread).toBe('1700000150.000001');
  });

  it('answers a DM in the DM', async () => {
    const event = directMessageEvent({ text: 'pods &lt;shop&gt;', channel: 'D0001' });
    await postSigned(h.events, eventCallbackRequest(event, { eventId: 'Ev003' }, { secret: SECRET }));
    const post = await h.peer.waitFor('chat.postMessage');
    expect(post.args.channel).toBe('D0001');
    expect(post.args.thread_ts).toBeUndefined();
    expect(h.requests[0]?.text).toBe('pods <shop>');
  });

  it('retries a rate-limited chat.postMessage after Retry-After and delivers once', async () => {
    h.peer.rateLimit('chat.postMessage', { times: 1, retryAfterSeconds: 1 });
    await postSigned(h.events, slashCommandRequest({ text: 'pods shop' }, { secret: SECRET }));
    const delivered = await h.peer.waitFor('chat.postMessage', (c) => c.response.ok === true);
    const calls = h.peer.calls('chat.postMessage');
    expect(calls.map((c) => c.status)).toEqual([429, 200]);
    // The SDK would have paused its whole queue; our retry waits for this call only, as told.
    expect(delivered.at - (calls[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(h.peer.messages('C0001')).toHaveLength(1);
  });

  it('uploads a chart into the thread of its answer (external upload flow)', async () => {
    await postSigned(h.events, slashCommandRequest({ text: 'cpu checkout' }, { secret: SECRET }));
    const post = await h.peer.waitFor('chat.postMessage');
    await h.peer.waitFor('files.completeUploadExternal');
    const [file] = h.peer.files();
    expect(file).toMatchObject({
      filename: 'cpu.png',
      title: 'CPU chart',
      completed: true,
      channelId: 'C0001',
      threadTs: post.response.ts,
    });
    expect(new Uint8Array(file?.bytes ?? [])).toEqual(PNG);
    expect(h.peer.calls().map((c) => c.method)).toEqual([
      'auth.test',
      'chat.postMessage',
      'files.getUploadURLExternal',
      'upload',
      'files.completeUploadExternal',
    ]);
  });

  it('sends errors only to the asker, ephemerally', async () => {
    await postSigned(h.events, slashCommandRequest({ text: 'delete pod x' }, { secret: SECRET }));
    const ephemeral = await h.peer.waitFor('chat.postEphemeral');
    expect(ephemeral.args).toMatchObject({ channel: 'C0001', user: 'U0001' });
    const text = sectionTexts(ephemeral);
    expect(text).toContain('You may not delete pods in shop.');
    expect(text).toContain('Ask in #platform.');
    expect(text).toContain('request `req-delete`');
    expect(h.peer.calls('chat.postMessage')).toHaveLength(0);
  });

  it('sends an error through the response_url when the channel refuses even ephemeral messages', async () => {
    await postSigned(
      h.events,
      slashCommandRequest(
        { text: 'delete pod x', channelId: 'C0002', responseUrl: h.peer.responseUrl('r2') },
        { secret: SECRET },
      ),
    );
    const response = await h.peer.waitFor('response_url');
    expect(h.peer.calls('chat.postEphemeral')[0]?.response).toMatchObject({
      ok: false,
      error: 'not_in_channel',
    });
    expect(JSON.stringify(response.args.blocks)).toContain('You may not delete pods in shop.');
    expect(h.peer.calls('chat.postMessage')).toHaveLength(0);
  });

  it('tells an unmapped user so, without calling the handler', async () => {
    await postSigned(
      h.events,
      slashCommandRequest({ text: 'pods shop', userId: 'U0002' }, { secret: SECRET }),
    );
    const ephemeral = await h.peer.waitFor('chat.postEphemeral');
    expect(ephemeral.args.user).toBe('U0002');
    expect(sectionTexts(ephemeral)).toContain('not mapped to a Kubernetes identity');
    expect(h.requests).toHaveLength(0);
  });

  it('acts as the bot itself for users the identity map leaves undefined', async () => {
    await postSigned(
      h.events,
      slashCommandRequest({ text: 'pods shop', userId: 'U0003' }, { secret: SECRET }),
    );
    await h.peer.waitFor('chat.postMessage');
    expect(h.requests[0]?.actor.kube).toBeUndefined();
  });

  it('falls back to a DM that says why when the bot is not in the channel', async () => {
    await postSigned(
      h.events,
      slashCommandRequest(
        { text: 'cpu checkout', channelId: 'C0002', responseUrl: h.peer.responseUrl() },
        { secret: SECRET },
      ),
    );
    const refused = await h.peer.waitFor('chat.postMessage', (c) => c.args.channel === 'C0002');
    expect(refused.response).toMatchObject({ ok: false, error: 'not_in_channel' });
    const dm = await h.peer.waitFor('chat.postMessage', (c) => c.args.channel === 'U0001');
    expect(dm.response.ok).toBe(true);
    expect(sectionTexts(dm)).toContain(
      'I could not answer in <#C0002> (`not_in_channel`). Invite me with `/invite @Wheelhouse`',
    );
    await h.peer.waitFor('files.completeUploadExternal');
    expect(h.peer.files()[0]).toMatchObject({
      channelId: 'D0001',
      threadTs: dm.response.ts,
      completed: true,
    });
    expect(h.peer.calls('response_url')).toHaveLength(0);
  });

  it('uses the response_url when neither the channel nor a DM takes the answer', async () => {
    h.peer.failNext('chat.postMessage', 'channel_not_found', 2);
    await postSigned(
      h.events,
      slashCommandRequest({ text: 'pods shop', responseUrl: h.peer.responseUrl('r1') }, { secret: SECRET }),
    );
    const response = await h.peer.waitFor('response_url');
    expect(response.args).toMatchObject({
      responseUrlId: 'r1',
      response_type: 'ephemeral',
      replace_original: false,
    });
    expect(JSON.stringify(response.args.blocks)).toContain('(`channel_not_found`)');
    await h.metrics.count(1);
    expect(h.metrics.outcomes).toEqual(['fallback']);
  });

  it('sends the answer as a text file when Slack refuses the blocks themselves', async () => {
    h.peer.failNext('chat.postMessage', 'msg_blocks_too_long');
    await postSigned(h.events, slashCommandRequest({ text: 'pods shop' }, { secret: SECRET }));
    const second = await h.peer.waitFor('chat.postMessage', (c) => c.response.ok === true);
    expect(second.args.channel).toBe('C0001');
    expect(sectionTexts(second)).toContain('Slack refused to show this answer (`msg_blocks_too_long`)');
    await h.peer.waitFor('files.completeUploadExternal');
    const file = h.peer.files().find((f) => f.filename === 'answer.txt');
    expect(file?.bytes?.toString('utf8')).toContain('checkout-2  CrashLoopBackOff');
  });

  it('still answers when the handler breaks its promise and throws', async () => {
    await h.surface.stop();
    await h.http.close();
    await h.peer.close();
    h = await setUp({
      handler: {
        handle: async () => {
          throw new Error('bug in a skill');
        },
      },
    });
    await postSigned(h.events, slashCommandRequest({ text: 'pods shop' }, { secret: SECRET }));
    const ephemeral = await h.peer.waitFor('chat.postEphemeral');
    expect(sectionTexts(ephemeral)).toContain('Internal error');
    expect(sectionTexts(ephemeral)).not.toContain('bug in a skill');
  });

  it('acknowledges a button click and hands the parsed action over', async () => {
    const seen: SlackBlockAction[] = [];
    await h.surface.stop();
    await h.http.close();
    await h.peer.close();
    let delivered: () => void = () => {};
    const arrived = new Promise<void>((resolve) => {
      delivered = resolve;
    });
    h = await setUp({
      onBlockAction: async (action) => {
        seen.push(action);
        delivered();
      },
    });
    const res = await postSigned(
      h.events,
      blockActionsRequest({ actionId: 'approve', value: 'plan-7' }, { secret: SECRET }),
    );
    expect(res.status).toBe(200);
    await arrived;
    expect(seen).toEqual([
      expect.objectContaining({ actionId: 'approve', value: 'plan-7', userId: 'U0001', channelId: 'C0001' }),
    ]);
  });

  it('answers 503 once stopped, so Slack retries the event elsewhere', async () => {
    await h.surface.stop();
    const res = await postSigned(h.events, slashCommandRequest({ text: 'pods shop' }, { secret: SECRET }));
    expect(res.status).toBe(503);
    expect(h.requests).toHaveLength(0);
  });
});

describe('Slack surface start-up', () => {
  it('fails to start with a clear error when Slack rejects the bot token', async () => {
    const peer = await SlackPeer.start();
    const http = createHttpServer({ host: '127.0.0.1', port: 0, logger });
    try {
      const surface = createSlackSurface({
        mode: 'http',
        botToken: 'xoxb-wrong',
        signingSecret: SECRET,
        apiUrl: peer.apiUrl,
        logger,
        httpServer: http,
        idempotency: new MemoryIdempotency(),
        resolveIdentity: async () => undefined,
        handler: { handle: async (r) => stubReply(r) },
      });
      await expect(surface.start()).rejects.toMatchObject({
        code: 'CONFIG',
        message: 'Slack did not accept the bot token.',
      });
      expect(peer.calls('auth.test')[0]?.response).toMatchObject({ ok: false, error: 'invalid_auth' });
    } finally {
      await http.close();
      await peer.close();
    }
  });

  it('refuses to build without the secrets its mode needs', () => {
    const base = {
      botToken: 'xoxb-x',
      logger,
      idempotency: new MemoryIdempotency(),
      resolveIdentity: async () => undefined,
      handler: { handle: async (r: ChatRequest) => stubReply(r) },
    };
    expect(() => createSlackSurface({ ...base, mode: 'socket' })).toThrow(/app-level token/);
    expect(() => createSlackSurface({ ...base, mode: 'http' })).toThrow(/signing secret/);
  });
});
