import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import { WheelhouseError } from '../../errors.ts';
import { slackErrorCode } from './slack-payloads.ts';
import { withRateLimitRetry } from './slack-web-client.ts';

/** What identity mapping needs to know about a Slack user. */
export interface SlackUserProfile {
  id: string;
  name: string | undefined;
  /** Needs the users:read.email scope. */
  email: string | undefined;
  deleted: boolean;
  isBot: boolean;
}

/** Looks up Slack users and user groups, for mapping people to Kubernetes identities. */
export interface SlackDirectory {
  /** The user's profile, or undefined when Slack does not know the id. */
  user(userId: string): Promise<SlackUserProfile | undefined>;
  /** Member user ids of a user group (S…); empty when the group does not exist. */
  usergroupMembers(usergroupId: string): Promise<string[]>;
}

export interface SlackDirectoryOptions {
  /** How long answers are reused; people rarely change e-mail or group mid-conversation. @default 300 */
  ttlSeconds?: number | undefined;
  /** Most entries kept per kind; the oldest go first. @default 5000 */
  maxEntries?: number | undefined;
  now?: (() => number) | undefined;
}

const userInfoSchema = z.object({
  user: z.object({
    id: z.string(),
    name: z.string().optional(),
    deleted: z.boolean().optional(),
    is_bot: z.boolean().optional(),
    profile: z.object({ email: z.string().optional() }).optional(),
  }),
});
const membersSchema = z.object({ users: z.array(z.string()) });

/** A SlackDirectory over the Web API (users.info, usergroups.users.list) with a small TTL cache. */
export function createSlackDirectory(client: WebClient, options: SlackDirectoryOptions = {}): SlackDirectory {
  const ttl = (options.ttlSeconds ?? 300) * 1000;
  const max = options.maxEntries ?? 5000;
  const now = options.now ?? Date.now;
  const users = new Map<string, { until: number; value: SlackUserProfile | undefined }>();
  const groups = new Map<string, { until: number; value: string[] }>();

  const remember = <T>(cache: Map<string, { until: number; value: T }>, key: string, value: T): T => {
    cache.delete(key);
    cache.set(key, { until: now() + ttl, value });
    // Maps iterate in insertion order, so the first key is the oldest.
    if (cache.size > max) {
      const oldest = cache.keys().next();
      if (!oldest.done) cache.delete(oldest.value);
    }
    return value;
  };
  const cached = <T>(
    cache: Map<string, { until: number; value: T }>,
    key: string,
  ): { value: T } | undefined => {
    const hit = cache.get(key);
    return hit !== undefined && hit.until > now() ? { value: hit.value } : undefined;
  };
  const lookupFailed = (what: string, error: unknown): WheelhouseError =>
    new WheelhouseError('SOURCE_UNAVAILABLE', `Slack did not answer the ${what} lookup.`, {
      hint: 'Try again in a minute; if it persists, check the app scopes (users:read, users:read.email, usergroups:read).',
      detail: { slackError: slackErrorCode(error) },
      cause: error,
    });

  return {
    async user(userId) {
      const hit = cached(users, userId);
      if (hit) return hit.value;
      try {
        const { user } = userInfoSchema.parse(
          await withRateLimitRetry(() => client.users.info({ user: userId })),
        );
        return remember(users, userId, {
          id: user.id,
          name: user.name,
          email: user.profile?.email,
          deleted: user.deleted ?? false,
          isBot: user.is_bot ?? false,
        });
      } catch (error) {
        if (slackErrorCode(error) === 'user_not_found') return remember(users, userId, undefined);
        throw lookupFailed('user', error);
      }
    },
    async usergroupMembers(usergroupId) {
      const hit = cached(groups, usergroupId);
      if (hit) return hit.value;
      try {
        const response = await withRateLimitRetry(() =>
          client.usergroups.users.list({ usergroup: usergroupId }),
        );
        return remember(groups, usergroupId, membersSchema.parse(response).users);
      } catch (error) {
        if (slackErrorCode(error) === 'no_such_subteam') return remember(groups, usergroupId, []);
        throw lookupFailed('user group', error);
      }
    },
  };
}
