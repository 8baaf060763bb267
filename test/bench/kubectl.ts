import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** The built kubectl of the harness, run as a user would: a fresh process per question. */
export interface KubectlOptions {
  kubectl: string;
  kubeconfig: string;
  /** Kubeconfig context: the same identity Wheelhouse uses. */
  context: string;
}

export interface KubectlRun {
  wallMs: number;
  exitCode: number;
  stderr: string;
}

/** Runs kubectl with stdout going straight to /dev/null (no reader in the way) and times it. */
export function runKubectl(options: KubectlOptions, args: readonly string[]): Promise<KubectlRun> {
  const devNull = openSync('/dev/null', 'w');
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(
      options.kubectl,
      ['--kubeconfig', options.kubeconfig, '--context', options.context, ...args],
      {
        stdio: ['ignore', devNull, 'pipe'],
      },
    );
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.once('error', (e) => {
      closeSync(devNull);
      reject(e);
    });
    child.once('close', (code) => {
      closeSync(devNull);
      resolve({ wallMs: performance.now() - started, exitCode: code ?? -1, stderr });
    });
  });
}

/** Bytes kubectl writes for these args (run once, read fully). */
export function kubectlOutputBytes(options: KubectlOptions, args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      options.kubectl,
      ['--kubeconfig', options.kubeconfig, '--context', options.context, ...args],
      {
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    let bytes = 0;
    child.stdout?.on('data', (c: Buffer) => {
      bytes += c.length;
    });
    child.once('error', reject);
    child.once('close', () => resolve(bytes));
  });
}

/** Peak RSS and wall time of one kubectl run, from GNU time (`/usr/bin/time`). */
export async function kubectlPeakMemory(
  options: KubectlOptions,
  args: readonly string[],
  scratchDir: string,
): Promise<{ maxRssBytes: number; wallMs: number } | undefined> {
  if (!existsSync('/usr/bin/time')) return undefined;
  const out = join(scratchDir, `time-${process.pid}-${Date.now()}.txt`);
  const devNull = openSync('/dev/null', 'w');
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        '/usr/bin/time',
        [
          '-f',
          '%M %e',
          '-o',
          out,
          options.kubectl,
          '--kubeconfig',
          options.kubeconfig,
          '--context',
          options.context,
          ...args,
        ],
        { stdio: ['ignore', devNull, 'ignore'] },
      );
      child.once('error', reject);
      child.once('close', () => resolve());
    });
    const [kb, seconds] = readFileSync(out, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
    return { maxRssBytes: (kb ?? Number.NaN) * 1024, wallMs: (seconds ?? Number.NaN) * 1000 };
  } finally {
    closeSync(devNull);
    rmSync(out, { force: true });
  }
}
