import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import { z } from 'zod';
import { WheelhouseError } from '../../src/errors.ts';
import { parseQuantity } from '../../src/kube/scheduling-filter.ts';
import type { WorkloadRef } from '../../src/kube/types.ts';
import { formatWorkloadRef, parseWorkloadRef } from '../../src/kube/workload-ref.ts';
import type { SkillContext } from '../../src/skills/context.ts';
import { defineSkill } from '../../src/skills/define-skill.ts';
import type { Section } from '../../src/skills/result.ts';
import { dnsLabel, duration, formatDuration } from '../../src/skills/schema.ts';
import { type MetricTemplateName, metricTemplate, podPatternOf } from '../../src/sources/metric-templates.ts';

/** The HPA controller's default tolerance: no change while the ratio is within 10% of 1. */
export const HPA_TOLERANCE = 0.1;
/** Latency-driven scale-up is capped at doubling per recommendation. */
const MAX_LATENCY_FACTOR = 2;

/** The Horizontal Pod Autoscaler's rule: desired = ceil(current × metric / target), unless within tolerance. */
export function hpaDesired(current: number, metric: number, target: number): number {
  const ratio = metric / target;
  if (!Number.isFinite(ratio) || Math.abs(ratio - 1) <= HPA_TOLERANCE) return current;
  return Math.max(1, Math.ceil(current * ratio));
}

