import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { verifyChain } from '../../src/audit/audit-record.ts';
import type { PeerMessage } from '../support/slack-peer.ts';
import { ANA, auditRecords, BOB, CHANNEL, type E2eBot, messageText, startE2eBot } from './bot.ts';
import { kubectl } from './kubectl.ts';

/**
 * Alert threads end to end: the harness's real Prometheus fires its seed rules, the real
 * Alertmanager posts them to the bot's POST /alerts, and the Slack peer receives the threads. More
 * groups are raised through Alertmanager's own API (POST /api/v2/alerts), so Alertmanager itself
 * delivers every webhook the latency and resolution checks look at.
 */

const alertmanagerUrl = (): string => {
  const url = process.env.WH_E2E_ALERTMANAGER_URL;
  if (!url) throw new Error('WH_E2E_ALERTMANAGER_URL is not set: run with `npm run test:e2e`');
  return url;
};
/** The token observability-up.sh gave Alertmanager (WH_ALERTS_TOKEN); without one it sends none. */
const token = process.env.WH_ALERTS_TOKEN;
const alertsConfig = [
  'alerts:',
  '  enabled: true',
  token ? `  token: "${token}"` : '  allowUnauthenticated: true',
  `  defaultChannel: ${CHANNEL}`,
  `  alertmanagerUrl: "${alertmanagerUrl()}"`,
  '  updateInterval: 2s',
];

let bot: E2eBot;
let crashyPod: string;
const exprURL = () =>
  `${process.env.WH_E2E_PROMETHEUS_URL}/graph?g0.expr=${encodeURIComponent('max_over_time(kube_pod_container_status_waiting_reason{job="exporter",reason="CrashLoopBackOff"}[1m]) >= 1')}&g0.tab=1`;

