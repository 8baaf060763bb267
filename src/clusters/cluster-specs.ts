import type { Config } from '../config/schema.ts';
import type { ClientNodeKubeClient, ClientNodeKubeClientOptions } from '../kube/client-node-kube-client.ts';
import type { Policy } from '../policy/policy-schema.ts';
import type { RunnerDeps } from '../runner/run-request.ts';
import type { RequestHandler } from '../runner/types.ts';
import type { MetricsSource } from '../sources/types.ts';
import type { Store } from '../store/types.ts';

/** One cluster as config names it: how to reach it and what applies on it. */
export interface ClusterSpec {
  name: string;
  /** The bot's own cluster (`kube`): its Lease, and what was stored before clusters had names. */
  home: boolean;
  channels: string[];
  policy: Policy;
  prometheusUrl: string | undefined;
  kube: ClientNodeKubeClientOptions;
}

/** A cluster, built: its client and caches, its road, and its share of the store. */
export interface ClusterHandle {
  name: string;
  home: boolean;
  channels: string[];
  kube: ClientNodeKubeClient;
  /** Prometheus for this cluster, if any. */
  metrics: MetricsSource | undefined;
  /** The store as this cluster's features see it (src/clusters/cluster-scope.ts). */
  store: Store;
  road: RunnerDeps;
  runner: RequestHandler;
}

/** The bot's own cluster first, then the others in config order. */
export function clusterSpecs(config: Config): ClusterSpec[] {
  const { kube } = config;
  const limits = { qps: kube.qps, burst: kube.burst, requestTimeoutMs: kube.requestTimeoutMs };
  return [
    {
      name: kube.name,
      home: true,
      channels: kube.channels,
      policy: config.policy,
      prometheusUrl: config.prometheus.url,
      kube: {
        inCluster: kube.inCluster === 'always',
        kubeconfigPath: kube.kubeconfig,
        context: kube.context,
        ...limits,
      },
    },
    ...config.clusters.map((c) => ({
      name: c.name,
      home: false,
      channels: c.channels,
      policy: c.policy ?? config.policy,
      prometheusUrl: c.prometheusUrl ?? config.prometheus.url,
      kube: { kubeconfigPath: c.kubeconfig, context: c.context, ...limits },
    })),
  ];
}

/** Where a request goes when it names no cluster and its channel has none. */
export function defaultClusterOf(config: Pick<Config, 'kube' | 'defaultCluster'>): string {
  return config.defaultCluster ?? config.kube.name;
}
