import { WheelhouseError } from '../errors.ts';
import type { KubeOperation } from '../kube/kube-errors.ts';
import type { KubeContentType } from '../kube/kube-http.ts';
import { SHORT_KIND } from '../kube/workload-ref.ts';
import { type ChangeTarget, type DesiredChange, FIELD_MANAGER, REQUEST_ANNOTATION } from './types.ts';

/** The one HTTP request that carries a change (or its dry-run) to the API server. */
export interface ChangeRequest {
  method: 'PATCH' | 'DELETE';
  path: string;
  query: Record<string, string | boolean | undefined>;
  body: Record<string, unknown>;
  contentType: KubeContentType;
}

const PATCH_CONTENT_TYPE: Record<'merge' | 'strategic-merge', KubeContentType> = {
  merge: 'application/merge-patch+json',
  'strategic-merge': 'application/strategic-merge-patch+json',
};

/** `/apis/apps/v1/namespaces/shop/deployments/checkout` (+ `/scale`); core group under `/api/v1`. */
export function targetPath(target: ChangeTarget, subresource?: string): string {
  const prefix = target.group ? `/apis/${target.group}/${target.version}` : `/api/${target.version}`;
  const scope = target.namespace ? `/namespaces/${encodeURIComponent(target.namespace)}` : '';
  const tail = subresource ? `/${subresource}` : '';
  return `${prefix}${scope}/${target.resource}/${encodeURIComponent(target.name)}${tail}`;
}

/** The collection a target lives in, for watches: `/apis/apps/v1/namespaces/shop/deployments`. */
export function targetCollectionPath(target: ChangeTarget): string {
  const prefix = target.group ? `/apis/${target.group}/${target.version}` : `/api/${target.version}`;
  const scope = target.namespace ? `/namespaces/${encodeURIComponent(target.namespace)}` : '';
  return `${prefix}${scope}/${target.resource}`;
}

/** `deploy/checkout`, `pod/checkout-7d9f-x2`, `hpa/checkout` (kubectl's short names where known). */
export function targetRef(target: ChangeTarget): string {
  const short = (SHORT_KIND as Record<string, string | undefined>)[target.kind];
  const fallback = target.kind === 'HorizontalPodAutoscaler' ? 'hpa' : target.kind.toLowerCase();
  return `${short ?? fallback}/${target.name}`;
}

/** The verb RBAC checks for a change: server-side apply is a PATCH; the scale subresource is its own resource. */
export function changeOperation(change: DesiredChange): KubeOperation {
  const { target } = change;
  return {
    verb: change.type === 'delete' ? 'delete' : 'patch',
    group: target.group,
    resource: target.resource,
    subresource: change.type === 'patch' ? change.subresource : undefined,
    namespace: target.namespace || undefined,
    name: target.name,
    short: targetRef(target).split('/')[0],
  };
}

/**
 * Builds the request for a change, identical for the dry-run (`dryRun: true`) and the real thing,
 * so what was previewed is what is sent:
 *
 * - apply: `PATCH` with `application/apply-patch+yaml` (a JSON document is valid YAML),
 *   `fieldManager=wheelhouse`, never `force` unless the change asks for it; the manifest carries the
 *   request annotation and, when known, `metadata.resourceVersion` (the API server then refuses a
 *   changed object with 409, and refuses to create one that has gone).
 * - patch: merge or strategic merge patch with the request annotation (not on the scale or status
 *   subresource, whose metadata the API server ignores) and `metadata.resourceVersion` as a
 *   precondition; the scale subresource honours it too.
 * - delete: `DELETE` with DeleteOptions preconditions (uid, resourceVersion). The API server reads
 *   DeleteOptions from the body when there is one and then ignores the query string, so `dryRun`
 *   must be in the body: `?dryRun=All` next to a body deletes for real.
 */
