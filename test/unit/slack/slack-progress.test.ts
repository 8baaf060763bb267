import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { RolloutProgress } from '../../../src/changes/types.ts';
import {
  type ProgressClock,
  type ProgressMessageRef,
  type ProgressPort,
  ProgressReporter,
  progressText,
  stoppedText,
} from '../../../src/chat/slack/slack-progress.ts';

const logger = pino({ level: 'silent' });
const INTERVAL = 3000;

/** A clock that only moves when told; timers fire in order as it passes them. */
class FakeClock implements ProgressClock {
  t = 0;
  #timers: Array<{ at: number; fn: () => void }> = [];

  now(): number {
    return this.t;
  }

  schedule(fn: () => void, ms: number): () => void {
    const timer = { at: this.t + ms, fn };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((x) => x !== timer);
    };
  }

  get pending(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, firing due timers and letting the Slack calls they start settle. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await flush();
    for (;;) {
      const next = [...this.#timers].sort((a, b) => a.at - b.at)[0];
      if (next === undefined || next.at > end) break;
      this.#timers = this.#timers.filter((x) => x !== next);
      this.t = next.at;
      next.fn();
      await flush();
    }
    this.t = end;
  }
}

/** Lets promise chains (fake Slack calls and what follows them) run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}

interface Sent {
  method: 'post' | 'update';
  at: number;
  text: string;
}

/** A port that records calls; failures can be queued per method. */
function fakePort(clock: FakeClock) {
  const sent: Sent[] = [];
  const failures: Record<'post' | 'update', unknown[]> = { post: [], update: [] };
  let n = 0;
  const port: ProgressPort = {
    async post(text) {
      const failure = failures.post.shift();
      sent.push({ method: 'post', at: clock.now(), text });
      if (failure !== undefined) throw failure;
      n += 1;
      return { channel: 'C0001', ts: `1700000000.00000${n}` } satisfies ProgressMessageRef;
    },
    async update(_message, text) {
      const failure = failures.update.shift();
      sent.push({ method: 'update', at: clock.now(), text });
      if (failure !== undefined) throw failure;
    },
  };
  return { port, sent, failures };
}

const target = {
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  kind: 'Deployment',
  namespace: 'shop',
  name: 'checkout',
};

function state(
  updated: number,
  ready: number,
  available: number,
  phase: RolloutProgress['phase'] = 'progressing',
  extra: Partial<RolloutProgress> = {},
): RolloutProgress {
  return { target, desired: 3, updated, ready, available, phase, message: `step ${updated}`, ...extra };
}

/** Ten distinct progressing states (each shows different counts). */
const ten = Array.from({ length: 10 }, (_, i) => state(Math.min(3, 1 + (i % 4)), i % 3, Math.floor(i / 4)));

function setUp() {
  const clock = new FakeClock();
  const { port, sent, failures } = fakePort(clock);
  const reporter = new ProgressReporter(port, { logger, intervalMs: INTERVAL, clock });
  return { clock, sent, failures, reporter };
}

/** Updates of progressing states must be at least the interval apart (the final one is exempt). */
function expectSpaced(sent: Sent[]): void {
  const times = sent.filter((s) => s.method === 'update' && s.text.startsWith(':arrows')).map((s) => s.at);
  const all = [sent[0]?.at ?? 0, ...times];
  for (let i = 1; i < all.length; i += 1) expect(all[i]! - all[i - 1]!).toBeGreaterThanOrEqual(INTERVAL);
}

