import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `wheelhouse policy explain` and `config check` on the example policy, as an operator runs them:
 * a real subprocess on the project's Node with a controlled environment and a hard timeout.
 */

const ROOT = resolve(import.meta.dirname, '../../..');
const NODE = join(ROOT, 'node_modules/.bin/node');
const CLI = join(ROOT, 'src/cli.ts');
const EXAMPLE = join(ROOT, 'test/fixtures/config/policy-example.yaml');
const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wh-policy-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function wheelhouse(args: string[]): Promise<CliRun> {
  const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, WH_DATA_DIR: join(dir, 'data') };
  return new Promise((done, fail) => {
    const child = spawn(NODE, [CLI, ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 20_000,
      killSignal: 'SIGKILL',
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', fail);
    child.on('close', (code) =>
      done({
        code,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      }),
    );
  });
}

const explain = (...args: string[]) => wheelhouse(['policy', 'explain', '--config', EXAMPLE, ...args]);

describe.concurrent('wheelhouse policy explain (subprocess)', { timeout: 30_000 }, () => {
  it('config check accepts the example policy as a whole config', async () => {
    const run = await wheelhouse(['config', 'check', '--config', EXAMPLE]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Configuration is valid.');
    expect(run.stdout).toContain('policy.protectedNamespaces = ["payments","*-prod"]');
    expect(run.stdout).toContain('policy.rateLimit.maxWrites = 20');
  });

  it('config check names every policy problem with its path and exits 1', async () => {
    const path = join(dir, 'bad-policy.yaml');
    await writeFile(
      path,
      'policy:\n  defaults: { write: alow }\n  freezes:\n    - reason: x\n      weekly: { from: Fry 16:00, to: Mon 08:00 }\n',
    );
    const run = await wheelhouse(['config', 'check', '--config', path]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Configuration problems (2)');
    expect(run.stderr).toContain('policy.defaults.write (file): Invalid option');
    expect(run.stderr).toContain('policy.freezes.0.weekly.from (file): must be a day and a UTC time');
    expect(run.stderr).not.toMatch(STACK_FRAME);
  });

  it('uses the policy of the cluster the command goes to, with several clusters', async () => {
    const path = join(dir, 'clusters.yaml');
    await writeFile(
      path,
      [
        'identity: { users: [{ slack: U024BE7LH, kubeUser: alice, groups: [shop-editors] }] }',
        'policy: { defaults: { write: allow } }',
        'kube: { name: mgmt }',
        'clusters:',
        '  - { name: prod, context: prod, channels: [C0PROD001], policy: { defaults: { write: deny } } }',
      ].join('\n'),
    );
    const ask = (...args: string[]) =>
      wheelhouse(['policy', 'explain', '--config', path, '--user', 'U024BE7LH', ...args]);
    const onMgmt = await ask('restart deploy/checkout -n shop');
    expect(onMgmt.stdout).toContain('Cluster: mgmt');
    expect(onMgmt.code).toBe(0);
    const byFlag = await ask('restart deploy/checkout -n shop --cluster prod');
    expect(byFlag.stdout).toContain('Cluster: prod');
    expect(byFlag.code).toBe(4);
    expect((await ask('--channel', 'C0PROD001', 'restart deploy/checkout -n shop')).code).toBe(4);
    expect((await ask('--cluster', 'prod', 'restart deploy/checkout -n shop')).code).toBe(4);
    const unknown = await ask('--cluster', 'stage', 'restart deploy/checkout -n shop');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('There is no cluster "stage"; known: mgmt, prod.');
  });

  it('allows a read by a mapped user and exits 0', async () => {
    const run = await explain('--user', 'U024BE7LH', '--channel', 'C0SHOP001', 'pods shop');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('User:     U024BE7LH → kube user alice, groups shop-editors (mapped)');
    expect(run.stdout).toContain('Decision: ALLOW');
    expect(run.stdout).toContain('Decided by: defaults.read');
  });

  it('explains the default for an unknown user in an unknown channel', async () => {
    const run = await explain('--user', 'U0NOBODY1', '--channel', 'C0NOWHERE', 'events shop');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('kube user slack:U0NOBODY1, groups wheelhouse:viewers (unmapped)');
    expect(run.stdout).toContain('Decided by: unmapped.read');
  });

  it('denies a read the policy keeps from this user and exits 4, naming the rule', async () => {
    const run = await explain('--user', 'U024BE7LH', 'pods payments');
    expect(run.code).toBe(4);
    expect(run.stdout).toContain('Decision: DENY');
    expect(run.stdout).toContain(
      'Why:      rules[2] (payments-reads) says read: deny for namespace payments',
    );
  });

  it('allows the same read with a --group the more specific rule names', async () => {
    const run = await explain('--user', 'U024BE7LH', '--group', 'payments-team', 'pods payments');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Decided by: rules[3] (payments-team-reads)');
  });

  it('denies a deploy on Black Friday and exits 4, listing every freeze in force', async () => {
    const run = await explain(
      '--user',
      'U024BE7LH',
      '--channel',
      'C123',
      '--at',
      '2026-11-27T17:00:00Z',
      'deploy deploy/checkout -n shop image=registry.local/checkout:v2',
    );
    expect(run.code).toBe(4);
    expect(run.stdout).toContain('Decided by: freezes[0] (black-friday)');
    expect(run.stdout).toContain('Black Friday code freeze');
    expect(run.stdout).toContain(
      'Rules consulted: rules[0] (shop-editors), freezes[0] (black-friday), freezes[1] (weekend)',
    );
  });

  it('asks for approval on a weekend and exits 3, naming the approvers', async () => {
    const run = await explain(
      '--user',
      'U024BE7LH',
      '--at',
      '2026-12-05T12:00:00Z',
      'scale deploy/checkout -n shop --replicas 5',
    );
    expect(run.code).toBe(3);
    expect(run.stdout).toContain('Decision: REQUIRES APPROVAL by 1 of group wheelhouse:approvers');
    expect(run.stdout).toContain('Decided by: freezes[1] (weekend)');
  });

  it('uses the written time in UTC: 16:30+01:00 on a Friday is before the weekend freeze', async () => {
    const run = await explain(
      '--user',
      'U024BE7LH',
      '--at',
      '2026-12-04T16:30:00+01:00',
      'scale deploy/checkout -n shop --replicas 5',
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('At:       2026-12-04T15:30:00.000Z');
  });

  it('counts --recent-writes against the rate limit', async () => {
    const run = await explain(
      '--user',
      'U024BE7LH',
      '--at',
      '2026-12-02T12:00:00Z',
      '--recent-writes',
      '20',
      'scale deploy/checkout -n shop --replicas 5',
    );
    expect(run.code).toBe(4);
    expect(run.stdout).toContain('rate limit: 20 write(s) in the last 1h, at most 20 allowed (rateLimit)');
  });

  it.each([
    [['pods shop'], 'needs --user'],
    [['--user', 'U1'], 'needs the command to explain'],
    [['--user', 'U1', 'deploy', 'deploy/x', '-n', 'shop'], 'Quote the command'],
    [['--user', 'U1', '--at', '2026-11-27T17:00:00', 'pods shop'], 'is not a time with a zone'],
    [['--user', 'U1', '--recent-writes', 'many', 'pods shop'], '--recent-writes must be a whole number'],
    [['--user', 'U1', 'pods shop', '--bogus'], "Unknown option '--bogus'"],
  ])('exits 2 on a usage mistake: %j', async (args, message) => {
    const run = await explain(...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stdout).toBe('');
  });

  it('exits 2 with the grammar hint for a command that does not parse', async () => {
    const run = await explain('--user', 'U1', 'podz shop');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('I don\'t know the command "podz".');
    expect(run.stderr).toContain('Did you mean `pods`');
    expect(run.stderr).not.toMatch(STACK_FRAME);
  });

  it('documents itself and its exit codes', async () => {
    const main = await wheelhouse(['--help']);
    expect(main.stdout).toContain('policy explain  what policy would decide');
    const help = await wheelhouse(['help', 'policy']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes: 0 allowed, 3 requires approval, 4 denied');
  });
});
