import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import { WheelhouseError } from '../errors.ts';
import type { KubeReader, Workload, WorkloadKind, WorkloadRef } from '../kube/types.ts';
import { formatWorkloadRef, parseWorkloadRef, SHORT_KIND } from '../kube/workload-ref.ts';
import type { ChangeTarget, DesiredChange, Verification } from './types.ts';

/** Kinds a change can name through a WorkloadRef. */
export type TargetKind = Extract<WorkloadKind, 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Pod'>;
/** Kinds that roll out a pod template. */
export type RolloutKind = Exclude<TargetKind, 'Pod'>;
export type RolloutWorkload = Extract<Workload, { kind: RolloutKind }>;
export type TargetRef<K extends TargetKind = TargetKind> = WorkloadRef & { kind: K };

export const ROLLOUT_KINDS: readonly RolloutKind[] = ['Deployment', 'StatefulSet', 'DaemonSet'];

/** How long verification follows a rollout when the workload sets no progress deadline. */
export const DEFAULT_ROLLOUT_TIMEOUT_SECONDS = 600;

/** The annotation `kubectl rollout restart` sets on the pod template. */
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';

const API: Record<TargetKind, Pick<ChangeTarget, 'group' | 'version' | 'resource'>> = {
  Deployment: { group: 'apps', version: 'v1', resource: 'deployments' },
  StatefulSet: { group: 'apps', version: 'v1', resource: 'statefulsets' },
  DaemonSet: { group: 'apps', version: 'v1', resource: 'daemonsets' },
  Pod: { group: '', version: 'v1', resource: 'pods' },
};

/** The API identity of a Deployment, StatefulSet, DaemonSet or Pod. */
export function changeTarget(ref: TargetRef): ChangeTarget {
  return { ...API[ref.kind], kind: ref.kind, namespace: ref.namespace, name: ref.name };
}

/** A HorizontalPodAutoscaler (autoscaling/v2). */
export function hpaTarget(namespace: string, name: string): ChangeTarget {
  return {
    group: 'autoscaling',
    version: 'v2',
    resource: 'horizontalpodautoscalers',
    kind: 'HorizontalPodAutoscaler',
    namespace,
    name,
  };
}

/** "apps/v1", or "v1" for the core group. */
export function apiVersionOf(target: ChangeTarget): string {
  return target.group ? `${target.group}/${target.version}` : target.version;
}

function isOneOf<K extends string>(value: string, kinds: readonly K[]): value is K {
  return kinds.some((kind) => kind === value);
}

/**
 * Parses `deploy/checkout` (see parseWorkloadRef) and insists on one of `kinds`; `action` is the
 * command word for the message, e.g. "restart". A bare word is a pod name to kubectl, so the hint
 * offers the kind the user probably meant.
 */
export function parseTargetRef<K extends TargetKind>(
  text: string,
  namespace: string,
  kinds: readonly K[],
  action: string,
): TargetRef<K> {
  const ref = parseWorkloadRef(text, namespace);
  const kind = ref.kind;
  if (isOneOf(kind, kinds)) return { ...ref, kind };
  const forms = kinds.map((k) => `${SHORT_KIND[k]}/NAME`);
  const allowed = forms.length > 1 ? `${forms.slice(0, -1).join(', ')} or ${forms.at(-1)}` : forms.join('');
  const bare = !text.includes('/');
  const [first] = kinds;
  throw new WheelhouseError(
    'INVALID_INPUT',
    `${action} works on ${allowed}; ${bare ? `"${text}" names a pod` : `${formatWorkloadRef(ref)} is a ${kind}`}.`,
    { hint: bare && first ? `Name the kind, e.g. ${SHORT_KIND[first]}/${ref.name}.` : `Write ${allowed}.` },
  );
}

/** Reads a Deployment, StatefulSet or DaemonSet as the user (NOT_FOUND, FORBIDDEN as the reader says). */
export async function readRolloutWorkload(
  kube: KubeReader,
  ref: TargetRef<RolloutKind>,
): Promise<RolloutWorkload> {
  const workload = await kube.getWorkload(ref);
  if (workload.kind === 'Deployment' || workload.kind === 'StatefulSet' || workload.kind === 'DaemonSet') {
    return workload;
  }
  throw new WheelhouseError(
    'INTERNAL',
    `Asked for ${formatWorkloadRef(ref)}, the reader returned a ${workload.kind}.`,
  );
}

export function resourceVersionOf(object: { metadata?: { resourceVersion?: string } }): string | undefined {
  return object.metadata?.resourceVersion;
}

