import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../../src/audit/audit-record.ts';
import { ALICE, ANA, auditRecords, BOB, CY, type E2eBot, startE2eBot } from './bot.ts';
import { kubectl, kubectlApply } from './kubectl.ts';

/** Namespaces of this run: one where bob may change directly, one where changes need two approvers. */
const DIRECT = `e2e-chg-${process.pid}`;
const GATED = `e2e-appr-${process.pid}`;
const IMAGE = 'registry.example.com/shop/web';

const POLICY = [
  'policy:',
  '  rules:',
  '    - name: direct',
  `      namespaces: ["${DIRECT}", payments]`,
  '      write: allow',
  '    - name: two-person',
  `      namespaces: ["${GATED}"]`,
  '      write: approve',
  '      approvers: { group: "wheelhouse:approvers", quorum: 2 }',
];

function namespaceManifest(ns: string): string {
  return `
apiVersion: v1
kind: Namespace
metadata: { name: ${ns} }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: bob-edit, namespace: ${ns} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: bob }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: ${ns} }
spec:
  replicas: 2
  progressDeadlineSeconds: 12
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers: [{ name: web, image: "${IMAGE}:v1" }]
`;
}

const imageOf = async (ns: string) =>
  kubectl('get', 'deploy/web', '-n', ns, '-o', 'jsonpath={.spec.template.spec.containers[0].image}');

async function waitAvailable(ns: string): Promise<void> {
  await kubectl('rollout', 'status', 'deploy/web', '-n', ns, '--timeout=60s');
}

let bot: E2eBot;

beforeAll(async () => {
  await kubectlApply(`${namespaceManifest(DIRECT)}\n---\n${namespaceManifest(GATED)}`);
  await Promise.all([waitAvailable(DIRECT), waitAvailable(GATED)]);
  bot = await startE2eBot({ extraConfig: POLICY });
});

afterAll(async () => {
  await bot?.stop();
  await bot?.peer.close().catch(() => undefined);
  await kubectl('delete', 'namespace', DIRECT, GATED, '--wait=false').catch(() => undefined);
});

describe('changes on the real control plane', () => {
  it('deploys, follows the rollout to available, annotates the object and audits every step', async () => {
    const { text, message } = await bot.ask(`/wh deploy deploy/web -n ${DIRECT} image=${IMAGE}:v2`);
    expect(message.ephemeralTo).toBeUndefined();
    expect(text).toContain('Done and verified');
    expect(text).toContain(`${IMAGE}:v1`);
    expect(await imageOf(DIRECT)).toBe(`${IMAGE}:v2`);
    const requestId = await kubectl(
      'get',
      'deploy/web',
      '-n',
      DIRECT,
      '-o',
      'jsonpath={.metadata.annotations.wheelhouse\\.io/request-id}',
    );
    const steps = (await auditRecords(bot.dataDir))
      .filter((r) => r.requestId === requestId)
      .map((r) => r.type);
    expect(steps).toEqual(['change.preview', 'change.apply', 'change.verify.done', 'request']);
  });

  it('rolls a deploy that never becomes ready back to the previous image', async () => {
    const { text } = await bot.ask(
      `/wh deploy deploy/web -n ${DIRECT} image=${IMAGE}:never-ready`,
      BOB,
      90_000,
    );
    expect(text).toContain('Rolled back');
    expect(await imageOf(DIRECT)).toBe(`${IMAGE}:v2`);
    const types = (await auditRecords(bot.dataDir)).map((r) => r.type);
    expect(types).toContain('change.verify.failed');
    expect(types).toContain('change.rollback.done');
  });

  it('lets Kubernetes refuse alice in payments even though policy allows writes there', async () => {
    const before = await kubectl(
      'get',
      'deploy/payments-api',
      '-n',
      'payments',
      '-o',
      'jsonpath={.metadata.resourceVersion}',
    );
    const { text, message } = await bot.ask(
      '/wh deploy deploy/payments-api -n payments image=registry.example.com/x:v9',
      ALICE,
    );
    expect(message.ephemeralTo).toBe(ALICE);
    expect(text).toMatch(/alice/);
    expect(text).toMatch(/deployments/);
    expect(text).toMatch(/payments/);
    const after = await kubectl(
      'get',
      'deploy/payments-api',
      '-n',
      'payments',
      '-o',
      'jsonpath={.metadata.resourceVersion}',
    );
    expect(after).toBe(before);
    const refusal = (await auditRecords(bot.dataDir)).findLast((r) => r.actor.id === ALICE);
    expect(refusal).toMatchObject({ outcome: 'denied', errorCode: 'FORBIDDEN' });
  });

  it('needs two approvers, never the requester, and executes once despite a retry storm', async () => {
    const request = await bot.ask(`/wh deploy deploy/web -n ${GATED} image=${IMAGE}:v2`);
    expect(request.text).toContain('Waiting for approval');
    expect(await imageOf(GATED)).toBe(`${IMAGE}:v1`);

    const self = await bot.click(request.message, 'Approve', BOB);
    expect(self.message.ephemeralTo).toBe(BOB);
    expect(self.text).toMatch(/your own change/);

    const first = await bot.click(request.message, 'Approve', ANA);
    expect(first.text).toMatch(/1 more needed/);
    expect(await imageOf(GATED)).toBe(`${IMAGE}:v1`);

    const second = await bot.click(request.message, 'Approve', CY, { retries: 4 });
    expect(second.text).toContain('Done and verified');
    expect(await imageOf(GATED)).toBe(`${IMAGE}:v2`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const applies = (await auditRecords(bot.dataDir)).filter(
      (r) => r.type === 'change.apply' && r.actor.id === BOB && JSON.stringify(r).includes(GATED),
    );
    expect(applies).toHaveLength(1);
  });

  it('voids an approval when the target changed before execution', async () => {
    const request = await bot.ask(`/wh deploy deploy/web -n ${GATED} image=${IMAGE}:v3`);
    expect(request.text).toContain('Waiting for approval');
    await kubectl('set', 'image', 'deploy/web', `web=${IMAGE}:hotfix`, '-n', GATED);
    await bot.click(request.message, 'Approve', ANA);
    const last = await bot.click(request.message, 'Approve', CY);
    expect(last.text).toMatch(/changed after it was approved/);
    expect(await imageOf(GATED)).toBe(`${IMAGE}:hotfix`);
  });

  it('keeps a pending approval across a restart of the bot', async () => {
    await waitAvailable(GATED);
    const request = await bot.ask(`/wh deploy deploy/web -n ${GATED} image=${IMAGE}:v4`);
    expect(request.text).toContain('Waiting for approval');
    await bot.stopBotOnly();
    bot = await startE2eBot({ extraConfig: POLICY, dataDir: bot.dataDir, peer: bot.peer });
    await bot.click(request.message, 'Approve', ANA);
    const done = await bot.click(request.message, 'Approve', CY);
    expect(done.text).toContain('Done and verified');
    expect(await imageOf(GATED)).toBe(`${IMAGE}:v4`);
    expect(await verifyChain(await auditRecords(bot.dataDir))).toMatchObject({ ok: true });
  });
});
