import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** The Debian package that provides `prometheus` and `promtool` (Debian 12: 2.42). */
export const PROMETHEUS_DEBIAN_PACKAGE = 'prometheus';

const CONFIG_FILE = fileURLToPath(new URL('../fixtures/prometheus/prometheus.yml', import.meta.url));
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

/** A real Prometheus on loopback, with its own temporary data directory. */
export interface PrometheusServer {
  /** e.g. "http://127.0.0.1:41234" */
  url: string;
  dataDir: string;
  /** Stops the process and deletes the data directory. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartPrometheusOptions {
  /**
   * OpenMetrics text (timestamps in seconds, ending with `# EOF`) loaded with
   * `promtool tsdb create-blocks-from openmetrics` before Prometheus starts.
   */
  openMetrics?: string;
}

/**
 * Fails with an install hint when the binaries are missing: the integration tests must not pass
 * by skipping what they exist to test.
 */
export function requirePrometheusBinaries(): void {
  for (const binary of ['prometheus', 'promtool']) {
    const probe = spawnSync(binary, ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      throw new Error(
        `\`${binary}\` is not installed or does not run (${probe.error?.message ?? probe.stderr.trim()}). ` +
          `The Prometheus integration tests need a real Prometheus: install the Debian package ` +
          `"${PROMETHEUS_DEBIAN_PACKAGE}" (apt-get install -y --no-install-recommends ${PROMETHEUS_DEBIAN_PACKAGE}).`,
      );
    }
  }
}

/** Seeds a data directory, starts Prometheus on a free loopback port and waits for /-/ready. */
export async function startPrometheus(options: StartPrometheusOptions = {}): Promise<PrometheusServer> {
  requirePrometheusBinaries();
  const root = await mkdtemp(join(tmpdir(), 'wh-prometheus-'));
  const dataDir = join(root, 'data');
  let child: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    if (child) await stopProcess(child);
    child = undefined;
    await rm(root, { recursive: true, force: true });
  };
  try {
    if (options.openMetrics !== undefined) await seed(root, dataDir, options.openMetrics);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const log: string[] = [];
    child = spawn(
      'prometheus',
      [
        `--config.file=${CONFIG_FILE}`,
        `--storage.tsdb.path=${dataDir}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--storage.tsdb.retention.time=15d',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr?.setEncoding('utf8');
    // Keep the tail of the log for failure messages, and drain the pipe so Prometheus never blocks.
    child.stderr?.on('data', (chunk: string) => {
      log.push(...chunk.split('\n').filter(Boolean));
      log.splice(0, Math.max(0, log.length - 30));
    });
    await waitUntilReady(url, child, log);
    return { url, dataDir, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function seed(root: string, dataDir: string, openMetrics: string): Promise<void> {
  if (!openMetrics.trimEnd().endsWith('# EOF')) throw new Error('OpenMetrics input must end with "# EOF"');
  const file = join(root, 'seed.om');
  await writeFile(file, openMetrics);
  const result = spawnSync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', file, dataDir], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (result.error || result.status !== 0) {
    throw new Error(
      `promtool could not create blocks: ${result.error?.message ?? ''}${result.stderr}${result.stdout}`,
    );
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no TCP port was assigned');
  return address.port;
}

async function waitUntilReady(url: string, child: ChildProcess, log: string[]): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `exited with ${code ?? signal}`;
  });
  while (Date.now() < deadline) {
    if (exited) throw new Error(`Prometheus ${exited} before it was ready:\n${log.join('\n')}`);
    try {
      const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) });
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      // Not listening yet; try again until the deadline.
    }
    await sleep(100);
  }
  throw new Error(
    `Prometheus at ${url} was not ready within ${READY_TIMEOUT_MS / 1000} s:\n${log.join('\n')}`,
  );
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  // The grace timer is cancelled once the process is gone, so it cannot hold the test run open.
  const grace = new AbortController();
  const stopped = await Promise.race([
    exited.then(() => true),
    sleep(STOP_TIMEOUT_MS, false, { signal: grace.signal }).catch(() => false),
  ]);
  grace.abort();
  if (!stopped) {
    child.kill('SIGKILL');
    await exited;
  }
}