/** Pods a rollout of the workload replaces: its desired replicas (a DaemonSet's scheduled pods). */
export function desiredReplicas(workload: RolloutWorkload): number {
  if (workload.kind === 'DaemonSet') return workload.object.status?.desiredNumberScheduled ?? 0;
  return workload.object.spec?.replicas ?? 1;
}

/** A Deployment's progress deadline, else DEFAULT_ROLLOUT_TIMEOUT_SECONDS. */
export function rolloutTimeoutSeconds(workload: RolloutWorkload): number {
  const deadline = workload.kind === 'Deployment' ? workload.object.spec?.progressDeadlineSeconds : undefined;
  return deadline ?? DEFAULT_ROLLOUT_TIMEOUT_SECONDS;
}

export function rolloutVerification(target: ChangeTarget, workload: RolloutWorkload): Verification {
  return { kind: 'rollout', target, timeoutSeconds: rolloutTimeoutSeconds(workload) };
}

/** One container of a pod template, by name, with its image. */
export interface ContainerImage {
  name: string;
  image: string | undefined;
}

/** The images of a pod template: every container and init container, in template order. */
export interface TemplateImages {
  containers: ContainerImage[];
  initContainers: ContainerImage[];
}

export function templateImages(template: V1PodTemplateSpec | undefined): TemplateImages {
  const pick = (list: Array<{ name: string; image?: string }> | undefined): ContainerImage[] =>
    (list ?? []).map((c) => ({ name: c.name, image: c.image }));
  return {
    containers: pick(template?.spec?.containers),
    initContainers: pick(template?.spec?.initContainers),
  };
}

/** The same images with container (or init container) `name` set to `image`. */
export function withImage(images: TemplateImages, name: string, image: string): TemplateImages {
  const set = (list: ContainerImage[]): ContainerImage[] =>
    list.map((c) => (c.name === name ? { name, image } : c));
  return { containers: set(images.containers), initContainers: set(images.initContainers) };
}

/** "checkout=registry/checkout:v2, sidecar=…" (init containers marked), for summaries. */
export function formatImages(images: TemplateImages): string {
  return [
    ...images.containers.map((c) => `${c.name}=${c.image ?? '(none)'}`),
    ...images.initContainers.map((c) => `${c.name} (init)=${c.image ?? '(none)'}`),
  ].join(', ');
}

/** A server-side apply configuration: apiVersion, kind, name and namespace, then `fields`. */
export function applyConfiguration(
  target: ChangeTarget,
  fields: Record<string, unknown>,
): Record<string, unknown> {
  return {
    apiVersion: apiVersionOf(target),
    kind: target.kind,
    metadata: { name: target.name, namespace: target.namespace },
    ...fields,
  };
}

/**
 * A strategic-merge patch of a workload's pod template setting the image of every container (and
 * init container) plus optional template annotations, guarded by the resourceVersion.
 *
 * Why a patch and not server-side apply: objects created by `kubectl apply`, `kubectl create` or
 * helm have their images owned by other field managers, so an unforced apply conflicts on nearly
 * every real workload, and a forced one would take ownership away from GitOps tools. A strategic
 * merge (what `kubectl set image` and `kubectl rollout restart` send) merges containers by name,
 * never conflicts, and the resourceVersion precondition still refuses a target that changed.
 * Every container's image goes along (live values for the ones not changed) so the patch states
 * the whole intended template images in one request.
 */
export function podTemplatePatch(
  target: ChangeTarget,
  resourceVersion: string | undefined,
  images: TemplateImages,
  annotations?: Record<string, string>,
): DesiredChange {
  const list = (items: ContainerImage[]): Array<{ name: string; image?: string }> =>
    items.map(({ name, image }) => (image === undefined ? { name } : { name, image }));
  const spec = {
    containers: list(images.containers),
    ...(images.initContainers.length ? { initContainers: list(images.initContainers) } : {}),
  };
  return {
    type: 'patch',
    target,
    resourceVersion,
    patchType: 'strategic-merge',
    patch: { spec: { template: { ...(annotations ? { metadata: { annotations } } : {}), spec } } },
  };
}

/** A JSON merge patch, optionally on the scale or status subresource. */
export function mergePatch(
  target: ChangeTarget,
  resourceVersion: string | undefined,
  patch: Record<string, unknown>,
  subresource?: 'scale' | 'status',
): DesiredChange {
  return {
    type: 'patch',
    target,
    resourceVersion,
    patchType: 'merge',
    patch,
    ...(subresource ? { subresource } : {}),
  };
}
