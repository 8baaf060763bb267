import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { skills } from '../skills/index.ts';
import { createAlerts } from './alerts/start-alerts.ts';
import { createCanaries } from './canary/start-canaries.ts';
import { runConsole } from './chat/console/console-surface.ts';
import { createSlackCanaryReporter } from './chat/slack/slack-canary.ts';
import { createSlackDirectory, type SlackDirectory } from './chat/slack/slack-directory.ts';
import { createSlackIncidentPoster } from './chat/slack/slack-incidents.ts';
import { createSlackNotifier } from './chat/slack/slack-notifier.ts';
import { createSlackRunPoster } from './chat/slack/slack-pipelines.ts';
import { createSlackSurface, type SlackSurface } from './chat/slack/slack-surface.ts';
import { createClusterRouter, label } from './clusters/cluster-router.ts';
import { scopeStore } from './clusters/cluster-scope.ts';
import { type ClusterHandle, clusterSpecs, defaultClusterOf } from './clusters/cluster-specs.ts';
import type { Config } from './config/schema.ts';
import { type LoopRegistry, startLeadership } from './ha/leader-loops.ts';
import { createHttpServer } from './http/http-server.ts';
import { IdentityMap } from './identity/identity-map.ts';
import { ClientNodeKubeClient } from './kube/client-node-kube-client.ts';
import type { KubeIdentity } from './kube/types.ts';
import { createPipelines } from './pipelines/start-pipelines.ts';
import { plannerFromConfig } from './planner/planner-from-config.ts';
import { createRedactor } from './redact/redactor.ts';
import { logNotifier, startChangeUpkeep } from './runner/change-upkeep.ts';
import { createRunner, type RunnerDeps } from './runner/run-request.ts';
import type { RequestHandler } from './runner/types.ts';
import { SkillRegistry } from './skills/registry.ts';
import { parseDurationSeconds } from './skills/schema.ts';
import type { ChartRenderer, MetricsSource } from './sources/types.ts';
import { openStore } from './store/open-store.ts';
import type { Store } from './store/types.ts';
import { createMetrics, type WheelhouseMetrics } from './telemetry/metrics.ts';

/** The assembled bot: what surfaces need, and how to shut it down. */
export interface Wheelhouse {
  /** The front of the road: picks the cluster, then that cluster's runner. */
  runner: RequestHandler;
  /** Every cluster served, the bot's own first. */
  clusters: ClusterHandle[];
  /** The bot's own cluster's road (the background loops of single-cluster callers use it). */
  road: RunnerDeps;
  /** The bot's own cluster's client: its Lease, readiness. */
  kube: ClientNodeKubeClient;
  /** The whole store (each cluster's features get their scope of it). */
  store: Store;
  metrics: WheelhouseMetrics;
  /** What alert enrichment reads with (the same instances the runner uses). */
  sources: { metrics: MetricsSource | undefined; charts: ChartRenderer; redact: (text: string) => string };
  close(): Promise<void>;
}

