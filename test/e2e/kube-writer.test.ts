import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ChangeTarget,
  type DesiredChange,
  REQUEST_ANNOTATION,
  type RolloutProgress,
} from '../../src/changes/types.ts';
import { isWheelhouseError, type WheelhouseError } from '../../src/errors.ts';
import { ClientNodeKubeClient } from '../../src/kube/client-node-kube-client.ts';
import type { KubeIdentity } from '../../src/kube/types.ts';
import { e2e } from './e2e-env.ts';

/**
 * ClientNodeKubeWriter against the real control plane of test/harness: the bot's own context
 * impersonates bob (edit in the test namespace) and alice (view only). Every test works on its own
 * Deployment in a namespace of its own (e2e-writer-*), created as admin and deleted afterwards;
 * controller-manager and kwok move the pods. Images tagged `never-ready` stay Running but never
 * Ready (test/fixtures/seed/15-never-ready.yaml, applied here too).
 */
const kubeconfig = e2e.kubeconfig;
const kubectl = e2e.kubectl;
const namespace = `e2e-writer-${process.pid}-${Date.now().toString(36)}`;
const bob: KubeIdentity = { user: 'bob', groups: ['system:authenticated'] };
const alice: KubeIdentity = { user: 'alice', groups: ['wheelhouse:chat', 'system:authenticated'] };
const stageFile = fileURLToPath(new URL('../fixtures/seed/15-never-ready.yaml', import.meta.url));

/** Measured rollout-follow times, printed at the end for the record. */
const timings: Record<string, number> = {};

function admin(args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(kubectl, ['--kubeconfig', kubeconfig, '--context', 'admin', ...args]);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`kubectl ${args.join(' ')}: ${err || out}`)),
    );
    child.stdin.end(input ?? '');
  });
}

/** The parts of Deployments and Pods the tests read, as `kubectl get -o json` prints them. */
interface LiveObject {
  metadata: {
    name: string;
    uid: string;
    resourceVersion: string;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
    managedFields: Array<{ manager: string; operation: string }>;
  };
  spec: {
    replicas?: number;
    template: { spec: { containers: Array<{ image: string; env?: unknown }> } };
    /** Pods only. */
    containers?: Array<{ image: string }>;
  };
}

async function getJson(kind: string, name: string): Promise<LiveObject> {
  return JSON.parse(
    await admin(['-n', namespace, 'get', kind, name, '-o', 'json', '--show-managed-fields']),
  ) as LiveObject;
}

/** Images of the pods of a deployment that are not terminating, with their readiness. */
async function podImages(app: string): Promise<string[]> {
  const pods = JSON.parse(
    await admin(['-n', namespace, 'get', 'pods', '-l', `app=${app}`, '-o', 'json']),
  ) as {
    items: Array<LiveObject & { status?: { conditions?: Array<{ type: string; status: string }> } }>;
  };
  return pods.items
    .filter((pod) => !pod.metadata.deletionTimestamp)
    .map((pod) => {
      const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      return `${pod.spec.containers?.[0]?.image ?? '?'} ${ready ? 'ready' : 'not ready'}`;
    })
    .sort();
}

function managers(object: LiveObject): string[] {
  return object.metadata.managedFields.map((f) => `${f.manager}/${f.operation}`);
}

function deploymentManifest(name: string, options: { replicas?: number; image?: string } = {}): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      replicas: options.replicas ?? 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: 'app',
              image: options.image ?? `registry.example.com/e2e/${name}:1.0`,
              env: [{ name: 'MODE', value: 'test' }],
            },
          ],
        },
      },
    },
  });
}

function deploy(name: string): ChangeTarget {
  return { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespace, name };
}

/** The thrown WheelhouseError (fails the test when the promise resolves or throws something else). */
async function failure(promise: Promise<unknown>): Promise<WheelhouseError> {
  try {
    await promise;
  } catch (error) {
    if (isWheelhouseError(error)) return error;
    throw error;
  }
  throw new Error('expected a WheelhouseError, but the call succeeded');
}

