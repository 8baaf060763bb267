import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/planner/grammar.ts';
import { SkillRegistry } from '../../src/skills/registry.ts';
import type { ActionsSection, ListSection, SkillResult, TableSection } from '../../src/skills/result.ts';
import type { MetricsSource, RangeQuery } from '../../src/sources/types.ts';
import { buildDeployment } from '../../test/support/builders.ts';
import { fakeKube, skillContext } from '../../test/support/fake-kube.ts';
import { skills } from '../index.ts';
import { hpaDesired, workloadScaleAdvice } from './skill.ts';

const registry = new SkillRegistry([workloadScaleAdvice]);

/** checkout with `replicas` pods each requesting 500m cpu and 512Mi. */
function checkout(replicas: number): V1Deployment {
  const d = buildDeployment({ replicas });
  const template = d.spec?.template;
  return {
    ...d,
    spec: {
      ...d.spec,
      selector: d.spec?.selector ?? {},
      template: {
        ...template,
        spec: {
          containers: [{ name: 'checkout', resources: { requests: { cpu: '500m', memory: '512Mi' } } }],
        },
      },
    },
  };
}

/** Prometheus answering each template with fixed values: cpu per pod (cores), error ratio, p99 (s). */
function prometheus(values: { cpu?: number[]; errors?: number; p99?: number }): MetricsSource & {
  queries: RangeQuery[];
} {
  const queries: RangeQuery[] = [];
  return {
    url: 'http://prom.test',
    queries,
    async rangeQuery(q) {
      queries.push(q);
      const series = (v: number, pod = 'all') => ({
        labels: { pod },
        points: [
          [1, v],
          [2, v],
        ] as Array<[number, number]>,
      });
      if (q.query.includes('container_cpu_usage_seconds_total'))
        return (values.cpu ?? []).map((v, i) => series(v, `p${i}`));
      if (q.query.includes('code=~"5.."')) return values.errors === undefined ? [] : [series(values.errors)];
      if (q.query.includes('histogram_quantile')) return values.p99 === undefined ? [] : [series(values.p99)];
      return [];
    },
  };
}

async function advise(
  command: string,
  replicas: number,
  metrics: MetricsSource | undefined,
): Promise<SkillResult> {
  const parsed = parseCommand(command, registry);
  if (parsed.kind !== 'skill' || parsed.skill.risk !== 'read') throw new Error('expected a read skill');
  return parsed.skill.run(
    parsed.input,
    skillContext(fakeKube({ deployments: [checkout(replicas)] }), { metrics }),
  );
}

function why(result: SkillResult): string[] {
  return result.sections.find((s): s is ListSection => s.type === 'list' && s.title === 'Why')?.items ?? [];
}

function button(result: SkillResult): ActionsSection['actions'][number] | undefined {
  return result.sections.find((s): s is ActionsSection => s.type === 'actions')?.actions[0];
}

describe('the HPA rule', () => {
  it.each([
    [4, 90, 70, 6],
    [4, 75, 70, 4],
    [4, 64, 70, 4],
    [4, 62, 70, 4],
    [4, 35, 70, 2],
    [1, 10, 70, 1],
  ])('%i replicas at %i%% of a %i%% target → %i', (current, metric, target, desired) => {
    expect(hpaDesired(current, metric, target)).toBe(desired);
  });
});

describe('workload-scale-advice', () => {
  it('applies the HPA rule to CPU from Prometheus and offers the scale command as a button', async () => {
    const metrics = prometheus({ cpu: [0.45, 0.45, 0.45, 0.45] });
    const result = await advise('/wh scale-advice deploy/checkout -n shop --target-cpu 70', 4, metrics);
    expect(result.summary).toBe('deploy/checkout in shop: scale from 4 to 6 replica(s).');
    expect(why(result)).toEqual(['HPA rule: ceil(4 × 90% / 70%) = 6 → 6.']);
    const scale = button(result);
    expect(scale).toEqual({
      label: 'Scale to 6',
      command: 'scale deploy/checkout --namespace shop --replicas 6',
      style: 'primary',
    });
    const parsed = parseCommand(scale?.command ?? '', new SkillRegistry(skills));
    expect(parsed.kind === 'skill' && [parsed.skill.name, parsed.input]).toEqual([
      'workload-scale',
      { target: 'deploy/checkout', namespace: 'shop', replicas: 6 },
    ]);
    expect(metrics.queries[0]?.query).toContain('pod=~"^checkout-[a-z0-9]+-[a-z0-9]+$"');
  });

  it('keeps the replicas within the 10% tolerance, with no button', async () => {
    const result = await advise(
      '/wh scale-advice deploy/checkout -n shop',
      4,
      prometheus({ cpu: [0.37, 0.37] }),
    );
    expect(result.summary).toBe('deploy/checkout in shop: keep 4 replica(s).');
    expect(why(result)[0]).toMatch(/within the 10% tolerance: keep 4\.$/);
    expect(button(result)).toBeUndefined();
  });

  it('scales up for a latency target the CPU rule alone would not meet', async () => {
    const metrics = prometheus({ cpu: [0.35, 0.35], errors: 0.001, p99: 0.45 });
    const result = await advise(
      '/wh scale-advice deploy/checkout -n shop --success-rate 99.5 --p99-ms 300',
      4,
      metrics,
    );
    expect(result.summary).toBe('deploy/checkout in shop: scale from 4 to 6 replica(s).');
    const slo = result.sections.find((s): s is TableSection => s.type === 'table');
    expect(slo?.rows).toEqual([
      ['success rate', '≥ 99.5%', '99.9%', 'yes'],
      ['p99 latency', '≤ 300 ms', '450 ms', 'no'],
    ]);
    expect(why(result)[1]).toMatch(/^p99 is 1.5× the target: 6 replicas/);
  });

  it('says when scaling will not fix a failing success rate (CPU is not saturated)', async () => {
    const result = await advise(
      '/wh scale-advice deploy/checkout -n shop --success-rate 99.9',
      4,
      prometheus({ cpu: [0.1, 0.1], errors: 0.05 }),
    );
    expect(why(result)).toContain(
      'Success rate is below target but CPU is not saturated: more replicas are unlikely to fix it (a bottleneck elsewhere, e.g. a dependency or a bug; try `explain`).',
    );
    expect(why(result)).toContain('An outcome target is missed, so I do not recommend scaling down.');
    expect(result.summary).toBe('deploy/checkout in shop: keep 4 replica(s).');
  });

  it('caps the recommendation at what the cost budget allows, and says the targets may be missed', async () => {
    // One replica: 0.5 core × $0.04 + 0.5 GiB × $0.005 = $0.0225 per hour.
    const result = await advise(
      '/wh scale-advice deploy/checkout -n shop --max-cost-per-hour 0.1',
      4,
      prometheus({ cpu: [0.7, 0.7] }),
    );
    expect(result.summary).toBe('deploy/checkout in shop: keep 4 replica(s).');
    expect(why(result)).toContain(
      'The cost budget allows at most 4 replica(s) ($0.0225 each per hour); the outcome targets may not be met within it.',
    );
  });

  it('needs Prometheus', async () => {
    await expect(advise('/wh scale-advice deploy/checkout -n shop', 4, undefined)).rejects.toMatchObject({
      code: 'SOURCE_NOT_CONFIGURED',
    });
  });
});
