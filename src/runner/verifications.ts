import type { Logger } from 'pino';
import { z } from 'zod';
import type { DesiredChange, KubeWriter, RolloutProgress } from '../changes/types.ts';
import { isWheelhouseError } from '../errors.ts';
import { actorSchema } from '../skills/actor-schema.ts';
import type { Actor } from '../skills/context.ts';
import type { Section, SkillResult } from '../skills/result.ts';
import type { RunRecord, RunStore } from '../store/run-store.ts';

/** The run kind of an in-flight rollout verification in the store. */
export const VERIFICATION = 'verification';

/** How a verification ended; `active` while someone follows it or it waits to be resumed. */
export type VerificationStatus = 'active' | 'done' | 'failed' | 'rolled-back';

const targetSchema = z.object({
  group: z.string(),
  version: z.string(),
  resource: z.string(),
  kind: z.string(),
  namespace: z.string(),
  name: z.string(),
});

const changeSchema = z
  .discriminatedUnion('type', [
    z.object({
      type: z.literal('apply'),
      target: targetSchema,
      resourceVersion: z.string().optional(),
      manifest: z.record(z.string(), z.unknown()),
      force: z.boolean().optional(),
    }),
    z.object({
      type: z.literal('patch'),
      target: targetSchema,
      resourceVersion: z.string().optional(),
      patchType: z.enum(['merge', 'strategic-merge']),
      patch: z.record(z.string(), z.unknown()),
      subresource: z.enum(['scale', 'status']).optional(),
    }),
    z.object({
      type: z.literal('delete'),
      target: targetSchema,
      resourceVersion: z.string().optional(),
      uid: z.string().optional(),
    }),
  ])
  // JSON drops undefined values; the live type wants the keys present.
  .transform((c): DesiredChange => {
    const resourceVersion = c.resourceVersion;
    switch (c.type) {
      case 'apply':
        return { ...c, resourceVersion };
      case 'patch':
        return { ...c, resourceVersion };
      case 'delete':
        return { ...c, resourceVersion, uid: c.uid };
    }
  });

const stateSchema = z.object({
  requestId: z.string(),
  skill: z.string(),
  summary: z.string(),
  /** The requester: the rollback is applied as them, and the outcome is posted where they asked. */
  actor: actorSchema,
  target: targetSchema,
  timeoutSeconds: z.number(),
  /** When verification gives up: a resumed verification keeps the original deadline. */
  deadline: z.string(),
  undo: z.array(changeSchema).optional(),
  /** The previewed diff, shown again with the outcome. */
  diff: z.array(z.object({ object: z.string(), path: z.string(), before: z.string(), after: z.string() })),
  /**
   * Work that starts once the change is verified (a canary run): created under this id by whoever
   * sees the verification end `done`, the request or, after a restart, the keeper; the id makes a
   * second creation a no-op.
   */
  followUp: z
    .object({ id: z.string(), kind: z.string(), summary: z.string(), state: z.unknown() })
    .optional(),
  /** Who follows it now, and until when; an expired lease means nobody does (a restart, a lost API). */
  lease: z.object({ owner: z.string(), until: z.string() }),
});

export type VerificationState = z.infer<typeof stateSchema>;

/** Parses a stored verification; JSON drops undefined fields, so optional ones come back absent. */
export function parseVerification(run: RunRecord): VerificationState {
  return stateSchema.parse(run.state);
}

/** The actor of a stored verification, in the shape the road uses. */
export function verificationActor(state: VerificationState): Actor {
  const { actor } = state;
  return { ...actor, kube: actor.kube };
}

/** What following a persisted verification needs. */
export interface VerificationDeps {
  runs: RunStore;
  /** This process, as lease owner. */
  owner: string;
  /** How long a lease lasts without renewal; renewed every third of it. @default 60 s */
  leaseMs?: number | undefined;
  autoRollback: boolean;
  now: () => Date;
  logger?: Logger | undefined;
  /** After an interruption other than a stop, how long until the keeper tries again. @default 15 s */
  retryMs?: number | undefined;
}

/** Writes one audit step; see the change road. */
type Audit = (type: string, message: string, detail?: Record<string, unknown>) => Promise<void>;

export interface FollowOptions {
  audit: Audit;
  onProgress?: ((progress: RolloutProgress) => void) | undefined;
  signal?: AbortSignal | undefined;
}

