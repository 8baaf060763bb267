import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { type ChangeRoadDeps, runChange } from '../../../src/runner/change-road.ts';
import { type ChatNotifier, startVerificationKeeper } from '../../../src/runner/verification-keeper.ts';
import { parseVerification, VERIFICATION } from '../../../src/runner/verifications.ts';
import type { Actor } from '../../../src/skills/context.ts';
import { defineSkill } from '../../../src/skills/define-skill.ts';
import type { SkillResult } from '../../../src/skills/result.ts';
import { fakeKube, skillContext } from '../../support/fake-kube.ts';
import { FakeWriters } from '../../support/fake-writer.ts';
import { runnerDeps } from '../../support/runner-deps.ts';
import { setImage } from '../../support/test-skills.ts';

/** setImage with a follow-up, as canary-start proposes one: a pending run once the change is verified. */
const setImageThenCanary = defineSkill({
  ...setImage,
  name: 'thing-set-image-then-canary',
  grammar: { command: 'set-image-then-canary', positional: ['name', 'image'] },
  async propose(input, ctx) {
    const proposal = await setImage.propose(input, ctx);
    return {
      ...proposal,
      followUp: { kind: 'canary', summary: 'The canary run starts now.', state: { stable: input.name } },
    };
  },
});

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

function change(input: Record<string, unknown>, skill: typeof setImage = setImage) {
  return runChange(changes, {
    skill,
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

  it('starts the follow-up (a canary run) once when verified in the request, with the run id in the answer', async () => {
    const result = await change({ name: 'checkout', image: 'shop/checkout:v2' }, setImageThenCanary);
    const canaries = await deps.store.runs.list('canary');
    expect(canaries.map((r) => [r.status, r.state])).toEqual([['pending', { stable: 'checkout' }]]);
    expect(result.summary).toBe(
      `Done and verified: set image of deploy/checkout to shop/checkout:v2. The canary run starts now. (run ${canaries[0]?.id}).`,
    );
    expect(steps).toEqual(['change.preview', 'change.apply', 'change.verify.done', 'canary.started']);
  });

  it('starts the follow-up when the keeper resumes the verification after a restart and it ends done', async () => {
    writers.rollouts = ['unreachable'];
    await change({ name: 'checkout', image: 'shop/checkout:v2' }, setImageThenCanary);
    // The request ended without a verdict: no canary run yet, but the verification carries it.
    expect(await deps.store.runs.list('canary')).toEqual([]);
    const [stored] = await deps.store.runs.list(VERIFICATION, { status: ['active'] });
    const followUpId = stored && parseVerification(stored).followUp?.id;
    expect(followUpId).toBeTypeOf('string');

    const { notifier, posted } = notices();
    const keeper = startVerificationKeeper({
      runner: deps,
      changes: { ...changes, owner: 'second' },
      notifier,
      logger: pino({ level: 'silent' }),
      intervalMs: 3_600_000,
    });
    clock = new Date('2026-11-25T09:00:11Z');
    writers.rollouts = ['done'];
    expect(await keeper.sweep()).toBe(1);
    await keeper.settled();
    await keeper.stop();

    const canaries = await deps.store.runs.list('canary');
    expect(canaries.map((r) => [r.id, r.status, r.state])).toEqual([
      [followUpId, 'pending', { stable: 'checkout' }],
    ]);
    expect(posted[0]?.result.summary).toContain(`The canary run starts now. (run ${followUpId}).`);
    const audit = (await deps.store.audit.tail(10)).filter((r) => r.requestId === 'req-1').map((r) => r.type);
    expect(audit).toEqual(['change.verify.resumed', 'change.verify.done', 'canary.started']);
    expect((await deps.store.runs.list(VERIFICATION))[0]?.status).toBe('done');
  });

  it('does not start the follow-up when the resumed verification fails and is rolled back', async () => {
    writers.rollouts = ['unreachable'];
    await change(
      { name: 'checkout', image: 'shop/checkout:bad', previous: 'shop/checkout:v1' },
      setImageThenCanary,
    );
    const keeper = startVerificationKeeper({
      runner: deps,
      changes,
      notifier: notices().notifier,
      logger: pino({ level: 'silent' }),
      intervalMs: 3_600_000,
    });
    clock = new Date('2026-11-25T09:00:11Z');
    writers.rollouts = ['failed', 'done'];
    expect(await keeper.sweep()).toBe(1);
    await keeper.settled();
    await keeper.stop();
    expect(await deps.store.runs.list('canary')).toEqual([]);
    expect((await deps.store.runs.list(VERIFICATION))[0]?.status).toBe('rolled-back');
  });
});
