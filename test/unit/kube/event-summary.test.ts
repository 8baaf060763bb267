import { describe, expect, it } from 'vitest';
import { eventCount, eventLastSeen, mergeEvents } from '../../../src/kube/event-summary.ts';
import { buildEvent, TEST_NOW } from '../../support/builders.ts';

const minutesAgo = (m: number): Date => new Date(TEST_NOW.getTime() - m * 60_000);

describe('event times and counts', () => {
  it('prefers series data, then legacy fields, then eventTime', () => {
    const series = buildEvent({
      eventTime: minutesAgo(30),
      series: { count: 9, lastObservedTime: minutesAgo(1) },
    });
    expect([eventLastSeen(series), eventCount(series)]).toEqual([minutesAgo(1), 9]);
    const legacy = buildEvent({ lastTimestamp: minutesAgo(4), count: 3 });
    expect([eventLastSeen(legacy), eventCount(legacy)]).toEqual([minutesAgo(4), 3]);
    const single = buildEvent({ eventTime: minutesAgo(7) });
    expect([eventLastSeen(single), eventCount(single)]).toEqual([minutesAgo(7), 1]);
  });
});

describe('mergeEvents', () => {
  it('merges same type, reason, object and message; sums counts; newest first', () => {
    const merged = mergeEvents([
      buildEvent({
        reason: 'BackOff',
        message: 'm',
        count: 2,
        lastTimestamp: minutesAgo(9),
        firstTimestamp: minutesAgo(20),
      }),
      buildEvent({ reason: 'Failed', message: 'x', lastTimestamp: minutesAgo(5) }),
      buildEvent({
        reason: 'BackOff',
        message: 'm',
        count: 3,
        lastTimestamp: minutesAgo(2),
        firstTimestamp: minutesAgo(8),
      }),
      buildEvent({
        reason: 'BackOff',
        message: 'm',
        involved: { kind: 'Pod', name: 'other' },
        lastTimestamp: minutesAgo(1),
      }),
    ]);
    expect(merged.map((e) => [e.reason, e.object, e.count, e.last, e.first])).toEqual([
      ['BackOff', 'pod/other', 1, minutesAgo(1), minutesAgo(1)],
      ['BackOff', 'pod/checkout-7d9f8c6b5-x2x9q', 5, minutesAgo(2), minutesAgo(20)],
      ['Failed', 'pod/checkout-7d9f8c6b5-x2x9q', 1, minutesAgo(5), minutesAgo(5)],
    ]);
  });

  it('names objects in chat form', () => {
    const [event] = mergeEvents([buildEvent({ involved: { kind: 'HorizontalPodAutoscaler', name: 'web' } })]);
    expect(event?.object).toBe('hpa/web');
    const [other] = mergeEvents([buildEvent({ involved: { kind: 'PodDisruptionBudget', name: 'web' } })]);
    expect(other?.object).toBe('poddisruptionbudget/web');
  });
});
