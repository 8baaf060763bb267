import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SlackPeer } from '../support/slack-peer.ts';
import { slashCommandRequest } from '../support/slack-signing.ts';
import { type Stats, sleep, stats } from './stats.ts';

/**
 * Slack's side of a slash command: signed POSTs to the bot's /slack/events, all at once, timed to
 * the HTTP answer (the acknowledgement Slack waits at most 3 s for); then the answers the bot posts
 * to the Slack peer (chat.postMessage) are counted. The POSTs come from a child process
 * (slack-burst.ts), so the peer receiving answers in this process cannot delay reading the acks.
 */

export interface SlackRound {
  commands: number;
  /** Ack latency: from the request being written to the socket to the full HTTP response. */
  acks: Stats;
  /** Every ack latency, ms, in send order. */
  ackMs: number[];
  /** From the start of the burst (includes the sender's own connection set-up for 50 sockets). */
  acksFromBurstStart: Stats;
  /** Acks that were not HTTP 200. */
  failedAcks: number;
  /** Answers (chat.postMessage) and error replies (chat.postEphemeral) that arrived within the wait. */
  answers: number;
  errorReplies: number;
  /** From the start of the burst until the last answer arrived (or the wait ended). */
  allAnsweredMs: number;
  answerLatency: Stats;
}

const HERE = dirname(fileURLToPath(import.meta.url));
const NODE = realpathSync(join(HERE, '../../node_modules/.bin/node'));

type Mark = [sent: number, written: number, answered: number, status: number];

function burst(
  url: string,
  requests: Array<{ headers: Record<string, string>; body: string }>,
): Promise<Mark[]> {
  const child = spawn(NODE, [join(HERE, 'slack-burst.ts')], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const done = new Promise<Mark[]>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) reject(new Error(`slack-burst exited with ${code}`));
      else resolve(JSON.parse(out) as Mark[]);
    });
  });
  child.stdin.end(JSON.stringify({ url, requests }));
  return done;
}

/** Sends one slash command per user, all at once, and waits for their answers. */
export async function slashCommandRound(options: {
  botUrl: string;
  peer: SlackPeer;
  secret: string;
  text: string;
  users: readonly string[];
  channel: string;
  answerTimeoutMs: number;
}): Promise<SlackRound> {
  const { peer } = options;
  const posted = peer.calls('chat.postMessage').length;
  const ephemeral = peer.calls('chat.postEphemeral').length;
  // Build and sign every request first, so the burst itself is only sending.
  const requests = options.users.map((userId, i) =>
    slashCommandRequest(
      {
        text: options.text,
        userId,
        userName: `user-${i}`,
        channelId: options.channel,
        responseUrl: peer.responseUrl(`bench-${userId}`),
        triggerId: `bench-${userId}-${Date.now()}-${i}`,
      },
      { secret: options.secret },
    ),
  );
  const answersNow = (): number =>
    peer.calls('chat.postMessage').length - posted + peer.calls('chat.postEphemeral').length - ephemeral;
  const answerTimes: number[] = [];
  const firstSent = performance.now();
  const sending = burst(`${options.botUrl}/slack/events`, requests);
  let marks: Mark[] | undefined;
  let failure: unknown;
  sending.then(
    (m) => {
      marks = m;
    },
    (e: unknown) => {
      failure = e;
    },
  );
  // Note when each answer shows up at the peer (same process: 5 ms resolution is plenty). The
  // times include starting the sender process (~50 ms), so they are upper bounds.
  const deadline = Date.now() + options.answerTimeoutMs;
  for (;;) {
    const now = answersNow();
    while (answerTimes.length < now) answerTimes.push(performance.now() - firstSent);
    const finished = marks !== undefined || failure !== undefined;
    if ((now >= requests.length && finished) || Date.now() > deadline) break;
    await sleep(5);
  }
  const m = marks ?? (await sending);
  const ackMs = m.map(
    ([sent, written, answered]) =>
      Math.round((answered - (Number.isFinite(written) ? written : sent)) * 100) / 100,
  );
  return {
    commands: requests.length,
    acks: stats(ackMs),
    ackMs,
    acksFromBurstStart: stats(m.map(([, , answered]) => answered)),
    failedAcks: m.filter(([, , , status]) => status !== 200).length,
    answers: peer.calls('chat.postMessage').length - posted,
    errorReplies: peer.calls('chat.postEphemeral').length - ephemeral,
    allAnsweredMs: Math.round(answerTimes[answerTimes.length - 1] ?? performance.now() - firstSent),
    answerLatency: stats(answerTimes),
  };
}
