import type { CoreV1Event } from '@kubernetes/client-node';

/** Events that say the same thing about the same object, merged. */
export interface MergedEvent {
  type: string;
  reason: string;
  /** `kind/name` in chat form, e.g. "pod/checkout-7d9f8-x2x9q" or "deploy/checkout". */
  object: string;
  kind: string;
  name: string;
  namespace: string;
  message: string;
  /** Occurrences in total (series.count or count, summed over merged events). */
  count: number;
  first: Date | undefined;
  last: Date | undefined;
}

const SHORT: Record<string, string> = {
  Pod: 'pod',
  Deployment: 'deploy',
  ReplicaSet: 'rs',
  StatefulSet: 'sts',
  DaemonSet: 'ds',
  Job: 'job',
  CronJob: 'cronjob',
  Node: 'node',
  Service: 'svc',
  PersistentVolumeClaim: 'pvc',
  HorizontalPodAutoscaler: 'hpa',
};

/** When an event last happened: series.lastObservedTime, lastTimestamp, eventTime, then creation. */
export function eventLastSeen(event: CoreV1Event): Date | undefined {
  return (
    event.series?.lastObservedTime ??
    event.lastTimestamp ??
    event.eventTime ??
    event.firstTimestamp ??
    event.metadata?.creationTimestamp
  );
}

export function eventFirstSeen(event: CoreV1Event): Date | undefined {
  return event.firstTimestamp ?? event.eventTime ?? event.metadata?.creationTimestamp ?? eventLastSeen(event);
}

/** How often it happened: events.k8s.io series count, else the legacy count, else once. */
export function eventCount(event: CoreV1Event): number {
  return event.series?.count ?? event.count ?? 1;
}

export function involvedObjectName(kind: string, name: string): string {
  return `${SHORT[kind] ?? kind.toLowerCase()}/${name}`;
}

/**
 * Merges events with the same type, reason, object and message (the API server keeps one Event per
 * series but clients and restarts create duplicates), sums their counts and returns them newest first.
 */
export function mergeEvents(events: readonly CoreV1Event[]): MergedEvent[] {
  const merged = new Map<string, MergedEvent>();
  for (const event of events) {
    const kind = event.involvedObject.kind ?? '';
    const name = event.involvedObject.name ?? '';
    const namespace = event.involvedObject.namespace ?? event.metadata?.namespace ?? '';
    const type = event.type ?? 'Normal';
    const reason = event.reason ?? '';
    const message = (event.message ?? '').trim();
    const key = JSON.stringify([type, reason, namespace, kind, name, message]);
    const last = eventLastSeen(event);
    const first = eventFirstSeen(event);
    const known = merged.get(key);
    if (!known) {
      merged.set(key, {
        type,
        reason,
        object: involvedObjectName(kind, name),
        kind,
        name,
        namespace,
        message,
        count: eventCount(event),
        first,
        last,
      });
      continue;
    }
    known.count += eventCount(event);
    if (last && (!known.last || last > known.last)) known.last = last;
    if (first && (!known.first || first < known.first)) known.first = first;
  }
  return [...merged.values()].sort((a, b) => (b.last?.getTime() ?? 0) - (a.last?.getTime() ?? 0));
}
