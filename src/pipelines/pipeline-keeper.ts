import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { ApprovalRecord, ApprovalStore } from '../approvals/types.ts';
import type { AuditEntry } from '../audit/audit-record.ts';
import type { SkillResult } from '../skills/result.ts';
import type { RunRecord, RunStore } from '../store/run-store.ts';
import type { AuditLog } from '../store/types.ts';
import { JOBS, PIPELINE_RUNS, type PipelineCluster } from './pipeline-cluster.ts';
import type { PipelineSpec } from './pipeline-config.ts';
import { jobManifest, jobName, pipelineRunManifest } from './run-manifests.ts';
import { isFinished, PIPELINE_RUN_KIND, parseRunState, type RunState, storeStatus } from './run-state.ts';
import { runView } from './run-view.ts';
import { type Action, type ApprovalPhase, advance, type Observation } from './stage-scheduler.ts';
import { callWebhook } from './webhook-trigger.ts';

/**
 * Where run messages go. Chat-neutral here; src/chat/slack/slack-pipelines.ts renders and posts.
 * Both methods throw when the message could not be delivered (the keeper tries again next time).
 */
export interface RunPoster {
  /** Posts the run's message (in the thread when there is one); resolves with where it is. */
  post(
    where: { channel: string; thread?: string | undefined },
    view: SkillResult,
  ): Promise<{ channel: string; ts: string }>;
  /** Replaces the run's message in place. */
  update(message: { channel: string; ts: string }, view: SkillResult): Promise<void>;
}

export interface PipelineKeeperDeps {
  runs: RunStore;
  approvals: ApprovalStore;
  cluster: PipelineCluster;
  catalog: ReadonlyMap<string, PipelineSpec>;
  /** Undefined without a chat surface: runs still progress, nothing is posted. */
  poster: RunPoster | undefined;
  /** The last lines of a Job's pod log, redacted. */
  logTail: (namespace: string, job: string) => Promise<string[]>;
  audit: AuditLog;
  /** This process, as the holder of the runs it steps. */
  owner: string;
  /** How long a step's claim on a run holds. */
  leaseMs: number;
  jobTtlSeconds: number;
  logger: Logger;
  now: () => Date;
}

/**
 * Steps every unfinished pipeline run: reads its state from the store and its objects from the
 * cluster, lets the stage scheduler decide, stores the result (compare-and-set with a lease, so
 * one replica steps a run at a time), then carries out the actions and updates the run's message.
 * Nothing lives only in memory: a restarted process picks every run up where the cluster is.
 */
export class PipelineKeeper {
  readonly #deps: PipelineKeeperDeps;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;
  #stopped = false;
  readonly #busy = new Map<string, Promise<void>>();

  constructor(deps: PipelineKeeperDeps) {
    this.#deps = deps;
  }

