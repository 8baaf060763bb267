import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import { z } from 'zod';
import {
  type BlockKitBlock,
  blockTexts,
  type RenderedFile,
  type RenderedMessage,
} from '../../render/block-kit.ts';
import { inlineCode } from '../../render/mrkdwn.ts';
import { slackErrorCode } from './slack-payloads.ts';
import { type RateLimitRetryOptions, withRateLimitRetry } from './slack-web-client.ts';

/** Where an answer goes. */
export interface AnswerTarget {
  channel: string;
  /** Thread to answer in; undefined answers at the top level. */
  threadTs?: string | undefined;
  /** Who asked: receives ephemeral errors and, when the channel refuses us, a DM. */
  userId: string;
  /** A slash command's response_url, which reaches the user even where the bot is not a member. */
  responseUrl?: string | undefined;
  /** Errors go only to the asker (ephemeral) instead of to everyone in the conversation. */
  errorsPrivate: boolean;
}

/** `ok`: delivered where asked; `fallback`: delivered by DM or to the asker only; `failed`: not delivered. */
export type DeliveryOutcome = 'ok' | 'fallback' | 'failed';

export interface DeliveryDeps {
  client: WebClient;
  logger: Logger;
  rateLimit?: RateLimitRetryOptions | undefined;
  /** Timeout of a POST to a response_url. @default 10000 */
  responseUrlTimeoutMs?: number | undefined;
}

/** Errors after which no other route can work either: the token itself is bad. */
const FATAL = new Set(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired']);

/** Errors about the blocks themselves: resending the same blocks elsewhere cannot help. */
const BLOCK_ERRORS = new Set([
  'invalid_blocks',
  'invalid_blocks_format',
  'msg_blocks_too_long',
  'msg_too_long',
]);

/** What to tell the user when the channel refused the answer. */
const ADVICE: Record<string, string> = {
  not_in_channel: 'Invite me with `/invite @Wheelhouse` and ask again.',
  channel_not_found: 'I cannot see that conversation; a private channel needs `/invite @Wheelhouse` first.',
  is_archived: 'That channel is archived.',
  restricted_action: 'A workspace setting stops me from posting there.',
  ratelimited: 'Slack is rate limiting messages there right now.',
};

const postedSchema = z.object({ ts: z.string().min(1), channel: z.string().min(1) });

/**
 * Posts an answer where it was asked and uploads its files into the answer's thread. When the
 * channel refuses (not_in_channel, channel_not_found …) the answer goes to the asker by DM, or
 * through the command's response_url, with a note that says why.
 */
export async function deliverAnswer(
  deps: DeliveryDeps,
  target: AnswerTarget,
  message: RenderedMessage,
  kind: 'result' | 'error',
): Promise<DeliveryOutcome> {
  const privately = kind === 'error' && target.errorsPrivate;
  try {
    if (privately) {
      await call(deps, () =>
        deps.client.chat.postEphemeral({
          channel: target.channel,
          user: target.userId,
          thread_ts: target.threadTs,
          text: message.text,
          blocks: message.blocks,
        }),
      );
    } else {
      const posted = await postMessage(deps, target.channel, target.threadTs, message.text, message.blocks);
      await uploadFiles(deps, posted.channel, target.threadTs ?? posted.ts, message.files);
    }
    return 'ok';
  } catch (error) {
    const code = slackErrorCode(error) ?? 'request_failed';
    deps.logger.warn(
      { err: error, slackError: code, channel: target.channel, user: target.userId },
      'Slack refused the answer where it was asked; trying the fallbacks',
    );
    if (FATAL.has(code)) return 'failed';
    if (BLOCK_ERRORS.has(code)) {
      // A renderer bug, not a channel problem: send the same answer as a text file instead.
      const retry = await deliverAnswer(deps, target, asTextFile(message, code), kind);
      return retry === 'failed' ? 'failed' : 'fallback';
    }
    return fallback(deps, target, message, code, privately);
  }
}

async function fallback(
  deps: DeliveryDeps,
  target: AnswerTarget,
  message: RenderedMessage,
  code: string,
  privately: boolean,
): Promise<DeliveryOutcome> {
  const where = target.channel.startsWith('D') ? 'this conversation' : `<#${target.channel}>`;
  const note: BlockKitBlock = {
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: `:warning: I could not answer in ${where} (${inlineCode(code)}). ${ADVICE[code] ?? 'Here is the answer.'}`,
      },
    ],
  };
  const blocks = [note, ...message.blocks];
  const viaDm = async (): Promise<void> => {
    const posted = await postMessage(deps, target.userId, undefined, message.text, blocks);
    await uploadFiles(deps, posted.channel, posted.ts, message.files);
  };
  const url = target.responseUrl;
  const viaResponseUrl =
    url === undefined
      ? []
      : [
          {
            name: 'response_url',
            run: () =>
              postToResponseUrl(
                url,
                { response_type: 'ephemeral', replace_original: false, text: message.text, blocks },
                deps.responseUrlTimeoutMs ?? 10_000,
              ),
          },
        ];
  const dm = [{ name: 'dm', run: viaDm }];
  // An error is short and private: the response_url keeps it in place. A result may carry files,
  // which only a DM can take.
  const routes = privately ? [...viaResponseUrl, ...dm] : [...dm, ...viaResponseUrl];
  for (const route of routes) {
    try {
      await route.run();
      deps.logger.info({ route: route.name, user: target.userId }, 'Answer delivered by fallback');
      return 'fallback';
    } catch (error) {
      deps.logger.warn(
        { err: error, route: route.name, slackError: slackErrorCode(error) },
        'Fallback delivery failed',
      );
    }
  }
  deps.logger.error(
    { channel: target.channel, user: target.userId },
    'The answer could not be delivered at all',
  );
  return 'failed';
}

