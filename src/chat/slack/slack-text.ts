/**
 * Slack sends message text with `&`, `<`, `>` escaped and with links, mentions and channels in
 * angle brackets (`<@U123|ana>`, `<https://x|x>`). The planner wants what the user typed.
 */
export function slackToPlainText(text: string): string {
  return text
    .replace(/<([^<>]*)>/g, (_whole, inner: string) => {
      const bar = inner.indexOf('|');
      const target = bar === -1 ? inner : inner.slice(0, bar);
      const label = bar === -1 ? undefined : inner.slice(bar + 1);
      if (target.startsWith('@')) return label ? `@${label}` : target;
      if (target.startsWith('#')) return label ? `#${label}` : target;
      if (target.startsWith('!')) return label ?? `@${target.slice(1).split('^')[0]}`;
      return label ?? target.replace(/^mailto:/, '');
    })
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

/**
 * Removes mentions of the bot from a message (`<@UBOT> pods shop` → `pods shop`). Without the
 * bot's user id, a leading mention is taken to be the bot's, since that is what app_mention
 * events start with.
 */
export function stripBotMention(text: string, botUserId: string | undefined): string {
  const stripped =
    botUserId === undefined
      ? text.replace(/^\s*<@[A-Z0-9]+(?:\|[^>]*)?>/, '')
      : text.replace(new RegExp(`<@${escapeRegExp(botUserId)}(?:\\|[^>]*)?>`, 'g'), ' ');
  return stripped.replace(/\s+/g, ' ').trim();
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
