import { z } from 'zod';
import { errorFromResponse, forbiddenError, type KubeOperation } from './kube-errors.ts';
import type { KubeHttp } from './kube-http.ts';
import type { KubeIdentity } from './types.ts';

export interface AccessReviewOptions {
  /** How long a decision (allowed or denied) is reused. @default 30_000 */
  ttlMs?: number;
  /** Decisions kept at most; the oldest go first. @default 10_000 */
  maxEntries?: number;
  now?: () => number;
}

export interface ReviewContext {
  signal?: AbortSignal | undefined;
  auditId?: string | undefined;
}

const ReviewResponse = z.looseObject({
  status: z.looseObject({
    allowed: z.boolean(),
    denied: z.boolean().optional(),
    reason: z.string().optional(),
  }),
});

const SSAR_PATH = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews';

interface Entry {
  expires: number;
  decision: Promise<boolean>;
}

/**
 * Answers "may this identity do this?" for reads served from Wheelhouse's caches, so a cache never
 * shows a user more than the API server would. It asks the API server with a
 * SelfSubjectAccessReview sent *as* the user (impersonation headers): the bot then needs no
 * permission on subjectaccessreviews, only the `impersonate` it needs anyway. Decisions are
 * reused for ~30 s per (user, groups, verb, resource, namespace); concurrent identical questions
 * share one request.
 */
export class AccessReviewer {
  readonly #http: KubeHttp;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #decisions = new Map<string, Entry>();
  /** Requests sent to the API server, for metrics and tests. */
  requests = 0;

  constructor(http: KubeHttp, options: AccessReviewOptions = {}) {
    this.#http = http;
    this.#ttlMs = options.ttlMs ?? 30_000;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** Throws FORBIDDEN (naming verb, resource and namespace) unless the identity may do `op`. */
  async check(identity: KubeIdentity, op: KubeOperation, context: ReviewContext = {}): Promise<void> {
    if (!(await this.allowed(identity, op, context))) throw forbiddenError(identity, op);
  }

  async allowed(identity: KubeIdentity, op: KubeOperation, context: ReviewContext = {}): Promise<boolean> {
    const key = JSON.stringify([
      identity.user,
      [...identity.groups].sort(),
      op.verb,
      op.group,
      op.resource,
      op.subresource ?? '',
      op.namespace ?? '',
      op.name ?? '',
    ]);
    const now = this.#now();
    const known = this.#decisions.get(key);
    if (known && known.expires > now) return known.decision;

    const decision = this.#ask(identity, op, context);
    this.#remember(key, { expires: now + this.#ttlMs, decision });
    try {
      return await decision;
    } catch (error) {
      // Failures (API server down, impersonation refused) are not decisions: ask again next time.
      if (this.#decisions.get(key)?.decision === decision) this.#decisions.delete(key);
      throw error;
    }
  }

  async #ask(identity: KubeIdentity, op: KubeOperation, context: ReviewContext): Promise<boolean> {
    this.requests++;
    return reviewAccess(this.#http, identity, op, context);
  }

  #remember(key: string, entry: Entry): void {
    this.#decisions.delete(key);
    if (this.#decisions.size >= this.#maxEntries) {
      const now = this.#now();
      for (const [k, e] of this.#decisions) if (e.expires <= now) this.#decisions.delete(k);
      // Still full: drop the oldest (Map keeps insertion order).
      while (this.#decisions.size >= this.#maxEntries) {
        const oldest = this.#decisions.keys().next();
        if (oldest.done) break;
        this.#decisions.delete(oldest.value);
      }
    }
    this.#decisions.set(key, entry);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * One SelfSubjectAccessReview as the identity, uncached: true when the API server allows `op`.
 * The reader's cache and the writer (which asks afresh before every change) both use it.
 */
export async function reviewAccess(
  http: KubeHttp,
  identity: KubeIdentity | undefined,
  op: KubeOperation,
  context: ReviewContext,
): Promise<boolean> {
  const response = await http.request({
    method: 'POST',
    path: SSAR_PATH,
    identity,
    auditId: context.auditId,
    signal: context.signal,
    body: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: {
        resourceAttributes: {
          verb: op.verb,
          group: op.group,
          resource: op.resource,
          ...(op.subresource ? { subresource: op.subresource } : {}),
          ...(op.namespace ? { namespace: op.namespace } : {}),
          ...(op.name ? { name: op.name } : {}),
        },
      },
    },
  });
  const review = { verb: 'create', group: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews' };
  if (response.status < 200 || response.status >= 300) {
    throw errorFromResponse(response.status, response.body, review, identity, http.server);
  }
  const parsed = ReviewResponse.safeParse(safeJson(response.body));
  if (!parsed.success) {
    throw errorFromResponse(
      500,
      'unreadable SelfSubjectAccessReview response',
      review,
      identity,
      http.server,
    );
  }
  return parsed.data.status.allowed && parsed.data.status.denied !== true;
}
