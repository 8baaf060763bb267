import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { z } from 'zod';
import { loadConfig } from '../../src/config/load-config.ts';
import { type RunningServer, startServer } from '../../src/main.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import { type PeerMessage, SlackPeer } from '../support/slack-peer.ts';
import { blockActionsRequest, type SignedRequest, slashCommandRequest } from '../support/slack-signing.ts';
import { e2e } from './e2e-env.ts';

export const SIGNING_SECRET = 'e2e-signing-secret-0123456789';
export const ALICE = 'UALICE001';
export const BOB = 'UBOB00001';
export const STRANGER = 'USTRANGE1';
export const ANA = 'UANA00001';
export const CY = 'UCY000001';
export const CHANNEL = 'COPS00001';
/** The on-call approvals channel, for bots configured with one. */
export const APPROVALS = 'CAPPROVE1';

/** The real bot (HTTP-mode Slack, SQLite store) against the e2e cluster, Prometheus and a Slack peer. */
export interface E2eBot {
  peer: SlackPeer;
  server: RunningServer;
  dataDir: string;
  /** Sends a signed `/wh <text>` as `user` in `channel`; resolves with the HTTP status of the ack and its latency. */
  slash(text: string, user?: string, channel?: string): Promise<{ status: number; ackMs: number }>;
  /** Sends `/wh <text>` (in CHANNEL unless told) and waits for the answer (a channel message or an ephemeral). */
  ask(text: string, user?: string, timeoutMs?: number, channel?: string): Promise<Answer>;
  /** Clicks a button of `message` as `user` (retried `retries` more times as Slack does); waits for the answer. */
  click(
    message: PeerMessage,
    label: string,
    user: string,
    options?: { retries?: number; timeoutMs?: number },
  ): Promise<Answer>;
  stop(): Promise<void>;
  /** Stops the bot but keeps the Slack peer (for a restart). */
  stopBotOnly(): Promise<void>;
}

export interface E2eBotOptions {
  /** Extra top-level YAML (e.g. a `policy:` section) appended to the bot's config file. */
  extraConfig?: string[];
  /** Reuse a data directory (and so the store) of an earlier bot: a restart. */
  dataDir?: string;
  /** Reuse the Slack peer of an earlier bot. */
  peer?: SlackPeer;
  /** Another kubeconfig (with the same contexts), e.g. one that reaches the API server through a proxy. */
  kubeconfig?: string;
  /** Another HTTP port (0: any free one); default the one Alertmanager posts to and Prometheus scrapes. */
  httpPort?: number;
  /** Channels the peer knows besides CHANNEL and APPROVALS. */
  channels?: Array<{ id: string; name: string }>;
}

/** A message the bot posted, with its visible text. */
export interface Answer {
  message: PeerMessage;
  text: string;
}

/** Rollout progress messages (src/chat/slack/slack-progress.ts), posted before the answer. */
export function isProgress(text: string): boolean {
  return /^:(arrows_counterclockwise|white_check_mark|x|warning): (Rolling out|Rolled out|Rollout of|Stopped following the rollout) /.test(
    text,
  );
}

