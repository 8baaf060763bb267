import type { AdminApi } from './admin-api.ts';
import {
  BENCH_LABEL,
  namespace,
  namespaceName,
  node,
  nodeName,
  pod,
  RBAC_NAMES,
  rbac,
  scenarioOf,
} from './fixtures.ts';
import { log, mapLimit, ms, sleep } from './stats.ts';

/** Creating and removing the bench's objects on the shared cluster. */

export interface CreationReport {
  namespaces: number;
  pods: number;
  unhealthyPods: number;
  /** Namespaces created and their `default` service account present (pods need it). */
  namespacesMs: number;
  /** All pod POSTs answered. */
  createMs: number;
  podsPerSecond: number;
  /** From the first pod POST until every pod reached its state (Running, or its failure stage). */
  settledMs: number;
  /** Pods still without their state when the wait ended (0 when it completed). */
  unsettled: number;
  complete: boolean;
}

export async function createNodes(api: AdminApi, count: number, podCapacity: number, kubeletVersion: string) {
  await mapLimit(
    Array.from({ length: count }, (_, i) => i),
    count,
    (i) => api.create('/api/v1/nodes', node(i, podCapacity, kubeletVersion)),
  );
  const deadline = Date.now() + 60_000;
  for (;;) {
    const list = await api.json<{
      items: Array<{ status?: { conditions?: Array<{ type: string; status: string }> } }>;
    }>('GET', `/api/v1/nodes?labelSelector=${encodeURIComponent(`${BENCH_LABEL}=true`)}`);
    const ready = list.items.filter((n) =>
      n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    );
    if (ready.length >= count) return;
    if (Date.now() > deadline)
      throw new Error(`only ${ready.length}/${count} bench nodes became Ready (is kwok running?)`);
    await sleep(500);
  }
}

export async function createRbac(api: AdminApi, impersonatedUsers: readonly string[]): Promise<void> {
  for (const { path, object } of rbac(impersonatedUsers)) {
    const name = (object as { metadata: { name: string } }).metadata.name;
    // Replace, so a leftover from an interrupted run with other user names cannot linger.
    await api.remove(`${path}/${name}`);
    await api.create(path, object);
  }
}

/**
 * Creates namespaces [from, to) with `perNamespace` pods each, bound round-robin to the bench nodes,
 * then waits (at most `settleTimeoutMs`) for kwok to give every pod its status.
 */
export async function createPods(
  api: AdminApi,
  options: {
    from: number;
    to: number;
    perNamespace: number;
    nodeCount: number;
    concurrency: number;
    settleTimeoutMs: number;
  },
): Promise<CreationReport> {
  const { from, to, perNamespace } = options;
  const indexes = Array.from({ length: to - from }, (_, i) => from + i);
  const t0 = performance.now();
  await mapLimit(indexes, 16, (i) => api.create('/api/v1/namespaces', namespace(i)));
  // The service account controller creates `default` in each namespace; pod admission needs it.
  for (const i of indexes) {
    const deadline = Date.now() + 60_000;
    while (
      (await api.request('GET', `/api/v1/namespaces/${namespaceName(i)}/serviceaccounts/default`)).status !==
      200
    ) {
      if (Date.now() > deadline) throw new Error(`no default service account in ${namespaceName(i)}`);
      await sleep(100);
    }
  }
  const namespacesMs = ms(t0);

  const jobs: Array<[number, number]> = [];
  // Interleave namespaces so kwok and the watches see load everywhere at once, as in a real cluster.
  for (let p = 0; p < perNamespace; p++) for (const i of indexes) jobs.push([i, p]);
  const t1 = performance.now();
  let done = 0;
  const progress = setInterval(() => log(`  created ${done}/${jobs.length} pods`), 10_000);
  try {
    await mapLimit(jobs, options.concurrency, async ([i, p]) => {
      await api.create(`/api/v1/namespaces/${namespaceName(i)}/pods`, pod(i, p, options.nodeCount));
      done++;
    });
  } finally {
    clearInterval(progress);
  }
  const createMs = ms(t1);
  const unhealthyPods = jobs.filter(([i, p]) => scenarioOf(i, p) !== undefined).length;
  log(
    `  ${jobs.length} pods created in ${(createMs / 1000).toFixed(1)} s; waiting for kwok to give them a status`,
  );

  const settle = await waitSettled(api, indexes, options.settleTimeoutMs, t1);
  return {
    namespaces: indexes.length,
    pods: jobs.length,
    unhealthyPods,
    namespacesMs,
    createMs,
    podsPerSecond: Math.round((jobs.length / createMs) * 1000),
    settledMs: settle.ms,
    unsettled: settle.unsettled,
    complete: settle.unsettled === 0,
  };
}

/**
 * Waits until no pod of these namespaces lacks its status: every pod but the ImagePullBackOff ones
 * must be phase Running (CrashLoopBackOff and OOMKilled pods are Running too), and those must show
 * their waiting reason. Polls metadata-only lists so the wait itself stays cheap.
 */
