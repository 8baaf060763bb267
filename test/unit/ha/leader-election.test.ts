import { describe, expect, it } from 'vitest';
import { haConfigSchema } from '../../../src/ha/ha-config.ts';
import {
  LeaderElector,
  type LeaseRecord,
  type LeaseStore,
  microTime,
} from '../../../src/ha/leader-election.ts';
import { LeaderLoops, startLeadership } from '../../../src/ha/leader-loops.ts';

/** One Lease in memory with the API server's optimistic concurrency (resourceVersion). */
class MemoryLeaseStore implements LeaseStore {
  readonly description = 'lease test/wheelhouse';
  record: LeaseRecord | undefined;
  unreachable = false;
  #version = 0;

  async get(): Promise<LeaseRecord | undefined> {
    if (this.unreachable) throw new Error('connect ECONNREFUSED');
    return this.record && { ...this.record };
  }
  async create(record: Omit<LeaseRecord, 'resourceVersion'>): Promise<LeaseRecord | 'conflict'> {
    if (this.unreachable) throw new Error('connect ECONNREFUSED');
    if (this.record) return 'conflict';
    this.record = { ...record, resourceVersion: String(++this.#version) };
    return { ...this.record };
  }
  async update(record: LeaseRecord): Promise<LeaseRecord | 'conflict'> {
    if (this.unreachable) throw new Error('connect ECONNREFUSED');
    if (!this.record || this.record.resourceVersion !== record.resourceVersion) return 'conflict';
    this.record = { ...record, resourceVersion: String(++this.#version) };
    return { ...this.record };
  }
}

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

function setup() {
  const store = new MemoryLeaseStore();
  const clock = { now: 1_000_000 };
  const events: string[] = [];
  const candidate = (identity: string) =>
    new LeaderElector({
      store,
      identity,
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      onStartedLeading: () => void events.push(`${identity} leads`),
      onStoppedLeading: () => void events.push(`${identity} stops`),
      logger: silent,
      now: () => clock.now,
    });
  return { store, clock, events, candidate };
}

describe('leader election over a Lease', () => {
  it('lets the first candidate create the Lease and lead, and keeps the second waiting while it renews', async () => {
    const { store, clock, events, candidate } = setup();
    const a = candidate('a');
    const b = candidate('b');
    expect(await a.step()).toBe(true);
    expect(await b.step()).toBe(false);
    for (let i = 0; i < 20; i++) {
      clock.now += 2_000;
      expect(await a.step()).toBe(true);
      expect(await b.step()).toBe(false);
    }
    expect(store.record?.holder).toBe('a');
    expect(store.record?.transitions).toBe(0);
    expect(events).toEqual(['a leads']);
  });

  it('hands over to a candidate only after the lease duration once the leader stops renewing', async () => {
    const { store, clock, events, candidate } = setup();
    const a = candidate('a');
    const b = candidate('b');
    await a.step();
    await b.step(); // b observes a's claim now
    clock.now += 14_000;
    expect(await b.step()).toBe(false); // a crashed 14 s ago: its claim still holds
    clock.now += 1_000;
    expect(await b.step()).toBe(true); // 15 s without a change: expired
    expect(store.record).toMatchObject({ holder: 'b', transitions: 1 });
    expect(events).toEqual(['a leads', 'b leads']);
  });

  it('judges expiry by when this process saw the Lease change, not by the holder clock', async () => {
    const { store, clock, candidate } = setup();
    const b = candidate('b');
    // A holder whose clock is far behind: its renewTime looks ancient, but b has just seen it.
    store.record = {
      resourceVersion: '7',
      holder: 'a',
      leaseDurationSeconds: 15,
      acquireTime: microTime(0),
      renewTime: microTime(0),
      transitions: 0,
    };
    expect(await b.step()).toBe(false);
    clock.now += 10_000;
    expect(await b.step()).toBe(false);
  });

  it('stops leading when the Lease cannot be renewed within the renew deadline, and not before', async () => {
    const { store, clock, events, candidate } = setup();
    const a = candidate('a');
    await a.step();
    store.unreachable = true;
    clock.now += 8_000;
    expect(await a.step()).toBe(true);
    clock.now += 2_000;
    expect(await a.step()).toBe(false); // 10 s since the last renewal
    expect(events).toEqual(['a leads', 'a stops']);
    store.unreachable = false;
    clock.now += 2_000;
    expect(await a.step()).toBe(true); // still the holder: takes it back
  });

  it('stops leading at once when another process holds the Lease', async () => {
    const { store, events, candidate } = setup();
    const a = candidate('a');
    await a.step();
    if (!store.record) throw new Error('no lease');
    store.record = { ...store.record, holder: 'c', resourceVersion: '99' };
    expect(await a.step()).toBe(false);
    expect(events).toEqual(['a leads', 'a stops']);
  });

  it('lets only one of two candidates take an expired Lease', async () => {
    const { store, clock, candidate } = setup();
    const a = candidate('a');
    await a.step();
    const b = candidate('b');
    const c = candidate('c');
    await Promise.all([b.step(), c.step()]);
    clock.now += 16_000;
    const results = await Promise.all([b.step(), c.step()]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(['b', 'c']).toContain(store.record?.holder);
  });

  it('releases the Lease on stop so the next candidate takes over at its next attempt', async () => {
    const { store, events, candidate } = setup();
    const a = candidate('a');
    const b = candidate('b');
    await a.step();
    await b.step();
    await a.stop();
    expect(store.record?.holder).toBe('');
    expect(events).toEqual(['a leads', 'a stops']);
    expect(await b.step()).toBe(true); // no waiting for the lease duration
  });
});

describe('leader loops', () => {
  it('run while leading, stop when following, and start at once when added to a leader', async () => {
    const log: string[] = [];
    const loop = (name: string) => () => {
      log.push(`start ${name}`);
      return { stop: async () => void log.push(`stop ${name}`) };
    };
    const loops = new LeaderLoops(silent);
    loops.add('upkeep', loop('upkeep'));
    expect(log).toEqual([]);
    loops.lead();
    loops.add('canary', loop('canary'));
    expect(loops.running).toEqual(['upkeep', 'canary']);
    await loops.follow();
    expect(loops.running).toEqual([]);
    expect(log).toEqual(['start upkeep', 'start canary', 'stop upkeep', 'stop canary']);
  });

  it('run at once and touch no Lease without leader election', async () => {
    const requests: unknown[] = [];
    const leadership = startLeadership({
      config: haConfigSchema.parse({}).leaderElection,
      kube: {
        requestAsSelf: async (req) => {
          requests.push(req);
          return { status: 500, body: '', truncated: false };
        },
      },
      logger: silent,
    });
    let running = false;
    leadership.loops.add('upkeep', () => {
      running = true;
      return {
        stop: () => {
          running = false;
        },
      };
    });
    expect(running).toBe(true);
    expect(leadership.elector).toBeUndefined();
    await leadership.stop();
    expect(running).toBe(false);
    expect(requests).toEqual([]);
  });
});

describe('the ha config', () => {
  it('is off by default with client-go durations', () => {
    expect(haConfigSchema.parse({}).leaderElection).toMatchObject({
      enabled: false,
      leaseName: 'wheelhouse',
      leaseDuration: '15s',
      renewDeadline: '10s',
      retryPeriod: '2s',
    });
  });

  it.each([
    [{ leaseDuration: '10s', renewDeadline: '10s' }, 'leaseDuration'],
    [{ renewDeadline: '2s', retryPeriod: '2s' }, 'renewDeadline'],
  ])('refuses %o', (leaderElection, path) => {
    const parsed = haConfigSchema.safeParse({ leaderElection });
    expect(parsed.error?.issues.map((i) => i.path.at(-1))).toEqual([path]);
  });
});
