import type { V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { z } from 'zod';
import {
  annotationPatch,
  changeOperation,
  changeRequest,
  targetCollectionPath,
  targetPath,
  targetRef,
} from '../changes/change-request.ts';
import { diffObjects } from '../changes/diff.ts';
import {
  newestReplicaSet,
  podProblems,
  type RolloutWorkload,
  rolloutProgress,
  timedOut,
} from '../changes/rollout-progress.ts';
import {
  type ChangeTarget,
  type DesiredChange,
  FIELD_MANAGER,
  type FieldChange,
  type KubeWriter,
  type Preview,
  type RolloutProgress,
} from '../changes/types.ts';
import { writeErrorFromResponse } from '../changes/write-errors.ts';
import { isWheelhouseError, WheelhouseError } from '../errors.ts';
import { reviewAccess } from './access-review.ts';
import { errorFromResponse, forbiddenError, type KubeOperation } from './kube-errors.ts';
import type { KubeHttp, KubeHttpRequest, KubeHttpResponse } from './kube-http.ts';
import { formatLabelSelector } from './label-selector.ts';
import { deserialize } from './resources.ts';
import type { KubeIdentity } from './types.ts';

export interface KubeWriterOptions {
  /** Sent as Audit-ID and written to the object's `wheelhouse.io/request-id` annotation. */
  requestId: string;
  /** Cancels every request of this writer (the runner's request deadline). */
  signal?: AbortSignal | undefined;
  /** Longest single watch request while following a rollout (it is renewed). @default 60 */
  watchSeconds?: number | undefined;
  /** Poll interval when the identity may not watch. @default 1_000 */
  pollIntervalMs?: number | undefined;
  now?: () => Date;
}

const Metadata = z.looseObject({
  metadata: z.looseObject({ resourceVersion: z.string().optional(), uid: z.string().optional() }).optional(),
});
const WatchEvent = z.looseObject({ type: z.string(), object: z.unknown() });
const ListBody = z.looseObject({ items: z.array(z.unknown()).nullable().optional() });

const ROLLOUT_KINDS: Record<string, RolloutWorkload['kind']> = {
  deployments: 'Deployment',
  statefulsets: 'StatefulSet',
  daemonsets: 'DaemonSet',
};

/**
 * Kubernetes writes as one identity (impersonated, like every read): access reviews, server-side
 * dry-runs with a field diff, the real request, and following the rollout it starts.
 *
 * One change is one request per object, so a change lands whole or not at all; the scale and
 * status subresources are the exception (see `apply`). Errors: FORBIDDEN, NOT_FOUND, CONFLICT,
 * DRY_RUN_REJECTED, KUBE_UNREACHABLE, RATE_LIMITED (see writeErrorFromResponse).
 */
export class ClientNodeKubeWriter implements KubeWriter {
  readonly #http: KubeHttp;
  readonly #identity: KubeIdentity | undefined;
  readonly #requestId: string;
  readonly #signal: AbortSignal | undefined;
  readonly #watchSeconds: number;
  readonly #pollIntervalMs: number;
  readonly #now: () => Date;

  constructor(http: KubeHttp, identity: KubeIdentity | undefined, options: KubeWriterOptions) {
    this.#http = http;
    this.#identity = identity;
    this.#requestId = options.requestId;
    this.#signal = options.signal;
    this.#watchSeconds = options.watchSeconds ?? 60;
    this.#pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.#now = options.now ?? (() => new Date());
  }

  /**
   * Asks the API server, as the identity, with a fresh SelfSubjectAccessReview (not the readers'
   * cache: a grant made a minute ago must count) for the verb the change needs: `patch` for
   * server-side apply and patches (on `deployments/scale` for the scale subresource), `delete`.
   */
  async authorize(change: DesiredChange): Promise<void> {
    const op = changeOperation(change);
    const allowed = await reviewAccess(this.#http, this.#identity, op, {
      auditId: this.#requestId,
      signal: this.#signal,
    });
    if (!allowed) {
      const { name: _name, ...broad } = op;
      throw forbiddenError(this.#identity, broad);
    }
  }

  /**
   * Reads the live object as the identity, refuses drift (CONFLICT when the change was computed
   * from another resourceVersion), then sends the exact request `apply` would send with
   * `dryRun=All` and diffs the live object against the API server's answer. Nothing is stored.
   */
  async preview(change: DesiredChange): Promise<Preview> {
    const { target } = change;
    const subresource = change.type === 'patch' ? change.subresource : undefined;
    // Server-side apply creates what does not exist yet (e.g. a canary Deployment): its preview is
    // the whole object against nothing.
    const live = await this.#getObject(target, subresource).catch((error: unknown) => {
      if (change.type === 'apply' && isWheelhouseError(error) && error.code === 'NOT_FOUND') return undefined;
      throw error;
    });
    const liveVersion = resourceVersionOf(live);
    if (change.resourceVersion && liveVersion && change.resourceVersion !== liveVersion) {
      throw new WheelhouseError(
        'CONFLICT',
        `${targetRef(target)} changed since the preview (resourceVersion ${change.resourceVersion} → ${liveVersion}).`,
        {
          hint: 'Someone or something changed it in the meantime: look at the fresh preview and approve that one.',
          detail: { target, expected: change.resourceVersion, live: liveVersion },
        },
      );
    }
    const response = await this.#mutate(change, true);
    const after = stripManagedFields(parseJson(response.body));
    const diff: FieldChange[] =
      change.type === 'delete'
        ? [{ path: '(object)', before: targetRef(target), after: '(deleted)' }]
        : subresource === 'status'
          ? statusDiff(live, after)
          : diffObjects(live, after);
    return {
      target,
      diff,
      resourceVersion: liveVersion,
      after: isObject(after) && after['kind'] !== 'Status' ? after : undefined,
    };
  }

  /**
   * Sends the change for real. Labelling with the request id:
   * - apply: the annotation is part of the applied manifest (owned by field manager `wheelhouse`);
   * - patch: the annotation is merged into the same patch, so it lands with the change or not at all;
   * - patch of the scale or status subresource: the API server ignores metadata there, so the
   *   change is sent first (the change itself, guarded by its resourceVersion) and the annotation
   *   follows as a merge patch of the object; if that second request fails the scale stands and a
   *   warning says the object is not labelled (an identity allowed only `patch deployments/scale`
   *   or `patch rollouts/status` gets this warning every time);
   * - delete: nothing to label (the object goes); the Audit-ID header joins the API server's audit log.
   */
  async apply(change: DesiredChange): Promise<{ resourceVersion: string | undefined; warnings?: string[] }> {
    const response = await this.#mutate(change, false);
    const body = parseJson(response.body);
    const resourceVersion = isObject(body) && body['kind'] !== 'Status' ? resourceVersionOf(body) : undefined;
    if (change.type !== 'patch' || change.subresource === undefined) return { resourceVersion };

    const op: KubeOperation = { ...changeOperation(change), subresource: undefined };
    try {
      const labelled = await this.#send({
        method: 'PATCH',
        path: targetPath(change.target),
        query: { fieldManager: FIELD_MANAGER },
        body: annotationPatch(this.#requestId),
        contentType: 'application/merge-patch+json',
      });
      if (labelled.status < 200 || labelled.status >= 300) {
        throw writeErrorFromResponse(labelled.status, labelled.body, this.#errorContext(change, op, false));
      }
      return { resourceVersion: resourceVersionOf(parseJson(labelled.body)) ?? resourceVersion };
    } catch (error) {
      if (this.#signal?.aborted) throw error;
      const why = error instanceof Error ? error.message : String(error);
      return {
        resourceVersion,
        warnings: [
          `${targetRef(change.target)} was ${change.subresource === 'scale' ? 'scaled' : `patched (${change.subresource})`}, but the request annotation could not be set: ${why}`,
        ],
      };
    }
  }

  /**
   * Follows a Deployment, StatefulSet or DaemonSet rollout as the identity: one GET, then a watch
   * on that one object (renewed every `watchSeconds`, re-read after any break), or a GET every
   * second when the identity may not watch. Calls `onProgress` whenever counts, phase or message
   * change. Ends when done, when the rollout fails (ProgressDeadlineExceeded), or after
   * `timeoutSeconds` (failed, "did not finish within"); a failure names the new pods that are not
   * ready and why. Needs nothing but the target, so it can be resumed after a restart. Rejects with
   * the signal's reason when aborted.
   */
  async followRollout(
    target: ChangeTarget,
    options: {
      timeoutSeconds: number;
      onProgress?: (progress: RolloutProgress) => void;
      signal?: AbortSignal;
    },
  ): Promise<RolloutProgress> {
    const kind = ROLLOUT_KINDS[target.resource];
    if (!kind || target.group !== 'apps') {
      throw new WheelhouseError('INVALID_INPUT', `${targetRef(target)} has no rollout to follow.`, {
        hint: 'Rollouts are followed for Deployments, StatefulSets and DaemonSets.',
        detail: { target },
      });
    }
    const signal = anySignal([options.signal, this.#signal]);
    const deadline = Date.now() + options.timeoutSeconds * 1000;
    let last: RolloutProgress | undefined;
    let lastKey = '';
    const report = (progress: RolloutProgress): RolloutProgress => {
      const key = JSON.stringify([
        progress.phase,
        progress.desired,
        progress.updated,
        progress.ready,
        progress.available,
        progress.message,
      ]);
      if (key !== lastKey) {
        lastKey = key;
        options.onProgress?.(progress);
      }
      last = progress;
      return progress;
    };
    const observe = (raw: unknown): { progress: RolloutProgress; workload: RolloutWorkload } => {
      const workload = toWorkload(kind, raw);
      return { progress: rolloutProgress(target, workload), workload };
    };

    let canWatch = true;
    // A short outage of the API server (a restart, a network blip) is waited out until the
    // deadline; only then does following give up with KUBE_UNREACHABLE (the caller resumes later).
    const read = async (): Promise<unknown> => {
      for (;;) {
        try {
          return await this.#getObject(target, undefined, signal);
        } catch (error) {
          const unreachable = isWheelhouseError(error) && error.code === 'KUBE_UNREACHABLE';
          if (!unreachable || signal?.aborted || Date.now() >= deadline) throw error;
          await sleep(Math.min(this.#pollIntervalMs, Math.max(0, deadline - Date.now())), signal);
        }
      }
    };
    let current = observe(await read());
    for (;;) {
      signal?.throwIfAborted();
      const { progress } = current;
      if (progress.phase === 'failed')
        return report(await this.#withProblems(target, current.workload, progress, signal));
      if (progress.phase === 'done') return report(progress);
      report(progress);
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) {
        return report(
          await this.#withProblems(
            target,
            current.workload,
            timedOut(progress, options.timeoutSeconds),
            signal,
          ),
        );
      }

      let ended: { progress: RolloutProgress; workload: RolloutWorkload } | 'deleted' | undefined;
      if (canWatch) {
        const outcome = await this.#watchOnce(target, current.workload, remainingMs, signal, (raw) => {
          const next = observe(raw);
          if (next.progress.phase !== 'progressing') return next;
          report(next.progress);
          current = next;
          return undefined;
        });
        if (outcome === 'forbidden') canWatch = false;
        else if (outcome === 'broken') await sleep(Math.min(this.#pollIntervalMs, remainingMs), signal);
        else ended = outcome;
      }
      if (!canWatch) await sleep(Math.min(this.#pollIntervalMs, Math.max(0, deadline - Date.now())), signal);
      if (ended === 'deleted') {
        return report({
          ...(last ?? progress),
          phase: 'failed',
          message: `${targetRef(target)} was deleted while its rollout was followed`,
        });
      }
      current = ended ?? observe(await read());
    }
  }

  /**
   * One watch request on the target from the workload's resourceVersion. Returns the first
   * observation `onObject` turns terminal, 'deleted', 'forbidden' (fall back to polling), 'broken'
   * (watch refused or failed: re-read and try again), or undefined when the server ended the stream.
   */
  async #watchOnce<T>(
    target: ChangeTarget,
    workload: RolloutWorkload,
    remainingMs: number,
    signal: AbortSignal | undefined,
    onObject: (raw: unknown) => T | undefined,
  ): Promise<T | 'deleted' | 'forbidden' | 'broken' | undefined> {
    let result: T | 'deleted' | 'broken' | undefined;
    const seconds = Math.max(1, Math.min(this.#watchSeconds, Math.ceil(remainingMs / 1000)));
    try {
      const response = await this.#http.stream(
        {
          method: 'GET',
          path: targetCollectionPath(target),
          query: {
            watch: true,
            fieldSelector: `metadata.name=${target.name}`,
            resourceVersion: workload.object.metadata?.resourceVersion,
            timeoutSeconds: seconds,
          },
          identity: this.#identity,
          auditId: this.#requestId,
          signal,
          timeoutMs: (seconds + 10) * 1000,
        },
        (line) => {
          const event = WatchEvent.safeParse(parseJson(line));
          if (!event.success) return undefined;
          const { type, object } = event.data;
          if (type === 'DELETED') result = 'deleted';
          else if (type === 'ERROR')
            result = 'broken'; // e.g. 410 Gone: re-read and watch again
          else if (type === 'ADDED' || type === 'MODIFIED') result = onObject(object);
          return result === undefined ? undefined : 'stop';
        },
      );
      if (response.status === 403) return 'forbidden';
      if (response.status < 200 || response.status >= 300) return 'broken';
      return result;
    } catch (error) {
      if (signal?.aborted) throw signal.reason ?? error;
      if (isWheelhouseError(error) && error.code === 'KUBE_UNREACHABLE') return 'broken';
      throw error;
    }
  }

  /** Adds why the newest pods are not ready (for a failed rollout); a failed lookup only loses the detail. */
  async #withProblems(
    target: ChangeTarget,
    workload: RolloutWorkload,
    progress: RolloutProgress,
    signal: AbortSignal | undefined,
  ): Promise<RolloutProgress> {
    let problems: string[];
    try {
      problems = podProblems(await this.#newPods(target, workload, signal), this.#now());
    } catch (error) {
      if (signal?.aborted) throw error;
      problems = [`(could not read the pods: ${error instanceof Error ? error.message : String(error)})`];
    }
    if (problems.length === 0) return progress;
    return { ...progress, problems, message: `${progress.message}. Not ready: ${problems.join('; ')}` };
  }

  /** The pods of the new template: the newest ReplicaSet's, the update revision's, or all selected. */
  async #newPods(
    target: ChangeTarget,
    workload: RolloutWorkload,
    signal: AbortSignal | undefined,
  ): Promise<V1Pod[]> {
    const object = workload.object;
    const selector = formatLabelSelector(object.spec?.selector);
    if (!selector) return [];
    let podSelector = selector;
    let owner: string | undefined = object.metadata?.uid;
    if (workload.kind === 'Deployment') {
      const replicaSets = await this.#list<V1ReplicaSet>(
        'replicasets',
        `/apis/apps/v1/namespaces/${encodeURIComponent(target.namespace)}/replicasets`,
        selector,
        signal,
      );
      const newest = newestReplicaSet(
        object.metadata?.uid,
        object.metadata?.annotations?.['deployment.kubernetes.io/revision'],
        replicaSets,
      );
      if (!newest) return [];
      podSelector = formatLabelSelector(newest.spec?.selector) || selector;
      owner = newest.metadata?.uid;
    } else if (workload.kind === 'StatefulSet' && workload.object.status?.updateRevision) {
      podSelector = `${selector},controller-revision-hash=${workload.object.status.updateRevision}`;
    }
    const pods = await this.#list<V1Pod>(
      'pods',
      `/api/v1/namespaces/${encodeURIComponent(target.namespace)}/pods`,
      podSelector,
      signal,
    );
    return pods.filter((pod) => !owner || pod.metadata?.ownerReferences?.some((o) => o.uid === owner));
  }

  async #list<T>(
    resource: 'pods' | 'replicasets',
    path: string,
    labelSelector: string,
    signal: AbortSignal | undefined,
  ): Promise<T[]> {
    const response = await this.#send({ method: 'GET', path, query: { labelSelector, limit: 500 }, signal });
    if (response.status < 200 || response.status >= 300) {
      const op = { verb: 'list', group: resource === 'pods' ? '' : 'apps', resource, namespace: undefined };
      throw errorFromResponse(response.status, response.body, op, this.#identity, this.#http.server);
    }
    const parsed = ListBody.safeParse(parseJson(response.body));
    const items = parsed.success ? (parsed.data.items ?? []) : [];
    return items.map((item) => deserialize(resource, item) as T);
  }

  async #getObject(
    target: ChangeTarget,
    subresource: string | undefined,
    signal?: AbortSignal | undefined,
  ): Promise<Record<string, unknown>> {
    const response = await this.#send({ method: 'GET', path: targetPath(target, subresource), signal });
    if (response.status < 200 || response.status >= 300) {
      const op: KubeOperation = {
        verb: 'get',
        group: target.group,
        resource: target.resource,
        subresource,
        namespace: target.namespace || undefined,
        name: target.name,
        short: targetRef(target).split('/')[0],
      };
      throw errorFromResponse(response.status, response.body, op, this.#identity, this.#http.server);
    }
    const body = parseJson(response.body);
    if (!isObject(body)) {
      throw new WheelhouseError('INTERNAL', `The API server sent an unreadable ${targetRef(target)}.`, {
        detail: { target, body: response.body.slice(0, 500) },
      });
    }
    return body;
  }

  /** The change's one request (dry-run or real); a failure becomes the matching WheelhouseError. */
  async #mutate(change: DesiredChange, dryRun: boolean): Promise<KubeHttpResponse> {
    const request = changeRequest(change, { requestId: this.#requestId, dryRun });
    const response = await this.#send(request);
    if (response.status < 200 || response.status >= 300) {
      throw writeErrorFromResponse(
        response.status,
        response.body,
        this.#errorContext(change, changeOperation(change), dryRun),
      );
    }
    return response;
  }

  #errorContext(change: DesiredChange, op: KubeOperation, dryRun: boolean) {
    return {
      ref: targetRef(change.target),
      op,
      identity: this.#identity,
      server: this.#http.server,
      dryRun,
      resourceVersion: change.resourceVersion,
    };
  }

  #send(req: Omit<KubeHttpRequest, 'identity' | 'auditId'>): Promise<KubeHttpResponse> {
    return this.#http.request({
      ...req,
      identity: this.#identity,
      auditId: this.#requestId,
      signal: req.signal ?? this.#signal,
    });
  }
}

