import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/config/load-config.ts';
import { type RunningServer, startServer } from '../../src/main.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import { SlackPeer } from '../support/slack-peer.ts';
import { type SignedRequest, slashCommandRequest } from '../support/slack-signing.ts';
import { e2e } from './e2e-env.ts';

export const SIGNING_SECRET = 'e2e-signing-secret-0123456789';
export const ALICE = 'UALICE001';
export const BOB = 'UBOB00001';
export const STRANGER = 'USTRANGE1';
export const CHANNEL = 'COPS00001';

/** The real bot (HTTP-mode Slack, SQLite store) against the e2e cluster, Prometheus and a Slack peer. */
export interface E2eBot {
  peer: SlackPeer;
  server: RunningServer;
  dataDir: string;
  /** Sends a signed `/wh <text>` as `user`; resolves with the HTTP status of the ack and its latency. */
  slash(text: string, user?: string): Promise<{ status: number; ackMs: number }>;
  /** The records in the audit chain, newest last. */
  stop(): Promise<void>;
}

export async function startE2eBot(): Promise<E2eBot> {
  const peer = await SlackPeer.start({
    channels: [{ id: CHANNEL, name: 'ops', isMember: true }],
    users: [
      { id: ALICE, name: 'alice' },
      { id: BOB, name: 'bob' },
      { id: STRANGER, name: 'stranger' },
    ],
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'wh-e2e-'));
  const configPath = join(dataDir, 'wheelhouse.yaml');
  writeFileSync(
    configPath,
    [
      'identity:',
      '  users:',
      `    - { slack: ${ALICE}, kubeUser: alice, groups: ["wheelhouse:chat"] }`,
      `    - { slack: ${BOB}, kubeUser: bob, groups: ["wheelhouse:chat"] }`,
      '  unmapped: deny',
      '',
    ].join('\n'),
  );
  const { config } = loadConfig({
    configPath,
    env: {
      KUBECONFIG: e2e.kubeconfig,
      WH_KUBE_CONTEXT: 'wheelhouse',
      WH_DATA_DIR: dataDir,
      WH_HTTP_HOST: '127.0.0.1',
      // The port Prometheus scrapes as job "wheelhouse" (test/harness/observability-up.sh).
      WH_HTTP_PORT: e2e.botPort,
      WH_LOG_LEVEL: 'warn',
      WH_PROMETHEUS_URL: e2e.prometheusUrl,
      WH_SLACK_MODE: 'http',
      SLACK_BOT_TOKEN: peer.token,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: peer.apiUrl,
    },
  });
  const server = await startServer(config, pino({ level: 'warn' }));
  await waitUntil(() => server.app.kube.ready(), 30_000, 'the kube caches to sync');
  return {
    peer,
    server,
    dataDir,
    async slash(text, user = BOB) {
      const request: SignedRequest = slashCommandRequest(
        { text, userId: user, channelId: CHANNEL, responseUrl: peer.responseUrl(`r-${Math.random()}`) },
        { secret: SIGNING_SECRET },
      );
      const started = performance.now();
      const response = await fetch(`${server.url}/slack/events`, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
      });
      const ackMs = performance.now() - started;
      await response.arrayBuffer();
      return { status: response.status, ackMs };
    },
    async stop() {
      await server.stop();
      await peer.close();
    },
  };
}

/** Reads the bot's audit chain from its SQLite file (a second reader, as `wheelhouse audit tail` is). */
export async function auditRecords(dataDir: string) {
  const store = new SqliteStore(join(dataDir, 'wheelhouse.db'));
  try {
    return await store.audit.tail(1000);
  } finally {
    await store.close();
  }
}

export async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** All visible text of a Slack message: section texts, fields and context elements. */
export function messageText(blocks: unknown[] | undefined, fallback = ''): string {
  const out: string[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        if (key === 'text' && typeof child === 'string') out.push(child);
        else walk(child);
      }
    }
  };
  walk(blocks);
  return out.length ? out.join('\n') : fallback;
}
