import { z } from 'zod';
import { writeErrorFromResponse } from '../changes/write-errors.ts';
import { reviewAccess } from '../kube/access-review.ts';
import { errorFromResponse, forbiddenError, type KubeOperation } from '../kube/kube-errors.ts';
import type { KubeHttp, KubeHttpRequest } from '../kube/kube-http.ts';
import type { KubeIdentity } from '../kube/types.ts';
import type { ObservedObject } from './stage-scheduler.ts';

/** A namespaced collection the pipelines write: Jobs, or Tekton PipelineRuns. */
export interface PipelineResource {
  group: string;
  version: string;
  resource: string;
  kind: string;
}

export const JOBS: PipelineResource = { group: 'batch', version: 'v1', resource: 'jobs', kind: 'Job' };
export const PIPELINE_RUNS: PipelineResource = {
  group: 'tekton.dev',
  version: 'v1',
  resource: 'pipelineruns',
  kind: 'PipelineRun',
};

/** Who acts and under which request id (sent as Audit-ID). */
export interface Acting {
  identity: KubeIdentity | undefined;
  requestId: string;
}

/**
 * What the pipeline engine needs from Kubernetes. Writes act as a chat user (impersonated);
 * reads that follow a run act as Wheelhouse itself. Errors are WheelhouseErrors (FORBIDDEN naming
 * the verb and resource, DRY_RUN_REJECTED with the API server's message, KUBE_UNREACHABLE).
 */
export interface PipelineCluster {
  /** SelfSubjectAccessReview as the identity; throws FORBIDDEN when not allowed. */
  authorize(acting: Acting, verb: string, kind: PipelineResource, namespace: string): Promise<void>;
  /** Creates the object (or dry-runs its creation); `exists` when it is already there (idempotent). */
  create(
    acting: Acting,
    kind: PipelineResource,
    manifest: Record<string, unknown>,
    dryRun: boolean,
  ): Promise<'created' | 'exists'>;
  /** Merge-patches an object as the identity (e.g. `spec.status: Cancelled`). */
  patch(
    acting: Acting,
    kind: PipelineResource,
    namespace: string,
    name: string,
    patch: Record<string, unknown>,
  ): Promise<void>;
  /** Deletes an object and its pods (background propagation); a missing one is fine. */
  delete(acting: Acting, kind: PipelineResource, namespace: string, name: string): Promise<void>;
  /** Jobs of a run by label `wheelhouse.io/run`, as Wheelhouse. */
  observeJobs(namespace: string, run: string): Promise<Record<string, ObservedObject>>;
  /** A PipelineRun's progress, or undefined when it does not exist, as Wheelhouse. */
  observePipelineRun(
    namespace: string,
    name: string,
  ): Promise<(ObservedObject & { tasks: Array<{ name: string; object: string }> }) | undefined>;
}

const Condition = z.looseObject({
  type: z.string(),
  status: z.string(),
  reason: z.string().optional(),
  message: z.string().optional(),
  lastTransitionTime: z.string().optional(),
});
const JobStatus = z.looseObject({
  active: z.number().optional(),
  startTime: z.string().optional(),
  completionTime: z.string().optional(),
  conditions: z.array(Condition).nullable().optional(),
});
const JobList = z.looseObject({
  items: z
    .array(z.looseObject({ metadata: z.looseObject({ name: z.string() }), status: JobStatus.optional() }))
    .nullable()
    .optional(),
});
const PipelineRunObject = z.looseObject({
  spec: z.looseObject({ status: z.string().optional() }).optional(),
  status: z
    .looseObject({
      startTime: z.string().optional(),
      completionTime: z.string().optional(),
      conditions: z.array(Condition).nullable().optional(),
      childReferences: z
        .array(z.looseObject({ name: z.string(), pipelineTaskName: z.string().optional() }))
        .nullable()
        .optional(),
    })
    .optional(),
});

/** Job status → task phase: Complete/SuccessCriteriaMet succeed, Failed/FailureTarget fail. */
export function jobPhase(status: z.output<typeof JobStatus> | undefined): ObservedObject {
  const conditions = status?.conditions ?? [];
  const on = (type: string) => conditions.find((c) => c.type === type && c.status === 'True');
  const done = on('Complete') ?? on('SuccessCriteriaMet');
  const failed = on('Failed') ?? on('FailureTarget');
  const base = { startedAt: status?.startTime };
  if (failed) {
    return {
      ...base,
      phase: 'failed',
      finishedAt: failed.lastTransitionTime,
      message: [failed.reason, failed.message].filter(Boolean).join(': ') || 'the Job failed',
    };
  }
  if (done)
    return { ...base, phase: 'succeeded', finishedAt: status?.completionTime ?? done.lastTransitionTime };
  return { ...base, phase: (status?.active ?? 0) > 0 || status?.startTime ? 'running' : 'pending' };
}

