import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { WheelhouseError } from '../../src/errors.ts';
import type { KubeReader, WorkloadRef } from '../../src/kube/types.ts';
import { parseCommand } from '../../src/planner/grammar.ts';
import { DEFAULT_LIMITS, type Limits, type SkillContext } from '../../src/skills/context.ts';
import { SkillRegistry } from '../../src/skills/registry.ts';
import type { ChartSection, SkillResult, TableSection, TextSection } from '../../src/skills/result.ts';
import type { LineChartSpec, MetricSeries, MetricsSource, RangeQuery } from '../../src/sources/types.ts';
import { buildDeployment, buildPod } from '../../test/support/builders.ts';
import { MAX_SERIES_SHOWN, metricsQuery, seriesName, statsOf, stepFor } from './skill.ts';

const NOW = new Date('2026-11-25T08:00:00Z');
const MINUTE = 60_000;

function unused(): never {
  throw new Error('this test does not expect this Kubernetes call');
}

/** Knows one Deployment, shop/checkout, and its pods. */
function fakeKube(pods: V1Pod[] = [buildPod()]): KubeReader & { asked: WorkloadRef[] } {
  const asked: WorkloadRef[] = [];
  return {
    asked,
    async getWorkload(ref) {
      asked.push(ref);
      if (ref.kind === 'Deployment' && ref.namespace === 'shop' && ref.name === 'checkout') {
        return { kind: 'Deployment', object: buildDeployment() };
      }
      throw new WheelhouseError('NOT_FOUND', `${ref.kind} ${ref.name} not found in ${ref.namespace}.`);
    },
    podsOf: async () => pods,
    listPods: unused,
    listReplicaSets: unused,
    listEvents: unused,
    listNodes: unused,
    getNamespace: unused,
    readLog: unused,
  };
}

function fakeMetrics(series: MetricSeries[]): MetricsSource & { queries: RangeQuery[] } {
  const queries: RangeQuery[] = [];
  return {
    url: 'http://prometheus.test:9090',
    queries,
    async rangeQuery(query) {
      queries.push(query);
      return series;
    },
  };
}

function fakeCharts(): SkillContext['charts'] & { specs: LineChartSpec[] } {
  const specs: LineChartSpec[] = [];
  return {
    specs,
    async renderLineChart(spec) {
      specs.push(spec);
      return new Uint8Array([0x89, 0x50, 0x4e, 0x47, specs.length]);
    },
  };
}

function context(
  parts: Omit<Partial<SkillContext>, 'limits'> & { limits?: Partial<Limits> } = {},
): SkillContext {
  const { limits, ...rest } = parts;
  return {
    kube: fakeKube(),
    metrics: undefined,
    logSearch: undefined,
    charts: fakeCharts(),
    redact: (text) => text,
    actor: { surface: 'console', id: 'tester', kube: undefined },
    requestId: 'req-1',
    signal: new AbortController().signal,
    now: () => NOW,
    ...rest,
    limits: { ...DEFAULT_LIMITS, ...limits },
  };
}

