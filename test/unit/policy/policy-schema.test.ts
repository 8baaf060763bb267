import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/load-config.ts';
import { DEFAULT_POLICY, policySchema, rateLimitWindowMs } from '../../../src/policy/policy-schema.ts';

const EXAMPLE = resolve(import.meta.dirname, '../../fixtures/config/policy-example.yaml');

function problemsOf(yaml: string): Array<{ path: string; message: string }> {
  const path = join(mkdtempSync(join(tmpdir(), 'wh-policy-')), 'wheelhouse.yaml');
  writeFileSync(path, yaml);
  try {
    loadConfig({ env: {}, configPath: path, cwd: '/srv' });
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map(({ path, message }) => ({ path, message }));
    throw e;
  }
  throw new Error('config loaded without problems');
}

describe('policy schema', () => {
  it('has documented defaults when no policy is configured', () => {
    const { config } = loadConfig({ env: {}, cwd: '/srv' });
    expect(config.policy).toEqual(DEFAULT_POLICY);
    expect(DEFAULT_POLICY).toEqual({
      defaults: { read: 'allow', write: 'approve', dangerous: 'approve' },
      unmapped: { read: 'allow', write: 'deny', dangerous: 'deny' },
      approvers: {
        write: { group: 'wheelhouse:approvers', quorum: 1 },
        dangerous: { group: 'wheelhouse:approvers', quorum: 2 },
      },
      protectedNamespaces: [],
      rules: [],
      freezes: [],
      rateLimit: { maxWrites: 20, window: '1h', effect: 'deny' },
    });
    expect(rateLimitWindowMs(DEFAULT_POLICY)).toBe(3_600_000);
  });

  it('fills what a partial section leaves out', () => {
    const policy = policySchema.parse({
      defaults: { write: 'deny' },
      rateLimit: { maxWrites: 5, window: '30m' },
    });
    expect(policy.defaults).toEqual({ read: 'allow', write: 'deny', dangerous: 'approve' });
    expect(policy.rateLimit).toEqual({ maxWrites: 5, window: '30m', effect: 'deny' });
    expect(rateLimitWindowMs(policy)).toBe(1_800_000);
  });

  it('accepts the documented example as a whole Wheelhouse config', () => {
    const { config } = loadConfig({ env: {}, configPath: EXAMPLE, cwd: '/srv' });
    expect(config.policy.rules.map((r) => r.name)).toContain('incident-response');
    expect(config.policy.freezes).toHaveLength(3);
    expect(config.policy.rules.find((r) => r.name === 'payments-changes')?.approvers).toEqual({
      users: ['U0CAROL01', 'U0BOB0001', 'U0DAVE001'],
      quorum: 2,
    });
  });

  const bad: Array<[what: string, yaml: string, path: string, message: string]> = [
    [
      'a typo in an effect',
      'policy:\n  defaults:\n    write: alow\n',
      'policy.defaults.write',
      'expected one of',
    ],
    [
      'approval for reads',
      'policy:\n  rules:\n    - channels: [C1]\n      read: approve\n',
      'policy.rules.0.read',
      'approvals are for changes',
    ],
    [
      'an unknown key in a rule (a typo must not silently widen a rule)',
      'policy:\n  rules:\n    - namespace: [shop]\n      write: allow\n',
      'policy.rules.0',
      'Unrecognized key: "namespace"',
    ],
    ['an unknown policy key', 'policy:\n  freeze: []\n', 'policy', 'Unrecognized key: "freeze"'],
    [
      'a rule that decides nothing',
      'policy:\n  rules:\n    - groups: [sre]\n',
      'policy.rules.0',
      'at least one of read, write, dangerous, maxReplicas or maxWrites',
    ],
    [
      'approvers on a rule that never approves',
      'policy:\n  rules:\n    - groups: [sre]\n      write: allow\n      approvers: { group: sre }\n',
      'policy.rules.0.approvers',
      'only when the rule says `approve`',
    ],
    [
      'override on a rule without write or dangerous',
      'policy:\n  rules:\n    - groups: [sre]\n      read: allow\n      override: true\n',
      'policy.rules.0.override',
      'set one of them',
    ],
    [
      'approvers with both a group and users',
      'policy:\n  approvers:\n    write: { group: a, users: [U1] }\n',
      'policy.approvers.write',
      'exactly one of `group` or `users`',
    ],
    [
      'approvers with neither a group nor users',
      'policy:\n  approvers:\n    write: { quorum: 1 }\n',
      'policy.approvers.write',
      'exactly one of `group` or `users`',
    ],
    [
      'a quorum the listed users cannot reach',
      'policy:\n  approvers:\n    dangerous: { users: [U1, U2], quorum: 3 }\n',
      'policy.approvers.dangerous.quorum',
      'quorum 3 cannot be reached by 2 listed user(s)',
    ],
    [
      'a zero quorum',
      'policy:\n  approvers:\n    write: { group: a, quorum: 0 }\n',
      'policy.approvers.write.quorum',
      'at least 1',
    ],
    [
      'an empty name list',
      'policy:\n  rules:\n    - channels: []\n      write: deny\n',
      'policy.rules.0.channels',
      'leave the key out to match any',
    ],
    [
      'a name with a space',
      'policy:\n  protectedNamespaces: ["kube system"]\n',
      'policy.protectedNamespaces.0',
      'without spaces',
    ],
    [
      'duplicate rule names',
      'policy:\n  rules:\n    - name: a\n      write: deny\n    - name: a\n      write: allow\n',
      'policy.rules.1.name',
      '"a" is already the name of rules[0]',
    ],
    [
      'a freeze without a window',
      'policy:\n  freezes:\n    - reason: x\n',
      'policy.freezes.0',
      'exactly one of `start` and `end`',
    ],
    [
      'a freeze without a reason',
      'policy:\n  freezes:\n    - weekly: { from: Fri 16:00, to: Mon 08:00 }\n',
      'policy.freezes.0.reason',
      'expected string',
    ],
    [
      'a freeze with two kinds of window',
      'policy:\n  freezes:\n    - reason: x\n      cron: "0 1 * * *"\n      duration: 1h\n      weekly: { from: Fri 16:00, to: Mon 08:00 }\n',
      'policy.freezes.0',
      'exactly one of',
    ],
    [
      'a start without an end',
      'policy:\n  freezes:\n    - reason: x\n      start: 2026-11-27T00:00:00Z\n',
      'policy.freezes.0.end',
      'needs both start and end',
    ],
    [
      'an end before the start',
      'policy:\n  freezes:\n    - reason: x\n      start: 2026-11-27T00:00:00Z\n      end: 2026-11-26T00:00:00Z\n',
      'policy.freezes.0.end',
      'must be after start',
    ],
    [
      'a start without a time zone',
      'policy:\n  freezes:\n    - reason: x\n      start: 2026-11-27T00:00:00\n      end: 2026-11-28T00:00:00Z\n',
      'policy.freezes.0.start',
      'with Z or an offset',
    ],
    [
      'a weekly day that does not exist',
      'policy:\n  freezes:\n    - reason: x\n      weekly: { from: Fry 16:00, to: Mon 08:00 }\n',
      'policy.freezes.0.weekly.from',
      'a day and a UTC time such as "Fri 16:00"',
    ],
    [
      'a weekly window of no length',
      'policy:\n  freezes:\n    - reason: x\n      weekly: { from: Fri 16:00, to: friday 16:00 }\n',
      'policy.freezes.0.weekly.to',
      'must differ',
    ],
    [
      'a cron field out of range',
      'policy:\n  freezes:\n    - reason: x\n      cron: "0 25 * * *"\n      duration: 1h\n',
      'policy.freezes.0.cron',
      'hour field "25"',
    ],
    [
      'a cron with four fields',
      'policy:\n  freezes:\n    - reason: x\n      cron: "0 1 * *"\n      duration: 1h\n',
      'policy.freezes.0.cron',
      'must have five fields',
    ],
    [
      'a cron freeze without a duration',
      'policy:\n  freezes:\n    - reason: x\n      cron: "0 1 * * *"\n',
      'policy.freezes.0.duration',
      'needs a duration',
    ],
    [
      'a cron window longer than a week',
      'policy:\n  freezes:\n    - reason: x\n      cron: "0 1 * * *"\n      duration: 8d\n',
      'policy.freezes.0.duration',
      'at most 7d',
    ],
    [
      'a duration on a weekly freeze',
      'policy:\n  freezes:\n    - reason: x\n      weekly: { from: Fri 16:00, to: Mon 08:00 }\n      duration: 1h\n',
      'policy.freezes.0.duration',
      'only to a cron freeze',
    ],
    [
      'approvers on a denying freeze',
      'policy:\n  freezes:\n    - reason: x\n      weekly: { from: Fri 16:00, to: Mon 08:00 }\n      approvers: { group: oncall }\n',
      'policy.freezes.0.approvers',
      'only with `effect: approve`',
    ],
    [
      'a malformed rate-limit window',
      'policy:\n  rateLimit:\n    window: an hour\n',
      'policy.rateLimit.window',
      'must be a duration',
    ],
    [
      'a negative replica bound',
      'policy:\n  maxReplicas: -1\n',
      'policy.maxReplicas',
      'expected number to be >=0',
    ],
  ];

  it.each(bad)('rejects %s with a message at its path', (_what, yaml, path, message) => {
    const problems = problemsOf(yaml);
    expect(problems, JSON.stringify(problems)).toContainEqual({
      path,
      message: expect.stringContaining(message),
    });
  });

  it('reports every policy problem at once', () => {
    const problems = problemsOf(
      'policy:\n  defaults: { write: alow }\n  rules:\n    - groups: [sre]\n  freezes:\n    - reason: x\n',
    );
    expect(problems.map((p) => p.path)).toEqual([
      'policy.defaults.write',
      'policy.rules.0',
      'policy.freezes.0',
    ]);
  });
});
