import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import { type BackgroundLoop, type LeaderLoops, type LoopRegistry, ownLoops } from '../ha/leader-loops.ts';
import type { KubeHttp } from '../kube/kube-http.ts';
import type { KubeClient } from '../kube/types.ts';
import type { RunnerDeps } from '../runner/run-request.ts';
import type { RequestHandler } from '../runner/types.ts';
import type { Actor } from '../skills/context.ts';
import { parseDurationSeconds } from '../skills/schema.ts';
import type { Store } from '../store/types.ts';
import { kubePipelineCluster, type PipelineCluster } from './pipeline-cluster.ts';
import { withPipelineCommands } from './pipeline-commands.ts';
import { PipelineKeeper, type RunPoster } from './pipeline-keeper.ts';

export interface PipelinesOptions {
  config: Pick<Config, 'pipelines' | 'policy' | 'changes'>;
  store: Store;
  /** Reads (pods, logs) as Wheelhouse, and raw HTTP for Jobs and PipelineRuns. */
  kube: KubeClient & { readonly http: KubeHttp };
  /** The road's redaction, identity mapping and Slack user groups (the same the runner uses). */
  road: Pick<RunnerDeps, 'redact' | 'isMapped' | 'groupMembers'>;
  logger: Logger;
  /** Tests pass a fake cluster. */
  cluster?: PipelineCluster | undefined;
}

/** Pipelines as the composition root sees them. */
export interface Pipelines {
  /** The chat handler with `run`, `runs`, `cancel-run`, `rerun` (and pipeline approvals) in front. */
  commands(inner: RequestHandler): RequestHandler;
  /**
   * Builds the keeper on this replica (a command steps its run here at once) and registers the
   * periodic following, which also picks up what a previous process left, in `loops` (the leader's;
   * without it, following runs here). Posts with `poster` when given.
   */
  start(poster: RunPoster | undefined, loops?: LoopRegistry): void;
  stop(): Promise<void>;
}

/** Builds the pipeline catalog, commands and keeper from config. */
export function createPipelines(options: PipelinesOptions): Pipelines {
  const { config, store } = options;
  const settings = config.pipelines;
  const logger = options.logger.child({ component: 'pipelines' });
  const catalog = new Map(settings.catalog.map((p) => [p.name, p]));
  const cluster = options.cluster ?? kubePipelineCluster(options.kube.http);
  const seconds = (text: string, fallback: number) => parseDurationSeconds(text) ?? fallback;
  const intervalMs = seconds(settings.updateInterval, 5) * 1000;
  const jobTtlSeconds = seconds(settings.jobTtl, 3600);
  const now = () => new Date();
  const redrawAfterMs = 1500;
  let keeper: PipelineKeeper | undefined;
  let own: LeaderLoops | undefined;
  const bot = options.kube.as(undefined);
  return {
    commands(inner) {
      return withPipelineCommands(inner, {
        catalog,
        runs: store.runs,
        approvals: store.approvals,
        cluster,
        audit: store.audit,
        policy: config.policy,
        isMapped: options.road.isMapped ?? ((actor: Actor) => actor.surface !== 'slack'),
        groupMembers: options.road.groupMembers,
        kick: (id) => {
          const step = (redraw: boolean) =>
            keeper
              ?.step(id, { redraw })
              .catch((err: unknown) => logger.warn({ err, run: id }, 'pipeline step failed'));
          void step(false);
          // Once more after the chat surface has put its status line on a clicked message.
          setTimeout(() => void step(true), redrawAfterMs).unref();
        },
        dedupeWindowMs: seconds(settings.dedupeWindow, 120) * 1000,
        approvalTtlSeconds: seconds(config.changes.approvalTtl, 1800),
        jobTtlSeconds,
        logger,
        now,
        newId: randomUUID,
      });
    },
    start(poster, loops) {
      keeper = new PipelineKeeper({
        runs: store.runs,
        approvals: store.approvals,
        cluster,
        catalog,
        poster,
        logTail: async (namespace, job) => {
          if (settings.logTailLines === 0) return [];
          try {
            const [pod] = await bot.listPods({ namespace, selector: `batch.kubernetes.io/job-name=${job}` });
            const name = pod?.metadata?.name;
            if (!name) return ['(no pod left to read logs from)'];
            const text = await bot.readLog({
              namespace,
              pod: name,
              tailLines: settings.logTailLines,
              limitBytes: 64_000,
            });
            return options.road.redact(text).split('\n').filter(Boolean).slice(-settings.logTailLines);
          } catch (error) {
            return [`(logs unavailable: ${error instanceof Error ? error.message : String(error)})`];
          }
        },
        audit: store.audit,
        owner: `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`,
        leaseMs: Math.max(3 * intervalMs, 3000),
        jobTtlSeconds,
        logger,
        now,
      });
      const following = keeper;
      own = loops === undefined ? ownLoops(logger) : undefined;
      (loops ?? own)?.add('pipeline-following', () => sweepEvery(following, intervalMs, logger));
      logger.info({ pipelines: catalog.size, intervalMs }, 'pipeline runs followed');
    },
    async stop() {
      await own?.follow();
      await keeper?.stop();
    },
  };
}

/** A sweep of every unfinished run, then another `intervalMs` after it ends, until stopped. */
function sweepEvery(keeper: PipelineKeeper, intervalMs: number, logger: Logger): BackgroundLoop {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<void> = Promise.resolve();
  const tick = (): void => {
    pass = keeper
      .sweep()
      .catch((err: unknown) => logger.warn({ err }, 'pipeline sweep failed; trying again later'))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, intervalMs);
      });
  };
  tick();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await pass;
    },
  };
}
