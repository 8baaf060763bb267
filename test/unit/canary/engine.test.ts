import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { canaryConfigSchema, resolveRunSettings } from '../../../src/canary/canary-config.ts';
import { CanaryEngine } from '../../../src/canary/canary-engine.ts';
import { CANARY, type PendingCanary, parseCanary } from '../../../src/canary/canary-run.ts';
import type { DesiredChange, KubeWriter, KubeWriterFactory } from '../../../src/changes/types.ts';
import type { KubeReader } from '../../../src/kube/types.ts';
import type { MetricsSource } from '../../../src/sources/types.ts';
import { SqliteStore } from '../../../src/store/sqlite-store.ts';

/**
 * Rollouts that end when the test says, or never (the process crashed while waiting for pods); they
 * keep the signal they were given but do not end on it, like a writer that misses an abort.
 */
class HeldRollouts {
  readonly signals: AbortSignal[] = [];
  readonly #waiting: Array<() => void> = [];
  #entered: () => void = () => undefined;
  /** Resolves once a rollout waits here. */
  readonly entered = new Promise<void>((resolve) => {
    this.#entered = resolve;
  });

  wait(signal: AbortSignal | undefined): Promise<void> {
    if (signal) this.signals.push(signal);
    this.#entered();
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  release(): void {
    for (const resolve of this.#waiting.splice(0)) resolve();
  }
}

/** Records every change as "op target replicas"; rollouts are done at once unless held. */
function recordingWriters(
  record: (op: string) => void,
  held?: () => HeldRollouts | undefined,
): KubeWriterFactory {
  const writer: KubeWriter = {
    authorize: async () => undefined,
    preview: async () => {
      throw new Error('the engine never previews');
    },
    apply: async (change: DesiredChange) => {
      const replicas =
        change.type === 'patch'
          ? (change.patch as { spec?: { replicas?: number } }).spec?.replicas
          : undefined;
      record(`${change.type} ${change.target.name}${replicas === undefined ? '' : ` ${replicas}`}`);
      return { resourceVersion: '1' };
    },
    followRollout: async (target, options) => {
      await held?.()?.wait(options.signal);
      return {
        target,
        desired: 1,
        updated: 1,
        ready: 1,
        available: 1,
        phase: 'done',
        message: 'available',
      };
    },
  };
  return { writerAs: () => writer };
}

/** A heartbeat beaten by the test: `beat` runs each owner's registered renewals once. */
function manualHeartbeat() {
  const tasks = new Map<string, Set<() => Promise<void>>>();
  const everyMs: number[] = [];
  return {
    everyMs,
    repeatFor: (owner: string) => (task: () => Promise<void>, ms: number) => {
      everyMs.push(ms);
      const mine = tasks.get(owner) ?? new Set();
      tasks.set(owner, mine);
      mine.add(task);
      return () => mine.delete(task);
    },
    /** How many renewals of `owner` are running (a tick in flight has one). */
    running: (owner: string) => tasks.get(owner)?.size ?? 0,
    async beat(owner: string): Promise<void> {
      await Promise.all([...(tasks.get(owner) ?? [])].map((task) => task()));
    },
  };
}

/** Prometheus answering a constant success rate per track (canary pods named "<stable>-canary-…"). */
function metricsOf(rates: { canary: number; stable: number }): MetricsSource {
  return {
    url: 'http://prometheus.test',
    rangeQuery: async (q) => {
      const value = q.query.includes('-canary-') ? rates.canary : rates.stable;
      return [{ labels: {}, points: [0, 1, 2, 3, 4].map((i) => [i * 1000, value] as [number, number]) }];
    },
  };
}

const pending: PendingCanary = {
  requestId: 'req-1',
  summary: 'canary deploy/web',
  actor: { surface: 'console', id: 'bob', kube: { user: 'bob', groups: [] } },
  namespace: 'shop',
  stable: 'web',
  canary: 'web-canary',
  container: 'web',
  image: 'web:v2',
  previousImage: 'web:v1',
  total: 4,
  flags: { steps: '25,50,100', interval: '60s', analysis: 'success-rate>=99%' },
};

function setup(rates: { canary: number; stable: number }) {
  const store = new SqliteStore(':memory:');
  let clock = new Date('2025-01-01T00:00:00Z');
  /** Every change, in order; `writes` and `audits` say which owner did what. */
  const log: string[] = [];
  const writes: string[] = [];
  const audits: string[] = [];
  const shown: string[] = [];
  const heartbeat = manualHeartbeat();
  const held = new Map<string, HeldRollouts>();
  const engine = (owner: string) =>
    new CanaryEngine({
      runs: store.runs,
      writers: recordingWriters(
        (op) => {
          log.push(op);
          writes.push(`${owner} ${op}`);
        },
        () => held.get(owner),
      ),
      readerAs: () =>
        ({
          getWorkload: async () => ({
            kind: 'Deployment',
            object: {
              metadata: { name: 'web' },
              spec: { template: { spec: { containers: [{ name: 'web', image: 'web:v1' }] } } },
            },
          }),
        }) as unknown as KubeReader,
      metrics: metricsOf(rates),
      audit: {
        append: (entry) => {
          audits.push(`${owner} ${entry.type}`);
          return store.audit.append(entry);
        },
        tail: (limit) => store.audit.tail(limit),
        all: (pageSize) => store.audit.all(pageSize),
      },
      reporter: {
        show: async (_where, message, view) => {
          shown.push(`${owner} ${view.summary}`);
          return message ?? { channel: 'C1', ts: '1.0' };
        },
      },
      owner,
      leaseMs: 30_000,
      repeat: heartbeat.repeatFor(owner),
      rateWindow: '1m',
      sampleStepSeconds: 10,
      settings: (workload, flags) => resolveRunSettings(canaryConfigSchema.parse({}), workload, flags),
      now: () => clock,
      logger: pino({ level: 'silent' }),
    });
  return {
    store,
    log,
    writes,
    audits,
    shown,
    heartbeat,
    engine,
    /** From now on, `owner`'s rollouts wait until released (or forever). */
    holdRollouts(owner: string): HeldRollouts {
      const rollouts = new HeldRollouts();
      held.set(owner, rollouts);
      return rollouts;
    },
    now: () => clock,
    advance: (seconds: number) => {
      clock = new Date(clock.getTime() + seconds * 1000);
    },
    async state(id: string) {
      const run = await store.runs.get(id);
      if (!run) throw new Error('no run');
      return { status: run.status, ...parseCanary(run) };
    },
  };
}

describe('canary engine', () => {
  it('steps a healthy run to promotion, one step per passing analysis, keeping capacity', async () => {
    const t = setup({ canary: 0.999, stable: 0.999 });
    await t.store.runs.create({ id: 'r1', kind: CANARY, status: 'pending', state: pending }, new Date());
    const a = t.engine('a');
    await a.tick('r1');
    expect(await t.state('r1')).toMatchObject({ status: 'active', stepIndex: 0, appliedStep: 0 });
    expect(t.log).toEqual(['patch web-canary 1', 'patch web 3']);
    await a.tick('r1'); // not due: nothing happens
    expect(t.log).toHaveLength(2);
    t.advance(60);
    await a.tick('r1');
    expect(await t.state('r1')).toMatchObject({ stepIndex: 1, appliedStep: 1 });
    expect(t.log.slice(2)).toEqual(['patch web-canary 2', 'patch web 2']);
    t.advance(60);
    await a.tick('r1');
    expect(await t.state('r1')).toMatchObject({ status: 'promoted', phase: 'promoted' });
    expect(t.log.slice(4)).toEqual(['patch web', 'patch web 4', 'delete web-canary']);
  });

  it('lets only the lease holder step a run; another owner takes over once the lease ran out', async () => {
    const t = setup({ canary: 0.999, stable: 0.999 });
    await t.store.runs.create({ id: 'r1', kind: CANARY, status: 'pending', state: pending }, new Date());
    await t.engine('a').tick('r1');
    t.advance(20); // within a's 30 s lease
    const b = t.engine('b');
    await b.tick('r1');
    expect(await t.state('r1')).toMatchObject({ stepIndex: 0, lease: { owner: 'a' } });
    t.advance(41); // a's lease ran out, and the analysis is due
    await b.tick('r1');
    expect(await t.state('r1')).toMatchObject({ stepIndex: 1, appliedStep: 1, lease: { owner: 'b' } });
  });

  it('rolls a failing canary back at the first analysis and pauses on no data', async () => {
    const bad = setup({ canary: 0.92, stable: 0.995 });
    await bad.store.runs.create({ id: 'r1', kind: CANARY, status: 'pending', state: pending }, new Date());
    const a = bad.engine('a');
    await a.tick('r1');
    bad.advance(60);
    await a.tick('r1');
    expect(await bad.state('r1')).toMatchObject({
      status: 'rolled-back',
      reason: expect.stringMatching(/^success-rate: canary 92%/),
    });
    expect(bad.log.slice(2)).toEqual(['patch web 4', 'delete web-canary']);

    const none = setup({ canary: Number.NaN, stable: 0.995 });
    await none.store.runs.create({ id: 'r2', kind: CANARY, status: 'pending', state: pending }, new Date());
    const b = none.engine('b');
    await b.tick('r2');
    none.advance(60);
    await b.tick('r2');
    expect(await none.state('r2')).toMatchObject({
      status: 'active',
      phase: 'paused',
      pause: { kind: 'inconclusive' },
    });
  });
});

/** What one owner did, from a list of "owner what" lines. */
const of = (owner: string, lines: readonly string[]) =>
  lines.filter((line) => line.startsWith(`${owner} `)).map((line) => line.slice(owner.length + 1));

describe('canary lease heartbeat', () => {
  it('keeps the run with its owner while a step waits for its pods longer than the lease', async () => {
    const t = setup({ canary: 0.999, stable: 0.999 });
    await t.store.runs.create({ id: 'r1', kind: CANARY, status: 'pending', state: pending }, new Date());
    const rollouts = t.holdRollouts('a');
    const ticking = t.engine('a').tick('r1');
    await rollouts.entered; // step 0 applied, waiting for its pods
    expect(t.heartbeat.everyMs).toEqual([10_000]); // a third of the 30 s lease

    const b = t.engine('b');
    for (let second = 10; second <= 60; second += 10) {
      t.advance(10);
      await t.heartbeat.beat('a');
      await b.tick('r1'); // twice the lease has passed by the end: only the heartbeat keeps it a's
    }
    expect(await t.state('r1')).toMatchObject({
      appliedStep: -1,
      lease: { owner: 'a', until: new Date(t.now().getTime() + 30_000).toISOString() },
    });
    expect(of('b', t.writes)).toEqual([]);
    expect(of('b', t.audits)).toEqual([]);
    expect(t.heartbeat.running('b')).toBe(0);

    rollouts.release();
    await ticking;
    expect(await t.state('r1')).toMatchObject({ stepIndex: 0, appliedStep: 0, lease: { owner: 'a' } });
    expect(of('a', t.writes)).toEqual(['patch web-canary 1', 'patch web 3']);
    expect(of('a', t.audits)).toEqual(['canary.run.started', 'canary.step']);
    expect(t.heartbeat.running('a')).toBe(0); // the tick stopped beating when it ended
    expect(rollouts.signals.every((s) => !s.aborted)).toBe(true);
  });

  it('hands a run whose owner crashed mid-step to another owner after the lease, at the same step', async () => {
    const t = setup({ canary: 0.999, stable: 0.999 });
    await t.store.runs.create({ id: 'r1', kind: CANARY, status: 'pending', state: pending }, new Date());
    const a = t.engine('a');
    await a.tick('r1'); // step 0 landed
    t.advance(60);
    const rollouts = t.holdRollouts('a');
    void a.tick('r1'); // passes the analysis and applies step 1, then crashes waiting for its pods:
    await rollouts.entered; // it never returns and its heartbeat never beats again
    const interrupted = of('a', t.writes).slice(2);
    expect(interrupted).toEqual(['patch web-canary 2', 'patch web 2']);
    // What is stored is the last step a finished; a's lease runs 30 s from its claim.
    expect(await t.state('r1')).toMatchObject({ stepIndex: 0, appliedStep: 0, lease: { owner: 'a' } });

    const b = t.engine('b');
    t.advance(29);
    await b.tick('r1');
    expect(of('b', t.writes)).toEqual([]);
    t.advance(2);
    await b.tick('r1');
    expect(of('b', t.writes)).toEqual(interrupted);
    expect(await t.state('r1')).toMatchObject({
      status: 'active',
      stepIndex: 1,
      appliedStep: 1,
      lease: { owner: 'b' },
    });
    expect(of('b', t.audits)).toEqual(['canary.analysis.pass', 'canary.step']);
  });

  it('stops acting on a run once a heartbeat finds it taken over: no writes, audit or chat after', async () => {
    const t = setup({ canary: 0.999, stable: 0.999 });
    await t.store.runs.create(
      {
        id: 'r1',
        kind: CANARY,
        status: 'pending',
        state: { ...pending, flags: { ...pending.flags, steps: '50,100' } },
      },
      new Date(),
    );
    const a = t.engine('a');
    await a.tick('r1'); // step 0 (50%) landed
    t.advance(60);
    const rollouts = t.holdRollouts('a');
    const ticking = a.tick('r1'); // the analysis passes: promoting, waiting for stable's pods
    await rollouts.entered;
    expect(of('a', t.audits).slice(-2)).toEqual(['canary.analysis.pass', 'canary.promote']);

    // Someone else takes the run while a still believes its lease good (its clock says so).
    const run = await t.store.runs.get('r1');
    if (!run) throw new Error('no run');
    const until = new Date(t.now().getTime() + 60_000).toISOString();
    await t.store.runs.update(
      'r1',
      run.version,
      { state: { ...parseCanary(run), lease: { owner: 'z', until } } },
      t.now(),
    );
    const [writes, audits, shown] = [t.writes.length, t.audits.length, t.shown.length];

    t.advance(10);
    await t.heartbeat.beat('a'); // the compare-and-set fails: the run is z's
    expect(rollouts.signals.map((s) => s.aborted)).toEqual([true]);
    expect(t.heartbeat.running('a')).toBe(0);

    rollouts.release(); // the rollout ends as if the abort came too late
    await ticking;
    expect(t.writes.slice(writes)).toEqual([]); // no `delete web-canary`
    expect(t.audits.slice(audits)).toEqual([]); // no `canary.promoted`
    expect(t.shown.slice(shown)).toEqual([]);
    expect(await t.state('r1')).toMatchObject({
      status: 'active',
      phase: 'running',
      stepIndex: 0,
      lease: { owner: 'z', until },
    });
  });

  it('keeps its lease and the chat command when a command is queued while a step waits', async () => {
    const t = setup({ canary: 0.999, stable: 0.999 });
    await t.store.runs.create({ id: 'r1', kind: CANARY, status: 'pending', state: pending }, new Date());
    const a = t.engine('a');
    const rollouts = t.holdRollouts('a');
    const ticking = a.tick('r1');
    await rollouts.entered;
    // A Pause click on another replica appends to the run (a version bump under the heartbeat).
    const run = await t.store.runs.get('r1');
    if (!run) throw new Error('no run');
    const state = parseCanary(run);
    const pause = { id: 'c1', action: 'pause' as const, by: 'ana', at: t.now().toISOString() };
    await t.store.runs.update('r1', run.version, { state: { ...state, commands: [pause] } }, t.now());

    t.advance(10);
    await t.heartbeat.beat('a');
    expect(rollouts.signals.map((s) => s.aborted)).toEqual([false]);
    expect(await t.state('r1')).toMatchObject({
      commands: [pause],
      lease: { owner: 'a', until: new Date(t.now().getTime() + 30_000).toISOString() },
    });

    rollouts.release();
    await ticking;
    expect(await t.state('r1')).toMatchObject({ appliedStep: 0, commands: [pause], lease: { owner: 'a' } });
    await a.tick('r1');
    expect(await t.state('r1')).toMatchObject({ phase: 'paused', commands: [], pause: { kind: 'user' } });
  });
});
