import { describe, expect, it } from 'vitest';
import {
  escapeRegex,
  formatMetricValue,
  METRIC_TEMPLATE_NAMES,
  metricTemplate,
  metricTemplates,
  podPatternOf,
} from '../../../src/sources/metric-templates.ts';

const pods = { namespace: 'shop', podPattern: '^checkout-[a-z0-9]+-[a-z0-9]+$' };

describe('podPatternOf', () => {
  it.each([
    [
      'Deployment',
      'checkout',
      '^checkout-[a-z0-9]+-[a-z0-9]+$',
      'checkout-7d9f8-abcde',
      'checkout-worker-7d9f8-abcde',
    ],
    ['StatefulSet', 'db', '^db-[0-9]+$', 'db-0', 'db-abc'],
    ['DaemonSet', 'agent', '^agent-[a-z0-9]+$', 'agent-x7k2p', 'agent-x7k2p-extra'],
    ['Job', 'migrate', '^migrate-[a-z0-9]+$', 'migrate-4hj2k', 'migrate'],
    ['Pod', 'web-1', '^web-1$', 'web-1', 'web-10'],
  ] as const)('%s %s → %s', (kind, name, pattern, matching, other) => {
    expect(podPatternOf({ kind, name })).toBe(pattern);
    const re = new RegExp(pattern);
    expect(re.test(matching)).toBe(true);
    expect(re.test(other)).toBe(false);
  });

  it('matches dots in names literally', () => {
    expect(escapeRegex('a.b')).toBe('a\\.b');
    expect(new RegExp(podPatternOf({ kind: 'Pod', name: 'a.b' })).test('aXb')).toBe(false);
  });
});

describe('metric templates', () => {
  it('covers every name with a unit', () => {
    expect(metricTemplates().map((t) => t.name)).toEqual([...METRIC_TEMPLATE_NAMES]);
    expect(metricTemplates().every((t) => t.unit !== '')).toBe(true);
  });

  it.each([
    [
      'cpu',
      'sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="shop",pod=~"^checkout-[a-z0-9]+-[a-z0-9]+$",container!=""}[5m]))',
    ],
    [
      'memory',
      'sum by (pod) (container_memory_working_set_bytes{namespace="shop",pod=~"^checkout-[a-z0-9]+-[a-z0-9]+$",container!=""})',
    ],
    [
      'restarts',
      'sum by (pod) (kube_pod_container_status_restarts_total{namespace="shop",pod=~"^checkout-[a-z0-9]+-[a-z0-9]+$"})',
    ],
    [
      'requests',
      'sum by (pod) (rate(http_requests_total{namespace="shop",pod=~"^checkout-[a-z0-9]+-[a-z0-9]+$"}[5m]))',
    ],
    [
      'errors',
      'sum(rate(http_requests_total{namespace="shop",pod=~"^checkout-[a-z0-9]+-[a-z0-9]+$",code=~"5.."}[5m])) / ' +
        'sum(rate(http_requests_total{namespace="shop",pod=~"^checkout-[a-z0-9]+-[a-z0-9]+$"}[5m]))',
    ],
    [
      'p99',
      'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{namespace="shop",pod=~"^checkout-[a-z0-9]+-[a-z0-9]+$"}[5m])))',
    ],
    ['gpu', 'avg by (pod) (DCGM_FI_DEV_GPU_UTIL{namespace="shop",pod=~"^checkout-[a-z0-9]+-[a-z0-9]+$"})'],
  ] as const)('%s builds the documented PromQL', (name, promql) => {
    expect(metricTemplate(name).build(pods)).toBe(promql);
  });

  it('uses configured label names', () => {
    const query = metricTemplate('cpu').build(pods, {
      namespace: 'kubernetes_namespace',
      pod: 'pod_name',
      container: 'container_name',
      statusCode: 'status',
    });
    expect(query).toContain('sum by (pod_name)');
    expect(query).toContain('kubernetes_namespace="shop",pod_name=~"^checkout');
    expect(query).toContain('container_name!=""');
  });

  it('escapes backslashes of the regex inside the PromQL string', () => {
    const query = metricTemplate('memory').build({
      namespace: 'shop',
      podPattern: podPatternOf({ kind: 'Pod', name: 'a.b' }),
    });
    expect(query).toContain('pod=~"^a\\\\.b$"');
  });
});

describe('formatMetricValue', () => {
  it.each([
    [0.25, 'cores', '250 millicores'],
    [1.5, 'cores', '1.5 cores'],
    [0, 'cores', '0 cores'],
    [104857600, 'bytes', '100 MiB'],
    [1.5 * 1024 ** 3, 'bytes', '1.5 GiB'],
    [512, 'bytes', '512 B'],
    [0.0123, 'ratio', '1.23%'],
    [87.5, 'percent', '87.5%'],
    [0.46, 'seconds', '460 ms'],
    [2.5, 'seconds', '2.5 s'],
    [0.0000421, 'seconds', '42.1 µs'],
    [1.1, 'req/s', '1.1 req/s'],
    [3, 'count', '3'],
    [12345, '', '12.3k'],
    [Number.NaN, 'bytes', 'n/a'],
  ] as const)('%d %s → %s', (value, unit, text) => {
    expect(formatMetricValue(value, unit)).toBe(text);
  });
});
