import { z } from 'zod';
import { alertTime, type WebhookPayload } from './alertmanager-payload.ts';

/**
 * The state of one alert group's thread, kept in the store (runs of kind `alert-thread`, keyed by
 * the group key) so that a restart or a second replica carries on: what fires, what the root
 * message shows, which thread notes are posted, who is posting. Pure functions only; the thread
 * keeper does the I/O.
 */

export const ALERT_THREAD_KIND = 'alert-thread';

/** Run statuses: `firing` and `resolved` may still have work to do; `closed` is resolved and shown. */
export type IncidentStatus = 'firing' | 'resolved' | 'closed';

/** Alerts tracked per group at most; beyond it the oldest resolved ones are forgotten first. */
export const MAX_TRACKED_ALERTS = 1000;

const trackedAlertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: z.record(z.string(), z.string()),
  startsAt: z.string(),
  endsAt: z.string().optional(),
  generatorURL: z.string(),
  summary: z.string().optional(),
});
export type TrackedAlert = z.infer<typeof trackedAlertSchema>;

const noteSchema = z.object({
  text: z.string(),
  tone: z.enum(['info', 'success', 'warning', 'error']),
  items: z.array(z.string()).default([]),
});
/** A short note for the thread ("2 new alerts firing", "resolved after 12m"). */
export type IncidentNote = z.infer<typeof noteSchema>;

const claimSchema = z.object({ by: z.string(), at: z.string() });

const workloadSchema = z.object({
  kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'Pod']),
  name: z.string(),
  namespace: z.string(),
  /** Desired replicas when known (for the Scale button). */
  replicas: z.number().int().optional(),
});
export type IncidentWorkload = z.infer<typeof workloadSchema>;

const silenceSchema = z.object({ id: z.string(), by: z.string(), until: z.string() });

export const incidentStateSchema = z.object({
  groupKey: z.string(),
  receiver: z.string(),
  channel: z.string(),
  routedBy: z.string(),
  groupLabels: z.record(z.string(), z.string()),
  commonLabels: z.record(z.string(), z.string()),
  commonAnnotations: z.record(z.string(), z.string()),
  externalURL: z.string(),
  status: z.enum(['firing', 'resolved']),
  alerts: z.record(z.string(), trackedAlertSchema),
  truncatedAlerts: z.number().int(),
  firstNotifiedAt: z.string(),
  lastNotifiedAt: z.string(),
  /** Earliest startsAt of the group's alerts. */
  startedAt: z.string(),
  resolvedAt: z.string().optional(),
  notifications: z.number().int(),
  /** Bumped whenever what the root message shows changes. */
  revision: z.number().int(),
  notes: z.array(noteSchema),
  notesPosted: z.number().int(),
  root: z
    .object({
      ts: z.string(),
      channel: z.string(),
      /** The revision the root message shows (or is being updated to). */
      shownRevision: z.number().int(),
      /** When the last post or update was started: the next one waits for the update interval. */
      updatedAt: z.string(),
    })
    .optional(),
  /** Who is posting the root message right now; expires so a crashed poster is taken over. */
  posting: claimSchema.optional(),
  /** undefined: not looked up yet; null: the labels name no workload. */
  workload: workloadSchema.nullable().optional(),
  enrichment: z.enum(['pending', 'done', 'failed', 'off']),
  enriching: claimSchema.optional(),
  silences: z.array(silenceSchema).default([]),
});
export type IncidentState = z.infer<typeof incidentStateSchema>;

/** The state of a run as stored; throws when it is not an incident (a bug, not input). */
export function parseIncidentState(value: unknown): IncidentState {
  return incidentStateSchema.parse(value);
}

/** The labels a group is routed and titled by: its common labels plus its group labels. */
export function groupLabelsOf(
  payload: Pick<WebhookPayload, 'commonLabels' | 'groupLabels'>,
): Record<string, string> {
  return { ...payload.commonLabels, ...payload.groupLabels };
}

