import { z } from 'zod';
import { WheelhouseError } from '../errors.ts';
import { escapeRegex, formatMetricValue, type MetricUnit, promString } from '../sources/metric-templates.ts';
import { mannWhitney, median } from './mann-whitney.ts';

/**
 * What a canary is judged on: metrics, each with an optional threshold on the canary and a
 * comparison of canary against stable (Mann-Whitney U with a tolerance, as Kayenta does).
 */

/** Built-in metric kinds, queried per track from common HTTP instrumentation. */
export const ANALYSIS_METRICS = ['success-rate', 'error-rate', 'p99', 'p95', 'error-count'] as const;
export type AnalysisMetricName = (typeof ANALYSIS_METRICS)[number];

/** One metric of an analysis; plain data, stored with the run. */
export const metricSpecSchema = z.object({
  /** What the user wrote, e.g. "success-rate" or a custom metric's name. */
  name: z.string(),
  /** A built-in query, or `custom` with `query`. */
  kind: z.enum([...ANALYSIS_METRICS, 'custom']),
  /** PromQL of a custom metric; `{{pods}}` becomes the track's label matchers. */
  query: z.string().optional(),
  unit: z.string(),
  /** Which way is bad: latency and errors up, success rate down. */
  worse: z.enum(['higher', 'lower']),
  /** The canary's value must satisfy `op value` (value in base units: ratio, seconds, count). */
  threshold: z.object({ op: z.enum(['<', '<=', '>', '>=']), value: z.number() }).optional(),
  /** A failing critical metric fails the run at once. */
  critical: z.boolean(),
  /** How much worse than stable the canary may be before a significant difference fails it. */
  tolerance: z.object({ kind: z.enum(['relative', 'absolute']), value: z.number().min(0) }),
});
export type MetricSpec = z.infer<typeof metricSpecSchema>;

/** A custom metric from the config: a name users write in `--analysis`. */
export interface CustomMetric {
  query: string;
  unit?: string | undefined;
  worse?: 'higher' | 'lower' | undefined;
}

const BUILT_IN: Record<AnalysisMetricName, Omit<MetricSpec, 'name' | 'threshold'>> = {
  'success-rate': {
    kind: 'success-rate',
    unit: 'ratio',
    worse: 'lower',
    critical: true,
    tolerance: { kind: 'absolute', value: 0.005 },
  },
  'error-rate': {
    kind: 'error-rate',
    unit: 'ratio',
    worse: 'higher',
    critical: true,
    tolerance: { kind: 'absolute', value: 0.005 },
  },
  p99: {
    kind: 'p99',
    unit: 'seconds',
    worse: 'higher',
    critical: false,
    tolerance: { kind: 'relative', value: 0.1 },
  },
  p95: {
    kind: 'p95',
    unit: 'seconds',
    worse: 'higher',
    critical: false,
    tolerance: { kind: 'relative', value: 0.1 },
  },
  'error-count': {
    kind: 'error-count',
    unit: 'count',
    worse: 'higher',
    critical: false,
    tolerance: { kind: 'relative', value: 0.1 },
  },
};

const ITEM = /^(!?)([a-z][a-z0-9-]*)\s*(?:(<=|>=|<|>)\s*([0-9]+(?:\.[0-9]+)?)\s*(%|ms|s)?)?\s*(!?)$/i;

/**
 * Parses `success-rate>=99%, p99<300ms, error-count<=5, checkout-saturation<0.8!`: a comma-separated
 * list of metrics with an optional threshold (`%` is a share, `ms`/`s` a duration); a `!` marks a
 * metric critical (success and error rates are critical by default). INVALID_INPUT names the bad part.
 */
export function parseAnalysis(
  text: string,
  custom: Readonly<Record<string, CustomMetric>> = {},
): MetricSpec[] {
  const specs: MetricSpec[] = [];
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = ITEM.exec(part);
    if (!m) throw analysisError(part, custom);
    const [, bang1, rawName = '', op, number, suffix, bang2] = m;
    const name = rawName.toLowerCase();
    const builtIn = (ANALYSIS_METRICS as readonly string[]).includes(name)
      ? BUILT_IN[name as AnalysisMetricName]
      : undefined;
    const mine = custom[name];
    if (!builtIn && !mine) throw analysisError(part, custom);
    const base: Omit<MetricSpec, 'name' | 'threshold'> = builtIn ?? {
      kind: 'custom',
      query: mine?.query,
      unit: mine?.unit ?? '',
      worse: mine?.worse ?? 'higher',
      critical: false,
      tolerance: { kind: 'relative', value: 0.1 },
    };
    const threshold =
      op && number !== undefined
        ? { op: op as '<' | '<=' | '>' | '>=', value: toBase(Number(number), suffix?.toLowerCase()) }
        : undefined;
    specs.push({ ...base, name, threshold, critical: base.critical || bang1 === '!' || bang2 === '!' });
  }
  if (specs.length === 0) throw analysisError(text, custom);
  return specs;
}

