import type { KubeIdentity } from '../kube/types.ts';

/**
 * The object a change acts on, named the way the API server names it.
 * `group` is '' for the core API ("v1" pods), "apps" for deployments.
 */
export interface ChangeTarget {
  group: string;
  version: string;
  /** Plural resource, e.g. "deployments". */
  resource: string;
  kind: string;
  namespace: string;
  name: string;
}

/**
 * Desired state, never a command string. `apply` is a server-side apply configuration (field
 * manager `wheelhouse`); `patch` is the minimal patch the API needs where apply does not fit
 * (e.g. the scale subresource); `delete` removes one object.
 */
export type DesiredChange =
  | {
      type: 'apply';
      target: ChangeTarget;
      /** The resourceVersion the proposal was computed from; a different one at apply time is drift. */
      resourceVersion: string | undefined;
      /** Partial object with apiVersion, kind, metadata.name/namespace and only the fields we own. */
      manifest: Record<string, unknown>;
      /**
       * Take fields over from other field managers (server-side apply's `force`). Only after a
       * preview without force named them (CONFLICT) and the people approving saw that. @default false
       */
      force?: boolean | undefined;
    }
  | {
      type: 'patch';
      target: ChangeTarget;
      resourceVersion: string | undefined;
      patchType: 'merge' | 'strategic-merge';
      patch: Record<string, unknown>;
      /**
       * `scale` (replicas), or `status` for objects a controller reports on but people steer, e.g. an
       * Argo Rollout's `status.abort`; RBAC checks `patch <resource>/<subresource>`.
       */
      subresource?: 'scale' | 'status' | undefined;
    }
  | {
      type: 'delete';
      target: ChangeTarget;
      resourceVersion: string | undefined;
      /** Guards against deleting a same-named replacement. */
      uid: string | undefined;
    };

/** How the runner checks that a change landed well. */
export type Verification =
  | { kind: 'none' }
  /** Follow a Deployment/StatefulSet/DaemonSet rollout until available or its progress deadline. */
  | { kind: 'rollout'; target: ChangeTarget; timeoutSeconds: number };

/** What a write skill proposes. The runner previews, authorizes, approves, applies and verifies it. */
export interface ChangeProposal {
  /** One line, e.g. "set image of deploy/checkout container checkout to registry/checkout:v2". */
  summary: string;
  changes: DesiredChange[];
  verify: Verification;
  /** What the change can touch, shown in the preview and used by policy. */
  blastRadius: { namespace: string; objects: number; replicas?: number | undefined };
  /** The change that undoes this one, when the skill knows it (e.g. the previous image). */
  undo?: DesiredChange[] | undefined;
  /**
   * Work that carries on once the change is applied and verified (e.g. a canary run's steps):
   * stored as a pending run of `kind` for that kind's own loop, never started before the road ends.
   */
  followUp?: { kind: string; summary: string; state: unknown } | undefined;
}

/** One field that differs between the live object and the dry-run result. */
export interface FieldChange {
  /** Dotted path, e.g. "spec.template.spec.containers[checkout].image". */
  path: string;
  before: unknown;
  after: unknown;
}

/** The result of a server-side dry-run of one change, as the user. */
export interface Preview {
  target: ChangeTarget;
  /** Only the fields that change, ignoring status, managedFields and server-set metadata. */
  diff: FieldChange[];
  /** The live resourceVersion the preview was computed against. */
  resourceVersion: string | undefined;
  /** Object after the dry-run (for hashing and verification). */
  after: Record<string, unknown> | undefined;
}

/** Progress of a rollout as the verifier reports it, for an in-place chat update. */
export interface RolloutProgress {
  target: ChangeTarget;
  desired: number;
  updated: number;
  ready: number;
  available: number;
  /** done: available with the new template; failed: progress deadline exceeded or pods failing. */
  phase: 'progressing' | 'done' | 'failed';
  message: string;
  /** When failed: why the new pods are not ready, one line per pod (at most a few). */
  problems?: string[] | undefined;
}

/**
 * Kubernetes writes, always as one identity (impersonated). Every method throws WheelhouseError:
 * FORBIDDEN (naming verb and resource), NOT_FOUND, CONFLICT (another field manager owns a field,
 * or the resourceVersion changed), DRY_RUN_REJECTED (the API server's or an admission webhook's
 * message), KUBE_UNREACHABLE.
 */
export interface KubeWriter {
  /** SelfSubjectAccessReview as the identity for the verb the change needs. */
  authorize(change: DesiredChange): Promise<void>;
  /** Server-side dry-run as the identity; the diff of live object vs dry-run result. */
  preview(change: DesiredChange): Promise<Preview>;
  /**
   * Applies for real, labelling/annotating the object with the request id. Returns the new
   * resourceVersion, and warnings about what landed but not entirely as asked (e.g. the change
   * went through but the request annotation could not be set).
   */
  apply(
    change: DesiredChange,
  ): Promise<{ resourceVersion: string | undefined; warnings?: string[] | undefined }>;
  /** Follows a rollout, calling `onProgress` on every change, until done, failed or the timeout. */
  followRollout(
    target: ChangeTarget,
    options: {
      timeoutSeconds: number;
      onProgress?: (progress: RolloutProgress) => void;
      signal?: AbortSignal;
    },
  ): Promise<RolloutProgress>;
}

/** Writers per identity; the request id goes to Audit-ID headers and to the object's annotation. */
export interface KubeWriterFactory {
  writerAs(
    identity: KubeIdentity | undefined,
    options: { requestId: string; signal?: AbortSignal },
  ): KubeWriter;
}

/** Annotation carrying the request id of the change that last touched an object. */
export const REQUEST_ANNOTATION = 'wheelhouse.io/request-id';
export const FIELD_MANAGER = 'wheelhouse';
