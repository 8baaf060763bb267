import { z } from 'zod';
import {
  judgeMetric,
  type MetricSpec,
  type MetricVerdict,
  metricQuery,
  parseAnalysis,
} from '../../src/canary/analysis.ts';
import { WheelhouseError } from '../../src/errors.ts';
import type { WorkloadRef } from '../../src/kube/types.ts';
import { formatWorkloadRef, parseWorkloadRef } from '../../src/kube/workload-ref.ts';
import type { SkillContext } from '../../src/skills/context.ts';
import { defineSkill } from '../../src/skills/define-skill.ts';
import type { Attachment, ChartSection, Section, SkillResult } from '../../src/skills/result.ts';
import { dnsLabel, duration, formatDuration } from '../../src/skills/schema.ts';
import { formatMetricValue, type MetricUnit } from '../../src/sources/metric-templates.ts';

/** What is compared when the command names no metrics: the canary's built-in success rate and p99. */
export const DEFAULT_COMPARE_ANALYSIS = 'success-rate, p99';
/** Samples per side at most: enough for the test, few enough for one chart. */
export const MAX_SAMPLES = 60;
/** Never a finer step than a common scrape interval, never a rate window under a minute. */
const MIN_STEP_SECONDS = 15;
const MIN_RATE_WINDOW_SECONDS = 60;
const MIN_RANGE_SECONDS = 60;

