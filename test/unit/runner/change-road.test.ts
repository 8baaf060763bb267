import { beforeEach, describe, expect, it } from 'vitest';
import type { Decision } from '../../../src/policy/evaluate.ts';
import { type ChangeRoadDeps, executeApproved, runChange } from '../../../src/runner/change-road.ts';
import type { Actor } from '../../../src/skills/context.ts';
import { SqliteStore } from '../../../src/store/sqlite-store.ts';
import { fakeKube, skillContext } from '../../support/fake-kube.ts';
import { FakeWriters } from '../../support/fake-writer.ts';
import { setImage } from '../../support/test-skills.ts';

const bob: Actor = { surface: 'slack', id: 'U-BOB', channel: 'C1', kube: { user: 'bob', groups: ['devs'] } };
const allow: Decision = { effect: 'allow' };
const needsOne: Decision = {
  effect: 'require_approval',
  reason: 'writes in shop need an approver',
  approvers: { group: 'approvers', quorum: 1 },
};

let writers: FakeWriters;
let store: SqliteStore;
let steps: string[];
let deps: ChangeRoadDeps;
let ids: number;

beforeEach(() => {
  writers = new FakeWriters();
  writers.objects.set('shop/checkout', { resourceVersion: '100', image: 'shop/checkout:v1' });
  store = new SqliteStore(':memory:');
  steps = [];
  ids = 0;
  deps = {
    writers,
    approvals: store.approvals,
    approvalTtlMs: 30 * 60_000,
    autoRollback: true,
    newId: () => `appr-${++ids}`,
    runs: store.runs,
    owner: 'test',
  };
});

function request(input: Record<string, unknown>, decision: Decision, actor: Actor = bob) {
  return {
    skill: setImage,
    input,
    actor,
    requestId: 'req-1',
    ctx: skillContext(fakeKube({}), { actor, now: () => new Date('2026-11-25T09:00:00Z') }),
    decide: async () => decision,
    audit: async (type: string) => {
      steps.push(type);
    },
  };
}

describe('runChange', () => {
  it('authorizes, previews, applies and verifies as the user, auditing each step first', async () => {
    const result = await runChange(deps, request({ name: 'checkout', image: 'shop/checkout:v2' }, allow));
    expect(result.summary).toBe('Done and verified: set image of deploy/checkout to shop/checkout:v2.');
    expect(writers.calls.map((c) => `${c.op} as ${c.as}`)).toEqual([
      'authorize as bob',
      'preview as bob',
      'apply as bob',
      'follow as bob',
    ]);
    expect(steps).toEqual(['change.preview', 'change.apply', 'change.verify.done']);
    expect(writers.objects.get('shop/checkout')?.image).toBe('shop/checkout:v2');
    const table = result.sections[0];
    expect(table?.type === 'table' && table.rows).toEqual([
      [
        'Deployment/checkout',
        'spec.template.spec.containers[app].image',
        'shop/checkout:v1',
        'shop/checkout:v2',
      ],
    ]);
  });

  it('rolls back automatically when verification fails', async () => {
    writers.rollouts = ['failed', 'done'];
    const result = await runChange(
      deps,
      request({ name: 'checkout', image: 'shop/checkout:bad', previous: 'shop/checkout:v1' }, allow),
    );
    expect(result.tone).toBe('error');
    expect(result.summary).toMatch(/^Rolled back: .*progress deadline exceeded.*healthy again/);
    expect(steps).toEqual([
      'change.preview',
      'change.apply',
      'change.verify.failed',
      'change.rollback',
      'change.rollback.done',
    ]);
    expect(writers.objects.get('shop/checkout')?.image).toBe('shop/checkout:v1');
  });

  it('stops before touching the cluster when policy denies the proposal', async () => {
    const denied: Decision = { effect: 'deny', reason: 'frozen' };
    const req = request({ name: 'checkout', image: 'x:v2' }, denied);
    req.decide = async () => {
      throw new Error(`Policy does not allow this: ${denied.reason}`);
    };
    await expect(runChange(deps, req)).rejects.toThrow('frozen');
    expect(writers.calls).toEqual([]);
  });

  it('changes nothing when RBAC refuses the user', async () => {
    writers.forbidden.add('bob');
    await expect(runChange(deps, request({ name: 'checkout', image: 'x:v2' }, allow))).rejects.toThrow(
      /may not patch/,
    );
    expect(writers.calls.map((c) => c.op)).toEqual(['authorize']);
    expect(steps).toEqual([]);
  });

  it('does not apply when the audit record cannot be written', async () => {
    const req = request({ name: 'checkout', image: 'x:v2' }, allow);
    req.audit = async (type: string) => {
      if (type === 'change.apply') throw new Error('store down');
      steps.push(type);
    };
    await expect(runChange(deps, req)).rejects.toThrow('store down');
    expect(writers.calls.map((c) => c.op)).not.toContain('apply');
    expect(writers.objects.get('shop/checkout')?.image).toBe('shop/checkout:v1');
  });

  it('stores a pending approval bound to the preview instead of applying', async () => {
    const result = await runChange(deps, request({ name: 'checkout', image: 'shop/checkout:v2' }, needsOne));
    expect(result.summary).toBe('Waiting for approval: set image of deploy/checkout to shop/checkout:v2.');
    expect(writers.calls.map((c) => c.op)).toEqual(['authorize', 'preview']);
    const [pending] = await store.approvals.pending();
    expect(pending).toMatchObject({
      id: 'appr-1',
      requester: { id: 'U-BOB', kubeUser: 'bob' },
      required: { group: 'approvers', quorum: 1 },
      expiresAt: '2026-11-25T09:30:00.000Z',
    });
    const fields = result.sections.find((s) => s.type === 'fields');
    expect(fields?.type === 'fields' && fields.fields[0]).toEqual({
      label: 'Requested by',
      value: 'U-BOB (acting as Kubernetes user bob)',
    });
    const actions = result.sections.find((s) => s.type === 'actions');
    expect(actions?.type === 'actions' && actions.actions.map((a) => a.command)).toEqual([
      'approve appr-1',
      'deny appr-1',
    ]);
  });
});

