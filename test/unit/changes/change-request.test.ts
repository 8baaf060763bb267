import { describe, expect, it } from 'vitest';
import {
  annotationPatch,
  changeOperation,
  changeRequest,
  targetCollectionPath,
  targetPath,
  targetRef,
} from '../../../src/changes/change-request.ts';
import type { ChangeTarget, DesiredChange } from '../../../src/changes/types.ts';
import { isWheelhouseError } from '../../../src/errors.ts';

const checkout: ChangeTarget = {
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  kind: 'Deployment',
  namespace: 'shop',
  name: 'checkout',
};
const pod: ChangeTarget = {
  group: '',
  version: 'v1',
  resource: 'pods',
  kind: 'Pod',
  namespace: 'shop',
  name: 'checkout-7d9f-x2',
};

const imageManifest = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'checkout', namespace: 'shop' },
  spec: { template: { spec: { containers: [{ name: 'checkout', image: 'registry/checkout:2' }] } } },
};

describe('paths and names', () => {
  it('builds object, subresource and collection paths for grouped and core resources', () => {
    expect(targetPath(checkout)).toBe('/apis/apps/v1/namespaces/shop/deployments/checkout');
    expect(targetPath(checkout, 'scale')).toBe('/apis/apps/v1/namespaces/shop/deployments/checkout/scale');
    expect(targetPath(pod)).toBe('/api/v1/namespaces/shop/pods/checkout-7d9f-x2');
    expect(targetCollectionPath(checkout)).toBe('/apis/apps/v1/namespaces/shop/deployments');
    expect(targetPath({ ...checkout, name: 'a b' })).toBe('/apis/apps/v1/namespaces/shop/deployments/a%20b');
  });

  it('uses kubectl short names', () => {
    expect(targetRef(checkout)).toBe('deploy/checkout');
    expect(targetRef(pod)).toBe('pod/checkout-7d9f-x2');
    expect(
      targetRef({
        group: 'autoscaling',
        version: 'v2',
        resource: 'horizontalpodautoscalers',
        kind: 'HorizontalPodAutoscaler',
        namespace: 'shop',
        name: 'checkout',
      }),
    ).toBe('hpa/checkout');
    expect(targetRef({ ...checkout, kind: 'CronJob', resource: 'cronjobs' })).toBe('cronjob/checkout');
  });
});

describe('changeOperation: the verb RBAC checks', () => {
  it('is patch for server-side apply, patch on the scale subresource for a scale, delete for a delete', () => {
    expect(
      changeOperation({
        type: 'apply',
        target: checkout,
        resourceVersion: undefined,
        manifest: imageManifest,
      }),
    ).toMatchObject({
      verb: 'patch',
      group: 'apps',
      resource: 'deployments',
      subresource: undefined,
      namespace: 'shop',
    });
    expect(
      changeOperation({
        type: 'patch',
        target: checkout,
        resourceVersion: undefined,
        patchType: 'merge',
        patch: { spec: { replicas: 3 } },
        subresource: 'scale',
      }),
    ).toMatchObject({ verb: 'patch', resource: 'deployments', subresource: 'scale', name: 'checkout' });
    expect(
      changeOperation({ type: 'delete', target: pod, resourceVersion: undefined, uid: 'u' }),
    ).toMatchObject({
      verb: 'delete',
      group: '',
      resource: 'pods',
      short: 'pod',
    });
  });
});