export function changeRequest(
  change: DesiredChange,
  options: { requestId: string; dryRun: boolean },
): ChangeRequest {
  const dryRun = options.dryRun ? 'All' : undefined;
  switch (change.type) {
    case 'apply': {
      const manifest = structuredClone(change.manifest);
      checkManifest(manifest, change.target);
      const metadata = objectField(manifest, 'metadata');
      metadata['name'] ??= change.target.name;
      if (change.target.namespace) metadata['namespace'] ??= change.target.namespace;
      manifest['apiVersion'] ??= apiVersion(change.target);
      manifest['kind'] ??= change.target.kind;
      objectField(metadata, 'annotations')[REQUEST_ANNOTATION] = options.requestId;
      if (change.resourceVersion) metadata['resourceVersion'] = change.resourceVersion;
      return {
        method: 'PATCH',
        path: targetPath(change.target),
        query: { fieldManager: FIELD_MANAGER, force: change.force === true ? true : undefined, dryRun },
        body: manifest,
        contentType: 'application/apply-patch+yaml',
      };
    }
    case 'patch': {
      const body = structuredClone(change.patch);
      // A subresource (scale, status) ignores metadata but the resourceVersion precondition.
      const sub = change.subresource !== undefined;
      if (!sub || change.resourceVersion) {
        const metadata = objectField(body, 'metadata');
        if (!sub) objectField(metadata, 'annotations')[REQUEST_ANNOTATION] = options.requestId;
        if (change.resourceVersion) metadata['resourceVersion'] = change.resourceVersion;
      }
      return {
        method: 'PATCH',
        path: targetPath(change.target, change.subresource),
        query: { fieldManager: FIELD_MANAGER, dryRun },
        body,
        contentType: PATCH_CONTENT_TYPE[change.patchType],
      };
    }
    case 'delete': {
      const preconditions: Record<string, string> = {};
      if (change.uid) preconditions['uid'] = change.uid;
      if (change.resourceVersion) preconditions['resourceVersion'] = change.resourceVersion;
      const body: Record<string, unknown> = { apiVersion: 'v1', kind: 'DeleteOptions' };
      if (Object.keys(preconditions).length > 0) body['preconditions'] = preconditions;
      if (dryRun) body['dryRun'] = [dryRun];
      return {
        method: 'DELETE',
        path: targetPath(change.target),
        query: { dryRun },
        body,
        contentType: 'application/json',
      };
    }
  }
}

/** The merge patch that labels an object with the request id (after a scale, which cannot carry it). */
export function annotationPatch(requestId: string): Record<string, unknown> {
  return { metadata: { annotations: { [REQUEST_ANNOTATION]: requestId } } };
}

function apiVersion(target: ChangeTarget): string {
  return target.group ? `${target.group}/${target.version}` : target.version;
}

/** A manifest must describe the target it is sent to; a mismatch is a bug in the skill that built it. */
function checkManifest(manifest: Record<string, unknown>, target: ChangeTarget): void {
  const metadata = manifest['metadata'];
  const name = isRecord(metadata) ? metadata['name'] : undefined;
  const namespace = isRecord(metadata) ? metadata['namespace'] : undefined;
  const mismatches = [
    manifest['apiVersion'] !== undefined && manifest['apiVersion'] !== apiVersion(target) ? 'apiVersion' : '',
    manifest['kind'] !== undefined && manifest['kind'] !== target.kind ? 'kind' : '',
    name !== undefined && name !== target.name ? 'metadata.name' : '',
    namespace !== undefined && namespace !== target.namespace ? 'metadata.namespace' : '',
  ].filter(Boolean);
  if (mismatches.length > 0) {
    throw new WheelhouseError(
      'INTERNAL',
      `The change to ${targetRef(target)} does not describe that object (${mismatches.join(', ')} differ).`,
      {
        detail: {
          target,
          manifest: { apiVersion: manifest['apiVersion'], kind: manifest['kind'], metadata },
        },
      },
    );
  }
}

function objectField(parent: Record<string, unknown>, key: string): Record<string, unknown> {
  const value = parent[key];
  if (isRecord(value)) return value;
  const created: Record<string, unknown> = {};
  parent[key] = created;
  return created;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
