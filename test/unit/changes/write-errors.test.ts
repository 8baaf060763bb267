import { describe, expect, it } from 'vitest';
import { type WriteErrorContext, writeErrorFromResponse } from '../../../src/changes/write-errors.ts';

const ctx: WriteErrorContext = {
  ref: 'deploy/checkout',
  op: {
    verb: 'patch',
    group: 'apps',
    resource: 'deployments',
    namespace: 'shop',
    name: 'checkout',
    short: 'deploy',
  },
  identity: { user: 'bob', groups: ['system:authenticated'] },
  server: 'https://127.0.0.1:26443',
  dryRun: true,
  resourceVersion: '1001',
};

/** Status bodies as kube-apiserver v1.36 sends them (captured from the e2e cluster). */
const status = (body: Record<string, unknown>) =>
  JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', ...body });

describe('writeErrorFromResponse', () => {
  it('names every other field manager and its fields for a server-side apply conflict', () => {
    const body = status({
      message:
        'Apply failed with 3 conflicts: conflict with "kubectl-client-side-apply" using apps/v1: .spec.template.spec.containers[name="checkout"].image; conflict with "helm": .spec.replicas ...',
      reason: 'Conflict',
      details: {
        causes: [
          {
            reason: 'FieldManagerConflict',
            message: 'conflict with "kubectl-client-side-apply" using apps/v1',
            field: '.spec.template.spec.containers[name="checkout"].image',
          },
          { reason: 'FieldManagerConflict', message: 'conflict with "helm"', field: '.spec.replicas' },
          {
            reason: 'FieldManagerConflict',
            message: 'conflict with "kubectl-client-side-apply" using apps/v1',
            field: '.spec.template.spec.containers[name="checkout"].env[name="MODE"].value',
          },
        ],
      },
      code: 409,
    });
    const error = writeErrorFromResponse(409, body, ctx);
    expect(error.code).toBe('CONFLICT');
    expect(error.message).toBe(
      'deploy/checkout: fields this change sets are owned by another field manager: "kubectl-client-side-apply" (.spec.template.spec.containers[name="checkout"].image, .spec.template.spec.containers[name="checkout"].env[name="MODE"].value); "helm" (.spec.replicas). Nothing was changed.',
    );
    expect(error.hint).toContain('"kubectl-client-side-apply", "helm"');
    expect(error.hint).toContain('force');
    expect(error.detail).toMatchObject({
      conflicts: [
        {
          manager: 'kubectl-client-side-apply',
          field: '.spec.template.spec.containers[name="checkout"].image',
        },
        { manager: 'helm', field: '.spec.replicas' },
        { manager: 'kubectl-client-side-apply' },
      ],
    });
  });

  it('reports a stale resourceVersion as a change since the preview', () => {
    const body = status({
      message:
        'Operation cannot be fulfilled on deployments.apps "checkout": the object has been modified; please apply your changes to the latest version and try again',
      reason: 'Conflict',
      details: { name: 'checkout', group: 'apps', kind: 'deployments' },
      code: 409,
    });
    const error = writeErrorFromResponse(409, body, { ...ctx, dryRun: false });
    expect(error.code).toBe('CONFLICT');
    expect(error.message).toBe(
      'deploy/checkout changed since the preview (resourceVersion 1001 is no longer current).',
    );
    expect(writeErrorFromResponse(409, body, { ...ctx, resourceVersion: undefined }).message).toBe(
      'deploy/checkout changed since the preview.',
    );
  });

  it('reports a uid precondition failure as a replaced object', () => {
    const body = status({
      message:
        'Operation cannot be fulfilled on Pod "checkout-1": the UID in the precondition (0000) does not match the UID in record (ce89). The object might have been deleted and then recreated',
      reason: 'Conflict',
      code: 409,
    });
    const error = writeErrorFromResponse(409, body, { ...ctx, ref: 'pod/checkout-1' });
    expect(error.code).toBe('CONFLICT');
    expect(error.message).toBe(
      'pod/checkout-1 was deleted and re-created since the preview; Wheelhouse did not touch the new one.',
    );
  });

  it('passes a validation error (422) through verbatim as DRY_RUN_REJECTED', () => {
    const message =
      'Deployment.apps "checkout" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0';
    const body = status({ message, reason: 'Invalid', code: 422 });
    const dry = writeErrorFromResponse(422, body, ctx);
    expect(dry.code).toBe('DRY_RUN_REJECTED');
    expect(dry.message).toBe(`Kubernetes rejected the change in the dry-run of deploy/checkout: ${message}`);
    const real = writeErrorFromResponse(422, body, { ...ctx, dryRun: false });
    expect(real.message).toBe(`Kubernetes rejected the change to deploy/checkout: ${message}`);
    expect(real.hint).toContain('nothing was changed');
  });

  it('treats an admission webhook denial (403 without RBAC wording) as a rejection, not FORBIDDEN', () => {
    const message =
      'admission webhook "policy.example.com" denied the request: images must come from registry.example.com';
    const error = writeErrorFromResponse(403, status({ message, reason: 'Forbidden', code: 403 }), ctx);
    expect(error.code).toBe('DRY_RUN_REJECTED');
    expect(error.message).toContain(message);
  });

  it('explains a webhook that cannot take dry-runs (not declared side-effect free)', () => {
    const message = 'admission webhook "mutate.example.com" does not support dry run';
    const error = writeErrorFromResponse(400, status({ message, reason: 'BadRequest', code: 400 }), ctx);
    expect(error.code).toBe('DRY_RUN_REJECTED');
    expect(error.message).toContain(message);
    expect(error.hint).toContain('sideEffects: None');
  });

  it('treats a failing webhook (500) as a rejection with its message, a plain 500 as unreachable', () => {
    const message =
      'Internal error occurred: failed calling webhook "validate.example.com": failed to call webhook: Post "https://validate.svc:443/validate": dial tcp: connection refused';
    const failing = writeErrorFromResponse(500, status({ message, reason: 'InternalError', code: 500 }), ctx);
    expect(failing.code).toBe('DRY_RUN_REJECTED');
    expect(failing.message).toContain('failed calling webhook "validate.example.com"');
    const down = writeErrorFromResponse(
      503,
      status({ message: 'etcdserver: request timed out', code: 503 }),
      ctx,
    );
    expect(down.code).toBe('KUBE_UNREACHABLE');
  });

  it('keeps RBAC denials as FORBIDDEN naming verb, resource and namespace', () => {
    const message =
      'deployments.apps "checkout" is forbidden: User "alice" cannot patch resource "deployments" in API group "apps" in the namespace "shop"';
    const error = writeErrorFromResponse(403, status({ message, reason: 'Forbidden', code: 403 }), {
      ...ctx,
      identity: { user: 'alice', groups: [] },
    });
    expect(error.code).toBe('FORBIDDEN');
    expect(error.message).toBe('Kubernetes does not allow alice to patch deployments in namespace shop.');
  });

  it('maps a refused impersonation to FORBIDDEN about acting as the user', () => {
    const message =
      'users "mallory" is forbidden: User "wheelhouse" cannot impersonate resource "users" in API group "" at the cluster scope';
    const error = writeErrorFromResponse(403, status({ message, reason: 'Forbidden', code: 403 }), {
      ...ctx,
      identity: { user: 'mallory', groups: [] },
    });
    expect(error.code).toBe('FORBIDDEN');
    expect(error.message).toBe('Kubernetes does not let Wheelhouse act as mallory.');
  });

  it('maps 404 to NOT_FOUND and 429 to RATE_LIMITED', () => {
    expect(writeErrorFromResponse(404, status({ message: 'not found', code: 404 }), ctx).message).toBe(
      'deploy/checkout was not found in namespace shop.',
    );
    expect(writeErrorFromResponse(429, '', ctx).code).toBe('RATE_LIMITED');
  });

  it('keeps a non-JSON body as the message', () => {
    const error = writeErrorFromResponse(400, 'the body of the request was in an unknown format', ctx);
    expect(error.code).toBe('DRY_RUN_REJECTED');
    expect(error.message).toContain('the body of the request was in an unknown format');
  });
});
