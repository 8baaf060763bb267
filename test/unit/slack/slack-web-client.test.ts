import { LogLevel } from '@slack/bolt';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createBoltLogger } from '../../../src/chat/slack/bolt-logger.ts';
import {
  SLACK_CLIENT_DEFAULTS,
  slackClientOptions,
  withRateLimitRetry,
} from '../../../src/chat/slack/slack-web-client.ts';

const limited = (retryAfter: number) =>
  Object.assign(new Error('rate limited'), { code: 'slack_webapi_rate_limited_error', retryAfter });

describe('slackClientOptions', () => {
  it('sets a timeout, a short retry policy, bounded concurrency, and leaves 429s to us', () => {
    const options = slackClientOptions(
      { apiUrl: 'http://127.0.0.1:1/api/' },
      createBoltLogger(pino({ level: 'silent' })),
    );
    expect(options).toMatchObject({
      slackApiUrl: 'http://127.0.0.1:1/api/',
      timeout: 10_000,
      maxRequestConcurrency: 8,
      rejectRateLimitedCalls: true,
      retryConfig: { retries: 2 },
    });
    expect(SLACK_CLIENT_DEFAULTS.apiUrl).toBe('https://slack.com/api/');
  });
});

describe('withRateLimitRetry', () => {
  it('retries a rate-limited call after Retry-After and returns its result', async () => {
    let calls = 0;
    const waits: number[] = [];
    const result = await withRateLimitRetry(
      async () => {
        calls += 1;
        if (calls === 1) throw limited(0);
        return 'posted';
      },
      { onRateLimited: (seconds) => waits.push(seconds) },
    );
    expect(result).toBe('posted');
    expect(calls).toBe(2);
    expect(waits).toEqual([0]);
  });

  it('gives up after the last attempt, and at once on a Retry-After beyond the bound', async () => {
    let calls = 0;
    await expect(
      withRateLimitRetry(
        async () => {
          calls += 1;
          throw limited(0);
        },
        { attempts: 3 },
      ),
    ).rejects.toMatchObject({ retryAfter: 0 });
    expect(calls).toBe(3);
    calls = 0;
    await expect(
      withRateLimitRetry(
        async () => {
          calls += 1;
          throw limited(120);
        },
        { maxWaitSeconds: 30 },
      ),
    ).rejects.toMatchObject({ retryAfter: 120 });
    expect(calls).toBe(1);
  });

  it('does not retry other failures', async () => {
    let calls = 0;
    await expect(
      withRateLimitRetry(async () => {
        calls += 1;
        throw new Error('channel_not_found');
      }),
    ).rejects.toThrow('channel_not_found');
    expect(calls).toBe(1);
  });
});

describe('createBoltLogger', () => {
  it('sends Bolt lines to pino at the level Bolt asked for, without changing pino', () => {
    const lines: Array<{ level: number; msg: string; component: string }> = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const bolt = createBoltLogger(logger);
    expect(bolt.getLevel()).toBe(LogLevel.DEBUG);
    bolt.setLevel(LogLevel.WARN);
    bolt.info('dropped');
    bolt.warn('kept', { a: 1 });
    bolt.error(new Error('boom'));
    expect(logger.level).toBe('debug');
    expect(lines.map((l) => [l.level, l.msg, l.component])).toEqual([
      [40, 'kept {"a":1}', 'slack'],
      [50, '', 'slack'],
    ]);
  });
});
