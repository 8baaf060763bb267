import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PeerMessage } from '../support/slack-peer.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import {
  ANA,
  APPROVALS,
  auditRecords,
  BOB,
  CHANNEL,
  type E2eBot,
  isProgress,
  messageText,
  startE2eBot,
} from './bot.ts';
import { e2e } from './e2e-env.ts';
import { kubectl, kubectlApply } from './kubectl.ts';

/**
 * The change road when things go wrong around it: approvals nobody decides (reminder, expiry,
 * the approvals channel), the API server lost mid-rollout (briefly, and past the deadline), and
 * the bot restarted while it verifies a rollout.
 */
const DIRECT = `e2e-res-${process.pid}`;
const GATED = `e2e-resa-${process.pid}`;
const IMAGE = 'registry.example.com/shop/web';

const CONFIG = [
  'policy:',
  '  rules:',
  `    - { name: direct, namespaces: ["${DIRECT}"], write: allow }`,
  `    - name: gated`,
  `      namespaces: ["${GATED}"]`,
  '      write: approve',
  '      approvers: { group: "wheelhouse:approvers", quorum: 1 }',
  'changes:',
  '  approvalTtl: 8s',
  '  approvalReminder: 5s',
  '  upkeepInterval: 1s',
  `  approvalsChannel: ${APPROVALS}`,
];

