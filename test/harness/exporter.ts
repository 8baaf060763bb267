/**
 * Seeded test exporter for the e2e suite: per-pod cAdvisor-, kube-state-metrics-, HTTP- and
 * DCGM-style series for the REAL pods of the e2e cluster, with values the tests can predict.
 *
 *   npx node test/harness/exporter.ts --kubeconfig K --port P
 *     [--host 127.0.0.1] [--namespaces shop,payments] [--context admin]
 *     [--discovery-interval-ms 3000] [--origin-ms <unix ms>] [--state-dir D]
 *
 * Counters are the integral of a fixed per-app rate over time since the origin (default: the
 * exporter's start), computed from a monotonic clock, so `rate()` returns the documented value
 * exactly. The numbers live in PROFILES below and are documented in test/harness/OBSERVABILITY.md.
 *
 * Endpoints:
 *   GET  /metrics              Prometheus text format 0.0.4 (503 until the first pod list succeeded)
 *   GET  /ready                200 once pods were listed
 *   GET  /backfill?seconds=600&step=5[&job=exporter&instance=127.0.0.1:P]
 *                              OpenMetrics with timestamps for [now-seconds, now) from the same
 *                              model, for `promtool tsdb create-blocks-from openmetrics`; carries
 *                              the job/instance labels the live scrape gets
 *   GET  /control              the current per-app profiles (JSON)
 *   POST /control              {"app":"payments-api","errorRatio":0} changes an app from now on
 *                              (fields: cpuCores, memoryBytes, requestsPerSecond, errorRatio;
 *                              "track":"canary" changes only the app's pods labelled
 *                              wheelhouse.io/track=canary, which start from the app's profile);
 *                              {"reset":true} restores the seeded profiles. Counters stay monotonic.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';

// ------------------------------------------------------------------ profiles

const MiB = 1024 * 1024;

/** Cumulative share of requests at or below each `le` bound (the +Inf bucket is always 1). */
type LatencyDistribution = ReadonlyArray<readonly [le: number, cumulative: number]>;

/** Bucket bounds of http_request_duration_seconds (seconds). */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5, 5] as const;

interface HttpProfile {
  requestsPerSecond: number;
  /** Share of requests answered with code="500"; the rest are code="200". */
  errorRatio: number;
  latency: LatencyDistribution;
  /** rate(_sum) / rate(_count). */
  meanSeconds: number;
}

interface Profile {
  cpuCores: number;
  memoryBytes: number;
  http?: HttpProfile;
}

// p50 = 0.0375, p90 ≈ 0.0955, p95 = 0.15, p99 = 0.25 (linear interpolation inside the buckets)
const CHECKOUT_LATENCY: LatencyDistribution = [
  [0.005, 0.02],
  [0.01, 0.1],
  [0.025, 0.3],
  [0.05, 0.7],
  [0.1, 0.92],
  [0.2, 0.98],
  [0.3, 1],
];
// p50 = 0.0175, p99 = 0.15
const CART_LATENCY: LatencyDistribution = [
  [0.005, 0.1],
  [0.01, 0.3],
  [0.025, 0.7],
  [0.05, 0.9],
  [0.1, 0.98],
  [0.2, 1],
];
// p50 ≈ 0.0667, p99 = 0.75
const PAYMENTS_LATENCY: LatencyDistribution = [
  [0.005, 0.01],
  [0.01, 0.05],
  [0.025, 0.15],
  [0.05, 0.4],
  [0.1, 0.7],
  [0.2, 0.9],
  [0.3, 0.96],
  [0.5, 0.98],
  [1, 1],
];

