import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import { withCluster } from '../clusters/cluster-router.ts';
import type { Config } from '../config/schema.ts';
import { type BackgroundLoop, type LeaderLoops, type LoopRegistry, ownLoops } from '../ha/leader-loops.ts';
import type { HttpServer } from '../http/http-server.ts';
import { IdentityMap } from '../identity/identity-map.ts';
import type { KubeClient } from '../kube/types.ts';
import type { RequestHandler } from '../runner/types.ts';
import type { SkillResult } from '../skills/result.ts';
import { parseDurationSeconds } from '../skills/schema.ts';
import type { ChartRenderer, MetricsSource } from '../sources/types.ts';
import type { Store } from '../store/types.ts';
import { withAlertCommands } from './alert-commands.ts';
import { alertWebhookHandler } from './alert-receiver.ts';
import { alertmanagerSilences, type SilenceApi } from './alertmanager-client.ts';
import { enrichIncident, resolveWorkload } from './enrichment.ts';
import type { IncidentPoster } from './incident-poster.ts';
import type { IncidentState } from './incident-state.ts';
import { incidentView, workloadArg } from './incident-view.ts';
import { type KeeperClock, systemKeeperClock, ThreadKeeper } from './thread-keeper.ts';

export interface AlertsOptions {
  config: Pick<Config, 'alerts' | 'policy' | 'identity' | 'llm'>;
  http: HttpServer;
  store: Store;
  kube: KubeClient;
  metrics: MetricsSource | undefined;
  charts: ChartRenderer;
  redact: (text: string) => string;
  logger: Logger;
  /**
   * With several clusters: each alert's is named by its `alerts.clusterLabel` label (else the
   * bot's own, `kube`); its workload is looked up there and its buttons act there. An alert naming
   * a cluster not served gets no workload, so no buttons that would act on the wrong one.
   */
  clusters?: ReadonlyArray<{
    name: string;
    home: boolean;
    kube: KubeClient;
    metrics: MetricsSource | undefined;
  }>;
  /** Where /metrics gets the alert counters and the enrichment latency histogram. */
  registry?: Registry | undefined;
  /**
   * The hook for an Investigate button: the command it sends (e.g. the planner's explain skill),
   * or undefined for no button. Wire it when a model is configured.
   */
  investigate?: ((incident: { id: string; state: IncidentState }) => string | undefined) | undefined;
  /** Alertmanager's silences API; tests pass a fake. */
  silences?: SilenceApi | undefined;
  clock?: KeeperClock | undefined;
}

/** Alert threads as the composition root sees them. */
export interface Alerts {
  /** The chat handler with `silence` / `unsilence` in front (the Silence buttons). */
  commands(inner: RequestHandler): RequestHandler;
  /**
   * Starts posting on this replica (webhooks and buttons are handled by every replica), and
   * registers the sweep that picks up what a crashed replica left in `loops` (the leader's; without
   * it, the sweep runs here). Without a poster, webhooks get 503.
   */
  start(poster: IncidentPoster | undefined, loops?: LoopRegistry): void;
  stop(): Promise<void>;
  /** For tests and the bench: the keeper once started. */
  readonly keeper: ThreadKeeper | undefined;
}

/**
 * Alertmanager in, one living thread per alert group out: registers `POST /alerts` on the
 * process's HTTP server and builds the thread keeper, enrichment and the silence commands.
 */
