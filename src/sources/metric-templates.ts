import type { WorkloadRef } from '../kube/types.ts';

/**
 * Named PromQL templates for a workload, written against the series names that cAdvisor,
 * kube-state-metrics, the DCGM exporter and common HTTP instrumentation emit.
 */

/** How values of a metric are shown: the chart axis, the stats and the summary use it. */
export type MetricUnit = 'cores' | 'bytes' | 'count' | 'req/s' | 'ratio' | 'seconds' | 'percent' | '';

/** The units a raw PromQL query may be shown in, for the `--unit` flag. */
export const METRIC_UNITS = ['cores', 'bytes', 'count', 'req/s', 'ratio', 'seconds', 'percent'] as const;

/**
 * Label names the templates select on. They differ between exporters and relabelling setups
 * (older cAdvisor used `pod_name`), so they live in one place and can be configured later.
 */
export interface MetricLabels {
  namespace: string;
  pod: string;
  container: string;
  /** HTTP status code label on request counters. */
  statusCode: string;
}

export const DEFAULT_METRIC_LABELS: MetricLabels = {
  namespace: 'namespace',
  pod: 'pod',
  container: 'container',
  statusCode: 'code',
};

/** Which pods a template covers: a namespace and an RE2 pattern matched against pod names. */
export interface PodSelection {
  namespace: string;
  podPattern: string;
}

export const METRIC_TEMPLATE_NAMES = [
  'cpu',
  'memory',
  'restarts',
  'requests',
  'errors',
  'p99',
  'gpu',
] as const;

export type MetricTemplateName = (typeof METRIC_TEMPLATE_NAMES)[number];

/** One named query: what it measures, its unit, and how to build it for a set of pods. */
export interface MetricTemplate {
  name: MetricTemplateName;
  /** Short title for charts, e.g. "CPU". */
  title: string;
  /** One line for help and the planner. */
  description: string;
  unit: MetricUnit;
  build(pods: PodSelection, labels?: MetricLabels): string;
}

/** Quotes a value as a PromQL string literal (Go escaping, which JSON's matches for these values). */
export function promString(value: string): string {
  return JSON.stringify(value);
}

/** Escapes RE2 metacharacters so a Kubernetes name matches literally (names may hold "."). */
export function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

/**
 * The pod-name pattern of a workload's pods, from how each controller names them:
 * Deployment `NAME-<rs hash>-<suffix>`, StatefulSet `NAME-<ordinal>`, DaemonSet, ReplicaSet
 * and Job `NAME-<suffix>`, a Pod its own name.
 */
export function podPatternOf(ref: Pick<WorkloadRef, 'kind' | 'name'>): string {
  const name = escapeRegex(ref.name);
  switch (ref.kind) {
    case 'Deployment':
      return `^${name}-[a-z0-9]+-[a-z0-9]+$`;
    case 'StatefulSet':
      return `^${name}-[0-9]+$`;
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'Job':
      return `^${name}-[a-z0-9]+$`;
    case 'Pod':
      return `^${name}$`;
  }
}

function matchers(pods: PodSelection, labels: MetricLabels, extra: string[] = []): string {
  return [
    `${labels.namespace}=${promString(pods.namespace)}`,
    `${labels.pod}=~${promString(pods.podPattern)}`,
    ...extra,
  ].join(',');
}

/** cAdvisor also reports a pod-level cgroup with an empty container label; counting it would double the sum. */
function containerMatchers(pods: PodSelection, labels: MetricLabels): string {
  return matchers(pods, labels, [`${labels.container}!=""`]);
}