/** Stores a verification before it starts, leased to this process, so a restart can resume it. */
export async function recordVerification(
  deps: VerificationDeps,
  id: string,
  state: Omit<VerificationState, 'lease' | 'deadline'>,
): Promise<RunRecord> {
  const now = deps.now();
  const run = await deps.runs.create(
    {
      id,
      kind: VERIFICATION,
      status: 'active',
      state: {
        ...state,
        deadline: new Date(now.getTime() + state.timeoutSeconds * 1000).toISOString(),
        lease: lease(deps, now),
      },
    },
    now,
  );
  if (!run) throw new Error(`verification ${id} exists already`);
  return run;
}

/** Takes over a verification whose lease ran out; undefined when another owner was quicker. */
export async function claimVerification(
  deps: VerificationDeps,
  run: RunRecord,
): Promise<RunRecord | undefined> {
  const state = parseVerification(run);
  return deps.runs.update(
    run.id,
    run.version,
    { state: { ...state, lease: lease(deps, deps.now()) } },
    deps.now(),
  );
}

/**
 * Follows the rollout of a stored verification under its lease, rolls back when it fails and
 * policy says so, and records the outcome. When the API server cannot be reached, or this process
 * stops, the verification stays active with its lease released, to be resumed (verification keeper).
 */
export async function followVerification(
  deps: VerificationDeps,
  writer: KubeWriter,
  run: RunRecord,
  options: FollowOptions,
): Promise<{ status: VerificationStatus | 'interrupted'; result: SkillResult }> {
  const state = parseVerification(run);
  const held = holdLease(deps, run);
  const signal = options.signal ? AbortSignal.any([options.signal, held.lost]) : held.lost;
  try {
    const { status, result } = await verifyAndRecover(deps, writer, state, { ...options, signal });
    // Before the verification is marked done: a crash in between leaves it active, and whoever
    // resumes it creates the follow-up (or finds it created).
    const final = status === 'done' ? await startFollowUp(deps, state, result, options.audit) : result;
    await held.finish(status);
    return { status, result: final };
  } catch (e) {
    if (signal.aborted || (isWheelhouseError(e) && e.code === 'KUBE_UNREACHABLE')) {
      // Stopping hands over at once; a lost API server is tried again after a pause.
      await held.release(signal.aborted ? 0 : (deps.retryMs ?? 15_000));
      const why = held.lost.aborted
        ? 'another Wheelhouse took it over'
        : signal.aborted
          ? 'Wheelhouse is stopping'
          : e instanceof Error
            ? e.message
            : String(e);
      await options.audit('change.verify.interrupted', why, { target: state.target });
      return { status: 'interrupted', result: interrupted(state, why) };
    }
    await held.finish('failed');
    throw e;
  }
}

/**
 * Stores a verified change's follow-up as a pending run for its own loop (e.g. the canary engine),
 * once: a run that exists already under its id was started by an earlier attempt.
 */
async function startFollowUp(
  deps: VerificationDeps,
  state: VerificationState,
  result: SkillResult,
  audit: Audit,
): Promise<SkillResult> {
  const followUp = state.followUp;
  if (!followUp) return result;
  const created = await deps.runs.create(
    { id: followUp.id, kind: followUp.kind, status: 'pending', state: followUp.state },
    deps.now(),
  );
  if (created) await audit(`${followUp.kind}.started`, followUp.summary, { run: followUp.id });
  return { ...result, summary: `${result.summary} ${followUp.summary} (run ${followUp.id}).` };
}