/** The answer's text as a file, with one line that says why, for when Slack refused the blocks. */
function asTextFile(message: RenderedMessage, code: string): RenderedMessage {
  const text = message.blocks
    .flatMap(blockTexts)
    .map((t) =>
      t.replaceAll('```', '').replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&'),
    )
    .join('\n');
  return {
    text: message.text,
    blocks: [
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: `:warning: Slack refused to show this answer (${inlineCode(code)}); it is attached as \`answer.txt\`.`,
          },
        ],
      },
    ],
    files: [...message.files, { name: 'answer.txt', title: 'The answer as text', content: text }],
  };
}

function call<T>(deps: DeliveryDeps, fn: () => Promise<T>): Promise<T> {
  return withRateLimitRetry(fn, {
    ...deps.rateLimit,
    onRateLimited: (seconds, attempt) => {
      deps.logger.info(
        { retryAfter: seconds, attempt },
        'Slack rate limited a call; retrying after Retry-After',
      );
      deps.rateLimit?.onRateLimited?.(seconds, attempt);
    },
  });
}

async function postMessage(
  deps: DeliveryDeps,
  channel: string,
  threadTs: string | undefined,
  text: string,
  blocks: BlockKitBlock[],
): Promise<{ ts: string; channel: string }> {
  const response = await call(deps, () =>
    deps.client.chat.postMessage({
      channel,
      thread_ts: threadTs,
      text,
      blocks,
      // Answers name pods and hosts; previews of them would only be noise.
      unfurl_links: false,
      unfurl_media: false,
    }),
  );
  return postedSchema.parse(response);
}

/** Uploads files into a thread with the external upload flow (files.uploadV2). Failures are reported in the thread. */
export async function uploadFiles(
  deps: DeliveryDeps,
  channel: string,
  threadTs: string,
  files: readonly RenderedFile[],
): Promise<boolean> {
  if (files.length === 0) return true;
  try {
    await call(deps, () =>
      deps.client.files.uploadV2({
        channel_id: channel,
        thread_ts: threadTs,
        file_uploads: files.map((f) => ({
          file: typeof f.content === 'string' ? Buffer.from(f.content, 'utf8') : Buffer.from(f.content),
          filename: f.name,
          title: f.title,
        })),
      }),
    );
    return true;
  } catch (error) {
    const code = slackErrorCode(error) ?? 'upload_failed';
    deps.logger.warn(
      { err: error, slackError: code, channel, files: files.map((f) => f.name) },
      'File upload failed',
    );
    const names = files.map((f) => inlineCode(f.name)).join(', ');
    try {
      await postMessage(deps, channel, threadTs, `Could not attach ${files.length} file(s)`, [
        {
          type: 'context',
          elements: [
            { type: 'mrkdwn', text: `:warning: I could not attach ${names} (${inlineCode(code)}).` },
          ],
        },
      ]);
    } catch (noteError) {
      deps.logger.warn({ err: noteError }, 'Could not report the failed upload either');
    }
    return false;
  }
}

async function postToResponseUrl(url: string, body: unknown, timeoutMs: number): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) throw new Error(`response_url answered HTTP ${response.status}`);
}
