import { describe, expect, it } from 'vitest';
import { decideAnalysis, judgeMetric, metricQuery, parseAnalysis } from '../../../src/canary/analysis.ts';
import { mannWhitney, median, normalCdf } from '../../../src/canary/mann-whitney.ts';

describe('Mann-Whitney U', () => {
  it('matches SciPy mannwhitneyu(method="asymptotic") on its documented example', () => {
    // scipy.stats.mannwhitneyu docs: males vs females, U = 17, asymptotic two-sided p = 0.11134688653314041
    const r = mannWhitney([19, 22, 16, 29, 24], [20, 11, 17, 12]);
    expect(r.u).toBe(17);
    expect(r.pTwoSided).toBeCloseTo(0.11134688653314041, 6);
  });

  it('computes one-sided p-values with continuity correction for separated samples', () => {
    // U = 0, mean 4.5, sd sqrt(5.25): z = (0 - 4.5 + 0.5) / 2.2913 = -1.7457 → p(less) = 0.04043
    const r = mannWhitney([1, 2, 3], [4, 5, 6]);
    expect(r.u).toBe(0);
    expect(r.pLess).toBeCloseTo(0.04043, 4);
    expect(r.pGreater).toBeGreaterThan(0.95);
    expect(r.pTwoSided).toBeCloseTo(0.08086, 4);
  });

  it('corrects for ties (constant series from a deterministic exporter) and treats all-equal as no difference', () => {
    const separated = mannWhitney(
      [0.08, 0.08, 0.08, 0.08, 0.08, 0.08],
      [0.005, 0.005, 0.005, 0.005, 0.005, 0.005],
    );
    // variance 3 × (13 − 420/132) = 29.4545; z = (36 − 18 − 0.5)/5.4272 = 3.2245 → p = 6.3e-4
    expect(separated.pGreater).toBeCloseTo(6.31e-4, 5);
    const same = mannWhitney([1, 1, 1], [1, 1, 1]);
    expect(same).toMatchObject({ z: 0, pGreater: 1, pLess: 1, pTwoSided: 1 });
  });

  it('has a standard normal CDF accurate to 1e-6 at known points', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959963985)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-2.326347874)).toBeCloseTo(0.01, 6);
    expect(median([3, 1, 2, 10])).toBe(2.5);
  });
});

describe('analysis text', () => {
  it('reads thresholds in %, ms and s, marks rates critical and ! critical', () => {
    const specs = parseAnalysis('success-rate>=99%, p99<300ms, error-count<=5!, p95 < 1.5s');
    expect(specs.map((s) => [s.name, s.threshold?.op, s.threshold?.value, s.critical])).toEqual([
      ['success-rate', '>=', 0.99, true],
      ['p99', '<', 0.3, false],
      ['error-count', '<=', 5, true],
      ['p95', '<', 1.5, false],
    ]);
  });

  it('knows custom metrics from the config only, and says which names exist', () => {
    const [spec] = parseAnalysis('queue-depth<100', { 'queue-depth': { query: 'max(queue{ {{pods}} })' } });
    expect(spec?.kind).toBe('custom');
    expect(metricQuery(spec!, { namespace: 'shop', deployment: 'checkout' }, '1m')).toBe(
      'max(queue{ namespace="shop",pod=~"^checkout-[a-z0-9]+-[a-z0-9]+$" })',
    );
    expect(() => parseAnalysis('latency<3')).toThrow(/cannot read the analysis "latency<3"/);
    expect(() => parseAnalysis('success-rate=>99%')).toThrow(/INVALID|cannot read/);
  });

  it('queries a track by its own pod names, so stable never matches canary pods', () => {
    const [spec] = parseAnalysis('error-rate');
    const q = metricQuery(spec!, { namespace: 'shop', deployment: 'checkout-canary' }, '30s');
    expect(q).toContain('pod=~"^checkout-canary-[a-z0-9]+-[a-z0-9]+$"');
    expect(q).toContain('[30s]');
    const stablePattern = /^checkout-[a-z0-9]+-[a-z0-9]+$/;
    expect(stablePattern.test('checkout-canary-7d9f8-abcde')).toBe(false);
    expect(stablePattern.test('checkout-7d9f8c-abcde')).toBe(true);
  });
});

describe('judge', () => {
  const [successRate] = parseAnalysis('success-rate>=99%');
  const [p99] = parseAnalysis('p99');
  const stable = [0.995, 0.995, 0.995, 0.995, 0.995];

  it('fails a canary with 8% errors against 0.5% on stable (threshold), as critical', () => {
    const v = judgeMetric(successRate!, [0.92, 0.92, 0.92, 0.92, 0.92], stable);
    expect(v).toMatchObject({ verdict: 'fail', critical: true, canary: 0.92, stable: 0.995 });
    expect(v.reason).toMatch(/breaks >= 99%/);
  });

  it('fails a canary significantly worse than stable beyond the tolerance even within the threshold', () => {
    const [loose] = parseAnalysis('success-rate>=90%');
    const v = judgeMetric(loose!, [0.975, 0.976, 0.974, 0.975, 0.975], stable);
    expect(v.verdict).toBe('fail');
    expect(v.pValue).toBeLessThan(0.05);
  });

  it('passes a difference within the tolerance, and an equal canary', () => {
    expect(judgeMetric(successRate!, [0.993, 0.993, 0.993, 0.993], stable).verdict).toBe('pass');
    expect(judgeMetric(p99!, [0.25, 0.25, 0.26, 0.25], [0.25, 0.25, 0.25, 0.25]).verdict).toBe('pass');
    // p99 +40% with 5 separated samples each: significant and beyond 10%
    expect(judgeMetric(p99!, [0.35, 0.36, 0.35, 0.37, 0.35], [0.25, 0.25, 0.26, 0.25, 0.25]).verdict).toBe(
      'fail',
    );
  });

  it('never passes on missing data: no canary samples, or NaN from 0/0, is inconclusive', () => {
    expect(judgeMetric(successRate!, [], stable).verdict).toBe('inconclusive');
    expect(judgeMetric(successRate!, [Number.NaN, Number.NaN], stable).verdict).toBe('inconclusive');
    expect(judgeMetric(p99!, [0.2], []).verdict).toBe('inconclusive');
  });

  it('rolls back on a critical failure at once, on others after the failure limit, pauses on no data', () => {
    const v = (name: string, verdict: 'pass' | 'fail' | 'inconclusive', critical = false) => ({
      name,
      verdict,
      critical,
      canary: null,
      stable: null,
      samples: { canary: 0, stable: 0 },
      pValue: null,
      reason: verdict,
      unit: '',
    });
    expect(decideAnalysis([v('success-rate', 'fail', true)], 0, 3).decision).toBe('fail');
    expect(decideAnalysis([v('p99', 'fail')], 0, 2).decision).toBe('retry');
    expect(decideAnalysis([v('p99', 'fail')], 1, 2).decision).toBe('fail');
    expect(decideAnalysis([v('p99', 'pass'), v('success-rate', 'inconclusive', true)], 0, 2).decision).toBe(
      'inconclusive',
    );
    expect(decideAnalysis([v('p99', 'pass'), v('success-rate', 'pass', true)], 0, 2).decision).toBe('pass');
  });
});
