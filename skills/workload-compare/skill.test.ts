import { describe, expect, it } from 'vitest';
import { WheelhouseError } from '../../src/errors.ts';
import type { KubeReader, WorkloadRef } from '../../src/kube/types.ts';
import { parseCommand } from '../../src/planner/grammar.ts';
import { DEFAULT_LIMITS, type SkillContext } from '../../src/skills/context.ts';
import { SkillRegistry } from '../../src/skills/registry.ts';
import type { ChartSection, SkillResult, TableSection } from '../../src/skills/result.ts';
import type { LineChartSpec, MetricSeries, MetricsSource, RangeQuery } from '../../src/sources/types.ts';
import { buildDeployment } from '../../test/support/builders.ts';
import { compareStep, workloadCompare } from './skill.ts';

const NOW = new Date('2026-11-25T08:00:00Z');

function unused(): never {
  throw new Error('this test does not expect this Kubernetes call');
}

/** Knows the Deployments shop/model-a and shop/model-b. */
function fakeKube(): KubeReader & { asked: WorkloadRef[] } {
  const asked: WorkloadRef[] = [];
  return {
    asked,
    async getWorkload(ref) {
      asked.push(ref);
      if (
        ref.kind === 'Deployment' &&
        ref.namespace === 'shop' &&
        ['model-a', 'model-b'].includes(ref.name)
      ) {
        return { kind: 'Deployment', object: buildDeployment({ name: ref.name }) };
      }
      throw new WheelhouseError('NOT_FOUND', `${ref.kind} ${ref.name} not found in ${ref.namespace}.`);
    },
    podsOf: unused,
    listPods: unused,
    listReplicaSets: unused,
    listEvents: unused,
    listNodes: unused,
    getNamespace: unused,
    readLog: unused,
  };
}

/** Per Deployment, the values every sample of a query about its pods has (one per step). */
type Values = Record<string, { 'success-rate'?: number[]; p99?: number[] }>;

function fakeMetrics(values: Values): MetricsSource & { queries: RangeQuery[] } {
  const queries: RangeQuery[] = [];
  return {
    url: 'http://prometheus.test:9090',
    queries,
    async rangeQuery(query) {
      queries.push(query);
      const name = Object.keys(values).find((n) => query.query.includes(`^${n}-[a-z0-9]+`));
      const metric = query.query.startsWith('histogram_quantile') ? 'p99' : 'success-rate';
      const samples = name ? values[name]?.[metric] : undefined;
      if (!samples) return [];
      const series: MetricSeries = {
        labels: {},
        points: samples.map((v, i) => [NOW.getTime() / 1000 - (samples.length - i) * 60, v]),
      };
      return [series];
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

function context(parts: Partial<SkillContext> = {}): SkillContext {
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
    limits: DEFAULT_LIMITS,
    ...parts,
  };
}

const around = (centre: number, spread: number, n = 20): number[] =>
  Array.from({ length: n }, (_, i) => centre + ((i % 5) - 2) * spread);

function table(result: SkillResult): TableSection {
  const found = result.sections.find((s): s is TableSection => s.type === 'table');
  if (!found) throw new Error('no table');
  return found;
}

async function failure(promise: Promise<unknown>): Promise<WheelhouseError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof WheelhouseError) return e;
    throw e;
  }
  throw new Error('expected a WheelhouseError');
}

const ask = { baseline: 'deploy/model-a', candidate: 'deploy/model-b', namespace: 'shop', last: '1h' };

describe('workload-compare grammar', () => {
  const registry = new SkillRegistry([workloadCompare]);

  it('reads baseline, candidate, namespace, window and analysis', () => {
    expect(
      parseCommand('/wh compare deploy/a deploy/b -n shop --last 1h --analysis "p99<300ms"', registry),
    ).toMatchObject({
      kind: 'skill',
      input: {
        baseline: 'deploy/a',
        candidate: 'deploy/b',
        namespace: 'shop',
        last: '1h',
        analysis: 'p99<300ms',
      },
    });
  });

  it('refuses anything but Deployments', () => {
    expect(() => parseCommand('/wh compare sts/a deploy/b -n shop', registry)).toThrow(/deploy\/NAME/);
  });
});