async function waitSettled(
  api: AdminApi,
  indexes: readonly number[],
  timeoutMs: number,
  since: number,
): Promise<{ ms: number; unsettled: number }> {
  const wanted = new Set(indexes.map(namespaceName));
  const notRunning = `/api/v1/pods?labelSelector=${encodeURIComponent(
    `${BENCH_LABEL}=true,wheelhouse.test/scenario!=imagepullbackoff`,
  )}&fieldSelector=${encodeURIComponent('status.phase!=Running')}`;
  const pulls = `/api/v1/pods?labelSelector=${encodeURIComponent(
    `${BENCH_LABEL}=true,wheelhouse.test/scenario=imagepullbackoff`,
  )}`;
  const deadline = Date.now() + timeoutMs;
  let unsettled = Number.POSITIVE_INFINITY;
  let lastLog = 0;
  for (;;) {
    const pending = (await api.names(notRunning)).filter((n) => wanted.has(n.split('/')[0] ?? '')).length;
    const pullList = await api.json<{
      items: Array<{ metadata: { namespace: string }; status?: { containerStatuses?: unknown[] } }>;
    }>('GET', pulls);
    const pullPending = pullList.items.filter(
      (p) => wanted.has(p.metadata.namespace) && !(p.status?.containerStatuses?.length ?? 0),
    ).length;
    unsettled = pending + pullPending;
    if (unsettled === 0) return { ms: ms(since), unsettled: 0 };
    if (Date.now() - lastLog > 10_000) {
      log(`  ${unsettled} pods still without their kwok status`);
      lastLog = Date.now();
    }
    if (Date.now() > deadline) {
      log(
        `  gave up waiting after ${Math.round(timeoutMs / 1000)} s: ${unsettled} pods still without status`,
      );
      return { ms: ms(since), unsettled };
    }
    await sleep(1000);
  }
}

/** Every pod in the cluster (what Wheelhouse's own identity caches). */
export function countAllPods(api: AdminApi): Promise<number> {
  return api.count('/api/v1/pods');
}

export interface CleanupReport {
  ms: number;
  namespacesLeft: number;
  nodesLeft: number;
  errors: string[];
}

/**
 * Removes everything the bench made: pods first (grace period 0, so kwok's slow graceful path is
 * skipped), then the namespaces, the nodes and the RBAC objects. Idempotent; finds objects by label,
 * so it also clears what an interrupted earlier run left.
 */
export async function cleanup(api: AdminApi, options: { waitMs: number }): Promise<CleanupReport> {
  const t0 = performance.now();
  const errors: string[] = [];
  const attempt = async (what: string, work: () => Promise<unknown>): Promise<void> => {
    try {
      await work();
    } catch (error) {
      errors.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const selector = encodeURIComponent(`${BENCH_LABEL}=true`);
  let namespaces: string[] = [];
  await attempt('list namespaces', async () => {
    namespaces = (await api.names(`/api/v1/namespaces?labelSelector=${selector}`)).map(
      (n) => n.split('/')[1] ?? '',
    );
  });
  namespaces = namespaces.filter((n) => /^bench-\d+$/.test(n));
  const force = {
    apiVersion: 'v1',
    kind: 'DeleteOptions',
    gracePeriodSeconds: 0,
    propagationPolicy: 'Background',
  };
  await mapLimit(namespaces, 8, (ns) =>
    attempt(`delete pods in ${ns}`, () => api.remove(`/api/v1/namespaces/${ns}/pods`, force)),
  );
  await mapLimit(namespaces, 8, (ns) =>
    attempt(`delete namespace ${ns}`, () => api.remove(`/api/v1/namespaces/${ns}`)),
  );
  const deadline = Date.now() + options.waitMs;
  let namespacesLeft = namespaces.length;
  for (;;) {
    try {
      namespacesLeft = (await api.names(`/api/v1/namespaces?labelSelector=${selector}`)).length;
    } catch {
      namespacesLeft = -1;
    }
    if (namespacesLeft === 0 || Date.now() > deadline) break;
    await sleep(1000);
  }
  // Nodes last: pods bound to a deleted node would wait for the pod GC controller.
  let nodes: string[] = [];
  await attempt('list nodes', async () => {
    nodes = (await api.names(`/api/v1/nodes?labelSelector=${selector}`)).map((n) => n.split('/')[1] ?? '');
  });
  await mapLimit(
    nodes.filter((n) => n.startsWith('bench-node-')),
    8,
    (n) => attempt(`delete node ${n}`, () => api.remove(`/api/v1/nodes/${n}`)),
  );
  const rbacBase = '/apis/rbac.authorization.k8s.io/v1';
  await attempt('delete RBAC', async () => {
    await api.remove(`${rbacBase}/clusterrolebindings/${RBAC_NAMES.impersonatorBinding}`);
    await api.remove(`${rbacBase}/clusterrolebindings/${RBAC_NAMES.viewBinding}`);
    await api.remove(`${rbacBase}/clusterroles/${RBAC_NAMES.impersonatorRole}`);
  });

  let nodesLeft = -1;
  await attempt('count nodes', async () => {
    nodesLeft = (await api.names(`/api/v1/nodes?labelSelector=${selector}`)).length;
  });
  return { ms: ms(t0), namespacesLeft, nodesLeft, errors };
}

/** Names of the bench nodes, for reports. */
export const benchNodes = (count: number): string[] => Array.from({ length: count }, (_, i) => nodeName(i));
