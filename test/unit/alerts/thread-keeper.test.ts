import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { IncidentPoster } from '../../../src/alerts/incident-poster.ts';
import { ALERT_THREAD_KIND, parseIncidentState } from '../../../src/alerts/incident-state.ts';
import { type IncidentView, incidentView } from '../../../src/alerts/incident-view.ts';
import {
  type KeeperClock,
  ThreadKeeper,
  type ThreadKeeperOptions,
} from '../../../src/alerts/thread-keeper.ts';
import type { SkillResult } from '../../../src/skills/result.ts';
import { SqliteStore } from '../../../src/store/sqlite-store.ts';
import { alertOf, groupPayload } from '../../support/alert-payloads.ts';

/** Manual time: nothing runs until the test advances it. */
class ManualClock implements KeeperClock {
  time = Date.parse('2026-11-25T09:00:00Z');
  timers: Array<{ at: number; fn: () => void; cancelled: boolean }> = [];
  now(): number {
    return this.time;
  }
  schedule(fn: () => void, ms: number): () => void {
    const timer = { at: this.time + ms, fn, cancelled: false };
    this.timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }
  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => !t.cancelled && t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      due.cancelled = true;
      this.time = due.at;
      due.fn();
    }
    this.time = until;
  }
}

type PosterCall =
  | { kind: 'post'; channel: string; view: IncidentView; ts: string }
  | { kind: 'update'; channel: string; ts: string; view: IncidentView }
  | { kind: 'reply'; channel: string; threadTs: string; message: SkillResult };

