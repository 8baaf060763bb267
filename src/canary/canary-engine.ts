import type { V1Deployment } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { type AuditEntry, auditActor } from '../audit/audit-record.ts';
import type { DesiredChange, KubeWriter, KubeWriterFactory } from '../changes/types.ts';
import { isWheelhouseError } from '../errors.ts';
import type { KubeIdentity, KubeReader } from '../kube/types.ts';
import type { SkillResult } from '../skills/result.ts';
import type { MetricsSource } from '../sources/types.ts';
import type { RunRecord, RunStore } from '../store/run-store.ts';
import type { AuditLog } from '../store/types.ts';
import { analyze, decideAnalysis, type MetricSpec, metricQuery } from './analysis.ts';
import type { RunSettings } from './canary-config.ts';
import { CanaryLease, type Repeat, repeatWithInterval } from './canary-lease.ts';
import {
  afterAnalysis,
  applyCommand,
  CANARY,
  type CanaryState,
  type PendingCanary,
  parseCanary,
  pendingCanarySchema,
} from './canary-run.ts';
import { canaryView } from './canary-view.ts';
import { promoteChanges, rollbackChanges, stepChanges } from './deployment-canary.ts';
import { planSteps } from './steps.ts';

/** Shows a run's one message: posts it the first time (returning where), updates it after. */
export interface CanaryReporter {
  show(
    where: { surface: string; channel?: string | undefined; thread?: string | undefined },
    message: { channel: string; ts: string } | undefined,
    view: SkillResult,
  ): Promise<{ channel: string; ts: string } | undefined>;
}

export interface CanaryEngineDeps {
  runs: RunStore;
  writers: KubeWriterFactory;
  readerAs: (identity: KubeIdentity | undefined, requestId: string) => KubeReader;
  metrics: MetricsSource | undefined;
  audit: AuditLog;
  reporter: CanaryReporter;
  /** This process, as lease owner. */
  owner: string;
  /**
   * A run is stepped by the owner of an unexpired lease only; a tick renews it every third of this
   * while it works, so this bounds how long a crashed owner keeps a run, not how long a step may take.
   * @default 30 s
   */
  leaseMs?: number | undefined;
  /** Timer of the lease heartbeat, injectable so tests beat it by hand. @default setInterval */
  repeat?: Repeat | undefined;
  /** Rate window of the built-in queries, e.g. "1m". */
  rateWindow: string;
  /** Seconds between samples of one analysis. */
  sampleStepSeconds: number;
  /** How long a step, promotion or rollback waits for its pods. @default 120 */
  rolloutTimeoutSeconds?: number | undefined;
  /** A run's settings from its flags, the workload's config entry and the defaults; throws RangeError or INVALID_INPUT. */
  settings: (workload: { namespace: string; name: string }, flags: PendingCanary['flags']) => RunSettings;
  now: () => Date;
  logger: Logger;
}

/** What one tick works with: the requester's writer, and the run's lease checked before each side effect. */
interface Tick {
  writer: KubeWriter;
  /** The caller's signal (stopping, no longer the leader) or the lease lost, whichever comes first. */
  signal: AbortSignal;
  lease: CanaryLease;
}

/**
 * Steps canary runs: each tick takes the run's lease by compare-and-set (so one process steps a
 * run) and renews it while it works, carries out chat commands, lands the current step, analyzes
 * when due and promotes or rolls back, then stores the state and updates the chat message. A tick
 * that finds its run taken over stops before its next side effect. Everything a tick does to the
 * cluster is idempotent (replicas to a number, an image, a delete), so a tick cut short by a crash
 * or a lost lease is simply done again by the next owner: a restart resumes at the same step.
 */
export class CanaryEngine {
  readonly #deps: CanaryEngineDeps;
  readonly #busy = new Set<string>();

  constructor(deps: CanaryEngineDeps) {
    this.#deps = deps;
  }

  /** Ticks every active run not ticking already; resolves when all are done. */
  async sweep(signal?: AbortSignal): Promise<void> {
    const runs = await this.#deps.runs.list(CANARY, { status: ['pending', 'active'] });
    await Promise.all(runs.map((run) => this.tick(run.id, signal)));
  }

