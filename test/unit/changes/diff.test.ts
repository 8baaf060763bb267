import { describe, expect, it } from 'vitest';
import { diffObjects, IGNORED_PATHS } from '../../../src/changes/diff.ts';
import { REQUEST_ANNOTATION } from '../../../src/changes/types.ts';

/** A Deployment as the API server returns it, with everything a diff must look past. */
function deployment(overrides: { image?: string; replicas?: number } = {}): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'checkout',
      namespace: 'shop',
      uid: 'b7d1a0c2-0000-4000-8000-000000000001',
      resourceVersion: '1001',
      generation: 4,
      creationTimestamp: '2026-11-25T07:00:00Z',
      labels: { app: 'checkout' },
      annotations: { 'deployment.kubernetes.io/revision': '4' },
      managedFields: [{ manager: 'kubectl-client-side-apply', operation: 'Update' }],
    },
    spec: {
      replicas: overrides.replicas ?? 3,
      selector: { matchLabels: { app: 'checkout' } },
      template: {
        metadata: { labels: { app: 'checkout' }, creationTimestamp: null },
        spec: {
          containers: [
            {
              name: 'checkout',
              image: overrides.image ?? 'registry.example.com/shop/checkout:1.4.2',
              ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
              env: [
                { name: 'PAYMENTS_URL', value: 'http://payments-api.payments.svc:8080' },
                { name: 'LOG_LEVEL', value: 'info' },
              ],
              args: ['--listen=:8080', '--verbose'],
            },
            { name: 'sidecar', image: 'registry.example.com/proxy:2.1' },
          ],
        },
      },
    },
    status: { observedGeneration: 4, replicas: 3, readyReplicas: 3, availableReplicas: 3 },
  };
}

/** Deep copy, changed by `edit`: the "after" side of a dry-run. */
function changed(
  base: Record<string, unknown>,
  // biome-ignore lint/suspicious/noExplicitAny: test edits reach into nested JSON
  edit: (o: any) => void,
): Record<string, unknown> {
  const copy = structuredClone(base);
  edit(copy);
  return copy;
}

