import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';

const manifestSchema = z.object({
  display_information: z.object({ name: z.string(), long_description: z.string().min(175) }),
  features: z.object({
    bot_user: z.object({ display_name: z.string() }),
    slash_commands: z.array(z.object({ command: z.string(), usage_hint: z.string() })),
  }),
  oauth_config: z.object({ scopes: z.object({ bot: z.array(z.string()) }) }),
  settings: z.object({
    event_subscriptions: z.object({ bot_events: z.array(z.string()) }),
    interactivity: z.object({ is_enabled: z.boolean() }),
    socket_mode_enabled: z.boolean(),
  }),
});

describe('slack-app-manifest.yaml', () => {
  it('asks for what the Slack surface uses, in Socket Mode by default', async () => {
    const text = await readFile(new URL('../../../slack-app-manifest.yaml', import.meta.url), 'utf8');
    const manifest = manifestSchema.parse(parse(text));
    expect(manifest.features.slash_commands.map((c) => c.command)).toEqual(['/wh']);
    expect(manifest.settings.event_subscriptions.bot_events.sort()).toEqual(['app_mention', 'message.im']);
    expect(manifest.settings.socket_mode_enabled).toBe(true);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.oauth_config.scopes.bot).toEqual(
      expect.arrayContaining([
        'app_mentions:read',
        'chat:write',
        'commands',
        'files:write',
        'im:history',
        'im:read',
        'im:write',
        'users:read',
        'users:read.email',
        'usergroups:read',
      ]),
    );
    expect(text).toContain('# request_url: https://HOST/slack/events');
  });
});
