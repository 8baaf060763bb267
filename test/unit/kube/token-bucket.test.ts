import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../../src/kube/token-bucket.ts';

/** A clock and sleep that only move when the test says so: no real time passes. */
function fakeTime() {
  let now = 0;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    advance: (ms: number) => {
      now += ms;
    },
    sleeps,
  };
}

describe('TokenBucket', () => {
  it('lets a burst through at once, then paces at qps', async () => {
    const time = fakeTime();
    const bucket = new TokenBucket({ qps: 5, burst: 10, now: time.now, sleep: time.sleep });
    for (let i = 0; i < 10; i++) await bucket.take();
    expect(time.sleeps).toEqual([]);
    await bucket.take();
    expect(time.sleeps).toEqual([200]);
  });

  it('refills while idle, up to the burst', async () => {
    const time = fakeTime();
    const bucket = new TokenBucket({ qps: 5, burst: 2, now: time.now, sleep: time.sleep });
    await bucket.take();
    await bucket.take();
    time.advance(10_000);
    expect(bucket.delay()).toBe(0);
    await bucket.take();
    await bucket.take();
    expect(bucket.delay()).toBe(200);
  });

  it('queues concurrent callers behind each other', async () => {
    const time = fakeTime();
    const bucket = new TokenBucket({
      qps: 10,
      burst: 1,
      now: () => time.now(),
      sleep: async (ms) => void time.sleeps.push(ms),
    });
    await Promise.all([bucket.take(), bucket.take(), bucket.take()]);
    expect(time.sleeps).toEqual([100, 200]);
  });

  it('refuses with RATE_LIMITED rather than wait too long', async () => {
    const time = fakeTime();
    const bucket = new TokenBucket({
      qps: 1,
      burst: 1,
      maxWaitMs: 1500,
      now: time.now,
      sleep: async () => undefined,
    });
    await bucket.take();
    await bucket.take();
    await expect(bucket.take()).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  });

  it('gives the token back when the wait is aborted', async () => {
    const time = fakeTime();
    const bucket = new TokenBucket({
      qps: 1,
      burst: 1,
      now: time.now,
      sleep: async () => {
        throw new Error('aborted');
      },
    });
    await bucket.take();
    await expect(bucket.take()).rejects.toThrow('aborted');
    expect(bucket.delay()).toBe(1000);
  });
});
