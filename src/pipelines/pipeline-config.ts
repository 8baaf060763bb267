import { z } from 'zod';

/**
 * The pipeline catalog and its settings (config key `pipelines`). Three sorts of pipeline:
 * `tekton` (a run is a `tekton.dev/v1` PipelineRun of a Pipeline that already exists), `built-in`
 * (stages in order, the tasks of a stage in parallel, each task a Kubernetes Job; a stage may be a
 * manual approval) and `webhook` (an external CI system called over HTTP with an HMAC-signed body).
 */

const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label like "build" (lower case, digits, -)')
  .max(40);
const durationText = z.string().regex(/^\d+(s|m|h|d)$/, 'must be a duration like 30s, 15m, 1h or 7d');

/** One parameter a pipeline takes: `/wh run deploy-shop tag=v2 dryRun=true`. */
export const paramSpecSchema = z.object({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'must be a parameter name like "tag"'),
  /** @default string */
  type: z.enum(['string', 'number', 'boolean']).default('string'),
  description: z.string().optional(),
  /** A value given for a missing parameter; a parameter without one is required. */
  default: z.union([z.string(), z.number(), z.boolean()]).optional(),
  /** Allowed values (after type conversion, compared as text). */
  enum: z.array(z.string()).min(1).optional(),
  /** A regular expression the whole value must match, e.g. "^v[0-9.]+$". */
  pattern: z
    .string()
    .refine((s) => {
      try {
        new RegExp(s);
        return true;
      } catch {
        return false;
      }
    }, 'must be a valid regular expression')
    .optional(),
  /** Longest value accepted. @default 200 */
  maxLength: z.number().int().positive().default(200),
});
export type ParamSpec = z.output<typeof paramSpecSchema>;

/** A task of a built-in stage: one Kubernetes Job. `$(params.x)` in strings takes the run's parameters. */
export const jobTaskSchema = z.object({
  name: dnsLabel,
  image: z.string().min(1),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  env: z.record(z.string(), z.string()).default({}),
  /** Pod volumes and the container's mounts, as in a pod spec. */
  volumes: z.array(z.looseObject({ name: z.string() })).default([]),
  volumeMounts: z.array(z.looseObject({ name: z.string(), mountPath: z.string() })).default([]),
  resources: z
    .object({
      requests: z.record(z.string(), z.string()).optional(),
      limits: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
  /** The Job's deadline. @default 600 */
  activeDeadlineSeconds: z.number().int().positive().default(600),
  /** Retries of the pod. @default 0 */
  backoffLimit: z.number().int().min(0).max(10).default(0),
  serviceAccountName: z.string().optional(),
});
export type JobTask = z.output<typeof jobTaskSchema>;

/** A manual approval between stages: the change road's approval flow (group, quorum, expiry). */
export const approvalStageSchema = z
  .object({
    /** Kubernetes group or Slack user group id (S…) whose members may approve. */
    group: z.string().min(1).optional(),
    /** Slack user ids or Kubernetes user names who may approve. */
    users: z.array(z.string().min(1)).optional(),
    /** @default 1 */
    quorum: z.number().int().min(1).default(1),
    /** How long the stage waits; expired means denied (the run fails). @default 30m */
    timeout: durationText.default('30m'),
  })
  .refine((a) => a.group !== undefined || (a.users?.length ?? 0) > 0, 'needs `group` or `users`');

export const stageSchema = z.union([
  z.object({ name: dnsLabel, tasks: z.array(jobTaskSchema).min(1).max(20) }),
  z.object({ name: dnsLabel, approval: approvalStageSchema }),
]);
export type StageSpec = z.output<typeof stageSchema>;

const common = {
  name: dnsLabel,
  description: z.string().default(''),
  /** Where its runs live (and what policy sees as the namespace). */
  namespace: dnsLabel,
  params: z.array(paramSpecSchema).default([]),
};

export const pipelineSpecSchema = z.discriminatedUnion('type', [
  z.object({
    ...common,
    type: z.literal('tekton'),
    /** Name of the Tekton Pipeline in the namespace. */
    pipelineRef: z.string().min(1),
    serviceAccountName: z.string().optional(),
    /** spec.timeouts.pipeline of the PipelineRun, e.g. "1h0m0s". */
    timeout: z.string().optional(),
  }),
  z.object({ ...common, type: z.literal('built-in'), stages: z.array(stageSchema).min(1).max(20) }),
  z.object({
    ...common,
    type: z.literal('webhook'),
    url: z.url(),
    /** HMAC-SHA256 key of the `X-Wheelhouse-Signature` header; secret. */
    secret: z.string().min(16),
    /** @default 10 s */
    timeoutMs: z.number().int().positive().default(10_000),
  }),
]);
export type PipelineSpec = z.output<typeof pipelineSpecSchema>;

export const pipelinesConfigSchema = z
  .object({
    /** The catalog: what `/wh run` can start. */
    catalog: z
      .array(pipelineSpecSchema)
      .default([])
      .refine((c) => new Set(c.map((p) => p.name)).size === c.length, 'pipeline names must be unique'),
    /** How long finished Jobs stay (their ttlSecondsAfterFinished); history stays in the store. @default 1h */
    jobTtl: durationText.default('1h'),
    /** How often runs are looked at and their messages updated. @default 5s */
    updateInterval: durationText.default('5s'),
    /** Identical `/wh run` by the same user within this window starts one run. @default 2m */
    dedupeWindow: durationText.default('2m'),
    /** Log lines of a failed task shown in chat (redacted). @default 20 */
    logTailLines: z.number().int().min(0).max(200).default(20),
  })
  .prefault({});
export type PipelinesConfig = z.output<typeof pipelinesConfigSchema>;