/** Seeded per-app profiles, keyed by the pod label `app`. Keep in sync with OBSERVABILITY.md. */
const PROFILES: Readonly<Record<string, Profile>> = {
  checkout: {
    cpuCores: 0.25,
    memoryBytes: 200 * MiB,
    http: { requestsPerSecond: 100, errorRatio: 0.01, latency: CHECKOUT_LATENCY, meanSeconds: 0.05 },
  },
  cart: {
    cpuCores: 0.1,
    memoryBytes: 96 * MiB,
    http: { requestsPerSecond: 20, errorRatio: 0, latency: CART_LATENCY, meanSeconds: 0.025 },
  },
  'payments-api': {
    cpuCores: 0.15,
    memoryBytes: 180 * MiB,
    http: { requestsPerSecond: 50, errorRatio: 0.05, latency: PAYMENTS_LATENCY, meanSeconds: 0.12 },
  },
  'orders-db': { cpuCores: 0.4, memoryBytes: 768 * MiB },
  crashy: { cpuCores: 0.01, memoryBytes: 32 * MiB },
  hungry: { cpuCores: 0.3, memoryBytes: 122 * MiB }, // limit 128Mi: 95.3 %
};
/** Pods with this label are their own track of the app (a canary): `app@track` in /control. */
const TRACK_LABEL = 'wheelhouse.io/track';

/** The seeded profile of an app or an app's track ("checkout@canary" starts as checkout). */
function profileOf(key: string): Profile {
  return PROFILES[key.split('@')[0] ?? key] ?? DEFAULT_PROFILE;
}

/** Any other Running pod in the watched namespaces. */
const DEFAULT_PROFILE: Profile = { cpuCores: 0.05, memoryBytes: 64 * MiB };

const GPU_UTIL_PERCENT = 85;
const GPU_MODEL = 'NVIDIA A100-SXM4-40GB';

// ------------------------------------------------------------------ piecewise-linear counters

/** Per-pod counter values of one app; every pod of an app has the same values. */
interface Counters {
  cpuSeconds: number;
  requestsOk: number;
  requestsError: number;
  /** Cumulative count per BUCKETS entry, then +Inf. */
  buckets: number[];
  durationSum: number;
}

interface Segment {
  sinceMs: number;
  base: Counters;
  profile: Profile;
}

function zeroCounters(): Counters {
  return {
    cpuSeconds: 0,
    requestsOk: 0,
    requestsError: 0,
    buckets: BUCKETS.map(() => 0).concat(0),
    durationSum: 0,
  };
}

function cumulativeShare(latency: LatencyDistribution, le: number): number {
  let share = 0;
  for (const [bound, cumulative] of latency) if (bound <= le) share = cumulative;
  return share;
}

function advance(base: Counters, profile: Profile, seconds: number): Counters {
  const http = profile.http;
  const requests = http ? http.requestsPerSecond * seconds : 0;
  return {
    cpuSeconds: base.cpuSeconds + profile.cpuCores * seconds,
    requestsOk: base.requestsOk + (http ? requests * (1 - http.errorRatio) : 0),
    requestsError: base.requestsError + (http ? requests * http.errorRatio : 0),
    buckets: base.buckets.map((v, i) => {
      if (!http) return v;
      const le = BUCKETS[i];
      return v + requests * (le === undefined ? 1 : cumulativeShare(http.latency, le));
    }),
    durationSum: base.durationSum + (http ? requests * http.meanSeconds : 0),
  };
}

class AppClock {
  readonly segments: Segment[];
  constructor(originMs: number, profile: Profile) {
    this.segments = [{ sinceMs: originMs, base: zeroCounters(), profile }];
  }
  get profile(): Profile {
    return this.segments[this.segments.length - 1]!.profile;
  }
  at(tMs: number): Counters {
    let seg = this.segments[0]!;
    for (const s of this.segments) if (s.sinceMs <= tMs) seg = s;
    return advance(seg.base, seg.profile, Math.max(0, tMs - seg.sinceMs) / 1000);
  }
  change(tMs: number, profile: Profile): void {
    this.segments.push({ sinceMs: tMs, base: this.at(tMs), profile });
  }
}

// ------------------------------------------------------------------ exposition