const TEMPLATES: Record<MetricTemplateName, MetricTemplate> = {
  cpu: {
    name: 'cpu',
    title: 'CPU',
    description: 'CPU used per pod, in cores (cAdvisor container_cpu_usage_seconds_total).',
    unit: 'cores',
    build: (pods, labels = DEFAULT_METRIC_LABELS) =>
      `sum by (${labels.pod}) (rate(container_cpu_usage_seconds_total{${containerMatchers(pods, labels)}}[5m]))`,
  },
  memory: {
    name: 'memory',
    title: 'Memory',
    description: 'Working-set memory per pod, in bytes (what the OOM killer looks at).',
    unit: 'bytes',
    build: (pods, labels = DEFAULT_METRIC_LABELS) =>
      `sum by (${labels.pod}) (container_memory_working_set_bytes{${containerMatchers(pods, labels)}})`,
  },
  restarts: {
    name: 'restarts',
    title: 'Restarts',
    description: 'Container restarts per pod (kube-state-metrics).',
    unit: 'count',
    build: (pods, labels = DEFAULT_METRIC_LABELS) =>
      `sum by (${labels.pod}) (kube_pod_container_status_restarts_total{${matchers(pods, labels)}})`,
  },
  requests: {
    name: 'requests',
    title: 'Requests',
    description: 'HTTP requests per second per pod (http_requests_total).',
    unit: 'req/s',
    build: (pods, labels = DEFAULT_METRIC_LABELS) =>
      `sum by (${labels.pod}) (rate(http_requests_total{${matchers(pods, labels)}}[5m]))`,
  },
  errors: {
    name: 'errors',
    title: 'Error ratio',
    description: 'Share of HTTP requests answered with a 5xx code, over all pods of the workload.',
    unit: 'ratio',
    build: (pods, labels = DEFAULT_METRIC_LABELS) =>
      `sum(rate(http_requests_total{${matchers(pods, labels, [`${labels.statusCode}=~"5.."`])}}[5m])) / ` +
      `sum(rate(http_requests_total{${matchers(pods, labels)}}[5m]))`,
  },
  p99: {
    name: 'p99',
    title: 'p99 latency',
    description: '99th percentile HTTP request duration over all pods, in seconds.',
    unit: 'seconds',
    build: (pods, labels = DEFAULT_METRIC_LABELS) =>
      `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{${matchers(pods, labels)}}[5m])))`,
  },
  gpu: {
    name: 'gpu',
    title: 'GPU utilisation',
    description: 'GPU utilisation per pod, in percent (NVIDIA DCGM exporter).',
    unit: 'percent',
    build: (pods, labels = DEFAULT_METRIC_LABELS) =>
      `avg by (${labels.pod}) (DCGM_FI_DEV_GPU_UTIL{${matchers(pods, labels)}})`,
  },
};

/** The template of that name. */
export function metricTemplate(name: MetricTemplateName): MetricTemplate {
  return TEMPLATES[name];
}

/** Every template, in the order help lists them. */
export function metricTemplates(): MetricTemplate[] {
  return METRIC_TEMPLATE_NAMES.map((name) => TEMPLATES[name]);
}

const SIGNIFICANT = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 3 });
const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;
const SI_UNITS = ['', 'k', 'M', 'G', 'T', 'P'] as const;

function scaled(value: number, base: number, units: readonly string[], separator: string): string {
  let index = 0;
  let scaledValue = value;
  while (Math.abs(scaledValue) >= base && index < units.length - 1) {
    scaledValue /= base;
    index++;
  }
  const unit = units[index] ?? '';
  return unit ? `${SIGNIFICANT.format(scaledValue)}${separator}${unit}` : SIGNIFICANT.format(scaledValue);
}

/**
 * Formats a value for people: 0.25 cores → "250 millicores", 104857600 bytes → "100 MiB",
 * 0.0123 ratio → "1.23%", 0.46 seconds → "460 ms". Not-a-number shows as "n/a".
 */
export function formatMetricValue(value: number, unit: MetricUnit | string): string {
  if (!Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  switch (unit) {
    case 'cores':
      if (abs === 0) return '0 cores';
      return abs < 1
        ? `${SIGNIFICANT.format(value * 1000)} millicores`
        : `${SIGNIFICANT.format(value)} cores`;
    case 'bytes':
      return scaled(value, 1024, BINARY_UNITS, ' ');
    case 'percent':
      return `${SIGNIFICANT.format(value)}%`;
    case 'ratio':
      return `${SIGNIFICANT.format(value * 100)}%`;
    case 'seconds':
      if (abs === 0) return '0 s';
      if (abs < 0.001) return `${SIGNIFICANT.format(value * 1e6)} µs`;
      if (abs < 1) return `${SIGNIFICANT.format(value * 1000)} ms`;
      return `${SIGNIFICANT.format(value)} s`;
    case 'req/s':
      return `${SIGNIFICANT.format(value)} req/s`;
    default:
      return scaled(value, 1000, SI_UNITS, '');
  }
}