/** The composition root: every dependency is built here and passed in; nothing reaches for one. */
export async function buildWheelhouse(
  config: Config,
  logger: Logger,
  chat: { groupMembers?: (usergroup: string) => Promise<string[]> } = {},
): Promise<Wheelhouse> {
  // The kube clients first: a bad kubeconfig fails before anything holds a connection open.
  const specs = clusterSpecs(config);
  const kubes = specs.map((spec) =>
    ClientNodeKubeClient.create({
      ...spec.kube,
      logger: logger.child({ component: 'kube', cluster: spec.name }),
    }),
  );
  const store = await openStore(config);
  // Each cache tries its first LIST and keeps retrying: an unreachable cluster holds up no other.
  await Promise.all(kubes.map((kube) => kube.start()));
  const es = config.elasticsearch;
  // Heavy clients load only when configured, and charts on first use: an idle bot that never
  // charts or searches logs does not pay for ECharts, resvg or the Elasticsearch client (bench).
  const prometheusAt = memoize(
    async (url: string) =>
      new (await import('./sources/prometheus-metrics-source.ts')).PrometheusMetricsSource({
        url,
        timeoutMs: config.prometheus.timeoutMs,
      }),
  );
  const logSearch = es.node
    ? new (await import('./sources/elasticsearch-log-search.ts')).ElasticsearchLogSearch({
        node: es.node,
        auth: es.apiKey
          ? { apiKey: es.apiKey }
          : es.username
            ? { username: es.username, password: es.password ?? '' }
            : undefined,
        indexPattern: es.indexPattern,
        layout: es.layout,
        fields: es.fields,
        timeoutMs: es.timeoutMs,
        maxRangeSeconds: parseDurationSeconds(es.maxRange),
      })
    : undefined;
  const metrics = createMetrics();
  const identities = new IdentityMap(config.identity);
  // Names this process as the holder of the verifications it follows.
  const owner = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  const upkeepMs = (parseDurationSeconds(config.changes.upkeepInterval) ?? 15) * 1000;
  const audit = config.audit.stdout ? teeAuditToStdout(store) : store.audit;
  const registry = new SkillRegistry(skills);
  const redact = createRedactor(config.redaction.patterns.map((p) => new RegExp(p, 'g')));
  const charts = lazyChartRenderer();
  const home = specs[0]?.name ?? config.kube.name;
  const clusters: ClusterHandle[] = [];
  for (const [i, spec] of specs.entries()) {
    const kube = kubes[i] as ClientNodeKubeClient;
    const scoped = scopeStore({ ...store, audit }, { name: spec.name, home, tag: specs.length > 1 });
    const metricsSource = spec.prometheusUrl ? await prometheusAt(spec.prometheusUrl) : undefined;
    const road: RunnerDeps = {
      registry,
      kube,
      metrics: metricsSource,
      logSearch,
      charts,
      redact,
      audit: scoped.audit,
      limits: {
        ...config.limits,
        maxMetricsRangeSeconds: parseDurationSeconds(config.limits.maxMetricsRange) ?? 7 * 86400,
      },
      requestTimeoutMs: config.limits.requestTimeoutMs,
      policy: spec.policy,
      changes: config.changes.enabled
        ? {
            writers: kube,
            approvals: scoped.approvals,
            approvalTtlMs: (parseDurationSeconds(config.changes.approvalTtl) ?? 1800) * 1000,
            autoRollback: config.changes.autoRollback,
            newId: () => randomUUID(),
            runs: scoped.runs,
            owner,
            verificationRetryMs: upkeepMs,
          }
        : undefined,
      isMapped: (actor) => actor.surface !== 'slack' || identities.isMapped({ id: actor.id }),
      recentWrites: (actor, since) => countRecentWrites(store, actor.id, since),
      logger: logger.child({ component: 'runner', cluster: spec.name }),
      observe: (reply) => metrics.observeReply(reply),
      ...plannerFromConfig(config.llm, {
        registry,
        redact,
        runs: scoped.runs,
        observe: (usage, outcome) => metrics.observeLlm(usage, outcome),
      }),
      groupMembers: chat.groupMembers,
    };
    const { name, channels } = spec;
    clusters.push({
      name,
      home: spec.home,
      channels,
      kube,
      metrics: metricsSource,
      store: scoped,
      road,
      runner: createRunner(road),
    });
  }
  const own = clusters[0] as ClusterHandle;
  metrics.watchClusters(clusters.map((c) => ({ name: c.name, ready: () => c.kube.ready() })));
  return {
    runner: routeClusters(config, clusters, { approvals: store.approvals, audit, logger }, (c) => c.runner),
    clusters,
    road: own.road,
    kube: own.kube,
    store,
    metrics,
    sources: { metrics: own.metrics, charts, redact },
    async close() {
      await Promise.allSettled([...kubes.map((k) => k.close()), logSearch?.close(), store.close()]);
    },
  };
}

