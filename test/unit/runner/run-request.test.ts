import { describe, expect, it } from 'vitest';
import { verifyChain } from '../../../src/audit/audit-record.ts';
import type { WheelhouseError } from '../../../src/errors.ts';
import { runRequest } from '../../../src/runner/run-request.ts';
import type { Reply } from '../../../src/runner/types.ts';
import type { Actor } from '../../../src/skills/context.ts';
import { runnerDeps } from '../../support/runner-deps.ts';
import { changeThing, failing, listThings, readLogs } from '../../support/test-skills.ts';

const alice: Actor = { surface: 'slack', id: 'U1', channel: 'C1', kube: { user: 'alice', groups: ['devs'] } };
const skills = [listThings, readLogs, failing, changeThing];

function errorOf(reply: Reply): WheelhouseError {
  if (reply.ok) throw new Error(`expected an error, got "${reply.result.summary}"`);
  return reply.error;
}

describe('runRequest', () => {
  it('parses, runs the skill and audits the request with its plan', async () => {
    const deps = runnerDeps(skills);
    const reply = await runRequest(deps, { text: '/wh things shop app=checkout', actor: alice });
    expect(reply).toMatchObject({ ok: true, requestId: 'req-1', skill: 'things-list' });
    const [record] = await deps.store.audit.tail(1);
    expect(record).toMatchObject({
      requestId: 'req-1',
      actor: { surface: 'slack', id: 'U1', channel: 'C1', kubeUser: 'alice', kubeGroups: ['devs'] },
      text: '/wh things shop app=checkout',
      skill: 'things-list',
      input: { namespace: 'shop', selector: 'app=checkout' },
      outcome: 'ok',
      message: 'things in shop',
      plan: {
        source: 'grammar',
        steps: [{ skill: 'things-list', risk: 'read', summary: 'list things in shop' }],
      },
    });
  });

  it('audits grammar errors, unknown commands and failures, never throwing', async () => {
    const deps = runnerDeps(skills);
    const replies = await Promise.all(
      ['/wh thngs', '/wh logs', '/wh fail kaboom'].map((text) => runRequest(deps, { text, actor: alice })),
    );
    expect(replies.map((r) => errorOf(r).code)).toEqual(['UNKNOWN_SKILL', 'INVALID_INPUT', 'INTERNAL']);
    const records = await deps.store.audit.tail(10);
    expect(records.map((r) => [r.text, r.outcome, r.errorCode])).toEqual([
      ['/wh thngs', 'error', 'UNKNOWN_SKILL'],
      ['/wh logs', 'error', 'INVALID_INPUT'],
      ['/wh fail kaboom', 'error', 'INTERNAL'],
    ]);
    expect(await verifyChain(deps.store.audit.all())).toMatchObject({ ok: true, checked: 3 });
  });

  it('keeps internal detail out of the message', async () => {
    const reply = await runRequest(runnerDeps(skills), { text: 'fail secret-detail', actor: alice });
    expect(errorOf(reply).message).not.toContain('secret-detail');
  });

  it('denies writes by policy before the skill runs, and audits the denial', async () => {
    const deps = runnerDeps(skills);
    const error = errorOf(await runRequest(deps, { text: 'change a', actor: alice }));
    expect(error.code).toBe('POLICY_DENIED');
    expect((await deps.store.audit.tail(1))[0]).toMatchObject({ outcome: 'denied', skill: 'thing-change' });
  });

  it('stops a skill that runs past the request timeout', async () => {
    const deps = runnerDeps(skills, { requestTimeoutMs: 20 });
    const error = errorOf(await runRequest(deps, { text: 'fail hang', actor: alice }));
    expect(error.code).toBe('TIMEOUT');
  });

  it('refuses to answer when the audit record cannot be written', async () => {
    const deps = runnerDeps(skills);
    await deps.store.close();
    const error = errorOf(await runRequest(deps, { text: 'things shop', actor: alice }));
    expect(error.code).toBe('AUDIT_UNAVAILABLE');
  });

  it('answers help from the registry', async () => {
    const reply = await runRequest(runnerDeps(skills), { text: '/wh help', actor: alice });
    expect(reply.ok && reply.result.summary).toBe('Wheelhouse commands');
  });

  it('reports each reply to the observer', async () => {
    const seen: string[] = [];
    const deps = runnerDeps(skills, { observe: (r) => seen.push(`${r.skill}:${r.ok}`) });
    await runRequest(deps, { text: 'things', actor: alice });
    await runRequest(deps, { text: 'fail', actor: alice });
    expect(seen).toEqual(['things-list:true', 'thing-fail:false']);
  });
});
