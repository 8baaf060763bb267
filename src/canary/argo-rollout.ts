import { z } from 'zod';
import type { ChangeProposal, ChangeTarget, DesiredChange } from '../changes/types.ts';
import { WheelhouseError } from '../errors.ts';
import type { CustomObjectRef, KubeReader } from '../kube/types.ts';
import type { Section, SkillResult } from '../skills/result.ts';

/**
 * Argo Rollouts (`argoproj.io/v1alpha1` Rollout), driven through the Kubernetes API as the user:
 * no kubectl plugin. The patches are those of `kubectl argo rollouts promote|abort|retry` (v1.8,
 * pkg/kubectl-argo-rollouts/cmd): merge patches, on the status subresource where Argo keeps them.
 */

const step = z.looseObject({
  setWeight: z.number().optional(),
  pause: z.looseObject({ duration: z.union([z.string(), z.number()]).optional() }).optional(),
  analysis: z
    .looseObject({ templates: z.array(z.looseObject({ templateName: z.string().optional() })).optional() })
    .optional(),
  experiment: z.looseObject({}).optional(),
  setCanaryScale: z.looseObject({}).optional(),
});

const analysisStatus = z.looseObject({
  name: z.string().optional(),
  status: z.string().optional(),
  message: z.string().optional(),
});

/** The fields of a Rollout Wheelhouse shows and steers; the rest is the controller's business. */
export const rolloutSchema = z.looseObject({
  metadata: z.looseObject({
    name: z.string(),
    namespace: z.string().optional(),
    resourceVersion: z.string().optional(),
  }),
  spec: z
    .looseObject({
      replicas: z.number().optional(),
      paused: z.boolean().optional(),
      strategy: z
        .looseObject({
          canary: z.looseObject({ steps: z.array(step).optional() }).optional(),
          blueGreen: z.looseObject({}).optional(),
        })
        .optional(),
    })
    .optional(),
  status: z
    .looseObject({
      phase: z.string().optional(),
      message: z.string().optional(),
      currentStepIndex: z.number().optional(),
      pauseConditions: z
        .array(z.looseObject({ reason: z.string().optional(), startTime: z.string().optional() }))
        .nullable()
        .optional(),
      controllerPause: z.boolean().optional(),
      abort: z.boolean().optional(),
      abortedAt: z.string().nullable().optional(),
      promoteFull: z.boolean().optional(),
      stableRS: z.string().optional(),
      currentPodHash: z.string().optional(),
      replicas: z.number().optional(),
      updatedReplicas: z.number().optional(),
      readyReplicas: z.number().optional(),
      availableReplicas: z.number().optional(),
      canary: z
        .looseObject({
          currentStepAnalysisRunStatus: analysisStatus.nullable().optional(),
          currentBackgroundAnalysisRunStatus: analysisStatus.nullable().optional(),
        })
        .optional(),
    })
    .optional(),
});
export type Rollout = z.infer<typeof rolloutSchema>;
export type RolloutStep = z.infer<typeof step>;

export type RolloutAction = 'promote' | 'promote-full' | 'abort' | 'retry';

/** Where a Rollout lives, for reads and changes. */
export function rolloutRef(namespace: string, name: string): CustomObjectRef {
  return {
    group: 'argoproj.io',
    version: 'v1alpha1',
    resource: 'rollouts',
    short: 'rollout',
    namespace,
    name,
  };
}

export function rolloutTarget(namespace: string, name: string): ChangeTarget {
  return {
    group: 'argoproj.io',
    version: 'v1alpha1',
    resource: 'rollouts',
    kind: 'Rollout',
    namespace,
    name,
  };
}

/** `rollout/checkout`, `rollouts/checkout` or `checkout` → checkout; INVALID_INPUT for other kinds. */
export function rolloutName(target: string): string {
  const slash = target.indexOf('/');
  const kind = slash === -1 ? 'rollout' : target.slice(0, slash).toLowerCase();
  const name = slash === -1 ? target : target.slice(slash + 1);
  if (!['rollout', 'rollouts', 'ro'].includes(kind) || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name)) {
    throw new WheelhouseError('INVALID_INPUT', `"${target}" is not an Argo Rollout.`, {
      hint: 'Write rollout/NAME, e.g. rollout/checkout; for a Deployment use deploy/NAME.',
    });
  }
  return name;
}

