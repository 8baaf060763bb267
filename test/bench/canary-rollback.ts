import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CANARY, type CanaryState, parseCanary } from '../../src/canary/canary-run.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import type { SlackPeer } from '../support/slack-peer.ts';
import { slashCommandRequest } from '../support/slack-signing.ts';
import type { KubectlOptions } from './kubectl.ts';
import { log, ratio, sleep } from './stats.ts';

/**
 * Bad canary → rollback complete, on the harness's real control plane with real Prometheus and the
 * seeded exporter (as test/e2e/canary.test.ts): a 4-pod Deployment in shop whose stable pods answer
 * with 0.5% errors and whose canary pods (label wheelhouse.io/track=canary) with 8%, then
 * `/wh canary …` through Slack to a bot process, timed until the run is rolled back (canary removed,
 * stable restored and verified). Twice, with the same interval:
 *   (a) Wheelhouse's default judge: success-rate is critical, so the first failing analysis rolls back;
 *   (b) threshold-only, as Flagger's default analysis: the same success rate as a custom metric (not
 *       critical) with `failureLimit: 5`, so the run rolls back after 5 failed analyses in a row.
 */

/** The namespace the harness's exporter watches (with payments); the bench adds and removes its own Deployments. */
export const CANARY_NAMESPACE = 'shop';
const IMAGE = 'registry.example.com/shop/bench-canary';
/** The custom metric of the threshold-only run: the built-in success-rate query, not critical. */
export const THRESHOLD_METRIC = 'flagger-success-rate';
/** Flagger's default `analysis.threshold`: failed checks before rollback. */
export const FLAGGER_FAILURE_LIMIT = 5;

/** The bot config's `canary:` section (and the policy that lets the bench user write in shop). */
export function canaryConfig(o: { rateWindowS: number; thresholdOnlyWorkload: string }): string[] {
  const w = `${o.rateWindowS}s`;
  const sel = '{{pods}}';
  return [
    'policy:',
    '  rules:',
    '    - name: bench-canary-direct',
    `      namespaces: [${CANARY_NAMESPACE}]`,
    '      write: allow',
    'canary:',
    `  rateWindow: ${w}`,
    '  sampleStep: 2s',
    '  tickInterval: 1s',
    '  lease: 15s',
    '  rolloutTimeout: 60s',
    '  metrics:',
    `    ${THRESHOLD_METRIC}:`,
    `      query: 'sum(rate(http_requests_total{${sel},code!~"5.."}[${w}])) / sum(rate(http_requests_total{${sel}}[${w}]))'`,
    '      unit: ratio',
    '      worse: lower',
    '  workloads:',
    `    - { namespace: ${CANARY_NAMESPACE}, name: ${o.thresholdOnlyWorkload}, failureLimit: ${FLAGGER_FAILURE_LIMIT} }`,
  ];
}

export interface CanaryRollbackOptions {
  botUrl: string;
  peer: SlackPeer;
  channel: string;
  secret: string;
  /** A Slack user the bot maps to a Kubernetes user who may edit Deployments in shop. */
  user: string;
  /** The bot process's data dir: its store holds the runs. */
  botDataDir: string;
  exporterUrl: string;
  /** Admin kubectl (Deployments are created and removed as admin). */
  kubectl: KubectlOptions;
  intervalS: number;
  /** Deployment names: (a) default judge, (b) threshold-only (the bot config names (b)'s failureLimit). */
  names: { judge: string; thresholdOnly: string };
  stableErrorRatio: number;
  canaryErrorRatio: number;
}

export interface CanaryRun {
  deployment: string;
  analysis: string;
  critical: boolean;
  failureLimit: number;
  phase: string;
  reason: string | undefined;
  /** `/wh canary …` sent → rollback complete (stable restored and verified, canary gone), ms. */
  totalMs: number;
  /** Command → run started (change road: policy, preview, audit; canary Deployment created), ms. */
  toRunStartMs: number;
  /** Command → the analysis that decided the rollback, ms. */
  toDecisionMs: number;
  /** That decision → rollback complete, ms. */
  rollbackMs: number;
  /** Analyses made (the failing ones that counted towards the decision). */
  analyses: number;
  failedAnalyses: number;
  /** Measured time between analyses (mean gap between checks; the first one after the first interval), ms. */
  meanAnalysisGapMs: number | undefined;
}