describe('diffObjects', () => {
  it('reports nothing for identical objects', () => {
    expect(diffObjects(deployment(), deployment())).toEqual([]);
  });

  it('names a container image change by container name, not index', () => {
    const live = deployment();
    const after = deployment({ image: 'registry.example.com/shop/checkout:1.5.0' });
    expect(diffObjects(live, after)).toEqual([
      {
        path: 'spec.template.spec.containers[checkout].image',
        before: 'registry.example.com/shop/checkout:1.4.2',
        after: 'registry.example.com/shop/checkout:1.5.0',
      },
    ]);
  });

  it('ignores status, managedFields, resourceVersion, generation, uid, creationTimestamp and the request annotation', () => {
    const live = deployment();
    const after = changed(live, (o) => {
      o.status = { observedGeneration: 5, replicas: 4 };
      o.metadata.managedFields = [{ manager: 'wheelhouse', operation: 'Apply' }];
      o.metadata.resourceVersion = '1002';
      o.metadata.generation = 5;
      o.metadata.uid = 'other';
      o.metadata.creationTimestamp = '2026-11-25T08:00:00Z';
      o.metadata.annotations[REQUEST_ANNOTATION] = 'req-123';
    });
    expect(diffObjects(live, after)).toEqual([]);
    expect(IGNORED_PATHS).toContain('metadata.annotations["wheelhouse.io/request-id"]');
  });

  it('shows other annotations with quoted keys', () => {
    const live = deployment();
    const after = changed(live, (o) => {
      o.spec.template.metadata.annotations = { 'kubectl.kubernetes.io/restartedAt': '2026-11-25T09:00:00Z' };
    });
    expect(diffObjects(live, after)).toEqual([
      {
        path: 'spec.template.metadata.annotations',
        before: undefined,
        after: { 'kubectl.kubernetes.io/restartedAt': '2026-11-25T09:00:00Z' },
      },
    ]);
    const again = changed(after, (o) => {
      o.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt'] = '2026-11-25T10:00:00Z';
    });
    expect(diffObjects(after, again)).toEqual([
      {
        path: 'spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]',
        before: '2026-11-25T09:00:00Z',
        after: '2026-11-25T10:00:00Z',
      },
    ]);
  });

  it('reports a scalar change with numbers kept as numbers', () => {
    expect(diffObjects(deployment(), deployment({ replicas: 5 }))).toEqual([
      { path: 'spec.replicas', before: 3, after: 5 },
    ]);
  });

  it('treats "3" and 3 as different values', () => {
    const after = changed(deployment(), (o) => {
      o.spec.replicas = '3';
    });
    expect(diffObjects(deployment(), after)).toEqual([{ path: 'spec.replicas', before: 3, after: '3' }]);
  });

  it('matches env vars by name: a changed, an added and a removed one', () => {
    const live = deployment();
    const after = changed(live, (o) => {
      const env = o.spec.template.spec.containers[0].env;
      env[1].value = 'debug'; // LOG_LEVEL
      env.splice(0, 1); // PAYMENTS_URL removed (and LOG_LEVEL moves to index 0)
      env.push({ name: 'FEATURE_X', value: 'on' });
    });
    expect(diffObjects(live, after)).toEqual([
      {
        path: 'spec.template.spec.containers[checkout].env[LOG_LEVEL].value',
        before: 'info',
        after: 'debug',
      },
      {
        path: 'spec.template.spec.containers[checkout].env[FEATURE_X]',
        before: undefined,
        after: { name: 'FEATURE_X', value: 'on' },
      },
      {
        path: 'spec.template.spec.containers[checkout].env[PAYMENTS_URL]',
        before: { name: 'PAYMENTS_URL', value: 'http://payments-api.payments.svc:8080' },
        after: undefined,
      },
    ]);
  });

  it('does not report a reordering of named items', () => {
    const live = deployment();
    const after = changed(live, (o) => {
      o.spec.template.spec.containers.reverse();
    });
    expect(diffObjects(live, after)).toEqual([]);
  });

  it('names ports by name and a second container by its own name', () => {
    const live = deployment();
    const after = changed(live, (o) => {
      o.spec.template.spec.containers[0].ports[0].containerPort = 9090;
      o.spec.template.spec.containers[1].image = 'registry.example.com/proxy:2.2';
    });
    expect(diffObjects(live, after).map((c) => c.path)).toEqual([
      'spec.template.spec.containers[checkout].ports[http].containerPort',
      'spec.template.spec.containers[sidecar].image',
    ]);
  });

  it('falls back to mountPath for volumeMounts whose names repeat', () => {
    const live = {
      spec: {
        volumeMounts: [
          { name: 'data', mountPath: '/a' },
          { name: 'data', mountPath: '/b', readOnly: true },
        ],
      },
    };
    const after = changed(live, (o) => {
      o.spec.volumeMounts[1].readOnly = false;
    });
    expect(diffObjects(live, after)).toEqual([
      { path: 'spec.volumeMounts[mountPath=/b].readOnly', before: true, after: false },
    ]);
  });

  it('uses indexes for lists of objects without a usable key', () => {
    const live = { spec: { tolerations: [{ key: 'a', operator: 'Exists' }] } };
    const after = {
      spec: {
        tolerations: [
          { key: 'a', operator: 'Equal', value: 'x' },
          { key: 'b', operator: 'Exists' },
        ],
      },
    };
    expect(diffObjects(live, after)).toEqual([
      { path: 'spec.tolerations[0].operator', before: 'Exists', after: 'Equal' },
      { path: 'spec.tolerations[0].value', before: undefined, after: 'x' },
      { path: 'spec.tolerations[1]', before: undefined, after: { key: 'b', operator: 'Exists' } },
    ]);
  });

  it('compares lists of scalars as a whole', () => {
    const live = deployment();
    const after = changed(live, (o) => {
      o.spec.template.spec.containers[0].args = ['--listen=:8080'];
    });
    expect(diffObjects(live, after)).toEqual([
      {
        path: 'spec.template.spec.containers[checkout].args',
        before: ['--listen=:8080', '--verbose'],
        after: ['--listen=:8080'],
      },
    ]);
  });

  it('treats null and a missing field alike', () => {
    expect(diffObjects({ spec: { paused: null } }, { spec: {} })).toEqual([]);
    expect(diffObjects({ spec: {} }, { spec: { paused: true } })).toEqual([
      { path: 'spec.paused', before: undefined, after: true },
    ]);
  });

  it('reports a type change (object to scalar) as one entry', () => {
    expect(diffObjects({ spec: { x: { a: 1 } } }, { spec: { x: 'a' } })).toEqual([
      { path: 'spec.x', before: { a: 1 }, after: 'a' },
    ]);
  });

  it('orders object keys alphabetically, whatever order the server sends them in', () => {
    const before = { spec: { b: 1, a: 1, c: 1 } };
    const one = diffObjects(before, { spec: { c: 2, a: 2, b: 2 } });
    const two = diffObjects(before, { spec: { a: 2, b: 2, c: 2 } });
    expect(one.map((c) => c.path)).toEqual(['spec.a', 'spec.b', 'spec.c']);
    expect(two).toEqual(one);
  });

  it('compares Date values by their timestamp text', () => {
    const at = new Date('2026-11-25T09:00:00Z');
    expect(diffObjects({ spec: { at } }, { spec: { at: '2026-11-25T09:00:00.000Z' } })).toEqual([]);
  });

  it('hides extra paths and everything below them on request', () => {
    const live = deployment();
    const after = deployment({ image: 'x:2', replicas: 9 });
    expect(diffObjects(live, after, { ignore: ['spec.template'] })).toEqual([
      { path: 'spec.replicas', before: 3, after: 9 },
    ]);
  });

  it('diffs Scale objects (the scale subresource)', () => {
    const live = {
      kind: 'Scale',
      metadata: { name: 'checkout', resourceVersion: '7' },
      spec: { replicas: 3 },
    };
    const after = {
      kind: 'Scale',
      metadata: { name: 'checkout', resourceVersion: '7' },
      spec: { replicas: 5 },
    };
    expect(diffObjects(live, after)).toEqual([{ path: 'spec.replicas', before: 3, after: 5 }]);
  });

  it('reports a whole added or removed object at the root', () => {
    expect(diffObjects(undefined, { a: 1 })).toEqual([{ path: '', before: undefined, after: { a: 1 } }]);
    expect(diffObjects({ a: 1 }, null)).toEqual([{ path: '', before: { a: 1 }, after: undefined }]);
  });
});
