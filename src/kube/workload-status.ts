import type {
  V1DaemonSet,
  V1Deployment,
  V1Job,
  V1PodTemplateSpec,
  V1ReplicaSet,
  V1StatefulSet,
} from '@kubernetes/client-node';
import { formatLabelSelector } from './label-selector.ts';
import { explainPod, formatAge, isPodUnhealthy, summarizePod } from './pod-status.ts';
import type { Workload } from './types.ts';
import { formatWorkloadRef } from './workload-ref.ts';

/** Where a rollout stands, in `kubectl rollout status` terms. */
export interface RolloutState {
  done: boolean;
  /** True when it will not finish on its own (progress deadline exceeded, job failed). */
  failed: boolean;
  message: string;
}

export interface ConditionView {
  type: string;
  status: string;
  reason?: string | undefined;
  message?: string | undefined;
  lastTransition?: Date | undefined;
}

/** The state of a workload, ready to show: key facts, conditions and what is wrong with it. */
export interface WorkloadStatus {
  /** e.g. "deploy/checkout" */
  ref: string;
  /** READY as kubectl shows it, e.g. "2/3". */
  ready: string;
  rollout: RolloutState | undefined;
  facts: Array<{ label: string; value: string }>;
  conditions: ConditionView[];
  /** What is wrong with the workload itself (not its pods), in words; empty when nothing is. */
  problems: string[];
}

/** kubectl rollout status for Deployments, StatefulSets and DaemonSets (kubectl 1.36), plus Jobs. */
export function rolloutState(workload: Workload): RolloutState | undefined {
  switch (workload.kind) {
    case 'Deployment':
      return deploymentRollout(workload.object);
    case 'StatefulSet':
      return statefulSetRollout(workload.object);
    case 'DaemonSet':
      return daemonSetRollout(workload.object);
    case 'Job':
      return jobState(workload.object);
    default:
      return undefined;
  }
}

function deploymentRollout(d: V1Deployment): RolloutState {
  const name = d.metadata?.name ?? '';
  const status = d.status ?? {};
  if ((d.metadata?.generation ?? 0) > (status.observedGeneration ?? 0)) {
    return {
      done: false,
      failed: false,
      message: 'waiting for the deployment controller to see the new spec',
    };
  }
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return { done: false, failed: true, message: `deployment "${name}" exceeded its progress deadline` };
  }
  const desired = d.spec?.replicas;
  const updated = status.updatedReplicas ?? 0;
  if (desired !== undefined && updated < desired) {
    return {
      done: false,
      failed: false,
      message: `${updated} out of ${desired} new replicas have been updated`,
    };
  }
  if ((status.replicas ?? 0) > updated) {
    return {
      done: false,
      failed: false,
      message: `${(status.replicas ?? 0) - updated} old replicas are pending termination`,
    };
  }
  if ((status.availableReplicas ?? 0) < updated) {
    return {
      done: false,
      failed: false,
      message: `${status.availableReplicas ?? 0} of ${updated} updated replicas are available`,
    };
  }
  return { done: true, failed: false, message: 'successfully rolled out' };
}

function statefulSetRollout(s: V1StatefulSet): RolloutState {
  const status = s.status;
  const strategy = s.spec?.updateStrategy;
  if (strategy?.type === 'OnDelete') {
    return { done: true, failed: false, message: 'uses the OnDelete strategy: pods update when deleted' };
  }
  if (!status?.observedGeneration || (s.metadata?.generation ?? 0) > status.observedGeneration) {
    return {
      done: false,
      failed: false,
      message: 'waiting for the statefulset controller to see the new spec',
    };
  }
  const desired = s.spec?.replicas;
  const ready = status.readyReplicas ?? 0;
  if (desired !== undefined && ready < desired) {
    return { done: false, failed: false, message: `waiting for ${desired - ready} pods to be ready` };
  }
  const partition = strategy?.rollingUpdate?.partition;
  if (strategy?.rollingUpdate && desired !== undefined && partition !== undefined) {
    const updated = status.updatedReplicas ?? 0;
    if (updated < desired - partition) {
      return {
        done: false,
        failed: false,
        message: `partitioned rollout: ${updated} out of ${desired - partition} new pods have been updated`,
      };
    }
    return {
      done: true,
      failed: false,
      message: `partitioned rollout complete: ${updated} new pods have been updated`,
    };
  }
  if (status.updateRevision !== status.currentRevision) {
    return {
      done: false,
      failed: false,
      message: `rolling update to revision ${status.updateRevision ?? '?'}: ${status.updatedReplicas ?? 0} pods updated`,
    };
  }
  return {
    done: true,
    failed: false,
    message: `rolling update complete: ${status.currentReplicas ?? 0} pods at revision ${status.currentRevision ?? '?'}`,
  };
}

