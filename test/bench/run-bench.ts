/**
 * `npm run bench` (via test/harness/bench.sh): Wheelhouse side by side with kubectl on the harness's
 * real API server. Creates 5,000 pods over 50 namespaces (then 20,000), times answers through the
 * one road (`runner.handle`) against fresh kubectl processes, reads the bot's memory as its own
 * process, measures Slack acknowledgements under 50 concurrent slash commands, times alert →
 * enriched thread through the harness's real Alertmanager beside the same facts by hand
 * (alert-latency.ts), times a bad canary from `/wh canary` to rollback with Wheelhouse's judge and
 * with a threshold-only analysis as Flagger's default (canary-rollback.ts), and cleans up. Writes bench-results/results.json and bench-results/summary.md.
 *
 * Settings (env): WH_E2E_DIR, WH_BENCH_OUT, WH_BENCH_QUERIES, WH_BENCH_KUBECTL_RUNS,
 * WH_BENCH_SLACK_ROUNDS, WH_BENCH_SLACK_CONCURRENCY, WH_BENCH_SKIP_20K, WH_BENCH_MAX_MINUTES,
 * WH_BENCH_SKIP_ALERTS, WH_BENCH_ALERT_SAMPLES, WH_BENCH_ALERT_SPACING_MS, WH_BENCH_BY_HAND_ROUNDS,
 * WH_BENCH_SKIP_CANARY, WH_BENCH_CANARY_INTERVAL_S;
 * see test/bench/README.md.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { loadConfig } from '../../src/config/load-config.ts';
import type { KubeIdentity } from '../../src/kube/types.ts';
import { buildWheelhouse, type Wheelhouse } from '../../src/wheelhouse.ts';
import { startAlertGate } from '../support/alert-gate.ts';
import { SlackPeer } from '../support/slack-peer.ts';
import { slashCommandRequest } from '../support/slack-signing.ts';
import { AdminApi } from './admin-api.ts';
import { type AlertLatency, measureAlertLatency } from './alert-latency.ts';
import { BotProcess } from './bot-process.ts';
import { type CanaryRollback, canaryConfig, measureCanaryRollback } from './canary-rollback.ts';
import {
  type CleanupReport,
  type CreationReport,
  cleanup,
  countAllPods,
  createNodes,
  createPods,
  createRbac,
} from './cluster.ts';
import { namespaceName, VIEWER } from './fixtures.ts';
import { type KubectlOptions, kubectlOutputBytes, kubectlPeakMemory, runKubectl } from './kubectl.ts';
import { renderSummary } from './report.ts';
import { type SlackRound, slashCommandRound } from './slack-load.ts';
import { log, ms, ratio, type Stats, sleep, stats } from './stats.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const num = (name: string, fallback: number): number => {
  const v = process.env[name];
  return v === undefined || v === '' ? fallback : Number(v);
};

const SETTINGS = {
  namespaces: num('WH_BENCH_NAMESPACES', 50),
  podsPerNamespace: num('WH_BENCH_PODS_PER_NAMESPACE', 100),
  /** Namespaces added (×100 pods) for the 20,000-pod memory figure. */
  extraNamespaces: num('WH_BENCH_EXTRA_NAMESPACES', 150),
  skip20k: process.env['WH_BENCH_SKIP_20K'] === '1',
  queries: num('WH_BENCH_QUERIES', 200),
  allNamespaceQueries: num('WH_BENCH_ALL_NS_QUERIES', 30),
  kubectlRuns: num('WH_BENCH_KUBECTL_RUNS', 30),
  slackRounds: num('WH_BENCH_SLACK_ROUNDS', 3),
  slackConcurrency: num('WH_BENCH_SLACK_CONCURRENCY', 50),
  createConcurrency: num('WH_BENCH_CREATE_CONCURRENCY', 48),
  settleTimeoutS: num('WH_BENCH_SETTLE_TIMEOUT_S', 300),
  settleTimeout20kS: num('WH_BENCH_SETTLE_TIMEOUT_20K_S', 900),
  maxMinutes: num('WH_BENCH_MAX_MINUTES', 60),
  skipAlerts: process.env['WH_BENCH_SKIP_ALERTS'] === '1',
  alertSamples: num('WH_BENCH_ALERT_SAMPLES', 20),
  alertSpacingMs: num('WH_BENCH_ALERT_SPACING_MS', 1200),
  byHandRounds: num('WH_BENCH_BY_HAND_ROUNDS', 8),
  skipCanary: process.env['WH_BENCH_SKIP_CANARY'] === '1',
  canaryIntervalS: num('WH_BENCH_CANARY_INTERVAL_S', 12),
  podsPerNode: 5000,
  out: resolve(REPO, process.env['WH_BENCH_OUT'] ?? 'bench-results'),
};
const SIGNING_SECRET = 'bench-signing-secret-0123456789';
const CHANNEL = 'C0BENCH01';
/** The Slack user the config maps to the bench viewer; used to ask how many pods the bot sees. */
const PROBE_USER = 'UBENCH01';
/** The Slack user of the canary phase, mapped to the harness's bob (edit in shop). */
const CANARY_USER = 'UBENCHCAN1';
/** Distinct Slack users per burst, so each request needs its own access review (Slack users are many). */
const slackUser = (phase: number, round: number, i: number): string =>
  `U9${phase}${round}${String(i).padStart(3, '0')}`;
const slackKubeUser = (slackId: string): string => `slack-bench-${slackId}`;
/** Fresh users for the "access review not cached yet" measurements. */
const coldUser = (phase: number, i: number): KubeIdentity => ({
  user: `bench-viewer-${phase}-${i}`,
  groups: VIEWER.groups,
});

// ------------------------------------------------------------------------------------------------ env

function readEnvFile(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^export ([A-Z0-9_]+)='(.*)'$/.exec(line.trim());
    if (m?.[1] !== undefined && m[2] !== undefined) out[m[1]] = m[2];
  }
  return out;
}

