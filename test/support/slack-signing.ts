import { createHmac } from 'node:crypto';

/**
 * Builds requests the way Slack sends them to a Request URL: the body, its content type, and the
 * `v0=` HMAC-SHA256 signature of `v0:{timestamp}:{body}` with the signing secret.
 */

/** A request ready to POST. */
export interface SignedRequest {
  headers: Record<string, string>;
  body: string;
}

export interface SignOptions {
  secret: string;
  /** Unix seconds; defaults to now. */
  timestamp?: number | undefined;
  /** Adds `X-Slack-Retry-Num` / `X-Slack-Retry-Reason` as Slack does on a retry. */
  retryNum?: number | undefined;
  retryReason?: string | undefined;
}

/** The `v0=` signature of a body. */
export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

/** Signs a body; `contentType` must be exactly what Slack sends (Bolt compares it verbatim). */
export function signRequest(body: string, contentType: string, options: SignOptions): SignedRequest {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': contentType,
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': slackSignature(options.secret, timestamp, body),
  };
  if (options.retryNum !== undefined) {
    headers['x-slack-retry-num'] = String(options.retryNum);
    headers['x-slack-retry-reason'] = options.retryReason ?? 'http_timeout';
  }
  return { headers, body };
}

export interface SlashCommandFields {
  text: string;
  command?: string;
  userId?: string;
  userName?: string;
  channelId?: string;
  teamId?: string;
  triggerId?: string;
  responseUrl?: string;
}

/** A slash command, form-encoded. */
export function slashCommandRequest(fields: SlashCommandFields, options: SignOptions): SignedRequest {
  const body = new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: fields.teamId ?? 'T0001',
    team_domain: 'peer',
    channel_id: fields.channelId ?? 'C0001',
    channel_name: 'general',
    user_id: fields.userId ?? 'U0001',
    user_name: fields.userName ?? 'ana',
    command: fields.command ?? '/wh',
    text: fields.text,
    api_app_id: 'A0001',
    is_enterprise_install: 'false',
    response_url: fields.responseUrl ?? 'https://hooks.slack.test/commands/T0001/1/abc',
    trigger_id: fields.triggerId ?? `trigger-${Math.random().toString(36).slice(2)}`,
  }).toString();
  return signRequest(body, 'application/x-www-form-urlencoded', options);
}

/** An `event_callback` envelope around an event, JSON. */
export function eventCallbackRequest(
  event: Record<string, unknown>,
  envelope: { eventId: string; teamId?: string },
  options: SignOptions,
): SignedRequest {
  const body = JSON.stringify({
    token: 'deprecated-verification-token',
    team_id: envelope.teamId ?? 'T0001',
    api_app_id: 'A0001',
    event,
    type: 'event_callback',
    event_id: envelope.eventId,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ team_id: envelope.teamId ?? 'T0001', user_id: 'UBOT0001', is_bot: true }],
  });
  return signRequest(body, 'application/json', options);
}

/** An `app_mention` event, as in a channel message "<@UBOT0001> pods shop". */
export function appMentionEvent(fields: {
  text: string;
  user?: string;
  channel?: string;
  ts?: string;
  threadTs?: string;
}): Record<string, unknown> {
  const ts = fields.ts ?? '1700000000.000100';
  return {
    type: 'app_mention',
    user: fields.user ?? 'U0001',
    text: fields.text,
    ts,
    channel: fields.channel ?? 'C0001',
    event_ts: ts,
    ...(fields.threadTs ? { thread_ts: fields.threadTs } : {}),
  };
}

/** A `message` event in a DM with the app (message.im). */
export function directMessageEvent(fields: {
  text: string;
  user?: string;
  channel?: string;
  ts?: string;
  subtype?: string;
  botId?: string;
}): Record<string, unknown> {
  const ts = fields.ts ?? '1700000000.000200';
  return {
    type: 'message',
    channel_type: 'im',
    user: fields.user ?? 'U0001',
    text: fields.text,
    ts,
    channel: fields.channel ?? 'D0001',
    event_ts: ts,
    ...(fields.subtype ? { subtype: fields.subtype } : {}),
    ...(fields.botId ? { bot_id: fields.botId } : {}),
  };
}

