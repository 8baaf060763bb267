import { describe, expect, it } from 'vitest';
import { enrichIncident, resolveWorkload } from '../../../src/alerts/enrichment.ts';
import { initialState } from '../../../src/alerts/incident-state.ts';
import type { AuditRecord } from '../../../src/audit/audit-record.ts';
import { createRedactor } from '../../../src/redact/redactor.ts';
import type { MetricsSource } from '../../../src/sources/types.ts';
import { alertOf, fixturePayload, groupPayload } from '../../support/alert-payloads.ts';
import { buildDeployment, buildPod, buildReplicaSet, TEST_NOW } from '../../support/builders.ts';
import { fakeKube } from '../../support/fake-kube.ts';

const crashyPod = buildPod({
  name: 'crashy-7c7bc87c95-8qk5c',
  labels: { app: 'crashy' },
  owner: { kind: 'ReplicaSet', name: 'crashy-7c7bc87c95' },
  containers: [
    {
      name: 'crashy',
      state: { waiting: 'CrashLoopBackOff' },
      ready: false,
      restartCount: 5,
      lastTerminated: { reason: 'Error', exitCode: 1 },
    },
  ],
});
const recentRs = buildReplicaSet({
  name: 'crashy-7c7bc87c95',
  deployment: 'crashy',
  replicas: 1,
  revision: '2',
});
const kube = fakeKube({
  deployments: [buildDeployment({ name: 'crashy', replicas: 1 })],
  replicaSets: [recentRs],
  pods: [crashyPod],
  logs: [
    {
      pod: 'crashy-7c7bc87c95-8qk5c',
      container: 'crashy',
      previous: true,
      text: [
        '2026-11-25T07:59:00Z ERROR failed to connect to database token=ghp_abcdefghijklmnopqrstuvwxyz0123456789',
        ...Array.from(
          { length: 30 },
          (_, i) => `2026-11-25T07:59:${String(i + 1).padStart(2, '0')}Z INFO line ${i}`,
        ),
      ].join('\n'),
    },
  ],
});

const audit = (type: string, input: unknown, minutesAgo: number, message: string): AuditRecord => ({
  type,
  requestId: 'r',
  time: new Date(TEST_NOW.getTime() - minutesAgo * 60_000).toISOString(),
  actor: { surface: 'slack', id: 'UANA', name: 'ana' },
  text: '',
  plan: null,
  skill: null,
  input,
  outcome: 'ok',
  errorCode: null,
  message,
  durationMs: 0,
  seq: 1,
  prevHash: '',
  hash: '',
});

describe('resolveWorkload', () => {
  it('follows the pod to its Deployment, and reads the Prometheus `job` label as the scrape job, not a Job', async () => {
    const state = initialState(fixturePayload('webhook-firing'), { channel: 'C', by: 'd' }, TEST_NOW, true);
    expect(state.commonLabels.job).toBe('exporter');
    expect(await resolveWorkload(kube, state)).toEqual({
      kind: 'Deployment',
      name: 'crashy',
      namespace: 'shop',
      replicas: 1,
    });
  });

  it('falls back to the pod, then to nothing', async () => {
    const pod = initialState(
      groupPayload('X', [alertOf('zz', 'firing', { pod: 'gone-pod' })]),
      { channel: 'C', by: 'd' },
      TEST_NOW,
      true,
    );
    expect(await resolveWorkload(kube, pod)).toEqual({ kind: 'Pod', name: 'gone-pod', namespace: 'shop' });
    const none = initialState(
      groupPayload('X', [{ ...alertOf('zz', 'firing'), labels: { alertname: 'X', namespace: 'shop' } }], {
        commonLabels: { alertname: 'X', namespace: 'shop' },
      }),
      { channel: 'C', by: 'd' },
      TEST_NOW,
      true,
    );
    expect(await resolveWorkload(kube, none)).toBeNull();
  });
});

describe('enrichIncident', () => {
  it('shows pods, logs with errors first and redacted, a chart of the alert expression, what changed and the runbook', async () => {
    const queries: string[] = [];
    const metrics: MetricsSource = {
      url: 'http://prom',
      async rangeQuery(q) {
        queries.push(q.query);
        return [
          {
            labels: { pod: 'crashy-7c7bc87c95-8qk5c' },
            points: [
              [q.start.getTime(), 1],
              [q.end.getTime(), 1],
            ],
          },
        ];
      },
    };
    const state = {
      ...initialState(fixturePayload('webhook-firing'), { channel: 'C', by: 'd' }, TEST_NOW, true),
      workload: { kind: 'Deployment' as const, name: 'crashy', namespace: 'shop', replicas: 1 },
    };
    const result = await enrichIncident(
      {
        kube,
        metrics,
        charts: { renderLineChart: async () => new Uint8Array([0x89, 0x50, 0x4e, 0x47]) },
        redact: createRedactor(),
        auditTail: async () => [
          audit('change.done', { namespace: 'shop' }, 30, 'scale deploy/cart to 3'),
          audit('change.done', { namespace: 'payments' }, 10, 'elsewhere'),
          audit('request', { namespace: 'shop' }, 5, 'a read'),
          audit('change.done', { namespace: 'shop' }, 300, 'too old'),
        ],
        now: () => TEST_NOW,
      },
      state,
    );
    const text = JSON.stringify(result);
    expect(result.summary).toBe(
      'What Wheelhouse found about deploy/crashy in shop: 1 pod(s), 1 not running.',
    );
    expect(text).toContain('CrashLoopBackOff');
    const logs = result.sections.find((s) => s.type === 'logs');
    expect(logs?.type === 'logs' && logs.lines[0]).toMatch(/crashy \(previous\) .*ERROR failed to connect/);
    expect(logs?.type === 'logs' && logs.lines).toHaveLength(20);
    expect(text).not.toContain('ghp_abcdefghijklmnopqrstuvwxyz0123456789');
    expect(queries[0]).toBe(
      'max_over_time(kube_pod_container_status_waiting_reason{job="exporter",reason="CrashLoopBackOff"}[1m]) >= 1',
    );
    expect(queries.slice(1).join('\n')).toMatch(
      /container_cpu_usage_seconds_total[\s\S]*container_memory_working_set_bytes/,
    );
    expect(result.attachments?.map((a) => a.name)).toEqual(['alert-expression.png', 'cpu.png', 'memory.png']);
    const changes = result.sections.find((s) => s.type === 'list' && s.title?.startsWith('What changed'));
    expect(changes?.type === 'list' && changes.items).toEqual([
      '30m ago: ana — change.done: scale deploy/cart to 3',
      '60m ago: rollout to revision 2',
    ]);
    expect(text).toContain(
      'Runbook: https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping',
    );
  });

  it('reports a part that fails and shows the rest', async () => {
    const state = initialState(fixturePayload('webhook-firing'), { channel: 'C', by: 'd' }, TEST_NOW, true);
    const result = await enrichIncident(
      {
        kube,
        metrics: { url: 'x', rangeQuery: async () => Promise.reject(new Error('prometheus is down')) },
        charts: { renderLineChart: async () => new Uint8Array() },
        redact: (t) => t,
        auditTail: async () => [],
        now: () => TEST_NOW,
      },
      { ...state, workload: { kind: 'Deployment', name: 'crashy', namespace: 'shop' } },
    );
    const notShown = result.sections.find((s) => s.type === 'list' && s.title === 'Not shown');
    expect(notShown?.type === 'list' && notShown.items).toEqual(['charts: prometheus is down']);
    expect(JSON.stringify(result)).toContain('CrashLoopBackOff');
  });
});
