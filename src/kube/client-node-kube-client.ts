import { KubeConfig } from '@kubernetes/client-node';
import type { KubeWriter, KubeWriterFactory } from '../changes/types.ts';
import { WheelhouseError } from '../errors.ts';
import { AccessReviewer } from './access-review.ts';
import { ClientNodeKubeReader, type KubeCaches } from './client-node-kube-reader.ts';
import { ClientNodeKubeWriter } from './client-node-kube-writer.ts';
import { KubeHttp, type KubeHttpRequest, type KubeHttpResponse } from './kube-http.ts';
import { deserialize, RESOURCES, type ResourceName } from './resources.ts';
import { TokenBucket } from './token-bucket.ts';
import type { KubeClient, KubeIdentity, KubeReader, KubeReaderOptions } from './types.ts';
import { type KubeLogger, WatchCache } from './watch-cache.ts';

/** How to reach the cluster and how hard to push it. The config layer fills this; nothing here reads the environment. */
export interface ClientNodeKubeClientOptions {
  /** Use the pod's service account (in-cluster config). Wins over `kubeconfigPath`. */
  inCluster?: boolean | undefined;
  /** Kubeconfig file; when neither this nor `inCluster` is set, client-node's default discovery applies. */
  kubeconfigPath?: string | undefined;
  /** Context in the kubeconfig. @default the kubeconfig's current-context */
  context?: string | undefined;
  /** Client-side rate limit for direct requests, like client-go. @default 5 */
  qps?: number | undefined;
  /** @default 10 */
  burst?: number | undefined;
  /** Timeout of each direct request. @default 10_000 */
  requestTimeoutMs?: number | undefined;
  /** Keep watch-fed caches of pods, events, workloads, namespaces and nodes. @default true */
  caches?: boolean | undefined;
  /** How long an access review decision is reused. @default 30_000 */
  accessReviewTtlMs?: number | undefined;
  /** Objects per page in the caches' LISTs. @default 500 */
  listPageSize?: number | undefined;
  logger?: KubeLogger | undefined;
}

/**
 * The KubeClient over @kubernetes/client-node: watch-fed caches (informers) for fast reads, user
 * impersonation for every request, SelfSubjectAccessReviews so cached reads obey RBAC too, a
 * client-side rate limiter and per-request timeouts.
 *
 * ```ts
 * const kube = ClientNodeKubeClient.create({ kubeconfigPath, context: 'prod' });
 * await kube.start();
 * const pods = await kube.as({ user: 'alice', groups: [] }, { requestId }).listPods({ namespace: 'shop' });
 * ```
 */
export class ClientNodeKubeClient implements KubeClient, KubeWriterFactory {
  readonly #kubeConfig: KubeConfig;
  readonly #http: KubeHttp;
  readonly #reviewer: AccessReviewer;
  readonly #caches: KubeCaches | undefined;
  #started = false;

  /** Loads the kubeconfig (or in-cluster config) and builds a client; call `start()` to fill the caches. */
  static create(options: ClientNodeKubeClientOptions = {}): ClientNodeKubeClient {
    return new ClientNodeKubeClient(loadKubeConfig(options), options);
  }