/** Reads a Rollout as the asking user; SOURCE_NOT_CONFIGURED when the reader cannot read custom resources. */
export async function readRollout(kube: KubeReader, namespace: string, name: string): Promise<Rollout> {
  if (!kube.getCustomObject) {
    throw new WheelhouseError('SOURCE_NOT_CONFIGURED', 'This Kubernetes client cannot read Argo Rollouts.', {
      hint: 'Run Wheelhouse with its Kubernetes client (not a read-only fake) to use Argo Rollouts.',
    });
  }
  const raw = await kube.getCustomObject(rolloutRef(namespace, name));
  const parsed = rolloutSchema.safeParse(raw);
  if (!parsed.success) {
    throw new WheelhouseError('INTERNAL', `rollout/${name} in ${namespace} is not a Rollout I can read.`, {
      hint: 'Check its apiVersion (argoproj.io/v1alpha1) with kubectl get rollout.',
      detail: { issues: parsed.error.issues.slice(0, 5) },
    });
  }
  return parsed.data;
}

function steps(rollout: Rollout): RolloutStep[] {
  return rollout.spec?.strategy?.canary?.steps ?? [];
}

/** The current step: `status.currentStepIndex`, 0 when a canary with steps has none yet (as Argo reads it). */
export function currentStep(rollout: Rollout): number | undefined {
  const all = steps(rollout);
  if (!rollout.spec?.strategy?.canary || all.length === 0) return undefined;
  return Math.min(rollout.status?.currentStepIndex ?? 0, all.length);
}

function isInconclusive(rollout: Rollout): boolean {
  return rollout.status?.canary?.currentStepAnalysisRunStatus?.status === 'Inconclusive';
}

/**
 * The changes of an action, as `kubectl argo rollouts` sends them (status first, then spec):
 * - promote: `spec.paused: false` when paused by a person; clear `status.pauseConditions` when
 *   paused at a step; with an inconclusive analysis also `controllerPause: false` and the next step;
 *   otherwise (mid-analysis) the next step;
 * - promote-full: `status.promoteFull: true` (skips remaining steps, pauses and analysis);
 * - abort: `status.abort: true`; retry: `status.abort: false`.
 * INVALID_INPUT when the action has nothing to do (e.g. retry of a Rollout that is not aborted).
 */
export function rolloutChanges(rollout: Rollout, action: RolloutAction): DesiredChange[] {
  const name = rollout.metadata.name;
  const namespace = rollout.metadata.namespace ?? '';
  const target = rolloutTarget(namespace, name);
  const version = rollout.metadata.resourceVersion;
  const status = rollout.status ?? {};
  const onStatus = (patch: Record<string, unknown>, guarded: boolean): DesiredChange => ({
    type: 'patch',
    target,
    // A step index is computed from what was read: a Rollout that moved on meanwhile is a CONFLICT.
    resourceVersion: guarded ? version : undefined,
    patchType: 'merge',
    patch: { status: patch },
    subresource: 'status',
  });
  const nothing = (why: string, hint: string) =>
    new WheelhouseError('INVALID_INPUT', `rollout/${name} in ${namespace} ${why}.`, { hint });
  switch (action) {
    case 'abort':
      if (status.abort)
        throw nothing('is aborted already', `\`/wh argo-retry rollout/${name} -n ${namespace}\` retries it.`);
      return [onStatus({ abort: true }, false)];
    case 'retry':
      if (!status.abort) throw nothing('is not aborted', 'Only an aborted Rollout can be retried.');
      return [onStatus({ abort: false }, false)];
    case 'promote-full':
      if (status.currentPodHash !== undefined && status.currentPodHash === status.stableRS) {
        throw nothing('is fully promoted already', 'Its current version is the stable one.');
      }
      return [onStatus({ promoteFull: true }, false)];
    case 'promote': {
      const changes: DesiredChange[] = [];
      const index = currentStep(rollout);
      const total = steps(rollout).length;
      const next = index === undefined ? undefined : Math.min(index + 1, total);
      const paused = (status.pauseConditions ?? []).length > 0;
      if (isInconclusive(rollout) && paused && status.controllerPause && next !== undefined) {
        changes.push(
          onStatus({ pauseConditions: null, controllerPause: false, currentStepIndex: next }, true),
        );
      } else if (paused) {
        changes.push(onStatus({ pauseConditions: null }, false));
      } else if (next !== undefined && index !== undefined && index < total) {
        changes.push(onStatus({ pauseConditions: null, currentStepIndex: next }, true));
      }
      if (rollout.spec?.paused) {
        changes.push({
          type: 'patch',
          target,
          resourceVersion: undefined,
          patchType: 'merge',
          patch: { spec: { paused: false } },
        });
      }
      if (changes.length === 0)
        throw nothing(
          'has no step left to promote',
          `\`/wh argo-promote rollout/${name} -n ${namespace} --full\` promotes it fully.`,
        );
      return changes;
    }
  }
}

