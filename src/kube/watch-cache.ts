import {
  type Informer,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  makeInformer,
  type ObjectCache,
} from '@kubernetes/client-node';
import { z } from 'zod';
import { errorFromResponse } from './kube-errors.ts';
import type { KubeHttp } from './kube-http.ts';
import { collectionPath, type ResourceInfo } from './resources.ts';

/** Where caches report trouble (a pino logger fits). */
export interface KubeLogger {
  warn(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
}

export interface WatchCacheOptions<T> {
  /** Turns API JSON into the typed, compacted object (Date fields as Date, no managedFields). */
  deserialize: (raw: unknown) => T;
  /** Objects per LIST page: bounds memory while the first list of a big cluster loads. @default 500 */
  pageSize?: number;
  logger?: KubeLogger | undefined;
  /** Restart delays after a failed list or watch: doubles from `minBackoffMs` up to `maxBackoffMs`. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

const ListPage = z.looseObject({
  metadata: z
    .looseObject({ resourceVersion: z.string().optional(), continue: z.string().optional() })
    .optional(),
  items: z.array(z.unknown()).nullable().optional(),
});

/**
 * A watch-fed cache of one resource across the cluster (client-node's informer). Objects are
 * indexed by namespace by the informer itself, so `list("shop")` costs the pods in shop, not all.
 * Objects are typed like client-node's API responses and lose `managedFields` on the way in.
 *
 * client-node's informer stops on a list or watch error; this cache restarts it with backoff.
 */
export class WatchCache<T extends KubernetesObject> {
  readonly info: ResourceInfo;
  readonly #http: KubeHttp;
  readonly #informer: Informer<T> & ObjectCache<T>;
  readonly #deserialize: (raw: unknown) => T;
  readonly #pageSize: number;
  readonly #logger: KubeLogger | undefined;
  readonly #minBackoffMs: number;
  readonly #maxBackoffMs: number;
  /** Objects that arrived typed from our own LIST; watch events arrive as raw JSON and are typed in place. */
  readonly #typed = new WeakSet<object>();
  #listedOnce = false;
  #synced = false;
  #stopped = true;
  #backoffMs: number;
  #restartTimer: NodeJS.Timeout | undefined;
  #lastError: string | undefined;

  constructor(kubeConfig: KubeConfig, http: KubeHttp, info: ResourceInfo, options: WatchCacheOptions<T>) {
    this.info = info;
    this.#http = http;
    this.#deserialize = options.deserialize;
    this.#pageSize = options.pageSize ?? 500;
    this.#logger = options.logger;
    this.#minBackoffMs = options.minBackoffMs ?? 1_000;
    this.#maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.#backoffMs = this.#minBackoffMs;
    this.#informer = makeInformer<T>(kubeConfig, collectionPath(info), () => this.#listAll());
    const normalize = (object: T): void => this.#normalize(object);
    this.#informer.on('add', normalize);
    this.#informer.on('update', normalize);
    this.#informer.on('error', (error: unknown) => this.#onError(error));
  }

  /** Starts list+watch; resolves after the first attempt (failures keep retrying in the background). */
  async start(): Promise<void> {
    if (!this.#stopped) return;
    this.#stopped = false;
    await this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    await this.#informer.stop();
  }

  /** True once a full LIST has been loaded; stays true while the watch reconnects. */
  synced(): boolean {
    return this.#synced;
  }

  /** Why the last list or watch failed, for /readyz and logs. */
  lastError(): string | undefined {
    return this.#lastError;
  }

  /** Objects in one namespace (O(objects there)), or in all namespaces when `namespace` is undefined. */
  list(namespace?: string): readonly T[] {
    return this.#informer.list(namespace);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#informer.get(name, namespace);
  }

  async #run(): Promise<void> {
    await this.#informer.start();
    if (this.#listedOnce && !this.#synced) {
      this.#synced = true;
      this.#logger?.info(
        { resource: this.info.resource, objects: this.list().length },
        'kubernetes cache synced',
      );
    }
  }

  /** Pages through the collection as Wheelhouse itself, typing and stripping each page as it comes. */
  async #listAll(): Promise<KubernetesListObject<T>> {
    const items: T[] = [];
    let resourceVersion = '';
    let token: string | undefined;
    do {
      const response = await this.#http.request({
        method: 'GET',
        path: collectionPath(this.info),
        query: { limit: this.#pageSize, continue: token },
        unlimited: true,
      });
      if (response.status !== 200) {
        throw errorFromResponse(
          response.status,
          response.body,
          { verb: 'list', group: this.info.group, resource: this.info.resource },
          undefined,
          this.#http.server,
        );
      }
      const page = ListPage.parse(JSON.parse(response.body));
      for (const raw of page.items ?? []) {
        const object = this.#deserialize(raw);
        this.#typed.add(object);
        items.push(object);
      }
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      token = page.metadata?.continue || undefined;
    } while (token);
    this.#listedOnce = true;
    this.#backoffMs = this.#minBackoffMs;
    this.#lastError = undefined;
    return { metadata: { resourceVersion }, items };
  }

  /** Watch events carry raw JSON; give the cached object the same typed shape a LIST yields. */
  #normalize(object: T): void {
    if (this.#typed.has(object)) return;
    Object.assign(object, this.#deserialize(object));
    this.#typed.add(object);
  }

  #onError(error: unknown): void {
    this.#lastError = error instanceof Error ? error.message : String(error);
    if (this.#stopped) return;
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, this.#maxBackoffMs);
    this.#logger?.warn(
      { resource: this.info.resource, error: this.#lastError, retryInMs: delay },
      'kubernetes cache lost its list/watch; retrying',
    );
    clearTimeout(this.#restartTimer);
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      if (!this.#stopped) void this.#run().catch((e: unknown) => this.#onError(e));
    }, delay);
    this.#restartTimer.unref();
  }
}
