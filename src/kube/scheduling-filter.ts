import type {
  V1Container,
  V1Node,
  V1NodeSelectorRequirement,
  V1NodeSelectorTerm,
  V1Pod,
  V1Taint,
  V1Toleration,
} from '@kubernetes/client-node';

/**
 * The kube-scheduler's filter phase, for explaining: which node passes which filter for a pod.
 * Covered: NodeUnschedulable, NodeResourcesFit (cpu, memory, pods, other requested resources),
 * TaintToleration (NoSchedule and NoExecute), NodeAffinity (nodeSelector and required node
 * affinity). Not covered (said so in the answer): inter-pod affinity, topology spread, volumes,
 * ports, PriorityClass preemption.
 */

const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A Kubernetes quantity ("250m", "64", "1Gi", "1e3") as a number of base units; NaN when malformed. */
export function parseQuantity(text: string | undefined): number {
  if (text === undefined) return 0;
  const match = /^([+-]?[0-9.]+(?:[eE][+-]?\d+)?)([a-zA-Z]*)$/.exec(String(text).trim());
  if (!match) return Number.NaN;
  const [, number = '', suffix = ''] = match;
  const factor = SUFFIX[suffix];
  return factor === undefined ? Number.NaN : Number(number) * factor;
}

/** Formats an amount of a resource the way people write it: cores as "2.5" or "250m", memory in Gi/Mi. */
export function formatQuantity(resource: string, amount: number): string {
  if (resource === 'cpu') {
    return amount >= 1 || amount === 0 ? `${Number(amount.toFixed(2))}` : `${Math.round(amount * 1000)}m`;
  }
  if (resource === 'memory' || resource.endsWith('storage')) {
    if (amount >= 2 ** 30) return `${Number((amount / 2 ** 30).toFixed(1))}Gi`;
    return `${Math.round(amount / 2 ** 20)}Mi`;
  }
  return `${Number(amount.toFixed(2))}`;
}

/**
 * What a pod asks the scheduler for, as the scheduler computes it: the sum of its containers'
 * requests, at least the largest init container's, plus one pod slot.
 */
export function podRequests(pod: V1Pod): Map<string, number> {
  const sum = new Map<string, number>();
  const add = (into: Map<string, number>, c: V1Container) => {
    for (const [name, value] of Object.entries(c.resources?.requests ?? {})) {
      into.set(name, (into.get(name) ?? 0) + parseQuantity(String(value)));
    }
  };
  for (const c of pod.spec?.containers ?? []) add(sum, c);
  for (const c of pod.spec?.initContainers ?? []) {
    const single = new Map<string, number>();
    add(single, c);
    // Sidecars (restartPolicy Always) run alongside the app; classic init containers run before it.
    if (c.restartPolicy === 'Always') {
      for (const [name, value] of single) sum.set(name, (sum.get(name) ?? 0) + value);
    } else {
      for (const [name, value] of single) sum.set(name, Math.max(sum.get(name) ?? 0, value));
    }
  }
  sum.set('pods', 1);
  return sum;
}

/** Why one node was filtered out, in the scheduler's words, with what would fix it. */
export interface NodeFailure {
  filter: 'NodeUnschedulable' | 'NodeResourcesFit' | 'TaintToleration' | 'NodeAffinity' | 'NodeNotReady';
  /** As the scheduler says it, e.g. "Insufficient cpu". */
  reason: string;
  /** The numbers behind it, e.g. "requests 64, allocatable 8, used by other pods 1.2". */
  detail: string;
}

export interface NodeVerdict {
  node: string;
  failures: NodeFailure[];
}

export interface FilterReport {
  /** Per node, every filter it fails (empty: it fits). */
  verdicts: NodeVerdict[];
  /** "0/4 nodes are available: 4 Insufficient cpu." in the scheduler's format. */
  headline: string;
  /** Failure reasons by how many nodes they block, most first. */
  counts: Array<{ reason: string; nodes: number }>;
  requests: Map<string, number>;
}

/**
 * Runs the filters for `pod` against `nodes`, counting the requests of the `others` pods bound to
 * each node (terminal pods free their resources, as in the scheduler).
 */
export function filterNodes(pod: V1Pod, nodes: readonly V1Node[], others: readonly V1Pod[]): FilterReport {
  const requests = podRequests(pod);
  const used = new Map<string, Map<string, number>>();
  for (const other of others) {
    const node = other.spec?.nodeName;
    if (!node || other.metadata?.uid === pod.metadata?.uid) continue;
    if (other.status?.phase === 'Succeeded' || other.status?.phase === 'Failed') continue;
    const mine = used.get(node) ?? new Map<string, number>();
    for (const [name, value] of podRequests(other)) mine.set(name, (mine.get(name) ?? 0) + value);
    used.set(node, mine);
  }
  const verdicts = nodes.map((node): NodeVerdict => {
    const name = node.metadata?.name ?? '?';
    return { node: name, failures: nodeFailures(pod, node, requests, used.get(name) ?? new Map()) };
  });
  const tally = new Map<string, number>();
  for (const v of verdicts) for (const f of v.failures) tally.set(f.reason, (tally.get(f.reason) ?? 0) + 1);
  const counts = [...tally.entries()]
    .map(([reason, n]) => ({ reason, nodes: n }))
    .sort((a, b) => b.nodes - a.nodes || a.reason.localeCompare(b.reason));
  const fit = verdicts.filter((v) => v.failures.length === 0).length;
  const headline = `${fit}/${nodes.length} nodes are available${
    counts.length ? `: ${counts.map((c) => `${c.nodes} ${c.reason}`).join(', ')}` : ''
  }.`;
  return { verdicts, headline, counts, requests };
}

