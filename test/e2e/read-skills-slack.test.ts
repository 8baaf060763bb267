import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { verifyChain } from '../../src/audit/audit-record.ts';
import type { PeerMessage } from '../support/slack-peer.ts';
import { ALICE, auditRecords, CHANNEL, type E2eBot, messageText, STRANGER, startE2eBot } from './bot.ts';
import { e2e } from './e2e-env.ts';
import { kubectl } from './kubectl.ts';

const instantQuery = z.object({
  data: z.object({ result: z.array(z.object({ value: z.tuple([z.number(), z.string()]) })) }),
});

let bot: E2eBot;

beforeAll(async () => {
  bot = await startE2eBot();
});

afterAll(async () => {
  await bot?.stop();
});

/** Sends a slash command and returns the answer the bot posted for it (message or ephemeral). */
async function ask(text: string, user?: string): Promise<{ message: PeerMessage; text: string }> {
  const before = bot.peer.messages().length;
  // Slack sends only what follows the command, e.g. "pods shop" for "/wh pods shop".
  const { status } = await bot.slash(text.replace(/^\/wh\s+/, ''), user);
  expect(status).toBe(200);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const answer = bot.peer
      .messages()
      .slice(before)
      .find((m) => (m.ephemeralTo !== undefined ? !/Working on it/.test(m.text ?? '') : true));
    if (answer) return { message: answer, text: messageText(answer.blocks, answer.text) };
    if (Date.now() > deadline) throw new Error(`no answer to "${text}" within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('read skills through Slack against the real cluster', () => {
  it('lists the pods of shop exactly as kubectl get pods does', async () => {
    const { message, text } = await ask('/wh pods shop');
    expect(message.channel).toBe(CHANNEL);
    expect(message.ephemeralTo).toBeUndefined();
    const expected = (await kubectl('get', 'pods', '-n', 'shop', '--no-headers'))
      .trim()
      .split('\n')
      .map((line) => line.split(/\s+/));
    expect(expected.length).toBeGreaterThanOrEqual(10);
    for (const [name, ready, status, restarts] of expected) {
      const row = text.split('\n').find((line) => line.trimStart().startsWith(`${name} `));
      expect(row, `row for ${name}`).toBeDefined();
      const cells = row?.trim().split(/\s{2,}/) ?? [];
      expect([cells[0], cells[1], cells[2], cells[3]?.split(' ')[0]]).toEqual([
        name,
        ready,
        status,
        restarts,
      ]);
    }
  });

  it('names the crash, image pull, OOM and scheduling reasons of unhealthy pods', async () => {
    const { text } = await ask('/wh pods shop --unhealthy');
    for (const reason of [
      'CrashLoopBackOff',
      'ImagePullBackOff',
      'OOMKilled',
      'Pending',
      'Unschedulable',
      'exit code 1',
    ]) {
      expect(text).toContain(reason);
    }
    expect(text).not.toMatch(/\bcheckout-/);
  });

  it('explains why a deployment is unhealthy', async () => {
    const { text } = await ask('/wh describe deploy/crashy -n shop');
    expect(text).toMatch(/Why it is unhealthy/);
    expect(text).toContain('CrashLoopBackOff');
    expect(text).toContain('BackOff');
  });

  it('lists warning events newest first with the scheduler refusal', async () => {
    const { text } = await ask('/wh events -n shop');
    expect(text).toContain('FailedScheduling');
    expect(text).toContain('Insufficient cpu');
  });

  it('merges the logs of every pod of a workload, redacted', async () => {
    const { text } = await ask('/wh logs deploy/checkout -n shop');
    const pods = (await kubectl('get', 'pods', '-n', 'shop', '-l', 'app=checkout', '-o', 'name'))
      .trim()
      .split('\n')
      .map((p) => p.replace('pod/', ''));
    expect(pods).toHaveLength(3);
    for (const pod of pods) expect(text).toContain(`${pod}/checkout`);
    const files = bot.peer.files();
    const all = [text, ...files.map((f) => f.bytes?.toString('utf8') ?? '')].join('\n');
    expect(all).not.toContain('hunter2');
    expect(all).not.toContain('AKIAIOSFODNN7EXAMPLE');
    expect(all).toContain('REDACTED');
  });

  it('reads the previous container of a crash-looping pod', async () => {
    const { text } = await ask('/wh logs deploy/crashy -n shop --previous');
    expect(text).toMatch(/crashy-[a-z0-9]+-[a-z0-9]+\/crashy/);
    const previous = await kubectl('logs', '-n', 'shop', 'deploy/crashy', '--previous', '--tail', '1');
    expect(text).toContain(previous.trim().split(' ').slice(-3).join(' '));
  });

  it('charts CPU from the real Prometheus as a PNG upload with the right numbers', async () => {
    const filesBefore = bot.peer.files().length;
    const { text } = await ask('/wh metrics cpu deploy/checkout -n shop --last 10m');
    // The exporter gives each checkout pod 0.25 cores (test/harness/OBSERVABILITY.md).
    const cores = [...text.matchAll(/(\d+(?:\.\d+)?) millicores/g)].map((m) => Number(m[1]));
    expect(cores.length).toBeGreaterThanOrEqual(3);
    for (const value of cores.slice(-3)) expect(value).toBeCloseTo(250, -1);
    // The chart is uploaded into the answer's thread after the answer is posted.
    const chartUpload = () =>
      bot.peer
        .files()
        .slice(filesBefore)
        .find((f) => f.filename.endsWith('.png') && f.completed);
    const deadline = Date.now() + 15_000;
    while (!chartUpload() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const png = chartUpload();
    expect(png?.completed).toBe(true);
    expect(png?.bytes?.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  });

  it('says "no data" rather than 0 for a series that does not exist', async () => {
    const { text } = await ask('/wh metrics gpu deploy/cart -n shop --last 10m');
    expect(text).toMatch(/no data/i);
  });

  it('refuses alice in payments naming the permission, and audits the refusal', async () => {
    const { message, text } = await ask('/wh pods payments', ALICE);
    expect(message.ephemeralTo).toBe(ALICE);
    expect(text).toContain('alice');
    expect(text).toMatch(/list pods/);
    expect(text).toContain('payments');
    const records = await auditRecords(bot.dataDir);
    const refusal = records.findLast((r) => r.text === 'pods payments');
    expect(refusal).toMatchObject({
      outcome: 'denied',
      errorCode: 'FORBIDDEN',
      actor: { id: ALICE, kubeUser: 'alice' },
    });
    expect(await verifyChain(records)).toMatchObject({ ok: true });
  });

  it('lets alice read shop, where she may view', async () => {
    const { message, text } = await ask('/wh pods shop app=checkout', ALICE);
    expect(message.ephemeralTo).toBeUndefined();
    expect(text).toMatch(/checkout-/);
  });

  it('refuses unmapped Slack users politely', async () => {
    const { message, text } = await ask('/wh pods shop', STRANGER);
    expect(message.ephemeralTo).toBe(STRANGER);
    expect(text).toMatch(/not (mapped|allowed)|cannot use|isn.t set up/i);
  });

  it('answers a typo with "did you mean"', async () => {
    const { text } = await ask('/wh pdos shop');
    expect(text).toMatch(/Did you mean `pods`/);
  });

  it('exposes per-skill request metrics that the real Prometheus scrapes', async () => {
    const own = await (await fetch(`${bot.server.url}/metrics`)).text();
    expect(own).toMatch(/wheelhouse_requests_total\{skill="pods-list",outcome="ok"\} [1-9]/);
    expect(own).toMatch(/wheelhouse_requests_total\{skill="pods-list",outcome="denied"\} [1-9]/);
    const query = new URL('/api/v1/query', e2e.prometheusUrl);
    query.searchParams.set('query', 'sum(wheelhouse_requests_total{job="wheelhouse",skill="pods-list"})');
    const ours = [...own.matchAll(/wheelhouse_requests_total\{skill="pods-list",[^}]*\} (\d+)/g)].reduce(
      (sum, m) => sum + Number(m[1]),
      0,
    );
    expect(ours).toBeGreaterThanOrEqual(4);
    // Prometheus scrapes every 5 s; wait until it has seen this bot's counts.
    const deadline = Date.now() + 30_000;
    let value = 0;
    while (Date.now() < deadline && value < ours) {
      const body = instantQuery.parse(await (await fetch(query)).json());
      value = Number(body.data.result[0]?.value[1] ?? 0);
      if (value < ours) await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    expect(value).toBe(ours);
    expect((await fetch(`${bot.server.url}/readyz`)).status).toBe(200);
  });

  it('names an unknown workload', async () => {
    const { text } = await ask('/wh describe deploy/nope -n shop');
    expect(text).toMatch(/nope/);
    expect(text).toMatch(/not found/i);
  });
});
