import type { Idempotency } from '../../src/store/types.ts';

/**
 * Idempotency in a Map, for tests. The clock is injected so expiry needs no waiting, and every
 * claim is recorded so a test can wait until a retry was turned away instead of sleeping.
 */
export class MemoryIdempotency implements Idempotency {
  readonly #expires = new Map<string, number>();
  readonly #now: () => number;
  readonly #waiters = new Set<() => void>();
  /** Every claim in order, and whether it was the first. */
  readonly history: Array<{ key: string; first: boolean }> = [];

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async claim(key: string, ttlSeconds: number): Promise<boolean> {
    const now = this.#now();
    const until = this.#expires.get(key);
    const first = until === undefined || until <= now;
    if (first) this.#expires.set(key, now + ttlSeconds * 1000);
    this.history.push({ key, first });
    for (const wake of this.#waiters) wake();
    return first;
  }

  /** Resolves once `key` has been claimed `times` times (the first claim included). */
  claimed(key: string, times: number, timeoutMs = 3000): Promise<void> {
    const enough = (): boolean => this.history.filter((h) => h.key === key).length >= times;
    if (enough()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const wake = (): void => {
        if (!enough()) return;
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(wake);
        reject(new Error(`${key} was not claimed ${times} times within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.add(wake);
    });
  }
}
