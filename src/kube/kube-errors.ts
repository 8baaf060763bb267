import { z } from 'zod';
import { WheelhouseError } from '../errors.ts';
import type { KubeIdentity } from './types.ts';

/** What a request tried to do, in Kubernetes authorization terms, for messages that name it. */
export interface KubeOperation {
  verb: string;
  /** API group, "" for the core group. */
  group: string;
  /** Plural resource, e.g. "pods". */
  resource: string;
  subresource?: string | undefined;
  /** Undefined for cluster-scoped resources and for requests across all namespaces. */
  namespace?: string | undefined;
  name?: string | undefined;
  /** Short kind for "not found" messages, e.g. "deploy" (defaults to the resource). */
  short?: string | undefined;
}

/** The API server's `Status` body of a failed request. */
const StatusBody = z.looseObject({
  message: z.string().optional(),
  reason: z.string().optional(),
  code: z.number().optional(),
});

/** The message of a `Status` response body, if the body is one. */
export function statusMessage(body: string): string | undefined {
  try {
    const parsed = StatusBody.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data.message : undefined;
  } catch {
    return body.trim() ? body.trim().slice(0, 500) : undefined;
  }
}

export function describeIdentity(identity: KubeIdentity | undefined): string {
  return identity ? identity.user : "Wheelhouse's own service account";
}

function resourceText(op: KubeOperation): string {
  return op.subresource ? `${op.resource}/${op.subresource}` : op.resource;
}

function scopeText(op: KubeOperation, clusterScoped: boolean): string {
  if (op.namespace) return ` in namespace ${op.namespace}`;
  return clusterScoped ? '' : ' across all namespaces';
}

const CLUSTER_SCOPED = new Set([
  'nodes',
  'namespaces',
  'persistentvolumes',
  'clusterroles',
  'clusterrolebindings',
]);

/** "Kubernetes does not allow alice to list pods in namespace payments." with a RoleBinding hint. */
export function forbiddenError(
  identity: KubeIdentity | undefined,
  op: KubeOperation,
  detail?: unknown,
): WheelhouseError {
  const clusterScoped = CLUSTER_SCOPED.has(op.resource);
  const what = `${op.verb} ${resourceText(op)}`;
  const message = `Kubernetes does not allow ${describeIdentity(identity)} to ${what}${scopeText(op, clusterScoped)}.`;
  let hint: string;
  if (!identity) {
    hint = `Wheelhouse's own account lacks "${what}"; ask a cluster admin to extend its ClusterRole.`;
  } else if (op.namespace) {
    hint = `Ask a cluster admin for a RoleBinding in ${op.namespace} that grants ${op.verb} on ${resourceText(op)} (for example the "view" ClusterRole).`;
  } else if (clusterScoped) {
    hint = `Ask a cluster admin for a ClusterRoleBinding that grants ${op.verb} on ${resourceText(op)}.`;
  } else {
    hint = `Name one namespace you can read (e.g. \`/wh pods shop\`), or ask a cluster admin for a ClusterRoleBinding that grants ${op.verb} on ${resourceText(op)}.`;
  }
  return new WheelhouseError('FORBIDDEN', message, {
    hint,
    detail: { operation: op, identity, cause: detail },
  });
}

/** The API server refused to let Wheelhouse act as this user or group at all. */
export function impersonationError(identity: KubeIdentity | undefined, detail?: unknown): WheelhouseError {
  const groups = identity?.groups.length ? ` (groups ${identity.groups.join(', ')})` : '';
  return new WheelhouseError(
    'FORBIDDEN',
    `Kubernetes does not let Wheelhouse act as ${describeIdentity(identity)}${groups}.`,
    {
      hint: 'Ask a cluster admin to allow Wheelhouse to impersonate this user and these groups (verb "impersonate" on users and groups), or to map your chat account to a Kubernetes user Wheelhouse may act as.',
      detail: { identity, cause: detail },
    },
  );
}

export function namespaceNotFoundError(namespace: string): WheelhouseError {
  return new WheelhouseError('NOT_FOUND', `Namespace ${namespace} does not exist.`, {
    hint: '`/wh pods -A` lists namespaces with their pods.',
    detail: { namespace },
  });
}

/** "deploy/checkout was not found in namespace shop." */
export function objectNotFoundError(
  short: string,
  name: string,
  namespace: string | undefined,
): WheelhouseError {
  const where = namespace ? ` in namespace ${namespace}` : '';
  const hint = namespace
    ? `\`/wh pods ${namespace}\` lists what runs there; \`/wh pods -A\` lists namespaces.`
    : '`/wh pods -A` lists what runs in the cluster.';
  return new WheelhouseError('NOT_FOUND', `${short}/${name} was not found${where}.`, {
    hint,
    detail: { kind: short, name, namespace },
  });
}

/** Connection refused, DNS failure, TLS problem or no answer in time. */
export function unreachableError(server: string, reason: string, cause?: unknown): WheelhouseError {
  return new WheelhouseError(
    'KUBE_UNREACHABLE',
    `Could not reach the Kubernetes API server at ${server} (${reason}).`,
    {
      hint: "Check that the cluster is up and that Wheelhouse's kubeconfig or service account points at it; then try again.",
      detail: { server, reason },
      cause,
    },
  );
}

/**
 * Maps a failed API response to a WheelhouseError: 401 → FORBIDDEN (Wheelhouse's credentials),
 * 403 → FORBIDDEN naming verb and resource (or the refused impersonation), 404 → NOT_FOUND,
 * 429 → RATE_LIMITED, 5xx → KUBE_UNREACHABLE, anything else → INTERNAL with the server's message.
 */
export function errorFromResponse(
  status: number,
  body: string,
  op: KubeOperation,
  identity: KubeIdentity | undefined,
  server: string,
): WheelhouseError {
  const message = statusMessage(body);
  const detail = { status, message, operation: op, server };
  if (status === 401) {
    return new WheelhouseError(
      'FORBIDDEN',
      `The Kubernetes API server at ${server} did not accept Wheelhouse's credentials.`,
      {
        hint: 'A Wheelhouse admin should check its kubeconfig or service account token (it may have expired).',
        detail,
      },
    );
  }
  if (status === 403) {
    if (message && /cannot impersonate/i.test(message)) return impersonationError(identity, detail);
    return forbiddenError(identity, op, detail);
  }
  if (status === 404) {
    return op.name
      ? objectNotFoundError(op.short ?? op.resource, op.name, op.namespace)
      : new WheelhouseError(
          'NOT_FOUND',
          `Kubernetes does not serve ${op.resource}${op.group ? `.${op.group}` : ''}.`,
          {
            hint: 'This cluster may not have that API; check its version.',
            detail,
          },
        );
  }
  if (status === 429) {
    return new WheelhouseError('RATE_LIMITED', 'The Kubernetes API server asked Wheelhouse to slow down.', {
      hint: 'Try again in a few seconds.',
      detail,
    });
  }
  if (status >= 500) return unreachableError(server, `HTTP ${status}${message ? `: ${message}` : ''}`);
  return new WheelhouseError('INTERNAL', `Kubernetes refused the request: ${message ?? `HTTP ${status}`}`, {
    detail,
  });
}