export interface CanaryRollback {
  namespace: string;
  intervalS: number;
  steps: string;
  stableErrorRatio: number;
  canaryErrorRatio: number;
  judge: CanaryRun;
  thresholdOnly: CanaryRun;
  /** thresholdOnly.totalMs / judge.totalMs. */
  ratio: number;
  /** What (b) would take from (a)'s figures: (a) + (limit − 1) × the measured interval, ms (a cross-check). */
  thresholdOnlyPredictedMs: number;
}

const STEPS = '25,50,100';
const exec = promisify(execFile);

export async function measureCanaryRollback(o: CanaryRollbackOptions): Promise<CanaryRollback> {
  const kubectl = async (...args: string[]): Promise<string> =>
    (
      await exec(o.kubectl.kubectl, [
        '--kubeconfig',
        o.kubectl.kubeconfig,
        '--context',
        o.kubectl.context,
        ...args,
      ])
    ).stdout;
  try {
    const judge = await runOnce(o, kubectl, o.names.judge, 'success-rate>=99%', {
      critical: true,
      failureLimit: 2,
    });
    const thresholdOnly = await runOnce(o, kubectl, o.names.thresholdOnly, `${THRESHOLD_METRIC}>=99%`, {
      critical: false,
      failureLimit: FLAGGER_FAILURE_LIMIT,
    });
    const gap = thresholdOnly.meanAnalysisGapMs ?? o.intervalS * 1000;
    return {
      namespace: CANARY_NAMESPACE,
      intervalS: o.intervalS,
      steps: STEPS,
      stableErrorRatio: o.stableErrorRatio,
      canaryErrorRatio: o.canaryErrorRatio,
      judge,
      thresholdOnly,
      ratio: ratio(thresholdOnly.totalMs, judge.totalMs),
      thresholdOnlyPredictedMs: Math.round(judge.totalMs + (FLAGGER_FAILURE_LIMIT - 1) * gap),
    };
  } finally {
    for (const name of [o.names.judge, o.names.thresholdOnly]) {
      await kubectl(
        'delete',
        'deploy',
        name,
        `${name}-canary`,
        '-n',
        CANARY_NAMESPACE,
        '--ignore-not-found',
        '--wait=false',
      ).catch(() => undefined);
      await setTraffic(o.exporterUrl, name, undefined, 0, 0).catch(() => undefined);
      await setTraffic(o.exporterUrl, name, 'canary', 0, 0).catch(() => undefined);
    }
  }
}

