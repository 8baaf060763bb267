import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { ClientNodeKubeClient } from '../kube/client-node-kube-client.ts';
import { parseDurationSeconds } from '../skills/schema.ts';
import { type HaConfig, leaseNamespace } from './ha-config.ts';
import { KubeLeaseStore } from './kube-lease-store.ts';
import { type ElectionLogger, LeaderElector } from './leader-election.ts';

/** A background loop as its starter returns it. */
export interface BackgroundLoop {
  stop(): void | Promise<void>;
}

/** Where a feature registers the loops that must run on one process only (the leader's). */
export interface LoopRegistry {
  add(name: string, start: () => BackgroundLoop): void;
}

/**
 * Loops that run at once in this process, for a feature started outside `startServer` (tests,
 * one-process tools): `follow()` stops them.
 */
export function ownLoops(logger: ElectionLogger): LeaderLoops {
  const loops = new LeaderLoops(logger);
  loops.lead();
  return loops;
}

/**
 * The loops that must run on one process only (approval expiry and reminders, the verification
 * keeper, canary stepping, pipeline following, the alert-thread sweep). Each is registered once with its starter;
 * they all run while this process leads and stop when it stops leading.
 */
export class LeaderLoops implements LoopRegistry {
  readonly #starters = new Map<string, () => BackgroundLoop>();
  readonly #running = new Map<string, BackgroundLoop>();
  readonly #logger: ElectionLogger;
  #leading = false;

  constructor(logger: ElectionLogger) {
    this.#logger = logger;
  }

  /** Registers a loop; it starts now if this process already leads. */
  add(name: string, start: () => BackgroundLoop): void {
    if (this.#starters.has(name)) throw new Error(`background loop "${name}" registered twice`);
    this.#starters.set(name, start);
    if (this.#leading) this.#start(name, start);
  }

  get running(): string[] {
    return [...this.#running.keys()];
  }

  lead(): void {
    if (this.#leading) return;
    this.#leading = true;
    for (const [name, start] of this.#starters) this.#start(name, start);
  }

  /** Stops every loop, waiting for each to finish what it is doing. */
  async follow(): Promise<void> {
    this.#leading = false;
    const running = [...this.#running.entries()];
    this.#running.clear();
    await Promise.all(
      running.map(async ([name, loop]) => {
        try {
          await loop.stop();
        } catch (err) {
          this.#logger.error({ err, loop: name }, 'background loop did not stop cleanly');
        }
      }),
    );
  }

  #start(name: string, start: () => BackgroundLoop): void {
    try {
      this.#running.set(name, start());
      this.#logger.info({ loop: name }, 'background loop started');
    } catch (err) {
      this.#logger.error({ err, loop: name }, 'background loop failed to start');
    }
  }
}

/** Who runs the loops: this process alone, or the holder of the Lease. */
export interface Leadership {
  readonly loops: LeaderLoops;
  /** Undefined without leader election (this process always leads). */
  readonly elector: LeaderElector | undefined;
  /** Stops the loops and, when elected, releases the Lease. */
  stop(): Promise<void>;
}

/**
 * Without `ha.leaderElection.enabled` (one process, the console): the loops start at once and no
 * Lease is touched. With it: they run only while this process holds the Lease.
 */
export function startLeadership(options: {
  config: HaConfig['leaderElection'];
  kube: Pick<ClientNodeKubeClient, 'requestAsSelf'>;
  logger: ElectionLogger;
  /** Overrides the Lease namespace lookup (tests). */
  namespace?: string | undefined;
  requestTimeoutMs?: number | undefined;
}): Leadership {
  const { config, logger } = options;
  const loops = new LeaderLoops(logger);
  if (!config.enabled) {
    loops.lead();
    return { loops, elector: undefined, stop: () => loops.follow() };
  }
  const seconds = (text: string, fallback: number) => (parseDurationSeconds(text) ?? fallback) * 1000;
  const retryPeriodMs = seconds(config.retryPeriod, 2);
  const store = new KubeLeaseStore((req) => options.kube.requestAsSelf(req), {
    namespace: options.namespace ?? leaseNamespace(config),
    name: config.leaseName,
    // An attempt must end well within a retry period, or renewals pile up behind a slow server.
    timeoutMs: Math.min(options.requestTimeoutMs ?? 10_000, retryPeriodMs),
  });
  const elector = new LeaderElector({
    store,
    identity: `${config.identity ?? hostname()}_${randomUUID().slice(0, 8)}`,
    leaseDurationMs: seconds(config.leaseDuration, 15),
    renewDeadlineMs: seconds(config.renewDeadline, 10),
    retryPeriodMs,
    onStartedLeading: () => loops.lead(),
    onStoppedLeading: () => loops.follow(),
    logger,
  });
  elector.start();
  return { loops, elector, stop: () => elector.stop() };
}
