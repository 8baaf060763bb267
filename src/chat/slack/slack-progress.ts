import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ChangeTarget, RolloutProgress } from '../../changes/types.ts';
import { escapeMrkdwn } from '../../render/mrkdwn.ts';
import { rateLimitedErrorSchema, slackErrorCode } from './slack-payloads.ts';
import { type RateLimitRetryOptions, withRateLimitRetry } from './slack-web-client.ts';

/**
 * Rollout progress in one Slack message, updated in place. `chat.update` is Tier 3 (~50 a minute
 * for the whole workspace, see FIELD-NOTES), so updates are coalesced: the first event posts the
 * message, later ones keep only the latest state and update it at most once per interval (a timer
 * sends the last one); a done/failed state is sent at once. A second rollout in the same request
 * (the rollback after a failed verification) gets a message of its own, so the failure stays on
 * screen. Nothing here ever throws to the caller: Slack failures are logged and the request goes on.
 */

/** Time and timers, injectable so tests do not wait. */
export interface ProgressClock {
  now(): number;
  /** Runs `fn` after `ms`; returns a function that cancels it. */
  schedule(fn: () => void, ms: number): () => void;
}

export const systemClock: ProgressClock = {
  now: () => Date.now(),
  schedule(fn, ms) {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

export interface ProgressSettings {
  /** Least time between two updates of one progress message. @default 3000 */
  intervalMs?: number | undefined;
  clock?: ProgressClock | undefined;
}

export const DEFAULT_PROGRESS_INTERVAL_MS = 3000;

/** A posted message. */
export interface ProgressMessageRef {
  channel: string;
  ts: string;
}

/** How the message is sent; {@link slackProgressPort} wires it to chat.postMessage / chat.update. */
export interface ProgressPort {
  post(text: string): Promise<ProgressMessageRef>;
  update(message: ProgressMessageRef, text: string): Promise<void>;
}

/** Consecutive failed updates after which a request stops showing progress. */
const MAX_FAILURES = 3;
/** Problem lines shown under a failed rollout. */
const MAX_PROBLEMS = 5;
const MAX_MESSAGE_CHARS = 1000;

/** One rollout followed: one message. */
interface Episode {
  message: ProgressMessageRef | undefined;
  /** The latest state not yet shown. */
  pending: { text: string; final: boolean } | undefined;
  last: RolloutProgress | undefined;
  /** Text the message shows now. */
  shown: string | undefined;
  /** When the last update was sent (attempted). */
  sentAt: number;
  /** Slack asked us to wait (429 Retry-After) until then. */
  notBefore: number;
  /** A done/failed state arrived: later events start a new message. */
  closed: boolean;
}

export class ProgressReporter {
  readonly #port: ProgressPort;
  readonly #intervalMs: number;
  readonly #clock: ProgressClock;
  readonly #logger: Logger;
  #episodes: Episode[] = [];
  #busy = false;
  #cancelTimer: (() => void) | undefined;
  #disabled = false;
  #settling = false;
  #failures = 0;
  #idleWaiters: Array<() => void> = [];

  constructor(
    port: ProgressPort,
    options: { logger: Logger; intervalMs?: number | undefined; clock?: ProgressClock | undefined },
  ) {
    this.#port = port;
    this.#logger = options.logger;
    this.#intervalMs = options.intervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS;
    this.#clock = options.clock ?? systemClock;
  }

  /** The `onProgress` of a ChatRequest: returns at once, never throws. */
  readonly push = (progress: RolloutProgress): void => {
    try {
      if (this.#disabled || this.#settling) return;
      let episode = this.#episodes.at(-1);
      if (episode === undefined || episode.closed) {
        episode = {
          message: undefined,
          pending: undefined,
          last: undefined,
          shown: undefined,
          sentAt: Number.NEGATIVE_INFINITY,
          notBefore: Number.NEGATIVE_INFINITY,
          closed: false,
        };
        this.#episodes.push(episode);
      }
      const final = progress.phase !== 'progressing';
      episode.last = progress;
      episode.pending = { text: progressText(progress), final };
      if (final) episode.closed = true;
      this.#pump();
    } catch (error) {
      this.#logger.warn({ err: error }, 'Could not show rollout progress');
    }
  };

  /**
   * Ends the request's progress: sends what is still pending at once (ignoring the interval), marks
   * a rollout that never reached done/failed as no longer followed, and waits for the calls in
   * flight. Never rejects.
   */
  settle(): Promise<void> {
    if (!this.#settling) {
      this.#settling = true;
      this.#cancelTimer?.();
      this.#cancelTimer = undefined;
      for (const episode of this.#episodes) {
        if (episode.closed || episode.last === undefined) continue;
        episode.closed = true;
        episode.pending = { text: stoppedText(episode.last), final: true };
      }
      this.#pump();
    }
    return this.#whenIdle();
  }

  #whenIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #isIdle(): boolean {
    return !this.#busy && this.#cancelTimer === undefined && this.#episodes.every((e) => !e.pending);
  }

  #pump(): void {
    if (this.#busy) return;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    if (this.#disabled) this.#episodes = [];
    // Rollouts whose final state is shown are done with.
    while (this.#episodes[0]?.closed && this.#episodes[0].pending === undefined) this.#episodes.shift();
    const head = this.#episodes[0];
    const pending = head?.pending;
    if (head !== undefined && pending !== undefined) {
      if (head.message === undefined) {
        this.#run(() => this.#post(head));
        return;
      }
      if (pending.text === head.shown) {
        head.pending = undefined;
        this.#pump();
        return;
      }
      const now = this.#clock.now();
      const due = this.#settling
        ? now
        : Math.max(head.notBefore, pending.final ? now : head.sentAt + this.#intervalMs);
      if (due <= now) {
        this.#run(() => this.#update(head));
        return;
      }
      this.#cancelTimer = this.#clock.schedule(() => {
        this.#cancelTimer = undefined;
        this.#pump();
      }, due - now);
      return;
    }
    if (this.#isIdle()) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  #run(op: () => Promise<void>): void {
    this.#busy = true;
    op()
      .catch((error: unknown) => this.#logger.warn({ err: error }, 'Rollout progress failed'))
      .finally(() => {
        this.#busy = false;
        this.#pump();
      });
  }

  async #post(episode: Episode): Promise<void> {
    const pending = episode.pending;
    if (pending === undefined) return;
    episode.pending = undefined;
    episode.sentAt = this.#clock.now();
    try {
      episode.message = await this.#port.post(pending.text);
      episode.shown = pending.text;
    } catch (error) {
      // Most likely the channel refuses us (not_in_channel …), which the answer's delivery handles;
      // trying again on every event would only spend the rate limit.
      this.#disabled = true;
      this.#logger.warn(
        { err: error, slackError: slackErrorCode(error) },
        'Could not post the rollout progress; the request goes on without it',
      );
    }
  }

  async #update(episode: Episode): Promise<void> {
    const pending = episode.pending;
    const message = episode.message;
    if (pending === undefined || message === undefined) return;
    episode.pending = undefined;
    episode.sentAt = this.#clock.now();
    try {
      await this.#port.update(message, pending.text);
      episode.shown = pending.text;
      this.#failures = 0;
    } catch (error) {
      const limited = rateLimitedErrorSchema.safeParse(error);
      if (limited.success && !this.#settling) {
        // Keep the state (unless a newer one came meanwhile) and try again after Retry-After.
        episode.notBefore = this.#clock.now() + Math.max(0, limited.data.retryAfter) * 1000;
        episode.pending ??= pending;
        this.#logger.info({ retryAfter: limited.data.retryAfter }, 'Slack rate limited a progress update');
        return;
      }
      this.#failures += 1;
      if (this.#failures >= MAX_FAILURES) this.#disabled = true;
      this.#logger.warn(
        { err: error, slackError: slackErrorCode(error), channel: message.channel, ts: message.ts },
        'Could not update the rollout progress message',
      );
    }
  }
}

const postedSchema = z.object({ ts: z.string().min(1), channel: z.string().min(1) });

/** Progress posted with chat.postMessage where the answer goes (its thread, if any), updated with chat.update. */
export function slackProgressPort(
  client: WebClient,
  where: { channel: string; threadTs?: string | undefined },
  rateLimit?: RateLimitRetryOptions | undefined,
): ProgressPort {
  return {
    async post(text) {
      const response = await withRateLimitRetry(
        () =>
          client.chat.postMessage({
            channel: where.channel,
            thread_ts: where.threadTs,
            text,
            unfurl_links: false,
            unfurl_media: false,
          }),
        rateLimit,
      );
      return postedSchema.parse(response);
    },
    async update(message, text) {
      // No retry here: a 429 is handled by the reporter, which then sends the newest state instead.
      await client.chat.update({ channel: message.channel, ts: message.ts, text });
    },
  };
}

// --- Text --------------------------------------------------------------------------------------

const SHORT_KIND: Record<string, string> = { Deployment: 'deploy', StatefulSet: 'sts', DaemonSet: 'ds' };

function workloadRef(target: ChangeTarget): string {
  const kind = SHORT_KIND[target.kind] ?? target.kind.toLowerCase();
  return escapeMrkdwn(`${kind}/${target.name} in ${target.namespace}`);
}

function countsText(p: RolloutProgress): string {
  return `${p.updated}/${p.desired} updated · ${p.ready}/${p.desired} ready · ${p.available}/${p.desired} available`;
}

function clip(text: string): string {
  return text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS - 1)}…` : text;
}

/** The message text for a state, e.g. ":arrows_counterclockwise: Rolling out deploy/checkout in shop: 2/3 updated · …". */
export function progressText(p: RolloutProgress): string {
  const what = workloadRef(p.target);
  switch (p.phase) {
    case 'progressing':
      return `:arrows_counterclockwise: Rolling out ${what}: ${countsText(p)}`;
    case 'done':
      return `:white_check_mark: Rolled out ${what}: ${countsText(p)}`;
    case 'failed': {
      const problems = (p.problems ?? [])
        .slice(0, MAX_PROBLEMS)
        .map((line) => `\n• ${escapeMrkdwn(clip(line))}`);
      return `:x: Rollout of ${what} failed: ${countsText(p)} — ${escapeMrkdwn(clip(p.message))}${problems.join('')}`;
    }
  }
}

/** For a rollout the request stopped following before done/failed (cancelled, or the handler failed). */
export function stoppedText(p: RolloutProgress): string {
  return `:warning: Stopped following the rollout of ${workloadRef(p.target)}: ${countsText(p)}`;
}
