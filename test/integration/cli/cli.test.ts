import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../../src/audit/audit-record.ts';
import { SqliteStore } from '../../../src/store/sqlite-store.ts';
import { auditEntry } from '../../support/audit-entries.ts';

/**
 * The `wheelhouse` CLI as an operator runs it: a real subprocess on the project's Node, with a
 * controlled environment (no inherited Slack tokens or kubeconfig, HOME and the data dir in a temp
 * directory) and a hard timeout on every run.
 */

const ROOT = resolve(import.meta.dirname, '../../..');
const NODE = join(ROOT, 'node_modules/.bin/node');
const CLI = join(ROOT, 'src/cli.ts');
const EXAMPLE_CONFIG = join(ROOT, 'test/fixtures/config/example.yaml');
/** A stack frame such as "    at main (file:///…/cli.ts:12:3)". */
const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;

interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

let dir: string;
let dataDir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wh-cli-'));
  dataDir = join(dir, 'data');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `wheelhouse …args` with `input` on stdin (then EOF); killed after `timeoutMs`. */
function wheelhouse(
  args: string[],
  options: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {},
): Promise<CliRun> {
  const env = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: dir,
    WH_DATA_DIR: dataDir,
    ...options.env,
  };
  return new Promise((done, fail) => {
    const child = spawn(NODE, [CLI, ...args], {
      cwd: ROOT,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 20_000,
      killSignal: 'SIGKILL',
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', fail);
    child.on('close', (code, signal) =>
      done({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      }),
    );
    child.stdin.on('error', () => {}); // the CLI may exit before reading all of stdin
    child.stdin.end(options.input ?? '');
  });
}

/** A kubeconfig whose API server refuses connections (nothing listens on loopback port 1). */
async function deadClusterKubeconfig(): Promise<string> {
  const path = join(dir, 'kubeconfig');
  await writeFile(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: dead',
      '  cluster:',
      '    server: https://127.0.0.1:1',
      '    insecure-skip-tls-verify: true',
      'users:',
      '- name: nobody',
      '  user:',
      '    token: not-a-real-token',
      'contexts:',
      '- name: dead',
      '  context:',
      '    cluster: dead',
      '    user: nobody',
      'current-context: dead',
      '',
    ].join('\n'),
  );
  return path;
}

function jsonLines(text: string): AuditRecord[] {
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as AuditRecord);
}

