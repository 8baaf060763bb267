import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WebhookPayload } from '../../src/alerts/alertmanager-payload.ts';
import { webhookPayloadSchema } from '../../src/alerts/alertmanager-payload.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'alertmanager');

/** A captured Alertmanager 0.25 webhook body (test/fixtures/alertmanager/<name>.json), as text. */
export function fixtureText(name: string): string {
  return readFileSync(join(FIXTURES, `${name}.json`), 'utf8');
}

/** The same, parsed as the receiver parses it. */
export function fixturePayload(name: string): WebhookPayload {
  return webhookPayloadSchema.parse(JSON.parse(fixtureText(name)));
}

/** A firing or resolved alert of a synthetic group, for state-machine and storm tests. */
export function alertOf(
  fingerprint: string,
  status: 'firing' | 'resolved',
  labels: Record<string, string> = {},
  startsAt = '2026-11-25T08:00:00Z',
): WebhookPayload['alerts'][number] {
  return {
    status,
    labels: { alertname: 'KubePodCrashLooping', namespace: 'shop', pod: `crashy-${fingerprint}`, ...labels },
    annotations: { summary: `pod crashy-${fingerprint} is crash looping` },
    startsAt,
    endsAt: status === 'resolved' ? '2026-11-25T08:30:00Z' : '0001-01-01T00:00:00Z',
    generatorURL: 'http://prometheus:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1',
    fingerprint,
  };
}

/** A notification of group `group` (namespace shop) with these alerts. */
export function groupPayload(
  group: string,
  alerts: WebhookPayload['alerts'],
  overrides: Partial<WebhookPayload> = {},
): WebhookPayload {
  const firing = alerts.some((a) => a.status === 'firing');
  return {
    version: '4',
    groupKey: `{}:{alertname="${group}", namespace="shop"}`,
    truncatedAlerts: 0,
    status: firing ? 'firing' : 'resolved',
    receiver: 'wheelhouse',
    groupLabels: { alertname: group, namespace: 'shop' },
    commonLabels: { alertname: group, namespace: 'shop', severity: 'warning' },
    commonAnnotations: { summary: `${group} in shop`, runbook_url: 'https://runbooks.example.com/x' },
    externalURL: 'http://alertmanager:9093',
    alerts,
    ...overrides,
  };
}
