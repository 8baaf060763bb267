import { randomUUID } from 'node:crypto';
import { App, HTTPReceiver, SocketModeReceiver } from '@slack/bolt';
import type { Block, KnownBlock, ModalView, WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import { toWheelhouseError, WheelhouseError } from '../../errors.ts';
import type { HttpServer } from '../../http/http-server.ts';
import type { KubeIdentity } from '../../kube/types.ts';
import { type BlockKitLimits, renderReply } from '../../render/block-kit.ts';
import { escapeMrkdwn } from '../../render/mrkdwn.ts';
import type { ChatRequest, Reply, RequestHandler } from '../../runner/types.ts';
import type { Actor } from '../../skills/context.ts';
import type { Idempotency } from '../../store/types.ts';
import type { WheelhouseMetrics } from '../../telemetry/metrics.ts';
import { boltLevelOf, createBoltLogger } from './bolt-logger.ts';
import {
  commandDigest,
  DENY_CALLBACK_ID,
  DENY_REASON_ACTION,
  DENY_REASON_BLOCK,
  decides,
  decodeDenyMetadata,
  denyCommand,
  denyModal,
  denyWithoutReason,
  isCommandAction,
  statusBlock,
  withStatus,
} from './slack-actions.ts';
import { type AnswerTarget, deliverAnswer } from './slack-delivery.ts';
import {
  appMentionSchema,
  blockActionsSchema,
  directMessageSchema,
  eventEnvelopeSchema,
  type SlackBlockAction,
  slackErrorCode,
  slashCommandSchema,
  toBlockActions,
  viewSubmissionSchema,
} from './slack-payloads.ts';
import { ProgressReporter, type ProgressSettings, slackProgressPort } from './slack-progress.ts';
import { slackToPlainText, stripBotMention } from './slack-text.ts';
import {
  type RateLimitRetryOptions,
  type SlackClientSettings,
  slackClientOptions,
  withRateLimitRetry,
} from './slack-web-client.ts';

/**
 * Maps a Slack user to the Kubernetes identity requests are impersonated as: `undefined` acts as
 * the bot's own identity, `null` means the user may not use Wheelhouse.
 */
export type ResolveIdentity = (slackUserId: string) => Promise<KubeIdentity | undefined | null>;

export interface SlackSurfaceOptions {
  /** Socket Mode needs no public ingress (the default); HTTP mode receives on `/slack/events`. */
  mode: 'socket' | 'http';
  /** Bot token (xoxb-…). */
  botToken: string;
  /** App-level token (xapp-…) with connections:write; Socket Mode only. */
  appToken?: string | undefined;
  /** Signing secret that Slack's requests are verified with; HTTP mode only. */
  signingSecret?: string | undefined;
  /** Web API base URL; tests point it at a local peer. @default 'https://slack.com/api/' */
  apiUrl?: string | undefined;
  /** Timeout, retries and concurrency of the Web API client. */
  client?: Partial<Omit<SlackClientSettings, 'apiUrl'>> | undefined;
  /** Waits and retries after a 429, per call. */
  rateLimit?: RateLimitRetryOptions | undefined;
  handler: RequestHandler;
  resolveIdentity: ResolveIdentity;
  idempotency: Idempotency;
  logger: Logger;
  /** The process's HTTP server; HTTP mode adds `POST /slack/events` to it (no second port). */
  httpServer?: HttpServer | undefined;
  metrics?: Pick<WheelhouseMetrics, 'observeDelivery'> | undefined;
  /** The slash command. @default '/wh' */
  command?: string | undefined;
  /**
   * Ephemeral text the slash command is acknowledged with, so the user sees at once that the
   * request arrived; '' acknowledges without text. @default ':hourglass_flowing_sand: Working on it…'
   */
  ackText?: string | undefined;
  /** How long claims of events are kept. @default 600 */
  dedupeTtlSeconds?: number | undefined;
  /** Largest request body the HTTP receiver reads. @default 1 MiB */
  maxBodyBytes?: number | undefined;
  /** How long `stop()` waits for answers in flight before cancelling them. @default 10000 */
  drainMs?: number | undefined;
  /**
   * How long a second click by the same user on a button with the same command is ignored as a
   * double click (it has its own action_ts, so only this catches it). @default 10
   */
  doubleClickSeconds?: number | undefined;
  /**
   * Called for buttons and menus in our messages other than command buttons (`wh-command-*`,
   * whose value goes through the handler), after the action is acknowledged.
   */
  onBlockAction?: ((action: SlackBlockAction) => Promise<void>) | undefined;
  /**
   * A Slack channel id that also gets a copy of every new approval request, with working
   * buttons, so on-call approvers see requests made in other channels.
   */
  approvalsChannel?: string | undefined;
  /**
   * Rollout progress of changes, shown in one message per rollout that is updated in place, where
   * the answer goes: the asker's thread for mentions and buttons, the conversation itself for slash
   * commands and top-level DMs (a slash command has no thread; the answer follows below it). Updates
   * are coalesced to one per `intervalMs` per message (chat.update has one budget per workspace).
   */
  progress?: ProgressSettings | undefined;
}

/** Wheelhouse in Slack: slash command, mentions and DMs, answered through a RequestHandler. */
export interface SlackSurface {
  /** Verifies the bot token (auth.test), then connects (Socket Mode) or starts accepting `/slack/events`. */
  start(): Promise<void>;
  /** Stops receiving, waits for answers in flight (then cancels them), and disconnects. */
  stop(): Promise<void>;
  /** The configured Web API client, for features that post on their own (alerts, approvals). */
  readonly client: WebClient;
}

/** Room kept in every answer for the note a fallback delivery adds on top. */
const ANSWER_LIMITS: Partial<BlockKitLimits> = { maxBlocks: 49, maxMessageChars: 9_500 };
const DEFAULT_ACK_TEXT = ':hourglass_flowing_sand: Working on it…';

/** What one incoming question needs, whichever way it came. */
interface Question {
  text: string;
  userId: string;
  userName?: string | undefined;
  /** Claimed in order; a repeat of any one (a retry, a double click) is not answered again. */
  claims: Array<{ key: string; ttlSeconds: number }>;
  target: AnswerTarget;
  /** Shown as the first line of a channel answer, e.g. "/wh pods shop". */
  echo?: string | undefined;
  /** Runs after the answer was delivered, e.g. to update the message that held the buttons. */
  after?: ((reply: Reply) => Promise<void>) | undefined;
}

/** The message that held a command button, to update it in place once the command is answered. */
interface ButtonMessage {
  channel: string;
  ts: string;
  text: string | undefined;
  /** As Slack showed them at the click; undefined when no longer known (the compact form is sent). */
  blocks: unknown[] | undefined;
}

/** How long the blocks of a message whose Deny modal is open are kept in memory, and how many. */
const STASH_TTL_MS = 60 * 60 * 1000;
const STASH_MAX = 500;
/** Messages known to be decided, so a late "waiting" answer never puts the buttons back. */
const DECIDED_MAX = 1000;

/** Builds the Bolt app, its receiver and listeners. Nothing connects until `start()`. */
export function createSlackSurface(options: SlackSurfaceOptions): SlackSurface {
  const logger = options.logger.child({ component: 'slack-surface' });
  const boltLogger = createBoltLogger(options.logger);
  const command = options.command ?? '/wh';
  const ttl = options.dedupeTtlSeconds ?? 600;
  const drainMs = options.drainMs ?? 10_000;
  const clientOptions = slackClientOptions(
    { ...options.client, ...(options.apiUrl === undefined ? {} : { apiUrl: options.apiUrl }) },
    boltLogger,
  );

  let receiver: HTTPReceiver | SocketModeReceiver;
  if (options.mode === 'socket') {
    if (!options.appToken) {
      throw new WheelhouseError('CONFIG', 'Slack Socket Mode needs an app-level token.', {
        hint: 'Create an app-level token (xapp-…) with the connections:write scope, or use HTTP mode with a signing secret.',
      });
    }
    receiver = new SocketModeReceiver({
      appToken: options.appToken,
      logger: boltLogger,
      installerOptions: { clientOptions },
    });
  } else {
    if (!options.signingSecret) {
      throw new WheelhouseError('CONFIG', 'Slack HTTP mode needs the signing secret.', {
        hint: "Copy the Signing Secret from the Slack app's Basic Information page.",
      });
    }
    if (options.httpServer === undefined) {
      throw new WheelhouseError('CONFIG', 'Slack HTTP mode needs the HTTP server to receive /slack/events.');
    }
    receiver = new HTTPReceiver({
      signingSecret: options.signingSecret,
      endpoints: '/slack/events',
      logger: boltLogger,
      bodyLimit: options.maxBodyBytes ?? 1024 * 1024,
    });
  }

  const app = new App({
    token: options.botToken,
    receiver,
    logger: boltLogger,
    logLevel: boltLevelOf(options.logger.level),
    clientOptions,
    // auth.test runs in start(), so a bad token fails there with a clear error, not on the first event.
    deferInitialization: true,
    // Bolt's default conversation store is an unbounded in-memory map we have no use for.
    convoStore: false,
  });
  const client = app.client;
  const deliveryDeps = { client, logger, rateLimit: options.rateLimit };

  let accepting = false;
  let running = false;
  const inFlight = new Set<Promise<void>>();
  const controllers = new Set<AbortController>();
  const track = (work: Promise<void>): Promise<void> => {
    inFlight.add(work);
    return work.finally(() => inFlight.delete(work));
  };

  async function answer(q: Question): Promise<void> {
    for (const { key, ttlSeconds } of q.claims) {
      if (!(await options.idempotency.claim(key, ttlSeconds))) {
        logger.info({ key }, 'Slack delivered a request again (retry or double click); it is answered once');
        return;
      }
    }
    const controller = new AbortController();
    controllers.add(controller);
    const progress = new ProgressReporter(slackProgressPort(client, q.target, options.rateLimit), {
      logger: logger.child({ channel: q.target.channel, thread: q.target.threadTs }),
      intervalMs: options.progress?.intervalMs,
      clock: options.progress?.clock,
    });
    try {
      // The handler promises never to throw; if it does anyway, the user still gets an answer.
      const reply = await ask(q, controller.signal, progress.push).catch((error: unknown) => {
        logger.error({ err: error }, 'The request handler threw');
        return localError(toWheelhouseError(error));
      });
      // The progress message shows its final state before the answer arrives below it.
      await progress.settle();
      const message = renderReply(reply, {
        requestedBy: q.echo === undefined ? undefined : { userId: q.userId, text: q.echo },
        limits: ANSWER_LIMITS,
      });
      const outcome = await deliverAnswer(deliveryDeps, q.target, message, reply.ok ? 'result' : 'error');
      options.metrics?.observeDelivery('slack', outcome);
      await q.after?.(reply);
      await copyApprovalRequest(reply, q);
    } finally {
      controllers.delete(controller);
    }
  }

  /** A new approval request goes to the approvals channel too, saying where it was asked. */
  async function copyApprovalRequest(reply: Reply, q: Question): Promise<void> {
    const channel = options.approvalsChannel;
    if (!channel || channel === q.target.channel || !isApprovalRequest(reply)) return;
    const message = renderReply(reply, {
      requestedBy: { userId: q.userId, text: q.echo ?? q.text, channel: q.target.channel },
      limits: ANSWER_LIMITS,
    });
    const outcome = await deliverAnswer(
      deliveryDeps,
      { channel, userId: q.userId, errorsPrivate: false },
      message,
      'result',
    );
    if (outcome !== 'ok')
      logger.warn({ channel, outcome }, 'could not copy an approval request to the approvals channel');
  }

  /** The user's Kubernetes identity, or the refusal to send them (unmapped, or the lookup failed). */
  async function identify(userId: string): Promise<{ kube: KubeIdentity | undefined } | { refusal: Reply }> {
    let kube: KubeIdentity | undefined | null;
    try {
      kube = await options.resolveIdentity(userId);
    } catch (error) {
      logger.error({ err: error, user: userId }, 'Could not resolve the Kubernetes identity of a Slack user');
      return {
        refusal: localError(
          new WheelhouseError(
            'INTERNAL',
            'I could not look up who you are in Kubernetes; the details are in the log.',
          ),
        ),
      };
    }
    if (kube === null) {
      logger.info({ user: userId }, 'Slack user is not mapped to a Kubernetes identity');
      return {
        refusal: localError(
          new WheelhouseError(
            'FORBIDDEN',
            'Your Slack account is not mapped to a Kubernetes identity, so I cannot act for you.',
            {
              hint: 'Ask a Wheelhouse admin to add your Slack user or e-mail address to the identity map.',
            },
          ),
        ),
      };
    }
    return { kube };
  }

  async function ask(
    q: Question,
    signal: AbortSignal,
    onProgress: ChatRequest['onProgress'],
  ): Promise<Reply> {
    const who = await identify(q.userId);
    if ('refusal' in who) return who.refusal;
    const { kube } = who;
    const actor: Actor = {
      surface: 'slack',
      id: q.userId,
      name: q.userName,
      channel: q.target.channel,
      thread: q.target.threadTs,
      kube,
    };
    return options.handler.handle({ text: q.text, actor, signal, onProgress });
  }

  /** Never lets a listener's failure reach Bolt as an unhandled rejection, nor crash the process. */
  const guarded = (what: string, work: () => Promise<void>): Promise<void> =>
    track(
      work().catch((error: unknown) => {
        logger.error({ err: error, listener: what }, 'Slack listener failed');
      }),
    );

  app.command(command, async ({ ack, body }) => {
    const ackText = options.ackText ?? DEFAULT_ACK_TEXT;
    await (ackText === '' ? ack() : ack({ response_type: 'ephemeral', text: ackText }));
    if (!accepting) return;
    // Let the acknowledgement (and other requests' acks) reach the socket before this answer's
    // work takes the event loop: under a burst, acks otherwise queue behind answers (bench: p99
    // 54–124 ms → 18–29 ms).
    await new Promise((resolve) => setImmediate(resolve));
    await guarded('command', async () => {
      const parsed = slashCommandSchema.safeParse(body);
      if (!parsed.success) {
        logger.warn({ issues: parsed.error.issues }, 'Ignoring a slash command payload that does not parse');
        return;
      }
      const c = parsed.data;
      const text = slackToPlainText(c.text).trim();
      await answer({
        text,
        userId: c.user_id,
        userName: c.user_name,
        claims: [{ key: `slack:command:${c.trigger_id}`, ttlSeconds: ttl }],
        echo: `${c.command} ${text}`.trim(),
        target: {
          channel: c.channel_id,
          userId: c.user_id,
          responseUrl: c.response_url,
          errorsPrivate: true,
        },
      });
    });
  });

  app.event('app_mention', async ({ body, event, context }) => {
    if (!accepting) return;
    await guarded('app_mention', async () => {
      const envelope = eventEnvelopeSchema.safeParse(body);
      const mention = appMentionSchema.safeParse(event);
      if (!envelope.success || !mention.success) {
        logger.debug('Ignoring an app_mention that does not parse (e.g. posted by a bot)');
        return;
      }
      const m = mention.data;
      // A DM is answered from its message.im event; never answer the same words twice.
      if (m.channel.startsWith('D')) return;
      await answer({
        text: slackToPlainText(stripBotMention(m.text, context.botUserId)).trim(),
        userId: m.user,
        claims: [{ key: `slack:event:${envelope.data.event_id}`, ttlSeconds: ttl }],
        target: { channel: m.channel, threadTs: m.thread_ts ?? m.ts, userId: m.user, errorsPrivate: true },
      });
    });
  });

  app.event('message', async ({ body, event }) => {
    if (!accepting) return;
    await guarded('message', async () => {
      const envelope = eventEnvelopeSchema.safeParse(body);
      const dm = directMessageSchema.safeParse(event);
      // Only plain DMs from people: channel messages reach us as app_mention; edits, joins and
      // bot messages carry a subtype or bot_id.
      if (!envelope.success || !dm.success) return;
      const m = dm.data;
      await answer({
        text: slackToPlainText(m.text).trim(),
        userId: m.user,
        claims: [{ key: `slack:event:${envelope.data.event_id}`, ttlSeconds: ttl }],
        target: { channel: m.channel, threadTs: m.thread_ts, userId: m.user, errorsPrivate: false },
      });
    });
  });

  // --- Command buttons: a click sends the button's command through the handler ------------------

  /** Blocks of messages whose Deny modal is open, so the message can be updated after the reason. */
  const stash = new Map<string, { message: ButtonMessage; until: number }>();
  const decided = new Set<string>();
  const doubleClick = options.doubleClickSeconds ?? 10;

  /** After a command button's answer: the status line under the buttons, which go once decided. */
  async function updateButtonMessage(
    message: ButtonMessage,
    userId: string,
    command: string,
    reply: Reply,
  ): Promise<void> {
    if (!reply.ok) return;
    const key = `${message.channel}:${message.ts}`;
    const isDecided = decides(reply);
    if (decided.has(key) && !isDecided) return;
    if (isDecided) {
      decided.add(key);
      if (decided.size > DECIDED_MAX) decided.delete(decided.values().next().value ?? key);
    }
    const status = statusBlock(userId, command, reply);
    // Without the original blocks (a restart while the modal was open) the message shrinks to its
    // text and the status: the buttons must not outlive the decision.
    // Slack gives the text back as it was posted: already escaped.
    const text = message.text ?? escapeMrkdwn(reply.result.summary);
    const base = message.blocks ?? [{ type: 'section', text: { type: 'mrkdwn', text } }];
    const blocks = withStatus(base, status, isDecided);
    try {
      await withRateLimitRetry(
        () =>
          client.chat.update({
            channel: message.channel,
            ts: message.ts,
            text,
            blocks: blocks as (Block | KnownBlock)[],
          }),
        options.rateLimit,
      );
    } catch (error) {
      logger.warn(
        { err: error, slackError: slackErrorCode(error), channel: message.channel, ts: message.ts },
        'Could not update the message with the buttons',
      );
    }
  }

  /** Sends a refusal (unmapped user, lookup failed) to the clicker only. */
  async function refuse(target: AnswerTarget, reply: Reply): Promise<void> {
    const outcome = await deliverAnswer(
      deliveryDeps,
      target,
      renderReply(reply, { limits: ANSWER_LIMITS }),
      'error',
    );
    options.metrics?.observeDelivery('slack', outcome);
  }

  async function onCommandButton(action: SlackBlockAction): Promise<void> {
    const command = (action.value ?? '').trim();
    const channel = action.channelId;
    if (command === '' || channel === undefined) {
      logger.warn({ actionId: action.actionId }, 'Ignoring a command button without a command or a channel');
      return;
    }
    const digest = commandDigest(command);
    const retryKey = { key: `slack:action:${action.actionTs}:${action.userId}:${digest}`, ttlSeconds: ttl };
    const clickKey = { key: `slack:click:${action.userId}:${digest}`, ttlSeconds: doubleClick };
    // Answers go to the thread of the message with the buttons (none for an ephemeral message).
    const thread = action.messageTs === undefined ? undefined : (action.threadTs ?? action.messageTs);
    const target: AnswerTarget = {
      channel,
      threadTs: thread,
      userId: action.userId,
      responseUrl: action.responseUrl,
      errorsPrivate: true,
    };
    const message: ButtonMessage | undefined =
      action.messageTs === undefined
        ? undefined
        : { channel, ts: action.messageTs, text: action.messageText, blocks: action.messageBlocks };

    const denyId = denyWithoutReason(command);
    if (denyId !== undefined) {
      // Opening a form changes nothing, so only Slack's retries are deduplicated here; the deny
      // itself is deduplicated when the form is submitted.
      if (!(await options.idempotency.claim(retryKey.key, retryKey.ttlSeconds))) return;
      await openDenyModal(action, denyId, target, message);
      return;
    }
    await answer({
      text: command,
      userId: action.userId,
      userName: action.userName,
      claims: [retryKey, clickKey],
      target,
      echo: command,
      after:
        message === undefined
          ? undefined
          : (reply) => updateButtonMessage(message, action.userId, command, reply),
    });
  }

  async function openDenyModal(
    action: SlackBlockAction,
    approvalId: string,
    target: AnswerTarget,
    message: ButtonMessage | undefined,
  ): Promise<void> {
    // The trigger_id lives 3 s: the identity is checked first (unmapped users get no form), then
    // the form opens at once. The rights to deny are checked by the handler on submission.
    const who = await identify(action.userId);
    if ('refusal' in who) {
      await refuse(target, who.refusal);
      return;
    }
    const now = Date.now();
    for (const [k, v] of stash) if (v.until <= now || stash.size >= STASH_MAX) stash.delete(k);
    const key = randomUUID();
    if (message?.blocks !== undefined) stash.set(key, { message, until: now + STASH_TTL_MS });
    try {
      await client.views.open({
        trigger_id: action.triggerId,
        view: denyModal({
          a: approvalId,
          c: target.channel,
          t: target.threadTs,
          m: message?.ts,
          k: message?.blocks === undefined ? undefined : key,
          x: message?.text,
        }) as unknown as ModalView,
      });
    } catch (error) {
      stash.delete(key);
      logger.warn({ err: error, slackError: slackErrorCode(error) }, 'Could not open the Deny form');
      await refuse(
        target,
        localError(
          new WheelhouseError('TIMEOUT', 'I could not open the form to deny this change in time.', {
            hint: `Type \`deny ${approvalId} <reason>\` instead.`,
          }),
        ),
      );
    }
  }

  app.action(/.*/, async ({ ack, body }) => {
    await ack();
    if (!accepting) return;
    await guarded('block_actions', async () => {
      const parsed = blockActionsSchema.safeParse(body);
      if (!parsed.success) {
        logger.debug({ issues: parsed.error.issues }, 'Ignoring an interaction payload that does not parse');
        return;
      }
      for (const action of toBlockActions(parsed.data)) {
        if (isCommandAction(action.actionId)) {
          await onCommandButton(action);
          continue;
        }
        if (!(await options.idempotency.claim(`slack:action:${action.actionTs}:${action.actionId}`, ttl)))
          continue;
        if (options.onBlockAction === undefined) {
          logger.info({ actionId: action.actionId }, 'No handler for this Slack action');
          continue;
        }
        await options.onBlockAction(action);
      }
    });
  });

  app.view(DENY_CALLBACK_ID, async ({ ack, body }) => {
    const parsed = viewSubmissionSchema.safeParse(body);
    const reason = parsed.success
      ? (parsed.data.view.state.values[DENY_REASON_BLOCK]?.[DENY_REASON_ACTION]?.value ?? '').trim()
      : '';
    if (parsed.success && reason === '') {
      await ack({
        response_action: 'errors',
        errors: { [DENY_REASON_BLOCK]: 'Say why the change is denied.' },
      });
      return;
    }
    await ack();
    if (!accepting) return;
    await guarded('view_submission', async () => {
      if (!parsed.success) {
        logger.warn({ issues: parsed.error.issues }, 'Ignoring a view submission that does not parse');
        return;
      }
      const { user, view } = parsed.data;
      const meta = decodeDenyMetadata(view.private_metadata);
      if (meta === undefined) {
        logger.warn({ view: view.id }, 'Ignoring a Deny form whose metadata does not parse');
        return;
      }
      const kept = meta.k === undefined ? undefined : stash.get(meta.k);
      if (meta.k !== undefined) stash.delete(meta.k);
      const message: ButtonMessage | undefined =
        meta.m === undefined
          ? undefined
          : (kept?.message ?? { channel: meta.c, ts: meta.m, text: meta.x, blocks: undefined });
      const command = denyCommand(meta.a, reason);
      await answer({
        text: command,
        userId: user.id,
        userName: user.username ?? user.name,
        claims: [
          { key: `slack:view:${view.id}`, ttlSeconds: ttl },
          { key: `slack:click:${user.id}:${commandDigest(command)}`, ttlSeconds: doubleClick },
        ],
        target: { channel: meta.c, threadTs: meta.t, userId: user.id, errorsPrivate: true },
        echo: command,
        after:
          message === undefined
            ? undefined
            : (reply) => updateButtonMessage(message, user.id, command, reply),
      });
    });
  });

  app.error(async (error) => {
    logger.error({ err: error }, 'Bolt reported an error');
  });

  if (options.mode === 'http' && options.httpServer !== undefined && receiver instanceof HTTPReceiver) {
    const http = receiver;
    options.httpServer.routeRaw('POST', '/slack/events', (req, res) => {
      if (!accepting) {
        // Slack retries a 503, so an event that reaches a stopping replica is not lost.
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'not_accepting' }));
        return;
      }
      try {
        http.requestListener(req, res);
      } catch (error) {
        logger.error({ err: error }, 'Slack HTTP receiver failed');
        if (!res.headersSent) res.writeHead(500);
        res.end();
      }
    });
  }

  return {
    client,
    async start() {
      try {
        await app.init();
      } catch (error) {
        throw new WheelhouseError('CONFIG', 'Slack did not accept the bot token.', {
          hint: 'Check the Bot User OAuth Token (xoxb-…) and that the app is installed in the workspace.',
          cause: error,
        });
      }
      accepting = true;
      if (options.mode === 'socket') await app.start();
      running = true;
      logger.info({ mode: options.mode, command }, 'Slack surface started');
    },
    async stop() {
      accepting = false;
      if (!running) return;
      running = false;
      let timer: NodeJS.Timeout | undefined;
      const drained = Promise.allSettled([...inFlight]).then(() => true);
      const late = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), drainMs);
      });
      if (!(await Promise.race([drained, late]))) {
        logger.warn({ inFlight: inFlight.size }, 'Cancelling Slack answers still running at shutdown');
        for (const c of controllers) c.abort();
        await Promise.allSettled([...inFlight]);
      }
      clearTimeout(timer);
      if (options.mode === 'socket') await app.stop();
      logger.info('Slack surface stopped');
    },
  };
}

function localError(error: WheelhouseError): Reply {
  return { ok: false, requestId: randomUUID(), skill: undefined, durationMs: 0, error };
}

/** A reply that opens an approval: it carries the Approve button (votes and reminders do not come through here). */
function isApprovalRequest(reply: Reply): boolean {
  return (
    reply.ok &&
    reply.result.sections.some(
      (s) => s.type === 'actions' && s.actions.some((a) => a.command.startsWith('approve ')),
    )
  );
}
