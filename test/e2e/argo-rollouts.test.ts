import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../../src/audit/audit-record.ts';
import { ALICE, auditRecords, BOB, type E2eBot, startE2eBot } from './bot.ts';
import { kubectlApply as apply, kubectl } from './kubectl.ts';

/**
 * Argo Rollouts on the real API server: the harness installs Argo's CRDs and aggregated roles
 * (test/harness/argo-rollouts-crds.sh: `edit` may patch rollouts/status, `view` may read). No
 * Argo controller runs, so the test writes the Rollout's status where the controller would.
 */
const NS = 'shop';
const NAME = `ro-${process.pid % 100000}`;
const CONFIG = [
  'policy:',
  '  rules:',
  '    - name: shop-direct',
  `      namespaces: [${NS}]`,
  '      write: allow',
];

/** What the Argo controller would write: a status merge patch on the status subresource. */
const controllerWrites = (status: Record<string, unknown>) =>
  kubectl(
    'patch',
    'rollout',
    NAME,
    '-n',
    NS,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status }),
  );

async function rollout(): Promise<{
  metadata: { annotations?: Record<string, string> };
  spec: { paused?: boolean };
  status: Record<string, unknown>;
}> {
  return JSON.parse(await kubectl('get', 'rollout', NAME, '-n', NS, '-o', 'json'));
}

let bot: E2eBot;

beforeAll(async () => {
  await apply(`
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: { name: ${NAME}, namespace: ${NS} }
spec:
  replicas: 4
  selector: { matchLabels: { app: ${NAME} } }
  template:
    metadata: { labels: { app: ${NAME} } }
    spec:
      containers: [{ name: app, image: "registry.example.com/shop/ro:v2" }]
  strategy:
    canary:
      steps:
        - setWeight: 25
        - pause: {}
        - setWeight: 50
        - analysis: { templates: [{ templateName: success-rate }] }
        - pause: { duration: 30s }
`);
  // The controller has landed step 1 (25%) and is paused at step 2, a pause without duration.
  await controllerWrites({
    phase: 'Paused',
    message: 'CanaryPauseStep',
    currentStepIndex: 1,
    pauseConditions: [{ reason: 'CanaryPauseStep', startTime: new Date().toISOString() }],
    controllerPause: true,
    stableRS: 'stable1',
    currentPodHash: 'canary2',
    updatedReplicas: 1,
    readyReplicas: 4,
    availableReplicas: 4,
    canary: { currentBackgroundAnalysisRunStatus: { name: `${NAME}-bg`, status: 'Running', message: '' } },
  });
  bot = await startE2eBot({ extraConfig: CONFIG });
}, 120_000);

afterAll(async () => {
  await bot?.stop();
  await bot?.peer.close().catch(() => undefined);
  await kubectl('delete', 'rollout', NAME, '-n', NS, '--ignore-not-found', '--wait=false').catch(
    () => undefined,
  );
});

describe('Argo Rollouts from chat, through the Kubernetes API', () => {
  it('shows steps and analysis; Promote is refused for alice by RBAC and done for bob on the status subresource', async () => {
    const shown = await bot.ask(`/wh argo rollout/${NAME} -n ${NS}`, ALICE);
    expect(shown.text).toContain(`Argo Rollout ${NAME} in ${NS}: paused (CanaryPauseStep), step 2 of 5.`);
    expect(shown.text).toContain('pause (until promoted)');
    expect(shown.text).toContain('analysis (success-rate)');
    expect(shown.text).toContain(`${NAME}-bg`);

    // alice may view shop, not patch rollouts/status: Kubernetes (an access review as her) refuses.
    const refused = await bot.click(shown.message, 'Promote', ALICE);
    expect(refused.text).toContain(
      'Kubernetes does not allow alice to patch rollouts/status in namespace shop',
    );
    expect((await rollout()).status['pauseConditions']).toHaveLength(1);

    const promoted = await bot.click(shown.message, 'Promote', BOB);
    expect(promoted.text).toContain(`Done: promote Argo rollout/${NAME} in ${NS}`);
    expect(promoted.text).toContain('status.pauseConditions');
    const after = await rollout();
    expect(after.status['pauseConditions']).toBeUndefined();
    // The step index is the controller's to move on a plain pause: untouched.
    expect(after.status['currentStepIndex']).toBe(1);
    // The status subresource ignores metadata: the request annotation follows on the object.
    expect(after.metadata.annotations?.['wheelhouse.io/request-id']).toMatch(/\S/);
  });

  it('promotes past a running analysis to the next step, then aborts and retries via the buttons', async () => {
    // The controller moved on to the analysis step (index 3) and runs it.
    await controllerWrites({
      phase: 'Progressing',
      message: 'more replicas need to be updated',
      currentStepIndex: 3,
      controllerPause: false,
      canary: { currentStepAnalysisRunStatus: { name: `${NAME}-3`, status: 'Running', message: '' } },
    });
    const shown = await bot.ask(`/wh argo rollout/${NAME} -n ${NS}`, BOB);
    expect(shown.text).toContain('progressing, step 4 of 5');
    expect(shown.text).toContain(`${NAME}-3`);
    // Typed, the same command as the button (a second click on it within seconds is a double click).
    const promoted = await bot.ask(`/wh argo-promote rollout/${NAME} -n ${NS}`, BOB);
    expect(promoted.text).toContain('Done: promote');
    expect((await rollout()).status['currentStepIndex']).toBe(4);

    const again = await bot.ask(`/wh argo rollout/${NAME} -n ${NS}`, BOB);
    const aborted = await bot.click(again.message, 'Abort', BOB);
    expect(aborted.text).toContain(`Done: abort Argo rollout/${NAME} in ${NS}`);
    expect((await rollout()).status['abort']).toBe(true);
    // What the controller writes when it has aborted.
    await controllerWrites({
      phase: 'Degraded',
      message: 'RolloutAborted: Rollout aborted update to revision 2',
    });

    const abortedView = await bot.ask(`/wh argo rollout/${NAME} -n ${NS}`, BOB);
    expect(abortedView.text).toContain(`Argo Rollout ${NAME} in ${NS}: aborted`);
    const retried = await bot.click(abortedView.message, 'Retry', BOB);
    expect(retried.text).toContain(`Done: retry Argo rollout/${NAME} in ${NS}`);
    expect((await rollout()).status['abort']).toBe(false);

    const audit = await auditRecords(bot.dataDir);
    const writes = audit
      .filter((r) => r.skill?.startsWith('argo-rollout-') && r.type === 'change.done')
      .map((r) => r.skill);
    expect(writes).toEqual([
      'argo-rollout-promote',
      'argo-rollout-promote',
      'argo-rollout-abort',
      'argo-rollout-retry',
    ]);
    expect(audit.some((r) => r.skill === 'argo-rollout-promote' && r.outcome === 'denied')).toBe(true);
    expect(await verifyChain(audit)).toMatchObject({ ok: true });
  });
});
