import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { createAlerts } from './alerts/start-alerts.ts';
import { createCanaries } from './canary/start-canaries.ts';
import { runConsole } from './chat/console/console-surface.ts';
import { createSlackCanaryReporter } from './chat/slack/slack-canary.ts';
import { createSlackDirectory, type SlackDirectory } from './chat/slack/slack-directory.ts';
import { createSlackIncidentPoster } from './chat/slack/slack-incidents.ts';
import { createSlackNotifier } from './chat/slack/slack-notifier.ts';
import { createSlackRunPoster } from './chat/slack/slack-pipelines.ts';
import { createSlackSurface, type SlackSurface } from './chat/slack/slack-surface.ts';
import { label } from './clusters/cluster-router.ts';
import { type ClusterHandle, defaultClusterOf } from './clusters/cluster-specs.ts';
import type { Config } from './config/schema.ts';
import { type LoopRegistry, startLeadership } from './ha/leader-loops.ts';
import { createHttpServer } from './http/http-server.ts';
import { IdentityMap } from './identity/identity-map.ts';
import type { KubeIdentity } from './kube/types.ts';
import { createPipelines } from './pipelines/start-pipelines.ts';
import { logNotifier, startChangeUpkeep } from './runner/change-upkeep.ts';
import { parseDurationSeconds } from './skills/schema.ts';
import { buildWheelhouse, routeClusters, type Wheelhouse } from './wheelhouse.ts';

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
    { approvals: store.approvals, audit: app.audit, logger },
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
