import { describe, expect, it } from 'vitest';
import {
  appMentionSchema,
  blockActionsSchema,
  directMessageSchema,
  slackErrorCode,
  slashCommandSchema,
  toBlockActions,
  viewSubmissionSchema,
} from '../../../src/chat/slack/slack-payloads.ts';
import { appMentionEvent, directMessageEvent } from '../../support/slack-signing.ts';

describe('Slack payload schemas', () => {
  it('reads a slash command and defaults missing text to empty', () => {
    const parsed = slashCommandSchema.parse({
      command: '/wh',
      user_id: 'U1',
      channel_id: 'C1',
      trigger_id: 't1',
      response_url: 'https://hooks.slack.com/commands/1',
      extra: 'ignored',
    });
    expect(parsed).toEqual({
      command: '/wh',
      text: '',
      user_id: 'U1',
      channel_id: 'C1',
      trigger_id: 't1',
      response_url: 'https://hooks.slack.com/commands/1',
    });
    expect(slashCommandSchema.safeParse({ command: '/wh', channel_id: 'C1', trigger_id: 't' }).success).toBe(
      false,
    );
  });

  it('accepts plain DMs from people only', () => {
    expect(directMessageSchema.safeParse(directMessageEvent({ text: 'pods' })).success).toBe(true);
    expect(
      directMessageSchema.safeParse(directMessageEvent({ text: 'x', subtype: 'message_changed' })).success,
    ).toBe(false);
    expect(directMessageSchema.safeParse(directMessageEvent({ text: 'x', botId: 'B1' })).success).toBe(false);
    expect(
      directMessageSchema.safeParse({ ...directMessageEvent({ text: 'x' }), channel_type: 'channel' })
        .success,
    ).toBe(false);
  });

  it('ignores mentions posted by bots', () => {
    expect(appMentionSchema.safeParse(appMentionEvent({ text: '<@UBOT> pods' })).success).toBe(true);
    expect(appMentionSchema.safeParse({ ...appMentionEvent({ text: 'x' }), bot_id: 'B1' }).success).toBe(
      false,
    );
  });

  it('flattens block actions', () => {
    const body = blockActionsSchema.parse({
      type: 'block_actions',
      user: { id: 'U1' },
      trigger_id: 't1',
      channel: { id: 'C1' },
      message: { ts: '1.2', thread_ts: '1.0' },
      actions: [{ action_id: 'approve', block_id: 'b', value: 'plan-1', action_ts: '3.4' }],
    });
    expect(toBlockActions(body)).toStrictEqual([
      {
        actionId: 'approve',
        blockId: 'b',
        value: 'plan-1',
        userId: 'U1',
        userName: undefined,
        channelId: 'C1',
        messageTs: '1.2',
        threadTs: '1.0',
        messageText: undefined,
        messageBlocks: undefined,
        triggerId: 't1',
        responseUrl: undefined,
        actionTs: '3.4',
      },
    ]);
  });

  it('keeps the blocks of the clicked message as Slack sent them, to update it in place', () => {
    const blocks = [
      { type: 'section', block_id: 'x1', text: { type: 'mrkdwn', text: 'diff', verbatim: false } },
      {
        type: 'actions',
        block_id: 'wh-actions-1',
        elements: [{ type: 'button', action_id: 'wh-command-0' }],
      },
    ];
    const [action] = toBlockActions(
      blockActionsSchema.parse({
        type: 'block_actions',
        user: { id: 'U1', username: 'ana' },
        trigger_id: 't1',
        channel: { id: 'C1' },
        message: { ts: '1.2', text: 'Waiting for approval', blocks },
        actions: [{ action_id: 'wh-command-0', value: 'approve abcdef', action_ts: '3.4' }],
      }),
    );
    expect(action).toMatchObject({
      userName: 'ana',
      messageText: 'Waiting for approval',
      messageBlocks: blocks,
    });
  });

  it('finds the channel of a click on an ephemeral message, which has no message object', () => {
    const [action] = toBlockActions(
      blockActionsSchema.parse({
        type: 'block_actions',
        user: { id: 'U1' },
        trigger_id: 't1',
        container: { type: 'message', message_ts: '1.2', channel_id: 'C9', is_ephemeral: true },
        actions: [{ action_id: 'wh-command-0', value: 'approve abcdef', action_ts: '3.4' }],
      }),
    );
    expect(action).toMatchObject({ channelId: 'C9', messageTs: undefined, messageBlocks: undefined });
  });

  it('reads the inputs of a submitted modal', () => {
    const body = viewSubmissionSchema.parse({
      type: 'view_submission',
      user: { id: 'U1', username: 'ana' },
      view: {
        id: 'V1',
        callback_id: 'wh-deny',
        private_metadata: '{"a":"abcdef","c":"C1"}',
        state: { values: { 'wh-deny-reason': { reason: { type: 'plain_text_input', value: 'not today' } } } },
      },
    });
    expect(body.view.state.values['wh-deny-reason']?.reason?.value).toBe('not today');
    expect(viewSubmissionSchema.safeParse({ ...body, type: 'view_closed' }).success).toBe(false);
  });

  it('reads Slack error codes from @slack/web-api errors', () => {
    expect(
      slackErrorCode({ code: 'slack_webapi_platform_error', data: { ok: false, error: 'not_in_channel' } }),
    ).toBe('not_in_channel');
    expect(slackErrorCode({ code: 'slack_webapi_rate_limited_error', retryAfter: 3 })).toBe('ratelimited');
    expect(slackErrorCode(new Error('socket hang up'))).toBeUndefined();
  });
});