/** The cluster router over each cluster's request chain (`chain` adds features in front of its runner). */
function routeClusters(
  config: Config,
  clusters: ClusterHandle[],
  shared: { approvals: Store['approvals']; audit: Store['audit']; logger: Logger },
  chain: (cluster: ClusterHandle) => RequestHandler,
): RequestHandler {
  return createClusterRouter({
    clusters: clusters.map((c) => ({
      name: c.name,
      channels: c.channels,
      handler: chain(c),
      status: () => ({ ...c.kube.describeTarget(), pending: c.kube.pending() }),
    })),
    defaultCluster: defaultClusterOf(config),
    home: clusters[0]?.name ?? config.kube.name,
    ...shared,
  });
}

/** One value per key, made once (two clusters on one Prometheus share its client). */
function memoize<T>(make: (key: string) => Promise<T>): (key: string) => Promise<T> {
  const made = new Map<string, Promise<T>>();
  return (key) => {
    const value = made.get(key) ?? make(key);
    made.set(key, value);
    return value;
  };
}

/** The ECharts renderer, imported the first time a chart is drawn. */
function lazyChartRenderer(): ChartRenderer {
  let renderer: Promise<ChartRenderer> | undefined;
  return {
    async renderLineChart(spec) {
      renderer ??= import('./render/echarts-chart-renderer.ts').then((m) => new m.EChartsChartRenderer());
      return (await renderer).renderLineChart(spec);
    },
  };
}

/**
 * Changes applied by this user since `since`, for the policy's rate limit. Scans the newest
 * records: writes are rare, and the window is short.
 */
async function countRecentWrites(store: Store, actorId: string, since: Date): Promise<number> {
  const records = await store.audit.tail(2000);
  return records.filter(
    (r) => r.type === 'change.apply' && r.actor.id === actorId && Date.parse(r.time) >= since.getTime(),
  ).length;
}

function teeAuditToStdout(store: Store): Store['audit'] {
  return {
    ...store.audit,
    tail: (n) => store.audit.tail(n),
    all: (size) => store.audit.all(size),
    async append(entry) {
      const record = await store.audit.append(entry);
      process.stdout.write(`${JSON.stringify({ audit: record })}\n`);
      return record;
    },
  };
}

/** `wheelhouse console`: the terminal chat. Logs go to a file so they do not mix with answers. */
export async function runConsoleCommand(
  config: Config,
  who: { osUser: string; kube: KubeIdentity | undefined },
): Promise<number> {
  const logger = pino(
    { level: config.logLevel },
    pino.destination({ dest: join(config.dataDir, 'console.log'), mkdir: true, sync: false }),
  );
  const app = await buildWheelhouse(config, logger);
  const target = app.kube.describeTarget();
  const others = app.clusters.filter((c) => !c.home).map((c) => c.name);
  const acting = who.kube
    ? `as ${who.kube.user}${who.kube.groups.length ? ` (${who.kube.groups.join(', ')})` : ''}`
    : 'as your kubeconfig user';
  const pending = app.kube.pending();
  try {
    await runConsole({
      handler: app.runner,
      actor: { surface: 'console', id: who.osUser, name: who.osUser, kube: who.kube },
      input: process.stdin,
      output: process.stdout,
      filesDir: join(config.dataDir, 'files'),
      color: process.stdout.isTTY === true,
      switchUser: (name) => {
        const user = new IdentityMap(config.identity).find(name);
        return user && { surface: 'console', id: user.id, name: user.kube.user, kube: user.kube };
      },
      banner: [
        `Wheelhouse console — cluster ${target.server} (context ${target.context}), acting ${acting}.`,
        others.length
          ? `Also serving ${others.join(', ')}: add --cluster NAME to a command; \`clusters\` lists them (default ${defaultClusterOf(config)}).`
          : '',
        pending.length
          ? `Not reachable yet: ${pending.map((p) => p.resource).join(', ')} (${pending[0]?.error ?? 'retrying'}).`
          : '',
        `Metrics: ${config.prometheus.url ?? 'not configured (WH_PROMETHEUS_URL)'}; log search: ${config.elasticsearch.node ?? 'not configured (WH_ES_NODE)'}.`,
      ]
        .filter(Boolean)
        .join('\n'),
    });
    return 0;
  } finally {
    await app.close();
    logger.flush();
  }
}

