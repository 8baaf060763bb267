import { WebClient } from '@slack/web-api';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Alerts, createAlerts } from '../../../src/alerts/start-alerts.ts';
import { createSlackIncidentPoster } from '../../../src/chat/slack/slack-incidents.ts';
import { slackClientOptions } from '../../../src/chat/slack/slack-web-client.ts';
import { configSchema } from '../../../src/config/schema.ts';
import { createHttpServer, type HttpServer } from '../../../src/http/http-server.ts';
import type { KubeClient } from '../../../src/kube/types.ts';
import { createRedactor } from '../../../src/redact/redactor.ts';
import { SqliteStore } from '../../../src/store/sqlite-store.ts';
import { fixtureText } from '../../support/alert-payloads.ts';
import { buildDeployment, buildPod, buildReplicaSet } from '../../support/builders.ts';
import { fakeKube } from '../../support/fake-kube.ts';
import { SlackPeer } from '../../support/slack-peer.ts';

const TOKEN = 'alerts-token-0123456789';
const CHANNEL = 'COPS00001';
const logger = pino({ level: 'silent' });

const crashyKube = fakeKube({
  deployments: [buildDeployment({ name: 'crashy', replicas: 1 })],
  replicaSets: [
    buildReplicaSet({ name: 'crashy-7c7bc87c95', deployment: 'crashy', replicas: 1, revision: '1' }),
  ],
  pods: [
    buildPod({
      name: 'crashy-7c7bc87c95-8qk5c',
      labels: { app: 'crashy' },
      owner: { kind: 'ReplicaSet', name: 'crashy-7c7bc87c95' },
      containers: [
        {
          name: 'crashy',
          state: { waiting: 'CrashLoopBackOff' },
          ready: false,
          restartCount: 5,
          lastTerminated: { reason: 'Error', exitCode: 1 },
        },
      ],
    }),
  ],
  logs: [
    {
      pod: 'crashy-7c7bc87c95-8qk5c',
      container: 'crashy',
      previous: true,
      text: '2026-11-25T07:59:00Z starting\n2026-11-25T07:59:01Z ERROR cannot connect to db password=hunter2\n',
    },
  ],
});

const kube: KubeClient = {
  as: () => crashyKube,
  ready: () => true,
  describeTarget: () => ({ server: 'https://fake', context: 'fake' }),
  close: async () => undefined,
};

let peer: SlackPeer;
let http: HttpServer;
let store: SqliteStore;
let alerts: Alerts;
let url: string;

beforeEach(async () => {
  peer = await SlackPeer.start({ channels: [{ id: CHANNEL, name: 'ops', isMember: true }] });
  store = new SqliteStore(':memory:');
  http = createHttpServer({ host: '127.0.0.1', port: 0, logger });
  const config = configSchema.parse({
    alerts: { enabled: true, token: TOKEN, defaultChannel: CHANNEL, updateInterval: '1s' },
  });
  alerts = createAlerts({
    config,
    http,
    store,
    kube,
    metrics: undefined,
    charts: { renderLineChart: async () => new Uint8Array() },
    redact: createRedactor(),
    logger,
  });
  const client = new WebClient(
    peer.token,
    slackClientOptions(
      { apiUrl: peer.apiUrl },
      {
        debug() {},
        info() {},
        warn() {},
        error() {},
        setLevel() {},
        getLevel: () => 'error' as never,
        setName() {},
      },
    ),
  );
  alerts.start(createSlackIncidentPoster({ client, logger }));
  url = (await http.listen()).url;
});

afterEach(async () => {
  await alerts.stop();
  await http.close();
  await store.close();
  await peer.close();
});

const post = (body: string, authorization = `Bearer ${TOKEN}`) =>
  fetch(`${url}/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body,
  });

const roots = () => peer.messages(CHANNEL).filter((m) => m.threadTs === undefined);
const thread = (ts: string) => peer.messages(CHANNEL).filter((m) => m.threadTs === ts);

async function until<T>(what: string, get: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = get();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('POST /alerts over loopback into a Slack peer', () => {
  it('opens one thread with buttons and enrichment, ignores replays, and resolves in place', async () => {
    const first = await post(fixtureText('webhook-firing'));
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ status: 'accepted', created: true });
    const root = await until('the root message', () => roots()[0]);
    expect(root.text).toBe('FIRING: Pod shop/crashy-7c7bc87c95-8qk5c is crash looping. (1 of 1)');
    const values = JSON.stringify(root.blocks);
    expect(values).toContain('rollback deploy/crashy -n shop');
    expect(values).toContain('restart deploy/crashy -n shop');
    expect(values).toContain('scale deploy/crashy -n shop --replicas 2');
    const enrichment = await until('the enrichment', () =>
      thread(root.ts).find((m) => /What Wheelhouse found/.test(m.text ?? '')),
    );
    const text = JSON.stringify(enrichment.blocks);
    expect(text).toContain('CrashLoopBackOff');
    expect(text).toContain('ERROR cannot connect to db');
    expect(text).not.toContain('hunter2');
    expect(text).toContain('runbooks.prometheus-operator.dev');

    for (let i = 0; i < 10; i += 1) {
      const again = await post(fixtureText('webhook-firing'));
      expect(await again.json()).toMatchObject({ status: 'duplicate' });
    }
    await alerts.keeper?.settled();
    expect(roots()).toHaveLength(1);

    const resolved = JSON.parse(fixtureText('webhook-firing')) as {
      status: string;
      alerts: Array<Record<string, unknown>>;
    };
    resolved.status = 'resolved';
    for (const a of resolved.alerts) {
      a.status = 'resolved';
      a.endsAt = new Date().toISOString();
    }
    expect((await post(JSON.stringify(resolved))).status).toBe(200);
    await until('the root to say resolved', () => roots()[0]?.text?.startsWith('RESOLVED'));
    expect(roots()).toHaveLength(1);
    expect(thread(root.ts).some((m) => /^Resolved: all 1 alert/.test(m.text ?? ''))).toBe(true);
  });

  it('refuses wrong credentials with 401 and a malformed body with 400 and an audit record', async () => {
    expect((await post(fixtureText('webhook-firing'), 'Bearer nope')).status).toBe(401);
    const bad = await post('{"version":"4","alerts":[]}');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      error: 'invalid_payload',
      reason: expect.stringContaining('groupKey'),
    });
    expect((await store.audit.tail(5)).map((r) => r.type)).toEqual(['alert.rejected']);
    expect(roots()).toHaveLength(0);
  });

  it('refuses a body over the cap with 413', async () => {
    const response = await post(`{"pad":"${'x'.repeat(2_100_000)}"}`);
    expect(response.status).toBe(413);
  });

  it('waits out Slack rate limits (Retry-After) and still posts exactly one root', async () => {
    peer.rateLimit('chat.postMessage', { times: 1, retryAfterSeconds: 1 });
    expect((await post(fixtureText('webhook-firing-high-error-rate'))).status).toBe(200);
    await until('the root after the rate limit', () => roots()[0]);
    await alerts.keeper?.settled();
    expect(roots()).toHaveLength(1);
    expect(peer.calls('chat.postMessage').filter((c) => c.status === 429)).toHaveLength(1);
  });
});
