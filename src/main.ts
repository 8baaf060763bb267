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
import type { Config } from './config/schema.ts';
import { startLeadership } from './ha/leader-loops.ts';
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
  runner: RequestHandler;
  /** What the runner was built from, for the background loops that act outside a request. */
  road: RunnerDeps;
  kube: ClientNodeKubeClient;
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
  // The kube client first: a bad kubeconfig fails before anything holds a connection open.
  const kube = ClientNodeKubeClient.create({
    inCluster: config.kube.inCluster === 'always',
    kubeconfigPath: config.kube.kubeconfig,
    context: config.kube.context,
    qps: config.kube.qps,
    burst: config.kube.burst,
    requestTimeoutMs: config.kube.requestTimeoutMs,
    logger: logger.child({ component: 'kube' }),
  });
  const store = await openStore(config);
  await kube.start();
  const { prometheus: prom, elasticsearch: es } = config;
  // Heavy clients load only when configured, and charts on first use: an idle bot that never
  // charts or searches logs does not pay for ECharts, resvg or the Elasticsearch client (bench).
  const metricsSource = prom.url
    ? new (await import('./sources/prometheus-metrics-source.ts')).PrometheusMetricsSource({
        url: prom.url,
        timeoutMs: prom.timeoutMs,
      })
    : undefined;
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
  const road: RunnerDeps = {
    registry,
    kube,
    metrics: metricsSource,
    logSearch,
    charts,
    redact,
    audit,
    limits: {
      ...config.limits,
      maxMetricsRangeSeconds: parseDurationSeconds(config.limits.maxMetricsRange) ?? 7 * 86400,
    },
    requestTimeoutMs: config.limits.requestTimeoutMs,
    policy: config.policy,
    changes: config.changes.enabled
      ? {
          writers: kube,
          approvals: store.approvals,
          approvalTtlMs: (parseDurationSeconds(config.changes.approvalTtl) ?? 1800) * 1000,
          autoRollback: config.changes.autoRollback,
          newId: () => randomUUID(),
          runs: store.runs,
          owner,
          verificationRetryMs: upkeepMs,
        }
      : undefined,
    isMapped: (actor) => actor.surface !== 'slack' || identities.isMapped({ id: actor.id }),
    recentWrites: (actor, since) => countRecentWrites(store, actor.id, since),
    logger: logger.child({ component: 'runner' }),
    observe: (reply) => metrics.observeReply(reply),
    ...plannerFromConfig(config.llm, {
      registry,
      redact,
      runs: store.runs,
      observe: (usage, outcome) => metrics.observeLlm(usage, outcome),
    }),
    groupMembers: chat.groupMembers,
  };
  const runner = createRunner(road);
  return {
    runner,
    road,
    kube,
    store,
    metrics,
    sources: { metrics: metricsSource, charts, redact },
    async close() {
      await Promise.allSettled([kube.close(), logSearch?.close(), store.close()]);
    },
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
      {
        name: 'kube-caches',
        ok: app.kube.ready(),
        detail: app.kube
          .pending()
          .map((p) => p.resource)
          .join(', '),
      },
      await app.store.ping().then(
        () => ({ name: 'store', ok: true }),
        (e: unknown) => ({ name: 'store', ok: false, detail: String(e) }),
      ),
    ],
  });
  const { store, kube, sources } = app;
  const alerts = config.alerts.enabled
    ? createAlerts({ config, http, store, kube, ...sources, registry: app.metrics.registry, logger })
    : undefined;
  const canaries = createCanaries({ config, road: app.road, store, kube, logger });
  const pipelines = createPipelines({ config, store, kube, road: app.road, logger });
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
      handler: pipelines.commands(canaries.commands(alerts?.commands(app.runner) ?? app.runner)),
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
    kube,
    logger: logger.child({ component: 'leader-election' }),
    requestTimeoutMs: config.kube.requestTimeoutMs,
  });
  leadership.loops.add('change-upkeep', () =>
    startChangeUpkeep({
      runner: app.road,
      notifier: slack
        ? createSlackNotifier({ client: slack.client, logger, copyTo: config.changes.approvalsChannel })
        : logNotifier(logger),
      logger,
      remindBeforeMs: (parseDurationSeconds(config.changes.approvalReminder) ?? 300) * 1000,
      intervalMs: (parseDurationSeconds(config.changes.upkeepInterval) ?? 15) * 1000,
    }),
  );
  // Each feature handles its requests here and registers its stepping/sweeping with the leader's loops.
  alerts?.start(slack && createSlackIncidentPoster({ client: slack.client, logger }), leadership.loops);
  canaries.start(slack && createSlackCanaryReporter({ client: slack.client, logger }), leadership.loops);
  pipelines.start(slack && createSlackRunPoster({ client: slack.client, logger }), leadership.loops);
  const address = await http.listen();
  await slack?.start();
  logger.info(
    { url: address.url, slack: slack ? config.slack.mode : 'off', store: app.store.kind },
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
      await canaries.stop();
      await pipelines.stop();
      await alerts?.stop();
      await app.close();
    },
  };
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
