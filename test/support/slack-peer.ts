import { createHash, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * A local server that speaks the Slack Web API for the methods Wheelhouse calls, with Slack's
 * response shapes and errors, so the real SDK (timeouts, retries, file uploads) can be exercised
 * without the network. It listens on 127.0.0.1 on a free port and records every call.
 */

/** One recorded request. */
export interface PeerCall {
  /**
   * Web API method; `upload` for the file upload POST, `response_url` for a response URL POST,
   * `socket_connect` / `socket_ack` / `socket_close` for Socket Mode traffic.
   */
  method: string;
  args: Record<string, unknown>;
  token: string | undefined;
  /** Milliseconds since the peer started. */
  at: number;
  status: number;
  response: Record<string, unknown>;
}

/** A message the peer accepted. */
export interface PeerMessage {
  channel: string;
  ts: string;
  threadTs: string | undefined;
  text: string | undefined;
  blocks: unknown[] | undefined;
  /** Set for chat.postEphemeral: the only user who sees it. */
  ephemeralTo: string | undefined;
}

/** A file that went through files.getUploadURLExternal → upload → files.completeUploadExternal. */
export interface PeerFile {
  id: string;
  filename: string;
  /** Length announced to files.getUploadURLExternal. */
  length: number;
  bytes: Buffer | undefined;
  title: string | undefined;
  channelId: string | undefined;
  threadTs: string | undefined;
  completed: boolean;
}

export interface PeerChannel {
  id: string;
  name: string;
  isMember: boolean;
  isPrivate: boolean;
  isIm: boolean;
  /** For an IM, the other user. */
  user?: string | undefined;
}

export interface PeerUser {
  id: string;
  name: string;
  realName?: string | undefined;
  email?: string | undefined;
}

export interface SlackPeerOptions {
  /** The bot token accepted. @default 'xoxb-test-token' */
  token?: string;
  /** The app-level token apps.connections.open accepts (Socket Mode). @default 'xapp-test-token' */
  appToken?: string;
  botUserId?: string;
  botId?: string;
  teamId?: string;
  channels?: Array<Pick<PeerChannel, 'id'> & Partial<PeerChannel>>;
  users?: PeerUser[];
  /** Usergroup id → member user ids. */
  usergroups?: Record<string, string[]>;
}

type ApiResult = Record<string, unknown> & { ok: boolean };
type MethodHandler = (args: Record<string, unknown>) => ApiResult;

const fail = (error: string, extra: Record<string, unknown> = {}): ApiResult => ({
  ok: false,
  error,
  ...extra,
});

/** Fields the SDK sends JSON-encoded inside a form body. */
const JSON_FIELDS = new Set(['blocks', 'attachments', 'files', 'view', 'metadata']);

export class SlackPeer {
  readonly #server: Server;
  readonly #events = new EventEmitter();
  readonly #calls: PeerCall[] = [];
  readonly #messages: PeerMessage[] = [];
  readonly #files = new Map<string, PeerFile>();
  readonly #channels = new Map<string, PeerChannel>();
  readonly #users = new Map<string, PeerUser>();
  readonly #usergroups: Map<string, string[]>;
  readonly #rateLimits = new Map<string, { times: number; retryAfterSeconds: number }>();
  readonly #failures = new Map<string, Array<string>>();
  readonly #started = performance.now();
  readonly #token: string;
  readonly #appToken: string;
  readonly #sockets = new Set<Duplex>();
  readonly #options: Required<Pick<SlackPeerOptions, 'botUserId' | 'botId' | 'teamId'>>;
  #sequence = 0;
  #url = '';

  private constructor(options: SlackPeerOptions) {
    this.#token = options.token ?? 'xoxb-test-token';
    this.#appToken = options.appToken ?? 'xapp-test-token';
    this.#options = {
      botUserId: options.botUserId ?? 'UBOT0001',
      botId: options.botId ?? 'BBOT0001',
      teamId: options.teamId ?? 'T0001',
    };
    for (const c of options.channels ?? [{ id: 'C0001', name: 'general' }]) this.addChannel(c);
    for (const u of options.users ?? []) this.#users.set(u.id, u);
    this.#usergroups = new Map(Object.entries(options.usergroups ?? {}));
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(error));
      });
    });
    this.#server.on('upgrade', (req, socket, head) => this.#upgrade(req, socket, head));
  }

  /** Starts a peer on 127.0.0.1 and a free port. */
  static async start(options: SlackPeerOptions = {}): Promise<SlackPeer> {
    const peer = new SlackPeer(options);
    await new Promise<void>((resolve, reject) => {
      peer.#server.once('error', reject);
      peer.#server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = peer.#server.address();
    if (address === null || typeof address === 'string') throw new Error('slack peer: no TCP address');
    peer.#url = `http://127.0.0.1:${(address satisfies AddressInfo).port}`;
    return peer;
  }

  /** e.g. http://127.0.0.1:41234 */
  get url(): string {
    return this.#url;
  }

  /** Base URL for WebClient's `slackApiUrl`. */
  get apiUrl(): string {
    return `${this.#url}/api/`;
  }

  get token(): string {
    return this.#token;
  }

  get appToken(): string {
    return this.#appToken;
  }

  get botUserId(): string {
    return this.#options.botUserId;
  }

  /** A response_url served by the peer; POSTs to it are recorded as method `response_url`. */
  responseUrl(id = 'cmd'): string {
    return `${this.#url}/response/${id}`;
  }

  addChannel(channel: Pick<PeerChannel, 'id'> & Partial<PeerChannel>): void {
    this.#channels.set(channel.id, {
      name: channel.id.toLowerCase(),
      isMember: true,
      isPrivate: false,
      isIm: channel.id.startsWith('D'),
      ...channel,
    });
  }

  addUser(user: PeerUser): void {
    this.#users.set(user.id, user);
  }

  /** Every recorded call, or those of one method. */
  calls(method?: string): PeerCall[] {
    return method === undefined ? [...this.#calls] : this.#calls.filter((c) => c.method === method);
  }

  /** When `call` was recorded, as wall-clock epoch milliseconds (comparable with Date.now()). */
  wallTimeOf(call: PeerCall): number {
    return Date.now() - (performance.now() - this.#started - call.at);
  }

  /** Messages accepted (chat.postMessage and chat.postEphemeral), optionally in one channel. */
  messages(channel?: string): PeerMessage[] {
    return channel === undefined ? [...this.#messages] : this.#messages.filter((m) => m.channel === channel);
  }

  /** Files announced, uploaded and (when complete) shared. */
  files(): PeerFile[] {
    return [...this.#files.values()];
  }

  /** Resolves with the first call of `method` matching `predicate`, past or future; rejects after `timeoutMs`. */
  waitFor(
    method: string,
    predicate: (call: PeerCall) => boolean = () => true,
    timeoutMs = 3000,
  ): Promise<PeerCall> {
    const seen = this.#calls.find((c) => c.method === method && predicate(c));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const onCall = (call: PeerCall): void => {
        if (call.method !== method || !predicate(call)) return;
        clearTimeout(timer);
        this.#events.off('call', onCall);
        resolve(call);
      };
      const timer = setTimeout(() => {
        this.#events.off('call', onCall);
        const got = this.#calls.map(
          (c) => `${c.method}${c.response.ok === false ? `(${String(c.response.error)})` : ''}`,
        );
        reject(
          new Error(
            `slack peer: no matching ${method} within ${timeoutMs} ms; calls: ${got.join(', ') || 'none'}`,
          ),
        );
      }, timeoutMs);
      this.#events.on('call', onCall);
    });
  }

  /** Answers the next `times` calls of `method` with HTTP 429, `Retry-After` and `ratelimited`. */
  rateLimit(method: string, options: { times?: number; retryAfterSeconds?: number } = {}): void {
    this.#rateLimits.set(method, {
      times: options.times ?? 1,
      retryAfterSeconds: options.retryAfterSeconds ?? 1,
    });
  }

  /** Answers the next call(s) of `method` with `{ ok: false, error }`, e.g. `not_in_channel`. */
  failNext(method: string, error: string, times = 1): void {
    const queue = this.#failures.get(method) ?? [];
    for (let i = 0; i < times; i += 1) queue.push(error);
    this.#failures.set(method, queue);
  }

  /** Socket Mode connections currently open. */
  get socketCount(): number {
    return this.#sockets.size;
  }

  /**
   * Sends a Socket Mode envelope (`events_api`, `slash_commands`, `interactive`) to every open
   * connection, the way Slack does; resolves with its envelope id. The client's ack is recorded
   * as a `socket_ack` call with that `envelope_id`.
   */
  sendEnvelope(
    type: 'events_api' | 'slash_commands' | 'interactive',
    payload: Record<string, unknown>,
    options: { retryAttempt?: number; retryReason?: string } = {},
  ): string {
    const envelopeId = randomUUID();
    const message = JSON.stringify({
      envelope_id: envelopeId,
      type,
      payload,
      accepts_response_payload: type !== 'events_api',
      retry_attempt: options.retryAttempt ?? 0,
      retry_reason: options.retryReason ?? '',
    });
    if (this.#sockets.size === 0) throw new Error('slack peer: no Socket Mode connection is open');
    for (const socket of this.#sockets) socket.write(wsFrame(0x1, Buffer.from(message, 'utf8')));
    return envelopeId;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    this.#events.removeAllListeners();
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  // --- HTTP -------------------------------------------------------------------------------------

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.#url);
    const raw = await readAll(req);
    const [, kind, name] = url.pathname.split('/');
    if (req.method !== 'POST' || name === undefined)
      return this.#send(res, 404, { ok: false, error: 'not_found' });

    if (kind === 'response') {
      const args = parseJsonObject(raw.toString('utf8'));
      this.#record('response_url', { ...args, responseUrlId: name }, undefined, 200, { ok: true });
      return this.#send(res, 200, { ok: true });
    }
    if (kind === 'upload') return this.#upload(req, res, name, raw);
    if (kind !== 'api') return this.#send(res, 404, { ok: false, error: 'not_found' });

    const method = name;
    const args = await parseBody(req.headers['content-type'] ?? '', raw);
    const token =
      bearer(req.headers.authorization) ?? (typeof args.token === 'string' ? args.token : undefined);
    const limited = this.#rateLimits.get(method);
    if (limited !== undefined && limited.times > 0) {
      limited.times -= 1;
      const response = fail('ratelimited');
      this.#record(method, args, token, 429, response);
      return this.#send(res, 429, response, { 'retry-after': String(limited.retryAfterSeconds) });
    }
    let response: ApiResult;
    // apps.connections.open takes the app-level token; every other method the bot token.
    const expected = method === 'apps.connections.open' ? this.#appToken : this.#token;
    if (token === undefined) response = fail('not_authed');
    else if (token !== expected) response = fail('invalid_auth');
    else {
      const injected = this.#failures.get(method)?.shift();
      const handler = this.#methods[method];
      if (injected !== undefined) response = fail(injected);
      else if (handler === undefined) response = fail('unknown_method');
      else response = handler(args);
    }
    this.#record(method, args, token, 200, response);
    this.#send(res, 200, response);
  }

  async #upload(req: IncomingMessage, res: ServerResponse, fileId: string, raw: Buffer): Promise<void> {
    const file = this.#files.get(fileId);
    const contentType = req.headers['content-type'] ?? '';
    let bytes = raw;
    if (contentType.startsWith('multipart/form-data')) {
      const form = await new Request('http://peer/upload', {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: raw,
      }).formData();
      for (const value of form.values()) {
        if (typeof value !== 'string') bytes = Buffer.from(await value.arrayBuffer());
      }
    }
    const args = { fileId, bytes: bytes.length };
    if (file === undefined) {
      this.#record('upload', args, undefined, 404, { ok: false, error: 'file_not_found' });
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('file not found');
      return;
    }
    file.bytes = bytes;
    this.#record('upload', args, undefined, 200, { ok: true });
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`OK - ${bytes.length}`);
  }

  #record(
    method: string,
    args: Record<string, unknown>,
    token: string | undefined,
    status: number,
    response: ApiResult,
  ): void {
    const call: PeerCall = { method, args, token, at: performance.now() - this.#started, status, response };
    this.#calls.push(call);
    this.#events.emit('call', call);
  }

  #send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(text);
  }

  // --- Socket Mode (a minimal RFC 6455 server: text, ping/pong, close) ---------------------------

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', this.#url);
    const key = req.headers['sec-websocket-key'];
    if (url.pathname !== '/socket' || typeof key !== 'string') {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    this.#sockets.add(socket);
    this.#record('socket_connect', { ticket: url.searchParams.get('ticket') }, undefined, 101, { ok: true });
    let buffered = head;
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const frame = readFrame(buffered);
        if (frame === undefined) break;
        buffered = buffered.subarray(frame.size);
        if (frame.opcode === 0x1) {
          const args = parseJsonObject(frame.payload.toString('utf8'));
          this.#record('socket_ack', args, undefined, 200, { ok: true });
        } else if (frame.opcode === 0x9) {
          socket.write(wsFrame(0xa, frame.payload));
        } else if (frame.opcode === 0x8) {
          this.#record(
            'socket_close',
            { code: frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : undefined },
            undefined,
            200,
            { ok: true },
          );
          socket.end(wsFrame(0x8, frame.payload.subarray(0, 2)));
          this.#sockets.delete(socket);
        }
      }
    });
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => this.#sockets.delete(socket));
    socket.write(
      wsFrame(
        0x1,
        Buffer.from(
          JSON.stringify({
            type: 'hello',
            num_connections: this.#sockets.size,
            debug_info: { host: 'peer', approximate_connection_time: 3600 },
            connection_info: { app_id: 'A0001' },
          }),
          'utf8',
        ),
      ),
    );
  }

  // --- Web API methods ---------------------------------------------------------------------------

  #nextTs(): string {
    this.#sequence += 1;
    return `${1_700_000_000 + this.#sequence}.${String(this.#sequence).padStart(6, '0')}`;
  }

  /** Resolves a channel argument the way Slack does for a bot: a user id opens the DM with that user. */
  #postable(channel: unknown): { channel: PeerChannel } | { error: string } {
    if (typeof channel !== 'string' || channel === '') return { error: 'channel_not_found' };
    if (channel.startsWith('U') || channel.startsWith('W')) {
      if (!this.#users.has(channel)) return { error: 'user_not_found' };
      const id = `D${channel.slice(1)}`;
      if (!this.#channels.has(id))
        this.addChannel({ id, name: id, isIm: true, isMember: true, user: channel });
    }
    const found = this.#channels.get(
      channel.startsWith('U') || channel.startsWith('W') ? `D${channel.slice(1)}` : channel,
    );
    if (found === undefined) return { error: 'channel_not_found' };
    // A private channel the bot is not in is invisible to it; a public one just refuses posts.
    if (!found.isMember) return { error: found.isPrivate ? 'channel_not_found' : 'not_in_channel' };
    return { channel: found };
  }

  readonly #methods: Record<string, MethodHandler> = {
    'auth.test': () => ({
      ok: true,
      url: 'https://peer.slack.test/',
      team: 'Peer Team',
      user: 'wheelhouse',
      team_id: this.#options.teamId,
      user_id: this.#options.botUserId,
      bot_id: this.#options.botId,
      is_enterprise_install: false,
    }),

    'apps.connections.open': () => {
      this.#sequence += 1;
      return { ok: true, url: `${this.#url.replace('http://', 'ws://')}/socket?ticket=${this.#sequence}` };
    },

    'chat.postMessage': (args) => {
      const target = this.#postable(args.channel);
      if ('error' in target) return fail(target.error);
      const invalid = validateMessage(args);
      if (invalid) return invalid;
      const ts = this.#nextTs();
      const message: PeerMessage = {
        channel: target.channel.id,
        ts,
        threadTs: stringOrUndefined(args.thread_ts),
        text: stringOrUndefined(args.text),
        blocks: Array.isArray(args.blocks) ? args.blocks : undefined,
        ephemeralTo: undefined,
      };
      this.#messages.push(message);
      return {
        ok: true,
        channel: target.channel.id,
        ts,
        message: {
          type: 'message',
          user: this.#options.botUserId,
          bot_id: this.#options.botId,
          text: message.text ?? '',
          ts,
          ...(message.threadTs ? { thread_ts: message.threadTs } : {}),
          ...(message.blocks ? { blocks: message.blocks } : {}),
        },
      };
    },

    'chat.postEphemeral': (args) => {
      const target = this.#postable(args.channel);
      if ('error' in target) return fail(target.error);
      if (typeof args.user !== 'string' || !this.#users.has(args.user)) return fail('user_not_found');
      const invalid = validateMessage(args);
      if (invalid) return invalid;
      const ts = this.#nextTs();
      this.#messages.push({
        channel: target.channel.id,
        ts,
        threadTs: stringOrUndefined(args.thread_ts),
        text: stringOrUndefined(args.text),
        blocks: Array.isArray(args.blocks) ? args.blocks : undefined,
        ephemeralTo: args.user,
      });
      return { ok: true, message_ts: ts };
    },

    'chat.update': (args) => {
      const target = this.#postable(args.channel);
      if ('error' in target) return fail(target.error);
      const message = this.#messages.find(
        (m) => m.channel === target.channel.id && m.ts === args.ts && !m.ephemeralTo,
      );
      if (message === undefined) return fail('message_not_found');
      const invalid = validateMessage(args);
      if (invalid) return invalid;
      message.text = stringOrUndefined(args.text);
      message.blocks = Array.isArray(args.blocks) ? args.blocks : undefined;
      return { ok: true, channel: message.channel, ts: message.ts, text: message.text ?? '' };
    },

    'chat.getPermalink': (args) => {
      const channel = typeof args.channel === 'string' ? this.#channels.get(args.channel) : undefined;
      if (channel === undefined) return fail('channel_not_found');
      const message = this.#messages.find((m) => m.channel === channel.id && m.ts === args.message_ts);
      if (message === undefined) return fail('message_not_found');
      return {
        ok: true,
        channel: channel.id,
        permalink: `https://peer.slack.test/archives/${channel.id}/p${message.ts.replace('.', '')}`,
      };
    },

    'files.getUploadURLExternal': (args) => {
      const length = Number(args.length);
      if (
        typeof args.filename !== 'string' ||
        args.filename === '' ||
        !Number.isInteger(length) ||
        length < 0
      ) {
        return fail('invalid_arguments');
      }
      this.#sequence += 1;
      const id = `F${String(this.#sequence).padStart(8, '0')}`;
      this.#files.set(id, {
        id,
        filename: args.filename,
        length,
        bytes: undefined,
        title: undefined,
        channelId: undefined,
        threadTs: undefined,
        completed: false,
      });
      return { ok: true, upload_url: `${this.#url}/upload/${id}`, file_id: id };
    },

    'files.completeUploadExternal': (args) => {
      if (!Array.isArray(args.files) || args.files.length === 0) return fail('invalid_arguments');
      const channelId = stringOrUndefined(args.channel_id);
      if (channelId !== undefined) {
        const target = this.#postable(channelId);
        if ('error' in target) return fail(target.error);
      }
      const done: PeerFile[] = [];
      for (const entry of args.files) {
        const id = isRecord(entry) && typeof entry.id === 'string' ? entry.id : undefined;
        const file = id === undefined ? undefined : this.#files.get(id);
        if (file === undefined || file.bytes === undefined) return fail('file_not_found');
        if (file.bytes.length !== file.length) return fail('file_upload_size_mismatch');
        done.push(file);
        if (isRecord(entry) && typeof entry.title === 'string') file.title = entry.title;
      }
      for (const file of done) {
        file.completed = true;
        file.channelId = channelId;
        file.threadTs = stringOrUndefined(args.thread_ts);
      }
      return {
        ok: true,
        files: done.map((f) => ({
          id: f.id,
          name: f.filename,
          title: f.title ?? f.filename,
          size: f.length,
        })),
      };
    },

    'views.open': (args) => {
      if (typeof args.trigger_id !== 'string' || args.trigger_id === '') return fail('invalid_trigger_id');
      if (!isRecord(args.view) || args.view.type !== 'modal') return fail('invalid_arguments');
      const blocks = Array.isArray(args.view.blocks) ? args.view.blocks : [];
      if (blocks.length > 100)
        return fail('invalid_arguments', { errors: ['no more than 100 items allowed'] });
      const errors = validateModal(args.view, blocks);
      if (errors.length > 0) return fail('invalid_arguments', { errors });
      this.#sequence += 1;
      return { ok: true, view: { id: `V${String(this.#sequence).padStart(8, '0')}`, ...args.view } };
    },

    'users.info': (args) => {
      const user = typeof args.user === 'string' ? this.#users.get(args.user) : undefined;
      if (user === undefined) return fail('user_not_found');
      return {
        ok: true,
        user: {
          id: user.id,
          team_id: this.#options.teamId,
          name: user.name,
          real_name: user.realName ?? user.name,
          is_bot: false,
          deleted: false,
          profile: { real_name: user.realName ?? user.name, display_name: user.name, email: user.email },
        },
      };
    },

    'usergroups.users.list': (args) => {
      const users = typeof args.usergroup === 'string' ? this.#usergroups.get(args.usergroup) : undefined;
      if (users === undefined) return fail('no_such_subteam');
      return { ok: true, users };
    },

    'conversations.info': (args) => {
      const channel = typeof args.channel === 'string' ? this.#channels.get(args.channel) : undefined;
      if (channel === undefined || (channel.isPrivate && !channel.isMember)) return fail('channel_not_found');
      return {
        ok: true,
        channel: {
          id: channel.id,
          name: channel.name,
          is_channel: !channel.isIm && !channel.isPrivate,
          is_group: channel.isPrivate,
          is_im: channel.isIm,
          is_private: channel.isPrivate,
          is_member: channel.isMember,
          ...(channel.user ? { user: channel.user } : {}),
        },
      };
    },
  };
}

