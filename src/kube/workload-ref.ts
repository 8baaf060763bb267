import { WheelhouseError } from '../errors.ts';
import type { WorkloadKind, WorkloadRef } from './types.ts';

const KIND_ALIASES: Record<string, WorkloadKind> = {
  deploy: 'Deployment',
  deployment: 'Deployment',
  deployments: 'Deployment',
  sts: 'StatefulSet',
  statefulset: 'StatefulSet',
  statefulsets: 'StatefulSet',
  ds: 'DaemonSet',
  daemonset: 'DaemonSet',
  daemonsets: 'DaemonSet',
  rs: 'ReplicaSet',
  replicaset: 'ReplicaSet',
  replicasets: 'ReplicaSet',
  job: 'Job',
  jobs: 'Job',
  po: 'Pod',
  pod: 'Pod',
  pods: 'Pod',
};

/** Short form used in chat and help, e.g. `deploy/checkout`. */
export const SHORT_KIND: Record<WorkloadKind, string> = {
  Deployment: 'deploy',
  StatefulSet: 'sts',
  DaemonSet: 'ds',
  ReplicaSet: 'rs',
  Job: 'job',
  Pod: 'pod',
};

/** Parses `deploy/checkout`, `statefulset/db`, `pod/x` or a bare pod name, like kubectl does. */
export function parseWorkloadRef(text: string, namespace: string): WorkloadRef {
  const slash = text.indexOf('/');
  if (slash === -1) return { kind: 'Pod', namespace, name: text };
  const kindText = text.slice(0, slash).toLowerCase();
  const name = text.slice(slash + 1);
  const kind = KIND_ALIASES[kindText];
  if (!kind) {
    throw new WheelhouseError('INVALID_INPUT', `"${kindText}" is not a workload kind I know.`, {
      hint: 'Use deploy/NAME, sts/NAME, ds/NAME, rs/NAME, job/NAME or pod/NAME.',
    });
  }
  if (!name) {
    throw new WheelhouseError('INVALID_INPUT', `"${text}" names no object.`, {
      hint: `Write ${kindText}/NAME.`,
    });
  }
  return { kind, namespace, name };
}

export function formatWorkloadRef(ref: Pick<WorkloadRef, 'kind' | 'name'>): string {
  return `${SHORT_KIND[ref.kind]}/${ref.name}`;
}
