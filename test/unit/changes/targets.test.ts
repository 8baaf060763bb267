import { describe, expect, it } from 'vitest';
import {
  applyConfiguration,
  changeTarget,
  DEFAULT_ROLLOUT_TIMEOUT_SECONDS,
  desiredReplicas,
  formatImages,
  hpaTarget,
  mergePatch,
  parseTargetRef,
  podTemplatePatch,
  ROLLOUT_KINDS,
  readRolloutWorkload,
  rolloutTimeoutSeconds,
  rolloutVerification,
  templateImages,
  withImage,
} from '../../../src/changes/targets.ts';
import { buildDaemonSet, buildDeployment, buildStatefulSet } from '../../support/builders.ts';
import { fakeKube } from '../../support/fake-kube.ts';

const deployTarget = changeTarget({ kind: 'Deployment', namespace: 'shop', name: 'checkout' });

describe('change targets', () => {
  it.each([
    ['Deployment', { group: 'apps', version: 'v1', resource: 'deployments' }],
    ['StatefulSet', { group: 'apps', version: 'v1', resource: 'statefulsets' }],
    ['DaemonSet', { group: 'apps', version: 'v1', resource: 'daemonsets' }],
    ['Pod', { group: '', version: 'v1', resource: 'pods' }],
  ] as const)('names a %s as the API server does', (kind, api) => {
    expect(changeTarget({ kind, namespace: 'shop', name: 'x' })).toEqual({
      ...api,
      kind,
      namespace: 'shop',
      name: 'x',
    });
  });

  it('names a HorizontalPodAutoscaler in autoscaling/v2', () => {
    expect(hpaTarget('shop', 'checkout')).toEqual({
      group: 'autoscaling',
      version: 'v2',
      resource: 'horizontalpodautoscalers',
      kind: 'HorizontalPodAutoscaler',
      namespace: 'shop',
      name: 'checkout',
    });
  });

  it('builds apply configurations with apiVersion, kind, name and namespace', () => {
    expect(applyConfiguration(deployTarget, { spec: { paused: true } })).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'checkout', namespace: 'shop' },
      spec: { paused: true },
    });
    const pod = changeTarget({ kind: 'Pod', namespace: 'shop', name: 'p' });
    expect(applyConfiguration(pod, {})).toMatchObject({ apiVersion: 'v1', kind: 'Pod' });
  });
});

describe('parseTargetRef', () => {
  it('accepts the kinds asked for', () => {
    expect(parseTargetRef('sts/db', 'shop', ROLLOUT_KINDS, 'restart')).toEqual({
      kind: 'StatefulSet',
      namespace: 'shop',
      name: 'db',
    });
  });

  it('refuses other kinds, naming the forms that work', () => {
    expect(() => parseTargetRef('job/migrate', 'shop', ROLLOUT_KINDS, 'restart')).toThrowError(
      expect.objectContaining({
        code: 'INVALID_INPUT',
        message: 'restart works on deploy/NAME, sts/NAME or ds/NAME; job/migrate is a Job.',
      }),
    );
  });

  it('reads a bare word as a pod, and suggests the kind', () => {
    expect(() => parseTargetRef('checkout', 'shop', ['Deployment'], 'pause')).toThrowError(
      expect.objectContaining({
        code: 'INVALID_INPUT',
        message: 'pause works on deploy/NAME; "checkout" names a pod.',
        hint: 'Name the kind, e.g. deploy/checkout.',
      }),
    );
  });

  it('passes on an unknown kind from parseWorkloadRef', () => {
    expect(() => parseTargetRef('svc/checkout', 'shop', ROLLOUT_KINDS, 'deploy')).toThrowError(
      expect.objectContaining({ code: 'INVALID_INPUT', message: '"svc" is not a workload kind I know.' }),
    );
  });
});