describe('executeApproved', () => {
  async function approved() {
    await runChange(deps, request({ name: 'checkout', image: 'shop/checkout:v2' }, needsOne));
    const vote = await store.approvals.vote('appr-1', 'U-ANA', new Date('2026-11-25T09:05:00Z'));
    if (vote.kind !== 'approved') throw new Error(`expected approval, got ${vote.kind}`);
    return vote.record;
  }

  it('applies the approved change as the requester, once', async () => {
    const record = await approved();
    const req = request({ name: 'checkout', image: 'shop/checkout:v2' }, allow);
    const [first, second] = await Promise.all([
      executeApproved(deps, record, req),
      executeApproved(deps, record, req),
    ]);
    expect([first.summary, second.summary].sort()).toEqual([
      'Done and verified: set image of deploy/checkout to shop/checkout:v2.',
      'This change is already being carried out or was decided otherwise.',
    ]);
    expect(writers.calls.filter((c) => c.op === 'apply')).toEqual([
      { op: 'apply', as: 'bob', target: 'Deployment/checkout', requestId: 'req-1' },
    ]);
    expect((await store.approvals.get('appr-1'))?.status).toBe('done');
  });

  it('voids the approval when the target drifted after approval', async () => {
    const record = await approved();
    const live = writers.objects.get('shop/checkout');
    if (live) Object.assign(live, { resourceVersion: '101', image: 'shop/checkout:hotfix' });
    await expect(
      executeApproved(deps, record, request({ name: 'checkout', image: 'shop/checkout:v2' }, allow)),
    ).rejects.toThrow(/changed after it was approved/);
    expect(writers.calls.map((c) => c.op)).not.toContain('apply');
    expect((await store.approvals.get('appr-1'))?.status).toBe('voided');
    expect(steps).toContain('change.voided');
  });

  it('voids the approval when the API server reports the target changed', async () => {
    const record = await approved();
    writers.conflictOnPreview = true;
    await expect(
      executeApproved(deps, record, request({ name: 'checkout', image: 'shop/checkout:v2' }, allow)),
    ).rejects.toThrow(/changed after it was approved/);
    expect((await store.approvals.get('appr-1'))?.status).toBe('voided');
  });
});