/** A running server: where it listens, and how to stop it gracefully. */
export interface RunningServer {
  url: string;
  app: Wheelhouse;
  stop(): Promise<void>;
}

/** Starts the HTTP endpoints and, with a bot token, the Slack surface. */
export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  let directory: SlackDirectory | undefined;
  const app = await buildWheelhouse(config, logger, {
    groupMembers: async (group) => (directory ? directory.usergroupMembers(group) : []),
  });
  const http = createHttpServer({
    host: config.http.host,
    port: config.http.port,
    logger,
    maxBodyBytes: config.http.maxBodyBytes,
    metricsRegistry: app.metrics.registry,
    readiness: async () => [
      ...cacheChecks(app.clusters),
      await app.store.ping().then(
        () => ({ name: 'store', ok: true }),
        (e: unknown) => ({ name: 'store', ok: false, detail: String(e) }),
      ),
    ],
  });
  const { store, sources } = app;
  const several = app.clusters.length > 1;
  const alerts = config.alerts.enabled
    ? createAlerts({
        config,
        http,
        store,
        kube: app.kube,
        ...sources,
        clusters: several ? app.clusters : undefined,
        registry: app.metrics.registry,
        logger,
      })
    : undefined;
  // Canaries and pipelines per cluster: each steps its own runs with its own client and policy.
  const features = new Map(
    app.clusters.map((cluster) => {
      const scoped = { ...config, policy: cluster.road.policy ?? config.policy };
      const log = several ? logger.child({ cluster: cluster.name }) : logger;
      const { road, kube } = cluster;
      const canaries = createCanaries({ config: scoped, road, store: cluster.store, kube, logger: log });
      const pipelines = createPipelines({ config: scoped, store: cluster.store, kube, road, logger: log });
      return [cluster.name, { cluster, canaries, pipelines }] as const;
    }),
  );
  const handler = routeClusters(
    config,
    app.clusters,
    { approvals: store.approvals, audit: store.audit, logger },
    (c) => {
      const { canaries, pipelines } = features.get(c.name) as NonNullable<ReturnType<typeof features.get>>;
      return pipelines.commands(canaries.commands(alerts?.commands(c.runner) ?? c.runner));
    },
  );
  let slack: SlackSurface | undefined;
  if (config.slack.botToken) {
    const identities = new IdentityMap(config.identity);
    const emails = new Map<string, string | undefined>();
    slack = createSlackSurface({
      mode: config.slack.mode,
      botToken: config.slack.botToken,
      appToken: config.slack.appToken,
      signingSecret: config.slack.signingSecret,
      apiUrl: config.slack.apiUrl,
      client: { timeoutMs: config.slack.requestTimeoutMs },
      handler,
      resolveIdentity: async (id) =>
        identities.resolve({ id, email: await emailOf(slack, id, identities, emails) }),
      idempotency: app.store.idempotency,
      logger,
      httpServer: http,
      metrics: app.metrics,
      maxBodyBytes: config.http.maxBodyBytes,
      approvalsChannel: config.changes.approvalsChannel,
    });
    directory = createSlackDirectory(slack.client);
  } else {
    logger.warn('no SLACK_BOT_TOKEN: serving HTTP only (/healthz, /readyz, /metrics)');
  }
  // Background loops run on one process: this one, or with ha.leaderElection the Lease holder.
  const leadership = startLeadership({
    config: config.ha.leaderElection,
    kube: app.kube,
    logger: logger.child({ component: 'leader-election' }),
    requestTimeoutMs: config.kube.requestTimeoutMs,
  });
  const notifier = slack
    ? createSlackNotifier({ client: slack.client, logger, copyTo: config.changes.approvalsChannel })
    : logNotifier(logger);
  const named = (cluster: string) => (several ? cluster : undefined);
  leadership.loops.add('change-upkeep', () =>
    startChangeUpkeep({
      roads: app.clusters.map((c) => ({ road: c.road, notifier: label.notifier(notifier, named(c.name)) })),
      approvals: store.approvals,
      notifier: label.notifier(notifier),
      logger,
      remindBeforeMs: (parseDurationSeconds(config.changes.approvalReminder) ?? 300) * 1000,
      intervalMs: (parseDurationSeconds(config.changes.upkeepInterval) ?? 15) * 1000,
    }),
  );
  // Each feature handles its requests here and registers its stepping/sweeping with the leader's loops.
  alerts?.start(slack && createSlackIncidentPoster({ client: slack.client, logger }), leadership.loops);
  for (const { cluster, canaries, pipelines } of features.values()) {
    const name = named(cluster.name);
    // Another cluster's loops are named after it (`canary-stepping@prod`).
    const loops: LoopRegistry = cluster.home
      ? leadership.loops
      : { add: (loop, start) => leadership.loops.add(`${loop}@${cluster.name}`, start) };
    const reporter = slack && createSlackCanaryReporter({ client: slack.client, logger });
    const poster = slack && createSlackRunPoster({ client: slack.client, logger });
    canaries.start(reporter && name ? label.reporter(reporter, name) : reporter, loops);
    pipelines.start(poster && name ? label.poster(poster, name) : poster, loops);
  }
  const address = await http.listen();
  await slack?.start();
  logger.info(
    {
      url: address.url,
      slack: slack ? config.slack.mode : 'off',
      store: app.store.kind,
      clusters: app.clusters.map((c) => c.name),
    },
    'wheelhouse is serving',
  );
  return {
    url: address.url,
    app,
    async stop() {
      // Stop taking new work first, then finish what is in flight, then release resources.
      await slack?.stop();
      await leadership.stop(); // the loops stop, then the Lease is released for the next leader
      await http.close();
      for (const { canaries, pipelines } of features.values())
        await Promise.all([canaries.stop(), pipelines.stop()]);
      await alerts?.stop();
      await app.close();
    },
  };
}

