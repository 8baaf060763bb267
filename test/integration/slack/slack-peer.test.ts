import { WebClient } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SlackPeer } from '../../support/slack-peer.ts';

let peer: SlackPeer;
let client: WebClient;

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });

describe('the Slack Web API peer, driven by the real WebClient', () => {
  beforeEach(async () => {
    peer = await SlackPeer.start({
      users: [{ id: 'U0001', name: 'ana', realName: 'Ana A.', email: 'ana@example.com' }],
      channels: [
        { id: 'C0001', name: 'general' },
        { id: 'C0002', name: 'ops', isMember: false },
        { id: 'G0001', name: 'secret', isMember: false, isPrivate: true },
      ],
      usergroups: { S0001: ['U0001'] },
    });
    client = new WebClient(peer.token, {
      slackApiUrl: peer.apiUrl,
      timeout: 5000,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
    });
  });

  afterEach(async () => {
    await peer.close();
  });

  it('checks the bearer token', async () => {
    const wrong = new WebClient('xoxb-wrong', { slackApiUrl: peer.apiUrl, retryConfig: { retries: 0 } });
    await expect(wrong.auth.test()).rejects.toMatchObject({ data: { ok: false, error: 'invalid_auth' } });
    const none = new WebClient(undefined, { slackApiUrl: peer.apiUrl, retryConfig: { retries: 0 } });
    await expect(none.auth.test()).rejects.toMatchObject({ data: { error: 'not_authed' } });
    expect(await client.auth.test()).toMatchObject({ ok: true, user_id: peer.botUserId, team_id: 'T0001' });
  });

  it('posts, updates and links messages with Slack response shapes', async () => {
    const posted = await client.chat.postMessage({ channel: 'C0001', text: 'hi', blocks: [section('hi')] });
    expect(posted).toMatchObject({
      ok: true,
      channel: 'C0001',
      message: { text: 'hi', user: peer.botUserId },
    });
    const ts = posted.ts ?? '';
    expect(await client.chat.update({ channel: 'C0001', ts, text: 'bye' })).toMatchObject({ ok: true, ts });
    expect(peer.messages('C0001')[0]?.text).toBe('bye');
    expect(await client.chat.getPermalink({ channel: 'C0001', message_ts: ts })).toMatchObject({
      permalink: `https://peer.slack.test/archives/C0001/p${ts.replace('.', '')}`,
    });
    await expect(client.chat.update({ channel: 'C0001', ts: '1.2', text: 'x' })).rejects.toMatchObject({
      data: { error: 'message_not_found' },
    });
  });

  it('refuses what Slack refuses', async () => {
    await expect(client.chat.postMessage({ channel: 'C9999', text: 'x' })).rejects.toMatchObject({
      data: { error: 'channel_not_found' },
    });
    await expect(client.chat.postMessage({ channel: 'C0002', text: 'x' })).rejects.toMatchObject({
      data: { error: 'not_in_channel' },
    });
    await expect(client.chat.postMessage({ channel: 'G0001', text: 'x' })).rejects.toMatchObject({
      data: { error: 'channel_not_found' },
    });
    await expect(client.chat.postMessage({ channel: 'C0001', text: '' })).rejects.toMatchObject({
      data: { error: 'no_text' },
    });
    const tooMany = Array.from({ length: 51 }, () => section('x'));
    await expect(
      client.chat.postMessage({ channel: 'C0001', text: 'x', blocks: tooMany }),
    ).rejects.toMatchObject({
      data: { error: 'invalid_blocks', errors: ['no more than 50 items allowed [json-pointer:/blocks]'] },
    });
    await expect(
      client.chat.postMessage({ channel: 'C0001', text: 'x', blocks: [section('y'.repeat(3001))] }),
    ).rejects.toMatchObject({ data: { error: 'invalid_blocks' } });
    const heavy = Array.from({ length: 5 }, () => section('z'.repeat(2900)));
    await expect(
      client.chat.postMessage({ channel: 'C0001', text: 'x', blocks: heavy }),
    ).rejects.toMatchObject({
      data: { error: 'msg_blocks_too_long' },
    });
    expect(peer.messages()).toHaveLength(0);
  });

  it('opens a DM when posting to a user id, and posts ephemeral messages', async () => {
    const dm = await client.chat.postMessage({ channel: 'U0001', text: 'psst' });
    expect(dm.channel).toBe('D0001');
    const eph = await client.chat.postEphemeral({ channel: 'C0001', user: 'U0001', text: 'only you' });
    expect(eph.message_ts).toBeDefined();
    expect(peer.messages('C0001')[0]?.ephemeralTo).toBe('U0001');
  });

  it('answers 429 with Retry-After when told to', async () => {
    peer.rateLimit('chat.postMessage', { times: 1, retryAfterSeconds: 7 });
    await expect(client.chat.postMessage({ channel: 'C0001', text: 'x' })).rejects.toMatchObject({
      code: 'slack_webapi_rate_limited_error',
      retryAfter: 7,
    });
    expect(peer.calls('chat.postMessage')[0]?.status).toBe(429);
    expect((await client.chat.postMessage({ channel: 'C0001', text: 'x' })).ok).toBe(true);
  });

  it('takes files through the external upload flow and keeps their bytes', async () => {
    const bytes = Buffer.from([0, 1, 2, 254, 255]);
    await client.files.uploadV2({
      channel_id: 'C0001',
      thread_ts: '1.1',
      file: bytes,
      filename: 'b.bin',
      title: 'B',
    });
    expect(peer.files()).toEqual([
      expect.objectContaining({
        filename: 'b.bin',
        title: 'B',
        bytes,
        completed: true,
        channelId: 'C0001',
        threadTs: '1.1',
      }),
    ]);
    expect(peer.calls().map((c) => c.method)).toEqual([
      'files.getUploadURLExternal',
      'upload',
      'files.completeUploadExternal',
    ]);
  });

  it('knows users, user groups, conversations and modals', async () => {
    expect(await client.users.info({ user: 'U0001' })).toMatchObject({
      user: { id: 'U0001', name: 'ana', profile: { email: 'ana@example.com' } },
    });
    await expect(client.users.info({ user: 'U9' })).rejects.toMatchObject({
      data: { error: 'user_not_found' },
    });
    expect(await client.usergroups.users.list({ usergroup: 'S0001' })).toMatchObject({ users: ['U0001'] });
    expect(await client.conversations.info({ channel: 'C0002' })).toMatchObject({
      channel: { id: 'C0002', is_member: false },
    });
    await expect(client.conversations.info({ channel: 'G0001' })).rejects.toMatchObject({
      data: { error: 'channel_not_found' },
    });
    const view = await client.views.open({
      trigger_id: 't1',
      view: { type: 'modal', title: { type: 'plain_text', text: 'Approve' }, blocks: [] },
    });
    expect(view.view?.id).toMatch(/^V/);
    await expect(client.apiCall('nope.nothing')).rejects.toMatchObject({ data: { error: 'unknown_method' } });
  });

  it('lets a test wait for a call, and times out with what it did see', async () => {
    const waiting = peer.waitFor('chat.postMessage', (c) => c.args.text === 'later');
    await client.chat.postMessage({ channel: 'C0001', text: 'later' });
    expect((await waiting).args.channel).toBe('C0001');
    await expect(peer.waitFor('views.open', () => true, 50)).rejects.toThrow(
      /no matching views.open within 50 ms; calls: chat.postMessage/,
    );
  });
});
