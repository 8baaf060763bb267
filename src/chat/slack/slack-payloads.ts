import { z } from 'zod';

/**
 * The parts of Slack's payloads Wheelhouse reads, parsed once at the edge. Bolt's own types are
 * declarations, not checks; these schemas are what the listeners trust.
 */

/** A slash command (form fields). */
export const slashCommandSchema = z.object({
  command: z.string().min(1),
  text: z.string().default(''),
  user_id: z.string().min(1),
  user_name: z.string().optional(),
  channel_id: z.string().min(1),
  team_id: z.string().optional(),
  trigger_id: z.string().min(1),
  response_url: z.url().optional(),
});
export type SlashCommand = z.infer<typeof slashCommandSchema>;

/** The Events API envelope around an event. */
export const eventEnvelopeSchema = z.object({
  event_id: z.string().min(1),
  team_id: z.string().optional(),
});

/** `app_mention`: someone wrote @Wheelhouse in a channel. Mentions by bots are not parsed. */
export const appMentionSchema = z.object({
  type: z.literal('app_mention'),
  user: z.string().min(1),
  text: z.string(),
  channel: z.string().min(1),
  ts: z.string().min(1),
  thread_ts: z.string().optional(),
  bot_id: z.undefined().optional(),
});
export type AppMention = z.infer<typeof appMentionSchema>;

/**
 * `message` in a DM with the app. Edits, deletions, joins and bot messages carry a `subtype` or a
 * `bot_id`, and are not questions, so they do not parse.
 */
export const directMessageSchema = z.object({
  type: z.literal('message'),
  channel_type: z.literal('im'),
  user: z.string().min(1),
  text: z.string(),
  channel: z.string().min(1),
  ts: z.string().min(1),
  thread_ts: z.string().optional(),
  subtype: z.undefined().optional(),
  bot_id: z.undefined().optional(),
});
export type DirectMessage = z.infer<typeof directMessageSchema>;

const slackUserSchema = z.object({
  id: z.string().min(1),
  username: z.string().optional(),
  name: z.string().optional(),
});

/** A button or menu in one of our messages was used. */
export const blockActionsSchema = z.object({
  type: z.literal('block_actions'),
  user: slackUserSchema,
  trigger_id: z.string().min(1),
  response_url: z.url().optional(),
  channel: z.object({ id: z.string().min(1) }).optional(),
  /** Where the button is; for an ephemeral message the only trace of it (there is no `message`). */
  container: z
    .object({
      message_ts: z.string().optional(),
      channel_id: z.string().optional(),
      thread_ts: z.string().optional(),
      is_ephemeral: z.boolean().optional(),
    })
    .optional(),
  /** The message holding the button, blocks included, as Slack shows it now. */
  message: z
    .object({
      ts: z.string(),
      thread_ts: z.string().optional(),
      text: z.string().optional(),
      blocks: z.array(z.unknown()).optional(),
    })
    .optional(),
  actions: z
    .array(
      z.object({
        action_id: z.string().min(1),
        block_id: z.string().optional(),
        value: z.string().optional(),
        action_ts: z.string().min(1),
      }),
    )
    .min(1),
});

/** One block action, flattened for the feature that handles it (e.g. approvals). */
export interface SlackBlockAction {
  actionId: string;
  blockId: string | undefined;
  value: string | undefined;
  userId: string;
  /** The user's handle, when Slack sends it. */
  userName: string | undefined;
  channelId: string | undefined;
  /** The message holding the button; undefined for an ephemeral message. */
  messageTs: string | undefined;
  threadTs: string | undefined;
  /** The text and blocks of the message holding the button, to update it in place. */
  messageText: string | undefined;
  messageBlocks: unknown[] | undefined;
  triggerId: string;
  responseUrl: string | undefined;
  actionTs: string;
}

/** Flattens a parsed block_actions payload into one entry per action. */
export function toBlockActions(body: z.infer<typeof blockActionsSchema>): SlackBlockAction[] {
  return body.actions.map((a) => ({
    actionId: a.action_id,
    blockId: a.block_id,
    value: a.value,
    userId: body.user.id,
    userName: body.user.username ?? body.user.name,
    channelId: body.channel?.id ?? body.container?.channel_id,
    messageTs: body.message?.ts,
    threadTs: body.message?.thread_ts,
    messageText: body.message?.text,
    messageBlocks: body.message?.blocks,
    triggerId: body.trigger_id,
    responseUrl: body.response_url,
    actionTs: a.action_ts,
  }));
}

/** A modal of ours was submitted. */
export const viewSubmissionSchema = z.object({
  type: z.literal('view_submission'),
  user: slackUserSchema,
  view: z.object({
    id: z.string().min(1),
    callback_id: z.string(),
    private_metadata: z.string().default(''),
    state: z.object({
      values: z.record(
        z.string(),
        z.record(z.string(), z.object({ type: z.string().optional(), value: z.string().nullish() })),
      ),
    }),
  }),
});
export type ViewSubmission = z.infer<typeof viewSubmissionSchema>;

/** How `@slack/web-api` reports a Slack error answer (`{ ok: false, error }`). */
export const platformErrorSchema = z.object({
  code: z.literal('slack_webapi_platform_error'),
  data: z.object({ error: z.string() }),
});

/** How `@slack/web-api` reports a 429 when `rejectRateLimitedCalls` is on. */
export const rateLimitedErrorSchema = z.object({
  code: z.literal('slack_webapi_rate_limited_error'),
  retryAfter: z.number(),
});

/** The Slack error code of a failed Web API call (`not_in_channel` …), or undefined for other failures. */
export function slackErrorCode(error: unknown): string | undefined {
  const platform = platformErrorSchema.safeParse(error);
  if (platform.success) return platform.data.data.error;
  if (rateLimitedErrorSchema.safeParse(error).success) return 'ratelimited';
  return undefined;
}
