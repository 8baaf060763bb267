import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../../src/audit/audit-record.ts';
import { CANARY, type CanaryState, parseCanary } from '../../src/canary/canary-run.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import type { PeerMessage } from '../support/slack-peer.ts';
import { ALICE, auditRecords, BOB, type E2eBot, messageText, startE2eBot } from './bot.ts';
import {
  type CanaryWorkload,
  canaryConfig,
  canaryWorkload,
  deleteCanaryWorkload,
  deploymentExists,
  deploymentField,
  deploymentImage,
} from './canary-workload.ts';

/**
 * Canary runs on the real control plane with real Prometheus: the seeded exporter gives canary
 * pods (label wheelhouse.io/track=canary) their own series, whose error rate the test sets.
 */
const NS = 'shop';
const IMAGE = 'registry.example.com/shop/cdemo';
const INTERVAL = 12;
const CONFIG = canaryConfig(NS);

/** A stable Deployment of 4 pods whose app's traffic the exporter serves with `errorRatio` per track. */
const workload = (name: string, traffic: CanaryWorkload['traffic']) =>
  canaryWorkload({ namespace: NS, name, image: IMAGE, traffic });

async function runOf(
  dataDir: string,
  stable: string,
): Promise<{ id: string; state: CanaryState } | undefined> {
  const store = new SqliteStore(join(dataDir, 'wheelhouse.db'));
  try {
    for (const run of await store.runs.list(CANARY)) {
      if (run.status === 'pending') continue;
      const state = parseCanary(run);
      if (state.stable === stable) return { id: run.id, state };
    }
    return undefined;
  } finally {
    await store.close();
  }
}

async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const phaseIs = (dataDir: string, stable: string, phases: string[]) =>
  waitFor(`${stable} to be ${phases.join(' or ')}`, 120_000, async () => {
    const run = await runOf(dataDir, stable);
    return run && phases.includes(run.state.phase) ? run : undefined;
  });

function canaryMessage(bot: E2eBot, stable: string): PeerMessage | undefined {
  return bot.peer.messages().find((m) => (m.text ?? '').includes(`Canary of deploy/${stable} `));
}

const imageOf = (name: string) => deploymentImage(NS, name);
const replicasOf = (name: string) => deploymentField(NS, name, '{.spec.replicas}');
const exists = (name: string) => deploymentExists(NS, name);

const NAMES = ['cgood', 'cbad', 'cnodata', 'crestart'].map((n) => `${n}-${process.pid % 100000}`);
const [GOOD, BAD, NODATA, RESTART] = NAMES as [string, string, string, string];
let bot: E2eBot;

beforeAll(async () => {
  bot = await startE2eBot({ extraConfig: CONFIG });
});

afterAll(async () => {
  await bot?.stop();
  await bot?.peer.close().catch(() => undefined);
  for (const name of NAMES) await deleteCanaryWorkload(NS, name);
});

const start = (name: string, flags: string) =>
  bot.ask(`/wh canary deploy/${name} -n ${NS} image=${IMAGE}:v2 ${flags}`, BOB, 90_000);

