import { readFileSync } from 'node:fs';
import https from 'node:https';

/**
 * A minimal client of the harness API server as `admin` (system:masters), for setting the bench up
 * and tearing it down fast: keep-alive connections, bounded sockets, JSON in and out. Not used for
 * any measured path: Wheelhouse and kubectl bring their own clients.
 */
export interface ApiResponse {
  status: number;
  body: string;
}

export interface AdminApiOptions {
  server: string;
  token: string;
  caFile: string;
  /** Connections kept open at most. @default 32 */
  maxSockets?: number;
  /** Per-request timeout. @default 60_000 */
  timeoutMs?: number;
}

export class AdminApi {
  readonly server: string;
  readonly #token: string;
  readonly #agent: https.Agent;
  readonly #timeoutMs: number;
  #creating = true;

  constructor(options: AdminApiOptions) {
    this.server = options.server.replace(/\/+$/, '');
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.#agent = new https.Agent({
      keepAlive: true,
      maxSockets: options.maxSockets ?? 32,
      ca: readFileSync(options.caFile),
    });
  }

  /**
   * One request; retried (up to 4 attempts) when the connection fails before an answer, e.g. a
   * kept-alive socket the server closed while the bench was idle ("socket hang up", ECONNRESET).
   * Every request the bench sends is safe to repeat (creates treat 409 as done, deletes 404).
   */
  async request(
    method: 'GET' | 'POST' | 'DELETE' | 'PATCH' | 'PUT',
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#once(method, path, body, headers);
      } catch (error) {
        if (attempt >= 4) throw error;
        await new Promise((r) => setTimeout(r, 250 * attempt));
      }
    }
  }

  #once(
    method: 'GET' | 'POST' | 'DELETE' | 'PATCH' | 'PUT',
    path: string,
    body: unknown,
    headers: Record<string, string>,
  ): Promise<ApiResponse> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = https.request(
        `${this.server}${path}`,
        {
          method,
          agent: this.#agent,
          timeout: this.#timeoutMs,
          headers: {
            authorization: `Bearer ${this.#token}`,
            accept: 'application/json',
            ...(payload === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
            ...headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(new Error(`${method} ${path}: timed out after ${this.#timeoutMs} ms`)),
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** JSON answer of a request that must succeed (2xx, or one of `accept`). */
  async json<T = Record<string, unknown>>(
    method: 'GET' | 'POST' | 'DELETE' | 'PATCH' | 'PUT',
    path: string,
    body?: unknown,
    accept: readonly number[] = [],
    headers: Record<string, string> = {},
  ): Promise<T> {
    const response = await this.request(method, path, body, headers);
    if ((response.status < 200 || response.status >= 300) && !accept.includes(response.status)) {
      throw new Error(`${method} ${path}: HTTP ${response.status} ${response.body.slice(0, 300)}`);
    }
    return (response.body ? JSON.parse(response.body) : {}) as T;
  }

  /** From now on `create` refuses: a clean-up has started and must not race new objects. */
  stopCreating(): void {
    this.#creating = false;
  }

  /** Creates an object; an existing one (409) counts as done. */
  async create(path: string, object: unknown): Promise<'created' | 'exists'> {
    for (let attempt = 0; ; attempt++) {
      if (!this.#creating) throw new Error(`POST ${path}: not creating anything, the bench is cleaning up`);
      const response = await this.request('POST', path, object);
      if (response.status === 201 || response.status === 200) return 'created';
      if (response.status === 409) return 'exists';
      // 429/5xx under load, or a namespace whose service account is not there yet: try again.
      const retriable =
        response.status === 429 ||
        response.status >= 500 ||
        (response.status === 403 && response.body.includes('serviceaccount'));
      if (!retriable || attempt >= 20) {
        throw new Error(`POST ${path}: HTTP ${response.status} ${response.body.slice(0, 300)}`);
      }
      await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
    }
  }

  /** Deletes; a missing object (404) counts as done. */
  async remove(path: string, body?: unknown): Promise<void> {
    const response = await this.request('DELETE', path, body);
    if (response.status === 404 || (response.status >= 200 && response.status < 300)) return;
    throw new Error(`DELETE ${path}: HTTP ${response.status} ${response.body.slice(0, 300)}`);
  }

  /** Number of objects in a collection, without transferring them (metadata-only LIST, limit 1). */
  async count(path: string): Promise<number> {
    const sep = path.includes('?') ? '&' : '?';
    const list = await this.json<{ items?: unknown[]; metadata?: { remainingItemCount?: number } }>(
      'GET',
      `${path}${sep}limit=1`,
      undefined,
      [],
      { accept: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1' },
    );
    return (list.items?.length ?? 0) + (list.metadata?.remainingItemCount ?? 0);
  }

  /** Names (namespace/name) of every object in a collection, metadata only, paged. */
  async names(path: string): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const query = `${sep}limit=2000${token ? `&continue=${encodeURIComponent(token)}` : ''}`;
      const list = await this.json<{
        items?: Array<{ metadata?: { name?: string; namespace?: string } }>;
        metadata?: { continue?: string };
      }>('GET', `${path}${query}`, undefined, [], {
        accept: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1',
      });
      for (const item of list.items ?? [])
        out.push(`${item.metadata?.namespace ?? ''}/${item.metadata?.name ?? ''}`);
      token = list.metadata?.continue || undefined;
    } while (token);
    return out;
  }

  close(): void {
    this.#agent.destroy();
  }
}