/**
 * Slack's checks on a message body: something to show, at most 50 blocks, section text ≤ 3,000,
 * ≤ 10 fields of ≤ 2,000, ≤ 10 context elements, and a cumulative size Slack enforces around
 * 13,000 characters (`msg_blocks_too_long`).
 */
export function validateMessage(args: Record<string, unknown>): ApiResult | undefined {
  const text = typeof args.text === 'string' ? args.text : '';
  const blocks = args.blocks;
  if (blocks !== undefined && !Array.isArray(blocks)) return fail('invalid_blocks_format');
  const hasBlocks = Array.isArray(blocks) && blocks.length > 0;
  if (text === '' && !hasBlocks && args.attachments === undefined) return fail('no_text');
  if (text.length > 40_000) return fail('msg_too_long');
  if (!Array.isArray(blocks)) return undefined;
  const errors: string[] = [];
  if (blocks.length > 50) errors.push('no more than 50 items allowed [json-pointer:/blocks]');
  let total = 0;
  const blockIds = new Set<string>();
  blocks.forEach((block, i) => {
    const at = `[json-pointer:/blocks/${i}`;
    if (!isRecord(block) || typeof block.type !== 'string') {
      errors.push(`missing required field: type ${at}]`);
      return;
    }
    if (block.type === 'section') {
      const sectionText =
        isRecord(block.text) && typeof block.text.text === 'string' ? block.text.text : undefined;
      const fields = Array.isArray(block.fields) ? block.fields : undefined;
      if (sectionText === undefined && fields === undefined)
        errors.push(`must provide text or fields ${at}]`);
      if (sectionText !== undefined) {
        total += sectionText.length;
        if (sectionText.length === 0) errors.push(`must be more than 0 characters ${at}/text/text]`);
        if (sectionText.length > 3000) errors.push(`must be less than 3001 characters ${at}/text/text]`);
      }
      if (fields !== undefined) {
        if (fields.length > 10) errors.push(`no more than 10 items allowed ${at}/fields]`);
        fields.forEach((f, j) => {
          const t = isRecord(f) && typeof f.text === 'string' ? f.text : '';
          total += t.length;
          if (t.length > 2000) errors.push(`must be less than 2001 characters ${at}/fields/${j}/text]`);
        });
      }
    } else if (block.type === 'context') {
      const elements = Array.isArray(block.elements) ? block.elements : [];
      if (elements.length === 0 || elements.length > 10)
        errors.push(`must have 1 to 10 elements ${at}/elements]`);
      for (const e of elements) total += isRecord(e) && typeof e.text === 'string' ? e.text.length : 0;
    } else if (block.type === 'actions') {
      errors.push(...validateActions(block, at));
    }
    if (typeof block.block_id === 'string') {
      if (block.block_id.length > 255) errors.push(`must be less than 256 characters ${at}/block_id]`);
      if (blockIds.has(block.block_id)) errors.push(`duplicate block_id ${at}/block_id]`);
      blockIds.add(block.block_id);
    }
  });
  if (errors.length > 0) return fail('invalid_blocks', { errors });
  if (total > 12_000) return fail('msg_blocks_too_long');
  return undefined;
}