type Labels = Record<string, string>;
type MetricType = 'counter' | 'gauge' | 'histogram';
interface Family {
  name: string;
  type: MetricType;
  help: string;
  samples: Array<{ name: string; labels: Labels; value: number }>;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels)
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

function formatLe(le: number | undefined): string {
  return le === undefined ? '+Inf' : String(le);
}

function renderText(families: Family[]): string {
  const out: string[] = [];
  for (const f of families) {
    if (f.samples.length === 0) continue;
    out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) out.push(`${s.name}${labelText(s.labels)} ${formatValue(s.value)}`);
  }
  return `${out.join('\n')}\n`;
}

/** OpenMetrics without TYPE lines (the TSDB stores no types); series grouped, samples in time order. */
function renderBackfill(snapshots: Array<{ tMs: number; families: Family[] }>, targetLabels: Labels): string {
  const series = new Map<string, string[]>();
  for (const { tMs, families } of snapshots) {
    const ts = (tMs / 1000).toFixed(3);
    for (const f of families) {
      for (const s of f.samples) {
        const key = `${s.name}${labelText({ ...targetLabels, ...s.labels })}`;
        let lines = series.get(key);
        if (!lines) {
          lines = [];
          series.set(key, lines);
        }
        lines.push(`${key} ${formatValue(s.value)} ${ts}`);
      }
    }
  }
  const out: string[] = [];
  for (const lines of series.values()) out.push(...lines);
  out.push('# EOF');
  return `${out.join('\n')}\n`;
}

// ------------------------------------------------------------------ pods → series

const QUANTITY_SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A Kubernetes resource quantity ("250m", "1Gi", "64") as a number; undefined if unparsable. */
function parseQuantity(q: string): number | undefined {
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(q.trim());
  if (!m) return undefined;
  const factor = QUANTITY_SUFFIX[m[2] ?? ''];
  const n = Number(m[1]);
  return factor === undefined || Number.isNaN(n) ? undefined : n * factor;
}

const PHASES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'] as const;