/** A new thread's state from its first notification. */
export function initialState(
  payload: WebhookPayload,
  route: { channel: string; by: string },
  now: Date,
  enrichment: boolean,
): IncidentState {
  const empty: IncidentState = {
    groupKey: payload.groupKey,
    receiver: payload.receiver,
    channel: route.channel,
    routedBy: route.by,
    groupLabels: payload.groupLabels,
    commonLabels: payload.commonLabels,
    commonAnnotations: payload.commonAnnotations,
    externalURL: payload.externalURL,
    status: payload.status,
    alerts: {},
    truncatedAlerts: payload.truncatedAlerts,
    firstNotifiedAt: now.toISOString(),
    lastNotifiedAt: now.toISOString(),
    startedAt: earliestStart(payload, now).toISOString(),
    resolvedAt: undefined,
    notifications: 0,
    revision: 0,
    notes: [],
    notesPosted: 0,
    root: undefined,
    posting: undefined,
    workload: undefined,
    enrichment: enrichment ? 'pending' : 'off',
    enriching: undefined,
    silences: [],
  };
  // The first notification is applied like any other, but it adds no note: the root says it all.
  const { state } = applyNotification(empty, payload, now);
  return { ...state, notes: [], revision: 1 };
}

/** What a notification changed; `changed` false means an identical repeat (a retry, a replay). */
export interface Applied {
  state: IncidentState;
  changed: boolean;
}

/**
 * Folds one notification into the state: alerts are tracked by fingerprint; newly firing and
 * newly resolved alerts become a thread note; the group resolving (or firing again) changes the
 * status and the root message. An identical repeat changes nothing but the notification count.
 */
export function applyNotification(prev: IncidentState, payload: WebhookPayload, now: Date): Applied {
  const alerts: Record<string, TrackedAlert> = { ...prev.alerts };
  const newlyFiring: string[] = [];
  const newlyResolved: string[] = [];
  let changed = false;
  for (const alert of payload.alerts) {
    const before = alerts[alert.fingerprint];
    const tracked: TrackedAlert = {
      status: alert.status,
      labels: alert.labels,
      startsAt: alert.startsAt,
      endsAt: alert.status === 'resolved' ? alert.endsAt : undefined,
      generatorURL: alert.generatorURL,
      summary: alert.annotations.summary ?? alert.annotations.description,
    };
    if (before === undefined || before.status !== alert.status) {
      (alert.status === 'firing' ? newlyFiring : newlyResolved).push(describeAlert(tracked));
      changed = true;
    } else if (before.summary !== tracked.summary || before.startsAt !== tracked.startsAt) {
      changed = true;
    }
    alerts[alert.fingerprint] = tracked;
  }
  // A resolved group notification may leave out alerts that resolved earlier: the group is over.
  if (payload.status === 'resolved') {
    for (const [fingerprint, alert] of Object.entries(alerts)) {
      if (alert.status === 'firing') {
        alerts[fingerprint] = { ...alert, status: 'resolved', endsAt: now.toISOString() };
        newlyResolved.push(describeAlert(alert));
        changed = true;
      }
    }
  }
  const wasResolved = prev.status === 'resolved';
  const status = payload.status;
  if (payload.truncatedAlerts !== prev.truncatedAlerts) changed = true;
  if (JSON.stringify(payload.commonAnnotations) !== JSON.stringify(prev.commonAnnotations)) changed = true;
  if (status !== prev.status) changed = true;

  const trimmed = trimAlerts(alerts);
  const counts = countAlerts(trimmed, payload.truncatedAlerts);
  const notes = [...prev.notes];
  const startedAt = wasResolved && status === 'firing' ? earliestStart(payload, now) : undefined;
  if (prev.notifications > 0) {
    if (wasResolved && status === 'firing') {
      notes.push({
        text: `Firing again: ${counts.firing} alert(s).`,
        tone: 'error',
        items: newlyFiring.slice(0, 10),
      });
    } else if (!wasResolved && status === 'resolved') {
      const since = Date.parse(prev.startedAt);
      notes.push({
        text: `Resolved: all ${counts.total} alert(s) of the group, after ${humanSpan(now.getTime() - since)}.`,
        tone: 'success',
        items: newlyResolved.slice(0, 10),
      });
    } else if (newlyFiring.length > 0 || newlyResolved.length > 0) {
      const parts: string[] = [];
      if (newlyFiring.length > 0) parts.push(`${newlyFiring.length} more firing`);
      if (newlyResolved.length > 0) parts.push(`${newlyResolved.length} resolved`);
      notes.push({
        text: `${parts.join(', ')}; now ${counts.firing} of ${counts.total} firing${counts.truncated ? ` (+${counts.truncated} not sent by Alertmanager)` : ''}.`,
        tone: newlyFiring.length > 0 ? 'warning' : 'info',
        items: [
          ...newlyFiring.slice(0, 10).map((a) => `firing: ${a}`),
          ...newlyResolved.slice(0, 10).map((a) => `resolved: ${a}`),
        ],
      });
    }
  }
  const state: IncidentState = {
    ...prev,
    receiver: payload.receiver,
    commonLabels: payload.commonLabels,
    commonAnnotations: payload.commonAnnotations,
    externalURL: payload.externalURL || prev.externalURL,
    status,
    alerts: trimmed,
    truncatedAlerts: payload.truncatedAlerts,
    lastNotifiedAt: now.toISOString(),
    startedAt: startedAt?.toISOString() ?? prev.startedAt,
    resolvedAt:
      status === 'resolved' ? (wasResolved ? prev.resolvedAt : resolvedTime(payload, now)) : undefined,
    notifications: prev.notifications + 1,
    revision: changed ? prev.revision + 1 : prev.revision,
    notes,
  };
  return { state, changed };
}