/** A `block_actions` interaction (a button click), form-encoded with a JSON `payload`. */
export function blockActionsRequest(
  fields: {
    actionId: string;
    value?: string;
    userId?: string;
    userName?: string;
    channelId?: string;
    messageTs?: string;
    /** Set when the message with the button is itself a reply in a thread. */
    threadTs?: string;
    /** The message with the button as Slack sends it back: its text and blocks. */
    messageText?: string;
    messageBlocks?: unknown[];
    /** Each click has its own; a retry of one click repeats it. */
    actionTs?: string;
    triggerId?: string;
    responseUrl?: string;
  },
  options: SignOptions,
): SignedRequest {
  const channel = fields.channelId ?? 'C0001';
  const messageTs = fields.messageTs ?? '1700000001.000001';
  const payload = {
    type: 'block_actions',
    user: { id: fields.userId ?? 'U0001', username: fields.userName ?? 'ana', team_id: 'T0001' },
    api_app_id: 'A0001',
    token: 'deprecated-verification-token',
    container: {
      type: 'message',
      message_ts: messageTs,
      channel_id: channel,
      is_ephemeral: false,
      ...(fields.threadTs ? { thread_ts: fields.threadTs } : {}),
    },
    trigger_id: fields.triggerId ?? 'trigger-action-1',
    team: { id: 'T0001', domain: 'peer' },
    channel: { id: channel, name: 'general' },
    message: {
      type: 'message',
      ts: messageTs,
      text: fields.messageText ?? 'approve?',
      ...(fields.threadTs ? { thread_ts: fields.threadTs } : {}),
      ...(fields.messageBlocks ? { blocks: fields.messageBlocks } : {}),
    },
    response_url: fields.responseUrl ?? 'https://hooks.slack.test/actions/T0001/1/abc',
    actions: [
      {
        type: 'button',
        action_id: fields.actionId,
        block_id: 'approval',
        text: { type: 'plain_text', text: 'Approve' },
        value: fields.value ?? 'v1',
        action_ts: fields.actionTs ?? '1700000002.000001',
      },
    ],
  };
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  return signRequest(body, 'application/x-www-form-urlencoded', options);
}

/**
 * A `view_submission` (a modal's submit button), form-encoded with a JSON `payload`. `values` are
 * the plain text inputs as `{ [blockId]: { [actionId]: value } }`.
 */
export function viewSubmissionRequest(
  fields: {
    callbackId: string;
    privateMetadata: string;
    values: Record<string, Record<string, string>>;
    viewId?: string;
    userId?: string;
    userName?: string;
  },
  options: SignOptions,
): SignedRequest {
  const values = Object.fromEntries(
    Object.entries(fields.values).map(([block, actions]) => [
      block,
      Object.fromEntries(
        Object.entries(actions).map(([action, value]) => [action, { type: 'plain_text_input', value }]),
      ),
    ]),
  );
  const payload = {
    type: 'view_submission',
    team: { id: 'T0001', domain: 'peer' },
    user: { id: fields.userId ?? 'U0001', username: fields.userName ?? 'ana', team_id: 'T0001' },
    api_app_id: 'A0001',
    token: 'deprecated-verification-token',
    trigger_id: 'trigger-view-1',
    view: {
      id: fields.viewId ?? 'V00000001',
      team_id: 'T0001',
      type: 'modal',
      callback_id: fields.callbackId,
      private_metadata: fields.privateMetadata,
      state: { values },
      hash: '1700000003.abcdef',
      title: { type: 'plain_text', text: 'Form' },
      blocks: [],
    },
    response_urls: [],
    is_enterprise_install: false,
  };
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  return signRequest(body, 'application/x-www-form-urlencoded', options);
}

/** The `url_verification` handshake Slack sends when a Request URL is saved. */
export function urlVerificationRequest(challenge: string, options: SignOptions): SignedRequest {
  const body = JSON.stringify({
    token: 'deprecated-verification-token',
    challenge,
    type: 'url_verification',
  });
  return signRequest(body, 'application/json', options);
}

/** POSTs a signed request. */
export function postSigned(url: string, request: SignedRequest): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
    signal: AbortSignal.timeout(5000),
  });
}