describe('wheelhouse --help', () => {
  it('prints the usage and every command, and exits 0', async () => {
    const run = await wheelhouse(['--help']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('Usage: wheelhouse [command] [options]');
    for (const command of ['serve', 'console', 'config check', 'audit verify', 'audit tail']) {
      expect(run.stdout).toContain(`  ${command} `);
    }
  });

  it.each([
    [['serve', '--help'], 'Usage: wheelhouse serve'],
    [['console', '-h'], 'Usage: wheelhouse console'],
    [['config', 'check', '--help'], 'Usage: wheelhouse config check'],
    [['audit', '--help'], 'Usage: wheelhouse audit verify'],
    [['help', 'audit'], 'Usage: wheelhouse audit verify'],
  ])('%j prints its usage and exits 0', async (args, usage) => {
    const run = await wheelhouse(args);
    expect(run.code).toBe(0);
    expect(run.stdout.startsWith(usage)).toBe(true);
  });

  it('lists the environment variables in `config check --help`', async () => {
    const run = await wheelhouse(['config', 'check', '--help']);
    expect(run.stdout).toMatch(/^ {2}SLACK_BOT_TOKEN +slack\.botToken +Bot token/m);
    expect(run.stdout).toMatch(/^ {2}WH_DATA_DIR +dataDir /m);
  });
});

describe('wheelhouse usage mistakes', () => {
  it('exits 2 on an unknown command and shows the usage', async () => {
    const run = await wheelhouse(['frobnicate']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Unknown command "frobnicate".');
    expect(run.stderr).toContain('Usage: wheelhouse [command] [options]');
    expect(run.stdout).toBe('');
  });

  it('exits 2 on an unknown command even when the config is broken', async () => {
    const run = await wheelhouse(['frobnicate'], { env: { WH_LOG_LEVEL: 'loud' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Unknown command "frobnicate".');
  });

  it.each([
    [['--bogus'], 'Unknown option'],
    [['config'], 'Usage: wheelhouse config check'],
    [['audit', 'rewrite'], 'Usage: wheelhouse audit verify'],
    [['audit', 'tail', '-n', 'zero'], '-n must be a positive whole number.'],
  ])('%j exits 2', async (args, message) => {
    const run = await wheelhouse(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });
});

describe('wheelhouse config check', () => {
  const SECRETS = { SLACK_BOT_TOKEN: 'xoxb-super-secret', SLACK_SIGNING_SECRET: 'tiny' };

  it('prints every problem with its path and source, exits 1, and never prints a secret', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(
      file,
      [
        'logLevel: loud',
        'http:',
        '  port: 99999',
        'slack:',
        '  mode: http',
        'kube:',
        '  qps: -1',
        'identity:',
        '  users:',
        '    - kubeUser: alice',
        'prometheus:',
        '  url: not a url',
        'elasticsearch:',
        '  maxRange: forever',
        '',
      ].join('\n'),
    );
    const run = await wheelhouse(['config', 'check', '--config', file], { env: SECRETS });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^Configuration problems \(7\):\n/);
    for (const [path, source, message] of [
      ['logLevel', 'file', 'expected one of "fatal"'],
      ['http.port', 'file', '65535'],
      ['slack.signingSecret', 'env', '8 characters'],
      ['kube.qps', 'file', '>0'],
      ['prometheus.url', 'file', 'URL'],
      ['elasticsearch.maxRange', 'file', 'must be a duration like 30s'],
    ]) {
      expect(run.stderr).toMatch(
        new RegExp(`^ {2}- ${path} \\(${source}\\): .*${escapeRegExp(message ?? '')}`, 'm'),
      );
    }
    expect(run.stderr).toMatch(/^ {2}- identity\.users\.0 \(\w+\): needs `slack` \(user id\) or `email`$/m);
    const printed = run.stdout + run.stderr;
    expect(printed).not.toContain('super-secret');
    expect(printed).not.toContain('tiny');
    expect(printed).not.toMatch(STACK_FRAME);
  });

  it('names a YAML syntax error with its line', async () => {
    const file = join(dir, 'broken.yaml');
    await writeFile(file, 'slack:\n  mode: [socket\nkube: {\n');
    const run = await wheelhouse(['config', 'check', '--config', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^ {2}- \(file\) \(file\): YAML error at line \d+, column \d+: /m);
  });

  it('names a config file that cannot be read', async () => {
    const run = await wheelhouse(['config', 'check'], { env: { WH_CONFIG: join(dir, 'missing.yaml') } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot read ${join(dir, 'missing.yaml')}: ENOENT`);
  });

  it('accepts the example config, shows the effective values and hides secrets from env', async () => {
    const run = await wheelhouse(['config', 'check', '-c', EXAMPLE_CONFIG], {
      env: { SLACK_BOT_TOKEN: 'xoxb-super-secret', SLACK_APP_TOKEN: 'xapp-1-also-secret' },
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('Configuration is valid.');
    expect(lines).toEqual(
      expect.arrayContaining([
        'slack.botToken = (set, hidden)',
        'slack.appToken = (set, hidden)',
        'slack.signingSecret = (unset)',
        'store.postgresUrl = (unset)',
        'kube.context = "production"',
        'elasticsearch.layout = "fluent-bit"',
        `dataDir = ${JSON.stringify(dataDir)}`,
      ]),
    );
    expect(run.stdout).not.toContain('super-secret');
    expect(run.stdout).not.toContain('also-secret');
  });
});

describe('wheelhouse audit', () => {
  const dbPath = () => join(dataDir, 'wheelhouse.db');

  /** Four records as the runner writes them: an answer, an error, a denial, a help. */
  beforeEach(async () => {
    const store = new SqliteStore(dbPath());
    await store.audit.append(auditEntry(1));
    await store.audit.append(
      auditEntry(2, {
        actor: { surface: 'console', id: 'alice', name: 'alice', kubeUser: 'alice', kubeGroups: ['devs'] },
        text: 'logs deploy/checkout -n shop',
        plan: { steps: [{ skill: 'pod-logs', input: { target: 'deploy/checkout', namespace: 'shop' } }] },
        skill: 'pod-logs',
        input: { target: 'deploy/checkout', namespace: 'shop' },
        outcome: 'error',
        errorCode: 'KUBE_UNREACHABLE',
        message: 'Could not reach the Kubernetes API server at https://10.0.0.1:6443.',
        durationMs: 10_002,
      }),
    );
    await store.audit.append(
      auditEntry(3, {
        actor: { surface: 'slack', id: 'U2', name: 'bob', channel: 'C9', kubeUser: 'bob', kubeGroups: [] },
        text: '/wh pods payments',
        input: { namespace: 'payments' },
        outcome: 'denied',
        errorCode: 'FORBIDDEN',
        message: 'Kubernetes does not allow bob to list pods in payments.',
      }),
    );
    await store.audit.append(
      auditEntry(4, {
        text: '/wh help',
        plan: null,
        skill: null,
        input: null,
        message: 'Wheelhouse commands',
      }),
    );
    await store.close();
  });

  function tamper(sql: string): void {
    const db = new DatabaseSync(dbPath());
    try {
      db.exec(sql);
    } finally {
      db.close();
    }
  }

  it('verifies an intact chain and exits 0', async () => {
    const run = await wheelhouse(['audit', 'verify']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('Audit chain intact: 4 record(s) verified.\n');
  });

  it('tails the records oldest first, one line each, with who, what and the outcome', async () => {
    const run = await wheelhouse(['audit', 'tail']);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines.map((l) => l.split(' ')[0])).toEqual(['#1', '#2', '#3', '#4']);
    expect(lines[0]).toBe(
      '#1 2026-11-25T08:00:01.000Z slack U1 as alice in C1 "/wh pods shop 1" → ok (1 ms) 1 pods',
    );
    expect(lines[1]).toContain(
      'console alice as alice "logs deploy/checkout -n shop" → error KUBE_UNREACHABLE (10002 ms)',
    );
    expect(lines[2]).toContain('slack bob as bob in C9 "/wh pods payments" → denied FORBIDDEN');
  });

  it('prints the newest records as JSON lines with -n and --json', async () => {
    const run = await wheelhouse(['audit', 'tail', '-n', '2', '--json']);
    expect(run.code).toBe(0);
    const records = jsonLines(run.stdout);
    expect(records.map((r) => r.seq)).toEqual([3, 4]);
    expect(records[0]).toMatchObject({ requestId: 'req-3', outcome: 'denied', errorCode: 'FORBIDDEN' });
    expect(records[1]?.prevHash).toBe(records[0]?.hash);
    expect(records[1]?.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('exits 1 naming record #2 when its body was edited', async () => {
    tamper(`UPDATE audit SET body = replace(body, '"alice"', '"mallory"') WHERE seq = 2`);
    const run = await wheelhouse(['audit', 'verify']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(
      'Audit chain BROKEN after 1 good record(s): record #2 (request req-2) was changed after it was written\n',
    );
  });

  it('exits 1 naming record #3 when #2 was deleted', async () => {
    tamper('DELETE FROM audit WHERE seq = 2');
    const run = await wheelhouse(['audit', 'verify']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('record #3 (request req-3) follows #1: 1 record(s) before it were deleted');
  });
});

describe('wheelhouse console, piped, against an unreachable cluster', () => {
  it('answers help, a clear error for pods and "unknown command", exits 0 on `exit`, and audits each', async () => {
    const kubeconfig = await deadClusterKubeconfig();
    const run = await wheelhouse(['console'], {
      env: { KUBECONFIG: kubeconfig },
      input: 'help\npods shop\nfrobnicate\nexit\n',
      timeoutMs: 30_000,
    });
    expect(run.signal, `console did not exit on "exit"; output so far:\n${run.stdout}`).toBeNull();
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const out = run.stdout;
    expect(out).toContain('Wheelhouse console — cluster https://127.0.0.1:1 (context dead)');
    // help: the command table
    expect(out).toMatch(/^COMMAND +RISK +WHAT IT DOES$/m);
    expect(out).toMatch(/^pods +read +List pods$/m);
    // pods: a coded, actionable error, not a stack trace
    expect(out).toMatch(/^✖ Could not reach the Kubernetes API server at https:\/\/127\.0\.0\.1:1\b/m);
    expect(out).toMatch(/^ {2}\(KUBE_UNREACHABLE, request [0-9a-f-]{36}\)$/m);
    // frobnicate: unknown command, with where to look
    expect(out).toContain('✖ I don\'t know the command "frobnicate".\n  `/wh help` lists every command.');
    expect(out).toMatch(/^ {2}\(UNKNOWN_SKILL, request /m);
    expect(out).not.toMatch(STACK_FRAME);
    // answers come in the order asked
    expect(out.indexOf('WHAT IT DOES')).toBeLessThan(out.indexOf('KUBE_UNREACHABLE'));
    expect(out.indexOf('KUBE_UNREACHABLE')).toBeLessThan(out.indexOf('UNKNOWN_SKILL'));

    const tail = await wheelhouse(['audit', 'tail', '--json']);
    expect(tail.code).toBe(0);
    const records = jsonLines(tail.stdout);
    expect(records.map((r) => [r.text, r.outcome, r.errorCode, r.skill])).toEqual([
      ['help', 'ok', null, null],
      ['pods shop', 'error', 'KUBE_UNREACHABLE', 'pods-list'],
      ['frobnicate', 'error', 'UNKNOWN_SKILL', null],
    ]);
    expect(records.every((r) => r.actor.surface === 'console' && r.actor.kubeUser === undefined)).toBe(true);
    expect(records[1]?.input).toEqual({ namespace: 'shop' });

    const verify = await wheelhouse(['audit', 'verify']);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toBe('Audit chain intact: 3 record(s) verified.\n');
  });

  it('acts as --as/--as-group and records that identity', async () => {
    const kubeconfig = await deadClusterKubeconfig();
    const run = await wheelhouse(['console', '--as', 'bob', '--as-group', 'devs', '--as-group', 'oncall'], {
      env: { KUBECONFIG: kubeconfig },
      input: 'pods shop\nexit\n',
      timeoutMs: 30_000,
    });
    expect(run.signal).toBeNull();
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('acting as bob (devs, oncall)');
    const tail = await wheelhouse(['audit', 'tail', '--json']);
    const [record] = jsonLines(tail.stdout);
    expect(record?.actor).toMatchObject({
      surface: 'console',
      kubeUser: 'bob',
      kubeGroups: ['devs', 'oncall'],
    });
  });

  it('exits 0 at the end of its input without `exit`', async () => {
    const kubeconfig = await deadClusterKubeconfig();
    const run = await wheelhouse(['console'], {
      env: { KUBECONFIG: kubeconfig },
      input: 'help pods\n',
      timeoutMs: 30_000,
    });
    expect(run.signal).toBeNull();
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('pods: List pods');
    expect(run.stdout).toContain('Usage: /wh pods');
  });

  it('exits 1 with the reason and a hint, not a stack trace, when the kubeconfig is missing', async () => {
    const missing = join(dir, 'no-such-kubeconfig');
    const run = await wheelhouse(['console'], { env: { KUBECONFIG: missing }, input: 'exit\n' });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      [
        `wheelhouse: Could not load Kubernetes credentials from ${missing}.`,
        '  Point Wheelhouse at a readable kubeconfig, or run it in a pod with a service account.',
        `  (CONFIG: ENOENT: no such file or directory, open '${missing}')`,
        '',
      ].join('\n'),
    );
  });

  it('exits 1 naming the known contexts for an unknown --context', async () => {
    const kubeconfig = await deadClusterKubeconfig();
    const run = await wheelhouse(['console', '--context', 'prod'], {
      env: { KUBECONFIG: kubeconfig },
      input: 'exit\n',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `The kubeconfig ${kubeconfig} has no context "prod".\n  Known contexts: dead.`,
    );
    expect(run.stderr).not.toMatch(STACK_FRAME);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
