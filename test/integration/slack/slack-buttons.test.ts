import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commandDigest, encodeDenyMetadata } from '../../../src/chat/slack/slack-actions.ts';
import { createSlackSurface, type SlackSurface } from '../../../src/chat/slack/slack-surface.ts';
import { WheelhouseError } from '../../../src/errors.ts';
import { createHttpServer, type HttpServer } from '../../../src/http/http-server.ts';
import type { KubeIdentity } from '../../../src/kube/types.ts';
import type { ChatRequest, Reply } from '../../../src/runner/types.ts';
import type { SkillResult } from '../../../src/skills/result.ts';
import { MemoryIdempotency } from '../../support/memory-idempotency.ts';
import { type PeerCall, type PeerMessage, SlackPeer } from '../../support/slack-peer.ts';
import {
  blockActionsRequest,
  postSigned,
  slashCommandRequest,
  viewSubmissionRequest,
} from '../../support/slack-signing.ts';

/**
 * Approve / Deny buttons through our HTTP server: signed block_actions and view_submission
 * payloads, a stub RequestHandler that records what it is asked, and the Slack peer.
 */

const SECRET = 'test-signing-secret';
const logger = pino({ level: 'silent' });
const ID = 'ap-3f2a9c1e';
const QUORUM_ID = 'ap-quorum2';

const ok = (result: SkillResult, skill = 'deploy'): Reply => ({
  ok: true,
  requestId: `req-${result.summary.length}`,
  skill,
  durationMs: 5,
  result,
});

const waiting = (id: string, summary: string): Reply =>
  ok({
    summary,
    tone: 'warning',
    sections: [
      {
        type: 'table',
        columns: ['OBJECT', 'FIELD', 'BEFORE', 'AFTER'],
        rows: [['Deployment/checkout', 'image', 'checkout:1.42', 'checkout:1.43']],
      },
      {
        type: 'actions',
        actions: [
          { label: 'Approve', command: `approve ${id}`, style: 'primary' },
          { label: 'Deny', command: `deny ${id}`, style: 'danger' },
        ],
      },
    ],
  });

/** The runner's part, stubbed: approval requests, votes and denials by their command text. */
function stubReply(request: ChatRequest): Reply {
  const text = request.text;
  if (text === 'deploy checkout') return waiting(ID, 'Waiting for approval: deploy checkout:1.43 to shop.');
  if (text === 'deploy payments')
    return waiting(QUORUM_ID, 'Waiting for approval: deploy payments (2 of 2).');
  if (text === `approve ${ID}` && request.actor.id !== 'U0001')
    return ok({
      summary: 'Approved and applied: deploy checkout:1.43 to shop.',
      tone: 'success',
      sections: [],
    });
  if (text === `approve ${QUORUM_ID}`)
    return ok({ summary: 'Waiting for approval: 1 of 2 approvals so far.', tone: 'warning', sections: [] });
  if (text.startsWith(`deny ${ID} `))
    return ok({ summary: `Denied: ${text.slice(`deny ${ID} `.length)}`, tone: 'error', sections: [] });
  return {
    ok: false,
    requestId: 'req-refused',
    skill: undefined,
    durationMs: 1,
    error: new WheelhouseError('FORBIDDEN', 'You requested this change, so you cannot approve it.'),
  };
}

interface Harness {
  peer: SlackPeer;
  http: HttpServer;
  surface: SlackSurface;
  events: string;
  requests: ChatRequest[];
  idempotency: MemoryIdempotency;
  clock: { now: number };
}

let h: Harness;

const identities: Record<string, KubeIdentity | null> = {
  U0001: { user: 'ana@example.com', groups: ['shop-devs'] },
  U0002: null,
  U0004: { user: 'dee@example.com', groups: ['oncall'] },
};

