import { describe, expect, it } from 'vitest';
import { generatorExpression, parseWebhookPayload } from '../../../src/alerts/alertmanager-payload.ts';
import { fixtureText } from '../../support/alert-payloads.ts';

describe('parseWebhookPayload', () => {
  it.each([
    ['webhook-firing', 'firing', 1, '{}:{alertname="KubePodCrashLooping", namespace="shop"}'],
    ['webhook-firing-high-error-rate', 'firing', 1, '{}:{alertname="HighErrorRate", namespace="payments"}'],
    ['webhook-resolved', 'resolved', 1, '{}:{alertname="HighErrorRate", namespace="payments"}'],
  ])('reads the captured payload %s', (name, status, alerts, groupKey) => {
    const parsed = parseWebhookPayload(fixtureText(name));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.payload).toMatchObject({ status, groupKey, version: '4' });
    expect(parsed.payload.alerts).toHaveLength(alerts);
    expect(parsed.payload.alerts[0]?.fingerprint).toMatch(/^[0-9a-f]{16}$/);
  });

  const good = JSON.parse(fixtureText('webhook-firing')) as Record<string, unknown>;
  const firstAlert = (good.alerts as Array<Record<string, unknown>>)[0] ?? {};
  it.each<[string, string, RegExp]>([
    ['not JSON', '{"version": "4",', /not JSON/],
    ['an array', '[]', /\(root\)/],
    ['version 3', JSON.stringify({ ...good, version: '3' }), /version: must be "4"/],
    ['no groupKey', JSON.stringify({ ...good, groupKey: undefined }), /groupKey/],
    ['alerts not a list', JSON.stringify({ ...good, alerts: {} }), /alerts/],
    ['unknown status', JSON.stringify({ ...good, status: 'pending' }), /status/],
    [
      'a startsAt that is no time',
      JSON.stringify({ ...good, alerts: [{ ...firstAlert, startsAt: 'yesterday' }] }),
      /alerts\.0\.startsAt: must be an RFC 3339 timestamp/,
    ],
    [
      'an alert without fingerprint',
      JSON.stringify({ ...good, alerts: [{ ...firstAlert, fingerprint: '' }] }),
      /alerts\.0\.fingerprint/,
    ],
    [
      'labels that are not strings',
      JSON.stringify({ ...good, alerts: [{ ...firstAlert, labels: { pod: 3 } }] }),
      /alerts\.0\.labels\.pod/,
    ],
  ])('refuses %s and names the problem', (_name, body, reason) => {
    const parsed = parseWebhookPayload(body);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.reason).toMatch(reason);
  });
});

describe('generatorExpression', () => {
  it.each([
    [
      'http://127.0.0.1:29090/graph?g0.expr=max_over_time%28kube_pod_container_status_waiting_reason%7Bjob%3D%22exporter%22%2Creason%3D%22CrashLoopBackOff%22%7D%5B1m%5D%29+%3E%3D+1&g0.tab=1',
      'max_over_time(kube_pod_container_status_waiting_reason{job="exporter",reason="CrashLoopBackOff"}[1m]) >= 1',
    ],
    ['http://p/graph?g0.tab=1', undefined],
    ['', undefined],
    ['not a url', undefined],
  ])('reads the PromQL of %s', (url, expr) => {
    expect(generatorExpression(url)).toBe(expr);
  });
});
