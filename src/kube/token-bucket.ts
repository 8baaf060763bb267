import { setTimeout as sleepFor } from 'node:timers/promises';
import { WheelhouseError } from '../errors.ts';

/** Options of the client-side rate limiter; defaults are client-go's (5 requests/s, bursts of 10). */
export interface TokenBucketOptions {
  /** Sustained requests per second. @default 5 */
  qps?: number;
  /** Requests allowed at once after a quiet period. @default 10 */
  burst?: number;
  /** Longest a caller waits for a token before RATE_LIMITED. @default 10_000 */
  maxWaitMs?: number;
  /** Clock in milliseconds; injected by tests. */
  now?: () => number;
  /** Waits `ms`; injected by tests so no test depends on real time. */
  sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
}

/**
 * A token bucket that reserves tokens (like golang.org/x/time/rate's Wait): callers queue fairly
 * and never retry in a loop. The Kubernetes client library has no limiter of its own, and a chat
 * burst must not turn into a burst of LIST requests against the API server.
 */
export class TokenBucket {
  readonly #qps: number;
  readonly #burst: number;
  readonly #maxWaitMs: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  #tokens: number;
  #last: number;

  constructor(options: TokenBucketOptions = {}) {
    this.#qps = options.qps ?? 5;
    this.#burst = Math.max(1, options.burst ?? 10);
    this.#maxWaitMs = options.maxWaitMs ?? 10_000;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? ((ms, signal) => sleepFor(ms, undefined, { signal }));
    this.#tokens = this.#burst;
    this.#last = this.#now();
  }

  /** Milliseconds the next caller would wait; 0 when a token is available. */
  delay(): number {
    this.#refill();
    return this.#tokens >= 1 ? 0 : Math.ceil(((1 - this.#tokens) / this.#qps) * 1000);
  }

  /** Takes one token, waiting for it when needed. Throws RATE_LIMITED if the wait would be too long. */
  async take(signal?: AbortSignal): Promise<void> {
    const wait = this.delay();
    if (wait > this.#maxWaitMs) {
      throw new WheelhouseError(
        'RATE_LIMITED',
        'Wheelhouse is sending Kubernetes too many requests right now.',
        {
          hint: 'Try again in a few seconds.',
          detail: { waitMs: wait, qps: this.#qps, burst: this.#burst },
        },
      );
    }
    // Reserve before sleeping so concurrent callers queue behind each other instead of racing.
    this.#tokens -= 1;
    if (wait > 0) {
      try {
        await this.#sleep(wait, signal);
      } catch (error) {
        this.#tokens += 1;
        throw error;
      }
    }
  }

  #refill(): void {
    const now = this.#now();
    const elapsed = Math.max(0, now - this.#last) / 1000;
    this.#last = now;
    this.#tokens = Math.min(this.#burst, this.#tokens + elapsed * this.#qps);
  }
}
