import { z } from 'zod';

/** `store.runs` kind of pipeline runs; the key is the run's dedupe key. */
export const PIPELINE_RUN_KIND = 'pipeline';

const phase = z.enum(['pending', 'running', 'waiting', 'succeeded', 'failed', 'cancelled', 'skipped']);
export type Phase = z.output<typeof phase>;

const taskState = z.object({
  name: z.string(),
  /** The Job's name (built-in) or the TaskRun's (Tekton). */
  object: z.string(),
  status: phase,
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  message: z.string().optional(),
});
export type TaskState = z.output<typeof taskState>;

const stageState = z.object({
  name: z.string(),
  /** Index into the pipeline's stages, or -1 for the policy's approval before the run. */
  index: z.number().int(),
  kind: z.enum(['tasks', 'approval', 'tekton', 'webhook']),
  status: phase,
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  approvalId: z.string().optional(),
  /** Who may approve an approval stage, how many, and for how long (seconds). */
  required: z
    .object({
      group: z.string().optional(),
      users: z.array(z.string()).optional(),
      quorum: z.number().int().min(1),
    })
    .optional(),
  ttlSeconds: z.number().int().positive().optional(),
  message: z.string().optional(),
  tasks: z.array(taskState).default([]),
});
export type StageState = z.output<typeof stageState>;

/** Everything a pipeline run is, in the store: a restart or another replica carries on from here. */
export const runStateSchema = z.object({
  pipeline: z.string(),
  type: z.enum(['tekton', 'built-in', 'webhook']),
  namespace: z.string(),
  /** Name of the run in the cluster (PipelineRun name, Job name prefix). */
  name: z.string(),
  params: z.record(z.string(), z.string()),
  /** The request that started it: the audit id its objects are labelled with. */
  requestId: z.string(),
  requester: z.object({
    id: z.string(),
    name: z.string().optional(),
    kubeUser: z.string().optional(),
    kubeGroups: z.array(z.string()).optional(),
  }),
  where: z.object({ surface: z.string(), channel: z.string().optional(), thread: z.string().optional() }),
  status: phase,
  stages: z.array(stageState),
  createdAt: z.string(),
  finishedAt: z.string().optional(),
  failure: z
    .object({ task: z.string().optional(), reason: z.string(), logTail: z.array(z.string()).default([]) })
    .optional(),
  cancelledBy: z.string().optional(),
  rerunOf: z.string().optional(),
  /** The one chat message that shows the run, updated in place. */
  message: z.object({ channel: z.string(), ts: z.string() }).optional(),
  /** Hash of what the message shows now: unchanged views are not sent again. */
  shown: z.string().optional(),
  /** Which replica steps the run, until when. */
  lease: z.object({ owner: z.string(), until: z.string() }).optional(),
});
export type RunState = z.output<typeof runStateSchema>;

export function parseRunState(state: unknown): RunState {
  return runStateSchema.parse(state);
}

export function isFinished(status: Phase): boolean {
  return status === 'succeeded' || status === 'failed' || status === 'cancelled';
}

/** `store.runs` status: `active` until the run ends, then its outcome. */
export function storeStatus(state: RunState): string {
  return isFinished(state.status) ? state.status : 'active';
}
