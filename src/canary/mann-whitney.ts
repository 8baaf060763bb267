/**
 * The Mann-Whitney U test (Wilcoxon rank-sum), as Kayenta's judge uses it to compare a canary's
 * samples with the baseline's: no assumption of normality, robust to outliers, and it works on the
 * few points one analysis interval yields. Normal approximation with tie and continuity correction
 * (what SciPy's `mannwhitneyu(method="asymptotic")` computes), so results can be checked there.
 */
export interface MannWhitneyResult {
  /** U of the first sample: how often a value of `a` beats one of `b` (ties count half). */
  u: number;
  /** Standard score of U (0 when every value ties). */
  z: number;
  /** One-sided p-value for "a tends to be greater than b". */
  pGreater: number;
  /** One-sided p-value for "a tends to be less than b". */
  pLess: number;
  /** Two-sided p-value. */
  pTwoSided: number;
}

/** Ranks with ties given their average rank; also the tie correction term Σ(t³ − t). */
function rank(values: readonly number[]): { ranks: number[]; ties: number } {
  const order = values.map((v, i) => ({ v, i })).sort((x, y) => x.v - y.v);
  const ranks = new Array<number>(values.length).fill(0);
  let ties = 0;
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && order[end + 1]?.v === order[start]?.v) end++;
    const average = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) {
      const entry = order[k];
      if (entry) ranks[entry.i] = average;
    }
    const t = end - start + 1;
    ties += t ** 3 - t;
    start = end + 1;
  }
  return { ranks, ties };
}

/** Compares two independent samples; both must hold at least one finite value. */
export function mannWhitney(a: readonly number[], b: readonly number[]): MannWhitneyResult {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) throw new RangeError('mannWhitney needs two non-empty samples');
  const { ranks, ties } = rank([...a, ...b]);
  const r1 = ranks.slice(0, n1).reduce((s, r) => s + r, 0);
  const u = r1 - (n1 * (n1 + 1)) / 2;
  const n = n1 + n2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - ties / (n * (n - 1)));
  if (!(variance > 0)) return { u, z: 0, pGreater: 1, pLess: 1, pTwoSided: 1 };
  const sd = Math.sqrt(variance);
  const zGreater = (u - mean - 0.5) / sd;
  const zLess = (u - mean + 0.5) / sd;
  const pGreater = 1 - normalCdf(zGreater);
  const pLess = normalCdf(zLess);
  const z = (u - mean) / sd;
  const zTwo = (Math.abs(u - mean) - 0.5) / sd;
  return { u, z, pGreater, pLess, pTwoSided: Math.min(1, 2 * (1 - normalCdf(zTwo))) };
}

/** Φ(x), via the complementary error function (Numerical Recipes' erfc, |error| < 1.2e-7). */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Median of a non-empty sample. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid] ?? Number.NaN;
  return sorted.length % 2 ? upper : ((sorted[mid - 1] ?? upper) + upper) / 2;
}
