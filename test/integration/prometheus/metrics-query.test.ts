import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsQuery } from '../../../skills/metrics-query/skill.ts';
import { WheelhouseError } from '../../../src/errors.ts';
import type { KubeReader } from '../../../src/kube/types.ts';
import { EChartsChartRenderer } from '../../../src/render/echarts-chart-renderer.ts';
import { DEFAULT_LIMITS, type SkillContext } from '../../../src/skills/context.ts';
import type { ChartSection, SkillResult } from '../../../src/skills/result.ts';
import { PrometheusMetricsSource } from '../../../src/sources/prometheus-metrics-source.ts';
import { POD_A, POD_B, seeded, shopOpenMetrics } from '../../fixtures/prometheus/shop-series.ts';
import { buildDeployment, buildPod } from '../../support/builders.ts';
import { type PrometheusServer, startPrometheus } from '../../support/prometheus-server.ts';

/** Three hours of data, one sample a minute, ending at the minute the test run started. */
const SEEDED_MINUTES = 180;
const END_SECONDS = Math.floor(Date.now() / 60_000) * 60;
const NOW = new Date(END_SECONDS * 1000);
/** A one-hour chart with 61 points per series evaluates exactly at the seeded minutes (step 60 s). */
const POINTS = 61;

function unused(): never {
  throw new Error('not used by metrics-query');
}

/** Knows Deployment shop/checkout and its two pods. */
const kube: KubeReader = {
  async getWorkload(ref) {
    if (ref.kind === 'Deployment' && ref.namespace === 'shop' && ref.name === 'checkout') {
      return { kind: 'Deployment', object: buildDeployment() };
    }
    throw new WheelhouseError('NOT_FOUND', `${ref.kind} ${ref.name} not found in ${ref.namespace}.`);
  },
  podsOf: async () => [buildPod({ name: POD_A }), buildPod({ name: POD_B })],
  listPods: unused,
  listReplicaSets: unused,
  listEvents: unused,
  listNodes: unused,
  getNamespace: unused,
  readLog: unused,
};

const charts = new EChartsChartRenderer();

function context(metrics: PrometheusMetricsSource): SkillContext {
  return {
    kube,
    metrics,
    logSearch: undefined,
    charts,
    redact: (text) => text,
    actor: { surface: 'console', id: 'tester', kube: undefined },
    requestId: 'req-int',
    signal: new AbortController().signal,
    now: () => NOW,
    limits: { ...DEFAULT_LIMITS, maxPointsPerSeries: POINTS },
  };
}

/** The stats a one-hour chart must show for a seeded gauge: minutes 120…180 of the seed. */
function expectedStats(value: (i: number) => number): {
  min: number;
  avg: number;
  max: number;
  last: number;
} {
  const values = Array.from({ length: POINTS }, (_, k) => value(SEEDED_MINUTES - (POINTS - 1) + k));
  return {
    min: Math.min(...values),
    avg: values.reduce((a, b) => a + b, 0) / values.length,
    max: Math.max(...values),
    last: values.at(-1) ?? Number.NaN,
  };
}

function chartOf(result: SkillResult): ChartSection {
  const chart = result.sections.find((s): s is ChartSection => s.type === 'chart');
  if (!chart) throw new Error(`no chart in: ${result.summary}`);
  return chart;
}

function statsFor(result: SkillResult, series: string): ChartSection['stats'][number] {
  const stats = chartOf(result).stats.find((s) => s.series === series);
  if (!stats) throw new Error(`no stats for ${series} in ${JSON.stringify(chartOf(result).stats)}`);
  return stats;
}

async function failure(promise: Promise<unknown>): Promise<WheelhouseError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof WheelhouseError))
    throw new Error(`expected a WheelhouseError, got ${String(error)}`);
  return error;
}

