import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventsList } from '../../skills/events-list/skill.ts';
import { podLogs } from '../../skills/pod-logs/skill.ts';
import { podsList } from '../../skills/pods-list/skill.ts';
import { workloadDescribe } from '../../skills/workload-describe/skill.ts';
import { ClientNodeKubeClient } from '../../src/kube/client-node-kube-client.ts';
import { summarizePod } from '../../src/kube/pod-status.ts';
import type { KubeIdentity, KubeReader } from '../../src/kube/types.ts';
import type { ReadSkill } from '../../src/skills/define-skill.ts';
import type { SkillResult } from '../../src/skills/result.ts';
import { skillContext } from '../support/fake-kube.ts';

import { e2e } from './e2e-env.ts';

/** Against the real control plane of test/harness (cluster-up.sh + seed.sh). */
const kubeconfig = e2e.kubeconfig;
const kubectl = e2e.kubectl;

const alice: KubeIdentity = { user: 'alice', groups: ['wheelhouse:chat', 'system:authenticated'] };
const bob: KubeIdentity = { user: 'bob', groups: ['system:authenticated'] };

describe('ClientNodeKubeClient against the e2e cluster', () => {
  let cached: ClientNodeKubeClient;
  let direct: ClientNodeKubeClient;

  beforeAll(async () => {
    // The bot's own context: read everything (no secrets) and impersonate alice and bob.
    cached = ClientNodeKubeClient.create({ kubeconfigPath: kubeconfig, context: 'wheelhouse' });
    direct = ClientNodeKubeClient.create({
      kubeconfigPath: kubeconfig,
      context: 'wheelhouse',
      caches: false,
    });
    await cached.start();
  });

  afterAll(async () => {
    await cached?.close();
    await direct?.close();
  });

  const names = (pods: Array<{ metadata?: { name?: string } }>): string[] =>
    pods.map((p) => p.metadata?.name ?? '').sort();

  it('syncs its caches and lists the same pods as a direct request', async () => {
    expect(cached.ready()).toBe(true);
    const fromCache = await cached.as(alice).listPods({ namespace: 'shop' });
    const fromApi = await direct.as(alice).listPods({ namespace: 'shop' });
    expect(names(fromCache)).toEqual(names(fromApi));
    expect(names(fromCache)).toEqual(expect.arrayContaining(['huge', 'orders-db-0']));
    expect(fromCache.find((p) => p.metadata?.name === 'huge')?.metadata?.managedFields).toBeUndefined();
  });

  it('computes STATUS, READY and RESTARTS exactly like kubectl get pods', async () => {
    const { stdout } = await promisify(execFile)(kubectl, [
      '--kubeconfig',
      kubeconfig ?? '',
      '--context',
      'wheelhouse',
      '-n',
      'shop',
      'get',
      'pods',
      '-o',
      'wide',
      '--no-headers',
    ]);
    // RESTARTS may say "5 (5m41s ago)": compare the count; AGE moves between the two reads.
    const fromKubectl = stdout
      .trim()
      .split('\n')
      .map((line) => {
        const [name = '', ready = '', status = '', restarts = ''] = line.split(/\s{2,}/);
        const node = line.split(/\s+/).at(-3) ?? '';
        return [name, ready, status, restarts.split(' ')[0] ?? '', node];
      })
      .sort((a, b) => (a[0] ?? '').localeCompare(b[0] ?? ''));
    const now = new Date();
    const ours = (await cached.as(undefined).listPods({ namespace: 'shop' }))
      .map((pod) => summarizePod(pod, now))
      .map((s) => [s.name, s.ready, s.status, String(s.restarts), s.node])
      .sort((a, b) => (a[0] ?? '').localeCompare(b[0] ?? ''));
    expect(ours).toEqual(fromKubectl);
    expect(ours.map((r) => r[2])).toEqual(
      expect.arrayContaining(['CrashLoopBackOff', 'ImagePullBackOff', 'OOMKilled', 'Pending']),
    );
  });

  it.each([
    ['from the caches (SelfSubjectAccessReview as alice)', () => cached],
    ['directly (impersonated request)', () => direct],
  ])('refuses alice the payments namespace %s, naming verb and resource', async (_how, kube) => {
    await expect(kube().as(alice).listPods({ namespace: 'payments' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: 'Kubernetes does not allow alice to list pods in namespace payments.',
    });
    await expect(
      kube().as(alice).getWorkload({ kind: 'Deployment', namespace: 'payments', name: 'payments-api' }),
    ).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: 'Kubernetes does not allow alice to get deployments in namespace payments.',
    });
  });

  it('lets bob read payments, where his RoleBinding is', async () => {
    const pods = await cached.as(bob).listPods({ namespace: 'payments', selector: 'app=payments-api' });
    expect(pods.length).toBe(2);
  });

  it('refuses to act as a user Wheelhouse may not impersonate', async () => {
    await expect(
      direct.as({ user: 'carol', groups: [] }).listPods({ namespace: 'shop' }),
    ).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: 'Kubernetes does not let Wheelhouse act as carol.',
    });
  });

  it('reports a namespace that does not exist', async () => {
    await expect(cached.as(undefined).listPods({ namespace: 'no-such-namespace' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'Namespace no-such-namespace does not exist.',
    });
  });

  it('reads logs with timestamps, and the previous logs of a crash loop', async () => {
    const reader: KubeReader = direct.as(alice, { requestId: 'e2e-logs' });
    const [checkout] = await reader.podsOf({ kind: 'Deployment', namespace: 'shop', name: 'checkout' });
    const text = await reader.readLog({
      namespace: 'shop',
      pod: checkout?.metadata?.name ?? '',
      container: 'checkout',
      tailLines: 5,
    });
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(5);
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z /);

    const [crashy] = await reader.podsOf({ kind: 'Deployment', namespace: 'shop', name: 'crashy' });
    const previous = await reader.readLog({
      namespace: 'shop',
      pod: crashy?.metadata?.name ?? '',
      previous: true,
    });
    expect(previous).toContain('FATAL unrecoverable error, exiting with code 1');
  });

  describe('the skills over the real client, as alice', () => {
    const runSkill = (skill: ReadSkill, input: Record<string, unknown>): Promise<SkillResult> =>
      skill.run(input, skillContext(cached.as(alice), { now: () => new Date() }));

    it('pods-list explains the unhealthy pods', async () => {
      const result = await runSkill(podsList, { namespace: 'shop', unhealthy: true });
      const why = result.sections.find((s) => s.type === 'list');
      const items = why?.type === 'list' ? why.items.join('\n') : '';
      expect(items).toMatch(/crashy-.*CrashLoopBackOff, restarted 5 times; last exit code 1 \(Error\)/);
      expect(items).toMatch(/bad-image-.*ImagePullBackOff, cannot pull image/);
      expect(items).toMatch(/hungry-.*OOMKilled \(exit code 137\)/);
      expect(items).toMatch(
        /huge: not scheduled \(Unschedulable\): 0\/\d+ nodes are available: .*Insufficient cpu/,
      );
    });

    it('pod-logs merges the checkout pods and redacts the secrets in them', async () => {
      const result = await runSkill(podLogs, {
        target: 'deploy/checkout',
        namespace: 'shop',
        grep: 'password|Bearer|aws_access',
      });
      const section = result.sections.find((s) => s.type === 'logs');
      const text = section?.type === 'logs' ? section.lines.join('\n') : '';
      expect(text).toContain('[REDACTED:password]');
      expect(text).toContain('[REDACTED:jwt]');
      expect(text).toContain('[REDACTED:aws-access-key]');
      expect(text).not.toMatch(/hunter2|AKIAIOSFODNN7EXAMPLE|eyJhbGciOiJIUzI1NiJ9/);
    });

    it('pod-logs --previous reads why crashy crashed', async () => {
      const result = await runSkill(podLogs, { target: 'deploy/crashy', namespace: 'shop', previous: true });
      const section = result.sections.find((s) => s.type === 'logs');
      expect(section?.type === 'logs' && section.lines.at(-1)).toMatch(
        /crashy-.*\/crashy .*FATAL unrecoverable error/,
      );
    });

    it('events-list shows the real warnings, including new-style events with eventTime and series', async () => {
      const result = await runSkill(eventsList, { target: 'shop' });
      const table = result.sections.find((s) => s.type === 'table');
      const reasons = table?.type === 'table' ? table.rows.map((r) => r[1]) : [];
      expect(reasons).toEqual(expect.arrayContaining(['BackOff', 'FailedScheduling']));
      expect(result.summary).toMatch(/^\d+ warning events in shop, newest \S+ ago\.$/);
    });

    it('workload-describe says why crashy is unhealthy', async () => {
      const result = await runSkill(workloadDescribe, { target: 'deploy/crashy', namespace: 'shop' });
      const first = result.sections[0];
      expect(first?.type === 'list' && first.title).toBe('Why it is unhealthy');
      expect(result.summary).toMatch(/^deploy\/crashy in shop is unhealthy: 0\/1 ready/);
    });
  });
});
