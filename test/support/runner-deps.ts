import pino from 'pino';
import type { KubeClient, KubeReader } from '../../src/kube/types.ts';
import type { RunnerDeps } from '../../src/runner/run-request.ts';
import { DEFAULT_LIMITS } from '../../src/skills/context.ts';
import type { AnySkill } from '../../src/skills/define-skill.ts';
import { SkillRegistry } from '../../src/skills/registry.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';

function unused(): never {
  throw new Error('this test does not expect Kubernetes calls');
}

/** A KubeClient whose readers fail loudly: for runner tests whose skills never touch Kubernetes. */
export const noKube: KubeClient = {
  as: (): KubeReader => ({
    listPods: unused,
    getWorkload: unused,
    podsOf: unused,
    listReplicaSets: unused,
    listEvents: unused,
    listNodes: unused,
    getNamespace: unused,
    readLog: unused,
  }),
  ready: () => true,
  describeTarget: () => ({ server: 'https://127.0.0.1:0', context: 'test' }),
  close: async () => undefined,
};

/** Runner dependencies over an in-memory SQLite store and the given skills. */
export function runnerDeps(
  skills: AnySkill[],
  overrides: Partial<RunnerDeps> = {},
): RunnerDeps & { store: SqliteStore } {
  const store = new SqliteStore(':memory:');
  let n = 0;
  return {
    registry: new SkillRegistry(skills),
    kube: noKube,
    metrics: undefined,
    logSearch: undefined,
    charts: { renderLineChart: async () => new Uint8Array() },
    redact: (text) => text,
    audit: store.audit,
    limits: DEFAULT_LIMITS,
    requestTimeoutMs: 5_000,
    logger: pino({ level: 'silent' }),
    now: () => new Date('2026-11-25T08:00:00Z'),
    newRequestId: () => `req-${++n}`,
    store,
    ...overrides,
  };
}
