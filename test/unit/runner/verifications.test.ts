import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { type ChangeRoadDeps, runChange } from '../../../src/runner/change-road.ts';
import { type ChatNotifier, startVerificationKeeper } from '../../../src/runner/verification-keeper.ts';
import { parseVerification, VERIFICATION } from '../../../src/runner/verifications.ts';
import type { Actor } from '../../../src/skills/context.ts';
import type { SkillResult } from '../../../src/skills/result.ts';
import { fakeKube, skillContext } from '../../support/fake-kube.ts';
import { FakeWriters } from '../../support/fake-writer.ts';
import { runnerDeps } from '../../support/runner-deps.ts';
import { setImage } from '../../support/test-skills.ts';

const bob: Actor = {
  surface: 'slack',
  id: 'U-BOB',
  channel: 'C1',
  thread: '1.2',
  kube: { user: 'bob', groups: [] },
};
let clock: Date;
let writers: FakeWriters;
let deps: ReturnType<typeof runnerDeps>;
let changes: ChangeRoadDeps;
let steps: string[];

beforeEach(() => {
  clock = new Date('2026-11-25T09:00:00Z');
  writers = new FakeWriters();
  writers.objects.set('shop/checkout', { resourceVersion: '100', image: 'shop/checkout:v1' });
  deps = runnerDeps([setImage], { now: () => clock });
  steps = [];
  let ids = 0;
  changes = {
    writers,
    approvals: deps.store.approvals,
    approvalTtlMs: 30 * 60_000,
    autoRollback: true,
    newId: () => `run-${++ids}`,
    runs: deps.store.runs,
    owner: 'first',
    verificationRetryMs: 10_000,
  };
  deps.changes = changes;
});

function change(input: Record<string, unknown>) {
  return runChange(changes, {
    skill: setImage,
    input,
    actor: bob,
    requestId: 'req-1',
    ctx: skillContext(fakeKube({}), { actor: bob, now: () => clock }),
    decide: async () => ({ effect: 'allow' }),
    audit: async (type: string) => {
      steps.push(type);
    },
  });
}

function notices(): { notifier: ChatNotifier; posted: Array<{ where: unknown; result: SkillResult }> } {
  const posted: Array<{ where: unknown; result: SkillResult }> = [];
  return {
    posted,
    notifier: {
      notify: async (where, result) => {
        posted.push({ where, result });
      },
    },
  };
}

describe('stored verifications', () => {
  it('records a verification before following it, and its outcome after', async () => {
    await change({ name: 'checkout', image: 'shop/checkout:v2' });
    const [run] = await deps.store.runs.list(VERIFICATION);
    expect(run?.status).toBe('done');
    expect(run && parseVerification(run)).toMatchObject({
      requestId: 'req-1',
      actor: { id: 'U-BOB', kube: { user: 'bob' } },
      target: { kind: 'Deployment', name: 'checkout' },
      deadline: '2026-11-25T09:01:00.000Z',
    });
  });

  it('leaves the verification active when the API server is lost, and says so', async () => {
    writers.rollouts = ['unreachable'];
    const result = await change({
      name: 'checkout',
      image: 'shop/checkout:bad',
      previous: 'shop/checkout:v1',
    });
    expect(result.tone).toBe('warning');
    expect(result.summary).toMatch(/verification was interrupted \(connect ECONNREFUSED.*carry on verifying/);
    expect(steps).toEqual(['change.preview', 'change.apply', 'change.verify.interrupted']);
    const [run] = await deps.store.runs.list(VERIFICATION, { status: ['active'] });
    // Tried again after the retry pause, not at once.
    expect(run && parseVerification(run).lease.until).toBe('2026-11-25T09:00:10.000Z');
  });

  it('is resumed by the keeper once its lease runs out: rolled back as the requester, told in the thread', async () => {
    writers.rollouts = ['unreachable'];
    await change({ name: 'checkout', image: 'shop/checkout:bad', previous: 'shop/checkout:v1' });
    const { notifier, posted } = notices();
    const keeper = startVerificationKeeper({
      runner: deps,
      changes: { ...changes, owner: 'second' },
      notifier,
      logger: pino({ level: 'silent' }),
      intervalMs: 3_600_000,
    });
    expect(await keeper.sweep()).toBe(0); // the lease has not run out yet
    clock = new Date('2026-11-25T09:00:11Z');
    writers.rollouts = ['failed', 'done'];
    expect(await keeper.sweep()).toBe(1);
    await keeper.settled();
    expect(posted).toHaveLength(1);
    expect(posted[0]?.where).toMatchObject({ surface: 'slack', channel: 'C1', thread: '1.2' });
    expect(posted[0]?.result.summary).toMatch(/Rolled back: the change failed verification/);
    expect(writers.objects.get('shop/checkout')?.image).toBe('shop/checkout:v1');
    expect(writers.calls.filter((c) => c.op === 'apply').map((c) => `${c.as} ${c.requestId}`)).toEqual([
      'bob req-1',
      'bob req-1',
    ]);
    const [run] = await deps.store.runs.list(VERIFICATION);
    expect(run?.status).toBe('rolled-back');
    const audit = (await deps.store.audit.tail(10)).filter((r) => r.requestId === 'req-1').map((r) => r.type);
    expect(audit).toEqual([
      'change.verify.resumed',
      'change.verify.failed',
      'change.rollback',
      'change.rollback.done',
    ]);
    expect(await keeper.sweep()).toBe(0);
    await keeper.stop();
  });

  it('does not post while the API server is still unreachable on resume', async () => {
    writers.rollouts = ['unreachable', 'unreachable'];
    await change({ name: 'checkout', image: 'shop/checkout:v2' });
    const { notifier, posted } = notices();
    clock = new Date('2026-11-25T09:00:11Z');
    const keeper = startVerificationKeeper({
      runner: deps,
      changes,
      notifier,
      logger: pino({ level: 'silent' }),
      intervalMs: 3_600_000,
    });
    expect(await keeper.sweep()).toBe(1);
    await keeper.settled();
    await keeper.stop();
    expect(posted).toEqual([]);
    expect((await deps.store.runs.list(VERIFICATION, { status: ['active'] })).length).toBe(1);
  });
});