/** The first bot message after `before` that is neither the "Working on it" acknowledgement nor progress. */
async function nextAnswer(peer: SlackPeer, before: number, what: string, timeoutMs: number): Promise<Answer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = peer
      .messages()
      .slice(before)
      .find((m) => !/Working on it/.test(m.text ?? '') && !isProgress(m.text ?? ''));
    if (answer) return { message: answer, text: messageText(answer.blocks, answer.text) };
    if (Date.now() > deadline) throw new Error(`no answer to ${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The command behind a button of a posted message, e.g. "approve 3f2a…". */
export function buttonValue(message: PeerMessage, label: string): string {
  const button = z.object({ text: z.object({ text: z.string() }), value: z.string() });
  const elements = (message.blocks ?? []).flatMap((block) => {
    const parsed = z.object({ type: z.literal('actions'), elements: z.array(z.unknown()) }).safeParse(block);
    return parsed.success ? parsed.data.elements : [];
  });
  for (const element of elements) {
    const parsed = button.safeParse(element);
    if (parsed.success && parsed.data.text.text === label) return parsed.data.value;
  }
  throw new Error(`no "${label}" button in ${JSON.stringify(message.blocks)}`);
}

export async function startE2eBot(options: E2eBotOptions = {}): Promise<E2eBot> {
  const peer =
    options.peer ??
    (await SlackPeer.start({
      channels: [
        { id: CHANNEL, name: 'ops', isMember: true },
        { id: APPROVALS, name: 'approvals', isMember: true },
        ...(options.channels ?? []).map((c) => ({ ...c, isMember: true })),
      ],
      users: [
        { id: ALICE, name: 'alice' },
        { id: BOB, name: 'bob' },
        { id: STRANGER, name: 'stranger' },
        { id: ANA, name: 'ana' },
        { id: CY, name: 'cy' },
      ],
    }));
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'wh-e2e-'));
  const configPath = join(dataDir, 'wheelhouse.yaml');
  writeFileSync(
    configPath,
    [
      'identity:',
      '  users:',
      `    - { slack: ${ALICE}, kubeUser: alice, groups: ["wheelhouse:chat"] }`,
      `    - { slack: ${BOB}, kubeUser: bob, groups: ["wheelhouse:chat"] }`,
      `    - { slack: ${ANA}, kubeUser: ana, groups: ["wheelhouse:chat", "wheelhouse:approvers"] }`,
      `    - { slack: ${CY}, kubeUser: cy, groups: ["wheelhouse:chat", "wheelhouse:approvers"] }`,
      '  unmapped: deny',
      ...(options.extraConfig ?? []),
      '',
    ].join('\n'),
  );
  const { config } = loadConfig({
    configPath,
    env: {
      KUBECONFIG: options.kubeconfig ?? e2e.kubeconfig,
      WH_KUBE_CONTEXT: 'wheelhouse',
      WH_DATA_DIR: dataDir,
      WH_HTTP_HOST: '127.0.0.1',
      // The port Prometheus scrapes as job "wheelhouse" (test/harness/observability-up.sh).
      WH_HTTP_PORT: options.httpPort === undefined ? e2e.botPort : String(options.httpPort),
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
  const slash: E2eBot['slash'] = async (text, user = BOB, channel = CHANNEL) => {
    const request: SignedRequest = slashCommandRequest(
      { text, userId: user, channelId: channel, responseUrl: peer.responseUrl(`r-${Math.random()}`) },
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
  };
  return {
    peer,
    server,
    dataDir,
    slash,
    async ask(text, user = BOB, timeoutMs = 30_000, channel = CHANNEL) {
      const before = peer.messages().length;
      // Slack sends only what follows the command, e.g. "pods shop" for "/wh pods shop".
      const { status } = await slash(text.replace(/^\/wh\s+/, ''), user, channel);
      if (status !== 200) throw new Error(`slash command "${text}" was answered with HTTP ${status}`);
      return nextAnswer(peer, before, `"${text}"`, timeoutMs);
    },
    async click(message, label, user, { retries = 0, timeoutMs = 60_000 } = {}) {
      const before = peer.messages().length;
      const actionTs = `${Math.floor(Date.now() / 1000)}.${String(Math.random()).slice(2, 8)}`;
      const send = (retryNum: number | undefined) => {
        const request = blockActionsRequest(
          {
            actionId: 'wh-command-0',
            value: buttonValue(message, label),
            userId: user,
            channelId: message.channel,
            messageTs: message.ts,
            messageBlocks: message.blocks,
            messageText: message.text,
            actionTs,
            responseUrl: peer.responseUrl(`a-${actionTs}`),
          },
          { secret: SIGNING_SECRET, retryNum, retryReason: retryNum ? 'http_timeout' : undefined },
        );
        return fetch(`${server.url}/slack/events`, {
          method: 'POST',
          headers: request.headers,
          body: request.body,
        });
      };
      const responses = await Promise.all([
        send(undefined),
        ...Array.from({ length: retries }, (_, i) => send(i + 1)),
      ]);
      for (const r of responses) await r.arrayBuffer();
      return nextAnswer(peer, before, `a click on ${label}`, timeoutMs);
    },
    async stop() {
      await server.stop();
      if (!options.peer) await peer.close();
    },
    async stopBotOnly() {
      await server.stop();
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
