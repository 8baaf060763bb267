import type { V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { AuditRecord } from '../audit/audit-record.ts';
import { isWheelhouseError } from '../errors.ts';
import { mergeEvents } from '../kube/event-summary.ts';
import { formatLabelSelector } from '../kube/label-selector.ts';
import { describeLastTermination, explainPod, formatAge, summarizePod } from '../kube/pod-status.ts';
import type { KubeReader, WorkloadRef } from '../kube/types.ts';
import type { Attachment, Section, SkillResult } from '../skills/result.ts';
import { metricTemplate, podPatternOf } from '../sources/metric-templates.ts';
import type { ChartRenderer, MetricSeries, MetricsSource } from '../sources/types.ts';
import { alertTime, generatorExpression } from './alertmanager-payload.ts';
import type { IncidentState, IncidentWorkload, TrackedAlert } from './incident-state.ts';
import { workloadArg } from './incident-view.ts';

/** What enrichment reads from; all of it acts as Wheelhouse's own identity. */
export interface EnrichmentDeps {
  kube: KubeReader;
  metrics: MetricsSource | undefined;
  charts: ChartRenderer;
  redact: (text: string) => string;
  /** The newest audit records (Wheelhouse's own changes). */
  auditTail: (limit: number) => Promise<AuditRecord[]>;
  now: () => Date;
  /** Budget of each part (pods, events, logs, chart, changes); a slow part is reported, not awaited. @default 6000 */
  partTimeoutMs?: number | undefined;
}

/** Pods whose state and logs are shown at most. */
const MAX_PODS = 5;
/** Pods whose logs are read. */
const MAX_LOG_PODS = 3;
const LOG_TAIL = 200;
const LOG_LINES_SHOWN = 20;
const EVENTS_SHOWN = 10;
const CHANGES_WINDOW_MS = 2 * 3600_000;
const ERROR_LINE = /\b(error|err|fatal|panic|exception|fail(ed|ure)?|critical|oom|killed|refused|timeout)\b/i;

const WORKLOAD_LABELS: Array<[string, IncidentWorkload['kind']]> = [
  ['deployment', 'Deployment'],
  ['statefulset', 'StatefulSet'],
  ['daemonset', 'DaemonSet'],
  // Not `job`: in Prometheus that is the scrape job; kube-state-metrics names Jobs `job_name`.
  ['job_name', 'Job'],
];

/** The labels an incident's workload is found from: common labels, else the first alert's. */
function labelsOf(state: IncidentState): Record<string, string> {
  const first = Object.values(state.alerts)[0]?.labels ?? {};
  return { ...first, ...state.commonLabels, ...state.groupLabels };
}

/**
 * The workload an alert is about, from its labels: a controller label (deployment, statefulset,
 * daemonset, job_name) directly; a pod label through the pod's controller (ReplicaSet → Deployment);
 * an `app` label as a Deployment of that name when one exists. null when nothing names one.
 */
export async function resolveWorkload(
  kube: KubeReader,
  state: IncidentState,
): Promise<IncidentWorkload | null> {
  const labels = labelsOf(state);
  const namespace = labels.namespace;
  if (!namespace) return null;
  for (const [label, kind] of WORKLOAD_LABELS) {
    const name = labels[label];
    const found = name
      ? await withReplicas(kube, { kind, name, namespace }).catch(notFoundAsUndefined)
      : undefined;
    if (found) return found;
  }
  if (labels.pod) {
    const owner = await controllerOfPod(kube, namespace, labels.pod).catch(notFoundAsUndefined);
    const found = owner ? await withReplicas(kube, owner).catch(notFoundAsUndefined) : undefined;
    return found ?? { kind: 'Pod', name: labels.pod, namespace };
  }
  if (labels.app) {
    return (
      (await withReplicas(kube, { kind: 'Deployment', name: labels.app, namespace }).catch(
        notFoundAsUndefined,
      )) ?? null
    );
  }
  return null;
}

async function controllerOfPod(
  kube: KubeReader,
  namespace: string,
  pod: string,
): Promise<IncidentWorkload | undefined> {
  const found = await kube.getWorkload({ kind: 'Pod', namespace, name: pod });
  const owner = found.object.metadata?.ownerReferences?.find((o) => o.controller);
  if (!owner) return undefined;
  if (owner.kind === 'ReplicaSet') {
    const rs = await kube.getWorkload({ kind: 'ReplicaSet', namespace, name: owner.name });
    const deploy = rs.object.metadata?.ownerReferences?.find((o) => o.controller && o.kind === 'Deployment');
    return deploy ? { kind: 'Deployment', name: deploy.name, namespace } : undefined;
  }
  if (owner.kind === 'StatefulSet' || owner.kind === 'DaemonSet' || owner.kind === 'Job') {
    return { kind: owner.kind, name: owner.name, namespace };
  }
  return undefined;
}

async function withReplicas(kube: KubeReader, w: IncidentWorkload): Promise<IncidentWorkload> {
  const found = await kube.getWorkload({ kind: w.kind, namespace: w.namespace, name: w.name });
  if (found.kind === 'Deployment' || found.kind === 'StatefulSet') {
    return { ...w, replicas: found.object.spec?.replicas ?? 1 };
  }
  return w;
}

function notFoundAsUndefined(error: unknown): undefined {
  if (isWheelhouseError(error) && error.code === 'NOT_FOUND') return undefined;
  throw error;
}

/**
 * What an on-call engineer would otherwise gather by hand, as one thread message: pod states,
 * restarts and last terminations, warning events, the last log lines (errors first, redacted),
 * a chart of the alert's own expression around its start plus the workload's CPU and memory,
 * what changed (rollouts in the last two hours, Wheelhouse's own audited changes) and the runbook.
 * Every part has its own time budget; a part that fails or is slow says so and the rest is shown.
 */
export async function enrichIncident(deps: EnrichmentDeps, state: IncidentState): Promise<SkillResult> {
  const now = deps.now();
  const budget = deps.partTimeoutMs ?? 6000;
  const workload = state.workload ?? undefined;
  const labels = labelsOf(state);
  const namespace = workload?.namespace ?? labels.namespace;
  const alerts = Object.values(state.alerts);

  const pods = namespace
    ? await timed(budget, 'pods', () => podsOf(deps.kube, workload, alerts, namespace))
    : ok([]);
  const podList = pods.ok ? pods.value : [];
  const [events, logs, charts, changes] = await Promise.all([
    namespace
      ? timed(budget, 'events', () => warningEvents(deps.kube, namespace, workload, podList))
      : ok(undefined),
    timed(budget, 'logs', () => logLines(deps, podList)),
    timed(budget, 'charts', () => chartsOf(deps, state, workload, namespace, now)),
    namespace ? timed(budget, 'changes', () => whatChanged(deps, namespace, workload, now)) : ok(undefined),
  ]);

  const sections: Section[] = [];
  const attachments: Attachment[] = [];
  const problems: string[] = [];
  const add = <T>(part: Part<T>, use: (value: T) => void): void => {
    if (part.ok) use(part.value);
    else problems.push(part.problem);
  };
  add(pods, (list) => {
    if (list.length > 0) sections.push(podsSection(list, now));
    const why = list.flatMap((p) => explainPod(p, now).map((line) => `${p.metadata?.name ?? '?'}: ${line}`));
    if (why.length > 0)
      sections.push({ type: 'list', title: 'Why it is unhealthy', items: why.slice(0, 10), tone: 'warning' });
  });
  add(events, (section) => section && sections.push(section));
  add(changes, (list) => list && sections.push(...list));
  add(logs, (section) => section && sections.push(section));
  add(charts, (out) => {
    sections.push(...out.sections);
    attachments.push(...out.attachments);
  });
  const runbook = state.commonAnnotations.runbook_url ?? state.commonAnnotations.runbook;
  if (runbook) sections.push({ type: 'text', text: `Runbook: ${runbook}` });
  const description = state.commonAnnotations.description;
  if (description) sections.unshift({ type: 'text', text: deps.redact(description) });
  if (problems.length > 0)
    sections.push({ type: 'list', title: 'Not shown', items: problems, tone: 'warning' });

  const subject = workload ? `${workloadArg(workload)} in ${workload.namespace}` : (namespace ?? 'the alert');
  const unhealthy = podList.filter((p) => summarizePod(p, now).status !== 'Running').length;
  return {
    summary: `What Wheelhouse found about ${subject}: ${podList.length} pod(s)${unhealthy ? `, ${unhealthy} not running` : ''}.`,
    tone: 'info',
    sections,
    attachments,
  };
}

// --- Parts -------------------------------------------------------------------------------------

type Part<T> = { ok: true; value: T } | { ok: false; problem: string };

const ok = <T>(value: T): Part<T> => ({ ok: true, value });

async function timed<T>(ms: number, what: string, work: () => Promise<T>): Promise<Part<T>> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Part<T>>((resolve) => {
    timer = setTimeout(
      () => resolve({ ok: false, problem: `${what}: no answer within ${Math.round(ms / 1000)} s` }),
      ms,
    );
  });
  try {
    return await Promise.race([
      work().then(
        (value): Part<T> => ({ ok: true, value }),
        (error: unknown): Part<T> => ({
          ok: false,
          problem: `${what}: ${error instanceof Error ? error.message : String(error)}`,
        }),
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function podsOf(
  kube: KubeReader,
  workload: IncidentWorkload | undefined,
  alerts: TrackedAlert[],
  namespace: string,
): Promise<V1Pod[]> {
  let pods: V1Pod[];
  if (workload && workload.kind !== 'Pod') {
    pods = await kube.podsOf({ kind: workload.kind, namespace: workload.namespace, name: workload.name });
  } else {
    const names = [...new Set(alerts.map((a) => a.labels.pod).filter((p): p is string => p !== undefined))];
    const found = await Promise.all(
      names
        .slice(0, MAX_PODS)
        .map((name) =>
          kube
            .getWorkload({ kind: 'Pod', namespace, name })
            .then((w) => (w.kind === 'Pod' ? w.object : undefined), notFoundAsUndefined),
        ),
    );
    pods = found.filter((p): p is V1Pod => p !== undefined);
  }
  // The unhealthy ones first: they are why the alert fired.
  return [...pods]
    .sort(
      (a, b) =>
        restartsOf(b) - restartsOf(a) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''),
    )
    .slice(0, MAX_PODS);
}

function restartsOf(pod: V1Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((n, s) => n + s.restartCount, 0);
}

function podsSection(pods: V1Pod[], now: Date): Section {
  return {
    type: 'table',
    columns: ['POD', 'READY', 'STATUS', 'RESTARTS', 'LAST TERMINATION', 'AGE'],
    rows: pods.map((pod) => {
      const s = summarizePod(pod, now);
      const last = (pod.status?.containerStatuses ?? [])
        .map((c) => describeLastTermination(c, now))
        .filter((t): t is string => t !== undefined);
      return [s.name, s.ready, s.status, s.restartsText, last[0] ?? '–', s.age];
    }),
    caption: `Pods of the workload, most restarts first`,
  };
}

async function warningEvents(
  kube: KubeReader,
  namespace: string,
  workload: IncidentWorkload | undefined,
  pods: V1Pod[],
): Promise<Section | undefined> {
  const names = new Set(pods.map((p) => p.metadata?.name));
  if (workload) names.add(workload.name);
  const events = (await kube.listEvents({ namespace })).filter(
    (e) =>
      e.type === 'Warning' &&
      (names.has(e.involvedObject.name) ||
        (workload !== undefined && (e.involvedObject.name ?? '').startsWith(`${workload.name}-`))),
  );
  if (events.length === 0) return undefined;
  const merged = mergeEvents(events).slice(0, EVENTS_SHOWN);
  return {
    type: 'table',
    columns: ['LAST SEEN', 'REASON', 'OBJECT', 'COUNT', 'MESSAGE'],
    rows: merged.map((e) => [
      e.last ? `${formatAge(e.last, new Date())} ago` : '?',
      e.reason,
      e.object,
      String(e.count),
      e.message,
    ]),
    caption: `Warning events, newest first${events.length > merged.length ? ` (${merged.length} of ${events.length})` : ''}`,
  };
}

/** The last lines of the implicated pods: the crashed container's when it restarted, errors first. */
async function logLines(deps: EnrichmentDeps, pods: V1Pod[]): Promise<Section | undefined> {
  const reads = pods.slice(0, MAX_LOG_PODS).flatMap((pod) => {
    const name = pod.metadata?.name ?? '';
    const namespace = pod.metadata?.namespace ?? '';
    const statuses = pod.status?.containerStatuses ?? [];
    const first = statuses[0] ?? undefined;
    if (!first) return [];
    const crashed = first.restartCount > 0 && first.state?.running === undefined;
    return [
      deps.kube
        .readLog({
          namespace,
          pod: name,
          container: first.name,
          tailLines: LOG_TAIL,
          previous: crashed,
          limitBytes: 256_000,
        })
        .then(
          (text) => ({ source: `${name}/${first.name}${crashed ? ' (previous)' : ''}`, text }),
          () => ({ source: `${name}/${first.name}`, text: '' }),
        ),
    ];
  });
  const results = await Promise.all(reads);
  const lines = results.flatMap((r) =>
    r.text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => `${r.source} ${deps.redact(l)}`),
  );
  if (lines.length === 0) return undefined;
  const errors = lines.filter((l) => ERROR_LINE.test(l));
  const rest = lines.filter((l) => !ERROR_LINE.test(l));
  // Errors first (the newest of them), then the newest other lines, as many as fit.
  const shown = [
    ...errors.slice(-LOG_LINES_SHOWN),
    ...rest.slice(-Math.max(0, LOG_LINES_SHOWN - errors.length)),
  ].slice(0, LOG_LINES_SHOWN);
  return { type: 'logs', lines: shown, total: lines.length };
}

interface ChartsOut {
  sections: Section[];
  attachments: Attachment[];
}

/** The alert's own expression from 30 minutes before it started until now, and the workload's CPU and memory. */
async function chartsOf(
  deps: EnrichmentDeps,
  state: IncidentState,
  workload: IncidentWorkload | undefined,
  namespace: string | undefined,
  now: Date,
): Promise<ChartsOut> {
  const out: ChartsOut = { sections: [], attachments: [] };
  const metrics = deps.metrics;
  if (metrics === undefined) return out;
  const first = Object.values(state.alerts)[0];
  const expr = first ? generatorExpression(first.generatorURL) : undefined;
  const started = alertTime(state.startedAt) ?? now;
  const start = new Date(Math.min(started.getTime() - 30 * 60_000, now.getTime() - 15 * 60_000));
  const step = Math.max(15, Math.ceil((now.getTime() - start.getTime()) / 1000 / 300));
  const queries: Array<{ title: string; query: string; unit: string; file: string }> = [];
  if (expr)
    queries.push({ title: `Alert expression: ${expr}`, query: expr, unit: '', file: 'alert-expression.png' });
  if (workload && namespace) {
    const pods = { namespace, podPattern: podPatternOf({ kind: workload.kind, name: workload.name }) };
    for (const name of ['cpu', 'memory'] as const) {
      const t = metricTemplate(name);
      queries.push({
        title: `${t.title} of ${workloadArg(workload)}`,
        query: t.build(pods),
        unit: t.unit,
        file: `${name}.png`,
      });
    }
  }
  const results = await Promise.all(
    queries.map(async (q) => ({
      q,
      series: await metrics.rangeQuery({ query: q.query, start, end: now, stepSeconds: step }),
    })),
  );
  for (const { q, series } of results) {
    const usable = series
      .map((s) => ({ name: seriesName(s), points: s.points.filter(([, v]) => Number.isFinite(v)) }))
      .filter((s) => s.points.length > 0)
      .slice(0, 10);
    if (usable.length === 0) {
      out.sections.push({
        type: 'text',
        text: `${q.title}: no data between ${start.toISOString()} and now.`,
      });
      continue;
    }
    const png = await deps.charts.renderLineChart({ title: q.title, unit: q.unit, series: usable });
    out.attachments.push({ name: q.file, title: q.title, mimeType: 'image/png', content: png });
    out.sections.push({
      type: 'chart',
      title: q.title,
      attachment: q.file,
      stats: usable.map((s) => {
        const values = s.points.map(([, v]) => v);
        const avg = values.reduce((a, b) => a + b, 0) / values.length;
        return {
          series: s.name,
          min: Math.min(...values),
          avg,
          max: Math.max(...values),
          last: values.at(-1) ?? Number.NaN,
          unit: q.unit,
        };
      }),
    });
  }
  return out;
}

function seriesName(series: MetricSeries): string {
  const entries = Object.entries(series.labels).filter(([k]) => k !== '__name__');
  if (entries.length === 0) return series.labels.__name__ ?? 'value';
  const pod = series.labels.pod;
  if (pod) return pod;
  return entries.map(([k, v]) => `${k}=${v}`).join(', ');
}

/** Rollouts of the workload in the last two hours and Wheelhouse's own changes in the namespace, newest first. */
async function whatChanged(
  deps: EnrichmentDeps,
  namespace: string,
  workload: IncidentWorkload | undefined,
  now: Date,
): Promise<Section[]> {
  const since = now.getTime() - CHANGES_WINDOW_MS;
  const items: Array<{ at: number; text: string }> = [];
  if (workload?.kind === 'Deployment') {
    const ref: WorkloadRef = { kind: 'Deployment', namespace, name: workload.name };
    const deployment = await deps.kube.getWorkload(ref);
    if (deployment.kind === 'Deployment') {
      const selector = formatLabelSelector(deployment.object.spec?.selector) || undefined;
      const uid = deployment.object.metadata?.uid;
      const owned = (await deps.kube.listReplicaSets(namespace, selector)).filter((rs) =>
        rs.metadata?.ownerReferences?.some(
          (o) => o.controller && (uid ? o.uid === uid : o.name === workload.name),
        ),
      );
      for (const rs of owned) {
        const at = rs.metadata?.creationTimestamp?.getTime();
        if (at === undefined || at < since) continue;
        const images = imagesOf(rs);
        items.push({
          at,
          text: `${formatAge(new Date(at), now)} ago: rollout to revision ${revisionOf(rs)}${images ? ` (${images})` : ''}`,
        });
      }
    }
  }
  const records = await deps.auditTail(2000);
  for (const r of records) {
    const at = Date.parse(r.time);
    if (!(at >= since) || !isChange(r) || !inNamespace(r, namespace)) continue;
    items.push({
      at,
      text: `${formatAge(new Date(at), now)} ago: ${r.actor.name ?? r.actor.id} — ${r.type}: ${r.message}`,
    });
  }
  if (items.length === 0) {
    return [
      {
        type: 'text',
        text: `What changed: no rollouts${workload ? ` of ${workloadArg(workload)}` : ''} and no Wheelhouse changes in ${namespace} in the last 2 h.`,
      },
    ];
  }
  items.sort((a, b) => b.at - a.at);
  return [
    {
      type: 'list',
      title: 'What changed in the last 2 h (newest first)',
      items: items.slice(0, 15).map((i) => i.text),
    },
  ];
}

function revisionOf(rs: V1ReplicaSet): string {
  return rs.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? '?';
}

function imagesOf(rs: V1ReplicaSet): string {
  return (rs.spec?.template?.spec?.containers ?? []).map((c) => `${c.name}=${c.image ?? '?'}`).join(', ');
}

/** Applied changes and approval decisions, not previews or reads. */
function isChange(r: AuditRecord): boolean {
  return (
    r.type === 'change.done' ||
    r.type.startsWith('change.verify.') ||
    r.type.startsWith('change.rollback') ||
    r.type === 'approval.denied' ||
    r.type.startsWith('approval.vote.') ||
    r.type === 'alert.silence'
  );
}

function inNamespace(r: AuditRecord, namespace: string): boolean {
  const input = r.input;
  if (input !== null && typeof input === 'object' && 'namespace' in input && input.namespace === namespace)
    return true;
  return new RegExp(
    `(^|\\s)(-n|--namespace)\\s+${namespace.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\s|$)`,
  ).test(r.text);
}
