import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import { z } from 'zod';
import { TokenBucket } from '../../kube/token-bucket.ts';
import type { RunPoster } from '../../pipelines/pipeline-keeper.ts';
import { renderResultMessage } from '../../render/block-kit.ts';
import { type RateLimitRetryOptions, withRateLimitRetry } from './slack-web-client.ts';

export interface SlackRunPosterOptions {
  client: WebClient;
  logger: Logger;
  /** Retries after 429 with Slack's Retry-After. @default 5 attempts, waits up to 60 s */
  rateLimit?: RateLimitRetryOptions | undefined;
  /** chat.update is Tier 3 (~50 a minute per workspace), shared with other threads. @default 30 a minute, bursts of 10 */
  updatesPerMinute?: number | undefined;
}

const postedSchema = z.object({ ts: z.string().min(1), channel: z.string().min(1) });

/** Posts one message per pipeline run (in the request's thread when there is one) and updates it in place. */
export function createSlackRunPoster(options: SlackRunPosterOptions): RunPoster {
  const { client, logger } = options;
  const rateLimit: RateLimitRetryOptions = {
    attempts: 5,
    maxWaitSeconds: 60,
    ...options.rateLimit,
    onRateLimited: (seconds, attempt) =>
      logger.info(
        { retryAfter: seconds, attempt },
        'Slack rate limited a pipeline run message; waiting Retry-After',
      ),
  };
  const updates = new TokenBucket({
    qps: (options.updatesPerMinute ?? 30) / 60,
    burst: 10,
    maxWaitMs: 10 * 60_000,
  });
  const render = (view: Parameters<RunPoster['post']>[1]) =>
    renderResultMessage(view, { note: 'Wheelhouse pipeline run', limits: { maxBlocks: 49 } });
  return {
    async post(where, view) {
      const message = render(view);
      const response = await withRateLimitRetry(
        () =>
          client.chat.postMessage({
            channel: where.channel,
            ...(where.thread ? { thread_ts: where.thread } : {}),
            text: message.text,
            blocks: message.blocks,
            unfurl_links: false,
            unfurl_media: false,
          }),
        rateLimit,
      );
      const posted = postedSchema.parse(response);
      return { channel: posted.channel, ts: posted.ts };
    },
    async update(target, view) {
      const message = render(view);
      await updates.take();
      await withRateLimitRetry(
        () =>
          client.chat.update({
            channel: target.channel,
            ts: target.ts,
            text: message.text,
            blocks: message.blocks,
          }),
        rateLimit,
      );
    },
  };
}