async function runOnce(
  o: CanaryRollbackOptions,
  kubectl: (...args: string[]) => Promise<string>,
  name: string,
  analysis: string,
  expected: { critical: boolean; failureLimit: number },
): Promise<CanaryRun> {
  await workload(o, kubectl, name);
  const text = `canary deploy/${name} -n ${CANARY_NAMESPACE} image=${IMAGE}:v2 --steps ${STEPS} --interval ${o.intervalS}s --analysis "${analysis}"`;
  const request = slashCommandRequest(
    { text, userId: o.user, channelId: o.channel, responseUrl: o.peer.responseUrl(`canary-${name}`) },
    { secret: o.secret },
  );
  const sentAt = Date.now();
  const res = await fetch(`${o.botUrl}/slack/events`, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`the bot answered ${res.status} to /wh ${text}`);
  const deadline = sentAt + 60_000 + (expected.failureLimit + 2) * o.intervalS * 1000;
  let state: CanaryState | undefined;
  for (;;) {
    state = await runOf(o.botDataDir, name);
    if (state && ['rolled-back', 'promoted', 'paused', 'failed', 'aborted'].includes(state.phase)) break;
    if (Date.now() > deadline)
      throw new Error(`canary of ${name} did not end in time (${state?.phase ?? 'no run'})`);
    // Only the detection polls; the times are the run's own (startedAt, checks[].at, endedAt).
    await sleep(250);
  }
  if (state.phase !== 'rolled-back')
    throw new Error(`canary of ${name} ended ${state.phase} (${state.reason ?? ''}), not rolled back`);
  const spec = state.analysis[0];
  if (spec?.critical !== expected.critical || state.failureLimit !== expected.failureLimit)
    throw new Error(
      `canary of ${name}: critical ${spec?.critical}, failureLimit ${state.failureLimit}; expected ${JSON.stringify(expected)}`,
    );
  const checks = state.checks.map((c) => ({ ...c, t: Date.parse(c.at) }));
  const decision = checks.findLast((c) => c.decision === 'fail');
  const endedAt = Date.parse(state.endedAt ?? '');
  if (!decision || !Number.isFinite(endedAt))
    throw new Error(`canary of ${name}: no failing check or end time`);
  const gaps = checks.slice(1).map((c, i) => c.t - (checks[i]?.t ?? c.t));
  const run: CanaryRun = {
    deployment: `deploy/${name}`,
    analysis,
    critical: expected.critical,
    failureLimit: state.failureLimit,
    phase: state.phase,
    reason: state.reason,
    totalMs: endedAt - sentAt,
    toRunStartMs: Date.parse(state.startedAt) - sentAt,
    toDecisionMs: decision.t - sentAt,
    rollbackMs: endedAt - decision.t,
    analyses: checks.length,
    failedAnalyses: checks.filter((c) => c.decision === 'fail' || c.decision === 'retry').length,
    meanAnalysisGapMs: gaps.length ? Math.round(gaps.reduce((a, b) => a + b, 0) / gaps.length) : undefined,
  };
  log(
    `canary: ${run.deployment} (${analysis}, critical ${run.critical}, failureLimit ${run.failureLimit}) rolled back ${(run.totalMs / 1000).toFixed(1)} s after the command, after ${run.analyses} analyses: ${run.reason}`,
  );
  return run;
}

/** A 4-pod stable Deployment whose app the exporter serves with per-track error ratios (as the e2e test). */
async function workload(
  o: CanaryRollbackOptions,
  kubectl: (...args: string[]) => Promise<string>,
  name: string,
): Promise<void> {
  const manifest = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, namespace: ${CANARY_NAMESPACE}, labels: { wheelhouse.test/bench: "true" } }
spec:
  replicas: 4
  progressDeadlineSeconds: 30
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      containers: [{ name: app, image: "${IMAGE}:v1" }]
`;
  await new Promise<void>((resolve, reject) => {
    const child = execFile(
      o.kubectl.kubectl,
      ['--kubeconfig', o.kubectl.kubeconfig, '--context', o.kubectl.context, 'apply', '-f', '-'],
      (error) => (error ? reject(error) : resolve()),
    );
    child.stdin?.end(manifest);
  });
  await kubectl('rollout', 'status', `deploy/${name}`, '-n', CANARY_NAMESPACE, '--timeout=60s');
  await setTraffic(o.exporterUrl, name, undefined, 50, o.stableErrorRatio);
  await setTraffic(o.exporterUrl, name, 'canary', 50, o.canaryErrorRatio);
}

async function setTraffic(
  exporterUrl: string,
  app: string,
  track: string | undefined,
  requestsPerSecond: number,
  errorRatio: number,
): Promise<void> {
  const response = await fetch(`${exporterUrl}/control`, {
    method: 'POST',
    body: JSON.stringify({ app, ...(track ? { track } : {}), requestsPerSecond, errorRatio }),
  });
  const body = await response.text();
  if (response.status !== 200) throw new Error(`exporter /control answered ${response.status}: ${body}`);
}

async function runOf(dataDir: string, stable: string): Promise<CanaryState | undefined> {
  const store = new SqliteStore(join(dataDir, 'wheelhouse.db'));
  try {
    for (const run of await store.runs.list(CANARY)) {
      if (run.status === 'pending') continue;
      const state = parseCanary(run);
      if (state.stable === stable) return state;
    }
    return undefined;
  } finally {
    await store.close();
  }
}