const E2E_DIR = process.env['WH_E2E_DIR'] ?? join(REPO, '.cache/e2e');
const HARNESS = readEnvFile(join(E2E_DIR, 'env'));
const need = (key: string): string => {
  const v = HARNESS[key];
  if (!v) throw new Error(`${key} missing from ${E2E_DIR}/env; run test/harness/cluster-up.sh`);
  return v;
};
const KUBECONFIG = need('KUBECONFIG');
const KUBECTL: KubectlOptions = { kubectl: need('KUBECTL'), kubeconfig: KUBECONFIG, context: 'wheelhouse' };
const AS_VIEWER = ['--as', VIEWER.user, ...VIEWER.groups.flatMap((g) => ['--as-group', g])];

// ------------------------------------------------------------------------------------------------ results

export interface Comparison {
  question: string;
  identity: string;
  wheelhouse: Stats;
  kubectl: Stats;
  kubectlCommand: string;
  ratioP50: number;
  ratioP95: number;
  target: number;
  met: boolean;
  failures: number;
}

export interface BotMemory {
  bot: string;
  how: string;
  podsInCluster: number;
  podsSeenByBot: number | undefined;
  readyMs: number;
  rssSteady: number;
  rssMax: number;
  hwm: number;
  rssAfterGc: number;
  heapUsedAfterGc: number;
  /** process.memoryUsage() in the bot after the GC (V8 heap committed, external/ArrayBuffers). */
  heapTotalAfterGc: number | undefined;
  externalAfterGc: number | undefined;
}

export interface Results {
  startedAt: string;
  finishedAt?: string;
  durationS?: number;
  environment: Record<string, string | number>;
  settings: typeof SETTINGS;
  creation: { at5k?: CreationReport; at20k?: CreationReport };
  queries: { at5k: Comparison[]; at20k: Comparison[] };
  kubectlOutput: Record<string, number>;
  memory: {
    bots: BotMemory[];
    kubectl: Array<{ pods: number; command: string; maxRssBytes: number; wallMs: number }>;
    bytesPerPod?: { heap: number; rss: number; basis: string };
    /** RSS and V8 heap (after GC) of a fresh Node process that imports only this module. */
    imports: Array<{ module: string; rss: number; rssAfterGc: number; heapUsedAfterGc: number }>;
    target: { limitBytes: number; at: string; valueBytes: number; met: boolean } | undefined;
  };
  slack: {
    rounds: Array<SlackRound & { pods: number; round: number }>;
    all: Stats | undefined;
    target: number;
    met: boolean | undefined;
  };
  /** Alert → enriched thread through the harness's Alertmanager, beside the same facts by hand. */
  alerts?: AlertLatency | undefined;
  /** Bad canary → rollback, Wheelhouse's judge beside a threshold-only analysis (Flagger's default). */
  canary?: CanaryRollback | undefined;
  cleanup?: CleanupReport;
  notes: string[];
  errors: string[];
}

const results: Results = {
  startedAt: new Date().toISOString(),
  environment: {},
  settings: SETTINGS,
  creation: {},
  queries: { at5k: [], at20k: [] },
  kubectlOutput: {},
  memory: { bots: [], kubectl: [], imports: [], target: undefined },
  slack: { rounds: [], all: undefined, target: 50, met: undefined },
  notes: [],
  errors: [],
};

// ------------------------------------------------------------------------------------------------ state

const t0 = performance.now();
const scratch = mkdtempSync(join(tmpdir(), 'wh-bench-'));
const logsDir = join(SETTINGS.out, 'logs');
const pidFile = join(SETTINGS.out, 'bot-pids');
const api = new AdminApi({
  server: need('WH_API_URL'),
  token: need('WH_TOKEN_ADMIN'),
  caFile: need('WH_CA_FILE'),
});
const bots = new Set<BotProcess>();
let peer: SlackPeer | undefined;
let app: Wheelhouse | undefined;
let shuttingDown: Promise<void> | undefined;

