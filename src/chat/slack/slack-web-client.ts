import type { Logger as BoltLogger } from '@slack/bolt';
import type { WebClientOptions } from '@slack/web-api';
import { rateLimitedErrorSchema } from './slack-payloads.ts';

/** How Wheelhouse talks to the Slack Web API. */
export interface SlackClientSettings {
  /** Base URL of the Web API; tests point it at a local peer. @default 'https://slack.com/api/' */
  apiUrl: string;
  /** Per-request timeout; the SDK's default is none. @default 10000 */
  timeoutMs: number;
  /** Retries of a request that failed on the network or with a 5xx; the SDK's default is 10 over ~30 minutes. @default 2 */
  retries: number;
  /** Requests in flight at once; the SDK's default is 100. @default 8 */
  maxConcurrency: number;
}

export const SLACK_CLIENT_DEFAULTS: SlackClientSettings = {
  apiUrl: 'https://slack.com/api/',
  timeoutMs: 10_000,
  retries: 2,
  maxConcurrency: 8,
};

/** WebClient options chosen for a bot that must answer fast (see FIELD-NOTES: the SDK defaults are not). */
export function slackClientOptions(
  settings: Partial<SlackClientSettings>,
  logger: BoltLogger,
): WebClientOptions {
  const s = { ...SLACK_CLIENT_DEFAULTS, ...settings };
  return {
    slackApiUrl: s.apiUrl,
    logger,
    timeout: s.timeoutMs,
    retryConfig: { retries: s.retries, factor: 2, minTimeout: 250, maxTimeout: 2000, randomize: true },
    maxRequestConcurrency: s.maxConcurrency,
    // On a 429 the SDK would pause its whole queue (every method, every channel) and retry for up to
    // half an hour; rate limits are per method, so the one call is retried by withRateLimitRetry.
    rejectRateLimitedCalls: true,
  };
}

export interface RateLimitRetryOptions {
  /** Calls in total, the first included. @default 3 */
  attempts?: number | undefined;
  /** Longest Retry-After honoured; a longer one fails the call at once. @default 30 */
  maxWaitSeconds?: number | undefined;
  /** Called before each wait, e.g. to log it. */
  onRateLimited?: ((retryAfterSeconds: number, attempt: number) => void) | undefined;
}

/**
 * Runs a Web API call and, when Slack answers 429, waits the Retry-After it gave and tries again,
 * a bounded number of times. Any other failure is thrown as is.
 */
export async function withRateLimitRetry<T>(
  call: () => Promise<T>,
  options: RateLimitRetryOptions = {},
): Promise<T> {
  const attempts = options.attempts ?? 3;
  const maxWait = options.maxWaitSeconds ?? 30;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      const limited = rateLimitedErrorSchema.safeParse(error);
      if (!limited.success || attempt >= attempts || limited.data.retryAfter > maxWait) throw error;
      options.onRateLimited?.(limited.data.retryAfter, attempt);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, limited.data.retryAfter) * 1000));
    }
  }
}
