import type { ActionsSection, Tone } from '../skills/result.ts';
import { generatorExpression } from './alertmanager-payload.ts';
import { countAlerts, humanSpan, type IncidentState, type IncidentWorkload } from './incident-state.ts';

/**
 * What the root message of an incident thread shows, chat-neutral: the Slack renderer
 * (src/chat/slack/slack-incidents.ts) is the only code that turns it into blocks.
 */
export interface IncidentView {
  /** The group's summary annotation, else its alert name. */
  title: string;
  alertname: string;
  status: 'firing' | 'resolved';
  tone: Tone;
  severity: string | undefined;
  namespace: string | undefined;
  /** "deploy/crashy in shop", or the pod when no controller is known. */
  workload: string | undefined;
  counts: { firing: number; resolved: number; total: number; truncated: number };
  startedAt: Date;
  resolvedAt: Date | undefined;
  /** "12m" once resolved. */
  duration: string | undefined;
  /** The rule's PromQL, from the generatorURL. */
  expression: string | undefined;
  links: Array<{ label: string; url: string }>;
  /** Active silences, one line each. */
  silences: string[];
  /** Buttons under the root message; each carries the command it stands for. */
  actions: ActionsSection['actions'];
  /** Shown small at the bottom: the thread's run id (the handle typed commands use). */
  incidentId: string;
  /** The cluster the alert is about, when Wheelhouse serves several. */
  cluster?: string | undefined;
}

export interface ViewOptions {
  /** Run id of the thread. */
  incidentId: string;
  /** Alertmanager base URL when configured; else the payload's externalURL. */
  alertmanagerUrl: string | undefined;
  /** Silence lengths offered as buttons, e.g. ["1h", "8h"]. */
  silenceDurations: readonly string[];
  /** The command of an Investigate button, when a model is configured (see AlertsOptions.investigate). */
  investigate?: ((incident: { id: string; state: IncidentState }) => string | undefined) | undefined;
  now: Date;
}

const SHORT: Record<IncidentWorkload['kind'], string> = {
  Deployment: 'deploy',
  StatefulSet: 'sts',
  DaemonSet: 'ds',
  Job: 'job',
  Pod: 'pod',
};

/** The workload as a command argument, e.g. "deploy/crashy". */
export function workloadArg(w: IncidentWorkload): string {
  return `${SHORT[w.kind]}/${w.name}`;
}

export function incidentView(state: IncidentState, options: ViewOptions): IncidentView {
  const labels = { ...state.commonLabels, ...state.groupLabels };
  const counts = countAlerts(state.alerts, state.truncatedAlerts);
  const firstAlert = Object.values(state.alerts)[0];
  const resolvedAt = state.status === 'resolved' && state.resolvedAt ? new Date(state.resolvedAt) : undefined;
  const startedAt = new Date(state.startedAt);
  const alertname = labels.alertname ?? 'alert';
  const base = (options.alertmanagerUrl || state.externalURL).replace(/\/+$/, '');
  const links: IncidentView['links'] = [];
  if (base)
    links.push({
      label: 'Alertmanager',
      url: `${base}/#/alerts?filter=${encodeURIComponent(groupFilter(state))}`,
    });
  const generator = firstAlert?.generatorURL;
  if (generator) links.push({ label: 'Source expression', url: generator });
  const runbook = state.commonAnnotations.runbook_url ?? state.commonAnnotations.runbook;
  if (runbook) links.push({ label: 'Runbook', url: runbook });
  const dashboard = state.commonAnnotations.dashboard_url ?? state.commonAnnotations.dashboard;
  if (dashboard) links.push({ label: 'Dashboard', url: dashboard });

  const now = options.now.getTime();
  const silences = state.silences
    .filter((s) => Date.parse(s.until) > now)
    .map((s) => `silenced by ${s.by} until ${s.until} (silence ${s.id})`);
  return {
    title: state.commonAnnotations.summary ?? alertname,
    alertname,
    status: state.status,
    tone: state.status === 'resolved' ? 'success' : labels.severity === 'critical' ? 'error' : 'warning',
    severity: labels.severity,
    namespace: labels.namespace,
    workload: workloadText(state),
    counts,
    startedAt,
    resolvedAt,
    duration: resolvedAt ? humanSpan(resolvedAt.getTime() - startedAt.getTime()) : undefined,
    expression: generator ? generatorExpression(generator) : undefined,
    links,
    silences,
    actions: state.status === 'resolved' ? [] : incidentActions(state, options),
    incidentId: options.incidentId,
  };
}

/**
 * The buttons: Silence (one per offered length), and for a known workload Roll back (Deployments),
 * Restart and Scale (+1 replica), each the typed command a user could send, so a click takes the
 * same road (policy, preview, approval, audit) as the clicking user. Investigate only when wired.
 */
export function incidentActions(state: IncidentState, options: ViewOptions): ActionsSection['actions'] {
  const actions: ActionsSection['actions'] = options.silenceDurations.map((d) => ({
    label: `Silence ${d}`,
    command: `silence ${options.incidentId} --for ${d}`,
  }));
  const w = state.workload;
  if (w) {
    const target = `${workloadArg(w)} -n ${w.namespace}`;
    if (w.kind === 'Deployment')
      actions.push({ label: 'Roll back', command: `rollback ${target}`, style: 'danger' });
    if (w.kind === 'Deployment' || w.kind === 'StatefulSet' || w.kind === 'DaemonSet') {
      actions.push({ label: 'Restart', command: `restart ${target}` });
    }
    if ((w.kind === 'Deployment' || w.kind === 'StatefulSet') && w.replicas !== undefined) {
      actions.push({
        label: `Scale to ${w.replicas + 1}`,
        command: `scale ${target} --replicas ${w.replicas + 1}`,
      });
    }
  }
  const investigate = options.investigate?.({ id: options.incidentId, state });
  if (investigate) actions.push({ label: 'Investigate', command: investigate, style: 'primary' });
  return actions;
}

/** Alertmanager's filter syntax for the group: its group labels. */
function groupFilter(state: IncidentState): string {
  const matchers = Object.entries(state.groupLabels).map(([k, v]) => `${k}="${v.replaceAll('"', '\\"')}"`);
  return `{${matchers.join(',')}}`;
}

function workloadText(state: IncidentState): string | undefined {
  const w = state.workload;
  if (w) return `${workloadArg(w)} in ${w.namespace}`;
  const l = { ...state.commonLabels, ...state.groupLabels };
  const name = l.deployment ?? l.statefulset ?? l.daemonset ?? l.job ?? l.pod ?? l.app;
  if (name === undefined) return undefined;
  return l.namespace ? `${name} in ${l.namespace}` : name;
}