describe('ProgressReporter (coalesced in-place rollout progress)', () => {
  it('turns 10 rapid events into one post, one update per interval and the final state', async () => {
    const { clock, sent, reporter } = setUp();
    for (const p of ten) {
      reporter.push(p);
      await clock.advance(100);
    }
    // One second in: the message is posted with the first state; the rest waits for the interval.
    expect(sent).toEqual([{ method: 'post', at: 0, text: progressText(ten[0]!) }]);
    expect(clock.pending).toBe(1);

    await clock.advance(INTERVAL);
    // The timer flushed only the latest state; the eight in between were never sent.
    expect(sent).toHaveLength(2);
    expect(sent[1]).toEqual({ method: 'update', at: INTERVAL, text: progressText(ten[9]!) });
    expect(clock.pending).toBe(0);

    const done = state(3, 3, 3, 'done');
    reporter.push(done);
    await clock.advance(0);
    // The final state goes out at once, without waiting for the interval.
    expect(sent).toHaveLength(3);
    expect(sent[2]).toEqual({ method: 'update', at: 4000, text: progressText(done) });
    expect(sent[2]?.text).toBe(
      ':white_check_mark: Rolled out deploy/checkout in shop: 3/3 updated · 3/3 ready · 3/3 available',
    );
    await reporter.settle();
    expect(sent).toHaveLength(3);
    expectSpaced(sent);
  });

  it('sends at most one update per interval while events keep coming, then the last state', async () => {
    const { clock, sent, reporter } = setUp();
    // An event every 700 ms for 14 s.
    const states = Array.from({ length: 20 }, (_, i) => state(i % 4, (i + 1) % 4, i % 2));
    for (const p of states) {
      reporter.push(p);
      await clock.advance(700);
    }
    const failed = state(1, 0, 0, 'failed', {
      message: 'deploy/checkout exceeded its progress deadline of 600s',
      problems: ['pod checkout-7f9: ImagePullBackOff <registry/checkout:v2>'],
    });
    reporter.push(failed);
    await reporter.settle();

    expect(sent.filter((s) => s.method === 'post')).toHaveLength(1);
    const updates = sent.filter((s) => s.method === 'update');
    // 14 s of events at one update per 3 s at most: 4 interval updates, plus the final one.
    expect(updates.length).toBeLessThanOrEqual(Math.floor(14_000 / INTERVAL) + 1);
    expectSpaced(sent);
    expect(updates.at(-1)?.text).toBe(
      ':x: Rollout of deploy/checkout in shop failed: 1/3 updated · 0/3 ready · 0/3 available — ' +
        'deploy/checkout exceeded its progress deadline of 600s\n• pod checkout-7f9: ImagePullBackOff &lt;registry/checkout:v2&gt;',
    );
  });

  it('sends a final state that arrives while the first post is in flight right after it', async () => {
    const { clock, sent, reporter } = setUp();
    reporter.push(ten[0]!);
    reporter.push(ten[1]!);
    reporter.push(state(3, 3, 3, 'done'));
    await clock.advance(0);
    expect(sent.map((s) => [s.method, s.text.split(' ')[0]])).toEqual([
      ['post', ':arrows_counterclockwise:'],
      ['update', ':white_check_mark:'],
    ]);
  });

  it('does not update the message with the text it already shows', async () => {
    const { clock, sent, reporter } = setUp();
    reporter.push(state(1, 0, 0));
    // Same counts, another controller message: the text is the same.
    reporter.push(state(1, 0, 0, 'progressing', { message: 'waiting for the controller' }));
    await clock.advance(10_000);
    expect(sent).toHaveLength(1);
    expect(clock.pending).toBe(0);
  });

  it('posts a second message for a second rollout (the rollback), keeping the failure visible', async () => {
    const { clock, sent, reporter } = setUp();
    for (const p of [state(1, 0, 0), state(1, 0, 0, 'failed'), state(2, 2, 2), state(3, 3, 3, 'done')]) {
      reporter.push(p);
      await clock.advance(0);
    }
    await reporter.settle();
    expect(sent.map((s) => `${s.method} ${s.text.split(' ')[0]}`)).toEqual([
      'post :arrows_counterclockwise:',
      'update :x:',
      'post :arrows_counterclockwise:',
      'update :white_check_mark:',
    ]);
  });

  it('on settle, sends what is pending at once and marks an unfinished rollout as no longer followed', async () => {
    const { clock, sent, reporter } = setUp();
    reporter.push(state(1, 0, 0));
    await clock.advance(500);
    reporter.push(state(2, 1, 1));
    expect(clock.pending).toBe(1);
    await reporter.settle();
    expect(clock.pending).toBe(0);
    expect(sent.at(-1)).toEqual({ method: 'update', at: 500, text: stoppedText(state(2, 1, 1)) });
    expect(sent.at(-1)?.text).toBe(
      ':warning: Stopped following the rollout of deploy/checkout in shop: 2/3 updated · 1/3 ready · 1/3 available',
    );
    // Events after the request ended are ignored.
    reporter.push(state(3, 3, 3, 'done'));
    await clock.advance(10_000);
    expect(sent).toHaveLength(2);
  });

  it('never throws when Slack refuses the post, and stops trying for the request', async () => {
    const { clock, sent, failures, reporter } = setUp();
    failures.post.push(
      Object.assign(new Error('An API error occurred: not_in_channel'), {
        code: 'slack_webapi_platform_error',
        data: { ok: false, error: 'not_in_channel' },
      }),
    );
    expect(() => reporter.push(state(1, 0, 0))).not.toThrow();
    await clock.advance(0);
    for (const p of ten) reporter.push(p);
    reporter.push(state(3, 3, 3, 'done'));
    await clock.advance(10_000);
    await reporter.settle();
    expect(sent).toHaveLength(1);
  });

  it('waits out a 429 on chat.update and then sends the newest state', async () => {
    const { clock, sent, failures, reporter } = setUp();
    failures.update.push(
      Object.assign(new Error('A rate limit was exceeded'), {
        code: 'slack_webapi_rate_limited_error',
        retryAfter: 10,
      }),
    );
    reporter.push(state(1, 0, 0));
    await clock.advance(3000);
    reporter.push(state(2, 0, 0));
    await clock.advance(0);
    expect(sent.at(-1)).toMatchObject({ method: 'update', at: 3000 });
    reporter.push(state(3, 1, 0));
    await clock.advance(9_000);
    expect(sent).toHaveLength(2);
    await clock.advance(1_000);
    expect(sent).toHaveLength(3);
    expect(sent[2]).toEqual({ method: 'update', at: 13_000, text: progressText(state(3, 1, 0)) });
  });

  it('goes on after a failed update with the next state', async () => {
    const { clock, sent, failures, reporter } = setUp();
    failures.update.push(new Error('socket hang up'));
    reporter.push(state(1, 0, 0));
    reporter.push(state(2, 0, 0));
    await clock.advance(3000);
    reporter.push(state(3, 3, 3, 'done'));
    await reporter.settle();
    expect(sent.map((s) => s.method)).toEqual(['post', 'update', 'update']);
    expect(sent.at(-1)?.text).toContain(':white_check_mark:');
  });
});

describe('progressText', () => {
  it('names the workload the way kubectl does and shows the counts', () => {
    expect(progressText(state(2, 1, 1))).toBe(
      ':arrows_counterclockwise: Rolling out deploy/checkout in shop: 2/3 updated · 1/3 ready · 1/3 available',
    );
    const sts = { ...state(0, 0, 0), target: { ...target, kind: 'StatefulSet', name: 'db' } };
    expect(progressText(sts)).toContain('sts/db in shop');
  });
});