describe('metrics-query against a real Prometheus', () => {
  let prometheus: PrometheusServer;
  let ctx: SkillContext;

  beforeAll(async () => {
    prometheus = await startPrometheus({ openMetrics: shopOpenMetrics(END_SECONDS, SEEDED_MINUTES) });
    ctx = context(new PrometheusMetricsSource({ url: prometheus.url }));
  });

  afterAll(async () => {
    await prometheus?.stop();
  });

  const run = (input: Record<string, unknown>): Promise<SkillResult> =>
    metricsQuery.run({ last: '1h', ...input }, ctx);

  it('reports the seeded CPU rates per pod, ignoring the pod cgroup and other workloads', async () => {
    const result = await run({ template: 'cpu', target: 'deploy/checkout', namespace: 'shop' });
    expect(chartOf(result).stats.map((s) => s.series)).toEqual([POD_B, POD_A]);
    for (const pod of [POD_A, POD_B]) {
      const cores = seeded.cpuCores[pod] ?? Number.NaN;
      expect(statsFor(result, pod)).toEqual({
        series: pod,
        min: cores,
        avg: cores,
        max: cores,
        last: cores,
        unit: 'cores',
      });
    }
    const png = result.attachments?.[0]?.content;
    expect(png instanceof Uint8Array && [...png.subarray(1, 4)]).toEqual([0x50, 0x4e, 0x47]);
  });

  it('reports min/avg/max/last of the seeded working-set memory', async () => {
    const result = await run({ template: 'memory', target: 'deploy/checkout', namespace: 'shop' });
    for (const pod of [POD_A, POD_B]) {
      const expected = expectedStats((i) => seeded.memoryBytes(pod, i));
      const actual = statsFor(result, pod);
      expect(actual.min).toBe(expected.min);
      expect(actual.max).toBe(expected.max);
      expect(actual.last).toBe(expected.last);
      expect(actual.avg).toBeCloseTo(expected.avg, 3);
    }
    const table = result.sections.find((s) => s.type === 'table');
    expect(table).toMatchObject({
      rows: expect.arrayContaining([[POD_A, '100 MiB', expect.any(String), '109 MiB', expect.any(String)]]),
    });
  });

  it('reports restarts as kube-state-metrics counts them', async () => {
    const result = await run({ template: 'restarts', target: 'deploy/checkout', namespace: 'shop' });
    const expected = expectedStats((i) => seeded.restarts(POD_A, i));
    expect(statsFor(result, POD_A)).toMatchObject({
      min: expected.min,
      max: expected.max,
      last: expected.last,
    });
    expect(statsFor(result, POD_B)).toMatchObject({ min: 0, max: 0, last: 0 });
  });

  it('reports the 5xx ratio and the p99 latency', async () => {
    const errors = statsFor(
      await run({ template: 'errors', target: 'deploy/checkout', namespace: 'shop' }),
      'value',
    );
    expect(errors.min).toBeCloseTo(seeded.errorRatio, 9);
    expect(errors.last).toBeCloseTo(seeded.errorRatio, 9);
    expect(errors.unit).toBe('ratio');
    const p99 = statsFor(
      await run({ template: 'p99', target: 'deploy/checkout', namespace: 'shop' }),
      'value',
    );
    expect(p99.max).toBeCloseTo(seeded.p99Seconds, 9);
    expect(p99.last).toBeCloseTo(seeded.p99Seconds, 9);
  });

  it('charts raw PromQL', async () => {
    const result = await run({
      promql: 'sum(rate(http_requests_total{namespace="shop",pod=~"checkout-7d9f8-.*"}[5m]))',
      unit: 'req/s',
    });
    expect(statsFor(result, 'value').last).toBeCloseTo(3.1, 9);
  });

  it('answers "no data" for a template whose series do not exist', async () => {
    const result = await run({ template: 'gpu', target: 'deploy/checkout', namespace: 'shop' });
    expect(result.tone).toBe('warning');
    expect(result.summary).toMatch(/^No data for GPU utilisation/);
    expect(result.sections.some((s) => s.type === 'chart')).toBe(false);
    expect(JSON.stringify(result.sections)).toContain('DCGM_FI_DEV_GPU_UTIL');
  });

  it('answers "no data" for a selector that matches nothing', async () => {
    const result = await run({ promql: 'container_memory_working_set_bytes{namespace="nowhere"}' });
    expect(result.summary).toMatch(/^No data/);
  });

  it('turns invalid PromQL into INVALID_QUERY quoting Prometheus', async () => {
    const error = await failure(run({ promql: 'sum(rate(http_requests_total[5m]' }));
    expect(error.code).toBe('INVALID_QUERY');
    expect(error.message).toContain('parse error');
  });

  it('turns an unknown workload into NOT_FOUND', async () => {
    const error = await failure(run({ template: 'cpu', target: 'deploy/nope', namespace: 'shop' }));
    expect(error.code).toBe('NOT_FOUND');
  });
});

describe('metrics-query when Prometheus is down or stuck', () => {
  let silent: Server | undefined;
  const sockets = new Set<Socket>();

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => (silent ? silent.close(resolve) : resolve(undefined)));
  });

  it('says SOURCE_UNAVAILABLE naming the URL of a stopped Prometheus', async () => {
    const prometheus = await startPrometheus();
    await prometheus.stop();
    const error = await failure(
      metricsQuery.run(
        { promql: 'up', last: '1h' },
        context(new PrometheusMetricsSource({ url: prometheus.url })),
      ),
    );
    expect(error.code).toBe('SOURCE_UNAVAILABLE');
    expect(error.message).toContain(prometheus.url);
  });

  it('says SOURCE_TIMEOUT when the server accepts but never answers', async () => {
    const server = createServer((socket) => {
      sockets.add(socket);
    });
    silent = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const source = new PrometheusMetricsSource({ url: `http://127.0.0.1:${address.port}`, timeoutMs: 500 });
    const error = await failure(metricsQuery.run({ promql: 'up', last: '1h' }, context(source)));
    expect(error.code).toBe('SOURCE_TIMEOUT');
    expect(error.message).toBe('Prometheus did not answer within 0.5 s.');
  });
});