function nodeFailures(
  pod: V1Pod,
  node: V1Node,
  requests: Map<string, number>,
  used: Map<string, number>,
): NodeFailure[] {
  const failures: NodeFailure[] = [];
  const tolerations = pod.spec?.tolerations ?? [];
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready && ready.status !== 'True') {
    // The node lifecycle controller taints such nodes; say it plainly when the taint is not there yet.
    const tainted = (node.spec?.taints ?? []).some((t) => t.key.startsWith('node.kubernetes.io/'));
    if (!tainted) {
      failures.push({
        filter: 'NodeNotReady',
        reason: 'node(s) were not ready',
        detail: `Ready=${ready.status}`,
      });
    }
  }
  if (
    node.spec?.unschedulable &&
    !tolerates(tolerations, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' })
  ) {
    failures.push({
      filter: 'NodeUnschedulable',
      reason: 'node(s) were unschedulable',
      detail: 'the node is cordoned (spec.unschedulable)',
    });
  }
  const selector = pod.spec?.nodeSelector ?? {};
  const labels = node.metadata?.labels ?? {};
  const wrongLabels = Object.entries(selector).filter(([k, v]) => labels[k] !== v);
  const terms =
    pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  const affinityFails = terms !== undefined && terms.length > 0 && !terms.some((t) => termMatches(t, node));
  if (wrongLabels.length || affinityFails) {
    failures.push({
      filter: 'NodeAffinity',
      reason: "node(s) didn't match Pod's node affinity/selector",
      detail: [
        ...wrongLabels.map(([k, v]) => `nodeSelector ${k}=${v}, node has ${k}=${labels[k] ?? '(unset)'}`),
        ...(affinityFails ? ['no required node-affinity term matches the node labels'] : []),
      ].join('; '),
    });
  }
  const untolerated = (node.spec?.taints ?? []).filter(
    (t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(tolerations, t),
  );
  const [firstTaint] = untolerated;
  if (firstTaint) {
    failures.push({
      filter: 'TaintToleration',
      reason: `node(s) had untolerated taint {${firstTaint.key}${firstTaint.value ? `: ${firstTaint.value}` : ''}}`,
      detail: untolerated.map(formatTaint).join(', '),
    });
  }
  const allocatable = node.status?.allocatable ?? {};
  for (const [resource, wanted] of requests) {
    if (wanted <= 0) continue;
    const capacity = parseQuantity(allocatable[resource]);
    const taken = used.get(resource) ?? 0;
    if (allocatable[resource] === undefined || Number.isNaN(capacity) || wanted > capacity - taken) {
      failures.push({
        filter: 'NodeResourcesFit',
        reason: resource === 'pods' ? 'Too many pods' : `Insufficient ${resource}`,
        detail: `requests ${formatQuantity(resource, wanted)}, allocatable ${formatQuantity(resource, Number.isNaN(capacity) ? 0 : capacity)}, already requested by other pods ${formatQuantity(resource, taken)}`,
      });
    }
  }
  return failures;
}

function termMatches(term: V1NodeSelectorTerm, node: V1Node): boolean {
  const labels = node.metadata?.labels ?? {};
  const fields: Record<string, string> = { 'metadata.name': node.metadata?.name ?? '' };
  const exprs = term.matchExpressions ?? [];
  const fieldExprs = term.matchFields ?? [];
  if (exprs.length === 0 && fieldExprs.length === 0) return false;
  return (
    exprs.every((e) => requirementMatches(e, labels)) &&
    fieldExprs.every((e) => requirementMatches(e, fields))
  );
}

function requirementMatches(r: V1NodeSelectorRequirement, labels: Record<string, string>): boolean {
  const value = labels[r.key];
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
      return value !== undefined && Number(value) > Number(values[0]);
    case 'Lt':
      return value !== undefined && Number(value) < Number(values[0]);
    default:
      return false;
  }
}

/** The scheduler's ToleratesTaint: same key (or empty key with Exists), same effect (or any), value per operator. */
export function tolerates(
  tolerations: readonly V1Toleration[],
  taint: Pick<V1Taint, 'key' | 'value' | 'effect'>,
): boolean {
  return tolerations.some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.key && t.key !== taint.key) return false;
    if (!t.key && t.operator !== 'Exists') return false;
    if (t.operator === 'Exists') return true;
    return (t.value ?? '') === (taint.value ?? '');
  });
}

export function formatTaint(t: V1Taint): string {
  return `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`;
}
