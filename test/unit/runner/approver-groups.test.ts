import { expect, it } from 'vitest';
import { policySchema } from '../../../src/policy/policy-schema.ts';
import { createRunner } from '../../../src/runner/run-request.ts';
import type { Actor } from '../../../src/skills/context.ts';
import { FakeWriters } from '../../support/fake-writer.ts';
import { runnerDeps } from '../../support/runner-deps.ts';
import { setImage } from '../../support/test-skills.ts';

const ONCALL = 'S0ONCALL01';
const slackUser = (id: string, groups: string[] = []): Actor => ({
  surface: 'slack',
  id,
  channel: 'C1',
  kube: { user: id.toLowerCase(), groups },
});

/** A runner whose writes in shop need one approver from the Slack user group ONCALL. */
function setup(members: () => string[]) {
  const writers = new FakeWriters();
  writers.objects.set('shop/checkout', { resourceVersion: '1', image: 'shop/checkout:v1' });
  const lookups: string[] = [];
  const deps = runnerDeps([setImage], {
    isMapped: () => true,
    policy: policySchema.parse({
      rules: [{ namespaces: ['shop'], write: 'approve', approvers: { group: ONCALL, quorum: 1 } }],
    }),
    groupMembers: async (group) => {
      lookups.push(group);
      return members();
    },
  });
  deps.changes = {
    writers,
    approvals: deps.store.approvals,
    approvalTtlMs: 30 * 60_000,
    autoRollback: true,
    newId: (() => {
      let n = 0;
      return () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
    })(),
    runs: deps.store.runs,
    owner: 'test',
  };
  return { runner: createRunner(deps), writers, lookups };
}

it('counts a member of the Slack user group as an approver, checked at click time', async () => {
  let members = ['U-ANA'];
  const { runner, writers, lookups } = setup(() => members);
  const asked = await runner.handle({
    text: 'set-image checkout shop/checkout:v2',
    actor: slackUser('U-BOB'),
  });
  expect(asked.ok && asked.result.summary).toMatch(/^Waiting for approval/);
  const approvalId = '00000000-0000-4000-8000-000000000001';

  // Ana left the on-call group after the request was posted: her click no longer counts.
  members = ['U-CY'];
  const ana = await runner.handle({ text: `approve ${approvalId}`, actor: slackUser('U-ANA') });
  expect(ana.ok).toBe(false);
  expect(!ana.ok && ana.error.message).toMatch(/not an approver/);
  expect(writers.objects.get('shop/checkout')?.image).toBe('shop/checkout:v1');

  const cy = await runner.handle({ text: `approve ${approvalId}`, actor: slackUser('U-CY') });
  expect(cy.ok && cy.result.summary).toMatch(/^Done and verified/);
  expect(writers.objects.get('shop/checkout')?.image).toBe('shop/checkout:v2');
  expect(lookups).toEqual([ONCALL, ONCALL]);
});

it('never asks Slack about a group that is a Kubernetes group name', async () => {
  const { runner, lookups } = setup(() => ['U-ANA']);
  await runner.handle({ text: 'set-image checkout shop/checkout:v2', actor: slackUser('U-BOB') });
  const console: Actor = { surface: 'console', id: 'U-ANA', kube: { user: 'ana', groups: [] } };
  const reply = await runner.handle({ text: 'approve 00000000-0000-4000-8000-000000000001', actor: console });
  expect(!reply.ok && reply.error.message).toMatch(/not an approver/);
  expect(lookups).toEqual([]);
});