/**
 * Slack's checks on an actions block of buttons: 1 to 25 elements, action ids unique within the
 * block (≤ 255), plain_text labels of 1 to 75 characters, values ≤ 2,000, style primary or danger.
 */
function validateActions(block: Record<string, unknown>, at: string): string[] {
  const errors: string[] = [];
  const elements = Array.isArray(block.elements) ? block.elements : [];
  if (elements.length === 0 || elements.length > 25)
    errors.push(`must have 1 to 25 elements ${at}/elements]`);
  const actionIds = new Set<string>();
  elements.forEach((e, j) => {
    const where = `${at}/elements/${j}`;
    if (!isRecord(e) || e.type !== 'button') {
      errors.push(`unsupported element ${where}/type]`);
      return;
    }
    if (typeof e.action_id !== 'string' || e.action_id === '' || e.action_id.length > 255)
      errors.push(`invalid action_id ${where}/action_id]`);
    else if (actionIds.has(e.action_id)) errors.push(`duplicate action_id ${where}/action_id]`);
    else actionIds.add(e.action_id);
    const label = isRecord(e.text) && e.text.type === 'plain_text' ? e.text.text : undefined;
    if (typeof label !== 'string' || label.length === 0 || label.length > 75)
      errors.push(`must be 1 to 75 characters of plain_text ${where}/text]`);
    if (e.value !== undefined && (typeof e.value !== 'string' || e.value.length > 2000))
      errors.push(`must be less than 2001 characters ${where}/value]`);
    if (e.style !== undefined && e.style !== 'primary' && e.style !== 'danger')
      errors.push(`must be primary or danger ${where}/style]`);
  });
  return errors;
}

