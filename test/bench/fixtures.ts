/**
 * The objects the benchmark creates. Everything carries the label `wheelhouse.test/bench=true` so
 * a clean-up (here or in bench.sh) can find it by label and never touches the seed scenario.
 */

export const BENCH_LABEL = 'wheelhouse.test/bench';
export const BENCH_TAINT = 'wheelhouse.test/bench';
/** The bench user Wheelhouse impersonates for chat users (cluster-wide `view` via its group). */
export const VIEWER = { user: 'bench-viewer', groups: ['bench-viewers'] };
export const VIEWER_GROUP = 'bench-viewers';
export const RBAC_NAMES = {
  impersonatorRole: 'wheelhouse-bench-impersonator',
  impersonatorBinding: 'wheelhouse-bench-impersonator',
  viewBinding: 'wheelhouse-bench-viewers',
};

export const namespaceName = (index: number): string => `bench-${String(index).padStart(2, '0')}`;
export const nodeName = (index: number): string => `bench-node-${index}`;

/** Which pods are made unhealthy (2 per 100): a CrashLoopBackOff, and an ImagePullBackOff or OOMKilled. */
export function scenarioOf(nsIndex: number, podIndex: number): string | undefined {
  if (podIndex % 100 === 17) return 'crashloop';
  if (podIndex % 100 === 61) return nsIndex % 2 === 0 ? 'imagepullbackoff' : 'oomkilled';
  return undefined;
}

export function namespace(index: number): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: namespaceName(index), labels: { [BENCH_LABEL]: 'true', team: `team-${index % 7}` } },
  };
}

/**
 * A kwok node (kwok manages nodes with the annotation `kwok.x-k8s.io/node=fake`, like the harness's)
 * with room for thousands of pods. Not labelled `type=kwok` (smoke.sh counts those) and tainted so
 * the scheduler never places seed pods on it; bench pods are bound with spec.nodeName.
 */
export function node(index: number, podCapacity: number, kubeletVersion: string): Record<string, unknown> {
  const capacity = { cpu: '2000', memory: '8Ti', pods: String(podCapacity), 'ephemeral-storage': '10Ti' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: nodeName(index),
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        [BENCH_LABEL]: 'true',
        type: 'kwok-bench',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/os': 'linux',
        'kubernetes.io/hostname': nodeName(index),
        'topology.kubernetes.io/zone': ['zone-a', 'zone-b', 'zone-c'][index % 3] ?? 'zone-a',
      },
    },
    spec: { taints: [{ key: BENCH_TAINT, value: 'true', effect: 'NoSchedule' }] },
    status: {
      capacity,
      allocatable: capacity,
      nodeInfo: {
        architecture: 'amd64',
        operatingSystem: 'linux',
        osImage: 'kwok simulated node (bench)',
        kubeletVersion,
        kubeProxyVersion: kubeletVersion,
        containerRuntimeVersion: 'kwok://bench',
        kernelVersion: 'kwok',
      },
    },
  };
}

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0').slice(-width);

/**
 * A pod shaped like a Deployment's (labels, one container with ports, env, resources and probes; the
 * ServiceAccount admission adds the token volume), bound to a bench node. Bare pods: an owner
 * reference to a missing ReplicaSet would make the garbage collector delete them.
 */
export function pod(nsIndex: number, podIndex: number, nodeCount: number): Record<string, unknown> {
  const app = `svc-${podIndex % 10}`;
  const hash = hex(nsIndex * 7919 + (podIndex % 10) * 104_729, 10);
  const suffix = hex(podIndex * 2_654_435_761 + nsIndex, 5);
  const scenario = scenarioOf(nsIndex, podIndex);
  const image = `registry.example.com/bench/${app}:1.${podIndex % 10}.${nsIndex % 5}`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${app}-${hash}-${suffix}-${podIndex}`,
      namespace: namespaceName(nsIndex),
      labels: {
        [BENCH_LABEL]: 'true',
        app,
        'app.kubernetes.io/name': app,
        'app.kubernetes.io/part-of': `shop-${nsIndex % 5}`,
        'pod-template-hash': hash,
        ...(scenario ? { 'wheelhouse.test/scenario': scenario } : {}),
      },
      annotations: {
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': '9090',
        ...(scenario ? { 'wheelhouse.test/scenario': scenario } : {}),
      },
    },
    spec: {
      nodeName: nodeName((nsIndex * 100 + podIndex) % nodeCount),
      tolerations: [{ key: BENCH_TAINT, operator: 'Exists', effect: 'NoSchedule' }],
      terminationGracePeriodSeconds: 30,
      containers: [
        {
          name: 'app',
          image,
          ports: [
            { name: 'http', containerPort: 8080, protocol: 'TCP' },
            { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
          ],
          env: [
            { name: 'APP_NAME', value: app },
            { name: 'LOG_LEVEL', value: 'info' },
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          ],
          resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '128Mi' } },
          readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 10 },
          livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 20 },
        },
      ],
    },
  };
}

/** Lets the bot's identity impersonate the bench users and gives their group cluster-wide `view`. */
export function rbac(impersonatedUsers: readonly string[]): Array<{ path: string; object: unknown }> {
  const labels = { [BENCH_LABEL]: 'true' };
  return [
    {
      path: '/apis/rbac.authorization.k8s.io/v1/clusterroles',
      object: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: RBAC_NAMES.impersonatorRole, labels },
        rules: [
          {
            apiGroups: [''],
            resources: ['users'],
            verbs: ['impersonate'],
            resourceNames: [...impersonatedUsers],
          },
          { apiGroups: [''], resources: ['groups'], verbs: ['impersonate'], resourceNames: [VIEWER_GROUP] },
        ],
      },
    },
    {
      path: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
      object: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: RBAC_NAMES.impersonatorBinding, labels },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: RBAC_NAMES.impersonatorRole,
        },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'wheelhouse' }],
      },
    },
    {
      path: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
      object: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: RBAC_NAMES.viewBinding, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: VIEWER_GROUP }],
      },
    },
  ];
}
