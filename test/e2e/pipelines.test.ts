import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PeerMessage } from '../support/slack-peer.ts';
import {
  ALICE,
  ANA,
  type Answer,
  auditRecords,
  BOB,
  buttonValue,
  type E2eBot,
  messageText,
  startE2eBot,
} from './bot.ts';
import { kubectl, kubectlApply } from './kubectl.ts';

/** A namespace of this run: bob may edit (create Jobs and, via Tekton's aggregated role, PipelineRuns), alice may view. */
const NS = `e2e-pipe-${process.pid}`;

const CONFIG = [
  'policy:',
  '  rules:',
  '    - name: pipelines',
  `      namespaces: ["${NS}"]`,
  '      write: allow',
  'pipelines:',
  '  updateInterval: 1s',
  '  jobTtl: 10m',
  '  catalog:',
  '    - name: ship',
  '      type: built-in',
  `      namespace: ${NS}`,
  '      params:',
  '        - { name: tag, pattern: "[a-z0-9.]+" }',
  '      stages:',
  '        - name: build',
  '          tasks:',
  '            - { name: compile, image: "registry.example.com/ci/build:$(params.tag)", env: { TAG: "$(params.tag)" }, activeDeadlineSeconds: 120 }',
  '            - { name: lint, image: "registry.example.com/ci/lint:1" }',
  '        - name: gate',
  '          approval: { group: "wheelhouse:approvers", quorum: 1, timeout: 10m }',
  '        - name: deploy',
  '          tasks:',
  '            - { name: apply, image: "registry.example.com/ci/deploy:1" }',
  '    - name: tk-build',
  '      type: tekton',
  `      namespace: ${NS}`,
  '      pipelineRef: build',
  '      params:',
  '        - { name: revision }',
  '        - { name: verbose, type: boolean, default: false }',
];

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

let bot: E2eBot;

beforeAll(async () => {
  await kubectlApply(`
apiVersion: v1
kind: Namespace
metadata: { name: ${NS} }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: bob-edit, namespace: ${NS} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: bob }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: alice-view, namespace: ${NS} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: alice }]
`);
  bot = await startE2eBot({ extraConfig: CONFIG });
}, 60_000);

afterAll(async () => {
  await bot?.stop();
  await bot?.peer.close();
  await kubectl('delete', 'namespace', NS, '--wait=false').catch(() => undefined);
});

/**
 * Sends `/wh <text>` and waits for its answer. Run messages are posted to the channel too, so the
 * answer is told apart by its header ("<@U…> asked `/wh <text>`"), not by order.
 */
async function ask(text: string, user: string): Promise<Answer> {
  const before = bot.peer.messages().length;
  const { status } = await bot.slash(text, user);
  expect(status).toBe(200);
  const message = await until(`the answer to ${text}`, () =>
    bot.peer
      .messages()
      .slice(before)
      .find((m) => messageText(m.blocks, m.text).includes(`asked \`/wh ${text}\``)),
  );
  return { message, text: messageText(message.blocks, message.text) };
}

/** The run's name from the bot's answer, e.g. "Started pipeline ship run ship-1a2b3c4d; …". */
function runNameOf(answer: Answer): string {
  const match = /pipeline \S+ run ([a-z0-9-]+)/.exec(answer.text);
  if (!match?.[1]) throw new Error(`no run name in: ${answer.text}`);
  return match[1];
}

/** The run's one message (posted and updated in place by the keeper) once it says `what`. */
async function runMessage(name: string, what: RegExp): Promise<PeerMessage> {
  const find = (m: PeerMessage) => {
    const text = messageText(m.blocks, m.text);
    return text.includes(`run ${name}`) && text.includes('Wheelhouse pipeline run');
  };
  try {
    return await until(`the message of run ${name} to match ${what}`, () =>
      bot.peer.messages().find((m) => find(m) && what.test(messageText(m.blocks, m.text))),
    );
  } catch (error) {
    const last = bot.peer.messages().filter(find).at(-1);
    throw new Error(
      `${String(error)}; it says: ${last ? messageText(last.blocks, last.text) : '(no message)'}`,
    );
  }
}

