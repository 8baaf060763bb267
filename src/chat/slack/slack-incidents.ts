import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { IncidentPoster } from '../../alerts/incident-poster.ts';
import type { IncidentView } from '../../alerts/incident-view.ts';
import { TokenBucket } from '../../kube/token-bucket.ts';
import {
  type BlockKitBlock,
  type ButtonElement,
  COMMAND_ACTION_PREFIX,
  MAX_BUTTON_LABEL_CHARS,
  renderResultMessage,
  TONE_EMOJI,
} from '../../render/block-kit.ts';
import { cutText, escapeMrkdwn, inlineCode } from '../../render/mrkdwn.ts';
import { uploadFiles } from './slack-delivery.ts';
import { type RateLimitRetryOptions, withRateLimitRetry } from './slack-web-client.ts';

/** block_id of the incident buttons: a click keeps them (see withStatus in slack-actions.ts). */
export const INCIDENT_ACTIONS_BLOCK = 'wh-incident-actions';

export interface SlackIncidentPosterOptions {
  client: WebClient;
  logger: Logger;
  /** Retries after 429 with Slack's Retry-After. @default 5 attempts, waits up to 60 s */
  rateLimit?: RateLimitRetryOptions | undefined;
  /**
   * chat.update is Tier 3 (~50 a minute for the whole workspace): root updates of all threads
   * share this budget. @default 50 a minute, bursts of 10
   */
  updatesPerMinute?: number | undefined;
  updateBurst?: number | undefined;
}

const postedSchema = z.object({ ts: z.string().min(1), channel: z.string().min(1) });

/** Posts incident threads to Slack: the root as blocks with buttons, notes and enrichment as replies. */
export function createSlackIncidentPoster(options: SlackIncidentPosterOptions): IncidentPoster {
  const { client, logger } = options;
  const rateLimit: RateLimitRetryOptions = {
    attempts: 5,
    maxWaitSeconds: 60,
    ...options.rateLimit,
    onRateLimited: (seconds, attempt) => {
      logger.info(
        { retryAfter: seconds, attempt },
        'Slack rate limited an incident message; waiting Retry-After',
      );
      options.rateLimit?.onRateLimited?.(seconds, attempt);
    },
  };
  const updates = new TokenBucket({
    qps: (options.updatesPerMinute ?? 50) / 60,
    burst: options.updateBurst ?? 10,
    maxWaitMs: 10 * 60_000,
  });
  const deliveryDeps = { client, logger, rateLimit };
  return {
    async post(channel, view) {
      const message = renderIncident(view);
      const response = await withRateLimitRetry(
        () =>
          client.chat.postMessage({
            channel,
            text: message.text,
            blocks: message.blocks,
            unfurl_links: false,
            unfurl_media: false,
          }),
        rateLimit,
      );
      return { ts: postedSchema.parse(response).ts };
    },
    async update(channel, ts, view) {
      const message = renderIncident(view);
      await updates.take();
      await withRateLimitRetry(
        () => client.chat.update({ channel, ts, text: message.text, blocks: message.blocks }),
        rateLimit,
      );
    },
    async reply(channel, threadTs, result) {
      const message = renderResultMessage(result, {
        note: 'Wheelhouse incident thread',
        limits: { maxBlocks: 49 },
      });
      await withRateLimitRetry(
        () =>
          client.chat.postMessage({
            channel,
            thread_ts: threadTs,
            text: message.text,
            blocks: message.blocks,
            unfurl_links: false,
            unfurl_media: false,
          }),
        rateLimit,
      );
      if (message.files.length > 0 && !(await uploadFiles(deliveryDeps, channel, threadTs, message.files))) {
        throw new Error(
          `could not attach ${message.files.map((f) => f.name).join(', ')} to the alert thread`,
        );
      }
    },
  };
}

/** A link in mrkdwn; the URL's control characters are escaped so it cannot break out. */
function link(url: string, label: string): string {
  const safe = url
    .replaceAll('&', '&amp;')
    .replaceAll('<', '%3C')
    .replaceAll('>', '%3E')
    .replaceAll('|', '%7C');
  return `<${safe}|${escapeMrkdwn(label)}>`;
}

function slackDate(date: Date): string {
  const seconds = Math.floor(date.getTime() / 1000);
  return `<!date^${seconds}^{date_short_pretty} {time}|${date.toISOString()}>`;
}

/** The root message of an incident thread as Block Kit. */
export function renderIncident(view: IncidentView): { text: string; blocks: BlockKitBlock[] } {
  const title = escapeMrkdwn(cutText(view.title, 300).text);
  const { counts } = view;
  const head =
    view.status === 'resolved'
      ? `${TONE_EMOJI.success} *RESOLVED*${view.duration ? ` after ${view.duration}` : ''} · *${title}*`
      : `${view.tone === 'error' ? ':rotating_light:' : ':warning:'} *FIRING* · *${title}*`;
  const firing =
    view.status === 'resolved'
      ? `0 of ${counts.total} (all resolved)`
      : `${counts.firing} of ${counts.total}${counts.resolved ? ` (${counts.resolved} resolved)` : ''}`;
  const fields = [
    ...(view.cluster ? [`*Cluster*\n${escapeMrkdwn(view.cluster)}`] : []),
    `*Alert*\n${escapeMrkdwn(view.alertname)}`,
    `*Severity*\n${escapeMrkdwn(view.severity ?? 'none')}`,
    `*Workload*\n${escapeMrkdwn(view.workload ?? view.namespace ?? 'not named by the labels')}`,
    `*Firing*\n${firing}${counts.truncated ? `\n+${counts.truncated} alerts Alertmanager left out (truncated)` : ''}`,
    `*Started*\n${slackDate(view.startedAt)}`,
  ];
  if (view.resolvedAt) fields.push(`*Resolved*\n${slackDate(view.resolvedAt)}`);
  const blocks: BlockKitBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: head } },
    { type: 'section', fields: fields.map((text) => ({ type: 'mrkdwn', text })) },
  ];
  if (view.expression) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: `*Expression* ${inlineCode(cutText(view.expression, 1500).text)}` },
    });
  }
  if (view.links.length > 0) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: view.links.map((l) => link(l.url, l.label)).join(' · ') }],
    });
  }
  if (view.silences.length > 0) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `:mute: ${escapeMrkdwn(view.silences.join('; '))}` }],
    });
  }
  const buttons: ButtonElement[] = view.actions.slice(0, 25).map((a, i) => {
    const button: ButtonElement = {
      type: 'button',
      action_id: `${COMMAND_ACTION_PREFIX}-incident-${i}`,
      text: { type: 'plain_text', text: cutText(a.label, MAX_BUTTON_LABEL_CHARS).text, emoji: true },
      value: a.command,
    };
    if (a.style) button.style = a.style;
    return button;
  });
  if (buttons.length > 0)
    blocks.push({ type: 'actions', block_id: INCIDENT_ACTIONS_BLOCK, elements: buttons });
  blocks.push({
    type: 'context',
    elements: [
      { type: 'mrkdwn', text: `incident ${inlineCode(view.incidentId)} · details and changes in the thread` },
    ],
  });
  const text = `${view.status === 'resolved' ? 'RESOLVED' : 'FIRING'}: ${title} (${firing})`;
  return { text, blocks };
}
