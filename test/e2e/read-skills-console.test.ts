import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyChain } from '../../src/audit/audit-record.ts';
import { auditRecords } from './bot.ts';
import { e2e } from './e2e-env.ts';

/** Runs `wheelhouse console` as a real process with lines on stdin; resolves with its output. */
function consoleSession(
  args: string[],
  lines: string[],
  dataDir: string,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['src/cli.ts', 'console', ...args], {
      env: {
        PATH: process.env['PATH'] ?? '',
        HOME: dataDir,
        KUBECONFIG: e2e.kubeconfig,
        WH_KUBE_CONTEXT: 'wheelhouse',
        WH_DATA_DIR: dataDir,
        WH_PROMETHEUS_URL: e2e.prometheusUrl,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`console did not finish within 60 s; output so far:\n${out}`));
    }, 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
    child.stdin.end(`${lines.join('\n')}\nexit\n`);
  });
}

describe('read skills in the console against the real cluster', () => {
  it('answers alice in shop, refuses her in payments, saves the chart, and audits it all', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wh-e2e-console-'));
    const { code, out } = await consoleSession(
      ['--as', 'alice', '--as-group', 'wheelhouse:chat'],
      [
        'pods shop --unhealthy',
        'pods payments',
        'logs deploy/hungry -n shop --previous',
        'metrics memory deploy/checkout -n shop --last 10m',
      ],
      dataDir,
    );
    expect(code).toBe(0);
    expect(out).toContain('acting as alice');
    expect(out).toMatch(/crashy-\S+\s+0\/1\s+CrashLoopBackOff/);
    expect(out).toMatch(/alice.*list pods.*payments/s);
    expect(out).toMatch(/hungry-\S+\/hungry/);
    expect(out).toMatch(/200 MiB/);
    const chart = /\(chart: (\S+\.png)\)/.exec(out)?.[1];
    expect(chart, 'the chart is saved and its path printed').toBeDefined();

    const records = await auditRecords(dataDir);
    expect(records.map((r) => [r.text, r.outcome, r.actor.kubeUser])).toEqual([
      ['pods shop --unhealthy', 'ok', 'alice'],
      ['pods payments', 'denied', 'alice'],
      ['logs deploy/hungry -n shop --previous', 'ok', 'alice'],
      ['metrics memory deploy/checkout -n shop --last 10m', 'ok', 'alice'],
    ]);
    expect(await verifyChain(records)).toEqual({ ok: true, checked: 4 });
  });
});
