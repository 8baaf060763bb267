import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { e2e } from './e2e-env.ts';
import { kubectl as admin, kubectlApply as applyAsAdmin, leaseNamespaceManifest } from './kubectl.ts';
import { leading, waitFor } from './replicas.ts';

// Three `wheelhouse serve` processes against the harness API server, electing a leader through a
// real coordination.k8s.io/v1 Lease as the bot's own identity (user `wheelhouse`), with client-go's
// default timings (15 s lease, 10 s renew deadline, 2 s retry).
const NAMESPACE = `wh-ha-${process.pid}`;
const LEASE = 'wheelhouse';
const LEASE_MS = 15_000;
const RETRY_MS = 2_000;

interface Replica {
  name: string;
  child: ChildProcess;
  /** Log messages with the time they were read. */
  logs: Array<{ at: number; msg: string; identity?: string }>;
  exited: Promise<number | null>;
}

const dataRoot = mkdtempSync(join(tmpdir(), 'wh-ha-'));
const replicas: Replica[] = [];

function startReplica(name: string): Replica {
  const child = spawn(process.execPath, ['src/cli.ts', 'serve'], {
    cwd: join(import.meta.dirname, '../..'),
    env: {
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      KUBECONFIG: e2e.kubeconfig,
      WH_KUBE_CONTEXT: 'wheelhouse',
      WH_DATA_DIR: join(dataRoot, name),
      WH_HTTP_HOST: '127.0.0.1',
      WH_HTTP_PORT: '0',
      WH_LOG_LEVEL: 'info',
      WH_LEADER_ELECTION: 'true',
      WH_LEASE_NAMESPACE: NAMESPACE,
      WH_LEASE_NAME: LEASE,
      WH_POD_NAME: name,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const replica: Replica = {
    name,
    child,
    logs: [],
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      const entry: unknown = JSON.parse(line);
      if (typeof entry === 'object' && entry !== null && 'msg' in entry && typeof entry.msg === 'string') {
        const identity =
          'identity' in entry && typeof entry.identity === 'string' ? entry.identity : undefined;
        replica.logs.push({ at: Date.now(), msg: entry.msg, identity });
      }
    } catch {
      // Not a log line (there are none in serve mode, but never fail on one).
    }
  });
  child.stderr.on('data', (chunk: Buffer) => process.stderr.write(`[${name}] ${chunk}`));
  replicas.push(replica);
  return replica;
}

const hasLog = (r: Replica, msg: string) => r.logs.some((l) => l.msg === msg);

async function lease(): Promise<{ holder: string; transitions: number }> {
  const json: unknown = JSON.parse(await admin('-n', NAMESPACE, 'get', 'lease', LEASE, '-o', 'json'));
  const spec = typeof json === 'object' && json !== null && 'spec' in json ? json.spec : undefined;
  const field = (key: string) =>
    typeof spec === 'object' && spec !== null && key in spec
      ? (spec as Record<string, unknown>)[key]
      : undefined;
  return {
    holder: String(field('holderIdentity') ?? ''),
    transitions: Number(field('leaseTransitions') ?? 0),
  };
}

describe('several replicas elect one leader through a Lease', () => {
  beforeAll(async () => {
    // The chart's Role, for the harness's bot user: get/create/update of this one Lease.
    await applyAsAdmin(leaseNamespaceManifest(NAMESPACE, LEASE));
  });

  afterAll(async () => {
    for (const r of replicas) if (r.child.exitCode === null) r.child.kill('SIGKILL');
    await Promise.all(replicas.map((r) => r.exited));
    await admin('delete', 'namespace', NAMESPACE, '--wait=false').catch(() => undefined);
    rmSync(dataRoot, { recursive: true, force: true });
  });

  it('has exactly one leader, fails over when it is killed, and hands over at once on SIGTERM', async () => {
    const all = ['replica-a', 'replica-b', 'replica-c'].map(startReplica);
    await Promise.all(
      all.map((r) =>
        waitFor(`${r.name} serving`, 60_000, () => hasLog(r, 'wheelhouse is serving') || undefined),
      ),
    );

    // One leader, and the Lease names it.
    const first = await waitFor('a leader', 30_000, () => all.find((r) => leading(r)));
    await new Promise((r) => setTimeout(r, 3 * RETRY_MS)); // a few more rounds: nobody else may lead
    expect(all.filter((r) => leading(r)).map((r) => r.name)).toEqual([first.name]);
    expect((await lease()).holder).toMatch(new RegExp(`^${first.name}_`));
    const before = (await lease()).transitions;

    // Crash: SIGKILL, no release. Another replica must wait out the lease, then take it.
    const killedAt = Date.now();
    first.child.kill('SIGKILL');
    await first.exited;
    const rest = all.filter((r) => r !== first);
    const second = await waitFor('a new leader after the kill', LEASE_MS + 4 * RETRY_MS + 5_000, () =>
      rest.find((r) => leading(r)),
    );
    const failoverMs = (second.logs.find((l) => l.msg === 'became leader')?.at ?? Date.now()) - killedAt;
    await new Promise((r) => setTimeout(r, 2 * RETRY_MS));
    expect(rest.filter((r) => leading(r)).map((r) => r.name)).toEqual([second.name]);
    const afterKill = await lease();
    expect(afterKill.holder).toMatch(new RegExp(`^${second.name}_`));
    expect(afterKill.transitions).toBe(before + 1);
    // Never before the dead leader's claim could have expired (renewed at most one retry before the kill).
    expect(failoverMs).toBeGreaterThan(LEASE_MS - RETRY_MS - 1_000);
    expect(failoverMs).toBeLessThan(LEASE_MS + 2 * RETRY_MS + 2_000);

    // Graceful: SIGTERM releases the Lease, so the last replica takes over within a retry period.
    const third = rest.find((r) => r !== second);
    if (!third) throw new Error('no third replica');
    const termAt = Date.now();
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(hasLog(second, 'released the lease')).toBe(true);
    await waitFor('the last replica to lead', 3 * RETRY_MS + 2_000, () =>
      leading(third) ? true : undefined,
    );
    const handoverMs = (third.logs.find((l) => l.msg === 'became leader')?.at ?? Date.now()) - termAt;
    expect((await lease()).holder).toMatch(new RegExp(`^${third.name}_`));
    expect(handoverMs).toBeLessThan(RETRY_MS * 1.2 + 2_000);

    process.stdout.write(
      `leader election: failover after SIGKILL ${(failoverMs / 1000).toFixed(1)} s, hand-over after SIGTERM ${(handoverMs / 1000).toFixed(1)} s\n`,
    );
  });
});