  /** Gives up the leases of this process's runs (a graceful stop): the next Wheelhouse resumes at once. */
  async release(): Promise<void> {
    for (const run of await this.#deps.runs.list(CANARY, { status: ['active'] })) {
      const state = parseCanary(run);
      if (state.lease.owner !== this.#deps.owner) continue;
      await this.#deps.runs
        .update(
          run.id,
          run.version,
          { state: { ...state, lease: { ...state.lease, until: this.#deps.now().toISOString() } } },
          this.#deps.now(),
        )
        .catch((err: unknown) =>
          this.#deps.logger.warn({ err, run: run.id }, 'could not release a canary lease'),
        );
    }
  }

  /** One step of one run; never throws (errors are logged and the run tried again next tick). */
  async tick(runId: string, signal?: AbortSignal): Promise<void> {
    if (this.#busy.has(runId)) return;
    this.#busy.add(runId);
    try {
      await this.#tick(runId, signal);
    } catch (err) {
      this.#deps.logger.warn({ err, run: runId }, 'canary tick failed; trying again next tick');
    } finally {
      this.#busy.delete(runId);
    }
  }

  async #tick(runId: string, signal: AbortSignal | undefined): Promise<void> {
    let run = await this.#deps.runs.get(runId);
    if (run?.status === 'pending') run = await this.#init(run);
    if (run?.status !== 'active') return;
    const lease = await CanaryLease.take(
      {
        runs: this.#deps.runs,
        owner: this.#deps.owner,
        leaseMs: this.#deps.leaseMs ?? 30_000,
        now: this.#deps.now,
        repeat: this.#deps.repeat ?? repeatWithInterval,
        logger: this.#deps.logger,
      },
      run,
    );
    if (!lease) return;
    try {
      await this.#work(runId, lease, signal);
    } catch (err) {
      // Lost mid-tick: the lease said so in the log, and the new owner does this tick again.
      if (!lease.lost.aborted) throw err;
    } finally {
      lease.stop();
    }
  }

  /** One tick under the run's lease: commands, the phase's work, the chat message, the stored state. */
  async #work(runId: string, lease: CanaryLease, signal: AbortSignal | undefined): Promise<void> {
    const { now } = this.#deps;
    const before = parseCanary(lease.run);
    let state = before;
    const tickSignal = signal ? AbortSignal.any([signal, lease.lost]) : lease.lost;
    const tick: Tick = {
      writer: this.#deps.writers.writerAs(state.actor.kube, {
        requestId: state.requestId,
        signal: tickSignal,
      }),
      signal: tickSignal,
      lease,
    };

    for (const command of state.commands) {
      const next = applyCommand(state, command.action, command.by, now());
      if (next !== state)
        await this.#auditHeld(tick, next, `canary.${command.action}`, `${command.action} by ${command.by}`);
      state = next;
    }
    const handled = new Set(state.commands.map((c) => c.id));
    state = { ...state, commands: [] };

    state = await this.#advance(state, tick);

    const changed = JSON.stringify({ ...state, lease: null }) !== JSON.stringify({ ...before, lease: null });
    if (changed || !state.message) {
      lease.check();
      const message = await this.#deps.reporter
        .show(state.actor, state.message, canaryView(runId, state))
        .catch((err: unknown) => {
          this.#deps.logger.warn({ err, run: runId }, 'could not show a canary run in chat');
          return state.message;
        });
      state = { ...state, message };
    }
    await lease.finish(state, handled);
  }

  /** What the run does in its phase this tick. */
  async #advance(state: CanaryState, tick: Tick): Promise<CanaryState> {
    const { now } = this.#deps;
    switch (state.phase) {
      case 'running': {
        if (state.appliedStep !== state.stepIndex) return this.#landStep(state, tick);
        if (Date.parse(state.nextAnalysisAt) > now().getTime()) return state;
        const metrics = await analyze(state.analysis, (spec, track) =>
          this.#samples(state, spec, track, tick.signal),
        );
        const outcome = decideAnalysis(metrics, state.failedChecks, state.failureLimit);
        const next = afterAnalysis(state, metrics, outcome, now());
        await this.#auditHeld(
          tick,
          next,
          `canary.analysis.${outcome.decision}`,
          'reason' in outcome ? outcome.reason : 'every metric passed',
          {
            step: state.stepIndex,
            metrics,
          },
        );
        // A decision to go on is carried out in the same tick: no interval is lost.
        return next.phase === 'running' && next.appliedStep !== next.stepIndex
          ? this.#landStep(next, tick)
          : next.phase === 'promoting' || next.phase === 'rolling-back'
            ? this.#advance(next, tick)
            : next;
      }
      case 'promoting':
        return this.#promote(state, tick);
      case 'rolling-back':
        return this.#rollBack(state, tick);
      default:
        return state;
    }
  }

  /**
   * Turns the change road's pending record into a run at its first step (compare-and-set: one
   * process does it). Settings that do not resolve end the run and remove the canary.
   */
  async #init(run: RunRecord): Promise<RunRecord | undefined> {
    const pending = pendingCanarySchema.parse(run.state);
    const now = this.#deps.now();
    let settings: RunSettings | undefined;
    let problem: string | undefined;
    try {
      settings = this.#deps.settings({ namespace: pending.namespace, name: pending.stable }, pending.flags);
    } catch (e) {
      problem = e instanceof Error ? e.message : String(e);
    }
    const { flags: _flags, ...rest } = pending;
    const state: CanaryState = {
      ...rest,
      engine: 'deployment',
      steps: settings?.steps ?? [100],
      stepIndex: 0,
      appliedStep: -1,
      intervalSeconds: settings?.intervalSeconds ?? 60,
      analysis: settings?.analysis ?? [],
      failureLimit: settings?.failureLimit ?? 1,
      gates: settings?.gates ?? [],
      phase: problem ? 'rolling-back' : 'running',
      reason: problem ? `the canary settings do not work: ${problem}` : undefined,
      nextAnalysisAt: now.toISOString(),
      failedChecks: 0,
      checks: [],
      commands: [],
      lease: { owner: this.#deps.owner, until: now.toISOString() },
      startedAt: now.toISOString(),
    };
    const started = await this.#deps.runs.update(run.id, run.version, { status: 'active', state }, now);
    if (started) {
      await this.#audit(
        state,
        'canary.run.started',
        `steps ${state.steps.join(', ')}% every ${state.intervalSeconds} s`,
        {
          analysis: state.analysis.map((m) => m.name),
          gates: state.gates,
        },
      );
    }
    return started;
  }

  async #landStep(state: CanaryState, tick: Tick): Promise<CanaryState> {
    const plans = planSteps(state.total, state.steps);
    const plan = plans[state.stepIndex];
    const was = plans[state.appliedStep]?.canary ?? 0;
    if (!plan) return { ...state, phase: 'failed', reason: `no step ${state.stepIndex}` };
    await this.#auditHeld(
      tick,
      state,
      'canary.step',
      `canary at ${plan.weight}%: ${plan.canary} canary, ${plan.stable} stable pod(s)`,
      {
        step: state.stepIndex,
        plan,
      },
    );
    await applyAll(tick, stepChanges(state, plan, was));
    // Longer than the lease, possibly: the heartbeat keeps the run meanwhile.
    await this.#follow(tick, state, state.canary);
    return {
      ...state,
      appliedStep: state.stepIndex,
      nextAnalysisAt: new Date(this.#deps.now().getTime() + state.intervalSeconds * 1000).toISOString(),
    };
  }

  async #promote(state: CanaryState, tick: Tick): Promise<CanaryState> {
    const workload = await this.#deps
      .readerAs(state.actor.kube, state.requestId)
      .getWorkload({ kind: 'Deployment', namespace: state.namespace, name: state.stable });
    if (workload.kind !== 'Deployment')
      return { ...state, phase: 'failed', reason: `${state.stable} is a ${workload.kind}` };
    const changes = promoteChanges(state, workload.object as V1Deployment);
    await this.#auditHeld(
      tick,
      state,
      'canary.promote',
      `promoting ${state.image} to deploy/${state.stable}`,
      {
        reason: state.reason,
      },
    );
    await applyAll(tick, changes.stable);
    const outcome = await this.#follow(tick, state, state.stable);
    if (outcome.phase !== 'done') {
      // The new version does not come up at full size: back to the previous one.
      await this.#auditHeld(tick, state, 'canary.promote.failed', outcome.message);
      const images = { ...state, image: state.previousImage };
      await applyAll(tick, promoteChanges(images, workload.object as V1Deployment).stable);
      return this.#rollBack(
        { ...state, phase: 'rolling-back', reason: `promotion did not become healthy: ${outcome.message}` },
        tick,
      );
    }
    await applyAll(tick, changes.cleanup);
    const done = {
      ...state,
      phase: 'promoted' as const,
      appliedStep: state.steps.length - 1,
      stepIndex: state.steps.length - 1,
      endedAt: this.#deps.now().toISOString(),
    };
    await this.#auditHeld(
      tick,
      done,
      'canary.promoted',
      `deploy/${state.stable} runs ${state.image}; canary removed`,
    );
    return done;
  }

  async #rollBack(state: CanaryState, tick: Tick): Promise<CanaryState> {
    const aborted = state.reason?.startsWith('aborted by') === true;
    await this.#auditHeld(tick, state, 'canary.rollback', state.reason ?? 'rolling back');
    await applyAll(tick, rollbackChanges(state));
    const outcome = await this.#follow(tick, state, state.stable);
    const done = {
      ...state,
      phase: aborted ? ('aborted' as const) : ('rolled-back' as const),
      endedAt: this.#deps.now().toISOString(),
    };
    await this.#auditHeld(
      tick,
      done,
      `canary.${done.phase}`,
      `stable ${state.previousImage} at ${state.total} pod(s): ${outcome.message}`,
      {
        verified: outcome.phase === 'done',
      },
    );
    return done;
  }

  #follow(tick: Tick, state: CanaryState, name: string) {
    return tick.writer.followRollout(
      {
        group: 'apps',
        version: 'v1',
        resource: 'deployments',
        kind: 'Deployment',
        namespace: state.namespace,
        name,
      },
      { timeoutSeconds: this.#deps.rolloutTimeoutSeconds ?? 120, signal: tick.signal },
    );
  }

  /** Samples of one metric for one track over the last interval; none when the source has none. */
  async #samples(
    state: CanaryState,
    spec: MetricSpec,
    track: 'canary' | 'stable',
    signal: AbortSignal,
  ): Promise<number[]> {
    const source = this.#deps.metrics;
    if (!source) return [];
    const end = this.#deps.now();
    const start = new Date(end.getTime() - state.intervalSeconds * 1000);
    const query = metricQuery(
      spec,
      { namespace: state.namespace, deployment: track === 'canary' ? state.canary : state.stable },
      this.#deps.rateWindow,
    );
    try {
      const series = await source.rangeQuery({
        query,
        start,
        end,
        stepSeconds: this.#deps.sampleStepSeconds,
        signal,
      });
      return series.flatMap((s) => s.points.map(([, v]) => v)).filter(Number.isFinite);
    } catch (err) {
      // Stopping or losing the run is no missing data: the tick ends here, and is done again.
      if (signal.aborted) throw err;
      this.#deps.logger.warn({ err, query }, 'canary analysis query failed; counted as no data');
      return [];
    }
  }

  /** Audits a step of a tick, only while the run is still this process's. */
  #auditHeld(
    tick: Tick,
    state: CanaryState,
    type: string,
    message: string,
    detail?: Record<string, unknown>,
  ): Promise<void> {
    tick.lease.check();
    return this.#audit(state, type, message, detail);
  }

  async #audit(
    state: CanaryState,
    type: string,
    message: string,
    detail?: Record<string, unknown>,
  ): Promise<void> {
    const { actor } = state;
    const entry: AuditEntry = {
      type,
      requestId: state.requestId,
      time: this.#deps.now().toISOString(),
      actor: auditActor(actor),
      text: `(canary: ${state.summary})`,
      plan: null,
      skill: 'canary-start',
      input: { namespace: state.namespace, stable: state.stable, canary: state.canary, ...detail },
      outcome: 'ok',
      errorCode: null,
      message,
      durationMs: 0,
    };
    await this.#deps.audit.append(entry);
  }
}

/** Applies changes in order, each only while the run is still this process's; a canary already gone counts as removed. */
async function applyAll(tick: Tick, changes: readonly DesiredChange[]): Promise<void> {
  for (const change of changes) {
    tick.lease.check();
    try {
      await tick.writer.apply(change);
    } catch (e) {
      if (change.type === 'delete' && isWheelhouseError(e) && e.code === 'NOT_FOUND') continue;
      throw e;
    }
  }
}
