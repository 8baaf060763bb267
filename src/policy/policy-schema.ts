import { z } from 'zod';
import { parseDurationSeconds } from '../skills/schema.ts';
import { parseCron, parseWeeklyTime } from './freeze-windows.ts';

/** What a rule or default says about a risk level. `approve` becomes a `require_approval` decision. */
export type Effect = 'allow' | 'approve' | 'deny';

/** Always protected, whatever the config adds. */
export const BUILT_IN_PROTECTED_NAMESPACES: readonly string[] = [
  'kube-system',
  'kube-public',
  'kube-node-lease',
];

/** The longest a cron-opened freeze window may last (evaluation looks back this far at most). */
const MAX_CRON_WINDOW_SECONDS = 7 * 24 * 3600;

const effect = z.enum(['allow', 'approve', 'deny']);
/** Approvals are bound to a previewed change, so a read is only ever allowed or denied. */
const readEffect = z.enum(['allow', 'deny'], {
  error: 'must be allow or deny: approvals are for changes (write, dangerous), not reads',
});

/** A name, or a glob with `*` ("shop-*", "*"), matched against channels, users, groups or namespaces. */
const pattern = z
  .string()
  .min(1)
  .regex(/^\S+$/, 'must be one name or a glob such as "shop-*", without spaces');
const patterns = z.array(pattern).min(1, 'must list at least one name; leave the key out to match any');

const durationText = z
  .string()
  .refine((s) => parseDurationSeconds(s) !== undefined, 'must be a duration like 30m, 1h or 2d');

const weeklyTime = z.string().superRefine((s, ctx) => {
  const parsed = parseWeeklyTime(s);
  if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
});

const cronText = z.string().superRefine((s, ctx) => {
  const parsed = parseCron(s);
  if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
});

const instant = z.iso.datetime({
  offset: true,
  error: 'must be an ISO 8601 date-time with Z or an offset, e.g. 2026-11-27T00:00:00Z',
});

/** Who must approve: N of a group (a Kubernetes group or a Slack user group id), or N of listed users. */
export type Approvers = { group: string; quorum: number } | { users: string[]; quorum: number };

const approversSchema = z
  .strictObject({
    /** Kubernetes group or Slack user group id, e.g. "wheelhouse:approvers" or "S0614TZR7". */
    group: z.string().min(1).optional(),
    /** Approver ids (Slack user ids or Kubernetes user names), instead of a group. */
    users: z.array(z.string().min(1)).min(1, 'must list at least one approver').optional(),
    quorum: z.number().int().min(1, 'must be at least 1').default(1),
  })
  .superRefine((a, ctx) => {
    if ((a.group === undefined) === (a.users === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'needs exactly one of `group` or `users`' });
    }
    if (a.users && a.quorum > a.users.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['quorum'],
        message: `quorum ${a.quorum} cannot be reached by ${a.users.length} listed user(s)`,
      });
    }
  })
  .transform(
    (a): Approvers =>
      a.users ? { users: a.users, quorum: a.quorum } : { group: a.group ?? '', quorum: a.quorum },
  );

const ruleSchema = z
  .strictObject({
    /** Shown by `policy explain` and in the audit; default `rules[<index>]`. */
    name: z.string().min(1).optional(),
    /** Slack channel ids, e.g. "C0123ABCD". */
    channels: patterns.optional(),
    /** Slack user ids or Kubernetes user names. */
    users: patterns.optional(),
    /** Kubernetes groups of the mapped identity. */
    groups: patterns.optional(),
    /** Target namespaces; protected ones match only when named exactly. */
    namespaces: patterns.optional(),
    read: readEffect.optional(),
    write: effect.optional(),
    dangerous: effect.optional(),
    /** Who approves when this rule decides `approve`; default `policy.approvers.<risk>`. */
    approvers: approversSchema.optional(),
    /** When this rule decides a write or dangerous step, change freezes do not apply to it. */
    override: z.boolean().default(false),
    /** Largest replica count a change may touch (blast radius). */
    maxReplicas: z.number().int().min(0).optional(),
    /** Writes per rate-limit window for the user. */
    maxWrites: z.number().int().min(0).optional(),
  })
  .superRefine((r, ctx) => {
    const decides = [r.read, r.write, r.dangerous].filter((e) => e !== undefined);
    if (decides.length === 0 && r.maxReplicas === undefined && r.maxWrites === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'a rule needs at least one of read, write, dangerous, maxReplicas or maxWrites',
      });
    }
    if (r.approvers && r.write !== 'approve' && r.dangerous !== 'approve') {
      ctx.addIssue({
        code: 'custom',
        path: ['approvers'],
        message: 'approvers are used only when the rule says `approve` for write or dangerous',
      });
    }
    if (r.override && r.write === undefined && r.dangerous === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['override'],
        message: 'override applies to the write and dangerous decisions of this rule; set one of them',
      });
    }
  });

