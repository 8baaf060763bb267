export type { Idempotency } from '../../store/types.ts';
export { createBoltLogger } from './bolt-logger.ts';
export { type AnswerTarget, type DeliveryOutcome, deliverAnswer, uploadFiles } from './slack-delivery.ts';
export { createSlackDirectory, type SlackDirectory, type SlackUserProfile } from './slack-directory.ts';
export type { SlackBlockAction } from './slack-payloads.ts';
export {
  DEFAULT_PROGRESS_INTERVAL_MS,
  type ProgressClock,
  ProgressReporter,
  type ProgressSettings,
  progressText,
} from './slack-progress.ts';
export {
  createSlackSurface,
  type ResolveIdentity,
  type SlackSurface,
  type SlackSurfaceOptions,
} from './slack-surface.ts';
export { slackToPlainText, stripBotMention } from './slack-text.ts';
export {
  type RateLimitRetryOptions,
  SLACK_CLIENT_DEFAULTS,
  type SlackClientSettings,
  slackClientOptions,
  withRateLimitRetry,
} from './slack-web-client.ts';