class FakePoster implements IncidentPoster {
  calls: PosterCall[] = [];
  #n = 0;
  failPosts = 0;
  /** While set, post and update wait until `release()` (a budget or Retry-After wait in Slack's poster). */
  holding = false;
  #held: Array<() => void> = [];
  get held(): number {
    return this.#held.length;
  }
  release(): void {
    this.holding = false;
    for (const resume of this.#held.splice(0)) resume();
  }
  async #hold(): Promise<void> {
    if (this.holding) await new Promise<void>((resolve) => this.#held.push(resolve));
  }
  async post(channel: string, view: IncidentView) {
    await this.#hold();
    if (this.failPosts > 0) {
      this.failPosts -= 1;
      throw new Error('slack is down');
    }
    this.#n += 1;
    const ts = `1700000000.${String(this.#n).padStart(6, '0')}`;
    this.calls.push({ kind: 'post', channel, view, ts });
    return { ts };
  }
  async update(channel: string, ts: string, view: IncidentView) {
    await this.#hold();
    this.calls.push({ kind: 'update', channel, ts, view });
  }
  async reply(channel: string, threadTs: string, message: SkillResult) {
    this.calls.push({ kind: 'reply', channel, threadTs, message });
  }
  of<K extends PosterCall['kind']>(kind: K): Array<Extract<PosterCall, { kind: K }>> {
    return this.calls.filter((c): c is Extract<PosterCall, { kind: K }> => c.kind === kind);
  }
}

const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

function setup(
  overrides: Partial<ThreadKeeperOptions> = {},
  shared?: { store: SqliteStore; clock: ManualClock; poster: FakePoster },
) {
  const clock = shared?.clock ?? new ManualClock();
  const store = shared?.store ?? new SqliteStore(':memory:', () => clock.now());
  if (!shared) stores.push(store);
  const poster = shared?.poster ?? new FakePoster();
  let id = 0;
  const keeper = new ThreadKeeper({
    runs: store.runs,
    poster,
    routes: [{ match: { severity: 'critical' }, channel: 'CPAGE' }],
    defaultChannel: 'COPS',
    logger: pino({ level: 'silent' }),
    replicaId: `replica-${Math.random()}`,
    newId: () => `inc-${++id}-${Math.random().toString(36).slice(2, 6)}`,
    view: (incident, state, now) =>
      incidentView(state, {
        incidentId: incident,
        alertmanagerUrl: undefined,
        silenceDurations: ['1h'],
        now,
      }),
    clock,
    updateIntervalMs: 10_000,
    claimTtlMs: 60_000,
    ...overrides,
  });
  return { keeper, store, clock, poster };
}

describe('ThreadKeeper', () => {
  it('opens one thread for the first notification of a group', async () => {
    const { keeper, poster, store } = setup();
    const got = await keeper.receive(groupPayload('Crash', [alertOf('a', 'firing')]));
    await keeper.settled();
    expect(got).toMatchObject({ created: true, changed: true, channel: 'COPS' });
    expect(poster.of('post')).toHaveLength(1);
    expect(poster.of('post')[0]?.view).toMatchObject({
      status: 'firing',
      title: 'Crash in shop',
      counts: { firing: 1, total: 1 },
    });
    const run = await store.runs.get(got.id);
    expect(parseIncidentState(run?.state).root?.ts).toBe(poster.of('post')[0]?.ts);
  });

  it('routes by labels: a critical group goes to the paging channel', async () => {
    const { keeper, poster } = setup();
    await keeper.receive(
      groupPayload('Errors', [alertOf('a', 'firing')], {
        commonLabels: { alertname: 'Errors', namespace: 'shop', severity: 'critical' },
      }),
    );
    await keeper.settled();
    expect(poster.of('post')[0]?.channel).toBe('CPAGE');
  });

  it('ignores identical repeats: ten replays, one root, no update, no note', async () => {
    const { keeper, poster, clock } = setup();
    const payload = groupPayload('Crash', [alertOf('a', 'firing')]);
    const results = [];
    for (let i = 0; i < 10; i += 1) results.push(await keeper.receive(payload));
    clock.advance(60_000);
    await keeper.settled();
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(results.slice(1).every((r) => !r.changed)).toBe(true);
    expect(poster.calls.map((c) => c.kind)).toEqual(['post']);
  });

  it('updates the root at most once per interval and notes new alerts in the thread', async () => {
    const { keeper, poster, clock } = setup();
    await keeper.receive(groupPayload('Crash', [alertOf('a', 'firing')]));
    await keeper.settled();
    await keeper.receive(groupPayload('Crash', [alertOf('a', 'firing'), alertOf('b', 'firing')]));
    await keeper.settled();
    // The note goes at once; the root waits for the interval.
    expect(poster.of('reply').map((r) => r.message.summary)).toEqual(['1 more firing; now 2 of 2 firing.']);
    expect(poster.of('update')).toHaveLength(0);
    await keeper.receive(
      groupPayload('Crash', [alertOf('a', 'firing'), alertOf('b', 'firing'), alertOf('c', 'firing')]),
    );
    await keeper.settled();
    clock.advance(9_999);
    await keeper.settled();
    expect(poster.of('update')).toHaveLength(0);
    clock.advance(1);
    await keeper.settled();
    // Two changes within the interval: one update, showing the newest state.
    expect(poster.of('update')).toHaveLength(1);
    expect(poster.of('update')[0]?.view.counts).toMatchObject({ firing: 3, total: 3 });
    expect(poster.of('update')[0]?.ts).toBe(poster.of('post')[0]?.ts);
    expect(poster.of('post')).toHaveLength(1);
  });

  it('counts the interval from when an update landed, not from when it was claimed', async () => {
    const { keeper, poster, clock } = setup();
    const a = alertOf('a', 'firing');
    const b = alertOf('b', 'firing');
    const c = alertOf('c', 'firing');
    await keeper.receive(groupPayload('Crash', [a]));
    await keeper.settled();
    await keeper.receive(groupPayload('Crash', [a, b]));
    await keeper.settled();
    // The update is claimed at +10 s, then waits 15 s (the chat.update budget, a Retry-After).
    poster.holding = true;
    clock.advance(10_000);
    while (poster.held === 0) await new Promise((resolve) => setImmediate(resolve));
    clock.advance(15_000);
    await keeper.receive(groupPayload('Crash', [a, b, c]));
    poster.release();
    await keeper.settled();
    expect(poster.of('update')).toHaveLength(1);
    // Landed at +25 s: the next update is due at +35 s, although +20 s has passed already.
    clock.advance(9_999);
    await keeper.settled();
    expect(poster.of('update')).toHaveLength(1);
    clock.advance(1);
    await keeper.settled();
    expect(poster.of('update')).toHaveLength(2);
    expect(poster.of('update')[1]?.view.counts).toMatchObject({ firing: 3, total: 3 });
  });

  it('counts the first interval from when the root post landed', async () => {
    const { keeper, poster, clock } = setup();
    const a = alertOf('a', 'firing');
    poster.holding = true;
    await keeper.receive(groupPayload('Crash', [a]));
    while (poster.held === 0) await new Promise((resolve) => setImmediate(resolve));
    clock.advance(8_000);
    poster.release();
    await keeper.settled();
    await keeper.receive(groupPayload('Crash', [a, alertOf('b', 'firing')]));
    await keeper.settled();
    clock.advance(9_999);
    await keeper.settled();
    expect(poster.of('update')).toHaveLength(0);
    clock.advance(1);
    await keeper.settled();
    expect(poster.of('update')).toHaveLength(1);
  });

  it('shows partial resolution as counts, then resolution with its duration and a closing note', async () => {
    const { keeper, poster, clock, store } = setup();
    const got = await keeper.receive(groupPayload('Crash', [alertOf('a', 'firing'), alertOf('b', 'firing')]));
    await keeper.settled();
    clock.advance(5 * 60_000);
    await keeper.receive(groupPayload('Crash', [alertOf('a', 'resolved'), alertOf('b', 'firing')]));
    await keeper.settled();
    expect(poster.of('reply').at(-1)?.message.summary).toBe('1 resolved; now 1 of 2 firing.');
    clock.advance(10_000);
    await keeper.settled();
    expect(poster.of('update').at(-1)?.view).toMatchObject({
      status: 'firing',
      counts: { firing: 1, resolved: 1, total: 2 },
    });
    clock.advance(10 * 60_000);
    await keeper.receive(groupPayload('Crash', [alertOf('a', 'resolved'), alertOf('b', 'resolved')]));
    await keeper.settled();
    expect(poster.of('reply').at(-1)?.message).toMatchObject({ tone: 'success' });
    expect(poster.of('reply').at(-1)?.message.summary).toMatch(
      /^Resolved: all 2 alert\(s\) of the group, after /,
    );
    clock.advance(10_000);
    await keeper.settled();
    const last = poster.of('update').at(-1)?.view;
    expect(last).toMatchObject({ status: 'resolved', counts: { firing: 0, resolved: 2 }, actions: [] });
    expect(last?.duration).toBeDefined();
    expect(poster.of('post')).toHaveLength(1);
    expect((await store.runs.get(got.id))?.status).toBe('closed');
  });

  it('shows the alerts Alertmanager left out (truncatedAlerts)', async () => {
    const { keeper, poster } = setup();
    await keeper.receive(groupPayload('Crash', [alertOf('a', 'firing')], { truncatedAlerts: 40 }));
    await keeper.settled();
    expect(poster.of('post')[0]?.view.counts).toMatchObject({ firing: 1, truncated: 40 });
  });

  it('reopens the same thread when a resolved group fires again', async () => {
    const { keeper, poster, clock } = setup();
    await keeper.receive(groupPayload('Crash', [alertOf('a', 'firing')]));
    await keeper.receive(groupPayload('Crash', [alertOf('a', 'resolved')]));
    await keeper.settled();
    clock.advance(20_000);
    await keeper.receive(groupPayload('Crash', [alertOf('a', 'firing', {}, '2026-11-25T09:10:00Z')]));
    await keeper.settled();
    expect(poster.of('reply').at(-1)?.message.summary).toBe('Firing again: 1 alert(s).');
    expect(poster.of('post')).toHaveLength(1);
  });

  it('does not open a second thread after a restart', async () => {
    const first = setup();
    await first.keeper.receive(groupPayload('Crash', [alertOf('a', 'firing')]));
    await first.keeper.stop();
    const second = setup({}, { store: first.store, clock: first.clock, poster: first.poster });
    await second.keeper.receive(groupPayload('Crash', [alertOf('a', 'firing'), alertOf('b', 'firing')]));
    await second.keeper.settled();
    expect(first.poster.of('post')).toHaveLength(1);
    expect(first.poster.of('reply').map((r) => r.threadTs)).toEqual([first.poster.of('post')[0]?.ts]);
  });

  it('lets exactly one of two replicas post the root when both get the first notification', async () => {
    const a = setup();
    const b = setup({}, { store: a.store, clock: a.clock, poster: a.poster });
    const payload = groupPayload('Crash', [alertOf('a', 'firing')]);
    const results = await Promise.all([
      a.keeper.receive(payload),
      b.keeper.receive(payload),
      b.keeper.receive(payload),
    ]);
    await Promise.all([a.keeper.settled(), b.keeper.settled()]);
    await Promise.all([a.keeper.sweep(), b.keeper.sweep()]);
    await Promise.all([a.keeper.settled(), b.keeper.settled()]);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    expect(a.poster.of('post')).toHaveLength(1);
  });

  it('takes over a root another replica claimed but never posted, once the claim expires', async () => {
    const { keeper, store, clock, poster } = setup();
    const got = await keeper.receive(groupPayload('Crash', [alertOf('a', 'firing')]));
    await keeper.stop();
    // Simulate: another replica claimed the post, then crashed before posting.
    const run = await store.runs.get(got.id);
    const state = parseIncidentState(run?.state);
    await store.runs.update(
      got.id,
      run?.version ?? 0,
      {
        state: {
          ...state,
          root: undefined,
          posting: { by: 'dead', at: new Date(clock.now()).toISOString() },
        },
      },
      new Date(clock.now()),
    );
    poster.calls.length = 0;
    const next = setup({}, { store, clock, poster });
    await next.keeper.sweep();
    await next.keeper.settled();
    expect(poster.of('post')).toHaveLength(0);
    clock.advance(60_000);
    await next.keeper.settled();
    expect(poster.of('post')).toHaveLength(1);
  });

  it('retries a root post that failed, without a second root', async () => {
    const { keeper, poster, clock } = setup();
    poster.failPosts = 1;
    await keeper.receive(groupPayload('Crash', [alertOf('a', 'firing')]));
    await keeper.settled();
    expect(poster.of('post')).toHaveLength(0);
    clock.advance(15_000);
    await keeper.settled();
    expect(poster.of('post')).toHaveLength(1);
  });

  it('posts the enrichment once into the thread, bounded in concurrency', async () => {
    let running = 0;
    let most = 0;
    const release: Array<() => void> = [];
    const enrich = async (): Promise<SkillResult[]> => {
      running += 1;
      most = Math.max(most, running);
      await new Promise<void>((resolve) => release.push(resolve));
      running -= 1;
      return [{ summary: 'what I found', sections: [] }];
    };
    const seconds: number[] = [];
    const { keeper, poster } = setup({
      enrich,
      enrichmentConcurrency: 2,
      onEnriched: (s) => seconds.push(s),
    });
    for (const g of ['A', 'B', 'C', 'D', 'E'])
      await keeper.receive(groupPayload(g, [alertOf(`${g}1`, 'firing')]));
    await new Promise((resolve) => setImmediate(resolve));
    for (let i = 0; i < 50 && release.length < 2; i += 1)
      await new Promise((resolve) => setTimeout(resolve, 1));
    expect(running).toBe(2);
    while (poster.of('reply').length < 5) {
      release.shift()?.();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await keeper.settled();
    expect(most).toBe(2);
    const roots = new Set(poster.of('post').map((p) => p.ts));
    expect(
      poster.of('reply').filter((r) => r.message.summary === 'what I found' && roots.has(r.threadTs)),
    ).toHaveLength(5);
    expect(seconds).toHaveLength(5);
    await keeper.sweep();
    await keeper.settled();
    expect(poster.of('reply')).toHaveLength(5);
  });

  it('survives a storm: 1,000 alerts in 20 groups, one thread each, final state right, updates coalesced', async () => {
    const { keeper, poster, clock, store } = setup();
    const groups = Array.from({ length: 20 }, (_, i) => `Storm${i}`);
    const firing = new Map(groups.map((g) => [g, [] as string[]]));
    const work: Array<Promise<unknown>> = [];
    for (let i = 0; i < 1000; i += 1) {
      const group = groups[i % groups.length] ?? 'Storm0';
      const list = firing.get(group) ?? [];
      list.push(`${group}-${i}`);
      // Alertmanager sends the whole group each time; sometimes the same notification twice (a retry).
      const payload = groupPayload(
        group,
        list.map((fp) => alertOf(fp, 'firing')),
      );
      work.push(keeper.receive(payload));
      if (i % 7 === 0) work.push(keeper.receive(payload));
      if (i % 50 === 49) {
        clock.advance(3_000);
        await Promise.all(work.splice(0));
      }
    }
    await Promise.all(work);
    await keeper.settled();
    clock.advance(60_000);
    await keeper.settled();
    expect(poster.of('post')).toHaveLength(20);
    expect(new Set(poster.of('post').map((p) => p.view.title)).size).toBe(20);
    // 60 s of storm: at most one update per thread per 10 s (+1 for the final state).
    const perThread = new Map<string, number>();
    for (const u of poster.of('update')) perThread.set(u.ts, (perThread.get(u.ts) ?? 0) + 1);
    for (const n of perThread.values()) expect(n).toBeLessThanOrEqual(8);
    const runs = await store.runs.list(ALERT_THREAD_KIND);
    expect(runs).toHaveLength(20);
    for (const run of runs) {
      const state = parseIncidentState(run.state);
      expect(Object.keys(state.alerts)).toHaveLength(50);
      expect(state.root?.shownRevision).toBe(state.revision);
      const last = poster
        .of('update')
        .filter((u) => u.ts === state.root?.ts)
        .at(-1);
      expect(last?.view.counts.firing).toBe(50);
    }
  }, 30_000); // a thousand store round-trips: slow on a loaded CI machine, never timing-dependent
});