function namespaceManifest(ns: string): string {
  const deployment = (name: string, deadline: number) => `
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, namespace: ${ns} }
spec:
  replicas: 2
  progressDeadlineSeconds: ${deadline}
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      containers: [{ name: web, image: "${IMAGE}:v1" }]`;
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
${deployment('web', 12)}
${deployment('slow', 30)}
`;
}

const imageOf = (ns: string, name: string) =>
  kubectl('get', `deploy/${name}`, '-n', ns, '-o', 'jsonpath={.spec.template.spec.containers[0].image}');

/** The bot's messages since `from` in `channel` whose text matches. */
async function waitForMessage(
  bot: E2eBot,
  from: number,
  match: RegExp,
  timeoutMs: number,
  channel = CHANNEL,
): Promise<{ message: PeerMessage; text: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const message of bot.peer.messages().slice(from)) {
      const text = messageText(message.blocks, message.text);
      if (message.channel === channel && match.test(text)) return { message, text };
    }
    if (Date.now() > deadline)
      throw new Error(`no message matching ${match} in ${channel} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Resolves once the bot shows rollout progress after message index `from`. */
async function waitForProgress(bot: E2eBot, from: number): Promise<void> {
  await waitForMessage(bot, from, /Rolling out|Rollout of/, 20_000);
  expect(
    bot.peer
      .messages()
      .slice(from)
      .some((m) => isProgress(m.text ?? '')),
  ).toBe(true);
}

/** Starts `/wh <text>` without waiting for the answer. */
function send(bot: E2eBot, text: string): Promise<unknown> {
  return bot.slash(text.replace(/^\/wh\s+/, ''), BOB).then(({ status }) => {
    if (status !== 200) throw new Error(`"${text}" was answered with HTTP ${status}`);
  });
}

let proxy: TcpProxy;
let bot: E2eBot;

beforeAll(async () => {
  await kubectlApply(`${namespaceManifest(DIRECT)}\n---\n${namespaceManifest(GATED)}`);
  for (const ns of [DIRECT, GATED]) {
    for (const name of ['web', 'slow'])
      await kubectl('rollout', 'status', `deploy/${name}`, '-n', ns, '--timeout=60s');
  }
  // The bot reaches the API server through a proxy the tests can cut.
  const server = new URL(
    (
      await kubectl(
        'config',
        'view',
        '--minify',
        '--context',
        'wheelhouse',
        '-o',
        'jsonpath={.clusters[0].cluster.server}',
      )
    ).trim(),
  );
  proxy = await TcpProxy.start({ host: server.hostname, port: Number(server.port) });
  const proxied = join(e2e.kubeconfig.replace(/[^/]+$/, ''), `kubeconfig-proxy-${process.pid}`);
  writeFileSync(
    proxied,
    readFileSync(e2e.kubeconfig, 'utf8').replaceAll(server.origin, `https://127.0.0.1:${proxy.port}`),
  );
  bot = await startE2eBot({ extraConfig: CONFIG, kubeconfig: proxied });
});

afterAll(async () => {
  await bot?.stop();
  await proxy?.close();
  await kubectl('delete', 'namespace', DIRECT, GATED, '--wait=false').catch(() => undefined);
});

describe('the change road when nobody answers, the API server goes away, or the bot restarts', () => {
  it('copies an approval request to the approvals channel, reminds before expiry, then expires it (denied)', async () => {
    const from = bot.peer.messages().length;
    const request = await bot.ask(`/wh deploy deploy/web -n ${GATED} image=${IMAGE}:v2`);
    expect(request.text).toContain('Waiting for approval');
    const copy = await waitForMessage(bot, from, /Waiting for approval/, 5_000, APPROVALS);
    expect(copy.text).toContain(`<#${CHANNEL}>`);
    expect(JSON.stringify(copy.message.blocks)).toContain('approve ');

    const reminder = await waitForMessage(bot, from, /expires in \d+ min/, 15_000);
    expect(JSON.stringify(reminder.message.blocks)).toContain('approve ');
    await waitForMessage(bot, from, /Expired without approval/, 15_000);
    await waitForMessage(bot, from, /Expired without approval/, 5_000, APPROVALS);

    const late = await bot.click(request.message, 'Approve', ANA);
    expect(late.text).toMatch(/expired|no longer waiting/);
    expect(await imageOf(GATED, 'web')).toBe(`${IMAGE}:v1`);
    const types = (await auditRecords(bot.dataDir)).map((r) => r.type);
    expect(types).toContain('approval.expired');
  });

  it('rides out a short loss of the API server mid-rollout and still rolls a bad deploy back', async () => {
    const from = bot.peer.messages().length;
    const answer = bot.ask(`/wh deploy deploy/web -n ${DIRECT} image=${IMAGE}:never-ready`, BOB, 90_000);
    await waitForProgress(bot, from);
    await proxy.cut();
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    await proxy.restore();
    const { text } = await answer;
    expect(text).toContain('Rolled back');
    expect(await imageOf(DIRECT, 'web')).toBe(`${IMAGE}:v1`);
  });

  it('resumes a verification the API server outage outlasted, and reports the outcome when it is back', async () => {
    const from = bot.peer.messages().length;
    const answer = bot.ask(`/wh deploy deploy/web -n ${DIRECT} image=${IMAGE}:never-ready`, BOB, 60_000);
    await waitForProgress(bot, from);
    await proxy.cut();
    const interrupted = await answer;
    expect(interrupted.text).toMatch(/verification was interrupted/);
    await proxy.restore();
    const notice = await waitForMessage(
      bot,
      from,
      /After a restart or an interruption — Rolled back/,
      60_000,
    );
    expect(notice.message.channel).toBe(CHANNEL);
    expect(await imageOf(DIRECT, 'web')).toBe(`${IMAGE}:v1`);
    const types = (await auditRecords(bot.dataDir)).map((r) => r.type);
    expect(types).toContain('change.verify.interrupted');
    expect(types).toContain('change.verify.resumed');
  });

  it('resumes verification after a restart of the bot in the middle of a rollout', async () => {
    const from = bot.peer.messages().length;
    void send(bot, `/wh deploy deploy/slow -n ${DIRECT} image=${IMAGE}:never-ready`);
    await waitForProgress(bot, from);
    await bot.stopBotOnly();
    bot = await startE2eBot({
      extraConfig: CONFIG,
      dataDir: bot.dataDir,
      peer: bot.peer,
      kubeconfig: join(e2e.kubeconfig.replace(/[^/]+$/, ''), `kubeconfig-proxy-${process.pid}`),
    });
    const notice = await waitForMessage(
      bot,
      from,
      /After a restart or an interruption — Rolled back/,
      90_000,
    );
    expect(notice.text).toContain('slow');
    expect(await imageOf(DIRECT, 'slow')).toBe(`${IMAGE}:v1`);
    const records = await auditRecords(bot.dataDir);
    const requestId = records.findLast((r) => r.type === 'change.verify.resumed')?.requestId;
    const steps = records.filter((r) => r.requestId === requestId).map((r) => r.type);
    expect(steps).toEqual(
      expect.arrayContaining([
        'change.apply',
        'change.verify.interrupted',
        'change.verify.resumed',
        'change.rollback.done',
      ]),
    );
    expect(steps.indexOf('change.verify.interrupted')).toBeLessThan(steps.indexOf('change.verify.resumed'));
  });
});
