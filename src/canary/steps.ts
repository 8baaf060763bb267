/**
 * Step planning for the built-in engine: the canary's share of traffic is its share of the pods
 * the Service selects, so each step sets the canary's replicas and scales stable so that the total
 * stays what stable had before the run.
 */
export interface StepPlan {
  /** Percent of traffic asked for, e.g. 25. */
  weight: number;
  canary: number;
  stable: number;
  /** The share the pod counts really give, e.g. 33 for 1 of 3. */
  actual: number;
}

/**
 * Parses "10,25,50,100": ascending percentages in (0, 100]; 100 is added when missing. The last
 * step, 100, is the promotion itself (stable takes the new version), so at least one step below
 * 100 must come before it.
 */
export function parseSteps(text: string): number[] {
  const steps = text
    .split(',')
    .map((s) => s.trim().replace(/%$/, ''))
    .filter(Boolean)
    .map(Number);
  if (steps.length === 0 || steps.some((s) => !Number.isInteger(s) || s <= 0 || s > 100)) {
    throw new RangeError(`steps must be whole percentages in 1..100, e.g. "10,25,50,100" (got "${text}")`);
  }
  for (let i = 1; i < steps.length; i++) {
    if ((steps[i] ?? 0) <= (steps[i - 1] ?? 0)) throw new RangeError(`steps must ascend (got "${text}")`);
  }
  const all = steps.at(-1) === 100 ? steps : [...steps, 100];
  if (all.length < 2) throw new RangeError('steps need at least one share below 100, e.g. "25,100"');
  return all;
}

/**
 * Pods per step for `total` replicas: the canary gets round(total × weight), at least 1 (a step
 * with no canary pod would analyze nothing) and all at 100; stable gets the rest.
 */
export function planSteps(total: number, weights: readonly number[]): StepPlan[] {
  const capacity = Math.max(1, total);
  return weights.map((weight) => {
    const canary =
      weight >= 100 ? capacity : Math.min(capacity, Math.max(1, Math.round((capacity * weight) / 100)));
    const stable = capacity - canary;
    return { weight, canary, stable, actual: Math.round((canary / capacity) * 100) };
  });
}

/** A text progress bar, e.g. "▰▰▰▱▱▱▱▱▱▱ 25%". */
export function progressBar(percent: number, width = 10): string {
  const filled = Math.max(0, Math.min(width, Math.round((percent / 100) * width)));
  return `${'▰'.repeat(filled)}${'▱'.repeat(width - filled)} ${Math.round(percent)}%`;
}