const freezeSchema = z
  .strictObject({
    name: z.string().min(1).optional(),
    /** Told to whoever is refused, e.g. "Black Friday code freeze". */
    reason: z.string().min(1),
    /** An explicit window. */
    start: instant.optional(),
    end: instant.optional(),
    /** A weekly window in UTC, e.g. { from: "Fri 16:00", to: "Mon 08:00" }; it may wrap over the weekend. */
    weekly: z.strictObject({ from: weeklyTime, to: weeklyTime }).optional(),
    /** A window opened by a five-field UTC cron expression, lasting `duration`. */
    cron: cronText.optional(),
    duration: durationText.optional(),
    /** What happens to writes during the freeze; dangerous steps are always denied (unless a rule overrides). */
    effect: z.enum(['deny', 'approve']).default('deny'),
    approvers: approversSchema.optional(),
  })
  .superRefine((f, ctx) => {
    const kinds = [
      f.start !== undefined || f.end !== undefined,
      f.weekly !== undefined,
      f.cron !== undefined,
    ].filter(Boolean).length;
    if (kinds !== 1) {
      ctx.addIssue({
        code: 'custom',
        message:
          'a freeze needs exactly one of `start` and `end`, `weekly: { from, to }`, or `cron` with `duration`',
      });
      return;
    }
    if (f.start !== undefined || f.end !== undefined) {
      if (f.start === undefined || f.end === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [f.start ? 'end' : 'start'],
          message: 'needs both start and end',
        });
      } else if (Date.parse(f.start) >= Date.parse(f.end)) {
        ctx.addIssue({ code: 'custom', path: ['end'], message: 'must be after start' });
      }
    }
    if (f.weekly && parseWeeklyTime(f.weekly.from) === parseWeeklyTime(f.weekly.to)) {
      ctx.addIssue({ code: 'custom', path: ['weekly', 'to'], message: 'must differ from `from`' });
    }
    if (f.cron !== undefined && f.duration === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['duration'],
        message: 'a cron freeze needs a duration, e.g. 8h',
      });
    }
    if (f.duration !== undefined && f.cron === undefined) {
      ctx.addIssue({ code: 'custom', path: ['duration'], message: 'duration applies only to a cron freeze' });
    }
    if (f.duration !== undefined && (parseDurationSeconds(f.duration) ?? 0) > MAX_CRON_WINDOW_SECONDS) {
      ctx.addIssue({ code: 'custom', path: ['duration'], message: 'must be at most 7d' });
    }
    if (f.duration !== undefined && (parseDurationSeconds(f.duration) ?? 0) < 60) {
      ctx.addIssue({ code: 'custom', path: ['duration'], message: 'must be at least 1m' });
    }
    if (f.approvers && f.effect !== 'approve') {
      ctx.addIssue({
        code: 'custom',
        path: ['approvers'],
        message: 'approvers apply only with `effect: approve`',
      });
    }
  });

const defaultApprovers = { group: 'wheelhouse:approvers', quorum: 1 };

/**
 * The `policy` section of the config. Everything has a default, so no section at all means: reads
 * allowed; writes need 1 approver and dangerous steps 2 from `wheelhouse:approvers`; unmapped users
 * read only; kube-system, kube-public and kube-node-lease protected; 20 writes per user per hour.
 */
export const policySchema = z
  .strictObject({
    /** What a mapped user gets when no rule decides a risk level. */
    defaults: z
      .strictObject({
        read: readEffect.default('allow'),
        write: effect.default('approve'),
        dangerous: effect.default('approve'),
      })
      .prefault({}),
    /** What an unmapped Slack user gets at most; rules can only make it stricter. */
    unmapped: z
      .strictObject({
        read: readEffect.default('allow'),
        write: effect.default('deny'),
        dangerous: effect.default('deny'),
      })
      .prefault({}),
    /** Who approves an `approve` that names no approvers of its own. */
    approvers: z
      .strictObject({
        write: approversSchema.default(defaultApprovers),
        dangerous: approversSchema.default({ group: 'wheelhouse:approvers', quorum: 2 }),
      })
      .prefault({}),
    /** Added to kube-system, kube-public and kube-node-lease. Globs allowed. */
    protectedNamespaces: patterns.optional().default([]),
    rules: z.array(ruleSchema).default([]),
    freezes: z.array(freezeSchema).default([]),
    /** Writes (and dangerous steps) per user per window; the caller counts them from the audit log. */
    rateLimit: z
      .strictObject({
        maxWrites: z.number().int().min(0).default(20),
        window: durationText.default('1h'),
        effect: z.enum(['deny', 'approve']).default('deny'),
        approvers: approversSchema.optional(),
      })
      .prefault({}),
    /** Largest replica count any change may touch, unless a rule sets its own. Unset: no bound. */
    maxReplicas: z.number().int().min(0).optional(),
  })
  .superRefine((p, ctx) => {
    for (const [list, key] of [
      [p.rules, 'rules'],
      [p.freezes, 'freezes'],
    ] as const) {
      const seen = new Map<string, number>();
      for (const [index, item] of list.entries()) {
        if (item.name === undefined) continue;
        const first = seen.get(item.name);
        if (first !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [key, index, 'name'],
            message: `"${item.name}" is already the name of ${key}[${first}]`,
          });
        } else seen.set(item.name, index);
      }
    }
  });

export type Policy = z.output<typeof policySchema>;
export type PolicyRule = Policy['rules'][number];
export type Freeze = Policy['freezes'][number];

/** The policy when the config has no `policy` section. */
export const DEFAULT_POLICY: Policy = policySchema.parse({});

/** Length of the rate-limit window in milliseconds: the caller counts the user's writes in it. */
export function rateLimitWindowMs(policy: Policy): number {
  return (parseDurationSeconds(policy.rateLimit.window) ?? 3600) * 1000;
}
