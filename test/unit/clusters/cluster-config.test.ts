import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clusterSpecs, defaultClusterOf } from '../../../src/clusters/cluster-specs.ts';
import { ConfigError, loadConfig } from '../../../src/config/load-config.ts';

function load(yaml: string, env: Record<string, string> = {}) {
  const path = join(mkdtempSync(join(tmpdir(), 'wh-clusters-')), 'wheelhouse.yaml');
  writeFileSync(path, yaml);
  return loadConfig({ env: { HOME: '/home/ops', ...env }, configPath: path }).config;
}

function problems(yaml: string): string[] {
  try {
    load(yaml);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => `${p.path}: ${p.message}`);
    throw e;
  }
  throw new Error('loaded without problems');
}

describe('clusters in config', () => {
  it('serves one cluster named "default" when none are configured', () => {
    const config = load('logLevel: info\n');
    expect(clusterSpecs(config).map((s) => [s.name, s.home])).toEqual([['default', true]]);
    expect(defaultClusterOf(config)).toBe('default');
  });

  it('adds named clusters with their own channels, policy and Prometheus; others share the kube file', () => {
    const config = load(
      [
        'kube: { kubeconfig: /etc/kube/config, name: mgmt, channels: [C0MGMT] }',
        'prometheus: { url: "http://prom.mgmt:9090" }',
        'policy: { protectedNamespaces: [payments] }',
        'clusters:',
        '  - { name: prod, context: prod-admin, channels: [C0PROD], prometheusUrl: "http://prom.prod:9090",',
        '      policy: { defaults: { write: deny } } }',
        '  - { name: edge, kubeconfig: ~/edge.kubeconfig }',
        'defaultCluster: prod',
      ].join('\n'),
    );
    const specs = clusterSpecs(config);
    expect(
      specs.map((s) => [s.name, s.home, s.kube.kubeconfigPath, s.kube.context, s.prometheusUrl]),
    ).toEqual([
      ['mgmt', true, '/etc/kube/config', undefined, 'http://prom.mgmt:9090'],
      ['prod', false, '/etc/kube/config', 'prod-admin', 'http://prom.prod:9090'],
      ['edge', false, expect.stringMatching(/\/edge\.kubeconfig$/), undefined, 'http://prom.mgmt:9090'],
    ]);
    expect(specs[1]?.policy.defaults.write).toBe('deny');
    // Without its own policy a cluster takes the top-level one.
    expect(specs[2]?.policy.protectedNamespaces).toContain('payments');
    expect(specs[0]?.channels).toEqual(['C0MGMT']);
    expect(defaultClusterOf(config)).toBe('prod');
  });

  it('takes the cluster name and the default cluster from the environment', () => {
    const config = load('clusters: [{ name: prod, context: prod }]\n', {
      WH_CLUSTER_NAME: 'mgmt',
      WH_DEFAULT_CLUSTER: 'prod',
    });
    expect(clusterSpecs(config).map((s) => s.name)).toEqual(['mgmt', 'prod']);
    expect(defaultClusterOf(config)).toBe('prod');
  });

  it('refuses a name used twice, a channel given to two clusters and an unknown default', () => {
    expect(
      problems(
        [
          'kube: { name: prod, channels: [C0ONE] }',
          'clusters:',
          '  - { name: prod, context: other }',
          '  - { name: edge, context: edge, channels: [C0ONE] }',
          'defaultCluster: stage',
        ].join('\n'),
      ),
    ).toEqual([
      'clusters.0.name: cluster name "prod" is used twice',
      'clusters.1.channels: channel C0ONE already defaults to cluster "prod"',
      'defaultCluster: names no configured cluster; known: prod, edge',
    ]);
  });

  it('refuses a cluster without credentials, a bad name and unknown keys', () => {
    expect(problems('clusters: [{ name: prod }]\n')).toEqual([
      'clusters.0.kubeconfig: needs a kubeconfig or a context, or it would be the same cluster as `kube`',
    ]);
    expect(problems('clusters: [{ name: Prod_1, context: x }]\n')[0]).toMatch(
      /^clusters\.0\.name: must be a short DNS label/,
    );
    expect(problems('clusters: [{ name: prod, context: x, token: abc }]\n')[0]).toMatch(
      /^clusters\.0: .*token/,
    );
  });
});
