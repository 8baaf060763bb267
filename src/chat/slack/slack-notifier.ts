import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import { renderResultMessage } from '../../render/block-kit.ts';
import type { ChatNotifier } from '../../runner/verification-keeper.ts';
import { uploadFiles } from './slack-delivery.ts';
import { type RateLimitRetryOptions, withRateLimitRetry } from './slack-web-client.ts';

export interface SlackNotifierOptions {
  client: WebClient;
  logger: Logger;
  rateLimit?: RateLimitRetryOptions | undefined;
  /** Also posts every notice here (e.g. the on-call approvals channel). */
  copyTo?: string | undefined;
}

/**
 * Posts results that belong to no request in flight (a resumed verification, an approval about
 * to expire or expired) in the thread or channel they started in, and in the copy channel.
 * Notices for other surfaces (the console) are only logged: nobody is there to read them.
 */
export function createSlackNotifier(options: SlackNotifierOptions): ChatNotifier {
  const { client, logger } = options;
  const post = async (
    channel: string,
    thread: string | undefined,
    result: Parameters<ChatNotifier['notify']>[1],
  ) => {
    const message = renderResultMessage(result, { note: 'Wheelhouse' });
    const posted = await withRateLimitRetry(
      () =>
        client.chat.postMessage({
          channel,
          thread_ts: thread,
          text: message.text,
          blocks: message.blocks,
          unfurl_links: false,
          unfurl_media: false,
        }),
      options.rateLimit,
    );
    const ts = thread ?? (typeof posted.ts === 'string' ? posted.ts : undefined);
    if (message.files.length && ts) {
      await uploadFiles({ client, logger, rateLimit: options.rateLimit }, channel, ts, message.files);
    }
  };
  return {
    async notify(where, result) {
      const targets: Array<{ channel: string; thread: string | undefined }> = [];
      if (where.surface === 'slack' && where.channel)
        targets.push({ channel: where.channel, thread: where.thread });
      if (options.copyTo && options.copyTo !== where.channel)
        targets.push({ channel: options.copyTo, thread: undefined });
      if (!targets.length) logger.info({ where, summary: result.summary }, 'notice with nowhere to post it');
      for (const t of targets) await post(t.channel, t.thread, result);
    },
  };
}
