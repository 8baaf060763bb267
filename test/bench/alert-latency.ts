import { execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import type { PeerCall, SlackPeer } from '../support/slack-peer.ts';
import { type KubectlOptions, runKubectl } from './kubectl.ts';
import { log, ratio, type Stats, sleep, stats } from './stats.ts';

/**
 * Alert → enriched thread, through the real path: alerts about the seeded crash-looping pod
 * (shop/crashy) are raised in the harness's Alertmanager (POST /api/v2/alerts, one new group each),
 * Alertmanager delivers them to the bot process's POST /alerts after its group_wait, and the bot
 * opens the thread and posts the enrichment (pods, events, logs, changes, three PNG charts) to the
 * Slack peer. Beside it, "by hand": the same facts with fresh kubectl processes and one PromQL
 * query (curl), one after another, machine time only.
 */

/** The seed's crash-loop rule (test/harness/prometheus), as the generatorURL of the raised alerts. */
export const CRASHLOOP_EXPR =
  'max_over_time(kube_pod_container_status_waiting_reason{job="exporter",reason="CrashLoopBackOff"}[1m]) >= 1';

export interface AlertLatencyOptions {
  peer: SlackPeer;
  channel: string;
  /** The bot process's data dir: its audit records say when each webhook was taken. */
  botDataDir: string;
  alertmanagerUrl: string;
  prometheusUrl: string;
  kubectl: KubectlOptions;
  /** Alert groups measured (after one warm-up group). */
  samples: number;
  /** A new group every this many ms. */
  spacingMs: number;
  /** Rounds of the by-hand commands (after one warm-up round). */
  byHandRounds: number;
}

export interface AlertLatency {
  pod: string;
  /** group_wait, group_interval of the Alertmanager route. */
  alertmanager: string;
  samples: number;
  spacingMs: number;
  /** Webhook taken by the bot → enrichment (message and its charts) complete at the Slack peer, ms. */
  fromWebhook: Stats;
  /**
   * POST /api/v2/alerts to Alertmanager → the same, ms: adds Alertmanager's dispatch. The alerts
   * started a minute ago (as a Prometheus alert with `for: 1m` has), so Alertmanager sends a new
   * group at once instead of after group_wait.
   */
  fromAlertmanager: Stats;
  /** One round of the by-hand commands, ms (sum of the steps). */
  byHand: Stats;
  byHandSteps: Array<{ command: string; wall: Stats }>;
  /** fromWebhook / byHand. */
  ratioP50: number;
  ratioP95: number;
  /** The target: enrichment in the thread within 10 s at p95 of receiving the alert. */
  targetP95Ms: number;
  met: boolean;
  /** Samples whose enriched thread never arrived (counted as failures, not in the figures). */
  missing: number;
  /** Measured threads whose enrichment named deploy/crashy and came with PNG charts. */
  complete: number;
}

interface Sample {
  name: string;
  body: Record<string, unknown>;
  postedAt: number;
  enrichedAt?: number;
  /** The enrichment named the workload and its charts were uploaded. */
  complete?: boolean;
}

const ok = (c: PeerCall): boolean => c.status === 200 && c.response['ok'] === true;

export async function measureAlertLatency(o: AlertLatencyOptions): Promise<AlertLatency> {
  const k = o.kubectl;
  const pod = execFileSync(
    k.kubectl,
    [
      '--kubeconfig',
      k.kubeconfig,
      '--context',
      k.context,
      ...['get', 'pods', '-n', 'shop', '-l', 'app=crashy', '-o', 'jsonpath={.items[0].metadata.name}'],
    ],
    { encoding: 'utf8' },
  ).trim();
  if (!pod) throw new Error('no seeded crashy pod in shop; run test/harness/seed.sh');
  const alertmanager = await routeTiming(o.alertmanagerUrl);
  const run = Date.now().toString(36);
  const generatorURL = `${o.prometheusUrl}/graph?g0.expr=${encodeURIComponent(CRASHLOOP_EXPR)}&g0.tab=1`;
  const startsAt = new Date(Date.now() - 60_000).toISOString();
  const newSample = (name: string): Sample => ({
    name,
    postedAt: Number.NaN,
    body: {
      labels: { alertname: name, namespace: 'shop', pod, container: 'crashy', severity: 'warning' },
      annotations: {
        summary: `${name}: ${pod} is crash looping`,
        runbook_url: 'https://runbooks.example.com/bench',
      },
      startsAt,
      generatorURL,
    },
  });
  const post = async (samples: Sample[], endsAt: Date): Promise<void> => {
    const response = await fetch(`${o.alertmanagerUrl}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(samples.map((s) => ({ ...s.body, endsAt: endsAt.toISOString() }))),
    });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`Alertmanager answered ${response.status}: ${text}`);
  };
  const raise = async (s: Sample): Promise<void> => {
    s.postedAt = Date.now();
    await post([s], new Date(Date.now() + 10 * 60_000));
  };

  /** When the thread of `s` had its enrichment message and charts, or undefined while it has not. */
  const enrichedAt = (s: Sample): number | undefined => {
    s.complete = false;
    const root = o.peer
      .messages(o.channel)
      .find((m) => m.threadTs === undefined && JSON.stringify(m.blocks).includes(`*Alert*\\n${s.name}"`));
    if (root === undefined) return undefined;
    const message = o.peer
      .calls('chat.postMessage')
      .find(
        (c) =>
          ok(c) && c.args['thread_ts'] === root.ts && /^What Wheelhouse found/.test(String(c.args['text'])),
      );
    if (message === undefined) return undefined;
    const files = o.peer
      .calls('files.completeUploadExternal')
      .filter((c) => ok(c) && c.args['thread_ts'] === root.ts);
    // The charts are uploaded right after the message; without any after 5 s there are none.
    if (files.length === 0 && Date.now() - o.peer.wallTimeOf(message) < 5000) return undefined;
    s.complete = files.length > 0 && /deploy\/crashy in shop/.test(String(message.args['text']));
    return Math.max(o.peer.wallTimeOf(message), ...files.map((f) => o.peer.wallTimeOf(f)));
  };
  const waitAll = async (samples: Sample[], deadline: number): Promise<void> => {
    while (Date.now() < deadline) {
      for (const s of samples) if (s.enrichedAt === undefined && s.postedAt) s.enrichedAt = enrichedAt(s);
      if (samples.every((s) => s.enrichedAt !== undefined)) return;
      // Only the detection polls; the times come from the Slack peer's own record of each call.
      await sleep(50);
    }
  };

  // By hand first, while the bot is idle: the same facts, one command after another.
  const byHandSteps = byHand(o, pod);
  const rounds: number[] = [];
  const perStep = byHandSteps.map(() => [] as number[]);
  for (let round = -1; round < o.byHandRounds; round += 1) {
    let sum = 0;
    for (const [i, step] of byHandSteps.entries()) {
      const wall = await step.run();
      sum += wall;
      if (round >= 0) perStep[i]?.push(wall);
    }
    if (round >= 0) rounds.push(sum);
  }
  const hand = stats(rounds);
  log(`alerts: by hand (${byHandSteps.length} commands) p50 ${hand.p50} / p95 ${hand.p95} ms per round`);

  // Warm-up (not counted): the first thread loads the chart renderer and warms the JIT.
  const warm = newSample(`WhBenchAlertWarm${run}`);
  await raise(warm);
  await waitAll([warm], Date.now() + 60_000);
  if (warm.enrichedAt === undefined) throw new Error('the warm-up alert never got its enriched thread');
  log(
    `alerts: warm-up thread enriched ${((warm.enrichedAt - warm.postedAt) / 1000).toFixed(2)} s after raising`,
  );

  const samples = Array.from({ length: o.samples }, (_, i) => newSample(`WhBenchAlert${run}N${i}`));
  const started = Date.now();
  const raising = (async () => {
    for (const [i, s] of samples.entries()) {
      const due = started + i * o.spacingMs;
      if (Date.now() < due) await sleep(due - Date.now());
      await raise(s);
    }
  })();
  await waitAll(samples, started + o.samples * o.spacingMs + 60_000);
  await raising;

  // When the bot took each webhook: its alert.received record (written once the notification is
  // stored) minus that record's own duration, i.e. when the request reached the handler.
  const store = new SqliteStore(join(o.botDataDir, 'wheelhouse.db'));
  const records = await store.audit.tail(2000).finally(() => store.close());
  const received = new Map<string, number>();
  for (const r of records) {
    const name = /alertname="([^"]+)"/.exec(r.text)?.[1];
    if (r.type === 'alert.received' && name && /new thread/.test(r.message ?? '') && !received.has(name))
      received.set(name, Date.parse(r.time) - r.durationMs);
  }
  const done = samples.filter((s) => s.enrichedAt !== undefined && received.has(s.name));
  const fromWebhook = stats(done.map((s) => (s.enrichedAt ?? 0) - (received.get(s.name) ?? 0)));
  const fromAlertmanager = stats(done.map((s) => (s.enrichedAt ?? 0) - s.postedAt));
  log(
    `alerts: ${done.length}/${samples.length} enriched threads; webhook → enriched p50 ${fromWebhook.p50} / p95 ${fromWebhook.p95} ms; raised in Alertmanager → enriched p50 ${fromAlertmanager.p50} / p95 ${fromAlertmanager.p95} ms`,
  );

  // Resolve them again, and give Alertmanager one group_interval to tell this bot.
  await post([warm, ...samples], new Date());
  await sleep(6000);

  const result: AlertLatency = {
    pod,
    alertmanager,
    samples: o.samples,
    spacingMs: o.spacingMs,
    fromWebhook,
    fromAlertmanager,
    byHand: hand,
    byHandSteps: byHandSteps.map((s, i) => ({ command: s.command, wall: stats(perStep[i] ?? []) })),
    ratioP50: ratio(fromWebhook.p50, hand.p50),
    ratioP95: ratio(fromWebhook.p95, hand.p95),
    targetP95Ms: 10_000,
    met: false,
    missing: samples.length - done.length,
    complete: done.filter((s) => s.complete).length,
  };
  result.met =
    result.missing === 0 && result.complete === done.length && fromWebhook.p95 < result.targetP95Ms;
  return result;
}