/** Counts for the root message: firing, resolved, tracked, and those Alertmanager left out. */
export function countAlerts(
  alerts: Readonly<Record<string, TrackedAlert>>,
  truncated: number,
): { firing: number; resolved: number; total: number; truncated: number } {
  let firing = 0;
  let resolved = 0;
  for (const a of Object.values(alerts)) {
    if (a.status === 'firing') firing += 1;
    else resolved += 1;
  }
  return { firing, resolved, total: firing + resolved, truncated };
}

/** The run status a state stores under: closed once resolved and everything is shown. */
export function runStatusOf(state: IncidentState): IncidentStatus {
  if (state.status === 'firing') return 'firing';
  const shown = state.root !== undefined && state.root.shownRevision >= state.revision;
  return shown && state.notesPosted >= state.notes.length && state.enrichment !== 'pending'
    ? 'closed'
    : 'resolved';
}

/** "pod shop/crashy-7c… (crash looping)" — one line naming an alert for a note. */
export function describeAlert(alert: TrackedAlert): string {
  const l = alert.labels;
  const where = l.pod ?? l.deployment ?? l.statefulset ?? l.daemonset ?? l.job ?? l.app ?? l.instance;
  const name =
    where === undefined ? (l.alertname ?? 'alert') : `${l.namespace ? `${l.namespace}/` : ''}${where}`;
  return alert.summary ? `${name}: ${alert.summary}` : name;
}

/** "3m", "2h 5m", "1d 4h". */
export function humanSpan(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h}h ${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d ${h % 24}h` : `${d}d`;
}

function earliestStart(payload: WebhookPayload, now: Date): Date {
  const starts = payload.alerts
    .map((a) => alertTime(a.startsAt)?.getTime())
    .filter((t): t is number => t !== undefined);
  return starts.length ? new Date(Math.min(...starts)) : now;
}

function resolvedTime(payload: WebhookPayload, now: Date): string {
  const ends = payload.alerts
    .map((a) => alertTime(a.endsAt)?.getTime())
    .filter((t): t is number => t !== undefined && t <= now.getTime());
  return new Date(ends.length ? Math.max(...ends) : now.getTime()).toISOString();
}

function trimAlerts(alerts: Record<string, TrackedAlert>): Record<string, TrackedAlert> {
  const entries = Object.entries(alerts);
  if (entries.length <= MAX_TRACKED_ALERTS) return alerts;
  // Firing alerts are kept; the oldest resolved ones go first.
  const resolved = entries
    .filter(([, a]) => a.status === 'resolved')
    .sort(([, a], [, b]) => Date.parse(a.endsAt ?? a.startsAt) - Date.parse(b.endsAt ?? b.startsAt));
  const drop = new Set(resolved.slice(0, entries.length - MAX_TRACKED_ALERTS).map(([fp]) => fp));
  return Object.fromEntries(entries.filter(([fp]) => !drop.has(fp)));
}