/**
 * Slack's checks on a modal: a plain_text title of at most 24 characters, a submit button when it
 * has input blocks, private_metadata ≤ 3,000 and callback_id ≤ 255 characters, input blocks with
 * a label and an element.
 */
export function validateModal(view: Record<string, unknown>, blocks: unknown[]): string[] {
  const errors: string[] = [];
  const plain = (value: unknown, max: number): boolean =>
    isRecord(value) &&
    value.type === 'plain_text' &&
    typeof value.text === 'string' &&
    value.text.length > 0 &&
    value.text.length <= max;
  if (!plain(view.title, 24))
    errors.push('title must be 1 to 24 characters of plain_text [json-pointer:/view/title]');
  const inputs = blocks.filter((b) => isRecord(b) && b.type === 'input');
  if (inputs.length > 0 && !plain(view.submit, 24))
    errors.push('a view with input blocks needs a submit button [json-pointer:/view/submit]');
  if (typeof view.private_metadata === 'string' && view.private_metadata.length > 3000)
    errors.push('must be less than 3001 characters [json-pointer:/view/private_metadata]');
  if (typeof view.callback_id === 'string' && view.callback_id.length > 255)
    errors.push('must be less than 256 characters [json-pointer:/view/callback_id]');
  for (const input of inputs) {
    if (!isRecord(input) || !plain(input.label, 2000) || !isRecord(input.element))
      errors.push('input blocks need a plain_text label and an element [json-pointer:/view/blocks]');
  }
  return errors;
}