/** Raises (or, with endsAt in the past, resolves) alerts in the real Alertmanager. */
async function raise(alerts: Array<{ labels: Record<string, string>; endsAt?: Date }>): Promise<void> {
  const body = alerts.map((a) => ({
    labels: a.labels,
    annotations: {
      summary: `${a.labels.alertname} on ${a.labels.pod ?? '?'}`,
      runbook_url: 'https://runbooks.example.com/e2e',
    },
    startsAt: new Date(Date.now() - 60_000).toISOString(),
    ...(a.endsAt ? { endsAt: a.endsAt.toISOString() } : {}),
    generatorURL: exprURL(),
  }));
  const response = await fetch(`${alertmanagerUrl()}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
}

const roots = (): PeerMessage[] =>
  bot.peer
    .messages(CHANNEL)
    .filter(
      (m) =>
        m.threadTs === undefined && m.ephemeralTo === undefined && /^(FIRING|RESOLVED): /.test(m.text ?? ''),
    );
const rootsOf = (alertname: string): PeerMessage[] =>
  roots().filter((m) => JSON.stringify(m.blocks).includes(`*Alert*\\n${alertname}"`));
const thread = (ts: string): PeerMessage[] => bot.peer.messages(CHANNEL).filter((m) => m.threadTs === ts);

async function until<T>(what: string, get: () => T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = get();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  crashyPod = (
    await kubectl('get', 'pods', '-n', 'shop', '-l', 'app=crashy', '-o', 'jsonpath={.items[0].metadata.name}')
  ).trim();
  bot = await startE2eBot({ extraConfig: alertsConfig });
});

afterAll(async () => {
  await bot?.stop();
});

describe('alert threads from the real Alertmanager', () => {
  it('opens one thread per firing seed group, with enrichment for the crash-looping pod', async () => {
    // Alertmanager retries the groups it could not deliver while no bot listened (group_interval 5 s).
    for (const name of ['KubePodCrashLooping', 'KubeContainerOOMKilled', 'HighErrorRate']) {
      await until(`the ${name} thread`, () => rootsOf(name)[0]);
    }
    const root = rootsOf('KubePodCrashLooping')[0] as PeerMessage;
    const blocks = JSON.stringify(root.blocks);
    expect(blocks).toContain('deploy/crashy in shop');
    expect(blocks).toContain('restart deploy/crashy -n shop');
    expect(blocks).toContain('kubepodcrashlooping|Runbook');
    const enrichment = await until('the enrichment of crashy', () =>
      thread(root.ts).find((m) => /What Wheelhouse found about deploy\/crashy/.test(m.text ?? '')),
    );
    const text = messageText(enrichment.blocks);
    expect(text).toContain(crashyPod);
    expect(text).toContain('CrashLoopBackOff');
    expect(text).toContain('failed to connect to database');
    expect(text).toMatch(/What changed|no rollouts/);
    // The chart of the alert's own expression, uploaded into the thread as a PNG.
    const png = await until('the expression chart', () =>
      bot.peer
        .files()
        .find((f) => f.filename === 'alert-expression.png' && f.threadTs === root.ts && f.completed),
    );
    expect(png.bytes?.subarray(0, 4)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    for (const name of ['KubePodCrashLooping', 'KubeContainerOOMKilled', 'HighErrorRate'])
      expect(rootsOf(name)).toHaveLength(1);
  });

  it('posts enrichment within 10 s at p95 for 20 groups raised at once through Alertmanager', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `WhE2eLatency${i}`);
    await raise(
      names.map((alertname) => ({
        labels: { alertname, namespace: 'shop', pod: crashyPod, container: 'crashy', severity: 'warning' },
      })),
    );
    const seen = new Map<string, number>();
    await until(
      'enrichment of 20 groups',
      () => {
        for (const name of names) {
          if (seen.has(name)) continue;
          const root = rootsOf(name)[0];
          if (root && thread(root.ts).some((m) => /What Wheelhouse found/.test(m.text ?? '')))
            seen.set(name, Date.now());
        }
        return seen.size === names.length;
      },
      120_000,
    );
    const received = new Map<string, number>();
    for (const r of await auditRecords(bot.dataDir)) {
      const match = /firing \{\}:\{alertname="(WhE2eLatency\d+)"/.exec(r.text);
      if (r.type === 'alert.received' && match?.[1] && !received.has(match[1]))
        received.set(match[1], Date.parse(r.time));
    }
    const latencies = names
      .map((n) => ((seen.get(n) ?? 0) - (received.get(n) ?? 0)) / 1000)
      .sort((a, b) => a - b);
    const p50 = latencies[Math.floor(latencies.length * 0.5)] ?? Number.NaN;
    const p95 = latencies[Math.ceil(latencies.length * 0.95) - 1] ?? Number.NaN;
    console.log(
      `alert → enriched thread latency over ${latencies.length} groups: p50 ${p50.toFixed(2)} s, p95 ${p95.toFixed(2)} s, max ${latencies.at(-1)?.toFixed(2)} s`,
    );
    expect(p95).toBeLessThan(10);
    for (const name of names) expect(rootsOf(name)).toHaveLength(1);
  });

  it('keeps one thread when the same payload is replayed 10 times', async () => {
    const payload = readFileSync(
      join(import.meta.dirname, '..', 'fixtures', 'alertmanager', 'webhook-firing.json'),
      'utf8',
    );
    for (let i = 0; i < 10; i += 1) {
      const response = await fetch(`${bot.server.url}/alerts`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: payload,
      });
      expect(response.status).toBe(200);
    }
    await bot.server.app.store.ping();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(rootsOf('KubePodCrashLooping')).toHaveLength(1);
  });

  it('answers a malformed webhook with 400 and an audit record', async () => {
    const response = await fetch(`${bot.server.url}/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: '{"version":"4","status":"firing","alerts":"many"}',
    });
    expect(response.status).toBe(400);
    const body = z.object({ reason: z.string() }).parse(await response.json());
    expect(body.reason).toMatch(/alerts/);
    const records = await auditRecords(bot.dataDir);
    expect(records.at(-1)).toMatchObject({
      type: 'alert.rejected',
      outcome: 'error',
      errorCode: 'INVALID_INPUT',
    });
    expect(await verifyChain(records)).toMatchObject({ ok: true });
  });

  it('silences the group in Alertmanager for an approver, refuses others, and expires it again', async () => {
    const root = rootsOf('KubePodCrashLooping')[0] as PeerMessage;
    const refused = await bot.click(root, 'Silence 1h', BOB);
    expect(refused.message.ephemeralTo).toBe(BOB);
    expect(refused.text).toMatch(/not an approver/);
    const answer = await bot.click(root, 'Silence 1h', ANA);
    expect(answer.text).toMatch(/Silenced \{alertname="KubePodCrashLooping", namespace="shop"\} for 1h/);
    const id = /\(silence ([0-9a-f-]{36})\)/.exec(answer.text)?.[1];
    expect(id).toBeDefined();
    const silence = z
      .object({
        createdBy: z.string(),
        status: z.object({ state: z.string() }),
        matchers: z.array(z.object({ name: z.string(), value: z.string() })),
      })
      .parse(await (await fetch(`${alertmanagerUrl()}/api/v2/silence/${id}`)).json());
    expect(silence.status.state).toBe('active');
    expect(silence.createdBy).toContain(ANA);
    expect(silence.matchers).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'alertname', value: 'KubePodCrashLooping' })]),
    );
    const expired = await bot.click(answer.message, 'Expire silence', ANA);
    expect(expired.text).toMatch(/Expired silence/);
    const after = z
      .object({ status: z.object({ state: z.string() }) })
      .parse(await (await fetch(`${alertmanagerUrl()}/api/v2/silence/${id}`)).json());
    expect(after.status.state).toBe('expired');
    const types = (await auditRecords(bot.dataDir)).map((r) => `${r.type}:${r.outcome}`);
    expect(types).toEqual(
      expect.arrayContaining(['alert.silence:denied', 'alert.silence:ok', 'alert.unsilence:ok']),
    );
  });

  it('takes Restart through the change road: it waits for approval', async () => {
    const root = rootsOf('KubePodCrashLooping')[0] as PeerMessage;
    const answer = await bot.click(root, 'Restart', BOB);
    expect(answer.text).toMatch(/Waiting for approval: restart deploy\/crashy/);
    expect(rootsOf('KubePodCrashLooping')).toHaveLength(1);
  });

  it('resolves in place: the root says resolved, a closing note follows', async () => {
    const labels = {
      alertname: 'WhE2eLatency0',
      namespace: 'shop',
      pod: crashyPod,
      container: 'crashy',
      severity: 'warning',
    };
    await raise([{ labels, endsAt: new Date(Date.now() - 1000) }]);
    const root = await until('the resolved root', () =>
      rootsOf('WhE2eLatency0').find((m) => m.text?.startsWith('RESOLVED')),
    );
    expect(messageText(root.blocks)).toMatch(/RESOLVED\* after \d+/);
    await until('the closing note', () =>
      thread(root.ts).find((m) => /^Resolved: all 1 alert/.test(m.text ?? '')),
    );
    expect(rootsOf('WhE2eLatency0')).toHaveLength(1);
  });

  it('carries on after a restart without a second root', async () => {
    const peer = bot.peer;
    const dataDir = bot.dataDir;
    await bot.stopBotOnly();
    bot = await startE2eBot({ extraConfig: alertsConfig, dataDir, peer });
    // A second alert joins an existing group; Alertmanager sends the changed group after group_interval.
    await raise([
      {
        labels: {
          alertname: 'WhE2eLatency1',
          namespace: 'shop',
          pod: `${crashyPod}-twin`,
          severity: 'warning',
        },
      },
    ]);
    const root = rootsOf('WhE2eLatency1')[0] as PeerMessage;
    await until('the note about the new alert', () =>
      thread(root.ts).find((m) => /1 more firing; now 2 of 2 firing/.test(m.text ?? '')),
    );
    await until('the root to show 2 firing', () => rootsOf('WhE2eLatency1')[0]?.text?.includes('(2 of 2)'));
    expect(rootsOf('WhE2eLatency1')).toHaveLength(1);
    expect(rootsOf('KubePodCrashLooping')).toHaveLength(1);
  });
});
