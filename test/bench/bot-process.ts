import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, openSync, readFileSync, realpathSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { log, ms, sleep } from './stats.ts';

/**
 * Wheelhouse as its own process (`node src/cli.ts serve`), the way it is deployed: its memory is
 * read from /proc, and the V8 inspector (started with `--inspect` on a loopback port) lets the
 * bench force a garbage collection and read the heap size from outside.
 */

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface MemorySample {
  /** Resident set size now, bytes (VmRSS). */
  rss: number;
  /** Peak resident set size of the process so far, bytes (VmHWM). */
  hwm: number;
}

export function readMemory(pid: number): MemorySample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss: kb('VmRSS') * 1024, hwm: kb('VmHWM') * 1024 };
}

export interface HeapUsage {
  usedBytes: number;
  totalBytes: number;
}

/** `process.memoryUsage()` inside the bot, read through the inspector. */
export interface ProcessMemory {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

export class BotProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly url: string;
  readonly #inspectPort: number;
  readonly #logFile: string;
  #exited = false;
  readonly startedAt = performance.now();

  private constructor(name: string, child: ChildProcess, url: string, inspectPort: number, logFile: string) {
    this.name = name;
    this.child = child;
    this.url = url;
    this.#inspectPort = inspectPort;
    this.#logFile = logFile;
    child.once('exit', (code, signal) => {
      this.#exited = true;
      appendFileSync(logFile, `\n[bench] ${name} exited: code ${code} signal ${signal}\n`);
    });
  }

  /** Starts `node --inspect=127.0.0.1:PORT src/cli.ts serve` from the repo with this environment. */
  static async start(options: {
    name: string;
    repoDir: string;
    env: Record<string, string>;
    logFile: string;
    pidFile: string;
    /** Entry point relative to repoDir. @default 'src/cli.ts' */
    entry?: string;
    /** HTTP port, e.g. the one Alertmanager posts to. @default a free port */
    httpPort?: number;
  }): Promise<BotProcess> {
    const httpPort = options.httpPort ?? (await freePort());
    const inspectPort = await freePort();
    // The pinned Node (node_modules/node) itself, not a wrapper, so the pid is the bot's.
    const node = realpathSync(join(options.repoDir, 'node_modules/.bin/node'));
    const out = openSync(options.logFile, 'a');
    const child = spawn(
      node,
      [`--inspect=127.0.0.1:${inspectPort}`, options.entry ?? 'src/cli.ts', 'serve'],
      {
        cwd: options.repoDir,
        env: {
          PATH: process.env['PATH'] ?? '/usr/bin:/bin',
          HOME: process.env['HOME'] ?? '/root',
          WH_HTTP_HOST: '127.0.0.1',
          WH_HTTP_PORT: String(httpPort),
          WH_LOG_LEVEL: 'warn',
          ...options.env,
        },
        stdio: ['ignore', out, out],
      },
    );
    if (child.pid === undefined) throw new Error(`${options.name}: could not start ${node}`);
    appendFileSync(options.pidFile, `${child.pid}\n`);
    return new BotProcess(options.name, child, `http://127.0.0.1:${httpPort}`, inspectPort, options.logFile);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Polls /readyz until 200 (all caches listed, store up); returns how long since start. */
  async waitReady(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#exited) throw new Error(`${this.name} exited before it was ready; see ${this.#logFile}`);
      try {
        const res = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.status === 200) return ms(this.startedAt);
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline)
        throw new Error(`${this.name} not ready within ${timeoutMs} ms; see ${this.#logFile}`);
      await sleep(100);
    }
  }

  memory(): MemorySample {
    return readMemory(this.pid);
  }

  /**
   * Samples RSS every `intervalMs` for `durationMs`; `steady` is the median of the last third,
   * `max` the largest sample, `hwm` the kernel's peak (VmHWM) at the end.
   */
  async sampleMemory(
    durationMs: number,
    intervalMs = 500,
  ): Promise<{ steady: number; max: number; hwm: number; samples: number[] }> {
    const samples: number[] = [];
    const end = Date.now() + durationMs;
    while (Date.now() < end) {
      samples.push(this.memory().rss);
      await sleep(intervalMs);
    }
    const tail = samples.slice(Math.floor((samples.length * 2) / 3)).sort((a, b) => a - b);
    return {
      steady: tail[Math.floor(tail.length / 2)] ?? Number.NaN,
      max: Math.max(...samples),
      hwm: this.memory().hwm,
      samples,
    };
  }

  /**
   * Forces a full, memory-reducing GC through the inspector, then reads the heap (V8), the
   * process's own memoryUsage() and RSS (kernel).
   */
  async collectGarbage(): Promise<{ heap: HeapUsage; rss: number; usage: ProcessMemory | undefined }> {
    const targets = (await (await fetch(`http://127.0.0.1:${this.#inspectPort}/json/list`)).json()) as Array<{
      webSocketDebuggerUrl: string;
    }>;
    const target = targets[0]?.webSocketDebuggerUrl;
    if (!target) throw new Error(`${this.name}: no inspector target`);
    const socket = new WebSocket(target);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => resolve(), { once: true });
      socket.addEventListener('error', () => reject(new Error('inspector connection failed')), {
        once: true,
      });
    });
    let id = 0;
    const pending = new Map<number, (result: Record<string, unknown>) => void>();
    socket.addEventListener('message', (event) => {
      const message = JSON.parse(String(event.data)) as { id?: number; result?: Record<string, unknown> };
      if (message.id !== undefined) pending.get(message.id)?.(message.result ?? {});
    });
    const call = (method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> =>
      new Promise((resolve, reject) => {
        const callId = ++id;
        const timer = setTimeout(() => reject(new Error(`inspector ${method} timed out`)), 60_000);
        pending.set(callId, (result) => {
          clearTimeout(timer);
          resolve(result);
        });
        socket.send(JSON.stringify({ id: callId, method, params }));
      });
    try {
      // Twice: the first pass can leave weakly held objects for the second.
      await call('HeapProfiler.collectGarbage');
      await call('HeapProfiler.collectGarbage');
      await sleep(500);
      const heap = await call('Runtime.getHeapUsage');
      const evaluated = await call('Runtime.evaluate', {
        expression: 'JSON.stringify(process.memoryUsage())',
        returnByValue: true,
      });
      const value = (evaluated['result'] as { value?: unknown } | undefined)?.value;
      return {
        heap: { usedBytes: Number(heap['usedSize']), totalBytes: Number(heap['totalSize']) },
        rss: this.memory().rss,
        usage: typeof value === 'string' ? (JSON.parse(value) as ProcessMemory) : undefined,
      };
    } finally {
      socket.close();
    }
  }

  /** SIGTERM (graceful), SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.#exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (!this.#exited) {
        log(`${this.name} did not stop within ${graceMs} ms; killing it`);
        this.child.kill('SIGKILL');
      }
    }, graceMs);
    await exited;
    clearTimeout(timer);
  }
}