function stepText(s: RolloutStep): string {
  if (s.setWeight !== undefined) return `set weight ${s.setWeight}%`;
  if (s.pause) return s.pause.duration === undefined ? 'pause (until promoted)' : `pause ${s.pause.duration}`;
  if (s.analysis) {
    const names = (s.analysis.templates ?? []).map((t) => t.templateName).filter(Boolean);
    return `analysis${names.length ? ` (${names.join(', ')})` : ''}`;
  }
  if (s.experiment) return 'experiment';
  if (s.setCanaryScale) return 'set canary scale';
  return Object.keys(s)[0] ?? 'step';
}

/** In words: Healthy, Paused at step 2 of 4 (CanaryPauseStep), Aborted, … */
/**
 * What the Argo write skills propose: the patches `kubectl argo rollouts <action>` sends, against the
 * Rollout as read now, with nothing to follow afterwards (the Argo controller carries the steps).
 */
export async function proposeRolloutAction(
  kube: KubeReader,
  input: { target: string; namespace: string },
  action: RolloutAction,
  describe: (name: string) => string,
): Promise<ChangeProposal> {
  const name = rolloutName(input.target);
  const rollout = await readRollout(kube, input.namespace, name);
  return {
    summary: describe(name),
    changes: rolloutChanges(rollout, action),
    verify: { kind: 'none' },
    blastRadius: { namespace: input.namespace, objects: 1, replicas: rollout.spec?.replicas },
  };
}

export function rolloutState(rollout: Rollout): string {
  const status = rollout.status ?? {};
  if (status.abort) return 'aborted';
  const reasons = (status.pauseConditions ?? []).map((c) => c.reason).filter(Boolean);
  if (rollout.spec?.paused) return 'paused by a person';
  if (reasons.length) return `paused (${reasons.join(', ')})`;
  return (status.phase ?? 'unknown').toLowerCase();
}

/** The chat view of a Rollout: state, steps, analysis, and the buttons that fit its state. */
export function rolloutView(rollout: Rollout): SkillResult {
  const name = rollout.metadata.name;
  const namespace = rollout.metadata.namespace ?? '';
  const status = rollout.status ?? {};
  const all = steps(rollout);
  const index = currentStep(rollout);
  const state = rolloutState(rollout);
  const where = `rollout/${name} -n ${namespace}`;
  const sections: Section[] = [
    {
      type: 'fields',
      title: `Argo Rollout ${name}`,
      fields: [
        { label: 'State', value: state },
        {
          label: 'Step',
          value:
            index === undefined
              ? rollout.spec?.strategy?.blueGreen
                ? 'blue-green (no steps)'
                : 'no steps'
              : index >= all.length
                ? `all ${all.length} done`
                : `${index + 1} of ${all.length}: ${stepText(all[index] ?? {})}`,
        },
        {
          label: 'Pods',
          value: `${rollout.spec?.replicas ?? '?'} desired · ${status.updatedReplicas ?? 0} updated · ${status.readyReplicas ?? 0} ready · ${status.availableReplicas ?? 0} available`,
        },
        ...(status.message ? [{ label: 'Message', value: status.message }] : []),
      ],
    },
  ];
  if (all.length) {
    sections.push({
      type: 'table',
      columns: ['#', 'STEP', 'STATE'],
      rows: all.map((s, i) => [
        String(i + 1),
        stepText(s),
        index === undefined
          ? ''
          : i < index
            ? 'done'
            : i === index
              ? status.abort
                ? 'aborted'
                : 'current'
              : 'pending',
      ]),
    });
  }
  const analyses = [
    ['step analysis', status.canary?.currentStepAnalysisRunStatus],
    ['background analysis', status.canary?.currentBackgroundAnalysisRunStatus],
  ] as const;
  const analysisRows = analyses.flatMap(([kind, a]) =>
    a ? [[kind, a.name ?? '', a.status ?? '', a.message ?? '']] : [],
  );
  if (analysisRows.length) {
    sections.push({ type: 'table', columns: ['ANALYSIS', 'RUN', 'STATUS', 'MESSAGE'], rows: analysisRows });
  }
  const actions: Array<{ label: string; command: string; style?: 'primary' | 'danger' }> = [];
  if (status.abort) {
    actions.push({ label: 'Retry', command: `argo-retry ${where}`, style: 'primary' });
  } else if (status.phase !== 'Healthy' || state.startsWith('paused')) {
    actions.push({ label: 'Promote', command: `argo-promote ${where}`, style: 'primary' });
    actions.push({ label: 'Promote full', command: `argo-promote ${where} --full` });
    actions.push({ label: 'Abort', command: `argo-abort ${where}`, style: 'danger' });
  }
  if (actions.length) sections.push({ type: 'actions', actions });
  return {
    summary: `Argo Rollout ${name} in ${namespace}: ${state}${index !== undefined && index < all.length ? `, step ${index + 1} of ${all.length}` : ''}.`,
    tone:
      status.abort || status.phase === 'Degraded' ? 'error' : state.startsWith('paused') ? 'warning' : 'info',
    sections,
  };
}