async function setUp(): Promise<Harness> {
  const peer = await SlackPeer.start({
    users: [
      { id: 'U0001', name: 'ana' },
      { id: 'U0002', name: 'bo' },
      { id: 'U0004', name: 'dee' },
    ],
    channels: [{ id: 'C0001', name: 'general' }],
  });
  const http = createHttpServer({ host: '127.0.0.1', port: 0, logger });
  const requests: ChatRequest[] = [];
  // The clock is ours, so "11 s later" needs no waiting.
  const clock = { now: Date.parse('2024-05-01T12:00:00Z') };
  const idempotency = new MemoryIdempotency(() => clock.now);
  const surface = createSlackSurface({
    mode: 'http',
    botToken: peer.token,
    signingSecret: SECRET,
    apiUrl: peer.apiUrl,
    logger,
    httpServer: http,
    idempotency,
    resolveIdentity: async (id) => (id in identities ? (identities[id] ?? null) : undefined),
    handler: {
      async handle(request) {
        requests.push(request);
        return stubReply(request);
      },
    },
  });
  const { url } = await http.listen();
  await surface.start();
  return { peer, http, surface, events: `${url}/slack/events`, requests, idempotency, clock };
}

/** Asks for a change by slash command; resolves with the posted approval request. */
async function approvalRequest(text = 'deploy checkout'): Promise<PeerMessage> {
  await postSigned(h.events, slashCommandRequest({ text, triggerId: `t-${text}` }, { secret: SECRET }));
  const post = await h.peer.waitFor(
    'chat.postMessage',
    (c) => c.response.ok === true && c.args.thread_ts === undefined,
  );
  const message = h.peer.messages('C0001').find((m) => m.ts === post.response.ts);
  if (message === undefined) throw new Error('the approval request was not posted');
  // As the clicker's Slack client saw it: the peer updates its own copy in place.
  return structuredClone(message);
}

/** The button of the posted message whose command starts with `verb`. */
function button(message: PeerMessage, verb: string): { action_id: string; value: string } {
  const blocks = (message.blocks ?? []) as Array<{
    type: string;
    elements?: Array<{ action_id: string; value: string }>;
  }>;
  const found = blocks
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements ?? [])
    .find((e) => e.value.startsWith(verb));
  if (found === undefined) throw new Error(`no ${verb} button in ${JSON.stringify(message.blocks)}`);
  return found;
}

/** A signed click on a button of `message`, as Slack sends it (the message's blocks included). */
function click(
  message: PeerMessage,
  verb: string,
  options: {
    userId?: string;
    userName?: string;
    actionTs?: string;
    retryNum?: number;
    triggerId?: string;
  } = {},
) {
  const b = button(message, verb);
  return blockActionsRequest(
    {
      actionId: b.action_id,
      value: b.value,
      userId: options.userId ?? 'U0004',
      userName: options.userName ?? 'dee',
      messageTs: message.ts,
      messageText: message.text,
      messageBlocks: message.blocks,
      actionTs: options.actionTs ?? '1700000500.000001',
      triggerId: options.triggerId ?? 'trigger-click-1',
    },
    { secret: SECRET, retryNum: options.retryNum },
  );
}

const handled = (text: string): ChatRequest[] => h.requests.filter((r) => r.text === text);
const json = (call: PeerCall | undefined): string => JSON.stringify(call?.args.blocks ?? []);
const blockTypes = (call: PeerCall | undefined): string[] =>
  ((call?.args.blocks ?? []) as Array<{ type: string }>).map((b) => b.type);

