import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { skills } from '../skills/index.ts';
import { createClusterRouter } from './clusters/cluster-router.ts';
import { scopeStore } from './clusters/cluster-scope.ts';
import { type ClusterHandle, clusterSpecs, defaultClusterOf } from './clusters/cluster-specs.ts';
import type { Config } from './config/schema.ts';
import { IdentityMap } from './identity/identity-map.ts';
import { ClientNodeKubeClient } from './kube/client-node-kube-client.ts';
import { plannerFromConfig } from './planner/planner-from-config.ts';
import { createRedactor } from './redact/redactor.ts';
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
  /** The store's audit log, also printed to stdout with `audit.stdout`: what requests outside a cluster write to. */
  audit: Store['audit'];
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
    audit,
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
export function routeClusters(
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
