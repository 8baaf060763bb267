import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { mergePatch } from '../changes/targets.ts';
import type { DesiredChange } from '../changes/types.ts';
import type { Config } from '../config/schema.ts';
import { type LeaderLoops, type LoopRegistry, ownLoops } from '../ha/leader-loops.ts';
import { IdentityMap } from '../identity/identity-map.ts';
import type { KubeClient } from '../kube/types.ts';
import type { RunnerDeps } from '../runner/run-request.ts';
import type { RequestHandler } from '../runner/types.ts';
import { parseDurationSeconds } from '../skills/schema.ts';
import type { Store } from '../store/types.ts';
import { withCanaryCommands } from './canary-commands.ts';
import { canaryApprovers, resolveRunSettings } from './canary-config.ts';
import { CanaryEngine, type CanaryReporter } from './canary-engine.ts';
import type { CanaryState } from './canary-run.ts';
import { deploymentTarget } from './deployment-canary.ts';

export interface CanariesOptions {
  config: Pick<Config, 'canary' | 'policy' | 'identity'>;
  road: RunnerDeps;
  store: Store;
  kube: KubeClient;
  logger: Logger;
  /** This process, as lease owner. @default a fresh id */
  owner?: string | undefined;
}

/** Canary runs as the composition root sees them. */
export interface Canaries {
  /** The chat handler with the canary buttons' commands in front. */
  commands(inner: RequestHandler): RequestHandler;
  /**
   * Builds the engine on this replica (a button click steps its run here at once) and registers the
   * periodic stepping, which also picks up what a previous process left, in `loops` (the leader's;
   * without it, stepping runs here). Without a reporter, runs are logged.
   */
  start(reporter: CanaryReporter | undefined, loops?: LoopRegistry): void;
  stop(): Promise<void>;
  /** For tests: the engine once started. */
  readonly engine: CanaryEngine | undefined;
}

/**
 * Canary runs: the engine that steps them (every `canary.tickInterval`), and the Promote now /
 * Pause / Resume / Abort commands. Runs are started by the change road (skill canary-start); without
 * the change road (changes disabled) nothing starts and the commands find no run.
 */
export function createCanaries(options: CanariesOptions): Canaries {
  const { config, road, store, logger: parent } = options;
  const settings = config.canary;
  const logger = parent.child({ component: 'canary' });
  const identities = new IdentityMap(config.identity);
  const owner = options.owner ?? `canary/${randomUUID().slice(0, 8)}`;
  const stopping = new AbortController();
  let engine: CanaryEngine | undefined;
  let own: LeaderLoops | undefined;
  let sweeping: Promise<void> = Promise.resolve();
  const seconds = (text: string, fallback: number) => parseDurationSeconds(text) ?? fallback;

  const sweep = (signal = stopping.signal) => {
    if (!engine || signal.aborted) return;
    const current = engine;
    sweeping = sweeping
      .then(() => current.sweep(signal))
      .catch((err: unknown) => logger.error({ err }, 'canary sweep failed'));
  };

  /** Steps every run each tick while this process leads; on losing the lead, gives up its leases. */
  const stepping = () => {
    const lead = new AbortController();
    const signal = AbortSignal.any([stopping.signal, lead.signal]);
    const timer = setInterval(() => sweep(signal), seconds(settings.tickInterval, 5) * 1000);
    timer.unref();
    sweep(signal);
    return {
      async stop() {
        clearInterval(timer);
        lead.abort(new Error('no longer the leader'));
        await sweeping;
        await engine?.release(); // the next leader resumes at once
      },
    };
  };

  return {
    get engine() {
      return engine;
    },
    commands(inner) {
      return withCanaryCommands(inner, {
        runs: store.runs,
        audit: road.audit,
        policy: config.policy,
        isMapped: (actor) => actor.surface !== 'slack' || identities.isMapped({ id: actor.id }),
        approvers: canaryApprovers(settings),
        authorizeAs: road.changes
          ? async (actor, state, requestId) => {
              const writer = road.changes?.writers.writerAs(actor.kube, { requestId });
              await writer?.authorize(stepScale(state));
            }
          : undefined,
        kick: () => sweep(),
        logger,
        newId: randomUUID,
      });
    },
    start(reporter, loops) {
      const changes = road.changes;
      if (!changes) {
        logger.info('changes are disabled, so no canary runs');
        return;
      }
      engine = new CanaryEngine({
        runs: store.runs,
        writers: changes.writers,
        readerAs: (identity, requestId) => options.kube.as(identity, { requestId }),
        metrics: road.metrics,
        audit: road.audit,
        reporter: reporter ?? logReporter(logger),
        owner,
        leaseMs: seconds(settings.lease, 30) * 1000,
        rateWindow: settings.rateWindow,
        sampleStepSeconds: seconds(settings.sampleStep, 10),
        rolloutTimeoutSeconds: seconds(settings.rolloutTimeout, 120),
        settings: (workload, flags) => resolveRunSettings(settings, workload, flags),
        now: road.now ?? (() => new Date()),
        logger,
      });
      own = loops === undefined ? ownLoops(logger) : undefined;
      (loops ?? own)?.add('canary-stepping', stepping);
    },
    async stop() {
      await own?.follow();
      stopping.abort(new Error('Wheelhouse is stopping'));
      await sweeping;
      await engine?.release();
    },
  };
}

/** For a bot without chat: each change of a run goes to the log. */
function logReporter(logger: Logger): CanaryReporter {
  return {
    async show(where, message, view) {
      logger.info({ where, summary: view.summary }, 'canary run');
      return message;
    },
  };
}

/** What a click leads to at most: scaling the run's Deployments (checked on stable). */
function stepScale(state: CanaryState): DesiredChange {
  return mergePatch(
    deploymentTarget(state.namespace, state.stable),
    undefined,
    { spec: { replicas: state.total } },
    'scale',
  );
}
