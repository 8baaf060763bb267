import { describe, expect, it } from 'vitest';
import { applyNotification, initialState } from '../../../src/alerts/incident-state.ts';
import { incidentView } from '../../../src/alerts/incident-view.ts';
import { explainWorkload } from '../../../src/alerts/start-alerts.ts';
import { renderIncident } from '../../../src/chat/slack/slack-incidents.ts';
import { alertOf, fixturePayload, groupPayload } from '../../support/alert-payloads.ts';

const now = new Date('2026-11-25T09:00:00Z');
const options = { incidentId: 'inc-1', alertmanagerUrl: undefined, silenceDurations: ['1h', '8h'], now };

function buttons(blocks: unknown[]): Array<{ text: string; value: string }> {
  return blocks.flatMap((b) => {
    const block = b as { type: string; elements?: Array<{ text: { text: string }; value: string }> };
    return block.type === 'actions'
      ? (block.elements ?? []).map((e) => ({ text: e.text.text, value: e.value }))
      : [];
  });
}

describe('the root message of an incident', () => {
  it('shows title, severity, workload, counts, expression and links for the captured crash-loop payload', () => {
    const state = initialState(
      fixturePayload('webhook-firing'),
      { channel: 'C1', by: 'defaultChannel' },
      now,
      true,
    );
    const view = incidentView(
      { ...state, workload: { kind: 'Deployment', name: 'crashy', namespace: 'shop', replicas: 1 } },
      options,
    );
    expect(view).toMatchObject({
      title: 'Pod shop/crashy-7c7bc87c95-8qk5c is crash looping.',
      severity: 'warning',
      status: 'firing',
      workload: 'deploy/crashy in shop',
      counts: { firing: 1, resolved: 0, total: 1, truncated: 0 },
      expression:
        'max_over_time(kube_pod_container_status_waiting_reason{job="exporter",reason="CrashLoopBackOff"}[1m]) >= 1',
    });
    expect(view.links.map((l) => l.label)).toEqual(['Alertmanager', 'Source expression', 'Runbook']);
    expect(view.links[0]?.url).toBe(
      `http://127.0.0.1:29093/#/alerts?filter=${encodeURIComponent('{alertname="KubePodCrashLooping",namespace="shop"}')}`,
    );
    const { text, blocks } = renderIncident(view);
    expect(text).toBe('FIRING: Pod shop/crashy-7c7bc87c95-8qk5c is crash looping. (1 of 1)');
    expect(buttons(blocks)).toEqual([
      { text: 'Silence 1h', value: 'silence inc-1 --for 1h' },
      { text: 'Silence 8h', value: 'silence inc-1 --for 8h' },
      { text: 'Roll back', value: 'rollback deploy/crashy -n shop' },
      { text: 'Restart', value: 'restart deploy/crashy -n shop' },
      { text: 'Scale to 2', value: 'scale deploy/crashy -n shop --replicas 2' },
    ]);
    const json = JSON.stringify(blocks);
    expect(json).toContain(
      '<https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping|Runbook>',
    );
    expect(json).toContain('wh-incident-actions');
    expect(json).toContain('incident `inc-1`');
  });

  it('offers only Silence and Restart for a StatefulSet, and no workload buttons when none is known', () => {
    const state = initialState(
      groupPayload('X', [alertOf('a', 'firing')]),
      { channel: 'C1', by: 'd' },
      now,
      false,
    );
    expect(
      incidentView(
        { ...state, workload: { kind: 'StatefulSet', name: 'db', namespace: 'shop' } },
        options,
      ).actions.map((a) => a.label),
    ).toEqual(['Silence 1h', 'Silence 8h', 'Restart']);
    expect(incidentView({ ...state, workload: null }, options).actions.map((a) => a.label)).toEqual([
      'Silence 1h',
      'Silence 8h',
    ]);
  });

  it('adds Investigate only when the hook gives a command', () => {
    const state = initialState(
      groupPayload('X', [alertOf('a', 'firing')]),
      { channel: 'C1', by: 'd' },
      now,
      false,
    );
    const view = incidentView(state, { ...options, investigate: ({ id }) => `explain incident ${id}` });
    expect(view.actions.at(-1)).toEqual({
      label: 'Investigate',
      command: 'explain incident inc-1',
      style: 'primary',
    });
  });

  it('says resolved with the duration, shows truncated alerts and drops the buttons', () => {
    const first = initialState(
      groupPayload('X', [alertOf('a', 'firing', {}, '2026-11-25T08:00:00Z'), alertOf('b', 'firing')], {
        truncatedAlerts: 3,
      }),
      { channel: 'C1', by: 'd' },
      now,
      false,
    );
    const { state } = applyNotification(
      first,
      groupPayload('X', [alertOf('a', 'resolved'), alertOf('b', 'resolved')], { truncatedAlerts: 3 }),
      new Date('2026-11-25T09:30:00Z'),
    );
    const view = incidentView(state, options);
    expect(view).toMatchObject({
      status: 'resolved',
      duration: '30m',
      actions: [],
      counts: { truncated: 3, resolved: 2 },
    });
    const { text, blocks } = renderIncident(view);
    expect(text).toBe('RESOLVED: X in shop (0 of 2 (all resolved))');
    const json = JSON.stringify(blocks);
    expect(json).toContain('*RESOLVED* after 30m');
    expect(json).toContain('+3 alerts Alertmanager left out (truncated)');
    expect(buttons(blocks)).toEqual([]);
  });

  it('escapes cluster text so it cannot form links or mentions', () => {
    const state = initialState(
      groupPayload('X', [alertOf('a', 'firing')], {
        commonAnnotations: { summary: '<!channel> & <http://evil|click>' },
      }),
      { channel: 'C1', by: 'd' },
      now,
      false,
    );
    const json = JSON.stringify(renderIncident(incidentView(state, options)).blocks);
    expect(json).not.toContain('<!channel>');
    expect(json).toContain('&lt;!channel&gt; &amp; &lt;http://evil|click&gt;');
  });
});

describe('the Investigate button when a model is configured', () => {
  it("explains the alert's workload, and offers nothing without one", () => {
    const state = initialState(
      fixturePayload('webhook-firing'),
      { channel: 'C1', by: 'defaultChannel' },
      now,
      true,
    );
    const workload = { kind: 'Deployment', name: 'crashy', namespace: 'shop', replicas: 1 } as const;
    expect(explainWorkload({ state: { ...state, workload } })).toBe('explain deploy/crashy -n shop');
    expect(explainWorkload({ state: { ...state, workload: undefined } })).toBeUndefined();
  });
});