function toBase(value: number, suffix: string | undefined): number {
  if (suffix === '%') return value / 100;
  if (suffix === 'ms') return value / 1000;
  return value;
}

function analysisError(part: string, custom: Readonly<Record<string, CustomMetric>>): WheelhouseError {
  const known = [...ANALYSIS_METRICS, ...Object.keys(custom)].join(', ');
  return new WheelhouseError('INVALID_INPUT', `I cannot read the analysis "${part}".`, {
    hint: `Write metrics with optional thresholds, e.g. --analysis "success-rate>=99%, p99<300ms"; metrics: ${known}.`,
  });
}

/** Which pods a track is: namespace and pod-name pattern (see podPatternOf). */
export interface TrackPods {
  namespace: string;
  /** The Deployment whose pods these are: `NAME-<rs hash>-<suffix>`. */
  deployment: string;
}

/** Label matchers of a Deployment's pods, as metric templates write them. */
export function trackMatchers(pods: TrackPods): string {
  return `namespace=${promString(pods.namespace)},pod=~${promString(`^${escapeRegex(pods.deployment)}-[a-z0-9]+-[a-z0-9]+$`)}`;
}

/** The PromQL of a metric for one track, rates over `window` (e.g. "30s"). */
export function metricQuery(spec: MetricSpec, pods: TrackPods, window: string): string {
  const sel = trackMatchers(pods);
  const requests = `sum(rate(http_requests_total{${sel}}[${window}]))`;
  const errors = `sum(rate(http_requests_total{${sel},code=~"5.."}[${window}]))`;
  switch (spec.kind) {
    case 'success-rate':
      return `sum(rate(http_requests_total{${sel},code!~"5.."}[${window}])) / ${requests}`;
    case 'error-rate':
      // No 5xx series at all means no errors, not no data; no requests (0/0) stays no data.
      return `(${errors} or vector(0)) / ${requests}`;
    case 'p99':
    case 'p95':
      return `histogram_quantile(${spec.kind === 'p99' ? '0.99' : '0.95'}, sum by (le) (rate(http_request_duration_seconds_bucket{${sel}}[${window}])))`;
    case 'error-count':
      return `sum(increase(http_requests_total{${sel},code=~"5.."}[${window}]))`;
    case 'custom':
      return (spec.query ?? '').replaceAll('{{pods}}', sel);
  }
}

export type Verdict = 'pass' | 'fail' | 'inconclusive';

/** The judgement of one metric at one analysis, kept with the run and shown in chat. */
export const metricVerdictSchema = z.object({
  name: z.string(),
  verdict: z.enum(['pass', 'fail', 'inconclusive']),
  critical: z.boolean(),
  /** Median of the canary's and the stable's samples (null when there were none). */
  canary: z.number().nullable(),
  stable: z.number().nullable(),
  samples: z.object({ canary: z.number(), stable: z.number() }),
  /** One-sided p-value of "the canary is worse" (null when not compared). */
  pValue: z.number().nullable(),
  reason: z.string(),
  unit: z.string(),
  threshold: z.string().optional(),
});
export type MetricVerdict = z.infer<typeof metricVerdictSchema>;

export interface JudgeOptions {
  /** Confidence of the comparison. @default 0.95 (p < 0.05) */
  confidence?: number | undefined;
  /** Fewer samples on either side skip the comparison. @default 3 */
  minSamples?: number | undefined;
  /** What the reasons call the two sides, e.g. deploy/b and deploy/a in a comparison. @default canary, stable */
  names?: { canary: string; stable: string } | undefined;
}

/**
 * Judges one metric: no canary data is inconclusive (never a pass); a broken threshold fails; a
 * canary significantly worse than stable (Mann-Whitney, one-sided) by more than the tolerance fails;
 * otherwise pass. Without a threshold the comparison is needed for a pass.
 */