  constructor(kubeConfig: KubeConfig, options: ClientNodeKubeClientOptions = {}) {
    this.#kubeConfig = kubeConfig;
    if (!kubeConfig.getCurrentCluster()) {
      throw new WheelhouseError('CONFIG', 'The kubeconfig names no cluster for its current context.', {
        hint: 'Set a context with a cluster (kubectl config use-context …) or configure Wheelhouse with one.',
      });
    }
    this.#http = new KubeHttp(kubeConfig, {
      timeoutMs: options.requestTimeoutMs ?? 10_000,
      limiter: new TokenBucket({ qps: options.qps ?? 5, burst: options.burst ?? 10 }),
    });
    this.#reviewer = new AccessReviewer(this.#http, { ttlMs: options.accessReviewTtlMs ?? 30_000 });
    this.#caches = options.caches === false ? undefined : this.#makeCaches(options);
  }

  /** Starts the watches; resolves once each cache has tried its first LIST (failed ones keep retrying). */
  async start(): Promise<void> {
    if (this.#started || !this.#caches) return;
    this.#started = true;
    await Promise.all(Object.values(this.#caches).map((cache) => cache.start()));
  }

  ready(): boolean {
    if (!this.#caches) return true;
    return Object.values(this.#caches).every((cache) => cache.synced());
  }

  /** Which caches have not synced and why, for /readyz. */
  pending(): Array<{ resource: string; error: string | undefined }> {
    if (!this.#caches) return [];
    return Object.values(this.#caches)
      .filter((cache) => !cache.synced())
      .map((cache) => ({ resource: cache.info.resource, error: cache.lastError() }));
  }

  as(identity: KubeIdentity | undefined, options: KubeReaderOptions = {}): KubeReader {
    return new ClientNodeKubeReader(
      { http: this.#http, reviewer: this.#reviewer, caches: this.#started ? this.#caches : undefined },
      identity,
      options,
    );
  }

  /** Writes as the identity (impersonated), sharing this client's connections and rate limiter. */
  writerAs(
    identity: KubeIdentity | undefined,
    options: { requestId: string; signal?: AbortSignal | undefined },
  ): KubeWriter {
    return new ClientNodeKubeWriter(this.#http, identity, options);
  }

  /**
   * One request as Wheelhouse's own identity, for objects the bot itself owns (its leader-election
   * Lease). Not rate limited: a renewal queued behind a burst of chat reads would lose the lease.
   */
  requestAsSelf(req: Omit<KubeHttpRequest, 'identity' | 'unlimited'>): Promise<KubeHttpResponse> {
    return this.#http.request({ ...req, unlimited: true });
  }

  /**
   * Raw requests sharing this client's connections and rate limiter, for engines that work with
   * resources the reader does not model (pipeline Jobs, Tekton PipelineRuns).
   */
  get http(): KubeHttp {
    return this.#http;
  }

  describeTarget(): { server: string; context: string } {
    return { server: this.#http.server, context: this.#kubeConfig.getCurrentContext() };
  }

  async close(): Promise<void> {
    if (this.#caches) await Promise.all(Object.values(this.#caches).map((cache) => cache.stop()));
    this.#started = false;
    this.#http.close();
  }

  #makeCaches(options: ClientNodeKubeClientOptions): KubeCaches {
    const make = <K extends ResourceName>(resource: K) =>
      new WatchCache(this.#kubeConfig, this.#http, RESOURCES[resource], {
        deserialize: (raw: unknown) => deserialize(resource, raw),
        pageSize: options.listPageSize,
        logger: options.logger,
      });
    return {
      pods: make('pods'),
      events: make('events'),
      deployments: make('deployments'),
      replicasets: make('replicasets'),
      statefulsets: make('statefulsets'),
      daemonsets: make('daemonsets'),
      jobs: make('jobs'),
      namespaces: make('namespaces'),
      nodes: make('nodes'),
    };
  }
}

function loadKubeConfig(options: ClientNodeKubeClientOptions): KubeConfig {
  const kubeConfig = new KubeConfig();
  const source = options.inCluster
    ? 'the in-cluster service account'
    : (options.kubeconfigPath ?? 'the default kubeconfig');
  try {
    if (options.inCluster) kubeConfig.loadFromCluster();
    else if (options.kubeconfigPath) kubeConfig.loadFromFile(options.kubeconfigPath);
    else kubeConfig.loadFromDefault();
  } catch (error) {
    throw new WheelhouseError('CONFIG', `Could not load Kubernetes credentials from ${source}.`, {
      hint: 'Point Wheelhouse at a readable kubeconfig, or run it in a pod with a service account.',
      detail: error instanceof Error ? error.message : String(error),
      cause: error,
    });
  }
  if (options.context) {
    if (!kubeConfig.getContextObject(options.context)) {
      const known = kubeConfig.getContexts().map((c) => c.name);
      throw new WheelhouseError('CONFIG', `The kubeconfig ${source} has no context "${options.context}".`, {
        hint: known.length ? `Known contexts: ${known.join(', ')}.` : 'It defines no contexts.',
      });
    }
    kubeConfig.setCurrentContext(options.context);
  }
  return kubeConfig;
}