const deployRef = z
  .string()
  .min(1)
  .max(300)
  .regex(/^(deploy|deployment|deployments)\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be deploy/NAME');

const input = z.object({
  baseline: deployRef.describe('The version compared against (the reference), e.g. "deploy/checkout"'),
  candidate: deployRef.describe('The version judged against the baseline, e.g. "deploy/checkout-v2"'),
  namespace: dnsLabel.describe('Namespace of both Deployments, e.g. "shop"'),
  last: duration.prefault('1h').describe('The window compared, back from now, e.g. "1h" or "30m"'),
  analysis: z
    .string()
    .max(500)
    .optional()
    .describe(
      `Metrics with optional thresholds on the candidate, as for canaries, e.g. "success-rate>=99%, p99<300ms"; default "${DEFAULT_COMPARE_ANALYSIS}"`,
    ),
});

type Input = z.output<typeof input>;

export const workloadCompare = defineSkill({
  name: 'workload-compare',
  title: 'Compare two versions',
  description:
    "Compares two Deployments' metrics (two versions of one service, e.g. two model servers) over a window with the " +
    "canary judge: per metric the candidate's samples against the baseline's (Mann-Whitney U with a tolerance) and " +
    'optional thresholds, giving pass, fail or inconclusive, with a chart of both. ' +
    'Use when asked whether version B is better or worse than A, for an A/B comparison, or to check a release after the fact. ' +
    'Not for one workload over time (use metrics-query), not for releasing a version gradually (use canary-start).',
  input,
  risk: 'read',
  verbs: ['get'],
  resources: ['deployments'],
  grammar: {
    command: 'compare',
    positional: ['baseline', 'candidate'],
    short: { n: 'namespace' },
  },
  examples: [
    {
      utterance: 'is checkout-v2 worse than checkout over the last hour?',
      command: '/wh compare deploy/checkout deploy/checkout-v2 -n shop --last 1h',
      input: { baseline: 'deploy/checkout', candidate: 'deploy/checkout-v2', namespace: 'shop', last: '1h' },
    },
    {
      utterance: 'compare the error rate and p99 of model-a and model-b in ml for the last 6 hours',
      command: '/wh compare deploy/model-a deploy/model-b -n ml --last 6h --analysis "error-rate, p99<500ms"',
      input: {
        baseline: 'deploy/model-a',
        candidate: 'deploy/model-b',
        namespace: 'ml',
        last: '6h',
        analysis: 'error-rate, p99<500ms',
      },
    },
  ],
  summarize: (i) =>
    `compare ${i.candidate} with ${i.baseline} in ${i.namespace} over the last ${formatDuration(i.last)}`,
  run: compareWorkloads,
});

/** The points of one side of one metric: for the chart (with time) and for the judge. */
interface Side {
  name: string;
  series: Array<{ name: string; points: Array<[number, number]> }>;
  values: number[];
}

async function compareWorkloads(input: Input, ctx: SkillContext): Promise<SkillResult> {
  const metrics = ctx.metrics;
  if (!metrics) {
    throw new WheelhouseError('SOURCE_NOT_CONFIGURED', 'Metrics are not configured.', {
      hint: 'Set `prometheus.url` in the config file (or the env WH_PROMETHEUS_URL) to your Prometheus.',
    });
  }
  const rangeSeconds = checkRange(input.last, ctx.limits.maxMetricsRangeSeconds);
  const baseline = parseWorkloadRef(input.baseline, input.namespace);
  const candidate = parseWorkloadRef(input.candidate, input.namespace);
  if (baseline.name === candidate.name) {
    throw new WheelhouseError('INVALID_INPUT', `Both sides are ${formatWorkloadRef(baseline)}.`, {
      hint: 'Name two Deployments, e.g. `/wh compare deploy/checkout deploy/checkout-v2 -n shop`.',
    });
  }
  const specs = parseAnalysis(input.analysis ?? DEFAULT_COMPARE_ANALYSIS);
  // Both must exist (as the asking user): a typo is NOT_FOUND, not "no data".
  await Promise.all([ctx.kube.getWorkload(baseline), ctx.kube.getWorkload(candidate)]);

  const end = ctx.now();
  const start = new Date(end.getTime() - rangeSeconds * 1000);
  const stepSeconds = compareStep(rangeSeconds);
  const window = `${Math.max(MIN_RATE_WINDOW_SECONDS, stepSeconds)}s`;
  const names = { canary: formatWorkloadRef(candidate), stable: formatWorkloadRef(baseline) };
  const read = async (spec: MetricSpec, ref: WorkloadRef): Promise<Side> => {
    const raw = await metrics.rangeQuery({
      query: metricQuery(spec, { namespace: ref.namespace, deployment: ref.name }, window),
      start,
      end,
      stepSeconds,
      signal: ctx.signal,
    });
    const name = formatWorkloadRef(ref);
    const series = raw
      .map((s, i) => ({
        name: raw.length === 1 ? name : `${name} #${i + 1}`,
        points: s.points.filter(([, v]) => Number.isFinite(v)),
      }))
      .filter((s) => s.points.length > 0);
    return { name, series, values: series.flatMap((s) => s.points.map(([, v]) => v)) };
  };

  const compared = await Promise.all(
    specs.map(async (spec) => {
      const [a, b] = await Promise.all([read(spec, baseline), read(spec, candidate)]);
      return { spec, a, b, verdict: judgeMetric(spec, b.values, a.values, { names }) };
    }),
  );
  const verdicts = compared.map((c) => c.verdict);
  const outcome = overall(verdicts);

  const sections: Section[] = [
    {
      type: 'table',
      columns: ['METRIC', 'VERDICT', names.stable.toUpperCase(), names.canary.toUpperCase(), 'P', 'WHY'],
      rows: verdicts.map((v) => [
        `${v.name}${v.critical ? ' (critical)' : ''}`,
        v.verdict,
        show(v.stable, v.unit),
        show(v.canary, v.unit),
        v.pValue === null ? '—' : v.pValue.toPrecision(2),
        v.reason,
      ]),
      caption: `Medians of ${verdicts[0]?.samples.stable ?? 0} / ${verdicts[0]?.samples.canary ?? 0} samples every ${formatDuration(stepSeconds)} (rate window ${window}); the candidate fails where it is significantly worse (p < 0.05) beyond the tolerance, or breaks a threshold.`,
    },
  ];
  const attachments: Attachment[] = [];
  for (const { spec, a, b } of compared) {
    const series = [...a.series, ...b.series];
    if (series.length === 0) continue;
    const title = `${spec.name}: ${names.stable} vs ${names.canary} in ${input.namespace}`;
    const attachment =
      `compare-${input.namespace}-${baseline.name}-${candidate.name}-${spec.name}.png`.replace(
        /[^a-z0-9.-]+/g,
        '-',
      );
    const png = await ctx.charts.renderLineChart({
      title: `${title} · last ${formatDuration(rangeSeconds)}`,
      unit: spec.unit,
      series,
    });
    const chart: ChartSection = {
      type: 'chart',
      title,
      attachment,
      stats: series.map((s) => ({ series: s.name, ...statsOf(s.points), unit: spec.unit })),
    };
    sections.push(chart);
    attachments.push({ name: attachment, title, mimeType: 'image/png', content: png });
  }
  sections.push({
    type: 'text',
    text: compared
      .map(
        ({ spec }) =>
          `${spec.name}: ${metricQuery(spec, { namespace: input.namespace, deployment: '<name>' }, window)}`,
      )
      .join('\n'),
  });
  return {
    summary: headline(outcome, names, input.namespace, rangeSeconds, verdicts),
    tone: outcome.decision === 'pass' ? 'success' : outcome.decision === 'inconclusive' ? 'warning' : 'error',
    sections,
    ...(attachments.length ? { attachments } : {}),
  };
}

type Outcome = { decision: 'pass' } | { decision: 'fail' | 'inconclusive'; reason: string };

/** One window, so no retries: any failing metric (a critical one named first) fails; missing data is inconclusive. */
function overall(verdicts: readonly MetricVerdict[]): Outcome {
  const failed = verdicts.filter((v) => v.verdict === 'fail');
  const first = failed.find((v) => v.critical) ?? failed[0];
  if (first) return { decision: 'fail', reason: `${first.name}: ${first.reason}` };
  const unknown = verdicts.find((v) => v.verdict === 'inconclusive');
  if (unknown) return { decision: 'inconclusive', reason: `${unknown.name}: ${unknown.reason}` };
  return { decision: 'pass' };
}

function headline(
  outcome: Outcome,
  names: { canary: string; stable: string },
  namespace: string,
  rangeSeconds: number,
  verdicts: readonly MetricVerdict[],
): string {
  const what = `${names.canary} vs ${names.stable} in ${namespace} over the last ${formatDuration(rangeSeconds)}`;
  switch (outcome.decision) {
    case 'pass':
      return `${what}: pass, no metric worse (${verdicts.map((v) => v.name).join(', ')}).`;
    case 'inconclusive':
      return `${what}: inconclusive, ${outcome.reason}.`;
    default:
      return `${what}: fail, ${outcome.reason}.`;
  }
}

function show(value: number | null, unit: string): string {
  return value === null ? '—' : formatMetricValue(value, unit as MetricUnit);
}

function checkRange(seconds: number, maxSeconds: number): number {
  if (seconds < MIN_RANGE_SECONDS) {
    throw new WheelhouseError('INVALID_INPUT', `--last ${formatDuration(seconds)} is too short to compare.`, {
      hint: 'Use --last 1m or more, e.g. --last 30m.',
    });
  }
  if (seconds > maxSeconds) {
    throw new WheelhouseError(
      'INVALID_INPUT',
      `--last ${formatDuration(seconds)} is longer than the ${formatDuration(maxSeconds)} a query may cover.`,
      { hint: `Use --last ${formatDuration(maxSeconds)} or less (the limit is \`limits.maxMetricsRange\`).` },
    );
  }
  return seconds;
}

/** At most MAX_SAMPLES samples per side, never closer than 15 s. */
export function compareStep(rangeSeconds: number): number {
  return Math.max(MIN_STEP_SECONDS, Math.ceil(rangeSeconds / MAX_SAMPLES));
}

function statsOf(points: Array<[number, number]>): { min: number; avg: number; max: number; last: number } {
  const values = points.map(([, v]) => v);
  return {
    min: Math.min(...values),
    avg: values.reduce((s, v) => s + v, 0) / values.length,
    max: Math.max(...values),
    last: values.at(-1) ?? Number.NaN,
  };
}