export function createAlerts(options: AlertsOptions): Alerts {
  const { config, store, logger: parent } = options;
  const settings = config.alerts;
  const logger = parent.child({ component: 'alerts' });
  const identities = new IdentityMap(config.identity);
  const replicaId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const received = options.registry
    ? new Counter({
        name: 'wheelhouse_alert_webhooks_total',
        help: 'Alertmanager webhooks received, by outcome',
        labelNames: ['outcome'] as const,
        registers: [options.registry],
      })
    : undefined;
  const enriched = options.registry
    ? new Histogram({
        name: 'wheelhouse_alert_enrichment_seconds',
        help: 'From receiving an alert group to its enrichment posted in the thread',
        buckets: [0.5, 1, 2, 3, 5, 7.5, 10, 15, 30, 60],
        registers: [options.registry],
      })
    : undefined;
  let keeper: ThreadKeeper | undefined;
  let own: LeaderLoops | undefined;

  const webhook = alertWebhookHandler({
    receive: (payload) => {
      if (keeper === undefined)
        return Promise.reject(new Error('alert threads are not started (no chat surface)'));
      return keeper.receive(payload);
    },
    auth: {
      token: settings.token,
      basic: settings.basicAuth,
      allowUnauthenticated: settings.allowUnauthenticated,
    },
    audit: store.audit,
    logger,
    newRequestId: randomUUID,
    redact: options.redact,
    observe: (outcome) => received?.inc({ outcome }),
  });
  options.http.route('POST', '/alerts', webhook, { maxBodyBytes: settings.maxBodyBytes });

  const silenceDurations = settings.silenceDurations;
  const clusterOf = alertClusters(options);
  const view = (id: string, state: IncidentState, now: Date) => {
    const shown = incidentView(state, {
      incidentId: id,
      alertmanagerUrl: settings.alertmanagerUrl,
      silenceDurations,
      investigate:
        options.investigate ??
        (options.config.llm.baseUrl && options.config.llm.model ? explainWorkload : undefined),
      now,
    });
    const cluster = clusterOf(state);
    if (!cluster.several) return shown;
    if (!cluster.served) return { ...shown, cluster: `${cluster.name} (not served here)` };
    const actions = shown.actions.map((a) => ({ ...a, command: withCluster(a.command, cluster.name) }));
    return { ...shown, cluster: cluster.name, actions };
  };

  return {
    get keeper() {
      return keeper;
    },
    commands(inner) {
      return withAlertCommands(inner, {
        runs: store.runs,
        silences: options.silences ?? alertmanagerSilences(),
        audit: store.audit,
        policy: config.policy,
        isMapped: (actor) => actor.surface !== 'slack' || identities.isMapped({ id: actor.id }),
        alertmanagerUrl: settings.alertmanagerUrl,
        kick: (id) => void keeper?.kick(id),
        logger,
        newRequestId: randomUUID,
      });
    },
    start(poster, loops) {
      if (poster === undefined) {
        logger.warn(
          'alerts are enabled but no chat surface can post them (set SLACK_BOT_TOKEN); POST /alerts answers 503',
        );
        return;
      }
      const bot = (state: IncidentState) => clusterOf(state).kube?.as(undefined);
      keeper = new ThreadKeeper({
        runs: store.runs,
        poster,
        routes: settings.routes,
        defaultChannel: settings.defaultChannel,
        logger,
        replicaId,
        newId: randomUUID,
        view,
        clock: options.clock,
        updateIntervalMs: (parseDurationSeconds(settings.updateInterval) ?? 10) * 1000,
        enrichmentConcurrency: settings.enrichmentConcurrency,
        resolveWorkload: async (state) => {
          const kube = bot(state);
          return kube ? resolveWorkload(kube, state) : null;
        },
        enrich: settings.enrichment
          ? async (_id, state) => {
              const kube = bot(state);
              // Another cluster's pods of the same name would mislead: say why there is nothing.
              if (!kube) return [notServed(clusterOf(state).name)];
              return [
                await enrichIncident(
                  {
                    kube,
                    metrics: clusterOf(state).metrics,
                    charts: options.charts,
                    redact: options.redact,
                    auditTail: (n) => store.audit.tail(n),
                    now: () => new Date(),
                  },
                  state,
                ),
              ];
            }
          : undefined,
        onEnriched: (seconds) => enriched?.observe(seconds),
      });
      const sweeping = keeper;
      own = loops === undefined ? ownLoops(logger) : undefined;
      (loops ?? own)?.add('alert-thread-sweep', () => sweepEvery(sweeping, options.clock, SWEEP_MS, logger));
      logger.info(
        { routes: settings.routes.length, defaultChannel: settings.defaultChannel },
        'alert threads started',
      );
    },
    async stop() {
      await own?.follow();
      await keeper?.stop();
    },
  };
}

/**
 * Which cluster an alert group is about: its cluster label among the served clusters, else the
 * bot's own. `served` is false when the label names a cluster this Wheelhouse does not serve.
 */
function alertClusters(options: AlertsOptions): (state: IncidentState) => {
  name: string;
  several: boolean;
  served: boolean;
  kube: KubeClient | undefined;
  metrics: MetricsSource | undefined;
} {
  const clusters = options.clusters ?? [];
  const home = clusters.find((c) => c.home);
  const own = { kube: options.kube, metrics: options.metrics };
  return (state) => {
    const named =
      state.commonLabels[options.config.alerts.clusterLabel] ??
      state.groupLabels[options.config.alerts.clusterLabel];
    if (clusters.length < 2) return { name: home?.name ?? '', several: false, served: true, ...own };
    const found = named === undefined ? home : clusters.find((c) => c.name === named);
    if (!found)
      return { name: named ?? '', several: true, served: false, kube: undefined, metrics: undefined };
    return { name: found.name, several: true, served: true, kube: found.kube, metrics: found.metrics };
  };
}

function notServed(cluster: string): SkillResult {
  return {
    summary: `This alert is about cluster ${cluster}, which this Wheelhouse does not serve: no pods, events, logs or buttons.`,
    tone: 'warning',
    sections: [],
  };
}

/** How often the leader looks for threads a crashed replica or a failed chat call left behind. */
const SWEEP_MS = 30_000;

/** The keeper's sweep, now and every `everyMs`, until stopped (then waits for the pass in flight). */
function sweepEvery(
  keeper: ThreadKeeper,
  clock: KeeperClock | undefined,
  everyMs: number,
  logger: Logger,
): BackgroundLoop {
  let stopped = false;
  let cancel: (() => void) | undefined;
  let pass: Promise<unknown> = Promise.resolve();
  const sweep = (): void => {
    if (stopped) return;
    pass = keeper.sweep().catch((err: unknown) => logger.warn({ err }, 'Alert thread sweep failed'));
    cancel = (clock ?? systemKeeperClock).schedule(sweep, everyMs);
  };
  sweep();
  return {
    async stop() {
      stopped = true;
      cancel?.();
      await pass;
    },
  };
}

/** With a model configured, Investigate runs the explain skill on the alert's workload in the thread. */
export function explainWorkload({ state }: { state: IncidentState }): string | undefined {
  const w = state.workload;
  return w ? `explain ${workloadArg(w)} -n ${w.namespace}` : undefined;
}
