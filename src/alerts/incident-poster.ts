import type { SkillResult } from '../skills/result.ts';
import type { IncidentView } from './incident-view.ts';

/**
 * Where incident threads are posted. Chat-neutral on this side; `SlackIncidentPoster`
 * (src/chat/slack/slack-incidents.ts) renders and posts, honouring Slack's rate limits. Every
 * method throws when the message could not be delivered, so the keeper can try again later.
 */
export interface IncidentPoster {
  /** Posts the root message of a new thread; resolves with its ts (the thread's id). */
  post(channel: string, view: IncidentView): Promise<{ ts: string }>;
  /** Replaces the root message in place. */
  update(channel: string, ts: string, view: IncidentView): Promise<void>;
  /** Adds a message (and its files, e.g. a PNG chart) to the thread. */
  reply(channel: string, threadTs: string, message: SkillResult): Promise<void>;
}
