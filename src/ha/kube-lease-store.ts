import { z } from 'zod';
import { WheelhouseError } from '../errors.ts';
import type { KubeHttpRequest, KubeHttpResponse } from '../kube/kube-http.ts';
import type { LeaseRecord, LeaseStore } from './leader-election.ts';

/** The fields of a coordination.k8s.io/v1 Lease that leader election reads. */
const leaseJson = z.object({
  metadata: z.object({ resourceVersion: z.string() }),
  spec: z
    .object({
      holderIdentity: z.string().nullish(),
      leaseDurationSeconds: z.number().int().nullish(),
      acquireTime: z.string().nullish(),
      renewTime: z.string().nullish(),
      leaseTransitions: z.number().int().nullish(),
    })
    .default({}),
});

/** Sends one request as Wheelhouse's own identity (ClientNodeKubeClient.requestAsSelf). */
export type SelfRequest = (req: Omit<KubeHttpRequest, 'identity' | 'unlimited'>) => Promise<KubeHttpResponse>;

/** One Lease in the API server, read and written with optimistic concurrency (resourceVersion). */
export class KubeLeaseStore implements LeaseStore {
  readonly #request: SelfRequest;
  readonly #namespace: string;
  readonly #name: string;
  readonly #timeoutMs: number;

  constructor(request: SelfRequest, options: { namespace: string; name: string; timeoutMs: number }) {
    this.#request = request;
    this.#namespace = options.namespace;
    this.#name = options.name;
    this.#timeoutMs = options.timeoutMs;
  }

  get description(): string {
    return `lease ${this.#namespace}/${this.#name}`;
  }

  async get(): Promise<LeaseRecord | undefined> {
    const res = await this.#request({ method: 'GET', path: this.#path(true), timeoutMs: this.#timeoutMs });
    if (res.status === 404) return undefined;
    return this.#parse(this.#check(res, 'read'));
  }

  async create(record: Omit<LeaseRecord, 'resourceVersion'>): Promise<LeaseRecord | 'conflict'> {
    const res = await this.#request({
      method: 'POST',
      path: this.#path(false),
      body: this.#body(record, undefined),
      timeoutMs: this.#timeoutMs,
    });
    if (res.status === 409) return 'conflict';
    return this.#parse(this.#check(res, 'create'));
  }

  async update(record: LeaseRecord): Promise<LeaseRecord | 'conflict'> {
    const res = await this.#request({
      method: 'PUT',
      path: this.#path(true),
      body: this.#body(record, record.resourceVersion),
      timeoutMs: this.#timeoutMs,
    });
    if (res.status === 409 || res.status === 404) return 'conflict';
    return this.#parse(this.#check(res, 'update'));
  }

  #path(named: boolean): string {
    const base = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.#namespace)}/leases`;
    return named ? `${base}/${encodeURIComponent(this.#name)}` : base;
  }

  #body(record: Omit<LeaseRecord, 'resourceVersion'>, resourceVersion: string | undefined): unknown {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.#name,
        namespace: this.#namespace,
        ...(resourceVersion ? { resourceVersion } : {}),
      },
      spec: {
        holderIdentity: record.holder,
        leaseDurationSeconds: record.leaseDurationSeconds,
        acquireTime: record.acquireTime,
        renewTime: record.renewTime,
        leaseTransitions: record.transitions,
      },
    };
  }

  #check(res: KubeHttpResponse, verb: string): string {
    if (res.status >= 200 && res.status < 300) return res.body;
    throw new WheelhouseError(
      res.status === 403 ? 'FORBIDDEN' : 'SOURCE_ERROR',
      `Wheelhouse could not ${verb} its ${this.description}.`,
      {
        hint:
          res.status === 403
            ? 'Grant its service account get, create and update on this Lease (the Helm chart does with leaderElection.enabled).'
            : 'Check the API server; leader election retries.',
        detail: `HTTP ${res.status}: ${res.body.slice(0, 300)}`,
      },
    );
  }

  #parse(body: string): LeaseRecord {
    const lease = leaseJson.parse(JSON.parse(body));
    const spec = lease.spec;
    return {
      resourceVersion: lease.metadata.resourceVersion,
      holder: spec.holderIdentity ?? '',
      leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
      acquireTime: spec.acquireTime ?? undefined,
      renewTime: spec.renewTime ?? undefined,
      transitions: spec.leaseTransitions ?? 0,
    };
  }
}
