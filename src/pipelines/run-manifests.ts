import { createHash } from 'node:crypto';
import { REQUEST_ANNOTATION } from '../changes/types.ts';
import type { Actor } from '../skills/context.ts';
import { parseDurationSeconds } from '../skills/schema.ts';
import { substitute } from './params.ts';
import { RUN_LABEL } from './pipeline-cluster.ts';
import type { JobTask, PipelineSpec } from './pipeline-config.ts';
import type { RunState, StageState } from './run-state.ts';

/** Labels on every object of a run: who, where, and the audit id that joins the audit logs. */
export const LABELS = {
  run: RUN_LABEL,
  pipeline: 'wheelhouse.io/pipeline',
  stage: 'wheelhouse.io/stage',
  task: 'wheelhouse.io/task',
  auditId: 'wheelhouse.io/audit-id',
  slackUser: 'wheelhouse.io/slack-user',
  slackChannel: 'wheelhouse.io/slack-channel',
} as const;

/** A run's name in the cluster: the pipeline's name and a hash of its dedupe key (DNS-safe, ≤ 49). */
export function runName(pipeline: string, key: string): string {
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 8);
  return `${pipeline.slice(0, 40)}-${hash}`;
}

/** `<run>-<stage index>-<task>`, cut to the 63 characters a Job name (and its label) may have. */
export function jobName(run: string, stage: number, task: string): string {
  return `${run}-${stage}-${task}`.slice(0, 63).replace(/-+$/, '');
}

/** A label value: at most 63 of [A-Za-z0-9_.-], starting and ending alphanumeric. */
export function labelValue(text: string | undefined): string {
  const cleaned = (text ?? '').replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 63);
  return cleaned.replace(/^[^A-Za-z0-9]+/, '').replace(/[^A-Za-z0-9]+$/, '');
}

/** The stored state of a new run; `gate` puts the policy's approval before everything else. */
export function newRunState(
  pipeline: PipelineSpec,
  options: {
    id: string;
    name: string;
    params: Record<string, string>;
    actor: Actor;
    requestId: string;
    /** The policy's approval before anything starts, when policy asks for one. */
    gate?: { required: NonNullable<StageState['required']>; ttlSeconds: number } | undefined;
    rerunOf?: string | undefined;
    now: Date;
  },
): RunState {
  const { id, name, actor } = options;
  const stages: StageState[] = [];
  if (options.gate) {
    stages.push({
      name: 'approval',
      index: -1,
      kind: 'approval',
      status: 'pending',
      approvalId: `${id}-approval`,
      required: options.gate.required,
      ttlSeconds: options.gate.ttlSeconds,
      tasks: [],
    });
  }
  switch (pipeline.type) {
    case 'tekton':
      stages.push({ name: 'pipelinerun', index: 0, kind: 'tekton', status: 'pending', tasks: [] });
      break;
    case 'webhook':
      stages.push({ name: 'trigger', index: 0, kind: 'webhook', status: 'pending', tasks: [] });
      break;
    case 'built-in':
      pipeline.stages.forEach((stage, index) => {
        if ('approval' in stage) {
          const { group, users, quorum, timeout } = stage.approval;
          stages.push({
            name: stage.name,
            index,
            kind: 'approval',
            status: 'pending',
            approvalId: `${id}-${stage.name}`,
            required: { group, users, quorum },
            ttlSeconds: parseDurationSeconds(timeout) ?? 1800,
            tasks: [],
          });
        } else {
          stages.push({
            name: stage.name,
            index,
            kind: 'tasks',
            status: 'pending',
            tasks: stage.tasks.map((t) => ({
              name: t.name,
              object: jobName(name, index, t.name),
              status: 'pending',
            })),
          });
        }
      });
      break;
  }
  return {
    pipeline: pipeline.name,
    type: pipeline.type,
    namespace: pipeline.namespace,
    name,
    params: options.params,
    requestId: options.requestId,
    requester: { id: actor.id, name: actor.name, kubeUser: actor.kube?.user, kubeGroups: actor.kube?.groups },
    where: { surface: actor.surface, channel: actor.channel, thread: actor.thread },
    status: 'pending',
    stages,
    createdAt: options.now.toISOString(),
    rerunOf: options.rerunOf,
  };
}

function metadata(run: RunState, name: string, extra: Record<string, string>): Record<string, unknown> {
  const labels: Record<string, string> = {
    [LABELS.run]: run.name,
    [LABELS.pipeline]: run.pipeline,
    [LABELS.auditId]: labelValue(run.requestId),
    ...extra,
  };
  if (run.where.surface === 'slack') {
    labels[LABELS.slackUser] = labelValue(run.requester.id);
    if (run.where.channel) labels[LABELS.slackChannel] = labelValue(run.where.channel);
  }
  return {
    name,
    namespace: run.namespace,
    labels,
    annotations: {
      [REQUEST_ANNOTATION]: run.requestId,
      'wheelhouse.io/requested-by': run.requester.name ?? run.requester.id,
    },
  };
}

/** The Job of one task: its template with the run's parameters, labels, deadline and clean-up time. */
export function jobManifest(
  run: RunState,
  stage: number,
  task: JobTask,
  ttlSeconds: number,
): Record<string, unknown> {
  const p = (text: string) => substitute(text, run.params);
  const meta = metadata(run, jobName(run.name, stage, task.name), {
    [LABELS.stage]: String(stage),
    [LABELS.task]: task.name,
  });
  const container: Record<string, unknown> = {
    name: task.name,
    image: p(task.image),
    env: Object.entries(task.env).map(([name, value]) => ({ name, value: p(value) })),
  };
  if (task.command) container['command'] = task.command.map(p);
  if (task.args) container['args'] = task.args.map(p);
  if (task.volumeMounts.length) container['volumeMounts'] = task.volumeMounts;
  if (task.resources) container['resources'] = task.resources;
  const podSpec: Record<string, unknown> = { restartPolicy: 'Never', containers: [container] };
  if (task.volumes.length) podSpec['volumes'] = task.volumes;
  if (task.serviceAccountName) podSpec['serviceAccountName'] = task.serviceAccountName;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta,
    spec: {
      backoffLimit: task.backoffLimit,
      activeDeadlineSeconds: task.activeDeadlineSeconds,
      ttlSecondsAfterFinished: ttlSeconds,
      template: { metadata: { labels: meta['labels'] }, spec: podSpec },
    },
  };
}

/** The `tekton.dev/v1` PipelineRun of a run, with its params. */
export function pipelineRunManifest(
  run: RunState,
  pipeline: Extract<PipelineSpec, { type: 'tekton' }>,
): Record<string, unknown> {
  const spec: Record<string, unknown> = {
    pipelineRef: { name: pipeline.pipelineRef },
    params: Object.entries(run.params).map(([name, value]) => ({ name, value })),
  };
  if (pipeline.serviceAccountName)
    spec['taskRunTemplate'] = { serviceAccountName: pipeline.serviceAccountName };
  if (pipeline.timeout) spec['timeouts'] = { pipeline: pipeline.timeout };
  return { apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', metadata: metadata(run, run.name, {}), spec };
}