/** The PipelineRun's `Succeeded` condition as a phase; a cancelled run reads as cancelled. */
export function pipelineRunPhase(object: z.output<typeof PipelineRunObject>): ObservedObject {
  const condition = object.status?.conditions?.find((c) => c.type === 'Succeeded');
  const message = condition ? [condition.reason, condition.message].filter(Boolean).join(': ') : undefined;
  const base = { startedAt: object.status?.startTime, message };
  if (condition?.status === 'True')
    return {
      ...base,
      phase: 'succeeded',
      finishedAt: object.status?.completionTime ?? condition.lastTransitionTime,
    };
  if (condition?.status === 'False') {
    const cancelled = /cancel/i.test(condition.reason ?? '');
    return {
      ...base,
      phase: cancelled ? 'cancelled' : 'failed',
      finishedAt: object.status?.completionTime ?? condition.lastTransitionTime,
    };
  }
  return { ...base, phase: condition ? 'running' : 'pending' };
}

/** The PipelineCluster over the kube client's HTTP (impersonation, Audit-ID, rate limiter). */
export function kubePipelineCluster(http: KubeHttp): PipelineCluster {
  const send = (acting: Acting | undefined, req: Omit<KubeHttpRequest, 'identity' | 'auditId'>) =>
    http.request({ ...req, identity: acting?.identity, auditId: acting?.requestId });
  const op = (verb: string, kind: PipelineResource, namespace: string, name?: string): KubeOperation => ({
    verb,
    group: kind.group,
    resource: kind.resource,
    namespace,
    name,
  });
  const writeError = (status: number, body: string, acting: Acting, o: KubeOperation, dryRun: boolean) =>
    writeErrorFromResponse(status, body, {
      ref: `${o.resource}/${o.name ?? ''}`,
      op: o,
      identity: acting.identity,
      server: http.server,
      dryRun,
      resourceVersion: undefined,
    });
  return {
    async authorize(acting, verb, kind, namespace) {
      const o = op(verb, kind, namespace);
      const allowed = await reviewAccess(http, acting.identity, o, { auditId: acting.requestId });
      if (!allowed) throw forbiddenError(acting.identity, o);
    },
    async create(acting, kind, manifest, dryRun) {
      const metadata = z.looseObject({ name: z.string(), namespace: z.string() }).parse(manifest['metadata']);
      const response = await send(acting, {
        method: 'POST',
        path: `${collection(kind, metadata.namespace)}`,
        query: { dryRun: dryRun ? 'All' : undefined, fieldManager: 'wheelhouse' },
        body: manifest,
      });
      if (response.status === 409 && /AlreadyExists/.test(response.body)) return 'exists';
      if (response.status < 200 || response.status >= 300) {
        throw writeError(
          response.status,
          response.body,
          acting,
          op('create', kind, metadata.namespace, metadata.name),
          dryRun,
        );
      }
      return 'created';
    },
    async patch(acting, kind, namespace, name, patch) {
      const response = await send(acting, {
        method: 'PATCH',
        path: `${collection(kind, namespace)}/${encodeURIComponent(name)}`,
        query: { fieldManager: 'wheelhouse' },
        body: patch,
        contentType: 'application/merge-patch+json',
      });
      if (response.status < 200 || response.status >= 300) {
        throw writeError(response.status, response.body, acting, op('patch', kind, namespace, name), false);
      }
    },
    async delete(acting, kind, namespace, name) {
      const response = await send(acting, {
        method: 'DELETE',
        path: `${collection(kind, namespace)}/${encodeURIComponent(name)}`,
        body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' },
      });
      if (response.status === 404) return;
      if (response.status < 200 || response.status >= 300) {
        throw writeError(response.status, response.body, acting, op('delete', kind, namespace, name), false);
      }
    },
    async observeJobs(namespace, run) {
      const response = await send(undefined, {
        method: 'GET',
        path: collection(JOBS, namespace),
        query: { labelSelector: `${RUN_LABEL}=${run}`, limit: 500 },
      });
      if (response.status < 200 || response.status >= 300) {
        throw errorFromResponse(
          response.status,
          response.body,
          op('list', JOBS, namespace),
          undefined,
          http.server,
        );
      }
      const list = JobList.parse(JSON.parse(response.body));
      return Object.fromEntries((list.items ?? []).map((job) => [job.metadata.name, jobPhase(job.status)]));
    },
    async observePipelineRun(namespace, name) {
      const response = await send(undefined, {
        method: 'GET',
        path: `${collection(PIPELINE_RUNS, namespace)}/${encodeURIComponent(name)}`,
      });
      if (response.status === 404) return undefined;
      if (response.status < 200 || response.status >= 300) {
        throw errorFromResponse(
          response.status,
          response.body,
          op('get', PIPELINE_RUNS, namespace, name),
          undefined,
          http.server,
        );
      }
      const object = PipelineRunObject.parse(JSON.parse(response.body));
      return {
        ...pipelineRunPhase(object),
        tasks: (object.status?.childReferences ?? []).map((c) => ({
          name: c.pipelineTaskName ?? c.name,
          object: c.name,
        })),
      };
    },
  };
}

/** Label every object of a run carries: the run's name. */
export const RUN_LABEL = 'wheelhouse.io/run';

function collection(kind: PipelineResource, namespace: string): string {
  const prefix = kind.group ? `/apis/${kind.group}/${kind.version}` : `/api/${kind.version}`;
  return `${prefix}/namespaces/${encodeURIComponent(namespace)}/${kind.resource}`;
}