export const workloadScaleAdvice = defineSkill({
  name: 'workload-scale-advice',
  title: 'Advise how many replicas a workload needs',
  description:
    "Recommends a replica count from Prometheus data: the Horizontal Pod Autoscaler's rule (desired = ceil(current × " +
    'CPU utilisation / target), 10% tolerance) and outcome targets in the spirit of an AIAutoscaler: success rate, p99 ' +
    'latency and cost per hour; says when scaling cannot fix a problem. Offers the change as a `scale` command that goes ' +
    'through preview and approval. Use when asked how many replicas something needs, whether to scale, or to size for an ' +
    'SLO or a budget. Not for scaling right away (use workload-scale) or charts of a metric (use metrics-query).',
  input: z.object({
    target: z.string().min(1).max(300).describe('The Deployment or StatefulSet, e.g. "deploy/checkout"'),
    namespace: dnsLabel.describe('Namespace, e.g. "shop"'),
    targetCpu: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(70)
      .describe('Target CPU utilisation in percent of the CPU request, as an HPA sets it, e.g. 70'),
    successRate: z
      .number()
      .min(0)
      .max(100)
      .optional()
      .describe('Success-rate target in percent of HTTP requests not answered 5xx, e.g. 99.5'),
    p99Ms: z.number().positive().optional().describe('p99 latency target in milliseconds, e.g. 300'),
    maxCostPerHour: z.number().positive().optional().describe('Cost budget in US dollars per hour, e.g. 2.5'),
    coreHourUsd: z
      .number()
      .min(0)
      .default(0.04)
      .describe('Price of one requested CPU core per hour, e.g. 0.04'),
    gibHourUsd: z
      .number()
      .min(0)
      .default(0.005)
      .describe('Price of one requested GiB of memory per hour, e.g. 0.005'),
    window: duration.prefault('15m').describe('How much recent data to average, e.g. "15m" or "1h"'),
  }),
  risk: 'read',
  verbs: ['get', 'list'],
  resources: ['deployments', 'statefulsets', 'pods'],
  grammar: { command: 'scale-advice', positional: ['target'], short: { n: 'namespace' } },
  examples: [
    {
      utterance: 'how many replicas does checkout in shop need at 70% cpu?',
      command: '/wh scale-advice deploy/checkout -n shop --target-cpu 70',
      input: { target: 'deploy/checkout', namespace: 'shop', targetCpu: 70 },
    },
    {
      utterance: 'size checkout for 99.5% success and 300 ms p99 under 2 dollars an hour',
      command:
        '/wh scale-advice deploy/checkout -n shop --success-rate 99.5 --p99-ms 300 --max-cost-per-hour 2',
      input: {
        target: 'deploy/checkout',
        namespace: 'shop',
        successRate: 99.5,
        p99Ms: 300,
        maxCostPerHour: 2,
      },
    },
  ],
  summarize: (i) => `advise replicas for ${i.target} in ${i.namespace}`,
  async run(input, ctx) {
    const metrics = ctx.metrics;
    if (!metrics) {
      throw new WheelhouseError('SOURCE_NOT_CONFIGURED', 'Metrics are not configured.', {
        hint: 'Set `prometheus.url` in the config file (or the env WH_PROMETHEUS_URL) to your Prometheus.',
      });
    }
    const ref = parseWorkloadRef(input.target, input.namespace);
    if (ref.kind !== 'Deployment' && ref.kind !== 'StatefulSet') {
      throw new WheelhouseError(
        'INVALID_INPUT',
        `Scale advice is for Deployments and StatefulSets, not ${ref.kind}s.`,
        {
          hint: 'Name it as deploy/NAME or sts/NAME.',
        },
      );
    }
    const workload = await ctx.kube.getWorkload(ref);
    const spec =
      workload.kind === 'Deployment' || workload.kind === 'StatefulSet' ? workload.object.spec : undefined;
    const current = spec?.replicas ?? 1;
    const perPod = requestsOf(spec?.template);
    const where = `${formatWorkloadRef(ref)} in ${ref.namespace}`;

    const cpuPerPod = await averagePerSeries(ctx, ref, 'cpu', input.window);
    const utilisation =
      perPod.cpu > 0 && cpuPerPod !== undefined ? (cpuPerPod / perPod.cpu) * 100 : undefined;
    const hpa = utilisation === undefined ? current : hpaDesired(current, utilisation, input.targetCpu);
    const reasons: string[] = [];
    if (utilisation === undefined) {
      reasons.push(
        perPod.cpu > 0
          ? 'Prometheus has no CPU samples for its pods, so the HPA rule cannot be applied.'
          : 'Its pods request no CPU, so CPU utilisation (and the HPA rule) is undefined: set a CPU request.',
      );
    } else {
      reasons.push(
        `HPA rule: ceil(${current} × ${round(utilisation)}% / ${input.targetCpu}%) = ${Math.ceil((current * utilisation) / input.targetCpu)}` +
          (hpa === current
            ? `, within the ${HPA_TOLERANCE * 100}% tolerance: keep ${current}.`
            : ` → ${hpa}.`),
      );
    }

    let recommended = hpa;
    const slo: string[][] = [];
    let sloMissed = false;
    const saturated = utilisation !== undefined && utilisation >= input.targetCpu * (1 - HPA_TOLERANCE);
    if (input.successRate !== undefined) {
      const errors = await averageOfAll(ctx, ref, 'errors', input.window);
      const success = errors === undefined ? undefined : (1 - errors) * 100;
      const met = success === undefined ? undefined : success >= input.successRate;
      slo.push([
        'success rate',
        `≥ ${input.successRate}%`,
        success === undefined ? 'no data' : `${round(success, 3)}%`,
        verdict(met),
      ]);
      if (met === false) {
        sloMissed = true;
        if (saturated) {
          recommended = Math.max(recommended, current + 1);
          reasons.push('Success rate is below target while CPU is saturated: add capacity.');
        } else {
          reasons.push(
            'Success rate is below target but CPU is not saturated: more replicas are unlikely to fix it (a bottleneck elsewhere, e.g. a dependency or a bug; try `explain`).',
          );
        }
      }
    }
    if (input.p99Ms !== undefined) {
      const p99 = await averageOfAll(ctx, ref, 'p99', input.window);
      const ms = p99 === undefined ? undefined : p99 * 1000;
      const met = ms === undefined ? undefined : ms <= input.p99Ms;
      slo.push([
        'p99 latency',
        `≤ ${input.p99Ms} ms`,
        ms === undefined ? 'no data' : `${round(ms)} ms`,
        verdict(met),
      ]);
      if (met === false && ms !== undefined) {
        sloMissed = true;
        const factor = Math.min(MAX_LATENCY_FACTOR, ms / input.p99Ms);
        const byLatency = Math.ceil(current * factor);
        if (byLatency > recommended) {
          recommended = byLatency;
          reasons.push(
            `p99 is ${round(ms / input.p99Ms, 2)}× the target: ${byLatency} replicas, assuming latency follows load per replica (at most ×${MAX_LATENCY_FACTOR} per step).`,
          );
        }
      }
    }
    if (sloMissed && recommended < current) {
      recommended = current;
      reasons.push('An outcome target is missed, so I do not recommend scaling down.');
    }

    const perReplicaCost = perPod.cpu * input.coreHourUsd + (perPod.memory / 2 ** 30) * input.gibHourUsd;
    if (input.maxCostPerHour !== undefined && perReplicaCost > 0) {
      const affordable = Math.max(1, Math.floor(input.maxCostPerHour / perReplicaCost + 1e-9));
      slo.push([
        'cost per hour',
        `≤ $${input.maxCostPerHour}`,
        `$${round(current * perReplicaCost, 4)}`,
        verdict(current * perReplicaCost <= input.maxCostPerHour),
      ]);
      if (recommended > affordable) {
        reasons.push(
          `The cost budget allows at most ${affordable} replica(s) ($${round(perReplicaCost, 4)} each per hour); the outcome targets may not be met within it.`,
        );
        recommended = affordable;
      }
    }
    recommended = Math.max(1, recommended);

    const sections: Section[] = [
      {
        type: 'fields',
        title: `${where}: now`,
        fields: [
          { label: 'Replicas', value: String(current) },
          { label: 'CPU request per pod', value: perPod.cpu ? `${round(perPod.cpu, 3)} cores` : 'none' },
          {
            label: 'CPU use per pod',
            value: cpuPerPod === undefined ? 'no data' : `${round(cpuPerPod, 3)} cores`,
          },
          {
            label: 'CPU utilisation',
            value: utilisation === undefined ? 'n/a' : `${round(utilisation)}% (target ${input.targetCpu}%)`,
          },
          {
            label: 'Cost per hour',
            value: `$${round(current * perReplicaCost, 4)} → $${round(recommended * perReplicaCost, 4)}`,
          },
          { label: 'Window', value: formatDuration(input.window) },
        ],
      },
    ];
    if (slo.length)
      sections.push({ type: 'table', columns: ['OUTCOME', 'TARGET', 'ACTUAL', 'MET'], rows: slo });
    sections.push({ type: 'list', title: 'Why', items: reasons });
    if (recommended !== current) {
      const command = `scale ${formatWorkloadRef(ref)} --namespace ${ref.namespace} --replicas ${recommended}`;
      sections.push(
        {
          type: 'text',
          text: `Scaling goes through preview and approval like any change: \`/wh ${command}\`.`,
        },
        { type: 'actions', actions: [{ label: `Scale to ${recommended}`, command, style: 'primary' }] },
      );
    }
    return {
      summary:
        recommended === current
          ? `${where}: keep ${current} replica(s).`
          : `${where}: scale from ${current} to ${recommended} replica(s).`,
      tone: recommended === current ? 'success' : 'warning',
      sections,
    };
  },
});

