import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { RolloutProgress } from '../../../src/changes/types.ts';
import {
  createSlackSurface,
  type SlackSurface,
  type SlackSurfaceOptions,
} from '../../../src/chat/slack/slack-surface.ts';
import { createHttpServer, type HttpServer } from '../../../src/http/http-server.ts';
import type { ChatRequest, Reply } from '../../../src/runner/types.ts';
import { MemoryIdempotency } from '../../support/memory-idempotency.ts';
import { type PeerCall, SlackPeer } from '../../support/slack-peer.ts';
import {
  appMentionEvent,
  eventCallbackRequest,
  postSigned,
  slashCommandRequest,
} from '../../support/slack-signing.ts';

const SECRET = 'test-signing-secret';
const logger = pino({ level: 'silent' });
const ANSWER = 'Done and verified: set image of deploy/checkout to registry/checkout:v2.';

const target = {
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  kind: 'Deployment',
  namespace: 'shop',
  name: 'checkout',
};

function state(updated: number, ready: number, available: number, phase: RolloutProgress['phase']) {
  return { target, desired: 3, updated, ready, available, phase, message: `${updated} updated` };
}

function reply(request: ChatRequest): Reply {
  return {
    ok: true,
    requestId: `req-${request.text.length}`,
    skill: 'deploy-set-image',
    durationMs: 5,
    result: { summary: ANSWER, tone: 'success', sections: [] },
  };
}

interface Harness {
  peer: SlackPeer;
  http: HttpServer;
  surface: SlackSurface;
  events: string;
  requests: ChatRequest[];
}

let h: Harness | undefined;

/**
 * A surface whose stub handler follows a "rollout": the first state, then (once the progress
 * message is posted) three more in quick succession, the last one done, then the answer.
 */
async function setUp(overrides: Partial<SlackSurfaceOptions> = {}): Promise<Harness> {
  const peer = await SlackPeer.start({ users: [{ id: 'U0001', name: 'ana' }] });
  const http = createHttpServer({ host: '127.0.0.1', port: 0, logger });
  const requests: ChatRequest[] = [];
  const surface = createSlackSurface({
    mode: 'http',
    botToken: peer.token,
    signingSecret: SECRET,
    apiUrl: peer.apiUrl,
    logger,
    httpServer: http,
    idempotency: new MemoryIdempotency(),
    resolveIdentity: async () => ({ user: 'ana@example.com', groups: [] }),
    // Long enough that the in-between states can only be coalesced, never sent one by one.
    progress: { intervalMs: 60_000 },
    handler: {
      async handle(request) {
        requests.push(request);
        request.onProgress?.(state(1, 0, 0, 'progressing'));
        await peer.waitFor('chat.postMessage', (c) => String(c.args.text).startsWith(':arrows'));
        request.onProgress?.(state(2, 1, 1, 'progressing'));
        request.onProgress?.(state(3, 2, 2, 'progressing'));
        request.onProgress?.(state(3, 3, 3, 'done'));
        return reply(request);
      },
    },
    ...overrides,
  });
  const { url } = await http.listen();
  await surface.start();
  return { peer, http, surface, events: `${url}/slack/events`, requests };
}

afterEach(async () => {
  await h?.surface.stop();
  await h?.http.close();
  await h?.peer.close();
  h = undefined;
});

const isAnswer = (c: PeerCall): boolean => c.args.text === ANSWER;
const isProgress = (c: PeerCall): boolean => String(c.args.text).startsWith(':arrows_counterclockwise:');

describe('Slack surface: rollout progress in one message updated in place', () => {
  it('posts progress in the mention thread, updates it to the final state, then answers there', async () => {
    h = await setUp();
    const res = await postSigned(
      h.events,
      eventCallbackRequest(
        appMentionEvent({ text: `<@${h.peer.botUserId}> set image checkout v2`, ts: '1700000100.000100' }),
        { eventId: 'EvP01' },
        { secret: SECRET },
      ),
    );
    expect(res.status).toBe(200);
    await h.peer.waitFor('chat.postMessage', isAnswer);

    const posts = h.peer.calls('chat.postMessage');
    const progressPosts = posts.filter(isProgress);
    expect(progressPosts).toHaveLength(1);
    expect(progressPosts[0]?.args).toMatchObject({
      channel: 'C0001',
      thread_ts: '1700000100.000100',
      text: ':arrows_counterclockwise: Rolling out deploy/checkout in shop: 1/3 updated · 0/3 ready · 0/3 available',
    });
    const ts = progressPosts[0]?.response.ts;

    const updates = h.peer.calls('chat.update');
    expect(updates.length).toBeGreaterThanOrEqual(1);
    expect(updates.every((u) => u.args.ts === ts && u.response.ok === true)).toBe(true);
    // The two states in between were coalesced away; the final one was sent at once.
    expect(updates.map((u) => u.args.text)).toEqual([
      ':white_check_mark: Rolled out deploy/checkout in shop: 3/3 updated · 3/3 ready · 3/3 available',
    ]);
    // The final update landed before the answer, which goes to the same thread.
    const answer = posts.find(isAnswer);
    expect(answer?.args.thread_ts).toBe('1700000100.000100');
    expect(updates.at(-1)!.at).toBeLessThanOrEqual(answer!.at);
    expect(h.peer.messages('C0001').find((m) => m.ts === ts)?.text).toContain(':white_check_mark:');
  });

  it('posts the progress of a slash command in the channel itself (there is no thread yet)', async () => {
    h = await setUp();
    await postSigned(
      h.events,
      slashCommandRequest(
        { text: 'set image checkout v2', triggerId: 't-p1', responseUrl: 'http://127.0.0.1:1/none' },
        { secret: SECRET },
      ),
    );
    await h.peer.waitFor('chat.postMessage', isAnswer);
    const progress = h.peer.calls('chat.postMessage').filter(isProgress);
    expect(progress).toHaveLength(1);
    expect(progress[0]?.args.channel).toBe('C0001');
    expect(progress[0]?.args.thread_ts).toBeUndefined();
    expect(h.peer.calls('chat.update').at(-1)?.args.text).toMatch(/^:white_check_mark: Rolled out/);
  });

  it('answers even when Slack refuses the progress message', async () => {
    h = await setUp({
      handler: {
        async handle(request) {
          request.onProgress?.(state(1, 0, 0, 'progressing'));
          await new Promise((resolve) => setTimeout(resolve, 50));
          request.onProgress?.(state(3, 3, 3, 'done'));
          return reply(request);
        },
      },
    });
    h.peer.failNext('chat.postMessage', 'restricted_action');
    await postSigned(
      h.events,
      eventCallbackRequest(
        appMentionEvent({ text: `<@${h.peer.botUserId}> set image checkout v2`, ts: '1700000200.000100' }),
        { eventId: 'EvP02' },
        { secret: SECRET },
      ),
    );
    const answer = await h.peer.waitFor('chat.postMessage', isAnswer);
    expect(answer.args.thread_ts).toBe('1700000200.000100');
    expect(h.peer.calls('chat.postMessage').map((c) => c.response.ok)).toEqual([false, true]);
    // Having failed once, the request did not keep trying.
    expect(h.peer.calls('chat.update')).toHaveLength(0);
  });
});