function toWorkload(kind: RolloutWorkload['kind'], raw: unknown): RolloutWorkload {
  switch (kind) {
    case 'Deployment':
      return { kind, object: deserialize('deployments', raw) };
    case 'StatefulSet':
      return { kind, object: deserialize('statefulsets', raw) };
    case 'DaemonSet':
      return { kind, object: deserialize('daemonsets', raw) };
  }
}

function resourceVersionOf(object: unknown): string | undefined {
  const parsed = Metadata.safeParse(object);
  return parsed.success ? parsed.data.metadata?.resourceVersion : undefined;
}

function stripManagedFields(object: unknown): unknown {
  if (isObject(object) && isObject(object['metadata'])) delete object['metadata']['managedFields'];
  return object;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function anySignal(signals: Array<AbortSignal | undefined>): AbortSignal | undefined {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  if (present.length === 0) return undefined;
  return present.length === 1 ? present[0] : AbortSignal.any(present);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A status patch changes only `status`, which object diffs leave out: diff it on its own. */
function statusDiff(live: unknown, after: unknown): FieldChange[] {
  const status = (o: unknown): unknown => (isObject(o) ? (o['status'] ?? null) : null);
  return diffObjects(status(live), status(after)).map((c) => ({
    ...c,
    path: c.path ? `status.${c.path}` : 'status',
  }));
}