/** CPU cores and memory bytes one pod of the template requests. */
function requestsOf(template: V1PodTemplateSpec | undefined): { cpu: number; memory: number } {
  let cpu = 0;
  let memory = 0;
  for (const c of template?.spec?.containers ?? []) {
    const cpuQ = parseQuantity(c.resources?.requests?.['cpu']);
    const memQ = parseQuantity(c.resources?.requests?.['memory']);
    if (Number.isFinite(cpuQ)) cpu += cpuQ;
    if (Number.isFinite(memQ)) memory += memQ;
  }
  return { cpu, memory };
}

/** The mean over the window of a per-pod template, averaged over pods; undefined without samples. */
async function averagePerSeries(
  ctx: SkillContext,
  ref: WorkloadRef,
  name: MetricTemplateName,
  windowSeconds: number,
): Promise<number | undefined> {
  const means = (await query(ctx, ref, name, windowSeconds))
    .map((points) => mean(points))
    .filter((m): m is number => m !== undefined);
  return mean(means);
}

/** The mean over the window of a workload-wide template (one series). */
async function averageOfAll(
  ctx: SkillContext,
  ref: WorkloadRef,
  name: MetricTemplateName,
  windowSeconds: number,
): Promise<number | undefined> {
  return mean((await query(ctx, ref, name, windowSeconds)).flat());
}

async function query(
  ctx: SkillContext,
  ref: WorkloadRef,
  name: MetricTemplateName,
  windowSeconds: number,
): Promise<number[][]> {
  const end = ctx.now();
  if (!ctx.metrics) return [];
  const series = await ctx.metrics.rangeQuery({
    query: metricTemplate(name).build({ namespace: ref.namespace, podPattern: podPatternOf(ref) }),
    start: new Date(end.getTime() - windowSeconds * 1000),
    end,
    stepSeconds: Math.max(15, Math.round(windowSeconds / 60)),
    signal: ctx.signal,
  });
  return series.map((s) => s.points.map(([, v]) => v).filter(Number.isFinite));
}

function mean(values: number[]): number | undefined {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : undefined;
}

function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function verdict(met: boolean | undefined): string {
  return met === undefined ? '?' : met ? 'yes' : 'no';
}