/** Stops everything the bench started and removes its objects; safe to call more than once. */
function shutdown(reason: string): Promise<void> {
  shuttingDown ??= (async () => {
    log(`cleaning up (${reason})`);
    api.stopCreating();
    await Promise.allSettled([...bots].map((b) => b.stop()));
    await app?.close().catch(() => undefined);
    await peer?.close().catch(() => undefined);
    results.cleanup = await cleanup(api, { waitMs: 180_000 });
    log(
      `clean-up took ${(results.cleanup.ms / 1000).toFixed(1)} s; bench namespaces left: ${results.cleanup.namespacesLeft}, bench nodes left: ${results.cleanup.nodesLeft}`,
    );
    api.close();
    rmSync(scratch, { recursive: true, force: true });
    rmSync(pidFile, { force: true });
  })();
  return shuttingDown;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal} received`);
    results.errors.push(`interrupted by ${signal}`);
    void shutdown(signal).finally(() => {
      writeResults();
      process.exit(130);
    });
  });
}

function writeResults(): void {
  results.finishedAt = new Date().toISOString();
  results.durationS = Math.round((performance.now() - t0) / 1000);
  mkdirSync(SETTINGS.out, { recursive: true });
  writeFileSync(join(SETTINGS.out, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(SETTINGS.out, 'summary.md'), renderSummary(results));
}

// ------------------------------------------------------------------------------------------------ helpers

/** Deterministic PRNG (mulberry32), so runs ask the same namespaces in the same order. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function botEnv(dataDir: string, peerApiUrl: string, configFile: string): Record<string, string> {
  return {
    KUBECONFIG,
    WH_KUBE_CONTEXT: 'wheelhouse',
    WH_DATA_DIR: dataDir,
    WH_CONFIG: configFile,
    WH_SLACK_MODE: 'http',
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: peerApiUrl,
  };
}

/** Asks the bot through Slack how many pods it sees in all namespaces, until it sees `expected`. */
async function podsSeenViaSlack(
  bot: BotProcess,
  expected: number,
  timeoutMs: number,
): Promise<number | undefined> {
  if (!peer) return undefined;
  const deadline = Date.now() + timeoutMs;
  let seen: number | undefined;
  while (Date.now() < deadline) {
    const before = peer.calls('chat.postMessage').length;
    const request = slashCommandRequest(
      {
        text: 'pods -A --unhealthy',
        userId: PROBE_USER,
        channelId: CHANNEL,
        responseUrl: peer.responseUrl('probe'),
      },
      { secret: SIGNING_SECRET },
    );
    const res = await fetch(`${bot.url}/slack/events`, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
    });
    await res.arrayBuffer();
    const call = await peer
      .waitFor(
        'chat.postMessage',
        (c) => peer !== undefined && peer.calls('chat.postMessage').indexOf(c) >= before,
        30_000,
      )
      .catch(() => undefined);
    const m = /(\d+) pods in all namespaces/.exec(String(call?.args['text'] ?? ''));
    seen = m?.[1] === undefined ? undefined : Number(m[1]);
    if (seen !== undefined && seen >= expected) return seen;
    await sleep(2000);
  }
  return seen;
}

async function measureBot(bot: BotProcess, how: string, readyMs: number): Promise<BotMemory> {
  const podsInCluster = await countAllPods(api);
  const podsSeenByBot = await podsSeenViaSlack(bot, podsInCluster, 120_000);
  if (podsSeenByBot !== podsInCluster) {
    results.notes.push(
      `${bot.name}: saw ${podsSeenByBot ?? '?'} pods via Slack, the cluster has ${podsInCluster}`,
    );
  }
  log(`${bot.name}: sees ${podsSeenByBot} of ${podsInCluster} pods; sampling RSS for 15 s`);
  const sample = await bot.sampleMemory(15_000);
  const gc = await bot.collectGarbage();
  const m: BotMemory = {
    bot: bot.name,
    how,
    podsInCluster,
    podsSeenByBot,
    readyMs: Math.round(readyMs),
    rssSteady: sample.steady,
    rssMax: Math.max(sample.max, sample.hwm),
    hwm: sample.hwm,
    rssAfterGc: gc.rss,
    heapUsedAfterGc: gc.heap.usedBytes,
    heapTotalAfterGc: gc.usage?.heapTotal,
    externalAfterGc: gc.usage?.external,
  };
  log(
    `${bot.name}: RSS steady ${(m.rssSteady / 2 ** 20).toFixed(1)} MB, peak ${(m.hwm / 2 ** 20).toFixed(1)} MB, after GC ${(m.rssAfterGc / 2 ** 20).toFixed(1)} MB (heap ${(m.heapUsedAfterGc / 2 ** 20).toFixed(1)} MB)`,
  );
  results.memory.bots.push(m);
  return m;
}

async function startBot(
  name: string,
  configFile: string,
  extra: { env?: Record<string, string>; httpPort?: number } = {},
): Promise<{ bot: BotProcess; readyMs: number; dataDir: string }> {
  if (!peer) throw new Error('the Slack peer is not running');
  const dataDir = join(scratch, name);
  mkdirSync(dataDir, { recursive: true });
  const bot = await BotProcess.start({
    name,
    repoDir: REPO,
    env: { ...botEnv(dataDir, peer.apiUrl, configFile), ...extra.env },
    logFile: join(logsDir, `${name}.log`),
    pidFile,
    ...(extra.httpPort === undefined ? {} : { httpPort: extra.httpPort }),
  });
  bots.add(bot);
  const readyMs = await bot.waitReady(300_000);
  log(`${name} (pid ${bot.pid}) ready after ${(readyMs / 1000).toFixed(1)} s`);
  return { bot, readyMs, dataDir };
}

/**
 * Alert → enriched thread: a bot process with alerts enabled behind a gate on the port the harness's
 * Alertmanager posts to (test/harness/observability-up.sh), alerts about the seeded crashy pod raised
 * in that Alertmanager, and the same facts by hand with kubectl and one PromQL query.
 */
async function alertPhase(identityConfig: string): Promise<void> {
  const obsEnv = join(E2E_DIR, 'observability', 'env');
  let obs: Record<string, string>;
  try {
    obs = readEnvFile(obsEnv);
  } catch {
    results.notes.push(`alert latency not measured: no ${obsEnv} (run test/harness/observability-up.sh)`);
    return;
  }
  const alertmanagerUrl = obs['WH_E2E_ALERTMANAGER_URL'];
  const prometheusUrl = obs['WH_E2E_PROMETHEUS_URL'];
  const webhook = obs['WH_E2E_BOT_WEBHOOK_URL'];
  const target = webhook ? new URL(webhook) : undefined;
  if (
    !alertmanagerUrl ||
    !prometheusUrl ||
    !target ||
    target.hostname !== '127.0.0.1' ||
    target.pathname !== '/alerts'
  ) {
    results.notes.push(
      `alert latency not measured: ${obsEnv} has no usable Alertmanager, Prometheus or webhook URL`,
    );
    return;
  }
  const configFile = join(scratch, 'wheelhouse-alerts.yaml');
  writeFileSync(
    configFile,
    [
      readFileSync(identityConfig, 'utf8').trimEnd(),
      'alerts:',
      '  enabled: true',
      // Accepts Alertmanager with or without the token observability-up.sh may have given it.
      '  allowUnauthenticated: true',
      `  defaultChannel: ${CHANNEL}`,
      `  alertmanagerUrl: "${alertmanagerUrl}"`,
      '',
    ].join('\n'),
  );
  const { bot, dataDir } = await startBot('bot-alerts', configFile, {
    env: { WH_PROMETHEUS_URL: prometheusUrl },
  });
  // The gate takes the port Alertmanager posts to and passes only the bench's own groups: the seed
  // rules' groups stay undelivered for the e2e tests' bots (Alertmanager would not resend them
  // within repeat_interval).
  const gate = await startAlertGate({
    port: Number(target.port),
    target: () => bot.url,
    owns: (groupKey) => groupKey.includes('WhBenchAlert'),
  }).catch(async (error: unknown) => {
    await bot.stop();
    bots.delete(bot);
    throw error;
  });
  try {
    if (!peer) throw new Error('the Slack peer is not running');
    log(`alert → enriched thread: ${SETTINGS.alertSamples} alert groups through ${alertmanagerUrl}`);
    results.alerts = await measureAlertLatency({
      peer,
      channel: CHANNEL,
      botDataDir: dataDir,
      alertmanagerUrl,
      prometheusUrl,
      kubectl: KUBECTL,
      samples: SETTINGS.alertSamples,
      spacingMs: SETTINGS.alertSpacingMs,
      byHandRounds: SETTINGS.byHandRounds,
    });
    const a = results.alerts;
    log(
      `  alert → enriched thread: Wheelhouse p50 ${a.fromWebhook.p50} / p95 ${a.fromWebhook.p95} ms vs by hand p50 ${a.byHand.p50} / p95 ${a.byHand.p95} ms → ${a.ratioP50}× / ${a.ratioP95}×`,
    );
  } finally {
    await gate.close();
    await bot.stop();
    bots.delete(bot);
  }
}

/**
 * Bad canary → rollback: a bot process with canaries configured (and the threshold-only custom
 * metric), the harness's Prometheus and exporter; see canary-rollback.ts.
 */
async function canaryPhase(): Promise<void> {
  const obsEnv = join(E2E_DIR, 'observability', 'env');
  let obs: Record<string, string>;
  try {
    obs = readEnvFile(obsEnv);
  } catch {
    results.notes.push(`canary rollback not measured: no ${obsEnv} (run test/harness/observability-up.sh)`);
    return;
  }
  const prometheusUrl = obs['WH_E2E_PROMETHEUS_URL'];
  const exporterUrl = obs['WH_E2E_EXPORTER_URL'];
  if (!prometheusUrl || !exporterUrl) {
    results.notes.push(`canary rollback not measured: ${obsEnv} has no Prometheus or exporter URL`);
    return;
  }
  if (!peer) throw new Error('the Slack peer is not running');
  peer.addUser({ id: CANARY_USER, name: 'bench-canary' });
  const run = Date.now().toString(36).slice(-5);
  const names = { judge: `bench-cj-${run}`, thresholdOnly: `bench-ct-${run}` };
  const configFile = join(scratch, 'wheelhouse-canary.yaml');
  writeFileSync(
    configFile,
    [
      'identity:',
      '  users:',
      `    - { slack: ${CANARY_USER}, kubeUser: bob, groups: ["wheelhouse:chat"] }`,
      '  unmapped: deny',
      ...canaryConfig({ rateWindowS: 15, thresholdOnlyWorkload: names.thresholdOnly }),
      '',
    ].join('\n'),
  );
  const { bot, dataDir } = await startBot('bot-canary', configFile, {
    env: { WH_PROMETHEUS_URL: prometheusUrl },
  });
  try {
    log(
      `canary: bad canary (8% vs 0.5% errors) → rollback, interval ${SETTINGS.canaryIntervalS} s, judge then threshold-only`,
    );
    results.canary = await measureCanaryRollback({
      botUrl: bot.url,
      peer,
      channel: CHANNEL,
      secret: SIGNING_SECRET,
      user: CANARY_USER,
      botDataDir: dataDir,
      exporterUrl,
      kubectl: { ...KUBECTL, context: 'admin' },
      intervalS: SETTINGS.canaryIntervalS,
      names,
      stableErrorRatio: 0.005,
      canaryErrorRatio: 0.08,
    });
    const c = results.canary;
    log(
      `  bad canary → rollback: judge ${(c.judge.totalMs / 1000).toFixed(1)} s vs threshold-only ${(c.thresholdOnly.totalMs / 1000).toFixed(1)} s → ${c.ratio}×`,
    );
  } finally {
    await bot.stop();
    bots.delete(bot);
  }
}

async function slackRounds(bot: BotProcess, phase: number, pods: number): Promise<void> {
  if (!peer) return;
  // A burst of 10 first (not counted): JIT warm-up, as in a bot that has answered a few commands.
  await slashCommandRound({
    botUrl: bot.url,
    peer,
    secret: SIGNING_SECRET,
    text: 'pods bench-01',
    users: Array.from({ length: Math.min(10, SETTINGS.slackConcurrency) }, (_, i) => slackUser(phase, 9, i)),
    channel: CHANNEL,
    answerTimeoutMs: 30_000,
  });
  for (let round = 0; round < SETTINGS.slackRounds; round++) {
    // Let the bot's client-side limiter (5 QPS, burst 10) refill after the previous round's reviews.
    await sleep(3000);
    const users = Array.from({ length: SETTINGS.slackConcurrency }, (_, i) => slackUser(phase, round, i));
    const r = await slashCommandRound({
      botUrl: bot.url,
      peer,
      secret: SIGNING_SECRET,
      text: 'pods bench-01',
      users,
      channel: CHANNEL,
      answerTimeoutMs: 60_000,
    });
    results.slack.rounds.push({ ...r, pods, round: round + 1 });
    log(
      `slack round ${round + 1} at ${pods} pods: ack p50 ${r.acks.p50} ms, p99 ${r.acks.p99} ms, max ${r.acks.max} ms; ${r.answers}/${r.commands} answers (+${r.errorReplies} error replies), last after ${r.allAnsweredMs} ms`,
    );
  }
}

/** Times `count` runner.handle calls; returns durations and the number of failed replies. */
async function timeQueries(
  handler: Wheelhouse['runner'],
  count: number,
  next: (i: number) => {
    text: string;
    kube: KubeIdentity | undefined;
    expect?: (summary: string) => boolean;
  },
  paceMs = 0,
): Promise<{ durations: number[]; failures: number; firstProblem: string | undefined }> {
  const durations: number[] = [];
  let failures = 0;
  let firstProblem: string | undefined;
  for (let i = 0; i < count; i++) {
    const q = next(i);
    const start = performance.now();
    const reply = await handler.handle({
      text: q.text,
      actor: { surface: 'console', id: 'bench', kube: q.kube },
    });
    durations.push(performance.now() - start);
    const summary = reply.ok ? reply.result.summary : `${reply.error.code}: ${reply.error.message}`;
    if (!reply.ok || (q.expect && !q.expect(summary))) {
      failures++;
      firstProblem ??= `${q.text} as ${q.kube?.user ?? 'the bot'}: ${summary}`;
    }
    if (paceMs > 0) await sleep(paceMs);
  }
  return { durations, failures, firstProblem };
}

async function timeKubectl(runs: number, args: (i: number) => string[]): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await runKubectl(KUBECTL, args(i));
    if (r.exitCode !== 0) throw new Error(`kubectl ${args(i).join(' ')} failed: ${r.stderr.slice(0, 300)}`);
    out.push(r.wallMs);
  }
  return out;
}

function compare(
  question: string,
  identity: string,
  wh: { durations: number[]; failures: number; firstProblem: string | undefined },
  kubectl: number[],
  kubectlCommand: string,
): Comparison {
  const w = stats(wh.durations);
  const k = stats(kubectl);
  const c: Comparison = {
    question,
    identity,
    wheelhouse: w,
    kubectl: k,
    kubectlCommand,
    ratioP50: ratio(w.p50, k.p50),
    ratioP95: ratio(w.p95, k.p95),
    target: 0.2,
    met: false,
    failures: wh.failures,
  };
  c.met = c.ratioP50 <= c.target && c.ratioP95 <= c.target && wh.failures === 0;
  if (wh.firstProblem)
    results.errors.push(`${question} (${identity}): ${wh.failures} bad replies, e.g. ${wh.firstProblem}`);
  log(
    `  ${question} [${identity}]: Wheelhouse p50 ${w.p50} / p95 ${w.p95} ms vs kubectl p50 ${k.p50} / p95 ${k.p95} ms → ${c.ratioP50}× / ${c.ratioP95}×`,
  );
  return c;
}

/** The side-by-side question timings at the current pod count. */
async function queryPhase(
  phase: number,
  namespaces: number,
  benchPods: number,
  benchUnhealthy: number,
): Promise<Comparison[]> {
  if (!app) throw new Error('in-process Wheelhouse not started');
  const handler = app.runner;
  const random = prng(42 + phase);
  const pickNs = (): string => namespaceName(Math.floor(random() * namespaces));
  // The access reviews of a user are cached per namespace for 30 s; the "cached" runs use 20 namespaces.
  const warmSet = Array.from({ length: Math.min(20, namespaces) }, (_, i) =>
    namespaceName(Math.floor((i * namespaces) / 20)),
  );
  const pickWarm = (): string => warmSet[Math.floor(random() * warmSet.length)] ?? 'bench-00';
  const perNs = (summary: string): boolean =>
    new RegExp(`^${SETTINGS.podsPerNamespace} pods in bench-\\d+, \\d+ unhealthy\\.$`).test(summary);
  // Seed pods (shop, payments) come and go with other people's tests: check the bench's share only.
  const allNs = (summary: string): boolean => {
    const m = /^(\d+) pods in all namespaces, (\d+) unhealthy\.$/.exec(summary);
    return m !== null && Number(m[1]) >= benchPods && Number(m[2]) >= benchUnhealthy;
  };
  const scale = phase === 0 ? 1 : 0.5;
  const nQ = Math.max(10, Math.round(SETTINGS.queries * scale));
  const nA = Math.max(5, Math.round(SETTINGS.allNamespaceQueries * scale));
  const nK = Math.max(5, Math.round(SETTINGS.kubectlRuns * scale));
  const nKA = Math.max(5, Math.round(phase === 0 ? SETTINGS.kubectlRuns : SETTINGS.kubectlRuns / 6));
  const out: Comparison[] = [];

  // Warm-up (not counted): JIT and the audit store, as in a bot that has run for a while.
  await timeQueries(handler, 20, () => ({ text: `pods ${pickNs()}`, kube: undefined }));
  await timeQueries(handler, 3, () => ({ text: 'pods -A --unhealthy', kube: undefined }));
  await timeKubectl(2, () => ['get', 'pods', '-n', pickNs(), '-o', 'json']);

  log(`queries at ${benchPods} bench pods`);
  const botNs = await timeQueries(handler, nQ, () => ({
    text: `pods ${pickNs()}`,
    kube: undefined,
    expect: perNs,
  }));
  const kNs = await timeKubectl(nK, () => ['get', 'pods', '-n', pickNs(), '-o', 'json']);
  out.push(
    compare('pods in one namespace', 'bot (own identity)', botNs, kNs, 'kubectl get pods -n NS -o json'),
  );

  const kNsAs = await timeKubectl(nK, () => ['get', 'pods', '-n', pickNs(), '-o', 'json', ...AS_VIEWER]);
  await timeQueries(handler, warmSet.length, (i) => ({ text: `pods ${warmSet[i]}`, kube: VIEWER }), 220);
  const viewerNs = await timeQueries(handler, nQ, () => ({
    text: `pods ${pickWarm()}`,
    kube: VIEWER,
    expect: perNs,
  }));
  out.push(
    compare(
      'pods in one namespace',
      'impersonated user, access review cached',
      viewerNs,
      kNsAs,
      'kubectl get pods -n NS -o json --as …',
    ),
  );
  // A new (user, namespace) pair: one SelfSubjectAccessReview first. Paced below the bot's 5 QPS
  // client-side limit, so the figure is the latency of a question, not of the limiter's queue.
  const coldNs = await timeQueries(
    handler,
    Math.min(phase === 0 ? 100 : 50, nQ),
    (i) => ({ text: `pods ${pickNs()}`, kube: coldUser(phase, i), expect: perNs }),
    220,
  );
  out.push(
    compare(
      'pods in one namespace',
      'impersonated user, first question (access review asked)',
      coldNs,
      kNsAs,
      'kubectl get pods -n NS -o json --as …',
    ),
  );

  const botAll = await timeQueries(handler, nA, () => ({
    text: 'pods -A --unhealthy',
    kube: undefined,
    expect: allNs,
  }));
  const kAll = await timeKubectl(nKA, () => ['get', 'pods', '-A', '-o', 'json']);
  out.push(
    compare(
      'unhealthy pods in all namespaces',
      'bot (own identity)',
      botAll,
      kAll,
      'kubectl get pods -A -o json',
    ),
  );
  const kAllAs = await timeKubectl(phase === 0 ? Math.max(5, Math.round(nKA / 3)) : 3, () => [
    'get',
    'pods',
    '-A',
    '-o',
    'json',
    ...AS_VIEWER,
  ]);
  await timeQueries(handler, 1, () => ({ text: 'pods -A --unhealthy', kube: VIEWER }));
  const viewerAll = await timeQueries(handler, nA, () => ({
    text: 'pods -A --unhealthy',
    kube: VIEWER,
    expect: allNs,
  }));
  out.push(
    compare(
      'unhealthy pods in all namespaces',
      'impersonated user, access review cached',
      viewerAll,
      kAllAs,
      'kubectl get pods -A -o json --as …',
    ),
  );
  const coldAll = await timeQueries(
    handler,
    Math.min(10, nA),
    (i) => ({ text: 'pods -A --unhealthy', kube: coldUser(phase, 500 + i), expect: allNs }),
    220,
  );
  out.push(
    compare(
      'unhealthy pods in all namespaces',
      'impersonated user, first question (access review asked)',
      coldAll,
      kAllAs,
      'kubectl get pods -A -o json --as …',
    ),
  );

  // What a person types most often: the default table (server-side Table), for reference.
  const kTable = await timeKubectl(Math.max(5, Math.round(nK / 3)), () => ['get', 'pods', '-n', pickNs()]);
  out.push(
    compare(
      'pods in one namespace',
      'bot (own identity)',
      botNs,
      kTable,
      'kubectl get pods -n NS (table, reference)',
    ),
  );
  const kTableAll = await timeKubectl(phase === 0 ? 5 : 3, () => ['get', 'pods', '-A']);
  out.push(
    compare(
      'unhealthy pods in all namespaces',
      'bot (own identity)',
      botAll,
      kTableAll,
      'kubectl get pods -A (table, reference)',
    ),
  );
  results.kubectlOutput[`kubectl get pods -A -o json @ ${benchPods} bench pods`] = await kubectlOutputBytes(
    KUBECTL,
    ['get', 'pods', '-A', '-o', 'json'],
  );
  results.kubectlOutput[`kubectl get pods -n bench-01 -o json @ ${benchPods} bench pods`] =
    await kubectlOutputBytes(KUBECTL, ['get', 'pods', '-n', 'bench-01', '-o', 'json']);
  return out;
}

async function startInProcess(expectedPods: number): Promise<Wheelhouse> {
  const dataDir = join(scratch, `in-process-${Date.now()}`);
  const { config } = loadConfig({
    env: { KUBECONFIG, WH_KUBE_CONTEXT: 'wheelhouse', WH_DATA_DIR: dataDir, WH_LOG_LEVEL: 'warn' },
  });
  const logger = pino(
    { level: 'warn' },
    pino.destination({ dest: join(logsDir, 'in-process.log'), mkdir: true, sync: false }),
  );
  const started = performance.now();
  const built = await buildWheelhouse(config, logger);
  app = built;
  const kube = built.kube;
  const deadline = Date.now() + 120_000;
  for (;;) {
    const cached = kube.ready() ? (await kube.as(undefined).listPods({})).length : 0;
    if (cached >= expectedPods) break;
    if (Date.now() > deadline) {
      results.notes.push(`in-process Wheelhouse cached ${cached} of ${expectedPods} pods after 120 s`);
      break;
    }
    await sleep(200);
  }
  log(`in-process Wheelhouse has ${expectedPods} pods cached after ${(ms(started) / 1000).toFixed(1)} s`);
  return built;
}

/** The commit plus a hash of src/ and skills/ as they are now (the tree may have uncommitted work). */
function codeVersion(): string {
  const git = (args: string[]): string => {
    try {
      return execFileSync('git', args, { cwd: REPO, encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  const head = git(['rev-parse', '--short', 'HEAD']) || 'no commit';
  const files = git(['ls-files', '--cached', '--others', '--exclude-standard', 'src', 'skills'])
    .split('\n')
    .filter(Boolean)
    .sort();
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(file);
    try {
      hash.update(readFileSync(join(REPO, file)));
    } catch {
      // deleted since git listed it
    }
  }
  const dirty = git(['status', '--porcelain', 'src', 'skills']) !== '';
  return `${head}${dirty ? ' + uncommitted changes' : ''}, src+skills sha256 ${hash.digest('hex').slice(0, 12)}`;
}

/** What an idle bot's memory is made of: a fresh process per dependency, after a forced GC. */
function importMemory(): void {
  const node = join(REPO, 'node_modules/.bin/node');
  const script = join(REPO, 'test/bench/import-memory.ts');
  const modules = [
    '',
    'pino',
    'zod',
    'yaml',
    '@kubernetes/client-node',
    '@slack/bolt',
    '@elastic/elasticsearch',
    'prometheus-query',
    'prom-client',
    'pg',
    'echarts',
    '@resvg/resvg-js',
    '../../src/main.ts',
  ];
  for (const module of modules) {
    try {
      const out = execFileSync(node, [script, ...(module ? [module] : [])], {
        encoding: 'utf8',
        cwd: REPO,
      });
      const m = JSON.parse(out) as { rss: number; rssAfterGc: number; heapUsedAfterGc: number };
      results.memory.imports.push({ module: module || '(node + TypeScript stripping only)', ...m });
    } catch (error) {
      results.notes.push(
        `import memory of ${module}: ${error instanceof Error ? error.message.split('\n')[0] : error}`,
      );
    }
  }
}

// ------------------------------------------------------------------------------------------------ main

async function main(): Promise<void> {
  mkdirSync(logsDir, { recursive: true });
  rmSync(pidFile, { force: true });
  const kubectlVersion = execFileSync(KUBECTL.kubectl, ['version', '--client', '-o', 'json'], {
    encoding: 'utf8',
  });
  results.environment = {
    node: process.version,
    kubectl: String(
      (JSON.parse(kubectlVersion) as { clientVersion?: { gitVersion?: string } }).clientVersion?.gitVersion,
    ),
    kubernetes: HARNESS['WH_K8S_VERSION'] ?? '?',
    kwok: HARNESS['WH_KWOK_VERSION'] ?? '?',
    cpus: cpus().length,
    memoryGB: Math.round(totalmem() / 2 ** 30),
    cluster: process.env['WH_BENCH_CLUSTER'] ?? 'unknown',
    code: codeVersion(),
  };
  const watchdog = setTimeout(() => process.kill(process.pid, 'SIGTERM'), SETTINGS.maxMinutes * 60_000);
  watchdog.unref();

  const total20k =
    (SETTINGS.namespaces + (SETTINGS.skip20k ? 0 : SETTINGS.extraNamespaces)) * SETTINGS.podsPerNamespace;
  const nodeCount = Math.max(1, Math.ceil(total20k / (SETTINGS.podsPerNode * 0.8)));
  const usersToImpersonate = [
    VIEWER.user,
    ...[0, 1].flatMap((p) => Array.from({ length: 520 }, (_, i) => coldUser(p, i).user)),
    ...[0, 1].flatMap((p) =>
      [9, ...Array.from({ length: SETTINGS.slackRounds }, (_, r) => r)].flatMap((r) =>
        Array.from({ length: SETTINGS.slackConcurrency }, (_, i) => slackKubeUser(slackUser(p, r, i))),
      ),
    ),
  ];

  log('measuring the memory each dependency adds to an idle process');
  importMemory();
  log('removing leftovers of an earlier run (if any)');
  const leftovers = await cleanup(api, { waitMs: 180_000 });
  if (leftovers.namespacesLeft > 0)
    throw new Error(`${leftovers.namespacesLeft} bench namespaces from an earlier run are still terminating`);
  log(
    `creating ${nodeCount} bench nodes and RBAC (impersonation of ${usersToImpersonate.length} bench users, group view)`,
  );
  await createRbac(api, usersToImpersonate);
  await createNodes(api, nodeCount, SETTINGS.podsPerNode, HARNESS['WH_K8S_VERSION'] ?? 'v0.0.0');

  peer = await SlackPeer.start({
    channels: [{ id: CHANNEL, name: 'bench' }],
    users: [{ id: PROBE_USER, name: 'probe' }],
  });
  for (const id of usersToImpersonate.filter((u) => u.startsWith('slack-bench-'))) {
    peer.addUser({ id: id.slice('slack-bench-'.length), name: id });
  }
  const configFile = join(scratch, 'wheelhouse.yaml');
  writeFileSync(
    configFile,
    [
      'identity:',
      '  users:',
      `    - slack: ${PROBE_USER}`,
      `      kubeUser: ${VIEWER.user}`,
      `      groups: [${VIEWER.groups.join(', ')}]`,
      '  unmapped:',
      `    kubeUser: '${slackKubeUser('{id}')}'`,
      `    groups: [${VIEWER.groups.join(', ')}]`,
      '',
    ].join('\n'),
  );
  // ---- 0. the bot with only the seed scenario cached: the floor everything else adds to
  const idle = await startBot('bot-0', configFile);
  await measureBot(idle.bot, 'idle: seed scenario only', idle.readyMs);
  await idle.bot.stop();
  bots.delete(idle.bot);

  // ---- alert → enriched thread, with only the seed scenario in the cluster
  if (SETTINGS.skipAlerts) {
    results.notes.push(
      `alert → enriched thread not measured: ${process.env['WH_BENCH_SKIP_ALERTS_WHY'] ?? 'WH_BENCH_SKIP_ALERTS=1'}`,
    );
  } else {
    const phaseStarted = performance.now();
    await alertPhase(configFile).catch((error: unknown) => {
      results.errors.push(`alert latency: ${error instanceof Error ? error.message : String(error)}`);
      log(`alert latency failed: ${error instanceof Error ? error.message : String(error)}`);
    });
    log(`alert phase took ${(ms(phaseStarted) / 1000).toFixed(1)} s`);
  }

  // ---- bad canary → rollback, with only the seed scenario in the cluster
  if (SETTINGS.skipCanary) {
    results.notes.push(
      `bad canary → rollback not measured: ${process.env['WH_BENCH_SKIP_CANARY_WHY'] ?? 'WH_BENCH_SKIP_CANARY=1'}`,
    );
  } else {
    const phaseStarted = performance.now();
    await canaryPhase().catch((error: unknown) => {
      results.errors.push(`canary rollback: ${error instanceof Error ? error.message : String(error)}`);
      log(`canary rollback failed: ${error instanceof Error ? error.message : String(error)}`);
    });
    log(`canary phase took ${(ms(phaseStarted) / 1000).toFixed(1)} s`);
  }

  // ---- 1. 5,000 pods
  log(
    `creating ${SETTINGS.namespaces * SETTINGS.podsPerNamespace} pods in ${SETTINGS.namespaces} namespaces`,
  );
  results.creation.at5k = await createPods(api, {
    from: 0,
    to: SETTINGS.namespaces,
    perNamespace: SETTINGS.podsPerNamespace,
    nodeCount,
    concurrency: SETTINGS.createConcurrency,
    settleTimeoutMs: SETTINGS.settleTimeoutS * 1000,
  });
  log(
    `pods settled after ${(results.creation.at5k.settledMs / 1000).toFixed(1)} s (unsettled: ${results.creation.at5k.unsettled})`,
  );
  const pods5k = await countAllPods(api);

  // ---- Slack peer + bot A (its own process) at 5,000 pods: memory, then Slack acks
  const a = await startBot('bot-a', configFile);
  await measureBot(a.bot, 'started at 5k pods (initial LIST)', a.readyMs);
  await slackRounds(a.bot, 0, pods5k);

  // ---- 2. answer times at 5,000 pods
  const inProcess5k = await startInProcess(pods5k);
  const bench5k = results.creation.at5k;
  results.queries.at5k = await queryPhase(0, SETTINGS.namespaces, bench5k.pods, bench5k.unhealthyPods);
  const peak5k = await kubectlPeakMemory(KUBECTL, ['get', 'pods', '-A', '-o', 'json'], scratch);
  if (peak5k)
    results.memory.kubectl.push({ pods: pods5k, command: 'kubectl get pods -A -o json', ...peak5k });
  await inProcess5k.close();
  app = undefined;

  if (!SETTINGS.skip20k) {
    // ---- 3. 20,000 pods: bot A follows through its watch; bot B starts fresh
    const extra = SETTINGS.extraNamespaces;
    log(
      `creating ${extra * SETTINGS.podsPerNamespace} more pods in ${extra} namespaces (bot A keeps watching)`,
    );
    results.creation.at20k = await createPods(api, {
      from: SETTINGS.namespaces,
      to: SETTINGS.namespaces + extra,
      perNamespace: SETTINGS.podsPerNamespace,
      nodeCount,
      concurrency: SETTINGS.createConcurrency,
      settleTimeoutMs: SETTINGS.settleTimeout20kS * 1000,
    });
    log(
      `pods settled after ${(results.creation.at20k.settledMs / 1000).toFixed(1)} s (unsettled: ${results.creation.at20k.unsettled})`,
    );
    await sleep(5000);
    const pods20k = await countAllPods(api);
    await measureBot(a.bot, 'running since 5k pods, grew via watch', a.readyMs);
    await a.bot.stop();
    bots.delete(a.bot);
    const b = await startBot('bot-b', configFile);
    await measureBot(b.bot, 'started at 20k pods (initial LIST)', b.readyMs);
    await slackRounds(b.bot, 1, pods20k);
    await b.bot.stop();
    bots.delete(b.bot);

    const inProcess20k = await startInProcess(pods20k);
    const bench20k = bench5k.pods + results.creation.at20k.pods;
    results.queries.at20k = await queryPhase(
      1,
      SETTINGS.namespaces + extra,
      bench20k,
      bench5k.unhealthyPods + results.creation.at20k.unhealthyPods,
    );
    const peak20k = await kubectlPeakMemory(KUBECTL, ['get', 'pods', '-A', '-o', 'json'], scratch);
    if (peak20k)
      results.memory.kubectl.push({ pods: pods20k, command: 'kubectl get pods -A -o json', ...peak20k });
    await inProcess20k.close();
    app = undefined;
  }

  // ---- derived figures
  const gcd = results.memory.bots;
  const small = gcd.find((m) => m.bot === 'bot-a');
  const big = gcd.find((m) => m.bot === 'bot-b') ?? gcd.filter((m) => m.bot === 'bot-a')[1];
  if (small && big && big.podsInCluster > small.podsInCluster) {
    const d = big.podsInCluster - small.podsInCluster;
    results.memory.bytesPerPod = {
      heap: Math.round((big.heapUsedAfterGc - small.heapUsedAfterGc) / d),
      rss: Math.round((big.rssAfterGc - small.rssAfterGc) / d),
      basis: `(${big.bot} at ${big.podsInCluster} − ${small.bot} at ${small.podsInCluster} pods), after a forced GC`,
    };
  }
  const at20k = gcd.filter((m) => m.podsInCluster >= 20_000);
  if (at20k.length) {
    const worst = Math.max(...at20k.map((m) => Math.max(m.rssSteady, m.hwm)));
    results.memory.target = {
      limitBytes: 300 * 2 ** 20,
      at: '20k pods (max of steady RSS and peak VmHWM)',
      valueBytes: worst,
      met: worst < 300 * 2 ** 20,
    };
  }
  const rounds = results.slack.rounds;
  if (rounds.length) {
    results.slack.all = stats(rounds.flatMap((r) => r.ackMs));
    results.slack.met = rounds.every(
      (r) => r.acks.p99 < results.slack.target && r.failedAcks === 0 && r.answers === r.commands,
    );
  }
}

let exitCode = 0;
try {
  await main();
} catch (error) {
  exitCode = 1;
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  results.errors.push(message);
  log(`FAILED: ${message}`);
} finally {
  await shutdown('end of run');
  writeResults();
}
process.stdout.write(`\n${readFileSync(join(SETTINGS.out, 'summary.md'), 'utf8')}\n`);
process.exit(exitCode);
