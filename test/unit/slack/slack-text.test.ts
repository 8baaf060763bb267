import { describe, expect, it } from 'vitest';
import { slackToPlainText, stripBotMention } from '../../../src/chat/slack/slack-text.ts';

describe('slackToPlainText', () => {
  it.each([
    ['pods -l app=checkout,tier!=web', 'pods -l app=checkout,tier!=web'],
    ['logs &lt;pod&gt; &amp;&amp; more', 'logs <pod> && more'],
    ['pods for <https://checkout.example.com|checkout.example.com>', 'pods for checkout.example.com'],
    ['see <https://x.example/a>', 'see https://x.example/a'],
    ['ask <@U0002|bo> and <@U0003>', 'ask @bo and @U0003'],
    ['in <#C0001|general>', 'in #general'],
    ['<!here> help', '@here help'],
    ['<!subteam^S0001|@oncall> pods', '@oncall pods'],
    ['mail <mailto:ana@example.com|ana@example.com>', 'mail ana@example.com'],
  ])('%s → %s', (input, expected) => {
    expect(slackToPlainText(input)).toBe(expected);
  });
});

describe('stripBotMention', () => {
  it('removes every mention of the bot and keeps other mentions', () => {
    expect(stripBotMention('<@UBOT> pods shop <@U0002>', 'UBOT')).toBe('pods shop <@U0002>');
    expect(stripBotMention('hey <@UBOT|wheelhouse>, logs api', 'UBOT')).toBe('hey , logs api');
  });

  it('takes a leading mention to be the bot when its id is unknown', () => {
    expect(stripBotMention('  <@UXYZ> events shop', undefined)).toBe('events shop');
    expect(stripBotMention('events <@UXYZ>', undefined)).toBe('events <@UXYZ>');
  });
});