describe('changeRequest', () => {
  it('sends server-side apply as apply-patch+yaml with field manager wheelhouse, no force, the request annotation and the resourceVersion', () => {
    const change: DesiredChange = {
      type: 'apply',
      target: checkout,
      resourceVersion: '1001',
      manifest: imageManifest,
    };
    const request = changeRequest(change, { requestId: 'req-1', dryRun: true });
    expect(request).toEqual({
      method: 'PATCH',
      path: '/apis/apps/v1/namespaces/shop/deployments/checkout',
      query: { fieldManager: 'wheelhouse', force: undefined, dryRun: 'All' },
      contentType: 'application/apply-patch+yaml',
      body: {
        ...imageManifest,
        metadata: {
          name: 'checkout',
          namespace: 'shop',
          annotations: { 'wheelhouse.io/request-id': 'req-1' },
          resourceVersion: '1001',
        },
      },
    });
    // The caller's manifest is left alone.
    expect(imageManifest.metadata).toEqual({ name: 'checkout', namespace: 'shop' });
  });

  it('sends the same request for real without dryRun, and force only when asked', () => {
    const change: DesiredChange = {
      type: 'apply',
      target: checkout,
      resourceVersion: undefined,
      manifest: imageManifest,
      force: true,
    };
    const dry = changeRequest(change, { requestId: 'req-1', dryRun: true });
    const real = changeRequest(change, { requestId: 'req-1', dryRun: false });
    expect(real.query).toEqual({ fieldManager: 'wheelhouse', force: true, dryRun: undefined });
    expect(real.body).toEqual(dry.body);
    expect((real.body['metadata'] as Record<string, unknown>)['resourceVersion']).toBeUndefined();
  });

  it('fills apiVersion, kind, name and namespace a manifest leaves out', () => {
    const request = changeRequest(
      { type: 'apply', target: checkout, resourceVersion: undefined, manifest: { spec: { replicas: 2 } } },
      { requestId: 'r', dryRun: false },
    );
    expect(request.body).toMatchObject({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'checkout', namespace: 'shop' },
    });
    const core = changeRequest(
      { type: 'apply', target: pod, resourceVersion: undefined, manifest: {} },
      { requestId: 'r', dryRun: false },
    );
    expect(core.body['apiVersion']).toBe('v1');
  });

  it('refuses a manifest that names another object', () => {
    const build = () =>
      changeRequest(
        {
          type: 'apply',
          target: checkout,
          resourceVersion: undefined,
          manifest: { ...imageManifest, metadata: { name: 'cart', namespace: 'shop' } },
        },
        { requestId: 'r', dryRun: true },
      );
    expect(build).toThrow(/does not describe that object \(metadata\.name differ/);
    try {
      build();
    } catch (error) {
      expect(isWheelhouseError(error) && error.code).toBe('INTERNAL');
    }
  });

  it('merges the request annotation and the resourceVersion precondition into a merge or strategic merge patch', () => {
    const request = changeRequest(
      {
        type: 'patch',
        target: checkout,
        resourceVersion: '7',
        patchType: 'strategic-merge',
        patch: { metadata: { labels: { a: 'b' } }, spec: { paused: true } },
      },
      { requestId: 'req-2', dryRun: false },
    );
    expect(request).toEqual({
      method: 'PATCH',
      path: '/apis/apps/v1/namespaces/shop/deployments/checkout',
      query: { fieldManager: 'wheelhouse', dryRun: undefined },
      contentType: 'application/strategic-merge-patch+json',
      body: {
        metadata: {
          labels: { a: 'b' },
          annotations: { 'wheelhouse.io/request-id': 'req-2' },
          resourceVersion: '7',
        },
        spec: { paused: true },
      },
    });
    const merge = changeRequest(
      { type: 'patch', target: checkout, resourceVersion: undefined, patchType: 'merge', patch: {} },
      { requestId: 'req-3', dryRun: true },
    );
    expect(merge.contentType).toBe('application/merge-patch+json');
    expect(merge.query['dryRun']).toBe('All');
    expect(merge.body).toEqual({ metadata: { annotations: { 'wheelhouse.io/request-id': 'req-3' } } });
  });

  it('sends a scale to the scale subresource with only the resourceVersion in its metadata', () => {
    const withVersion = changeRequest(
      {
        type: 'patch',
        target: checkout,
        resourceVersion: '9',
        patchType: 'merge',
        patch: { spec: { replicas: 5 } },
        subresource: 'scale',
      },
      { requestId: 'req-4', dryRun: false },
    );
    expect(withVersion.path).toBe('/apis/apps/v1/namespaces/shop/deployments/checkout/scale');
    expect(withVersion.body).toEqual({ metadata: { resourceVersion: '9' }, spec: { replicas: 5 } });
    const without = changeRequest(
      {
        type: 'patch',
        target: checkout,
        resourceVersion: undefined,
        patchType: 'merge',
        patch: { spec: { replicas: 5 } },
        subresource: 'scale',
      },
      { requestId: 'req-4', dryRun: false },
    );
    expect(without.body).toEqual({ spec: { replicas: 5 } });
    expect(annotationPatch('req-4')).toEqual({
      metadata: { annotations: { 'wheelhouse.io/request-id': 'req-4' } },
    });
  });

  it('sends a status patch (an Argo Rollout abort) to the status subresource, checked as patch rollouts/status', () => {
    const rollout = {
      group: 'argoproj.io',
      version: 'v1alpha1',
      resource: 'rollouts',
      kind: 'Rollout',
      namespace: 'shop',
      name: 'checkout',
    };
    const change = {
      type: 'patch' as const,
      target: rollout,
      resourceVersion: '12',
      patchType: 'merge' as const,
      patch: { status: { abort: true } },
      subresource: 'status' as const,
    };
    const request = changeRequest(change, { requestId: 'req-5', dryRun: true });
    expect(request.path).toBe('/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/checkout/status');
    expect(request.contentType).toBe('application/merge-patch+json');
    expect(request.query).toMatchObject({ dryRun: 'All', fieldManager: 'wheelhouse' });
    // The status subresource ignores metadata but the resourceVersion precondition: no annotation.
    expect(request.body).toEqual({ metadata: { resourceVersion: '12' }, status: { abort: true } });
    expect(changeOperation(change)).toMatchObject({
      verb: 'patch',
      group: 'argoproj.io',
      resource: 'rollouts',
      subresource: 'status',
      short: 'rollout',
    });
  });

  it('puts dryRun into the DeleteOptions body, because the API server ignores the query string when there is a body', () => {
    const dry = changeRequest(
      { type: 'delete', target: pod, resourceVersion: '55', uid: 'uid-1' },
      { requestId: 'r', dryRun: true },
    );
    expect(dry).toEqual({
      method: 'DELETE',
      path: '/api/v1/namespaces/shop/pods/checkout-7d9f-x2',
      query: { dryRun: 'All' },
      contentType: 'application/json',
      body: {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        preconditions: { uid: 'uid-1', resourceVersion: '55' },
        dryRun: ['All'],
      },
    });
    const real = changeRequest(
      { type: 'delete', target: pod, resourceVersion: undefined, uid: 'uid-1' },
      { requestId: 'r', dryRun: false },
    );
    expect(real.body).toEqual({ apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: 'uid-1' } });
    expect(real.query['dryRun']).toBeUndefined();
  });
});