/** One unfragmented, unmasked server frame. */
function wsFrame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const header =
    length < 126
      ? Buffer.from([0x80 | opcode, length])
      : length < 65_536
        ? Buffer.from([0x80 | opcode, 126, length >> 8, length & 0xff])
        : Buffer.concat([Buffer.from([0x80 | opcode, 127]), bigEndian64(length)]);
  return Buffer.concat([header, payload]);
}

function bigEndian64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

/** Reads one (masked, client) frame from the start of `data`, or undefined when it is incomplete. */
function readFrame(data: Buffer): { opcode: number; payload: Buffer; size: number } | undefined {
  if (data.length < 2) return undefined;
  const first = data[0] ?? 0;
  const second = data[1] ?? 0;
  let length = second & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (data.length < 4) return undefined;
    length = data.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (data.length < 10) return undefined;
    length = Number(data.readBigUInt64BE(2));
    offset = 10;
  }
  const masked = (second & 0x80) !== 0;
  const maskAt = offset;
  if (masked) offset += 4;
  if (data.length < offset + length) return undefined;
  const payload = Buffer.from(data.subarray(offset, offset + length));
  if (masked)
    for (let i = 0; i < payload.length; i += 1)
      payload[i] = (payload[i] ?? 0) ^ (data[maskAt + (i % 4)] ?? 0);
  return { opcode: first & 0x0f, payload, size: offset + length };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  return match?.[1];
}

function parseJsonObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : { value };
  } catch {
    return { raw: text };
  }
}

/** Form-encoded (what @slack/web-api sends, with objects as JSON strings), JSON, or multipart bodies. */
async function parseBody(contentType: string, raw: Buffer): Promise<Record<string, unknown>> {
  if (contentType.startsWith('application/json')) return parseJsonObject(raw.toString('utf8'));
  if (contentType.startsWith('multipart/form-data')) {
    const form = await new Request('http://peer/api', {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: raw,
    }).formData();
    const out: Record<string, unknown> = {};
    for (const [key, value] of form.entries())
      out[key] = typeof value === 'string' ? value : `<file ${value.size} bytes>`;
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(raw.toString('utf8'))) {
    out[key] = JSON_FIELDS.has(key) ? parseJsonValue(value) : value;
  }
  return out;
}

function parseJsonValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks);
}