describe('Approve and Deny buttons, through our HTTP server', () => {
  beforeEach(async () => {
    h = await setUp();
  });

  afterEach(async () => {
    await h.surface.stop();
    await h.http.close();
    await h.peer.close();
  });

  it('posts an approval request with buttons whose values are the commands', async () => {
    const message = await approvalRequest();
    expect(button(message, 'approve')).toMatchObject({ action_id: 'wh-command-0', value: `approve ${ID}` });
    expect(button(message, 'deny')).toMatchObject({ action_id: 'wh-command-1', value: `deny ${ID}` });
  });

  it('sends a click through the handler as the clicker, answers in the thread, and updates the message', async () => {
    const message = await approvalRequest();
    const res = await postSigned(h.events, click(message, 'approve'));
    expect(res.status).toBe(200);

    const update = await h.peer.waitFor('chat.update');
    expect(handled(`approve ${ID}`)).toHaveLength(1);
    expect(handled(`approve ${ID}`)[0]?.actor).toEqual({
      surface: 'slack',
      id: 'U0004',
      name: 'dee',
      channel: 'C0001',
      thread: message.ts,
      kube: { user: 'dee@example.com', groups: ['oncall'] },
    });

    const answer = h.peer.calls('chat.postMessage').find((c) => c.args.thread_ts === message.ts);
    expect(answer?.args.channel).toBe('C0001');
    expect(json(answer)).toContain(`<@U0004> asked \`approve ${ID}\``);
    expect(answer?.args.text).toBe('Approved and applied: deploy checkout:1.43 to shop.');

    // The approval is decided: the buttons go, the diff stays, a status line says who and what.
    expect(update.args).toMatchObject({ channel: 'C0001', ts: message.ts });
    expect(update.response.ok).toBe(true);
    expect(blockTypes(update)).not.toContain('actions');
    expect(json(update)).toContain('Deployment/checkout');
    expect(json(update)).toContain(
      `:white_check_mark: <@U0004> \`approve ${ID}\`: Approved and applied: deploy checkout:1.43 to shop.`,
    );
    const shown = h.peer.messages('C0001').find((m) => m.ts === message.ts);
    expect(JSON.stringify(shown?.blocks)).not.toContain('wh-command');
  });

  it('answers a click once however often Slack retries it', async () => {
    const message = await approvalRequest();
    const key = `slack:action:1700000500.000001:U0004:${commandDigest(`approve ${ID}`)}`;
    await postSigned(h.events, click(message, 'approve'));
    await postSigned(h.events, click(message, 'approve', { retryNum: 1 }));
    await postSigned(h.events, click(message, 'approve', { retryNum: 2 }));
    await h.idempotency.claimed(key, 3);
    await h.peer.waitFor('chat.update');
    expect(h.idempotency.history.filter((c) => c.key === key).map((c) => c.first)).toEqual([
      true,
      false,
      false,
    ]);
    expect(handled(`approve ${ID}`)).toHaveLength(1);
    expect(h.peer.calls('chat.update')).toHaveLength(1);
    expect(h.peer.calls('chat.postMessage').filter((c) => c.args.thread_ts === message.ts)).toHaveLength(1);
  });

  it('answers a double click (two action_ts) once, and a click after 10 s again', async () => {
    // Two votes are needed, so the buttons stay after the first.
    const message = await approvalRequest('deploy payments');
    const vote = `approve ${QUORUM_ID}`;
    const clickKey = `slack:click:U0004:${commandDigest(vote)}`;
    await postSigned(h.events, click(message, 'approve', { actionTs: '1700000500.000001' }));
    await postSigned(h.events, click(message, 'approve', { actionTs: '1700000500.400001' }));
    await h.idempotency.claimed(clickKey, 2);
    await h.peer.waitFor('chat.update');
    expect(h.idempotency.history.filter((c) => c.key === clickKey).map((c) => c.first)).toEqual([
      true,
      false,
    ]);
    expect(handled(vote)).toHaveLength(1);

    // Not a double click any more: the handler decides what a second vote means.
    h.clock.now += 11_000;
    await postSigned(h.events, click(message, 'approve', { actionTs: '1700000511.000001' }));
    await h.idempotency.claimed(clickKey, 3);
    await h.peer.waitFor('chat.update', () => h.peer.calls('chat.update').length === 2);
    expect(handled(vote)).toHaveLength(2);
  });

  it('refuses an unmapped clicker privately and never calls the handler', async () => {
    const message = await approvalRequest();
    await postSigned(h.events, click(message, 'approve', { userId: 'U0002', userName: 'bo' }));
    const ephemeral = await h.peer.waitFor('chat.postEphemeral');
    expect(ephemeral.args).toMatchObject({ channel: 'C0001', user: 'U0002', thread_ts: message.ts });
    expect(json(ephemeral)).toContain('not mapped to a Kubernetes identity');
    expect(h.requests.map((r) => r.text)).toEqual(['deploy checkout']);
    expect(h.peer.calls('chat.update')).toHaveLength(0);
  });

  it('shows a refused vote only to the clicker and leaves the message as it was', async () => {
    const message = await approvalRequest();
    await postSigned(h.events, click(message, 'approve', { userId: 'U0001', userName: 'ana' }));
    const ephemeral = await h.peer.waitFor('chat.postEphemeral');
    expect(ephemeral.args).toMatchObject({ user: 'U0001', thread_ts: message.ts });
    expect(json(ephemeral)).toContain('you cannot approve it');
    expect(handled(`approve ${ID}`)).toHaveLength(1);
    expect(h.peer.calls('chat.update')).toHaveLength(0);
  });

  it('keeps the buttons while more votes are needed, with a status line under them', async () => {
    const message = await approvalRequest('deploy payments');
    await postSigned(h.events, click(message, 'approve'));
    const update = await h.peer.waitFor('chat.update');
    const types = blockTypes(update);
    expect(types).toContain('actions');
    const blocks = update.args.blocks as Array<{ type: string; block_id?: string }>;
    const row = blocks.findIndex((b) => b.type === 'actions');
    expect(blocks[row + 1]?.block_id).toBe('wh-status');
    expect(json(update)).toContain(
      '<@U0004> `approve ap-quorum2`: Waiting for approval: 1 of 2 approvals so far.',
    );
  });

  it('opens a form for the reason on Deny, then sends `deny <id> <reason>` through the handler', async () => {
    const message = await approvalRequest();
    await postSigned(h.events, click(message, 'deny', { triggerId: 'trigger-deny-7' }));
    const opened = await h.peer.waitFor('views.open');
    expect(opened.response.ok).toBe(true);
    expect(opened.args.trigger_id).toBe('trigger-deny-7');
    const view = opened.args.view as { callback_id: string; private_metadata: string; blocks: unknown[] };
    expect(view.callback_id).toBe('wh-deny');
    expect(JSON.parse(view.private_metadata)).toMatchObject({
      a: ID,
      c: 'C0001',
      t: message.ts,
      m: message.ts,
    });
    expect(JSON.stringify(view.blocks)).toContain('"type":"input"');
    // Opening the form decides nothing.
    expect(h.requests.map((r) => r.text)).toEqual(['deploy checkout']);

    const submit = (viewId: string, reason: string) =>
      viewSubmissionRequest(
        {
          callbackId: 'wh-deny',
          privateMetadata: view.private_metadata,
          values: { 'wh-deny-reason': { reason } },
          viewId,
          userId: 'U0004',
          userName: 'dee',
        },
        { secret: SECRET },
      );
    const res = await postSigned(h.events, submit('V00000009', 'Not during the "sale"\nplease'));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');

    const update = await h.peer.waitFor('chat.update');
    const command = `deny ${ID} Not during the \u2033sale\u2033 please`;
    expect(handled(command)).toHaveLength(1);
    expect(handled(command)[0]?.actor).toMatchObject({
      surface: 'slack',
      id: 'U0004',
      channel: 'C0001',
      thread: message.ts,
      kube: { user: 'dee@example.com' },
    });
    const answer = h.peer.calls('chat.postMessage').find((c) => c.args.thread_ts === message.ts);
    expect(answer?.args.text).toBe('Denied: Not during the \u2033sale\u2033 please');
    expect(update.args).toMatchObject({ channel: 'C0001', ts: message.ts });
    expect(blockTypes(update)).not.toContain('actions');
    expect(json(update)).toContain('Deployment/checkout');

    // The same submission again (a retry) decides nothing more.
    await postSigned(h.events, submit('V00000009', 'Not during the "sale"\nplease'));
    await h.idempotency.claimed('slack:view:V00000009', 2);
    expect(handled(command)).toHaveLength(1);
  });

  it('still takes the buttons off after a restart while the form was open', async () => {
    const message = await approvalRequest();
    // A new process: the message's blocks are no longer in memory, only what the form carries.
    const metadata = encodeDenyMetadata({
      a: ID,
      c: 'C0001',
      t: message.ts,
      m: message.ts,
      k: 'gone',
      x: message.text,
    });
    await postSigned(
      h.events,
      viewSubmissionRequest(
        {
          callbackId: 'wh-deny',
          privateMetadata: metadata,
          values: { 'wh-deny-reason': { reason: 'later' } },
          userId: 'U0004',
        },
        { secret: SECRET },
      ),
    );
    const update = await h.peer.waitFor('chat.update');
    expect(handled(`deny ${ID} later`)).toHaveLength(1);
    expect(blockTypes(update)).toEqual(['section', 'context']);
    expect(json(update)).toContain('Waiting for approval: deploy checkout:1.43 to shop.');
    expect(json(update)).toContain(`<@U0004> \`deny ${ID} later\`: Denied: later`);
  });

  it('says what to type when Slack refuses the blocks and the request goes out as a file', async () => {
    h.peer.failNext('chat.postMessage', 'invalid_blocks');
    await postSigned(h.events, slashCommandRequest({ text: 'deploy checkout' }, { secret: SECRET }));
    await h.peer.waitFor('files.completeUploadExternal');
    const file = h.peer.files().find((f) => f.filename === 'answer.txt');
    expect(file?.bytes?.toString('utf8')).toContain(
      `Approve: type \`approve ${ID}\`\nDeny: type \`deny ${ID}\``,
    );
  });

  it('keeps the form open with an error when the reason is blank', async () => {
    const message = await approvalRequest();
    await postSigned(h.events, click(message, 'deny'));
    const opened = await h.peer.waitFor('views.open');
    const view = opened.args.view as { private_metadata: string };
    const res = await postSigned(
      h.events,
      viewSubmissionRequest(
        {
          callbackId: 'wh-deny',
          privateMetadata: view.private_metadata,
          values: { 'wh-deny-reason': { reason: '   ' } },
        },
        { secret: SECRET },
      ),
    );
    expect(await res.json()).toEqual({
      response_action: 'errors',
      errors: { 'wh-deny-reason': 'Say why the change is denied.' },
    });
    expect(h.requests.map((r) => r.text)).toEqual(['deploy checkout']);
  });

  it('opens no form for an unmapped user and refuses privately', async () => {
    const message = await approvalRequest();
    await postSigned(h.events, click(message, 'deny', { userId: 'U0002', userName: 'bo' }));
    const ephemeral = await h.peer.waitFor('chat.postEphemeral');
    expect(ephemeral.args.user).toBe('U0002');
    expect(h.peer.calls('views.open')).toHaveLength(0);
    expect(h.requests.map((r) => r.text)).toEqual(['deploy checkout']);
  });

  it('tells the clicker what to type when the form cannot be opened in time', async () => {
    const message = await approvalRequest();
    h.peer.failNext('views.open', 'expired_trigger_id');
    await postSigned(h.events, click(message, 'deny'));
    const ephemeral = await h.peer.waitFor('chat.postEphemeral');
    expect(ephemeral.args.user).toBe('U0004');
    expect(json(ephemeral)).toContain(`Type \`deny ${ID} &lt;reason&gt;\` instead.`);
  });
});