/**
 * Readiness waits for the bot's own cluster only: another cluster that cannot be reached degrades
 * its own answers (and `wheelhouse_cluster_ready`), never the whole bot.
 */
function cacheChecks(
  clusters: readonly ClusterHandle[],
): Array<{ name: string; ok: boolean; detail?: string }> {
  return clusters.map((c) => {
    const pending = c.kube.pending().map((p) => p.resource);
    return {
      name: c.home ? 'kube-caches' : `kube-caches@${c.name}`,
      ok: c.home ? pending.length === 0 : true,
      detail: pending.length ? `not synced: ${pending.join(', ')}` : '',
    };
  });
}

/** `wheelhouse serve`: Slack plus the HTTP endpoints, until SIGTERM or SIGINT. */
export async function runServeCommand(config: Config): Promise<number> {
  const logger = pino({ level: config.logLevel, base: { app: 'wheelhouse' } });
  const server = await startServer(config, logger);
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  logger.info({ signal }, 'shutting down');
  await server.stop();
  logger.flush();
  return 0;
}

/** Looks up a Slack user's email only when some identity rule maps by email; remembered per user. */
async function emailOf(
  slack: SlackSurface | undefined,
  id: string,
  identities: IdentityMap,
  emails: Map<string, string | undefined>,
): Promise<string | undefined> {
  if (!slack || !identities.usesEmail() || emails.has(id)) return emails.get(id);
  const info = await slack.client.users.info({ user: id }).catch(() => undefined);
  const email = info?.user?.profile?.email;
  emails.set(id, email);
  return email;
}