export function judgeMetric(
  spec: MetricSpec,
  canarySamples: readonly number[],
  stableSamples: readonly number[],
  options: JudgeOptions = {},
): MetricVerdict {
  const canary = canarySamples.filter(Number.isFinite);
  const stable = stableSamples.filter(Number.isFinite);
  const minSamples = options.minSamples ?? 3;
  const alpha = 1 - (options.confidence ?? 0.95);
  const show = (v: number) => formatMetricValue(v, spec.unit as MetricUnit);
  const names = options.names ?? { canary: 'canary', stable: 'stable' };
  const threshold = spec.threshold ? `${spec.threshold.op} ${show(spec.threshold.value)}` : undefined;
  const base = {
    name: spec.name,
    critical: spec.critical,
    canary: canary.length ? median(canary) : null,
    stable: stable.length ? median(stable) : null,
    samples: { canary: canary.length, stable: stable.length },
    unit: spec.unit,
    threshold,
  };
  if (canary.length === 0) {
    return {
      ...base,
      verdict: 'inconclusive',
      pValue: null,
      reason: `no data for ${options.names ? names.canary : 'the canary'} (no traffic?)`,
    };
  }
  const value = median(canary);
  if (spec.threshold && !holds(value, spec.threshold)) {
    return {
      ...base,
      verdict: 'fail',
      pValue: null,
      reason: `${names.canary} ${show(value)} breaks ${threshold}`,
    };
  }
  if (canary.length < minSamples || stable.length < minSamples) {
    if (spec.threshold) {
      return {
        ...base,
        verdict: 'pass',
        pValue: null,
        reason: `within ${threshold} (too few samples to compare)`,
      };
    }
    return {
      ...base,
      verdict: 'inconclusive',
      pValue: null,
      reason: `too few samples to compare with ${names.stable}`,
    };
  }
  const test = mannWhitney(canary, stable);
  const pValue = spec.worse === 'higher' ? test.pGreater : test.pLess;
  const stableValue = median(stable);
  const excess = spec.worse === 'higher' ? value - stableValue : stableValue - value;
  const allowed =
    spec.tolerance.kind === 'absolute' ? spec.tolerance.value : Math.abs(stableValue) * spec.tolerance.value;
  if (pValue < alpha && excess > allowed) {
    return {
      ...base,
      verdict: 'fail',
      pValue,
      reason: `${names.canary} ${show(value)} is worse than ${names.stable} ${show(stableValue)} (p=${pValue.toPrecision(2)}, beyond tolerance ${spec.tolerance.kind === 'absolute' ? show(spec.tolerance.value) : `${spec.tolerance.value * 100}%`})`,
    };
  }
  return {
    ...base,
    verdict: 'pass',
    pValue,
    reason: `${names.canary} ${show(value)} vs ${names.stable} ${show(stableValue)}${threshold ? `, within ${threshold}` : ''}`,
  };
}

function holds(value: number, t: NonNullable<MetricSpec['threshold']>): boolean {
  switch (t.op) {
    case '<':
      return value < t.value;
    case '<=':
      return value <= t.value;
    case '>':
      return value > t.value;
    case '>=':
      return value >= t.value;
  }
}

/** What one analysis means for the run. */
export type AnalysisOutcome =
  /** Every metric passed. */
  | { decision: 'pass' }
  /** A critical metric failed, or failures reached the limit: roll back. */
  | { decision: 'fail'; reason: string }
  /** A non-critical metric failed, below the limit: look again next interval. */
  | { decision: 'retry'; reason: string }
  /** Missing data: pause and ask (never promote on it). */
  | { decision: 'inconclusive'; reason: string };

/**
 * Combines the verdicts: a failing critical metric fails the run outright; other failures count
 * towards `failureLimit` consecutive failed analyses; any inconclusive metric pauses the run.
 */
export function decideAnalysis(
  verdicts: readonly MetricVerdict[],
  failedBefore: number,
  failureLimit: number,
): AnalysisOutcome {
  const failed = verdicts.filter((v) => v.verdict === 'fail');
  const critical = failed.find((v) => v.critical);
  if (critical) return { decision: 'fail', reason: `${critical.name}: ${critical.reason}` };
  const first = failed[0];
  if (first) {
    const reason = `${first.name}: ${first.reason}`;
    return failedBefore + 1 >= failureLimit
      ? { decision: 'fail', reason: `${reason} (${failedBefore + 1} failed analyses)` }
      : { decision: 'retry', reason };
  }
  const unknown = verdicts.find((v) => v.verdict === 'inconclusive');
  if (unknown) return { decision: 'inconclusive', reason: `${unknown.name}: ${unknown.reason}` };
  return { decision: 'pass' };
}

/** The samples of both tracks of a metric, as fetched for one analysis. */
export interface TrackSamples {
  canary: number[];
  stable: number[];
}

/** Reads per-track samples; a source error is "no data" for that analysis, with the reason. */
export type SampleReader = (spec: MetricSpec, track: 'canary' | 'stable') => Promise<number[]>;

/** Judges every metric of an analysis with the reader's samples. */
export async function analyze(
  specs: readonly MetricSpec[],
  read: SampleReader,
  options: JudgeOptions = {},
): Promise<MetricVerdict[]> {
  return Promise.all(
    specs.map(async (spec) => {
      const [canary, stable] = await Promise.all([read(spec, 'canary'), read(spec, 'stable')]);
      return judgeMetric(spec, canary, stable, options);
    }),
  );
}
