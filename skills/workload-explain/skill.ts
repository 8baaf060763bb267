import type { CoreV1Event, V1ContainerStatus, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { z } from 'zod';
import { isWheelhouseError } from '../../src/errors.ts';
import { mergeEvents } from '../../src/kube/event-summary.ts';
import { formatLabelSelector } from '../../src/kube/label-selector.ts';
import { formatAge } from '../../src/kube/pod-status.ts';
import type { Workload, WorkloadRef } from '../../src/kube/types.ts';
import { formatWorkloadRef, parseWorkloadRef } from '../../src/kube/workload-ref.ts';
import { workloadStatus } from '../../src/kube/workload-status.ts';
import type { SkillContext } from '../../src/skills/context.ts';
import { defineSkill } from '../../src/skills/define-skill.ts';
import type { Section, Tone } from '../../src/skills/result.ts';
import { dnsLabel } from '../../src/skills/schema.ts';
import { formatMetricValue, metricTemplate, podPatternOf } from '../../src/sources/metric-templates.ts';

/** Log lines quoted per crashing container. */
const LOG_LINES = 8;
const REVISION = 'deployment.kubernetes.io/revision';

/** One rule-based finding: what is wrong, the evidence quoted, and what would fix it. */
interface Finding {
  title: string;
  evidence: string[];
  fix: string;
  severity: 'error' | 'warning';
}

export const workloadExplain = defineSkill({
  name: 'workload-explain',
  title: 'Explain what is wrong with a workload',
  description:
    'A root-cause summary for one workload or pod, with the evidence quoted: crash loops with the last log lines ' +
    'and exit code, OOM kills against the memory limit (and memory use from Prometheus), image pull failures with ' +
    'the image, unschedulable pods, stuck rollouts, and what changed recently (rollout revisions and their images). ' +
    'Works without a language model (rules). Use when asked why something is broken, crashing, restarting, not ready, ' +
    'or what is wrong with an app. Not for the full status table (use workload-describe), why a pod is not ' +
    'scheduled in depth (use pod-why-pending), or raw logs (use pod-logs).',
  input: z.object({
    target: z
      .string()
      .min(1)
      .max(300)
      .describe('The workload or pod, as KIND/NAME or a pod name, e.g. "deploy/crashy" or "huge"'),
    namespace: dnsLabel.describe('Namespace, e.g. "shop"'),
  }),
  risk: 'read',
  verbs: ['get', 'list'],
  resources: [
    'deployments',
    'statefulsets',
    'daemonsets',
    'replicasets',
    'jobs',
    'pods',
    'pods/log',
    'events',
  ],
  grammar: {
    command: 'explain',
    positional: ['target', 'namespace'],
    short: { n: 'namespace' },
  },
  examples: [
    {
      utterance: 'crashy in shop keeps restarting, what is wrong?',
      command: '/wh explain deploy/crashy -n shop',
      input: { target: 'deploy/crashy', namespace: 'shop' },
    },
  ],
  summarize: (i) => `explain what is wrong with ${i.target} in ${i.namespace}`,
  async run(input, ctx) {
    const ref = parseWorkloadRef(input.target, input.namespace);
    const now = ctx.now();
    const workload = await ctx.kube.getWorkload(ref);
    const pods = workload.kind === 'Pod' ? [workload.object] : await ctx.kube.podsOf(ref);
    const status = workloadStatus(workload, now);
    const findings: Finding[] = [];
    const notes: string[] = [];
    for (const pod of pods) findings.push(...(await podFindings(pod, ctx, notes)));
    for (const problem of status.problems) {
      if (/progress deadline|ProgressDeadlineExceeded/i.test(problem)) {
        findings.push({
          title: 'The rollout is stuck',
          evidence: [problem],
          fix: 'Fix the new pods (above) or roll back to the last good revision.',
          severity: 'error',
        });
      }
    }
    const events = await warningEvents(ctx, ref, pods);
    const changes = await recentChanges(ctx, workload, now, notes);
    const memory = await memoryUse(ctx, ref, findings, notes);
    notes.push(
      'The Wheelhouse audit log is not consulted here; `wheelhouse audit tail` shows changes made through Wheelhouse.',
    );

    const merged = dedupe(findings);
    const where = `${formatWorkloadRef(ref)} in ${ref.namespace}`;
    const sections: Section[] = [];
    if (merged.length) {
      sections.push({
        type: 'list',
        title: 'Findings',
        tone: toneOf(merged),
        items: merged.map((f) => f.title),
      });
      for (const f of merged) {
        sections.push({
          type: 'list',
          title: `Evidence: ${f.title}`,
          items: f.evidence.map((e) => `"${ctx.redact(e)}"`),
        });
      }
      sections.push({
        type: 'list',
        title: 'What would fix it',
        items: [...new Set(merged.map((f) => f.fix))],
      });
    }
    if (memory) sections.push(memory);
    if (changes.length) sections.push({ type: 'list', title: 'What changed recently', items: changes });
    if (events.length)
      sections.push({ type: 'list', title: 'Warning events', items: events.map(ctx.redact) });
    sections.push({ type: 'list', title: 'Not covered', items: notes, tone: 'info' });
    const first = merged[0];
    return {
      summary: first
        ? `${where}: ${first.title}${merged.length > 1 ? ` (+${merged.length - 1} more finding(s))` : ''}.`
        : `${where}: no known failure pattern found; ${status.ready} ready.`,
      tone: merged.length ? toneOf(merged) : 'success',
      sections,
    };
  },
});

async function podFindings(pod: V1Pod, ctx: SkillContext, notes: string[]): Promise<Finding[]> {
  const name = pod.metadata?.name ?? '?';
  const namespace = pod.metadata?.namespace ?? '';
  const out: Finding[] = [];
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    out.push({
      title: `pod ${name} cannot be scheduled`,
      evidence: [scheduled.message ?? 'Unschedulable'],
      fix: `See why: \`/wh why-pending ${name} -n ${namespace}\` names the blocking constraint and the fix.`,
      severity: 'error',
    });
  }
  const specs = new Map((pod.spec?.containers ?? []).map((c) => [c.name, c]));
  for (const status of pod.status?.containerStatuses ?? []) {
    const waiting = status.state?.waiting?.reason;
    const terminated = status.state?.terminated ?? status.lastState?.terminated;
    const oom = terminated?.reason === 'OOMKilled';
    if (oom) {
      const limit = specs.get(status.name)?.resources?.limits?.['memory'];
      out.push({
        title: `container ${status.name} is killed for using too much memory (OOMKilled)`,
        evidence: [
          `${name}/${status.name}: terminated OOMKilled, exit code ${terminated?.exitCode ?? 137}, ${status.restartCount} restart(s)`,
          limit ? `memory limit ${limit}` : 'no memory limit set: the node ran out of memory',
        ],
        fix: limit
          ? `Raise the memory limit of ${status.name} above ${limit} (or find the leak); the memory chart shows how close it runs.`
          : 'Set a memory request and limit that match its real use.',
        severity: 'error',
      });
    } else if (
      waiting === 'CrashLoopBackOff' ||
      (terminated && terminated.exitCode !== 0 && status.restartCount > 0)
    ) {
      const logs = await lastLogs(ctx, namespace, name, status, notes);
      out.push({
        title: `container ${status.name} crashes on start (CrashLoopBackOff)`,
        evidence: [
          `${name}/${status.name}: last exit code ${terminated?.exitCode ?? '?'}${terminated?.reason ? ` (${terminated.reason})` : ''}, ${status.restartCount} restart(s)`,
          ...logs,
        ],
        fix: 'Read the last log lines above for the cause (configuration, a dependency, a bad release); roll back if a recent change started it.',
        severity: 'error',
      });
    }
    if (waiting === 'ImagePullBackOff' || waiting === 'ErrImagePull' || waiting === 'InvalidImageName') {
      out.push({
        title: `image ${status.image || specs.get(status.name)?.image || '?'} cannot be pulled`,
        evidence: [
          `${name}/${status.name}: ${waiting}${status.state?.waiting?.message ? `: ${status.state.waiting.message}` : ''}`,
        ],
        fix: 'Check that the image tag exists in the registry and that the pull secret grants access; or deploy a known tag.',
        severity: 'error',
      });
    }
  }
  return out;
}