/** A series sampled once a minute over the last hour, from a value function. */
function series(labels: Record<string, string>, value: (i: number) => number, count = 61): MetricSeries {
  return {
    labels,
    points: Array.from({ length: count }, (_, i): [number, number] => [
      NOW.getTime() - (count - 1 - i) * MINUTE,
      value(i),
    ]),
  };
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

function section<T extends SkillResult['sections'][number]['type']>(
  result: SkillResult,
  type: T,
): Extract<SkillResult['sections'][number], { type: T }> {
  const found = result.sections.find(
    (s): s is Extract<SkillResult['sections'][number], { type: T }> => s.type === type,
  );
  if (!found) throw new Error(`no ${type} section in ${JSON.stringify(result.sections)}`);
  return found;
}

describe('metrics-query grammar', () => {
  const registry = new SkillRegistry([metricsQuery]);

  it('reads a template, a target, a namespace and a range', () => {
    const command = parseCommand('/wh metrics cpu deploy/checkout -n shop --last 1h', registry);
    expect(command).toMatchObject({
      kind: 'skill',
      input: { template: 'cpu', target: 'deploy/checkout', namespace: 'shop', last: '1h' },
    });
  });

  it('reads raw PromQL', () => {
    const command = parseCommand(
      "/wh metric --promql 'sum(rate(http_requests_total[5m]))' --last 30m",
      registry,
    );
    expect(command).toMatchObject({
      kind: 'skill',
      input: { promql: 'sum(rate(http_requests_total[5m]))', last: '30m' },
    });
  });

  it('refuses an unknown template naming the choices', () => {
    expect(() => parseCommand('/wh metrics disk deploy/checkout -n shop', registry)).toThrow(
      /cpu, memory, restarts/,
    );
  });

  it('needs a target and namespace with a template', () => {
    expect(() => parseCommand('/wh metrics cpu', registry)).toThrow(
      /<target> is required.*--namespace is required/,
    );
  });

  it('refuses a template together with --promql', () => {
    expect(() => parseCommand("/wh metrics cpu --promql 'up'", registry)).toThrow(/--promql/);
  });
});

describe('metrics-query', () => {
  it('charts the cpu template of a deployment with stats per pod', async () => {
    const metrics = fakeMetrics([
      series({ pod: 'checkout-7d9f8-abcde' }, (i) => 0.2 + (i % 2) * 0.1),
      series({ pod: 'checkout-7d9f8-fghij' }, () => 0.5),
    ]);
    const charts = fakeCharts();
    const kube = fakeKube();
    const result = await metricsQuery.run(
      { template: 'cpu', target: 'deploy/checkout', namespace: 'shop', last: '1h' },
      context({ metrics, charts, kube }),
    );

    expect(kube.asked).toEqual([{ kind: 'Deployment', namespace: 'shop', name: 'checkout' }]);
    const [query] = metrics.queries;
    expect(query?.query).toBe(
      'sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="shop",pod=~"^checkout-[a-z0-9]+-[a-z0-9]+$",container!=""}[5m]))',
    );
    expect(query?.end).toEqual(NOW);
    expect(query?.start).toEqual(new Date(NOW.getTime() - 3600_000));
    expect(query?.stepSeconds).toBe(15);

    const chart: ChartSection = section(result, 'chart');
    expect(chart.attachment).toBe('metrics-shop-checkout-cpu.png');
    expect(chart.stats[0]).toEqual({
      series: 'checkout-7d9f8-fghij',
      min: 0.5,
      avg: 0.5,
      max: 0.5,
      last: 0.5,
      unit: 'cores',
    });
    expect(chart.stats[1]?.series).toBe('checkout-7d9f8-abcde');
    expect(chart.stats[1]?.min).toBeCloseTo(0.2);
    expect(chart.stats[1]?.max).toBeCloseTo(0.3);
    expect(chart.stats[1]?.avg).toBeCloseTo((31 * 0.2 + 30 * 0.3) / 61);
    expect(chart.stats[1]?.last).toBeCloseTo(0.2);

    const table: TableSection = section(result, 'table');
    expect(table.columns).toEqual(['SERIES', 'MIN', 'AVG', 'MAX', 'LAST']);
    expect(table.rows[0]).toEqual([
      'checkout-7d9f8-fghij',
      '500 millicores',
      '500 millicores',
      '500 millicores',
      '500 millicores',
    ]);
    expect(table.rows[1]?.[0]).toBe('checkout-7d9f8-abcde');
    expect(table.rows[1]?.[2]).toBe('249 millicores');

    const text: TextSection = section(result, 'text');
    expect(text.text).toContain(`PromQL: ${query?.query}`);

    expect(result.attachments).toEqual([
      {
        name: 'metrics-shop-checkout-cpu.png',
        title: 'CPU of deploy/checkout in shop',
        mimeType: 'image/png',
        content: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1]),
      },
    ]);
    expect(charts.specs[0]?.unit).toBe('cores');
    expect(charts.specs[0]?.series.map((s) => s.name)).toEqual([
      'checkout-7d9f8-fghij',
      'checkout-7d9f8-abcde',
    ]);
    expect(result.summary).toContain('highest now checkout-7d9f8-fghij at 500 millicores');
  });

  it('says NOT_FOUND for an unknown workload without querying Prometheus', async () => {
    const metrics = fakeMetrics([]);
    const error = await failure(
      metricsQuery.run(
        { template: 'memory', target: 'deploy/chekout', namespace: 'shop' },
        context({ metrics }),
      ),
    );
    expect(error.code).toBe('NOT_FOUND');
    expect(metrics.queries).toHaveLength(0);
  });

  it('says SOURCE_NOT_CONFIGURED naming the config key when there is no Prometheus', async () => {
    const error = await failure(metricsQuery.run({ promql: 'up' }, context({ metrics: undefined })));
    expect(error.code).toBe('SOURCE_NOT_CONFIGURED');
    expect(error.hint).toContain('prometheus.url');
    expect(error.hint).toContain('WH_PROMETHEUS_URL');
  });

  it('refuses a range beyond the limit with INVALID_INPUT', async () => {
    const metrics = fakeMetrics([]);
    const error = await failure(
      metricsQuery.run(
        { promql: 'up', last: '8d' },
        context({ metrics, limits: { maxMetricsRangeSeconds: 7 * 86400 } }),
      ),
    );
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toContain('8d');
    expect(error.message).toContain('7d');
    expect(metrics.queries).toHaveLength(0);
  });

  it('keeps points per series within the limit', async () => {
    const metrics = fakeMetrics([]);
    await metricsQuery.run(
      { promql: 'up', last: '7d' },
      context({ metrics, limits: { maxPointsPerSeries: 1000 } }),
    );
    const step = metrics.queries[0]?.stepSeconds ?? 0;
    expect(Math.floor((7 * 86400) / step) + 1).toBeLessThanOrEqual(1000);
  });

  it.each([
    [3600, 1000],
    [7 * 86400, 1000],
    [30 * 86400, 11_000],
    [86400, 100],
    [900, 61],
  ])('stepFor(%d s, %d points) stays within the points and at least 15 s', (range, maxPoints) => {
    const step = stepFor(range, maxPoints);
    expect(Math.floor(range / step) + 1).toBeLessThanOrEqual(maxPoints);
    expect(step).toBeGreaterThanOrEqual(15);
    expect(Number.isInteger(step)).toBe(true);
  });

  it('shows the top 10 series by last value and counts the rest', async () => {
    const many = Array.from({ length: 13 }, (_, i) => series({ pod: `web-${i}` }, () => i));
    const charts = fakeCharts();
    const result = await metricsQuery.run(
      { promql: 'sum by (pod) (up)', unit: 'count' },
      context({ metrics: fakeMetrics(many), charts }),
    );
    const chart = section(result, 'chart');
    expect(chart.stats).toHaveLength(MAX_SERIES_SHOWN);
    expect(chart.stats.map((s) => s.series)).toEqual([
      'web-12',
      'web-11',
      'web-10',
      'web-9',
      'web-8',
      'web-7',
      'web-6',
      'web-5',
      'web-4',
      'web-3',
    ]);
    expect(charts.specs[0]?.series).toHaveLength(MAX_SERIES_SHOWN);
    const note = result.sections.find((s) => s.type === 'text' && s.text.startsWith('3 more series'));
    expect(note).toMatchObject({ text: expect.stringContaining('web-2, web-1, web-0') });
    expect(section(result, 'table').caption).toBe('Top 10 of 13 series by last value.');
  });

  it('answers "no data" with hints and the PromQL, never a zero', async () => {
    const charts = fakeCharts();
    const result = await metricsQuery.run(
      { template: 'gpu', target: 'deploy/checkout', namespace: 'shop' },
      context({ metrics: fakeMetrics([]), charts, kube: fakeKube([]) }),
    );
    expect(result.tone).toBe('warning');
    expect(result.summary).toBe('No data for GPU utilisation of deploy/checkout in shop over the last 1h.');
    expect(result.sections.some((s) => s.type === 'chart')).toBe(false);
    expect(result.attachments).toBeUndefined();
    expect(charts.specs).toHaveLength(0);
    const reasons = section(result, 'list');
    expect(reasons.items[0]).toBe('deploy/checkout has no pods right now, so nothing reports this metric.');
    expect(reasons.items.join(' ')).toContain('label names');
    expect(section(result, 'text').text).toContain('DCGM_FI_DEV_GPU_UTIL{namespace="shop"');
  });

  it('treats series holding only NaN as no data', async () => {
    const result = await metricsQuery.run(
      { template: 'errors', target: 'deploy/checkout', namespace: 'shop' },
      context({ metrics: fakeMetrics([series({}, () => Number.NaN)]) }),
    );
    expect(result.summary).toMatch(/^No data for Error ratio/);
    expect(section(result, 'list').items[0]).toContain('may not have had pods');
  });

  it('drops NaN points from stats (0/0 ratios at quiet times)', async () => {
    const result = await metricsQuery.run(
      { template: 'errors', target: 'deploy/checkout', namespace: 'shop' },
      context({ metrics: fakeMetrics([series({}, (i) => (i % 2 ? Number.NaN : 0.02))]) }),
    );
    expect(section(result, 'chart').stats).toEqual([
      { series: 'value', min: 0.02, avg: expect.closeTo(0.02, 12), max: 0.02, last: 0.02, unit: 'ratio' },
    ]);
    expect(section(result, 'table').rows[0]?.[4]).toBe('2%');
    expect(result.summary).toBe('Error ratio of deploy/checkout in shop over the last 1h: now 2% (max 2%)');
  });

  it('formats raw PromQL in the unit given', async () => {
    const metrics = fakeMetrics([
      series({ __name__: 'process_resident_memory_bytes' }, () => 256 * 1024 * 1024),
    ]);
    const result = await metricsQuery.run(
      { promql: 'process_resident_memory_bytes', unit: 'bytes', last: '30m' },
      context({ metrics }),
    );
    expect(metrics.queries[0]?.query).toBe('process_resident_memory_bytes');
    expect(metrics.queries[0]?.start).toEqual(new Date(NOW.getTime() - 30 * MINUTE));
    expect(section(result, 'table').rows[0]).toEqual([
      'process_resident_memory_bytes',
      '256 MiB',
      '256 MiB',
      '256 MiB',
      '256 MiB',
    ]);
    expect(section(result, 'chart').attachment).toBe('metrics-promql.png');
  });

  it('passes the request signal to the source', async () => {
    const metrics = fakeMetrics([]);
    const controller = new AbortController();
    await metricsQuery.run({ promql: 'up' }, context({ metrics, signal: controller.signal }));
    expect(metrics.queries[0]?.signal).toBe(controller.signal);
  });

  it('summarizes for audit', () => {
    expect(
      metricsQuery.summarize({ template: 'p99', target: 'deploy/checkout', namespace: 'shop', last: '6h' }),
    ).toBe('chart p99 of deploy/checkout in shop over the last 6h');
  });
});

describe('metrics-query helpers', () => {
  it('names series by their one label, several labels, or the metric', () => {
    expect(seriesName({ pod: 'a' })).toBe('a');
    expect(seriesName({ pod: 'a', code: '500' })).toBe('pod=a, code=500');
    expect(seriesName({ __name__: 'up' })).toBe('up');
    expect(seriesName({})).toBe('value');
  });

  it('computes min/avg/max/last', () => {
    expect(
      statsOf([
        [1, 3],
        [2, 1],
        [3, 2],
      ]),
    ).toEqual({ min: 1, avg: 2, max: 3, last: 2 });
  });
});
