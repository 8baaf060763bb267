import { describe, expect, it } from 'vitest';
import { WheelhouseError } from '../../../src/errors.ts';
import type { Reply } from '../../../src/runner/types.ts';
import { createMetrics, outcomeOf } from '../../../src/telemetry/metrics.ts';

const ok: Reply = {
  ok: true,
  requestId: 'r1',
  skill: 'pods-list',
  durationMs: 120,
  result: { summary: 's', sections: [] },
};
const denied: Reply = {
  ok: false,
  requestId: 'r2',
  skill: 'pods-list',
  durationMs: 3,
  error: new WheelhouseError('FORBIDDEN', 'no'),
};
const typo: Reply = {
  ok: false,
  requestId: 'r3',
  skill: undefined,
  durationMs: 1,
  error: new WheelhouseError('GRAMMAR', 'what?'),
};

describe('createMetrics', () => {
  it('counts requests by skill and outcome, errors by code, and durations in seconds', async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.observeReply(ok);
    metrics.observeReply(ok);
    metrics.observeReply(denied);
    metrics.observeReply(typo);
    const text = await metrics.registry.metrics();
    expect(text).toContain('wheelhouse_requests_total{skill="pods-list",outcome="ok"} 2');
    expect(text).toContain('wheelhouse_requests_total{skill="pods-list",outcome="denied"} 1');
    expect(text).toContain('wheelhouse_requests_total{skill="none",outcome="user_error"} 1');
    expect(text).toContain('wheelhouse_errors_total{skill="pods-list",code="FORBIDDEN"} 1');
    expect(text).toContain('wheelhouse_request_duration_seconds_bucket{le="0.25",skill="pods-list"} 3');
    expect(text).toContain('wheelhouse_request_duration_seconds_sum{skill="pods-list"} 0.243');
  });

  it('uses a registry of its own, with process metrics when asked', async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.observeReply(ok);
    expect(await b.registry.metrics()).not.toContain('outcome="ok"} 1');
    expect(await a.registry.metrics()).toContain('process_cpu_user_seconds_total');
  });

  it('counts deliveries', async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.observeDelivery('slack', 'fallback');
    expect(await metrics.registry.metrics()).toContain(
      'wheelhouse_chat_deliveries_total{surface="slack",outcome="fallback"} 1',
    );
  });

  it('treats outages as failures and denials as working as intended', () => {
    expect(outcomeOf({ ...denied, error: new WheelhouseError('KUBE_UNREACHABLE', 'x') })).toBe('failure');
    expect(outcomeOf({ ...denied, error: new WheelhouseError('POLICY_DENIED', 'x') })).toBe('denied');
  });
});
