import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/audit-record.ts';
import { CANARY, type CanaryState, isFinal, parseCanary } from '../../src/canary/canary-run.ts';
import { fromRow } from '../../src/store/audit-row.ts';
import { runRow } from '../../src/store/run-row.ts';
import { SlackPeer } from '../support/slack-peer.ts';
import { slashCommandRequest } from '../support/slack-signing.ts';
import { messageText } from './bot.ts';
import {
  canaryConfig,
  canaryWorkload,
  deleteCanaryWorkload,
  deploymentExists,
  deploymentField,
  deploymentImage,
} from './canary-workload.ts';
import { e2e } from './e2e-env.ts';
import {
  becameLeaderAt,
  LEASE_MS,
  leaderLoops,
  leading,
  loopsOf,
  RETRY_MS,
  type Replica,
  Replicas,
  waitFor,
} from './replicas.ts';

// Three `wheelhouse serve` processes on one PostgreSQL database and one Slack peer, electing a
// leader through a real Lease. A healthy canary is started through chat (the change road, on a
// follower) and stepped by the leader, with real Prometheus judging it. Once the first step has
// landed the leader is SIGKILLed; a survivor takes the Lease, then the run (its lease, 15 s here
// like the Lease's and renewed while a step waits, has lapsed by then; the default is 30s), and
// promotes it. Afterwards the run ended once, every step,
// analysis and the promotion was audited once, and Slack saw one message for the run, updated in
// place, with one final outcome.
const NS = 'shop'; // the exporter serves traffic for shop and payments only
const NAME = `hacanary-${process.pid % 100000}`;
const IMAGE = 'registry.example.com/shop/hacanary';
const INTERVAL = 12;
const CHANNEL = 'CDEPLOYS1';
const BOB = 'UBOB00001';
const SIGNING_SECRET = 'ha-canary-signing-secret-0123456789';

let peer: SlackPeer;
let replicas: Replicas;

interface CanaryRow {
  id: string;
  status: string;
  state: CanaryState;
}

/** Every canary run in the replicas' store. */
async function canaryRuns(): Promise<CanaryRow[]> {
  const { rows } = await replicas.db.query('SELECT * FROM runs WHERE kind = $1', [CANARY]);
  return rows.map(runRow).flatMap((run) =>
    // A pending run is the change road's record, not yet taken up by the engine.
    run.status === 'pending' ? [] : [{ id: run.id, status: run.status, state: parseCanary(run) }],
  );
}

/** The audit records of one request, oldest first. */
async function auditOf(requestId: string): Promise<AuditRecord[]> {
  const { rows } = await replicas.db.query(
    'SELECT seq, body, prev_hash, hash FROM audit WHERE request_id = $1 ORDER BY seq',
    [requestId],
  );
  return rows.map(fromRow);
}

/** A signed `/wh <text>` from bob to one replica, as Slack (through a Service) would send it. */
async function slash(replica: Replica, text: string): Promise<void> {
  const request = slashCommandRequest(
    { text, userId: BOB, channelId: CHANNEL, responseUrl: peer.responseUrl(`r-${Date.now()}`) },
    { secret: SIGNING_SECRET },
  );
  const response = await fetch(`${replica.url}/slack/events`, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
  });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`/wh ${text} was answered with HTTP ${response.status}`);
}

const ready = (r: Replica) =>
  fetch(`${r.url}/readyz`).then(
    (res) => (res.ok ? true : undefined),
    () => undefined,
  );

const isCanaryText = (text: unknown) =>
  typeof text === 'string' && text.includes(`Canary of deploy/${NAME} `);
/** The step a `canary.step` or `canary.analysis.*` record is about. */
const stepOf = ({ input }: AuditRecord) =>
  typeof input === 'object' && input !== null && 'step' in input ? input.step : undefined;