function daemonSetRollout(ds: V1DaemonSet): RolloutState {
  const status = ds.status;
  if (ds.spec?.updateStrategy?.type === 'OnDelete') {
    return { done: true, failed: false, message: 'uses the OnDelete strategy: pods update when deleted' };
  }
  if ((ds.metadata?.generation ?? 0) > (status?.observedGeneration ?? 0)) {
    return {
      done: false,
      failed: false,
      message: 'waiting for the daemonset controller to see the new spec',
    };
  }
  const desired = status?.desiredNumberScheduled ?? 0;
  const updated = status?.updatedNumberScheduled ?? 0;
  if (updated < desired) {
    return { done: false, failed: false, message: `${updated} out of ${desired} new pods have been updated` };
  }
  const available = status?.numberAvailable ?? 0;
  if (available < desired) {
    return { done: false, failed: false, message: `${available} of ${desired} updated pods are available` };
  }
  return { done: true, failed: false, message: 'successfully rolled out' };
}

function jobState(job: V1Job): RolloutState {
  const conditions = job.status?.conditions ?? [];
  const failed = conditions.find(
    (c) => (c.type === 'Failed' || c.type === 'FailureTarget') && c.status === 'True',
  );
  if (failed) {
    const why = [failed.reason, failed.message].filter(Boolean).join(': ');
    return { done: false, failed: true, message: `failed${why ? ` (${why})` : ''}` };
  }
  if (
    conditions.some((c) => (c.type === 'Complete' || c.type === 'SuccessCriteriaMet') && c.status === 'True')
  ) {
    return { done: true, failed: false, message: 'complete' };
  }
  if (job.spec?.suspend) return { done: false, failed: false, message: 'suspended' };
  const s = job.status ?? {};
  return {
    done: false,
    failed: false,
    message: `running: ${s.succeeded ?? 0} of ${job.spec?.completions ?? 1} completed, ${s.active ?? 0} active, ${s.failed ?? 0} failed`,
  };
}