describe('canary runs on the real control plane', () => {
  it('promotes a healthy canary: the Deployment carries the new image, the canary is gone, all audited', async () => {
    await workload(GOOD, { stable: 0.005, canary: 0.005 });
    const { text } = await start(
      GOOD,
      `--steps 50,100 --interval ${INTERVAL}s --analysis "success-rate>=99%"`,
    );
    expect(text).toContain('The canary run starts now');
    const run = await phaseIs(bot.dataDir, GOOD, ['promoted', 'rolled-back', 'paused', 'failed']);
    expect(run.state.phase).toBe('promoted');
    expect(await imageOf(GOOD)).toBe(`${IMAGE}:v2`);
    expect(await replicasOf(GOOD)).toBe('4');
    expect(await exists(`${GOOD}-canary`)).toBe(false);
    const checks = run.state.checks;
    expect(checks.at(-1)?.decision).toBe('pass');
    expect(checks.at(-1)?.metrics[0]?.canary).toBeCloseTo(0.995, 3);
    const message = canaryMessage(bot, GOOD);
    expect(messageText(message?.blocks)).toContain('promoted');
    const types = (await auditRecords(bot.dataDir))
      .filter((r) => r.requestId === run.state.requestId)
      .map((r) => r.type);
    expect(types).toEqual(
      expect.arrayContaining([
        'change.preview',
        'change.apply',
        'change.verify.done',
        'canary.started',
        'canary.run.started',
        'canary.step',
        'canary.analysis.pass',
        'canary.promote',
        'canary.promoted',
      ]),
    );
  });

  it('rolls back 8% errors against 0.5% on stable within two intervals, restoring stable', async () => {
    await workload(BAD, { stable: 0.005, canary: 0.08 });
    const started = Date.now();
    await start(BAD, `--steps 25,50,100 --interval ${INTERVAL}s --analysis "success-rate>=99%, p99<500ms"`);
    const run = await phaseIs(bot.dataDir, BAD, ['rolled-back', 'promoted', 'paused', 'failed']);
    const seconds = (Date.now() - started) / 1000;
    expect(run.state.phase).toBe('rolled-back');
    expect(run.state.reason).toMatch(/success-rate: canary 92(\.\d+)?% breaks >= 99%/);
    expect(seconds).toBeLessThan(2 * INTERVAL + 20); // two intervals plus the start's own rollout
    expect(await imageOf(BAD)).toBe(`${IMAGE}:v1`);
    expect(await replicasOf(BAD)).toBe('4');
    expect(await exists(`${BAD}-canary`)).toBe(false);
    process.stdout.write(
      `bench: bad canary rolled back ${seconds.toFixed(1)} s after the command (interval ${INTERVAL} s)\n`,
    );
  });

  it('pauses and asks when the canary gets no traffic, and the Abort button rolls it back (approver-checked, audited)', async () => {
    await workload(NODATA, { stable: 0.005, canary: 0, canaryRps: 0 });
    await start(NODATA, `--steps 50,100 --interval ${INTERVAL}s --analysis "success-rate>=99%"`);
    const run = await phaseIs(bot.dataDir, NODATA, ['paused', 'promoted', 'rolled-back']);
    expect(run.state).toMatchObject({ phase: 'paused', pause: { kind: 'inconclusive' } });
    expect(await imageOf(NODATA)).toBe(`${IMAGE}:v1`);
    const message = await waitFor('the paused message', 10_000, async () => {
      const m = canaryMessage(bot, NODATA);
      return m && messageText(m.blocks).includes('paused and needs you') ? m : undefined;
    });
    expect(messageText(message.blocks)).toMatch(/no data for the canary/);
    // alice may only view shop: Kubernetes (an access review as her) refuses her click.
    const refused = await bot.click(message, 'Abort', ALICE);
    expect(refused.text).toContain(
      'Kubernetes does not allow alice to patch deployments/scale in namespace shop',
    );
    expect((await runOf(bot.dataDir, NODATA))?.state.phase).toBe('paused');
    const answer = await bot.click(message, 'Abort', BOB);
    expect(answer.text).toContain('Aborting the canary');
    const ended = await phaseIs(bot.dataDir, NODATA, ['aborted', 'rolled-back']);
    expect(ended.state.phase).toBe('aborted');
    expect(await exists(`${NODATA}-canary`)).toBe(false);
    expect(await replicasOf(NODATA)).toBe('4');
    const audit = await auditRecords(bot.dataDir);
    expect(audit.filter((r) => r.type === 'canary.command.abort').map((r) => r.outcome)).toEqual([
      'denied',
      'ok',
    ]);
    expect(await verifyChain(audit)).toMatchObject({ ok: true });
  });

  it('resumes at the same step after a restart of the bot', async () => {
    await workload(RESTART, { stable: 0.005, canary: 0.005 });
    await start(RESTART, `--steps 25,50,100 --interval ${INTERVAL}s --analysis "success-rate>=99%"`);
    const atSecond = await waitFor('step 2', 90_000, async () => {
      const run = await runOf(bot.dataDir, RESTART);
      return run && run.state.appliedStep === 1 ? run : undefined;
    });
    expect(await replicasOf(`${RESTART}-canary`)).toBe('2');
    const { dataDir, peer } = bot;
    await bot.stopBotOnly();
    bot = await startE2eBot({ extraConfig: CONFIG, dataDir, peer });
    const ended = await phaseIs(dataDir, RESTART, ['promoted', 'rolled-back', 'paused', 'failed']);
    expect(ended.state.phase).toBe('promoted');
    const steps = (await auditRecords(dataDir))
      .filter((r) => r.requestId === atSecond.state.requestId && r.type === 'canary.step')
      .map((r) => (r.input as { step: number }).step);
    // Step 1 (25%) and step 2 (50%) each landed once: the new process did not start over.
    expect(steps).toEqual([0, 1]);
    expect(await imageOf(RESTART)).toBe(`${IMAGE}:v2`);
  });
});
