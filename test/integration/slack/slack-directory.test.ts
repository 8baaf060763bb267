import { WebClient } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSlackDirectory } from '../../../src/chat/slack/slack-directory.ts';
import { SlackPeer } from '../../support/slack-peer.ts';

let peer: SlackPeer;
let client: WebClient;
let clock = 0;

describe('createSlackDirectory', () => {
  beforeEach(async () => {
    peer = await SlackPeer.start({
      users: [{ id: 'U0001', name: 'ana', email: 'ana@example.com' }],
      usergroups: { S0001: ['U0001', 'U0002'] },
    });
    client = new WebClient(peer.token, {
      slackApiUrl: peer.apiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
    });
    clock = 1_000_000;
  });

  afterEach(async () => {
    await peer.close();
  });

  it('looks users up once per TTL, unknown users included', async () => {
    const directory = createSlackDirectory(client, { ttlSeconds: 60, now: () => clock });
    expect(await directory.user('U0001')).toEqual({
      id: 'U0001',
      name: 'ana',
      email: 'ana@example.com',
      deleted: false,
      isBot: false,
    });
    expect(await directory.user('U0001')).toMatchObject({ email: 'ana@example.com' });
    expect(await directory.user('U0404')).toBeUndefined();
    expect(await directory.user('U0404')).toBeUndefined();
    expect(peer.calls('users.info')).toHaveLength(2);
    clock += 61_000;
    await directory.user('U0001');
    expect(peer.calls('users.info')).toHaveLength(3);
  });

  it('lists user group members, and none for an unknown group', async () => {
    const directory = createSlackDirectory(client, { now: () => clock });
    expect(await directory.usergroupMembers('S0001')).toEqual(['U0001', 'U0002']);
    expect(await directory.usergroupMembers('S0404')).toEqual([]);
  });

  it('turns other Slack failures into a coded error', async () => {
    const directory = createSlackDirectory(client, { now: () => clock });
    peer.failNext('users.info', 'missing_scope');
    await expect(directory.user('U0001')).rejects.toMatchObject({
      code: 'SOURCE_UNAVAILABLE',
      detail: { slackError: 'missing_scope' },
    });
  });

  it('keeps at most maxEntries, dropping the oldest', async () => {
    const directory = createSlackDirectory(client, { maxEntries: 1, now: () => clock });
    await directory.usergroupMembers('S0001');
    await directory.usergroupMembers('S0404');
    await directory.usergroupMembers('S0001');
    expect(peer.calls('usergroups.users.list')).toHaveLength(3);
  });
});
