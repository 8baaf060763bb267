import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { CanaryReporter } from '../../canary/canary-engine.ts';
import { TokenBucket } from '../../kube/token-bucket.ts';
import { renderResultMessage } from '../../render/block-kit.ts';
import { type RateLimitRetryOptions, withRateLimitRetry } from './slack-web-client.ts';

export interface SlackCanaryReporterOptions {
  client: WebClient;
  logger: Logger;
  rateLimit?: RateLimitRetryOptions | undefined;
  /** chat.update is Tier 3 (~50 a minute per workspace), shared with every other in-place message. @default 20 a minute, bursts of 5 */
  updatesPerMinute?: number | undefined;
}

const postedSchema = z.object({ ts: z.string().min(1), channel: z.string().min(1) });

/**
 * One Slack message per canary run: posted in the channel (and thread) the canary was asked for,
 * then updated in place as the run moves (the engine only shows a run when something changed).
 * Runs asked for elsewhere (the console) are logged: nobody reads them in Slack.
 */
export function createSlackCanaryReporter(options: SlackCanaryReporterOptions): CanaryReporter {
  const { client, logger } = options;
  const updates = new TokenBucket({
    qps: (options.updatesPerMinute ?? 20) / 60,
    burst: 5,
    maxWaitMs: 60_000,
  });
  return {
    async show(where, message, view) {
      const rendered = renderResultMessage(view, { note: 'Wheelhouse canary' });
      if (message) {
        await updates.take();
        await withRateLimitRetry(
          () =>
            client.chat.update({
              channel: message.channel,
              ts: message.ts,
              text: rendered.text,
              blocks: rendered.blocks,
            }),
          options.rateLimit,
        );
        return message;
      }
      if (where.surface !== 'slack' || !where.channel) {
        logger.info({ where, summary: view.summary }, 'canary run with no Slack channel to show it in');
        return undefined;
      }
      const channel = where.channel;
      const posted = await withRateLimitRetry(
        () =>
          client.chat.postMessage({
            channel,
            thread_ts: where.thread,
            text: rendered.text,
            blocks: rendered.blocks,
            unfurl_links: false,
            unfurl_media: false,
          }),
        options.rateLimit,
      );
      const parsed = postedSchema.parse(posted);
      return { channel: parsed.channel, ts: parsed.ts };
    },
  };
}
