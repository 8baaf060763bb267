import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { canaryConfigSchema, resolveRunSettings } from '../../../src/canary/canary-config.ts';
import { CanaryEngine } from '../../../src/canary/canary-engine.ts';
import { CANARY, type PendingCanary, parseCanary } from '../../../src/canary/canary-run.ts';
import type { DesiredChange, KubeWriter, KubeWriterFactory } from '../../../src/changes/types.ts';
import type { KubeReader } from '../../../src/kube/types.ts';
import type { MetricsSource } from '../../../src/sources/types.ts';
import { SqliteStore } from '../../../src/store/sqlite-store.ts';

/** Records every change as "op target replicas"; rollouts are done at once. */
function recordingWriters(log: string[]): KubeWriterFactory {
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
      log.push(`${change.type} ${change.target.name}${replicas === undefined ? '' : ` ${replicas}`}`);
      return { resourceVersion: '1' };
    },
    followRollout: async (target) => ({
      target,
      desired: 1,
      updated: 1,
      ready: 1,
      available: 1,
      phase: 'done',
      message: 'available',
    }),
  };
  return { writerAs: () => writer };
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
  const log: string[] = [];
  const engine = (owner: string) =>
    new CanaryEngine({
      runs: store.runs,
      writers: recordingWriters(log),
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
      audit: store.audit,
      reporter: { show: async (_where, message) => message ?? { channel: 'C1', ts: '1.0' } },
      owner,
      leaseMs: 30_000,
      rateWindow: '1m',
      sampleStepSeconds: 10,
      settings: (workload, flags) => resolveRunSettings(canaryConfigSchema.parse({}), workload, flags),
      now: () => clock,
      logger: pino({ level: 'silent' }),
    });
  return {
    store,
    log,
    engine,
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
