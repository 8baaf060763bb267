import { describe, expect, it } from 'vitest';
import { e2e } from './e2e-env.ts';
import { kubectlWith } from './kubectl.ts';

/**
 * The harness's second control plane (e2e.sh, seed-second.sh), for the multi-cluster tests: its own
 * API server, the same identities, and workloads that tell it apart from the main cluster.
 */
const clusters = {
  main: () => e2e.kubeconfig,
  second: () => e2e.secondKubeconfig,
};
const admin = (kubeconfig: string, ...args: string[]) => kubectlWith(kubeconfig, 'admin', ...args);

describe('second e2e cluster', () => {
  it('has its own API server, and both answer', async () => {
    const server = (kubeconfig: string) =>
      admin(kubeconfig, 'config', 'view', '--minify', '-o=jsonpath={.clusters[0].cluster.server}');
    expect(await server(clusters.second())).toBe(e2e.secondApiUrl);
    expect(await server(clusters.main())).not.toBe(e2e.secondApiUrl);
    for (const kubeconfig of [clusters.main(), clusters.second()]) {
      expect(await admin(kubeconfig, 'get', '--raw', '/readyz')).toBe('ok');
    }
  });

  it('tells the clusters apart: shop/edge-only only on the second, shop/checkout 3 vs 1 replicas', async () => {
    const readyReplicas = (kubeconfig: string, name: string) =>
      admin(kubeconfig, '-n', 'shop', 'get', 'deploy', name, '-o=jsonpath={.status.readyReplicas}');
    expect(await readyReplicas(clusters.second(), 'edge-only')).toBe('2');
    await expect(readyReplicas(clusters.main(), 'edge-only')).rejects.toThrow(/NotFound|not found/);
    expect(await readyReplicas(clusters.main(), 'checkout')).toBe('3');
    expect(await readyReplicas(clusters.second(), 'checkout')).toBe('1');
  });

  it('lets the wheelhouse identity list pods in shop on both', async () => {
    const pods = async (kubeconfig: string) =>
      (await kubectlWith(kubeconfig, 'wheelhouse', '-n', 'shop', 'get', 'pods', '-o', 'name')).split('\n');
    const onMain = await pods(clusters.main());
    const onSecond = await pods(clusters.second());
    expect(onMain.some((p) => p.startsWith('pod/checkout-'))).toBe(true);
    expect(onMain.some((p) => p.startsWith('pod/edge-only-'))).toBe(false);
    expect(onSecond.filter((p) => p.startsWith('pod/checkout-'))).toHaveLength(1);
    expect(onSecond.filter((p) => p.startsWith('pod/edge-only-'))).toHaveLength(2);
  });
});
