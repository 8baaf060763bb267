import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSlackSurface, type SlackSurface } from '../../../src/chat/slack/slack-surface.ts';
import type { ChatRequest, Reply } from '../../../src/runner/types.ts';
import { MemoryIdempotency } from '../../support/memory-idempotency.ts';
import { SlackPeer } from '../../support/slack-peer.ts';
import { appMentionEvent } from '../../support/slack-signing.ts';

const logger = pino({ level: 'silent' });

const reply = (request: ChatRequest): Reply => ({
  ok: true,
  requestId: 'req-socket',
  skill: 'pods-list',
  durationMs: 3,
  result: { summary: `answer to ${request.text}`, sections: [{ type: 'text', text: 'fine' }] },
});

let peer: SlackPeer;
let surface: SlackSurface;
let requests: ChatRequest[];
let idempotency: MemoryIdempotency;

describe('Slack surface in Socket Mode (the default)', () => {
  beforeEach(async () => {
    peer = await SlackPeer.start({ users: [{ id: 'U0001', name: 'ana' }] });
    requests = [];
    idempotency = new MemoryIdempotency();
    surface = createSlackSurface({
      mode: 'socket',
      botToken: peer.token,
      appToken: peer.appToken,
      apiUrl: peer.apiUrl,
      logger,
      idempotency,
      resolveIdentity: async () => ({ user: 'ana', groups: [] }),
      handler: {
        async handle(request) {
          requests.push(request);
          return reply(request);
        },
      },
    });
    await surface.start();
  });

  afterEach(async () => {
    await surface.stop();
    await peer.close();
  });

  it('opens the connection with the app-level token against the configured API URL', () => {
    expect(peer.calls('apps.connections.open')[0]).toMatchObject({
      token: peer.appToken,
      response: { ok: true },
    });
    expect(peer.calls('socket_connect')).toHaveLength(1);
    expect(peer.socketCount).toBe(1);
  });

  it('acks a slash command over the socket, then posts the answer', async () => {
    const envelope = peer.sendEnvelope('slash_commands', {
      command: '/wh',
      text: 'pods shop',
      user_id: 'U0001',
      user_name: 'ana',
      channel_id: 'C0001',
      team_id: 'T0001',
      trigger_id: 'trigger-socket-1',
      response_url: peer.responseUrl(),
    });
    const ack = await peer.waitFor('socket_ack', (c) => c.args.envelope_id === envelope);
    expect(ack.args.payload).toEqual({
      response_type: 'ephemeral',
      text: ':hourglass_flowing_sand: Working on it…',
    });
    const post = await peer.waitFor('chat.postMessage');
    expect(post.args).toMatchObject({ channel: 'C0001', text: 'answer to pods shop' });
  });

  it('answers an event once when Slack redelivers it', async () => {
    const body = {
      type: 'event_callback',
      team_id: 'T0001',
      event_id: 'EvSocket1',
      event: appMentionEvent({ text: `<@${peer.botUserId}> pods`, ts: '1700000300.000300' }),
    };
    const first = peer.sendEnvelope('events_api', body);
    await peer.waitFor('chat.postMessage');
    const again = peer.sendEnvelope('events_api', body, { retryAttempt: 1, retryReason: 'timeout' });
    await peer.waitFor('socket_ack', (c) => c.args.envelope_id === first);
    await peer.waitFor('socket_ack', (c) => c.args.envelope_id === again);
    // The redelivery reached the claim and was turned away (rather than never being looked at).
    await idempotency.claimed('slack:event:EvSocket1', 2);
    expect(idempotency.history.map((c) => c.first)).toEqual([true, false]);
    await surface.stop();
    expect(requests.map((r) => r.text)).toEqual(['pods']);
    expect(peer.calls('chat.postMessage')).toHaveLength(1);
  });

  it('closes the socket cleanly on stop', async () => {
    await surface.stop();
    const close = await peer.waitFor('socket_close');
    expect(close.args.code).toBe(1000);
  });
});