async function timed<T>(label: string, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await run();
  } finally {
    timings[label] = Math.round(performance.now() - started);
  }
}

describe('ClientNodeKubeWriter against the e2e cluster', () => {
  let client: ClientNodeKubeClient;
  let requests = 0;
  const writer = (identity: KubeIdentity, signal?: AbortSignal) =>
    client.writerAs(identity, { requestId: `req-${namespace}-${++requests}`, ...(signal ? { signal } : {}) });

  beforeAll(async () => {
    await admin(['apply', '-f', stageFile]);
    await admin(['create', 'namespace', namespace]);
    await admin(['-n', namespace, 'create', 'rolebinding', 'bob-edit', '--clusterrole=edit', '--user=bob']);
    await admin([
      '-n',
      namespace,
      'create',
      'rolebinding',
      'alice-view',
      '--clusterrole=view',
      '--user=alice',
    ]);
    // Client-side `kubectl apply`, as most clusters' objects are made (field manager kubectl-client-side-apply).
    for (const name of ['ssa', 'patched', 'fragile', 'scaled', 'guarded']) {
      await admin(['apply', '-f', '-'], deploymentManifest(name));
    }
    // Never finishes rolling out (its pods never become ready); nobody waits for it.
    await admin(
      ['apply', '-f', '-'],
      deploymentManifest('slow', { image: 'registry.example.com/e2e/slow:never-ready' }),
    );
    // One whose image another field manager owns through server-side apply.
    await admin(
      ['apply', '--server-side', '--field-manager=someone-else', '-f', '-'],
      deploymentManifest('owned', { replicas: 1 }),
    );
    for (const name of ['ssa', 'patched', 'fragile', 'scaled', 'guarded', 'owned']) {
      await admin(['-n', namespace, 'rollout', 'status', `deploy/${name}`, '--timeout=180s']);
    }
    client = ClientNodeKubeClient.create({
      kubeconfigPath: kubeconfig,
      context: 'wheelhouse',
      caches: false,
    });
  });

  afterAll(async () => {
    await client?.close();
    await admin(['delete', 'namespace', namespace, '--wait=false']).catch(() => undefined);
    console.log(`rollout-follow times (ms): ${JSON.stringify(timings)}`);
  });

  it('authorizes bob to patch deployments, scale them and delete pods in the namespace', async () => {
    const w = writer(bob);
    await expect(
      w.authorize({ type: 'apply', target: deploy('ssa'), resourceVersion: undefined, manifest: {} }),
    ).resolves.toBeUndefined();
    await expect(
      w.authorize({
        type: 'patch',
        target: deploy('scaled'),
        resourceVersion: undefined,
        patchType: 'merge',
        patch: { spec: { replicas: 3 } },
        subresource: 'scale',
      }),
    ).resolves.toBeUndefined();
    await expect(
      w.authorize({
        type: 'delete',
        target: { group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespace, name: 'any' },
        resourceVersion: undefined,
        uid: undefined,
      }),
    ).resolves.toBeUndefined();
  });

  it('refuses alice (view only): authorize and preview name "patch deployments", and nothing changes', async () => {
    const before = await getJson('deploy', 'patched');
    const change: DesiredChange = {
      type: 'patch',
      target: deploy('patched'),
      resourceVersion: before.metadata.resourceVersion,
      patchType: 'strategic-merge',
      patch: {
        spec: {
          template: { spec: { containers: [{ name: 'app', image: 'registry.example.com/e2e/x:9' }] } },
        },
      },
    };
    const denied = await failure(writer(alice).authorize(change));
    expect(denied.code).toBe('FORBIDDEN');
    expect(denied.message).toBe(
      `Kubernetes does not allow alice to patch deployments in namespace ${namespace}.`,
    );
    const previewDenied = await failure(writer(alice).preview(change));
    expect(previewDenied.code).toBe('FORBIDDEN');
    expect(previewDenied.message).toContain('alice to patch deployments');
    const scaleDenied = await failure(
      writer(alice).authorize({ ...change, patchType: 'merge', patch: {}, subresource: 'scale' }),
    );
    expect(scaleDenied.message).toContain('patch deployments/scale');
    expect((await getJson('deploy', 'patched')).metadata.resourceVersion).toBe(
      before.metadata.resourceVersion,
    );
  });

  it('server-side apply meets the client-side applier as a conflict, then with force previews exactly the image change, applies, labels and rolls out', async () => {
    const live = await getJson('deploy', 'ssa');
    const newImage = 'registry.example.com/e2e/ssa:2.0';
    const change: DesiredChange = {
      type: 'apply',
      target: deploy('ssa'),
      resourceVersion: live.metadata.resourceVersion,
      manifest: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'ssa', namespace },
        spec: { template: { spec: { containers: [{ name: 'app', image: newImage }] } } },
      },
    };
    const w = writer(bob);
    const conflict = await failure(w.preview(change));
    expect(conflict.code).toBe('CONFLICT');
    expect(conflict.message).toContain('"kubectl-client-side-apply"');
    expect(conflict.message).toContain('.spec.template.spec.containers[name="app"].image');

    const forced: DesiredChange = { ...change, force: true };
    const preview = await w.preview(forced);
    expect(preview.diff).toEqual([
      {
        path: 'spec.template.spec.containers[app].image',
        before: 'registry.example.com/e2e/ssa:1.0',
        after: newImage,
      },
    ]);
    expect(preview.resourceVersion).toBe(live.metadata.resourceVersion);
    expect(preview.after).toMatchObject({ spec: { replicas: 2 } });
    // The dry-run stored nothing.
    const untouched = await getJson('deploy', 'ssa');
    expect(untouched.metadata.resourceVersion).toBe(live.metadata.resourceVersion);
    expect(untouched.spec.template.spec.containers[0]?.image).toBe('registry.example.com/e2e/ssa:1.0');

    const seen: RolloutProgress[] = [];
    const { applied, result } = await timed('ssa image: apply → rollout done', async () => {
      const applied = await w.apply(forced);
      const result = await w.followRollout(deploy('ssa'), {
        timeoutSeconds: 120,
        onProgress: (p) => seen.push(p),
      });
      return { applied, result };
    });
    expect(applied.resourceVersion).not.toBe(live.metadata.resourceVersion);
    expect(result.phase).toBe('done');
    expect(result).toMatchObject({ desired: 2, updated: 2, ready: 2, available: 2 });
    expect(seen.at(-1)).toEqual(result);
    expect(seen.slice(0, -1).every((p) => p.phase === 'progressing')).toBe(true);
    expect(await podImages('ssa')).toEqual([`${newImage} ready`, `${newImage} ready`]);

    const now = await getJson('deploy', 'ssa');
    expect(now.metadata.resourceVersion).not.toBe(live.metadata.resourceVersion);
    expect(now.spec.template.spec.containers[0]?.image).toBe(newImage);
    expect(now.spec.template.spec.containers[0]?.env).toEqual([{ name: 'MODE', value: 'test' }]);
    expect(now.metadata.annotations?.[REQUEST_ANNOTATION]).toMatch(/^req-/);
    expect(managers(now)).toContain('wheelhouse/Apply');
  });

  it('patches an image (strategic merge), labels the object in the same request and follows the rollout to done', async () => {
    const live = await getJson('deploy', 'patched');
    const change: DesiredChange = {
      type: 'patch',
      target: deploy('patched'),
      resourceVersion: live.metadata.resourceVersion,
      patchType: 'strategic-merge',
      patch: {
        spec: {
          template: {
            spec: { containers: [{ name: 'app', image: 'registry.example.com/e2e/patched:2.0' }] },
          },
        },
      },
    };
    const w = client.writerAs(bob, { requestId: 'req-patched-1' });
    const preview = await w.preview(change);
    expect(preview.diff).toEqual([
      {
        path: 'spec.template.spec.containers[app].image',
        before: 'registry.example.com/e2e/patched:1.0',
        after: 'registry.example.com/e2e/patched:2.0',
      },
    ]);
    const result = await timed('patched image: apply → rollout done', async () => {
      await w.apply(change);
      return w.followRollout(deploy('patched'), { timeoutSeconds: 120 });
    });
    const now = await getJson('deploy', 'patched');
    expect(now.metadata.annotations?.[REQUEST_ANNOTATION]).toBe('req-patched-1');
    expect(now.spec.template.spec.containers[0]?.image).toBe('registry.example.com/e2e/patched:2.0');
    expect(managers(now)).toContain('wheelhouse/Update');
    expect(result).toMatchObject({ phase: 'done', desired: 2, updated: 2, ready: 2, available: 2 });
    expect(await podImages('patched')).toEqual([
      'registry.example.com/e2e/patched:2.0 ready',
      'registry.example.com/e2e/patched:2.0 ready',
    ]);

    // Resumable: following a finished rollout again answers at once.
    const again = await timed('follow a finished rollout', () =>
      client
        .writerAs(bob, { requestId: 'req-patched-2' })
        .followRollout(deploy('patched'), { timeoutSeconds: 5 }),
    );
    expect(again.phase).toBe('done');
  });

  it('reports a bad image (pods never ready) as failed at the progress deadline, naming the pods', async () => {
    const live = await getJson('deploy', 'fragile');
    const change: DesiredChange = {
      type: 'patch',
      target: deploy('fragile'),
      resourceVersion: live.metadata.resourceVersion,
      patchType: 'strategic-merge',
      patch: {
        spec: {
          progressDeadlineSeconds: 10,
          template: {
            spec: { containers: [{ name: 'app', image: 'registry.example.com/e2e/fragile:never-ready' }] },
          },
        },
      },
    };
    const w = writer(bob);
    const seen: RolloutProgress[] = [];
    const result = await timed('never-ready: apply → failed (deadline 10 s)', async () => {
      await w.apply(change);
      return w.followRollout(deploy('fragile'), { timeoutSeconds: 90, onProgress: (p) => seen.push(p) });
    });
    expect(result.phase).toBe('failed');
    expect(result.message).toContain('exceeded its progress deadline of 10s');
    expect(result.message).toMatch(/ReplicaSet "fragile-[a-z0-9]+" has timed out progressing/);
    expect(result.problems?.length).toBeGreaterThan(0);
    expect(result.problems?.[0]).toMatch(/^pod fragile-[a-z0-9]+-[a-z0-9]+: /);
    expect(result.problems?.join('\n')).toContain('not ready');
    expect(result.ready).toBe(2); // the old pods keep serving
    expect(seen.some((p) => p.phase === 'progressing')).toBe(true);
  });

  it('fails with "did not finish" when the rollout outlasts the time given, naming the unready pods', async () => {
    // "slow" was created with the never-ready image and the default 600 s deadline.
    const result = await timed('follow with a 3 s timeout', () =>
      writer(bob).followRollout(deploy('slow'), { timeoutSeconds: 3 }),
    );
    expect(result.phase).toBe('failed');
    expect(result.message).toMatch(/^did not finish within 3s: deploy\/slow: /);
    expect(result.problems?.join('\n')).toMatch(/pod slow-[a-z0-9]+-[a-z0-9]+: Running, not ready/);
    expect(timings['follow with a 3 s timeout']).toBeLessThan(10_000);
  });

  it('stops following when the signal aborts', async () => {
    const controller = new AbortController();
    const reason = new Error('runner shut down');
    setTimeout(() => controller.abort(reason), 300);
    await expect(
      writer(bob).followRollout(deploy('slow'), { timeoutSeconds: 60, signal: controller.signal }),
    ).rejects.toBe(reason);
  });

  it('refuses drift: a stale resourceVersion fails the preview and the apply, and nothing changes', async () => {
    const live = await getJson('deploy', 'guarded');
    const rv = live.metadata.resourceVersion;
    const change: DesiredChange = {
      type: 'patch',
      target: deploy('guarded'),
      resourceVersion: '1',
      patchType: 'merge',
      patch: { spec: { replicas: 4 } },
    };
    const w = writer(bob);
    const drift = await failure(w.preview(change));
    expect(drift.code).toBe('CONFLICT');
    expect(drift.message).toBe(`deploy/guarded changed since the preview (resourceVersion 1 → ${rv}).`);
    // apply does not re-read: the API server's precondition refuses it.
    const refused = await failure(w.apply(change));
    expect(refused.code).toBe('CONFLICT');
    expect(refused.message).toBe(
      'deploy/guarded changed since the preview (resourceVersion 1 is no longer current).',
    );
    const ssaRefused = await failure(
      w.apply({
        type: 'apply',
        target: deploy('guarded'),
        resourceVersion: '1',
        manifest: { spec: { replicas: 4 } },
      }),
    );
    expect(ssaRefused.code).toBe('CONFLICT');
    const scaleRefused = await failure(w.apply({ ...change, subresource: 'scale' }));
    expect(scaleRefused.code).toBe('CONFLICT');
    expect(scaleRefused.message).toContain('changed since the preview');
    const after = await getJson('deploy', 'guarded');
    expect(after.metadata.resourceVersion).toBe(rv);
    expect(after.spec.replicas).toBe(2);
  });

  it('names the other field manager when server-side apply would take its field, and changes nothing', async () => {
    const live = await getJson('deploy', 'owned');
    const change: DesiredChange = {
      type: 'apply',
      target: deploy('owned'),
      resourceVersion: live.metadata.resourceVersion,
      manifest: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'owned', namespace },
        spec: {
          template: { spec: { containers: [{ name: 'app', image: 'registry.example.com/e2e/owned:2.0' }] } },
        },
      },
    };
    const w = writer(bob);
    for (const attempt of [() => w.preview(change), () => w.apply(change)]) {
      const conflict = await failure(attempt());
      expect(conflict.code).toBe('CONFLICT');
      expect(conflict.message).toBe(
        'deploy/owned: fields this change sets are owned by another field manager: "someone-else" (.spec.template.spec.containers[name="app"].image). Nothing was changed.',
      );
      expect(conflict.detail).toMatchObject({
        conflicts: [{ manager: 'someone-else', field: '.spec.template.spec.containers[name="app"].image' }],
      });
    }
    expect((await getJson('deploy', 'owned')).metadata.resourceVersion).toBe(live.metadata.resourceVersion);
  });

  it('passes on the API server’s validation message verbatim (replicas -1), and nothing changes', async () => {
    const live = await getJson('deploy', 'guarded');
    const w = writer(bob);
    const rejected = await failure(
      w.preview({
        type: 'patch',
        target: deploy('guarded'),
        resourceVersion: live.metadata.resourceVersion,
        patchType: 'merge',
        patch: { spec: { replicas: -1 } },
      }),
    );
    expect(rejected.code).toBe('DRY_RUN_REJECTED');
    expect(rejected.message).toBe(
      'Kubernetes rejected the change in the dry-run of deploy/guarded: Deployment.apps "guarded" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0',
    );
    const viaScale = await failure(
      w.preview({
        type: 'patch',
        target: deploy('guarded'),
        resourceVersion: live.metadata.resourceVersion,
        patchType: 'merge',
        patch: { spec: { replicas: -1 } },
        subresource: 'scale',
      }),
    );
    expect(viaScale.code).toBe('DRY_RUN_REJECTED');
    expect(viaScale.message).toContain(
      'Scale.autoscaling "guarded" is invalid: spec.replicas: Invalid value: -1',
    );
    expect((await getJson('deploy', 'guarded')).metadata.resourceVersion).toBe(live.metadata.resourceVersion);
  });

  it('answers NOT_FOUND for a deployment that does not exist', async () => {
    const missing = await failure(
      writer(bob).preview({
        type: 'patch',
        target: deploy('nope'),
        resourceVersion: undefined,
        patchType: 'merge',
        patch: { spec: { replicas: 1 } },
      }),
    );
    expect(missing.code).toBe('NOT_FOUND');
    expect(missing.message).toBe(`deploy/nope was not found in namespace ${namespace}.`);
  });

  it('scales through the scale subresource, then labels the object, and the new replica becomes ready', async () => {
    const live = await getJson('deploy', 'scaled');
    const change: DesiredChange = {
      type: 'patch',
      target: deploy('scaled'),
      resourceVersion: live.metadata.resourceVersion,
      patchType: 'merge',
      patch: { spec: { replicas: 3 } },
      subresource: 'scale',
    };
    const w = client.writerAs(bob, { requestId: 'req-scaled-1' });
    const preview = await w.preview(change);
    expect(preview.diff).toEqual([{ path: 'spec.replicas', before: 2, after: 3 }]);
    expect(preview.resourceVersion).toBe(live.metadata.resourceVersion);
    const { applied, result } = await timed('scale 2 → 3: apply → done', async () => {
      const applied = await w.apply(change);
      return { applied, result: await w.followRollout(deploy('scaled'), { timeoutSeconds: 120 }) };
    });
    expect(applied.warnings).toBeUndefined();
    expect(result).toMatchObject({ phase: 'done', desired: 3, ready: 3, available: 3 });
    expect(await podImages('scaled')).toHaveLength(3);
    const now = await getJson('deploy', 'scaled');
    expect(now.spec.replicas).toBe(3);
    expect(now.metadata.annotations?.[REQUEST_ANNOTATION]).toBe('req-scaled-1');
  });

  it('deletes a pod only with its uid: dry-run keeps it, a wrong uid is refused, the right one deletes it', async () => {
    const pods = JSON.parse(
      await admin(['-n', namespace, 'get', 'pods', '-l', 'app=guarded', '-o', 'json']),
    ) as {
      items: LiveObject[];
    };
    const pod = pods.items[0];
    if (!pod) throw new Error('guarded has no pods');
    const target: ChangeTarget = {
      group: '',
      version: 'v1',
      resource: 'pods',
      kind: 'Pod',
      namespace,
      name: pod.metadata.name,
    };
    const w = writer(bob);
    const change: DesiredChange = {
      type: 'delete',
      target,
      resourceVersion: undefined,
      uid: pod.metadata.uid,
    };
    const preview = await w.preview(change);
    expect(preview.diff).toEqual([
      { path: '(object)', before: `pod/${pod.metadata.name}`, after: '(deleted)' },
    ]);
    const stillThere = await getJson('pod', pod.metadata.name);
    expect(stillThere.metadata.uid).toBe(pod.metadata.uid);
    expect(stillThere.metadata.deletionTimestamp).toBeUndefined();

    const wrong = await failure(w.apply({ ...change, uid: '00000000-0000-4000-8000-000000000000' }));
    expect(wrong.code).toBe('CONFLICT');
    expect(wrong.message).toBe(
      `pod/${pod.metadata.name} was deleted and re-created since the preview; Wheelhouse did not touch the new one.`,
    );
    expect((await getJson('pod', pod.metadata.name)).metadata.deletionTimestamp).toBeUndefined();

    await w.apply(change);
    const gone = await admin([
      '-n',
      namespace,
      'get',
      'pod',
      pod.metadata.name,
      '--ignore-not-found',
      '-o',
      'json',
    ]);
    expect(gone.trim() === '' || JSON.parse(gone).metadata.deletionTimestamp !== undefined).toBe(true);
  });
});