describe('three replicas on PostgreSQL through a leader kill in a canary run', () => {
  beforeAll(async () => {
    peer = await SlackPeer.start({
      channels: [{ id: CHANNEL, name: 'deploys', isMember: true }],
      users: [{ id: BOB, name: 'bob' }],
    });
    replicas = await Replicas.create({
      prefix: 'wh-ha-canary',
      peer,
      config: [
        'identity:',
        '  users:',
        `    - { slack: ${BOB}, kubeUser: bob, groups: ["wheelhouse:chat"] }`,
        '  unmapped: deny',
        ...canaryConfig(NS),
        '',
      ].join('\n'),
      signingSecret: SIGNING_SECRET,
      env: { WH_PROMETHEUS_URL: e2e.prometheusUrl },
    });
  }, 60_000);

  afterAll(async () => {
    await replicas?.close();
    await peer?.close();
    await deleteCanaryWorkload(NS, NAME);
  }, 60_000);

  it('promotes once, each step and the promotion audited once, one Slack message updated in place, and fails over', async () => {
    const started = Date.now();
    const [all] = await Promise.all([
      replicas.startAll(['hc-a', 'hc-b', 'hc-c']),
      canaryWorkload({ namespace: NS, name: NAME, image: IMAGE, traffic: { stable: 0.005, canary: 0.005 } }),
    ]);
    const first = await replicas.soleLeader();
    // The command goes to a follower: the change road runs there, the run is stepped by the leader.
    const asked = all.find((r) => r !== first);
    if (!asked) throw new Error('no follower');
    await waitFor(`${asked.name} ready`, 30_000, () => ready(asked));
    await slash(
      asked,
      `canary deploy/${NAME} -n ${NS} image=${IMAGE}:v2 --steps 25,50,100 --interval ${INTERVAL}s --analysis "success-rate>=99%"`,
    );
    await waitFor('the answer to /wh canary', 90_000, () =>
      peer.messages(CHANNEL).find((m) => messageText(m.blocks, m.text).includes('The canary run starts now')),
    );

    // The leader has landed the first step (25%) and shown it: kill it before the next analysis,
    // between ticks. (A kill inside a tick, while a step lands, makes the next leader do that tick
    // again: the same replica counts in the cluster, but the analysis and step audited twice.)
    const atFirstStep = await waitFor('the first step landed', 60_000, async () => {
      const run = (await canaryRuns())[0];
      return run && run.state.appliedStep === 0 && run.state.message ? run : undefined;
    });
    expect(atFirstStep.state.phase).toBe('running');
    expect(await deploymentField(NS, `${NAME}-canary`, '{.spec.replicas}')).toBe('1');
    const deadOwner = atFirstStep.state.lease.owner;
    const killedAt = await replicas.kill(first);

    // A survivor leads, takes the run over and carries it to the end.
    const rest = all.filter((r) => r !== first);
    const owners = [deadOwner];
    const final = await waitFor('the run to end', 120_000, async () => {
      const run = (await canaryRuns())[0];
      if (!run) return undefined;
      if (run.state.lease.owner !== owners.at(-1)) owners.push(run.state.lease.owner);
      return isFinal(run.state.phase) ? run : undefined;
    });
    const endedAt = Date.now();
    const second = await waitFor('a new leader', LEASE_MS + 4 * RETRY_MS, () => rest.find(leading));
    const failoverMs = (becameLeaderAt(second) ?? endedAt) - killedAt;
    expect(rest.filter(leading).map((r) => r.name)).toEqual([second.name]);
    expect(failoverMs).toBeLessThan(LEASE_MS + 2 * RETRY_MS + 2_000);
    // One hand-over of the run: from the dead leader's engine to the new leader's.
    expect(owners).toHaveLength(2);
    // Stepping ran on the leaders only.
    expect(loopsOf(first).sort()).toEqual(leaderLoops(false));
    expect(loopsOf(second).sort()).toEqual(leaderLoops(false));
    expect(rest.filter((r) => r !== second).flatMap(loopsOf)).toEqual([]);
    await new Promise((r) => setTimeout(r, 3_000)); // nothing more may happen

    // The run ended once, promoted, and the cluster shows it.
    const runs = await canaryRuns();
    expect(runs.map((r) => r.id)).toEqual([final.id]);
    expect(runs[0]?.status).toBe('promoted');
    expect(final.state.phase).toBe('promoted');
    expect(final.state.checks.map((c) => [c.step, c.decision])).toEqual([
      [0, 'pass'],
      [1, 'pass'],
    ]);
    expect(await deploymentImage(NS, NAME)).toBe(`${IMAGE}:v2`);
    expect(await deploymentField(NS, NAME, '{.spec.replicas}')).toBe('4');
    expect(await deploymentExists(NS, `${NAME}-canary`)).toBe(false);

    // Each step, analysis and the promotion audited once: nothing was carried out twice.
    const audit = await auditOf(final.state.requestId);
    const count = (type: string) => audit.filter((r) => r.type === type).length;
    expect(audit.filter((r) => r.type === 'canary.step').map(stepOf)).toEqual([0, 1]);
    expect(
      audit.filter((r) => r.type.startsWith('canary.analysis.')).map((r) => [r.type, stepOf(r)]),
    ).toEqual([
      ['canary.analysis.pass', 0],
      ['canary.analysis.pass', 1],
    ]);
    for (const type of [
      'change.apply',
      'canary.started',
      'canary.run.started',
      'canary.promote',
      'canary.promoted',
    ])
      expect(count(type), type).toBe(1);
    expect(audit.filter((r) => /rollback|rolled-back|failed/.test(r.type))).toEqual([]);
    const auditedAt = (type: string, step?: number) =>
      Date.parse(
        audit.find((r) => r.type === type && (step === undefined || stepOf(r) === step))?.time ?? '',
      ) - killedAt;
    // The new leader resumed the run at once: its lease is no longer than the Lease, so it had lapsed.
    const resumedMs = auditedAt('canary.analysis.pass', 0);
    expect(resumedMs - failoverMs).toBeLessThan(5_000);
    // The first step was the dead leader's; the second step, analyses after it and the promotion the survivor's.
    const after = audit.filter((r) => Date.parse(r.time) > killedAt).map((r) => r.type);
    expect(after).toEqual([
      'canary.analysis.pass',
      'canary.step',
      'canary.analysis.pass',
      'canary.promote',
      'canary.promoted',
    ]);
    expect(await replicas.verifyAudit()).toMatch(/^Audit chain intact: \d+ record\(s\) verified/);

    // Slack: one answer to the command; one message for the run, posted once and updated in place,
    // with one final outcome.
    const answers = peer
      .messages(CHANNEL)
      .filter((m) => messageText(m.blocks, m.text).includes('The canary run starts now'));
    expect(answers).toHaveLength(1);
    const roots = peer.calls('chat.postMessage').filter((c) => isCanaryText(c.args['text']));
    expect(roots).toHaveLength(1);
    const root = peer.messages(CHANNEL).filter((m) => isCanaryText(m.text));
    expect(root).toHaveLength(1);
    expect(root[0]?.threadTs).toBeUndefined();
    expect(final.state.message).toEqual({ channel: CHANNEL, ts: root[0]?.ts });
    const updates = peer.calls('chat.update').filter((c) => isCanaryText(c.args['text']));
    expect(updates.every((c) => c.args['ts'] === root[0]?.ts && c.response.ok === true)).toBe(true);
    const outcomes = updates.filter((c) =>
      String(c.args['text']).includes(`Canary of deploy/${NAME} in ${NS} promoted`),
    );
    expect(outcomes).toHaveLength(1);
    expect(updates.at(-1)).toBe(outcomes[0]);
    const updatedAfterKill = updates.filter((c) => peer.wallTimeOf(c) > killedAt).length;
    expect(updatedAfterKill).toBeGreaterThan(0);

    process.stdout.write(
      `\n[ha-canary] leader ${first.name} SIGKILLed ${killedAt - started} ms in, at step 1 of 3 (25%); ` +
        `new leader ${second.name} after ${failoverMs} ms; run resumed (its first analysis audited) ` +
        `after ${resumedMs} ms, step 2 begun after ${auditedAt('canary.step', 1)} ms; promoted ${auditedAt('canary.promoted')} ms after the kill; ` +
        `${roots.length} root post, ${updates.length} in-place updates (${updatedAfterKill} after the kill); ` +
        `whole run ${endedAt - started} ms\n`,
    );
  }, 180_000);
});