/** group_wait and group_interval of Alertmanager's route, from its status API. */
async function routeTiming(alertmanagerUrl: string): Promise<string> {
  try {
    const status = (await (await fetch(`${alertmanagerUrl}/api/v2/status`)).json()) as {
      config?: { original?: string };
    };
    const original = status.config?.original ?? '';
    return ['group_wait', 'group_interval']
      .map((key) => new RegExp(`${key}: (\\S+)`).exec(original)?.[0] ?? `${key}: ?`)
      .join(', ');
  } catch {
    return 'unknown';
  }
}

/** What an on-call engineer runs for the same facts, each a fresh process; resolves with its wall time. */
function byHand(o: AlertLatencyOptions, pod: string): Array<{ command: string; run: () => Promise<number> }> {
  const kubectl = (command: string, ...args: string[]) => ({
    command,
    run: async () => {
      const r = await runKubectl(o.kubectl, args);
      if (r.exitCode !== 0) throw new Error(`${command} failed: ${r.stderr.slice(0, 300)}`);
      return r.wallMs;
    },
  });
  const end = Math.floor(Date.now() / 1000);
  const start = end - 31 * 60;
  return [
    kubectl(
      'kubectl get pods -n shop -l app=crashy -o wide',
      'get',
      'pods',
      '-n',
      'shop',
      '-l',
      'app=crashy',
      '-o',
      'wide',
    ),
    kubectl('kubectl describe pod POD -n shop', 'describe', 'pod', pod, '-n', 'shop'),
    kubectl(
      'kubectl get events -n shop --field-selector type=Warning',
      'get',
      'events',
      '-n',
      'shop',
      '--field-selector',
      'type=Warning',
    ),
    kubectl('kubectl logs POD -n shop --tail=200', 'logs', pod, '-n', 'shop', '--tail=200'),
    kubectl(
      'kubectl logs POD -n shop --previous --tail=200',
      'logs',
      pod,
      '-n',
      'shop',
      '--previous',
      '--tail=200',
    ),
    kubectl(
      'kubectl rollout history deploy/crashy -n shop',
      'rollout',
      'history',
      'deployment/crashy',
      '-n',
      'shop',
    ),
    {
      command: 'curl PROMETHEUS/api/v1/query_range (the alert expression, last 31 min)',
      run: () =>
        runProcess('curl', [
          '-sS',
          '--fail',
          '--max-time',
          '10',
          '-o',
          '/dev/null',
          '-G',
          `${o.prometheusUrl}/api/v1/query_range`,
          '--data-urlencode',
          `query=${CRASHLOOP_EXPR}`,
          '--data-urlencode',
          `start=${start}`,
          '--data-urlencode',
          `end=${end}`,
          '--data-urlencode',
          'step=15',
        ]),
    },
  ];
}

function runProcess(command: string, args: string[]): Promise<number> {
  const devNull = openSync('/dev/null', 'w');
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', devNull, 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.once('error', (e) => {
      closeSync(devNull);
      reject(e);
    });
    child.once('close', (code) => {
      closeSync(devNull);
      if (code === 0) resolve(performance.now() - started);
      else reject(new Error(`${command} exited ${code}: ${stderr.slice(0, 300)}`));
    });
  });
}