/** The previous container's last lines (the crash), or the current one's when there is no previous. */
async function lastLogs(
  ctx: SkillContext,
  namespace: string,
  pod: string,
  status: V1ContainerStatus,
  notes: string[],
): Promise<string[]> {
  for (const previous of [true, false]) {
    try {
      const text = await ctx.kube.readLog({
        namespace,
        pod,
        container: status.name,
        previous,
        tailLines: LOG_LINES,
        limitBytes: 64_000,
      });
      const lines = text
        .split('\n')
        .filter(Boolean)
        .map((l) => l.replace(/^\S+Z /, ''));
      if (lines.length) return lines.map((l) => `${previous ? '(previous) ' : ''}${l}`);
    } catch (e) {
      if (!isWheelhouseError(e)) throw e;
      if (e.code === 'FORBIDDEN') {
        notes.push(`Logs are left out: ${e.message}`);
        return [];
      }
    }
  }
  return [];
}

async function warningEvents(ctx: SkillContext, ref: WorkloadRef, pods: V1Pod[]): Promise<string[]> {
  let events: CoreV1Event[];
  try {
    events = await ctx.kube.listEvents({ namespace: ref.namespace });
  } catch (e) {
    if (isWheelhouseError(e) && e.code === 'FORBIDDEN') return [`Events are left out: ${e.message}`];
    throw e;
  }
  const names = new Set([ref.name, ...pods.map((p) => p.metadata?.name ?? '')]);
  return mergeEvents(events.filter((e) => e.type === 'Warning' && names.has(e.involvedObject.name ?? '')))
    .slice(0, 6)
    .map((e) => `${e.reason} ${e.object} (×${e.count}): ${e.message}`);
}