/** Facts, conditions, rollout and problems of any workload kind (a Pod included). */
export function workloadStatus(workload: Workload, now: Date): WorkloadStatus {
  const ref = formatWorkloadRef({ kind: workload.kind, name: workload.object.metadata?.name ?? '' });
  const rollout = rolloutState(workload);
  const age = formatAge(workload.object.metadata?.creationTimestamp, now);
  switch (workload.kind) {
    case 'Deployment': {
      const d = workload.object;
      const s = d.status ?? {};
      const desired = d.spec?.replicas ?? 1;
      const problems: string[] = [];
      if (rollout?.failed) problems.push(progressMessage(d) ?? rollout.message);
      const replicaFailure = s.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
      if (replicaFailure)
        problems.push(
          `cannot create pods: ${replicaFailure.message ?? replicaFailure.reason ?? 'ReplicaFailure'}`,
        );
      if ((s.availableReplicas ?? 0) < desired) {
        problems.push(`only ${s.availableReplicas ?? 0} of ${desired} replicas are available`);
      }
      if (d.spec?.paused) problems.push('the rollout is paused (kubectl rollout resume continues it)');
      const strategy = d.spec?.strategy;
      return {
        ref,
        ready: `${s.readyReplicas ?? 0}/${desired}`,
        rollout,
        facts: [
          {
            label: 'Replicas',
            value: `${desired} desired · ${s.updatedReplicas ?? 0} updated · ${s.readyReplicas ?? 0} ready · ${s.availableReplicas ?? 0} available${s.unavailableReplicas ? ` · ${s.unavailableReplicas} unavailable` : ''}`,
          },
          { label: 'Rollout', value: rolloutText(rollout) },
          { label: 'Generation', value: generationText(d.metadata?.generation, s.observedGeneration) },
          {
            label: 'Strategy',
            value:
              strategy?.type === 'Recreate'
                ? 'Recreate'
                : `RollingUpdate (max surge ${String(strategy?.rollingUpdate?.maxSurge ?? '25%')}, max unavailable ${String(strategy?.rollingUpdate?.maxUnavailable ?? '25%')})`,
          },
          ...revisionFact(d.metadata?.annotations),
          { label: 'Selector', value: formatLabelSelector(d.spec?.selector) || '<none>' },
          { label: 'Images', value: images(d.spec?.template) },
          { label: 'Age', value: age },
        ],
        conditions: conditionViews(s.conditions),
        problems,
      };
    }
    case 'StatefulSet': {
      const sts = workload.object;
      const s = sts.status;
      const desired = sts.spec?.replicas ?? 1;
      const problems: string[] = [];
      if ((s?.readyReplicas ?? 0) < desired)
        problems.push(`only ${s?.readyReplicas ?? 0} of ${desired} replicas are ready`);
      return {
        ref,
        ready: `${s?.readyReplicas ?? 0}/${desired}`,
        rollout,
        facts: [
          {
            label: 'Replicas',
            value: `${desired} desired · ${s?.currentReplicas ?? 0} current · ${s?.updatedReplicas ?? 0} updated · ${s?.readyReplicas ?? 0} ready`,
          },
          { label: 'Rollout', value: rolloutText(rollout) },
          { label: 'Generation', value: generationText(sts.metadata?.generation, s?.observedGeneration) },
          {
            label: 'Revision',
            value: `current ${s?.currentRevision ?? '?'}, update ${s?.updateRevision ?? '?'}`,
          },
          { label: 'Selector', value: formatLabelSelector(sts.spec?.selector) || '<none>' },
          { label: 'Images', value: images(sts.spec?.template) },
          { label: 'Age', value: age },
        ],
        conditions: conditionViews(s?.conditions),
        problems,
      };
    }
    case 'DaemonSet': {
      const ds = workload.object;
      const s = ds.status;
      const desired = s?.desiredNumberScheduled ?? 0;
      const problems: string[] = [];
      if ((s?.numberAvailable ?? 0) < desired)
        problems.push(`only ${s?.numberAvailable ?? 0} of ${desired} pods are available`);
      if (s?.numberMisscheduled) problems.push(`${s.numberMisscheduled} pods run on nodes they should not`);
      return {
        ref,
        ready: `${s?.numberReady ?? 0}/${desired}`,
        rollout,
        facts: [
          {
            label: 'Pods',
            value: `${desired} desired · ${s?.currentNumberScheduled ?? 0} current · ${s?.updatedNumberScheduled ?? 0} updated · ${s?.numberReady ?? 0} ready · ${s?.numberAvailable ?? 0} available · ${s?.numberMisscheduled ?? 0} misscheduled`,
          },
          { label: 'Rollout', value: rolloutText(rollout) },
          { label: 'Generation', value: generationText(ds.metadata?.generation, s?.observedGeneration) },
          { label: 'Selector', value: formatLabelSelector(ds.spec?.selector) || '<none>' },
          { label: 'Images', value: images(ds.spec?.template) },
          { label: 'Age', value: age },
        ],
        conditions: conditionViews(s?.conditions),
        problems,
      };
    }
    case 'ReplicaSet': {
      const rs: V1ReplicaSet = workload.object;
      const s = rs.status;
      const desired = rs.spec?.replicas ?? 1;
      const problems: string[] = [];
      const failure = s?.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
      if (failure)
        problems.push(`cannot create pods: ${failure.message ?? failure.reason ?? 'ReplicaFailure'}`);
      if ((s?.availableReplicas ?? 0) < desired)
        problems.push(`only ${s?.availableReplicas ?? 0} of ${desired} replicas are available`);
      const owner = rs.metadata?.ownerReferences?.find((o) => o.controller);
      return {
        ref,
        ready: `${s?.readyReplicas ?? 0}/${desired}`,
        rollout,
        facts: [
          {
            label: 'Replicas',
            value: `${desired} desired · ${s?.replicas ?? 0} current · ${s?.readyReplicas ?? 0} ready · ${s?.availableReplicas ?? 0} available`,
          },
          ...(owner ? [{ label: 'Owner', value: `${owner.kind}/${owner.name}` }] : []),
          ...revisionFact(rs.metadata?.annotations),
          { label: 'Selector', value: formatLabelSelector(rs.spec?.selector) || '<none>' },
          { label: 'Images', value: images(rs.spec?.template) },
          { label: 'Age', value: age },
        ],
        conditions: conditionViews(s?.conditions),
        problems,
      };
    }
    case 'Job': {
      const job = workload.object;
      const s = job.status ?? {};
      const completions = job.spec?.completions ?? 1;
      return {
        ref,
        ready: `${s.succeeded ?? 0}/${completions}`,
        rollout,
        facts: [
          { label: 'Status', value: rolloutText(rollout) },
          {
            label: 'Completions',
            value: `${s.succeeded ?? 0} of ${completions} succeeded · ${s.active ?? 0} active · ${s.failed ?? 0} failed (backoff limit ${job.spec?.backoffLimit ?? 6})`,
          },
          ...(s.startTime ? [{ label: 'Started', value: `${formatAge(s.startTime, now)} ago` }] : []),
          ...(s.completionTime
            ? [{ label: 'Finished', value: `${formatAge(s.completionTime, now)} ago` }]
            : []),
          { label: 'Images', value: images(job.spec?.template) },
          { label: 'Age', value: age },
        ],
        conditions: conditionViews(s.conditions),
        problems: rollout?.failed ? [`the job ${rollout.message}`] : [],
      };
    }
    case 'Pod': {
      const pod = workload.object;
      const summary = summarizePod(pod, now);
      return {
        ref,
        ready: summary.ready,
        rollout,
        facts: [
          { label: 'Status', value: summary.status },
          { label: 'Ready', value: summary.ready },
          { label: 'Restarts', value: summary.restartsText },
          { label: 'Node', value: summary.node },
          { label: 'IP', value: pod.status?.podIP ?? '<none>' },
          { label: 'QoS', value: pod.status?.qosClass ?? '<unknown>' },
          ...controllerFact(pod.metadata?.ownerReferences),
          { label: 'Age', value: summary.age },
        ],
        conditions: conditionViews(pod.status?.conditions),
        problems: isPodUnhealthy(pod, now) ? explainPod(pod, now) : [],
      };
    }
  }
}

