import { z } from 'zod';
import { policySchema } from '../policy/policy-schema.ts';

/** A cluster's name as chat says it (`--cluster prod`): a DNS label, so it reads the same everywhere. */
export const clusterName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$/, 'must be a short DNS label such as "prod" or "eu-west-1"');

/** Slack channel ids whose requests go to a cluster when they do not say `--cluster`. */
export const clusterChannels = z
  .array(z.string().regex(/^[CG][A-Z0-9]+$/, 'must be a Slack channel id like C0123ABCD'))
  .default([]);

/**
 * Another cluster this Wheelhouse serves, besides its own (`kube`). Credentials come from a
 * kubeconfig (a mounted Secret in a pod); the bot's own cluster is the one it may run in.
 */
export const remoteClusterSchema = z
  .strictObject({
    name: clusterName,
    /** Kubeconfig file with credentials for this cluster. @default the `kube.kubeconfig` file */
    kubeconfig: z.string().min(1).optional(),
    /** Context in that kubeconfig. @default its current-context */
    context: z.string().min(1).optional(),
    channels: clusterChannels,
    /** This cluster's Prometheus. @default `prometheus.url` */
    prometheusUrl: z.url().optional(),
    /** This cluster's policy, replacing the top-level `policy` for requests on it. */
    policy: policySchema.optional(),
  })
  .refine((c) => c.kubeconfig !== undefined || c.context !== undefined, {
    message: 'needs a kubeconfig or a context, or it would be the same cluster as `kube`',
    path: ['kubeconfig'],
  });

export type RemoteClusterConfig = z.output<typeof remoteClusterSchema>;

/** The checks across clusters that one entry cannot make: unique names, one cluster per channel. */
export function checkClusters(
  config: {
    kube: { name: string; channels: string[] };
    clusters: RemoteClusterConfig[];
    defaultCluster?: string | undefined;
  },
  ctx: z.RefinementCtx,
): void {
  const names = [config.kube.name, ...config.clusters.map((c) => c.name)];
  const channelOwner = new Map<string, string>();
  const all = [{ name: config.kube.name, channels: config.kube.channels }, ...config.clusters];
  all.forEach((cluster, i) => {
    const path = i === 0 ? ['kube', 'name'] : ['clusters', i - 1, 'name'];
    if (names.indexOf(cluster.name) !== i) {
      ctx.addIssue({ code: 'custom', path, message: `cluster name "${cluster.name}" is used twice` });
    }
    for (const channel of cluster.channels) {
      const owner = channelOwner.get(channel);
      if (owner !== undefined && owner !== cluster.name) {
        ctx.addIssue({
          code: 'custom',
          path: i === 0 ? ['kube', 'channels'] : ['clusters', i - 1, 'channels'],
          message: `channel ${channel} already defaults to cluster "${owner}"`,
        });
      }
      channelOwner.set(channel, cluster.name);
    }
  });
  if (config.defaultCluster !== undefined && !names.includes(config.defaultCluster)) {
    ctx.addIssue({
      code: 'custom',
      path: ['defaultCluster'],
      message: `names no configured cluster; known: ${[...new Set(names)].join(', ')}`,
    });
  }
}
