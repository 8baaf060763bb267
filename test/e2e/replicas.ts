import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import pg from 'pg';
import type { SlackPeer } from '../support/slack-peer.ts';
import { e2e } from './e2e-env.ts';
import { kubectl as admin, kubectlApply as applyAsAdmin, leaseNamespaceManifest } from './kubectl.ts';

/** The Lease timings the replicas run with: client-go's defaults (Wheelhouse's too). */
export const LEASE_MS = 15_000;
export const RETRY_MS = 2_000;
/** The background loops a leader runs (and no follower does), sorted; the alert sweep with alerts on. */
export const leaderLoops = (alerts: boolean): string[] =>
  [
    ...(alerts ? ['alert-thread-sweep'] : []),
    'canary-stepping',
    'change-upkeep',
    'pipeline-following',
  ].sort();

const LEASE = 'wheelhouse';
const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const root = join(import.meta.dirname, '../..');

/** One `wheelhouse serve` process, with its JSON log lines as they were read. */
export interface Replica {
  name: string;
  child: ChildProcess;
  logs: Array<{ at: number; msg: string; loop?: string | undefined }>;
  /** Where it serves HTTP (Slack, webhooks, /readyz), once it says so. */
  url: string | undefined;
  exited: Promise<number | null>;
}

export interface ReplicasOptions {
  /** Names the Lease namespace, the database and the temporary directory, e.g. "wh-ha-storm". */
  prefix: string;
  /** The Slack peer every replica talks to. */
  peer: SlackPeer;
  /** The shared config file's YAML. */
  config: string;
  signingSecret: string;
  /** More environment for every replica, e.g. `WH_ALERTS_ENABLED`. */
  env?: Record<string, string> | undefined;
}

export const leading = (r: Pick<Replica, 'logs'>): boolean => r.logs.some((l) => l.msg === 'became leader');
/** When `r` logged `became leader` (epoch ms), if it has. */
export const becameLeaderAt = (r: Replica): number | undefined =>
  r.logs.find((l) => l.msg === 'became leader')?.at;
export const loopsOf = (r: Replica): string[] =>
  r.logs.filter((l) => l.msg === 'background loop started').map((l) => l.loop ?? '');
export const alive = (r: Replica): boolean => r.child.exitCode === null && r.child.signalCode === null;

export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Several `wheelhouse serve` processes as one deployment would run them: one PostgreSQL database
 * (fresh, dropped by `close`), one config file, one Slack peer, leader election through a real Lease
 * in a namespace of its own where the bot's identity may hold it.
 */
export class Replicas {
  readonly all: Replica[] = [];
  /** A client of the replicas' database, for the test's own queries. */
  readonly db: pg.Client;
  readonly #options: ReplicasOptions;
  readonly #pgAdmin: pg.Client;
  readonly #database: string;
  readonly #namespace: string;
  readonly #dataRoot: string;
  readonly #configPath: string;