/** Follow → done, or failed → roll back (when allowed and known) → follow the rollback. */
async function verifyAndRecover(
  deps: VerificationDeps,
  writer: KubeWriter,
  state: VerificationState,
  options: FollowOptions,
): Promise<{ status: VerificationStatus; result: SkillResult }> {
  const diff = storedDiff(state);
  // A resumed verification keeps the original deadline, with a few seconds to look once more.
  const timeoutSeconds = Math.max(5, Math.ceil((Date.parse(state.deadline) - deps.now().getTime()) / 1000));
  const follow = () =>
    writer.followRollout(state.target, {
      timeoutSeconds,
      onProgress: options.onProgress,
      signal: options.signal,
    });
  const outcome = await follow();
  await options.audit(`change.verify.${outcome.phase}`, outcome.message, { progress: outcome });
  if (outcome.phase === 'done') {
    return {
      status: 'done',
      result: {
        summary: `Done and verified: ${state.summary}.`,
        tone: 'success',
        sections: [diff, progressSection(outcome)],
      },
    };
  }
  if (!deps.autoRollback || !state.undo?.length) {
    return {
      status: 'failed',
      result: {
        summary: `Applied, but the rollout did not become healthy: ${outcome.message}`,
        tone: 'error',
        sections: [
          diff,
          progressSection(outcome),
          { type: 'text', tone: 'warning', text: 'Nothing was rolled back.' },
        ],
      },
    };
  }
  await options.audit('change.rollback', `rolling back: ${state.summary}`, { reason: outcome.message });
  for (const change of state.undo) await writer.apply(change);
  const after = await follow();
  await options.audit(`change.rollback.${after.phase}`, after.message, { progress: after });
  return {
    status: 'rolled-back',
    result: {
      summary: `Rolled back: the change failed verification (${outcome.message}); the previous state is ${
        after.phase === 'done' ? 'healthy again' : `not healthy either (${after.message})`
      }.`,
      tone: 'error',
      sections: [diff, progressSection(outcome), progressSection(after)],
    },
  };
}

function lease(deps: VerificationDeps, now: Date): VerificationState['lease'] {
  return { owner: deps.owner, until: new Date(now.getTime() + (deps.leaseMs ?? 60_000)).toISOString() };
}

/**
 * Renews the lease every third of its length while the rollout is followed. A failed renewal
 * means another process took the verification over: `lost` aborts so this one stops following.
 */
function holdLease(deps: VerificationDeps, run: RunRecord) {
  let version = run.version;
  const state = parseVerification(run);
  const lost = new AbortController();
  let chain = Promise.resolve();
  const write = (next: { status?: VerificationStatus; state?: VerificationState }): Promise<void> => {
    chain = chain.then(async () => {
      if (lost.signal.aborted) return;
      const updated = await deps.runs.update(run.id, version, next, deps.now());
      if (updated) version = updated.version;
      else lost.abort(new Error('the verification lease was taken over'));
    });
    return chain;
  };
  const renew = setInterval(
    () => {
      write({ state: { ...state, lease: lease(deps, deps.now()) } }).catch((err: unknown) =>
        deps.logger?.warn({ err, run: run.id }, 'could not renew a verification lease'),
      );
    },
    Math.max(1000, (deps.leaseMs ?? 60_000) / 3),
  );
  renew.unref();
  return {
    lost: lost.signal,
    finish(status: VerificationStatus): Promise<void> {
      clearInterval(renew);
      return write({ status });
    },
    /** Leaves the verification active with a lease that runs out after `afterMs`, for the keeper to resume. */
    release(afterMs: number): Promise<void> {
      clearInterval(renew);
      const until = new Date(deps.now().getTime() + afterMs).toISOString();
      return write({ state: { ...state, lease: { owner: deps.owner, until } } });
    },
  };
}

function interrupted(state: VerificationState, why: string): SkillResult {
  return {
    summary: `Applied, but verification was interrupted (${why}): ${state.summary}. I will carry on verifying when I can and report here.`,
    tone: 'warning',
    sections: [storedDiff(state)],
  };
}

/** A previewed diff, one row per changed field. */
export function diffTable(rows: VerificationState['diff'], caption: string): Section {
  return {
    type: 'table',
    columns: ['OBJECT', 'FIELD', 'BEFORE', 'AFTER'],
    rows: rows.map((d) => [d.object, d.path, d.before, d.after]),
    caption,
  };
}

function storedDiff(state: VerificationState): Section {
  return diffTable(state.diff, `in namespace ${state.target.namespace}`);
}

export function progressSection(progress: RolloutProgress): Section {
  return {
    type: 'fields',
    title: `Rollout of ${progress.target.kind}/${progress.target.name}`,
    fields: [
      { label: 'Phase', value: progress.phase },
      {
        label: 'Replicas',
        value: `${progress.desired} desired · ${progress.updated} updated · ${progress.ready} ready · ${progress.available} available`,
      },
      { label: 'Detail', value: progress.message },
    ],
  };
}