describe('workload-compare', () => {
  it('fails a candidate with 8% errors against 0.5% on the baseline, naming both, with a chart per metric', async () => {
    const metrics = fakeMetrics({
      'model-a': { 'success-rate': around(0.995, 0.001), p99: around(0.25, 0.01) },
      'model-b': { 'success-rate': around(0.92, 0.002), p99: around(0.25, 0.01) },
    });
    const charts = fakeCharts();
    const kube = fakeKube();
    const result = await workloadCompare.run(ask, context({ metrics, charts, kube }));

    expect(kube.asked.map((r) => r.name).sort()).toEqual(['model-a', 'model-b']);
    expect(result.tone).toBe('error');
    expect(result.summary).toBe(
      'deploy/model-b vs deploy/model-a in shop over the last 1h: fail, success-rate: deploy/model-b 92% is worse than deploy/model-a 99.5% (p=2.9e-8, beyond tolerance 0.5%).',
    );
    // 1 h in at most 60 samples: a step of 60 s, each rate over 60 s; per metric one query per side.
    expect(metrics.queries).toHaveLength(4);
    for (const q of metrics.queries) {
      expect(q.stepSeconds).toBe(60);
      expect(q.end).toEqual(NOW);
      expect(q.start).toEqual(new Date(NOW.getTime() - 3600_000));
      expect(q.query).toContain('[60s]');
      expect(q.query).toContain('namespace="shop"');
    }
    expect(table(result).rows.map((r) => r.slice(0, 4))).toEqual([
      ['success-rate (critical)', 'fail', '99.5%', '92%'],
      ['p99', 'pass', '250 ms', '250 ms'],
    ]);
    const chartSections = result.sections.filter((s): s is ChartSection => s.type === 'chart');
    expect(chartSections.map((c) => c.attachment)).toEqual([
      'compare-shop-model-a-model-b-success-rate.png',
      'compare-shop-model-a-model-b-p99.png',
    ]);
    expect(charts.specs.map((s) => s.series.map((x) => x.name))).toEqual([
      ['deploy/model-a', 'deploy/model-b'],
      ['deploy/model-a', 'deploy/model-b'],
    ]);
    expect(charts.specs[0]?.unit).toBe('ratio');
    expect(result.attachments?.map((a) => [a.name, a.mimeType])).toEqual([
      ['compare-shop-model-a-model-b-success-rate.png', 'image/png'],
      ['compare-shop-model-a-model-b-p99.png', 'image/png'],
    ]);
  });

  it('passes two versions with the same distribution', async () => {
    const same = { 'success-rate': around(0.995, 0.001), p99: around(0.25, 0.01) };
    const result = await workloadCompare.run(
      ask,
      context({ metrics: fakeMetrics({ 'model-a': same, 'model-b': same }) }),
    );
    expect(result.tone).toBe('success');
    expect(result.summary).toContain(': pass, no metric worse (success-rate, p99).');
  });

  it('fails a candidate that breaks a threshold even when the baseline is as slow', async () => {
    const slow = { 'success-rate': around(0.995, 0.001), p99: around(0.4, 0.01) };
    const result = await workloadCompare.run(
      { ...ask, analysis: 'p99<300ms' },
      context({ metrics: fakeMetrics({ 'model-a': slow, 'model-b': slow }) }),
    );
    expect(result.summary).toContain('fail, p99: deploy/model-b 400 ms breaks < 300 ms.');
  });

  it('is inconclusive when the candidate has no data, never a pass', async () => {
    const result = await workloadCompare.run(
      ask,
      context({
        metrics: fakeMetrics({
          'model-a': { 'success-rate': around(0.995, 0.001), p99: around(0.25, 0.01) },
        }),
      }),
    );
    expect(result.tone).toBe('warning');
    expect(result.summary).toContain('inconclusive, success-rate: no data for deploy/model-b (no traffic?)');
    // Only the baseline is drawn.
    expect(result.attachments).toHaveLength(2);
  });

  it('refuses a missing Deployment, one Deployment twice, a short window and no Prometheus', async () => {
    const metrics = fakeMetrics({});
    expect(
      (await failure(workloadCompare.run({ ...ask, candidate: 'deploy/nope' }, context({ metrics })))).code,
    ).toBe('NOT_FOUND');
    expect(
      (await failure(workloadCompare.run({ ...ask, candidate: 'deploy/model-a' }, context({ metrics }))))
        .code,
    ).toBe('INVALID_INPUT');
    expect((await failure(workloadCompare.run({ ...ask, last: '30s' }, context({ metrics })))).code).toBe(
      'INVALID_INPUT',
    );
    expect(
      (await failure(workloadCompare.run({ ...ask, analysis: 'latency' }, context({ metrics })))).message,
    ).toContain('I cannot read the analysis "latency"');
    expect((await failure(workloadCompare.run(ask, context()))).code).toBe('SOURCE_NOT_CONFIGURED');
    expect(metrics.queries).toHaveLength(0);
  });

  it('takes at most 60 samples per side, never closer than 15 s', () => {
    expect(compareStep(60)).toBe(15);
    expect(compareStep(3600)).toBe(60);
    expect(compareStep(6 * 3600)).toBe(360);
  });
});