/** Rollout revisions of a Deployment with when each started and its images: "what changed". */
async function recentChanges(
  ctx: SkillContext,
  workload: Workload,
  now: Date,
  notes: string[],
): Promise<string[]> {
  if (workload.kind !== 'Deployment') {
    notes.push('Rollout history is read for Deployments only.');
    return [];
  }
  const deployment = workload.object;
  const selector = formatLabelSelector(deployment.spec?.selector) || undefined;
  let replicaSets: V1ReplicaSet[];
  try {
    replicaSets = await ctx.kube.listReplicaSets(deployment.metadata?.namespace ?? '', selector);
  } catch (e) {
    if (isWheelhouseError(e) && e.code === 'FORBIDDEN') {
      notes.push(`Rollout history is left out: ${e.message}`);
      return [];
    }
    throw e;
  }
  const revisions = replicaSets
    .filter((rs) =>
      rs.metadata?.ownerReferences?.some(
        (o) => o.kind === 'Deployment' && o.name === deployment.metadata?.name,
      ),
    )
    .map((rs) => ({ number: Number(rs.metadata?.annotations?.[REVISION] ?? 0), rs }))
    .filter((r) => r.number > 0)
    .sort((a, b) => b.number - a.number)
    .slice(0, 3);
  return revisions.map(({ number, rs }, i) => {
    const images = (rs.spec?.template?.spec?.containers ?? []).map((c) => c.image ?? '?').join(', ');
    const age = formatAge(rs.metadata?.creationTimestamp, now);
    return `revision ${number}${i === 0 ? ' (current)' : ''}: ${images || '(images not recorded)'}, created ${age} ago`;
  });
}

/** Memory working set against the limit when an OOM kill was found and Prometheus is there. */
async function memoryUse(
  ctx: SkillContext,
  ref: WorkloadRef,
  findings: Finding[],
  notes: string[],
): Promise<Section | undefined> {
  if (!findings.some((f) => f.title.includes('OOMKilled'))) return undefined;
  if (!ctx.metrics) {
    notes.push('Memory use is left out: Prometheus is not configured.');
    return undefined;
  }
  const end = ctx.now();
  try {
    const series = await ctx.metrics.rangeQuery({
      query: metricTemplate('memory').build({ namespace: ref.namespace, podPattern: podPatternOf(ref) }),
      start: new Date(end.getTime() - 3600_000),
      end,
      stepSeconds: 60,
      signal: ctx.signal,
    });
    const peak = Math.max(...series.flatMap((s) => s.points.map(([, v]) => v)));
    if (!Number.isFinite(peak)) {
      notes.push('Prometheus has no memory samples for it in the last hour.');
      return undefined;
    }
    return {
      type: 'fields',
      title: 'Memory (last hour)',
      fields: [{ label: 'Peak working set', value: formatMetricValue(peak, 'bytes') }],
    };
  } catch (e) {
    if (!isWheelhouseError(e)) throw e;
    notes.push(`Memory use is left out: ${e.message}`);
    return undefined;
  }
}

/** The same finding on several pods of one workload is one finding with all the evidence. */
function dedupe(findings: Finding[]): Finding[] {
  const byTitle = new Map<string, Finding>();
  for (const f of findings) {
    const key = f.title.replace(/pod \S+/, 'pod');
    const known = byTitle.get(key);
    if (known) known.evidence.push(...f.evidence.slice(0, 2));
    else byTitle.set(key, { ...f, evidence: [...f.evidence] });
  }
  return [...byTitle.values()].sort((a, b) =>
    a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1,
  );
}

function toneOf(findings: Finding[]): Tone {
  return findings.some((f) => f.severity === 'error') ? 'error' : 'warning';
}