describe('rollout facts', () => {
  it('uses a Deployment progress deadline as the verification timeout, else the default', async () => {
    const deployment = buildDeployment();
    if (deployment.spec) deployment.spec.progressDeadlineSeconds = 120;
    const kube = fakeKube({
      deployments: [deployment],
      statefulSets: [buildStatefulSet()],
      daemonSets: [buildDaemonSet()],
    });
    const deploy = await readRolloutWorkload(kube, {
      kind: 'Deployment',
      namespace: 'shop',
      name: 'checkout',
    });
    const sts = await readRolloutWorkload(kube, { kind: 'StatefulSet', namespace: 'shop', name: 'db' });
    const ds = await readRolloutWorkload(kube, { kind: 'DaemonSet', namespace: 'shop', name: 'log-agent' });
    expect(rolloutTimeoutSeconds(deploy)).toBe(120);
    expect(rolloutTimeoutSeconds(sts)).toBe(DEFAULT_ROLLOUT_TIMEOUT_SECONDS);
    expect(rolloutVerification(deployTarget, deploy)).toEqual({
      kind: 'rollout',
      target: deployTarget,
      timeoutSeconds: 120,
    });
    expect([desiredReplicas(deploy), desiredReplicas(sts), desiredReplicas(ds)]).toEqual([3, 3, 4]);
  });

  it('passes on NOT_FOUND from the reader', async () => {
    await expect(
      readRolloutWorkload(fakeKube(), { kind: 'Deployment', namespace: 'shop', name: 'nope' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('pod template images', () => {
  const template = {
    spec: {
      containers: [
        { name: 'app', image: 'r/app:1' },
        { name: 'proxy', image: 'r/proxy:7' },
      ],
      initContainers: [{ name: 'migrate', image: 'r/migrate:1' }],
    },
  };

  it('lists every container and init container with its image', () => {
    const images = templateImages(template);
    expect(images).toEqual({
      containers: [
        { name: 'app', image: 'r/app:1' },
        { name: 'proxy', image: 'r/proxy:7' },
      ],
      initContainers: [{ name: 'migrate', image: 'r/migrate:1' }],
    });
    expect(formatImages(images)).toBe('app=r/app:1, proxy=r/proxy:7, migrate (init)=r/migrate:1');
    expect(templateImages(undefined)).toEqual({ containers: [], initContainers: [] });
  });

  it('changes one image and keeps the others', () => {
    expect(withImage(templateImages(template), 'migrate', 'r/migrate:2').initContainers).toEqual([
      { name: 'migrate', image: 'r/migrate:2' },
    ]);
  });

  it('patches every image plus the annotations, and nothing else', () => {
    const change = podTemplatePatch(deployTarget, '42', templateImages(template), { a: 'b' });
    expect(change).toEqual({
      type: 'patch',
      target: deployTarget,
      resourceVersion: '42',
      patchType: 'strategic-merge',
      patch: {
        spec: {
          template: {
            metadata: { annotations: { a: 'b' } },
            spec: {
              containers: [
                { name: 'app', image: 'r/app:1' },
                { name: 'proxy', image: 'r/proxy:7' },
              ],
              initContainers: [{ name: 'migrate', image: 'r/migrate:1' }],
            },
          },
        },
      },
    });
  });

  it('leaves out template metadata and init containers when there are none', () => {
    const change = podTemplatePatch(deployTarget, undefined, {
      containers: [{ name: 'app', image: 'x' }],
      initContainers: [],
    });
    expect(change).toEqual({
      type: 'patch',
      target: deployTarget,
      resourceVersion: undefined,
      patchType: 'strategic-merge',
      patch: { spec: { template: { spec: { containers: [{ name: 'app', image: 'x' }] } } } },
    });
  });
});

describe('mergePatch', () => {
  it('targets the scale subresource only when asked', () => {
    expect(mergePatch(deployTarget, '7', { spec: { replicas: 2 } }, 'scale')).toEqual({
      type: 'patch',
      target: deployTarget,
      resourceVersion: '7',
      patchType: 'merge',
      patch: { spec: { replicas: 2 } },
      subresource: 'scale',
    });
    expect(mergePatch(deployTarget, '7', { spec: { paused: true } })).not.toHaveProperty('subresource');
  });
});
