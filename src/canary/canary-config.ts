import { z } from 'zod';
import type { Approvers } from '../policy/policy-schema.ts';
import { parseDurationSeconds } from '../skills/schema.ts';
import { type CustomMetric, type MetricSpec, parseAnalysis } from './analysis.ts';
import { parseSteps } from './steps.ts';

const durationText = z.string().regex(/^\d+(s|m|h|d)$/, 'must be a duration like 30s, 1m or 1h');

/** How a canary runs when the command does not say: steps, interval, analysis, failures, gates. */
const runDefaults = z.object({
  /** Traffic shares in percent; the final 100 is the promotion. */
  steps: z.string().optional(),
  /** Time between analyses (and so the least time per step). */
  interval: durationText.optional(),
  /** e.g. "success-rate>=99%, p99<300ms". */
  analysis: z.string().optional(),
  /** Failed analyses of non-critical metrics in a row that roll back. */
  failureLimit: z.number().int().min(1).optional(),
  /** Shares that wait for an approver's Resume before they start; 100 = before promotion. */
  gates: z.array(z.number().int().min(1).max(100)).optional(),
});

/** The `canary` section of the config file. */
export const canaryConfigSchema = z
  .object({
    /** Defaults for every canary. */
    defaults: runDefaults.prefault({}),
    /** Per-workload defaults, first match wins (over `defaults`, under the command's flags). */
    workloads: z
      .array(runDefaults.extend({ namespace: z.string().min(1), name: z.string().min(1) }))
      .default([]),
    /** Custom metrics usable in `--analysis` by name; `{{pods}}` becomes the track's matchers. */
    metrics: z
      .record(
        z.string().regex(/^[a-z][a-z0-9-]*$/),
        z.object({
          query: z.string().min(1),
          unit: z.string().optional(),
          worse: z.enum(['higher', 'lower']).optional(),
        }),
      )
      .default({}),
    /** Rate window of the built-in queries. */
    rateWindow: durationText.default('1m'),
    /** Seconds between samples within one analysis. */
    sampleStep: durationText.default('10s'),
    /** How often runs are looked at. */
    tickInterval: durationText.default('5s'),
    /** Who may promote early or resume through a gate; default `policy.approvers.write`. */
    approvers: z
      .union([
        z.object({ group: z.string().min(1), quorum: z.number().int().min(1).default(1) }),
        z.object({ users: z.array(z.string().min(1)).min(1), quorum: z.number().int().min(1).default(1) }),
      ])
      .optional(),
    /**
     * How long a run stays with one Wheelhouse that stopped answering (crashed, killed, cut off):
     * after a leader failover the run moves on within this. The stepping Wheelhouse renews the lease
     * every third of it while it works, so it need not exceed `rolloutTimeout`; more than 0.
     */
    lease: durationText
      .refine((text) => (parseDurationSeconds(text) ?? 0) > 0, 'must be longer than 0s')
      .default('30s'),
    /** How long a step, promotion or rollback waits for its pods. */
    rolloutTimeout: durationText.default('2m'),
  })
  .prefault({});

export type CanaryConfig = z.output<typeof canaryConfigSchema>;

/** The settings of one run, resolved from flags, the workload's entry and the defaults. */
export interface RunSettings {
  steps: number[];
  intervalSeconds: number;
  analysis: MetricSpec[];
  failureLimit: number;
  gates: number[];
}

/** Flags > the workload's entry > `defaults` > built-in (10,25,50,100 every 1m, success-rate>=99%). */
export function resolveRunSettings(
  config: CanaryConfig,
  workload: { namespace: string; name: string },
  flags: { steps?: string | undefined; interval?: string | undefined; analysis?: string | undefined },
): RunSettings {
  const entry = config.workloads.find((w) => w.namespace === workload.namespace && w.name === workload.name);
  const steps = flags.steps ?? entry?.steps ?? config.defaults.steps ?? '10,25,50,100';
  const interval = flags.interval ?? entry?.interval ?? config.defaults.interval ?? '1m';
  const analysis = flags.analysis ?? entry?.analysis ?? config.defaults.analysis ?? 'success-rate>=99%';
  const intervalSeconds = parseDurationSeconds(interval);
  if (intervalSeconds === undefined || intervalSeconds <= 0)
    throw new RangeError(`interval "${interval}" is not a duration`);
  const custom: Record<string, CustomMetric> = config.metrics;
  return {
    steps: parseSteps(steps),
    intervalSeconds,
    analysis: parseAnalysis(analysis, custom),
    failureLimit: entry?.failureLimit ?? config.defaults.failureLimit ?? 2,
    gates: entry?.gates ?? config.defaults.gates ?? [],
  };
}

/** The configured approvers in the policy's shape. */
export function canaryApprovers(config: CanaryConfig): Approvers | undefined {
  const a = config.approvers;
  if (!a) return undefined;
  return 'group' in a ? { group: a.group, quorum: a.quorum } : { users: a.users, quorum: a.quorum };
}