function progressMessage(d: V1Deployment): string | undefined {
  const progressing = d.status?.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason !== 'ProgressDeadlineExceeded') return undefined;
  return `the rollout exceeded its progress deadline of ${d.spec?.progressDeadlineSeconds ?? 600}s${progressing.message ? `: ${progressing.message}` : ''}`;
}

function rolloutText(rollout: RolloutState | undefined): string {
  if (!rollout) return 'n/a';
  if (rollout.failed) return `failed: ${rollout.message}`;
  return rollout.done ? `complete (${rollout.message})` : `in progress: ${rollout.message}`;
}

function generationText(generation: number | undefined, observed: number | undefined): string {
  const g = generation ?? 0;
  const o = observed ?? 0;
  return o >= g ? `${g} (observed)` : `${g}, controller has seen ${o} (the newest spec is not acted on yet)`;
}

function revisionFact(
  annotations: Record<string, string> | undefined,
): Array<{ label: string; value: string }> {
  const revision = annotations?.['deployment.kubernetes.io/revision'];
  return revision ? [{ label: 'Revision', value: revision }] : [];
}

function controllerFact(owners: Array<{ kind: string; name: string; controller?: boolean }> | undefined) {
  const owner = owners?.find((o) => o.controller);
  return owner ? [{ label: 'Controlled by', value: `${owner.kind}/${owner.name}` }] : [];
}

function images(template: V1PodTemplateSpec | undefined): string {
  const all = [...(template?.spec?.initContainers ?? []), ...(template?.spec?.containers ?? [])];
  return all.map((c) => `${c.name}=${c.image ?? '?'}`).join(', ') || '<none>';
}

function conditionViews(
  conditions:
    | Array<{ type: string; status: string; reason?: string; message?: string; lastTransitionTime?: Date }>
    | undefined,
): ConditionView[] {
  return (conditions ?? []).map((c) => ({
    type: c.type,
    status: c.status,
    reason: c.reason,
    message: c.message,
    lastTransition: c.lastTransitionTime,
  }));
}
