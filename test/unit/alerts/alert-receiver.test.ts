import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { alertWebhookHandler, authorized, type WebhookAuth } from '../../../src/alerts/alert-receiver.ts';
import type { WebhookPayload } from '../../../src/alerts/alertmanager-payload.ts';
import { SqliteStore } from '../../../src/store/sqlite-store.ts';
import { fixtureText } from '../../support/alert-payloads.ts';

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

describe('authorized', () => {
  const both: WebhookAuth = {
    token: 'token-0123456789abcdef',
    basic: { username: 'am', password: 'secret-pw' },
    allowUnauthenticated: false,
  };
  it.each<[string, WebhookAuth, string | undefined, boolean]>([
    ['the right bearer token', both, 'Bearer token-0123456789abcdef', true],
    ['a wrong bearer token', both, 'Bearer token-0123456789abcdeX', false],
    ['the right basic auth', both, basic('am', 'secret-pw'), true],
    ['wrong basic auth', both, basic('am', 'nope'), false],
    ['no header', both, undefined, false],
    ['basic when only a token is configured', { ...both, basic: undefined }, basic('am', 'secret-pw'), false],
    ['nothing configured, unauthenticated allowed', { allowUnauthenticated: true }, undefined, true],
    ['nothing configured, unauthenticated not allowed', { allowUnauthenticated: false }, undefined, false],
  ])('%s', (_name, auth, header, expected) => {
    expect(authorized({ headers: header === undefined ? {} : { authorization: header } }, auth)).toBe(
      expected,
    );
  });
});

const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

function setup(receive: (p: WebhookPayload) => Promise<unknown> = async () => undefined) {
  const store = new SqliteStore(':memory:');
  stores.push(store);
  const got: WebhookPayload[] = [];
  const handler = alertWebhookHandler({
    receive: async (payload) => {
      got.push(payload);
      await receive(payload);
      return { id: 'inc-1', created: got.length === 1, changed: true, channel: 'C1' };
    },
    auth: { token: 'token-0123456789abcdef', allowUnauthenticated: false },
    audit: store.audit,
    logger: pino({ level: 'silent' }),
    newRequestId: () => 'req-1',
    redact: (t) => t.replaceAll('hunter2', '[REDACTED]'),
  });
  const post = (body: string, authorization = 'Bearer token-0123456789abcdef') =>
    handler({
      method: 'POST',
      path: '/alerts',
      query: new URLSearchParams(),
      headers: { authorization },
      body: Buffer.from(body),
      remoteAddress: '127.0.0.1',
    });
  return { store, got, post };
}

describe('POST /alerts', () => {
  it('takes a valid notification and audits it', async () => {
    const { post, got, store } = setup();
    const response = await post(fixtureText('webhook-firing'));
    expect(response.status).toBe(200);
    expect(JSON.parse(String(response.body))).toMatchObject({
      status: 'accepted',
      incident: 'inc-1',
      created: true,
    });
    expect(got).toHaveLength(1);
    expect((await store.audit.tail(1))[0]).toMatchObject({
      type: 'alert.received',
      outcome: 'ok',
      actor: { surface: 'http', id: 'alertmanager' },
      input: {
        groupKey: '{}:{alertname="KubePodCrashLooping", namespace="shop"}',
        fingerprints: ['77d45eb086d454ab:firing'],
      },
    });
  });

  it('answers 400 with the reason to a malformed payload, audits it redacted, and never passes it on', async () => {
    const { post, got, store } = setup();
    const response = await post('{"version":"4","password":"hunter2"}');
    expect(response.status).toBe(400);
    expect(JSON.parse(String(response.body))).toMatchObject({
      error: 'invalid_payload',
      reason: expect.stringMatching(/groupKey/),
    });
    expect(got).toHaveLength(0);
    const [record] = await store.audit.tail(1);
    expect(record).toMatchObject({ type: 'alert.rejected', outcome: 'error', errorCode: 'INVALID_INPUT' });
    expect(record?.message).toMatch(/groupKey/);
    expect(record?.text).toContain('[REDACTED]');
    expect(record?.text).not.toContain('hunter2');
  });

  it('answers 401 without credentials and writes nothing', async () => {
    const { post, got, store } = setup();
    const response = await post(fixtureText('webhook-firing'), 'Bearer wrong');
    expect(response.status).toBe(401);
    expect(response.headers?.['www-authenticate']).toMatch(/^Bearer/);
    expect(got).toHaveLength(0);
    expect(await store.audit.tail(10)).toEqual([]);
  });

  it('answers 503 when the notification cannot be stored, so Alertmanager retries', async () => {
    const { post } = setup(async () => {
      throw new Error('database is locked');
    });
    expect((await post(fixtureText('webhook-firing'))).status).toBe(503);
  });
});
