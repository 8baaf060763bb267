import type { V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { explainPod } from '../kube/pod-status.ts';
import type { Workload } from '../kube/types.ts';
import { rolloutState } from '../kube/workload-status.ts';
import type { ChangeTarget, RolloutProgress } from './types.ts';

/** Workloads whose rollout can be followed. */
export type RolloutWorkload = Extract<Workload, { kind: 'Deployment' | 'StatefulSet' | 'DaemonSet' }>;

/** Pods listed at most in a failure message; the rest are counted. */
const MAX_PODS = 5;

/**
 * Where a rollout stands: counts, and a phase from `kubectl rollout status`'s rules (rolloutState):
 * done once the controller has seen the newest spec and updated, ready and available all reach
 * the desired count; failed when a Deployment's Progressing condition says
 * ProgressDeadlineExceeded; progressing otherwise.
 */
export function rolloutProgress(target: ChangeTarget, workload: RolloutWorkload): RolloutProgress {
  const state = rolloutState(workload);
  const counts = countsOf(workload);
  const ref = `${shortKind(workload.kind)}/${workload.object.metadata?.name ?? target.name}`;
  const settled = counts.ready >= counts.desired && counts.available >= counts.desired;
  if (state?.failed) {
    const progressing = workload.object.status?.conditions?.find((c) => c.type === 'Progressing');
    const deadline =
      workload.kind === 'Deployment' ? ` of ${workload.object.spec?.progressDeadlineSeconds ?? 600}s` : '';
    const why = progressing?.message ? `: ${progressing.message}` : '';
    return {
      target,
      ...counts,
      phase: 'failed',
      message: `${ref} exceeded its progress deadline${deadline}${why} (${countText(counts)})`,
    };
  }
  if (state?.done && settled) {
    return { target, ...counts, phase: 'done', message: `${ref} rolled out: ${countText(counts)}` };
  }
  const paused =
    workload.kind === 'Deployment' && workload.object.spec?.paused ? '; the rollout is paused' : '';
  const detail =
    state && !state.done
      ? state.message
      : `waiting for ${counts.desired - Math.min(counts.ready, counts.available)} replicas to be ready and available`;
  return {
    target,
    ...counts,
    phase: 'progressing',
    message: `${ref}: ${detail} (${countText(counts)})${paused}`,
  };
}

/** A rollout that did not finish in the time Wheelhouse gave it. */
export function timedOut(progress: RolloutProgress, timeoutSeconds: number): RolloutProgress {
  return {
    ...progress,
    phase: 'failed',
    message: `did not finish within ${timeoutSeconds}s: ${progress.message}`,
  };
}

/**
 * The newest ReplicaSet of a Deployment: the one whose revision annotation matches the
 * Deployment's, else the youngest one it controls.
 */
export function newestReplicaSet(
  deploymentUid: string | undefined,
  revision: string | undefined,
  replicaSets: readonly V1ReplicaSet[],
): V1ReplicaSet | undefined {
  const owned = replicaSets.filter((rs) =>
    rs.metadata?.ownerReferences?.some((o) => o.controller && (!deploymentUid || o.uid === deploymentUid)),
  );
  const byRevision = owned.find(
    (rs) =>
      revision !== undefined && rs.metadata?.annotations?.['deployment.kubernetes.io/revision'] === revision,
  );
  if (byRevision) return byRevision;
  return [...owned].sort(
    (a, b) =>
      (b.metadata?.creationTimestamp?.getTime() ?? 0) - (a.metadata?.creationTimestamp?.getTime() ?? 0),
  )[0];
}

/**
 * Why pods are not ready, one line per pod that is not Ready (at most MAX_PODS, then a count):
 * explainPod's reasons (CrashLoopBackOff, image pull, OOMKilled, unschedulable, ...), or for a pod
 * too young for those, its phase and Ready condition ("Running, not ready: ContainersNotReady ...").
 */
export function podProblems(pods: readonly V1Pod[], now: Date): string[] {
  const notReady = pods
    .filter((pod) => !isReady(pod) && !pod.metadata?.deletionTimestamp)
    .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  const lines = notReady.slice(0, MAX_PODS).map((pod) => {
    const reasons = explainPod(pod, now);
    const name = `pod ${pod.metadata?.name ?? '?'}`;
    if (reasons.length > 0) return `${name}: ${reasons.join('; ')}`;
    const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
    const why = [ready?.reason, ready?.message].filter(Boolean).join(': ');
    return `${name}: ${pod.status?.phase ?? 'Unknown'}, not ready${why ? ` (${why})` : ''}`;
  });
  if (notReady.length > MAX_PODS) lines.push(`and ${notReady.length - MAX_PODS} more pods not ready`);
  return lines;
}

function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function countsOf(
  workload: RolloutWorkload,
): Pick<RolloutProgress, 'desired' | 'updated' | 'ready' | 'available'> {
  switch (workload.kind) {
    case 'Deployment': {
      const s = workload.object.status ?? {};
      return {
        desired: workload.object.spec?.replicas ?? 1,
        updated: s.updatedReplicas ?? 0,
        ready: s.readyReplicas ?? 0,
        available: s.availableReplicas ?? 0,
      };
    }
    case 'StatefulSet': {
      const s = workload.object.status;
      return {
        desired: workload.object.spec?.replicas ?? 1,
        updated: s?.updatedReplicas ?? 0,
        ready: s?.readyReplicas ?? 0,
        available: s?.availableReplicas ?? 0,
      };
    }
    case 'DaemonSet': {
      const s = workload.object.status;
      return {
        desired: s?.desiredNumberScheduled ?? 0,
        updated: s?.updatedNumberScheduled ?? 0,
        ready: s?.numberReady ?? 0,
        available: s?.numberAvailable ?? 0,
      };
    }
  }
}

function countText(c: Pick<RolloutProgress, 'desired' | 'updated' | 'ready' | 'available'>): string {
  return `${c.updated}/${c.desired} updated, ${c.ready} ready, ${c.available} available`;
}

function shortKind(kind: RolloutWorkload['kind']): string {
  return kind === 'Deployment' ? 'deploy' : kind === 'StatefulSet' ? 'sts' : 'ds';
}
