import { describe, expect, it } from 'vitest';
import { collectionPath, deserialize, objectPath, RESOURCES } from '../../../src/kube/resources.ts';

const raw = {
  metadata: {
    name: 'checkout-1',
    namespace: 'shop',
    resourceVersion: '42',
    creationTimestamp: '2026-11-25T07:00:00Z',
    managedFields: [{ manager: 'kubectl', operation: 'Apply' }],
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', team: 'shop' },
  },
  spec: {
    nodeName: 'node-1',
    volumes: [{ name: 'token', projected: { sources: [] } }],
    tolerations: [{ key: 'x', operator: 'Exists' }],
    containers: [
      {
        name: 'app',
        image: 'registry.local/app:1',
        env: [{ name: 'DB_PASSWORD', value: 'hunter2' }],
        resources: { limits: { memory: '256Mi' } },
        readinessProbe: { httpGet: { path: '/ready', port: 8080 } },
      },
    ],
  },
  status: {
    phase: 'Running',
    podIP: '10.0.0.1',
    podIPs: [{ ip: '10.0.0.1' }],
    conditions: [
      { type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-11-25T07:01:00Z' },
    ],
    containerStatuses: [
      {
        name: 'app',
        image: 'registry.local/app:1',
        imageID: 'sha256:abc',
        containerID: 'containerd://abc',
        ready: true,
        restartCount: 2,
        state: { running: { startedAt: '2026-11-25T07:00:30Z' } },
        lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: '2026-11-25T07:00:20Z' } },
      },
    ],
  },
};

describe('deserialize', () => {
  it('types timestamps and keeps what Wheelhouse reads of a pod', () => {
    const pod = deserialize('pods', structuredClone(raw));
    expect(pod.metadata).toEqual({
      name: 'checkout-1',
      namespace: 'shop',
      resourceVersion: '42',
      creationTimestamp: new Date('2026-11-25T07:00:00Z'),
      annotations: { team: 'shop' },
    });
    expect(pod.spec).toEqual({
      nodeName: 'node-1',
      containers: [
        { name: 'app', image: 'registry.local/app:1', resources: { limits: { memory: '256Mi' } } },
      ],
    });
    expect(pod.status?.conditions).toEqual([
      { type: 'Ready', status: 'True', lastTransitionTime: new Date('2026-11-25T07:01:00Z') },
    ]);
    expect(pod.status?.containerStatuses?.[0]).toEqual({
      name: 'app',
      image: 'registry.local/app:1',
      imageID: 'sha256:abc',
      ready: true,
      restartCount: 2,
      state: { running: { startedAt: new Date('2026-11-25T07:00:30Z') } },
      lastState: {
        terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: new Date('2026-11-25T07:00:20Z') },
      },
    });
    expect(pod.status?.podIP).toBe('10.0.0.1');
  });

  it('compacts the pod template of workloads the same way', () => {
    const deployment = deserialize('deployments', {
      metadata: { name: 'checkout', managedFields: [{}] },
      spec: { selector: { matchLabels: { app: 'checkout' } }, template: { spec: raw.spec } },
    });
    expect(deployment.metadata?.managedFields).toBeUndefined();
    expect(deployment.spec?.template.spec).toEqual({
      nodeName: 'node-1',
      containers: [
        { name: 'app', image: 'registry.local/app:1', resources: { limits: { memory: '256Mi' } } },
      ],
    });
    expect(deployment.spec?.selector).toEqual({ matchLabels: { app: 'checkout' } });
  });
});

describe('deserialize events', () => {
  it('turns MicroTime strings and nulls into what the types promise', () => {
    const event = deserialize('events', {
      metadata: { name: 'e1', namespace: 'shop', creationTimestamp: '2026-11-25T08:50:34Z' },
      involvedObject: { kind: 'Pod', name: 'p' },
      eventTime: '2026-11-25T08:50:34.900207Z',
      lastTimestamp: null,
      firstTimestamp: null,
      series: { count: 2, lastObservedTime: '2026-11-25T08:56:23.425628Z' },
    });
    expect(event.eventTime).toEqual(new Date('2026-11-25T08:50:34.900Z'));
    expect(event.series?.lastObservedTime).toEqual(new Date('2026-11-25T08:56:23.425Z'));
    expect('lastTimestamp' in event || 'firstTimestamp' in event).toBe(false);
  });
});

describe('paths', () => {
  it.each([
    [collectionPath(RESOURCES.pods), '/api/v1/pods'],
    [collectionPath(RESOURCES.pods, 'shop'), '/api/v1/namespaces/shop/pods'],
    [collectionPath(RESOURCES.nodes, 'shop'), '/api/v1/nodes'],
    [
      objectPath(RESOURCES.deployments, 'shop', 'checkout'),
      '/apis/apps/v1/namespaces/shop/deployments/checkout',
    ],
    [objectPath(RESOURCES.pods, 'shop', 'checkout-1', 'log'), '/api/v1/namespaces/shop/pods/checkout-1/log'],
    [objectPath(RESOURCES.namespaces, undefined, 'shop'), '/api/v1/namespaces/shop'],
    [collectionPath(RESOURCES.jobs, 'shop'), '/apis/batch/v1/namespaces/shop/jobs'],
  ])('%s', (path, expected) => {
    expect(path).toBe(expected);
  });
});