function isReady(pod: V1Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function hasGpu(pod: V1Pod): boolean {
  return (pod.spec?.containers ?? []).some(
    (c) => c.resources?.limits?.['nvidia.com/gpu'] !== undefined || c.resources?.requests?.['nvidia.com/gpu'],
  );
}

function family(name: string, type: MetricType, help: string): Family {
  return { name, type, help, samples: [] };
}

class Model {
  readonly apps = new Map<string, AppClock>();
  readonly originMs: number;
  constructor(originMs: number) {
    this.originMs = originMs;
  }

  clock(app: string): AppClock {
    let c = this.apps.get(app);
    if (!c) {
      c = new AppClock(this.originMs, profileOf(app));
      this.apps.set(app, c);
    }
    return c;
  }

  collect(tMs: number, pods: V1Pod[], meta: Family[] = []): Family[] {
    const cpu = family(
      'container_cpu_usage_seconds_total',
      'counter',
      'Cumulative cpu time consumed in seconds.',
    );
    const mem = family('container_memory_working_set_bytes', 'gauge', 'Current working set in bytes.');
    const restarts = family(
      'kube_pod_container_status_restarts_total',
      'counter',
      'The number of container restarts per container.',
    );
    const ready = family('kube_pod_container_status_ready', 'gauge', 'Whether the container is ready.');
    const waiting = family(
      'kube_pod_container_status_waiting_reason',
      'gauge',
      'Describes the reason the container is currently in waiting state.',
    );
    const terminated = family(
      'kube_pod_container_status_terminated_reason',
      'gauge',
      'Describes the reason the container is currently in terminated state.',
    );
    const lastTerminated = family(
      'kube_pod_container_status_last_terminated_reason',
      'gauge',
      'Describes the last reason the container was in terminated state.',
    );
    const requests = family(
      'kube_pod_container_resource_requests',
      'gauge',
      'Requested resources by a container.',
    );
    const limits = family('kube_pod_container_resource_limits', 'gauge', 'Resource limits of a container.');
    const phase = family('kube_pod_status_phase', 'gauge', 'The pods current phase.');
    const info = family('kube_pod_info', 'gauge', 'Information about pod.');
    const http = family('http_requests_total', 'counter', 'HTTP requests served, by status code.');
    const duration = family(
      'http_request_duration_seconds',
      'histogram',
      'HTTP request duration in seconds.',
    );
    const gpu = family('DCGM_FI_DEV_GPU_UTIL', 'gauge', 'GPU utilization (in %).');

    const sorted = [...pods].sort((a, b) =>
      `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(
        `${b.metadata?.namespace}/${b.metadata?.name}`,
      ),
    );
    const gpuPods = sorted.filter(hasGpu);
    const gpuFallback = sorted.find(
      (p) => p.metadata?.labels?.['app'] === 'checkout' && p.status?.phase === 'Running',
    );
    const gpuTargets = new Set(gpuPods.length > 0 ? gpuPods : gpuFallback ? [gpuFallback] : []);

    for (const pod of sorted) {
      const namespace = pod.metadata?.namespace ?? '';
      const name = pod.metadata?.name ?? '';
      const app = pod.metadata?.labels?.['app'] ?? '';
      const podLabels = { namespace, pod: name, app };
      const owner =
        pod.metadata?.ownerReferences?.find((o) => o.controller) ?? pod.metadata?.ownerReferences?.[0];
      const containers = pod.spec?.containers ?? [];
      const running = pod.status?.phase === 'Running';

      for (const p of PHASES)
        phase.samples.push({
          name: phase.name,
          labels: { ...podLabels, phase: p },
          value: p === pod.status?.phase ? 1 : 0,
        });
      info.samples.push({
        name: info.name,
        labels: {
          ...podLabels,
          node: pod.spec?.nodeName ?? '',
          pod_ip: pod.status?.podIP ?? '',
          host_ip: pod.status?.hostIP ?? '',
          created_by_kind: owner?.kind ?? '',
          created_by_name: owner?.name ?? '',
          uid: pod.metadata?.uid ?? '',
        },
        value: 1,
      });

      for (const c of containers) {
        const cl = { ...podLabels, container: c.name };
        for (const [kind, fam] of [
          ['requests', requests],
          ['limits', limits],
        ] as const) {
          const res = c.resources?.[kind] ?? {};
          for (const [resource, q] of Object.entries(res)) {
            const v = parseQuantity(String(q));
            if (v === undefined) continue;
            const unit = resource === 'cpu' ? 'core' : resource === 'memory' ? 'byte' : 'integer';
            fam.samples.push({ name: fam.name, labels: { ...cl, resource, unit }, value: v });
          }
        }
      }

      for (const cs of pod.status?.containerStatuses ?? []) {
        const cl = { ...podLabels, container: cs.name };
        restarts.samples.push({ name: restarts.name, labels: cl, value: cs.restartCount ?? 0 });
        ready.samples.push({ name: ready.name, labels: cl, value: cs.ready ? 1 : 0 });
        const w = cs.state?.waiting?.reason;
        if (w) waiting.samples.push({ name: waiting.name, labels: { ...cl, reason: w }, value: 1 });
        const t = cs.state?.terminated?.reason;
        if (t) terminated.samples.push({ name: terminated.name, labels: { ...cl, reason: t }, value: 1 });
        const lt = cs.lastState?.terminated?.reason;
        if (lt)
          lastTerminated.samples.push({ name: lastTerminated.name, labels: { ...cl, reason: lt }, value: 1 });
      }

      if (!running || containers.length === 0) continue;
      // Canary pods (label wheelhouse.io/track) get their own clock, "app@track", set via /control.
      const track = pod.metadata?.labels?.[TRACK_LABEL];
      const clock = this.clock(track ? `${app}@${track}` : app);
      const counters = clock.at(tMs);
      const profile = clock.profile;
      const first = containers[0]!.name;
      // the whole pod's usage is attributed to its first container; others idle
      for (const c of containers) {
        const cl = { ...podLabels, container: c.name, image: c.image ?? '' };
        const isFirst = c.name === first;
        cpu.samples.push({
          name: cpu.name,
          labels: { ...cl, cpu: 'total' },
          value: isFirst ? counters.cpuSeconds : 0,
        });
        mem.samples.push({ name: mem.name, labels: cl, value: isFirst ? profile.memoryBytes : 0 });
      }

      if (gpuTargets.has(pod)) {
        gpu.samples.push({
          name: gpu.name,
          labels: {
            gpu: '0',
            UUID: `GPU-${(pod.metadata?.uid ?? '00000000-0000-0000-0000-000000000000').slice(0, 36)}`,
            device: 'nvidia0',
            modelName: GPU_MODEL,
            Hostname: pod.spec?.nodeName ?? '',
            ...podLabels,
            container: first,
          },
          value: GPU_UTIL_PERCENT,
        });
      }

      const hasHttp = clock.segments.some((s) => s.profile.http);
      if (hasHttp && isReady(pod)) {
        const hl = { ...podLabels, container: first };
        http.samples.push(
          { name: http.name, labels: { ...hl, code: '200' }, value: counters.requestsOk },
          { name: http.name, labels: { ...hl, code: '500' }, value: counters.requestsError },
        );
        counters.buckets.forEach((v, i) => {
          duration.samples.push({
            name: `${duration.name}_bucket`,
            labels: { ...hl, le: formatLe(BUCKETS[i]) },
            value: v,
          });
        });
        duration.samples.push(
          { name: `${duration.name}_sum`, labels: hl, value: counters.durationSum },
          {
            name: `${duration.name}_count`,
            labels: hl,
            value: counters.buckets[counters.buckets.length - 1] ?? 0,
          },
        );
      }
    }
    return [
      cpu,
      mem,
      restarts,
      ready,
      waiting,
      terminated,
      lastTerminated,
      requests,
      limits,
      phase,
      info,
      http,
      duration,
      gpu,
      ...meta,
    ];
  }
}

// ------------------------------------------------------------------ main

function usage(msg: string): never {
  process.stderr.write(
    `exporter: ${msg}\nusage: exporter.ts --kubeconfig K --port P [--host H] [--namespaces a,b]\n`,
  );
  process.exit(2);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

async function readBody(req: IncomingMessage, limit = 64 * 1024): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function log(msg: string): void {
  process.stdout.write(`${new Date().toISOString()} ${msg}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      namespaces: { type: 'string', default: 'shop,payments' },
      'discovery-interval-ms': { type: 'string', default: '3000' },
      'origin-ms': { type: 'string' },
      'state-dir': { type: 'string' }, // only marks the process as belonging to a harness state dir
    },
    strict: true,
  });
  if (!values.kubeconfig) usage('--kubeconfig is required');
  const port = Number(values.port);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) usage('--port must be a TCP port');
  const namespaces = values.namespaces.split(',').filter(Boolean);
  const intervalMs = Math.max(500, Number(values['discovery-interval-ms']) || 3000);

  // Wall-clock anchor + monotonic elapsed time: immune to clock steps while running.
  const startWallMs = Date.now();
  const startPerf = performance.now();
  const now = (): number => startWallMs + (performance.now() - startPerf);
  const originMs = values['origin-ms'] ? Number(values['origin-ms']) : startWallMs;
  if (!Number.isFinite(originMs) || originMs > startWallMs + 1000)
    usage('--origin-ms must be a unix time in ms, not in the future');

  const kubeconfigPath = values.kubeconfig;
  const context = values.context;
  // Re-read after a failure: the harness may have re-created the cluster (new CA, new tokens).
  const makeClient = (): CoreV1Api => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    if (context) kc.setCurrentContext(context);
    return kc.makeApiClient(CoreV1Api);
  };
  let core = makeClient();
  const model = new Model(originMs);

  let pods: V1Pod[] = [];
  let listedOnce = false;
  let lastSuccessMs = 0;
  let discoveryErrors = 0;
  let scrapes = 0;

  let discovering = false;
  const discover = async (): Promise<void> => {
    if (discovering) return; // a slow list must not pile up behind the interval
    discovering = true;
    try {
      const lists = await Promise.all(
        namespaces.map((namespace) =>
          withTimeout(
            core.listNamespacedPod({ namespace, timeoutSeconds: 10 }),
            10_000,
            `list pods in ${namespace}`,
          ),
        ),
      );
      const next = lists.flatMap((l) => l.items);
      if (!listedOnce || next.length !== pods.length)
        log(`discovered ${next.length} pods in ${namespaces.join(',')}`);
      pods = next;
      listedOnce = true;
      lastSuccessMs = now();
    } catch (err) {
      discoveryErrors++;
      log(`pod discovery failed (keeping ${pods.length} known pods): ${(err as Error).message}`);
      try {
        core = makeClient();
      } catch (loadErr) {
        log(`could not re-read ${kubeconfigPath}: ${(loadErr as Error).message}`);
      }
    } finally {
      discovering = false;
    }
  };

  const metaFamilies = (): Family[] => {
    const up = family('wh_exporter_pods', 'gauge', 'Pods known to the seeded test exporter.');
    up.samples.push({ name: up.name, labels: {}, value: pods.length });
    const last = family(
      'wh_exporter_last_discovery_timestamp_seconds',
      'gauge',
      'When the pod list last succeeded (unix seconds).',
    );
    last.samples.push({ name: last.name, labels: {}, value: lastSuccessMs / 1000 });
    const errs = family('wh_exporter_discovery_errors_total', 'counter', 'Failed pod list attempts.');
    errs.samples.push({ name: errs.name, labels: {}, value: discoveryErrors });
    const origin = family(
      'wh_exporter_origin_timestamp_seconds',
      'gauge',
      'Time at which all counters were 0.',
    );
    origin.samples.push({ name: origin.name, labels: {}, value: originMs / 1000 });
    return [up, last, errs, origin];
  };

  const send = (
    res: ServerResponse,
    status: number,
    body: string,
    type = 'text/plain; charset=utf-8',
  ): void => {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };

  const profilesJson = (): Record<string, Profile> =>
    Object.fromEntries([...model.apps.entries()].map(([app, c]) => [app || '(no app label)', c.profile]));

  const handleControl = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method === 'GET')
      return send(res, 200, JSON.stringify(profilesJson(), null, 2), 'application/json');
    if (req.method !== 'POST') return send(res, 405, 'method not allowed\n');
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(await readBody(req)) as Record<string, unknown>;
    } catch (err) {
      return send(res, 400, `bad JSON: ${(err as Error).message}\n`);
    }
    const t = now();
    if (body['reset'] === true) {
      for (const [app, c] of model.apps) c.change(t, profileOf(app));
      log('control: reset all apps to seeded profiles');
      return send(res, 200, JSON.stringify(profilesJson(), null, 2), 'application/json');
    }
    const app = body['app'];
    if (typeof app !== 'string' || app === '') return send(res, 400, 'need "app" (or "reset": true)\n');
    const num = (k: string): number | undefined => {
      const v = body[k];
      if (v === undefined) return undefined;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
        throw new Error(`${k} must be a number >= 0`);
      return v;
    };
    try {
      const track = body['track'];
      if (track !== undefined && (typeof track !== 'string' || track === ''))
        throw new Error('"track" must be a non-empty string');
      const clock = model.clock(track ? `${app}@${track}` : app);
      const cur = clock.profile;
      const next: Profile = { ...cur };
      const cpuCores = num('cpuCores');
      const memoryBytes = num('memoryBytes');
      const rps = num('requestsPerSecond');
      const errorRatio = num('errorRatio');
      if (errorRatio !== undefined && errorRatio > 1) throw new Error('errorRatio must be <= 1');
      if (cpuCores !== undefined) next.cpuCores = cpuCores;
      if (memoryBytes !== undefined) next.memoryBytes = memoryBytes;
      if (rps !== undefined || errorRatio !== undefined) {
        const http = cur.http ?? { ...PROFILES['checkout']!.http!, requestsPerSecond: 0, errorRatio: 0 };
        next.http = {
          ...http,
          requestsPerSecond: rps ?? http.requestsPerSecond,
          errorRatio: errorRatio ?? http.errorRatio,
        };
      }
      clock.change(t, next);
      log(`control: ${app} -> ${JSON.stringify(next)}`);
      return send(res, 200, JSON.stringify({ [app]: next }, null, 2), 'application/json');
    } catch (err) {
      return send(res, 400, `${(err as Error).message}\n`);
    }
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://exporter');
    const route = async (): Promise<void> => {
      switch (url.pathname) {
        case '/metrics':
          if (!listedOnce) return send(res, 503, 'pods not listed yet\n');
          scrapes++;
          return send(
            res,
            200,
            renderText(model.collect(now(), pods, metaFamilies())),
            'text/plain; version=0.0.4; charset=utf-8',
          );
        case '/ready':
        case '/-/ready':
          return listedOnce ? send(res, 200, 'ready\n') : send(res, 503, 'pods not listed yet\n');
        case '/healthz':
          return send(res, 200, 'ok\n');
        case '/backfill': {
          if (!listedOnce) return send(res, 503, 'pods not listed yet\n');
          const seconds = Number(url.searchParams.get('seconds') ?? '600');
          const step = Number(url.searchParams.get('step') ?? '5');
          if (!(seconds > 0 && seconds <= 86_400 && step >= 1 && step <= 3600)) {
            return send(res, 400, 'seconds must be in (0, 86400], step in [1, 3600]\n');
          }
          const end = now();
          const start = Math.max(originMs, end - seconds * 1000);
          const snapshots: Array<{ tMs: number; families: Family[] }> = [];
          // whole seconds, strictly before now: live scrapes continue the same series afterwards
          for (let t = Math.ceil(start / 1000) * 1000; t < end - 500; t += step * 1000) {
            snapshots.push({ tMs: t, families: model.collect(t, pods) });
          }
          // the labels Prometheus adds on scrape, so backfilled and scraped samples form one series
          const target: Labels = {
            job: url.searchParams.get('job') ?? 'exporter',
            instance: url.searchParams.get('instance') ?? `${values.host}:${port}`,
          };
          return send(
            res,
            200,
            renderBackfill(snapshots, target),
            'application/openmetrics-text; version=1.0.0; charset=utf-8',
          );
        }
        case '/control':
          return handleControl(req, res);
        case '/':
          return send(res, 200, 'wheelhouse seeded test exporter: /metrics /ready /backfill /control\n');
        default:
          return send(res, 404, 'not found\n');
      }
    };
    route().catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, `${(err as Error).message}\n`);
      else res.destroy();
    });
  });

  await discover();
  const timer = setInterval(() => void discover(), intervalMs);
  server.listen(port, values.host, () => {
    log(
      `listening on http://${values.host}:${port} (namespaces ${namespaces.join(',')}, origin ${new Date(originMs).toISOString()})`,
    );
  });
  server.on('error', (err) => {
    log(`server error: ${err.message}`);
    process.exit(1);
  });
  const stop = (sig: string): void => {
    log(`${sig}: stopping after ${scrapes} scrapes`);
    clearInterval(timer);
    server.close();
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 200).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

await main();