  private constructor(
    options: ReplicasOptions,
    handles: { pgAdmin: pg.Client; db: pg.Client; database: string; namespace: string; dataRoot: string },
  ) {
    this.#options = options;
    this.#pgAdmin = handles.pgAdmin;
    this.db = handles.db;
    this.#database = handles.database;
    this.#namespace = handles.namespace;
    this.#dataRoot = handles.dataRoot;
    this.#configPath = join(handles.dataRoot, 'wheelhouse.yaml');
    writeFileSync(this.#configPath, options.config);
  }

  /** Creates the database and the Lease namespace; starts no replica yet. */
  static async create(options: ReplicasOptions): Promise<Replicas> {
    const database = `${options.prefix.replaceAll('-', '_')}_${process.pid}_${Date.now()}`;
    const namespace = `${options.prefix}-${process.pid}`;
    const pgAdmin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
    await pgAdmin.connect();
    await pgAdmin.query(`CREATE DATABASE ${database}`);
    const db = new pg.Client({ connectionString: urlOf(database), connectionTimeoutMillis: 5000 });
    try {
      await db.connect();
      await applyAsAdmin(leaseNamespaceManifest(namespace, LEASE));
    } catch (error) {
      // Half set up: leave nothing behind.
      await db.end().catch(() => undefined);
      await dropDatabase(pgAdmin, database);
      throw error;
    }
    const dataRoot = mkdtempSync(join(tmpdir(), `${options.prefix}-`));
    return new Replicas(options, { pgAdmin, db, database, namespace, dataRoot });
  }

  /** The environment of a replica (and of `wheelhouse audit verify` against the same store). */
  envOf(name: string): NodeJS.ProcessEnv {
    const { peer } = this.#options;
    return {
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      KUBECONFIG: e2e.kubeconfig,
      WH_CONFIG: this.#configPath,
      WH_KUBE_CONTEXT: 'wheelhouse',
      WH_DATA_DIR: join(this.#dataRoot, name),
      WH_HTTP_HOST: '127.0.0.1',
      WH_HTTP_PORT: '0',
      WH_LOG_LEVEL: 'info',
      WH_STORE: 'postgres',
      WH_DATABASE_URL: urlOf(this.#database),
      WH_LEADER_ELECTION: 'true',
      WH_LEASE_NAMESPACE: this.#namespace,
      WH_LEASE_NAME: LEASE,
      WH_POD_NAME: name,
      WH_SLACK_MODE: 'http',
      SLACK_BOT_TOKEN: peer.token,
      SLACK_SIGNING_SECRET: this.#options.signingSecret,
      SLACK_API_URL: peer.apiUrl,
      ...this.#options.env,
    };
  }

  /** Starts `wheelhouse serve` as `name`; see `url` for when it serves. */
  start(name: string): Replica {
    const child = spawn(process.execPath, ['src/cli.ts', 'serve'], {
      cwd: root,
      env: this.envOf(name),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const replica: Replica = {
      name,
      child,
      logs: [],
      url: undefined,
      exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
    };
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const entry: unknown = JSON.parse(line);
        if (typeof entry !== 'object' || entry === null || !('msg' in entry)) return;
        const loop = 'loop' in entry ? String(entry.loop) : undefined;
        replica.logs.push({ at: Date.now(), msg: String(entry.msg), loop });
        if (entry.msg === 'wheelhouse is serving' && 'url' in entry) replica.url = String(entry.url);
      } catch {
        // Not a JSON log line.
      }
    });
    child.stderr.on('data', (chunk: Buffer) => process.stderr.write(`[${name}] ${chunk}`));
    this.all.push(replica);
    return replica;
  }

  /** Starts one replica per name and waits until each serves. */
  async startAll(names: string[], timeoutMs = 60_000): Promise<Replica[]> {
    const started = names.map((name) => this.start(name));
    await Promise.all(started.map((r) => waitFor(`${r.name} serving`, timeoutMs, () => r.url)));
    return started;
  }

  /** Waits for a leader among `among` and then a retry period more: a leader is not enough, exactly one. */
  async soleLeader(among: Replica[] = this.all, timeoutMs = 30_000): Promise<Replica> {
    const first = await waitFor('a leader', timeoutMs, () => among.find(leading));
    await new Promise((r) => setTimeout(r, RETRY_MS));
    const leaders = among.filter(leading);
    if (leaders.length !== 1 || leaders[0] !== first) {
      throw new Error(`expected ${first.name} to lead alone, but ${leaders.map((r) => r.name)} lead`);
    }
    return first;
  }

  /** SIGKILLs `replica` (no Lease release, no graceful stop); resolves with the time of the kill. */
  async kill(replica: Replica): Promise<number> {
    const at = Date.now();
    replica.child.kill('SIGKILL');
    await replica.exited;
    return at;
  }

  /** `wheelhouse audit verify` against the replicas' store; resolves with its stdout. */
  async verifyAudit(): Promise<string> {
    const { stdout } = await promisify(execFile)(process.execPath, ['src/cli.ts', 'audit', 'verify'], {
      cwd: root,
      env: this.envOf('verify'),
    });
    return stdout;
  }

  /** Kills every replica still running, drops the database and deletes the Lease namespace. */
  async close(): Promise<void> {
    for (const r of this.all) if (alive(r)) r.child.kill('SIGKILL');
    await Promise.all(this.all.map((r) => r.exited));
    await this.db.end().catch(() => undefined);
    await dropDatabase(this.#pgAdmin, this.#database);
    await admin('delete', 'namespace', this.#namespace, '--wait=false').catch(() => undefined);
    rmSync(this.#dataRoot, { recursive: true, force: true });
  }
}

const urlOf = (database: string) => `postgres://postgres@127.0.0.1:5432/${database}`;

/** Drops a test database (its replicas' connections too) and ends the admin connection. */
async function dropDatabase(pgAdmin: pg.Client, database: string): Promise<void> {
  await pgAdmin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
  await pgAdmin.end().catch(() => undefined);
}