const jobsOf = async (run: string) =>
  JSON.parse(await kubectl('get', 'jobs', '-n', NS, '-l', `wheelhouse.io/run=${run}`, '-o', 'json')) as {
    items: Array<{
      metadata: { name: string; labels: Record<string, string> };
      spec: Record<string, unknown>;
    }>;
  };

describe('pipelines from chat (e2e)', () => {
  it('refuses alice: Kubernetes RBAC does not let her create Jobs, and nothing is created', async () => {
    const answer = await ask(`run ship tag=v1`, ALICE);
    expect(answer.text).toMatch(/does not allow alice to create jobs/i);
    expect((await kubectl('get', 'jobs', '-n', NS, '-o', 'name')).trim()).toBe('');
  });

  it('names the bad parameter', async () => {
    const answer = await ask(`run ship tag=V1! colour=red`, BOB);
    expect(answer.text).toMatch(/Parameter "(tag|colour)" of ship/);
  });

  it('runs a two-stage built-in pipeline with an approval between, once even when triggered twice', async () => {
    const first = await ask('run ship tag=v1', BOB);
    expect(first.text).toMatch(/Started pipeline ship run/);
    const name = runNameOf(first);
    const second = await ask('run ship tag=v1', BOB);
    expect(second.text).toMatch(/Already started: pipeline ship run/);
    expect(runNameOf(second)).toBe(name);

    const waiting = await runMessage(name, /waiting for approval/);
    const jobs = await jobsOf(name);
    expect(jobs.items.map((j) => j.metadata.name).sort()).toEqual([`${name}-0-compile`, `${name}-0-lint`]);
    const labels = jobs.items[0]?.metadata.labels ?? {};
    expect(labels['wheelhouse.io/slack-user']).toBe(BOB);
    expect(labels['wheelhouse.io/slack-channel']).toBe(waiting.channel);
    expect(labels['wheelhouse.io/audit-id']).toMatch(/.+/);
    expect(jobs.items[0]?.spec['ttlSecondsAfterFinished']).toBe(600);

    // bob may not approve his own run; ana (an approver) may.
    const own = await bot.click(waiting, 'Approve', BOB);
    expect(own.text).toMatch(/cannot approve or deny your own/);
    const approved = await bot.click(waiting, 'Approve', ANA);
    expect(approved.text).toMatch(/Approved/);
    const done = await runMessage(name, /succeeded in/);
    expect(messageText(done.blocks)).toMatch(/deploy: succeeded/);
    expect((await jobsOf(name)).items.map((j) => j.metadata.name)).toContain(`${name}-2-apply`);

    const records = await auditRecords(bot.dataDir);
    const types = records.filter((r) => JSON.stringify(r.input ?? {}).includes(name)).map((r) => r.type);
    expect(types).toEqual(
      expect.arrayContaining(['pipeline.start', 'pipeline.jobs-created', 'pipeline.succeeded']),
    );
  }, 90_000);

  it('shows a failed task with a Rerun button when a Job fails', async () => {
    const answer = await ask('run ship tag=fails', BOB);
    const name = runNameOf(answer);
    const failed = await runMessage(name, /failed after/);
    const text = messageText(failed.blocks);
    expect(text).toMatch(/task compile/);
    expect(text).toMatch(/gate: skipped/);
    expect(JSON.stringify(failed.blocks)).toContain('"Rerun"');
  }, 60_000);

  it('cancels a run waiting at its approval stage and voids the approval', async () => {
    const answer = await ask('run ship tag=v3', BOB);
    const name = runNameOf(answer);
    const waiting = await runMessage(name, /waiting for approval/);
    const approve = buttonValue(waiting, 'Approve');
    const cancelled = await bot.click(waiting, 'Cancel', BOB);
    expect(cancelled.text).toMatch(/Cancelled pipeline ship run/);
    const after = await runMessage(name, /was cancelled by/);
    expect(JSON.stringify(after.blocks)).not.toContain('"Approve"');
    // The approval went with the run: a late vote is not counted.
    const late = await ask(approve, ANA);
    expect(late.text).toMatch(/not counted: not-pending/);
  }, 60_000);

  it('creates a Tekton PipelineRun as the user with params and labels, and follows the status the test drives', async () => {
    const answer = await ask('run tk-build revision=abc123', BOB);
    const name = runNameOf(answer);
    const pr = await until('the PipelineRun', async () => {
      const out = await kubectl('get', 'pipelineruns.tekton.dev', name, '-n', NS, '-o', 'json').catch(
        () => '',
      );
      return out
        ? (JSON.parse(out) as {
            metadata: { labels: Record<string, string>; annotations: Record<string, string> };
            spec: { params: unknown; pipelineRef: unknown };
          })
        : undefined;
    });
    expect(pr.spec.pipelineRef).toEqual({ name: 'build' });
    expect(pr.spec.params).toEqual([
      { name: 'revision', value: 'abc123' },
      { name: 'verbose', value: 'false' },
    ]);
    expect(pr.metadata.labels['wheelhouse.io/slack-user']).toBe(BOB);
    expect(pr.metadata.labels['wheelhouse.io/audit-id']).toBe(
      pr.metadata.annotations['wheelhouse.io/request-id'],
    );
    // No Tekton controller runs here: the test plays it.
    await kubectl(
      'patch',
      'pipelineruns.tekton.dev',
      name,
      '-n',
      NS,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({
        status: {
          conditions: [
            {
              type: 'Succeeded',
              status: 'True',
              reason: 'Succeeded',
              message: 'Tasks Completed: 1',
              lastTransitionTime: new Date().toISOString(),
            },
          ],
        },
      }),
    );
    await runMessage(name, /succeeded in/);
  }, 60_000);

  it('cancels a Tekton run by marking its PipelineRun cancelled', async () => {
    const answer = await ask('run tk-build revision=def456', BOB);
    const name = runNameOf(answer);
    const running = await runMessage(name, /is running/);
    await until('the PipelineRun', () =>
      kubectl('get', 'pipelineruns.tekton.dev', name, '-n', NS, '-o', 'name').catch(() => undefined),
    );
    const cancelled = await bot.click(running, 'Cancel', BOB);
    expect(cancelled.text).toMatch(/Cancelled pipeline tk-build/);
    expect(
      await kubectl('get', 'pipelineruns.tekton.dev', name, '-n', NS, '-o', 'jsonpath={.spec.status}'),
    ).toBe('Cancelled');
  }, 60_000);

  it('carries a run on after a restart of the bot, updating the same message', async () => {
    const answer = await ask('run ship tag=v4', BOB);
    const name = runNameOf(answer);
    const waiting = await runMessage(name, /waiting for approval/);
    const approve = buttonValue(waiting, 'Approve');
    const old = bot;
    await old.stopBotOnly();
    bot = await startE2eBot({ extraConfig: CONFIG, dataDir: old.dataDir, peer: old.peer });
    const approved = await ask(approve, ANA);
    expect(approved.text).toMatch(/Approved/);
    const done = await runMessage(name, /succeeded in/);
    expect(done.ts).toBe(waiting.ts);
    expect(
      bot.peer.messages().filter((m) => messageText(m.blocks, m.text).includes(`Pipeline ship run ${name}`)),
    ).toHaveLength(1);
  }, 90_000);

  it('lists recent runs with status and who started them', async () => {
    const answer = await ask('runs ship', BOB);
    expect(answer.text).toMatch(/succeeded/);
    expect(answer.text).toMatch(/failed/);
    expect(answer.text).toMatch(/cancelled/);
    expect(answer.text).toMatch(/as bob/);
  });
});