  start(intervalMs: number): void {
    const tick = () => {
      void this.sweep().finally(() => {
        if (!this.#stopped) this.#timer = setTimeout(tick, intervalMs);
      });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    // Steps already running (a sweep, kicks after commands) finish before the store closes.
    await Promise.all([this.#sweeping, ...this.#busy.values()]);
  }

  /** One pass over unfinished runs (and finished ones whose message is not up to date). */
  sweep(): Promise<void> {
    this.#sweeping ??= (async () => {
      try {
        const active = await this.#deps.runs.list(PIPELINE_RUN_KIND, { status: ['active'] });
        for (const run of active) {
          if (this.#stopped) break;
          await this.step(run.id).catch((err: unknown) =>
            this.#deps.logger.warn({ err, run: run.id }, 'pipeline run step failed; trying again later'),
          );
        }
      } finally {
        this.#sweeping = undefined;
      }
    })();
    return this.#sweeping;
  }

  /**
   * Steps one run now (e.g. right after it was created, approved or cancelled). Steps of one run
   * in this process queue behind each other, so a kick and the sweep never both post its message.
   */
  step(id: string, options: { redraw?: boolean } = {}): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    const previous = this.#busy.get(id) ?? Promise.resolve();
    const next = previous.then(() => this.#step(id, options.redraw === true));
    const settled = next.catch(() => undefined);
    this.#busy.set(id, settled);
    void settled.then(() => {
      if (this.#busy.get(id) === settled) this.#busy.delete(id);
    });
    return next;
  }

  async #step(id: string, redraw: boolean): Promise<void> {
    const { now, runs } = this.#deps;
    const record = await runs.get(id);
    if (record === undefined || record.kind !== PIPELINE_RUN_KIND) return;
    const previous = parseRunState(record.state);
    if (
      previous.lease &&
      previous.lease.owner !== this.#deps.owner &&
      Date.parse(previous.lease.until) > now().getTime()
    ) {
      return;
    }
    let current = record;
    let state = previous;
    if (!isFinished(previous.status)) {
      const pipeline = this.#deps.catalog.get(previous.pipeline);
      const observed = await this.#observe(previous, pipeline);
      const next = advance(previous, observed, now());
      next.state.lease = {
        owner: this.#deps.owner,
        until: new Date(now().getTime() + this.#deps.leaseMs).toISOString(),
      };
      // Stays `active` until its final message is shown (see #show), so a failed post is tried again.
      const stored = await runs.update(id, record.version, { status: 'active', state: next.state }, now());
      if (stored === undefined) return; // someone else stepped it: they carry on
      current = stored;
      state = next.state;
      const failure = await this.#act(id, state, pipeline, next.actions);
      if (failure !== undefined) {
        const latest = (await runs.get(id)) ?? current;
        const at = now().toISOString();
        const s = parseRunState(latest.state);
        state = {
          ...s,
          status: 'failed',
          finishedAt: at,
          failure: { reason: failure, logTail: [] },
          stages: s.stages.map((st) =>
            st.status === 'running' ? { ...st, status: 'failed', finishedAt: at } : st,
          ),
        };
        current = (await this.#save(latest, state)) ?? latest;
      }
      if (isFinished(state.status) && !isFinished(previous.status)) {
        await this.#audit(
          state,
          `pipeline.${state.status}`,
          `${state.pipeline} run ${state.name} ${state.status}`,
        );
      }
    }
    await this.#show(current, redraw);
  }

  async #observe(state: RunState, pipeline: PipelineSpec | undefined): Promise<Observation> {
    const observed: { -readonly [K in keyof Observation]: Observation[K] } = { jobs: {}, approvals: {} };
    const approvals: Record<string, ApprovalPhase | undefined> = {};
    for (const stage of state.stages) {
      if (stage.status !== 'running' && stage.status !== 'waiting') continue;
      if (stage.kind === 'tasks')
        observed.jobs = await this.#deps.cluster.observeJobs(state.namespace, state.name);
      if (stage.kind === 'approval' && stage.approvalId) {
        approvals[stage.approvalId] = approvalPhase(
          await this.#deps.approvals.get(stage.approvalId),
          this.#deps.now(),
        );
      }
      if (stage.kind === 'tekton')
        observed.pipelineRun = await this.#deps.cluster.observePipelineRun(state.namespace, state.name);
      if (stage.kind === 'webhook' && pipeline?.type === 'webhook')
        observed.webhook = await callWebhook(pipeline, state, this.#deps.now());
    }
    observed.approvals = approvals;
    return observed;
  }

  /** Carries out the scheduler's actions; returns why the run must fail, if it must. */
  async #act(
    id: string,
    state: RunState,
    pipeline: PipelineSpec | undefined,
    actions: Action[],
  ): Promise<string | undefined> {
    const acting = {
      identity: state.requester.kubeUser
        ? { user: state.requester.kubeUser, groups: state.requester.kubeGroups ?? [] }
        : undefined,
      requestId: state.requestId,
    };
    for (const action of actions) {
      try {
        switch (action.kind) {
          case 'create-jobs': {
            if (pipeline?.type !== 'built-in')
              return `pipeline ${state.pipeline} is no longer a built-in pipeline in the catalog`;
            const stage = pipeline.stages[action.stage];
            if (!stage || !('tasks' in stage))
              return `stage ${action.stage} of ${state.pipeline} changed in the catalog`;
            for (const task of stage.tasks) {
              const manifest = jobManifest(state, action.stage, task, this.#deps.jobTtlSeconds);
              const name = jobName(state.name, action.stage, task.name);
              if (action.jobs.includes(name)) await this.#deps.cluster.create(acting, JOBS, manifest, false);
            }
            await this.#audit(
              state,
              'pipeline.jobs-created',
              `${state.pipeline} stage ${stage.name}: ${action.jobs.join(', ')}`,
            );
            break;
          }
          case 'request-approval':
            await this.#requestApproval(id, state, action.approvalId);
            break;
          case 'delete-jobs':
            for (const job of action.jobs)
              await this.#deps.cluster.delete(acting, JOBS, state.namespace, job);
            break;
          case 'fetch-logs': {
            const lines = await this.#deps.logTail(state.namespace, action.job);
            const latest = await this.#deps.runs.get(id);
            if (latest) {
              const s = parseRunState(latest.state);
              if (s.failure) await this.#save(latest, { ...s, failure: { ...s.failure, logTail: lines } });
            }
            break;
          }
          case 'create-pipelinerun':
            if (pipeline?.type !== 'tekton')
              return `pipeline ${state.pipeline} is no longer a Tekton pipeline in the catalog`;
            await this.#deps.cluster.create(
              acting,
              PIPELINE_RUNS,
              pipelineRunManifest(state, pipeline),
              false,
            );
            await this.#audit(
              state,
              'pipeline.pipelinerun-created',
              `${state.pipeline}: PipelineRun ${state.name}`,
            );
            break;
          case 'call-webhook':
            break; // called while observing, so its answer is stored with the next step
        }
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        this.#deps.logger.warn({ err: error, run: id, action: action.kind }, 'pipeline action failed');
        if (action.kind === 'create-jobs' || action.kind === 'create-pipelinerun') return message;
      }
    }
    return undefined;
  }

  async #requestApproval(id: string, state: RunState, approvalId: string): Promise<void> {
    if (await this.#deps.approvals.get(approvalId)) return;
    const stage = state.stages.find((s) => s.approvalId === approvalId);
    const now = this.#deps.now();
    const record: ApprovalRecord = {
      id: approvalId,
      requestId: state.requestId,
      status: 'pending',
      requester: state.requester,
      skill: 'pipeline-run',
      input: { runId: id, pipeline: state.pipeline, stage: stage?.name, params: state.params },
      summary: `${stage?.index === -1 ? 'start' : `continue past ${stage?.name} in`} pipeline ${state.pipeline} run ${state.name}`,
      previewHash: createHash('sha256')
        .update(`${state.name}/${approvalId}/${JSON.stringify(state.params)}`)
        .digest('hex'),
      required: stage?.required ?? { quorum: 1 },
      approvals: [],
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + (stage?.ttlSeconds ?? 1800) * 1000).toISOString(),
      where: state.where,
    };
    await this.#deps.approvals.create(record);
    await this.#audit(state, 'pipeline.approval-requested', record.summary, {
      approvalId,
      required: record.required,
    });
  }

  /** Stores a changed state (compare-and-set); undefined when someone else changed it first. */
  async #save(record: RunRecord, state: RunState, status = 'active'): Promise<RunRecord | undefined> {
    return this.#deps.runs.update(record.id, record.version, { status, state }, this.#deps.now());
  }

  /**
   * Posts or updates the run's message when what it shows has changed, or always with `redraw`:
   * a button click on the message has the chat surface rewrite it (its status line), which can
   * land after our own update and show an older view.
   */
  async #show(record: RunRecord, redraw: boolean): Promise<void> {
    const { poster } = this.#deps;
    const latest = (await this.#deps.runs.get(record.id)) ?? record;
    const fresh = parseRunState(latest.state);
    const channel = fresh.message?.channel ?? fresh.where.channel;
    if (!poster || !channel) {
      if (isFinished(fresh.status) && latest.status === 'active')
        await this.#save(latest, fresh, storeStatus(fresh));
      return;
    }
    const view = runView(record.id, fresh, this.#deps.now());
    const shown = createHash('sha256').update(JSON.stringify(view)).digest('hex');
    if (fresh.shown === shown && fresh.message && !redraw) {
      if (isFinished(fresh.status) && latest.status === 'active')
        await this.#save(latest, fresh, storeStatus(fresh));
      return;
    }
    let message = fresh.message;
    if (message) await poster.update(message, view);
    else message = await poster.post({ channel, thread: fresh.where.thread }, view);
    // A finished run leaves the sweep once its final message is out.
    await this.#save(latest, { ...fresh, message, shown }, storeStatus(fresh));
  }

  async #audit(
    state: RunState,
    type: string,
    message: string,
    detail?: Record<string, unknown>,
  ): Promise<void> {
    const entry: AuditEntry = {
      type,
      requestId: state.requestId,
      time: this.#deps.now().toISOString(),
      actor: {
        surface: state.where.surface,
        id: state.requester.id,
        name: state.requester.name,
        channel: state.where.channel,
        thread: state.where.thread,
        kubeUser: state.requester.kubeUser,
        kubeGroups: state.requester.kubeGroups,
      },
      text: '',
      plan: null,
      skill: 'pipeline-run',
      input: { pipeline: state.pipeline, run: state.name, params: state.params, ...detail },
      outcome: state.status === 'failed' ? 'error' : 'ok',
      errorCode: null,
      message,
      durationMs: 0,
    };
    await this.#deps.audit.append(entry);
  }
}

/** An approval's status as the scheduler reads it; a pending one past its expiry is expired. */
export function approvalPhase(record: ApprovalRecord | undefined, now: Date): ApprovalPhase | undefined {
  if (record === undefined) return undefined;
  switch (record.status) {
    case 'pending':
      return now.getTime() >= Date.parse(record.expiresAt) ? 'expired' : 'pending';
    case 'approved':
    case 'executing':
    case 'done':
      return 'approved';
    case 'denied':
      return 'denied';
    case 'expired':
      return 'expired';
    default:
      return 'voided';
  }
}
