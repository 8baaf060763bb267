import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { z } from 'zod';

/**
 * A local server that speaks the OpenAI Chat Completions wire format (what vLLM, Ollama and
 * LiteLLM also speak): `POST …/chat/completions` with tools and tool calls, usage, error bodies,
 * and `stream: true` as server-sent events. Its answers are scripted per test; every request is
 * recorded, so a test can check what Wheelhouse sent to the model. Loopback only, free port.
 */

/** A tool call the scripted model makes; `arguments` is sent as JSON text (a string is sent as is). */
export interface ScriptedToolCall {
  name: string;
  arguments: unknown;
}

/** One scripted answer of the model. */
export type ScriptedReply =
  | { content?: string; toolCalls?: ScriptedToolCall[]; usage?: { prompt: number; completion: number } }
  /** An HTTP error with OpenAI's error body. */
  | { status: number; message: string }
  /** Answers nothing for this long (the client's timeout should fire first). */
  | { hangMs: number };

/** What the peer received, parsed. */
export interface PeerChatRequest {
  path: string;
  authorization: string | undefined;
  model: string;
  messages: WireMessage[];
  tools: WireTool[];
  stream: boolean;
  body: Record<string, unknown>;
}

const wireToolCall = z.object({
  id: z.string().min(1),
  type: z.literal('function'),
  function: z.object({ name: z.string(), arguments: z.string() }),
});

const wireMessage = z.discriminatedUnion('role', [
  z.object({ role: z.literal('system'), content: z.string() }),
  z.object({ role: z.literal('developer'), content: z.string() }),
  z.object({ role: z.literal('user'), content: z.string() }),
  z.object({
    role: z.literal('assistant'),
    content: z.string().nullable().optional(),
    tool_calls: z.array(wireToolCall).optional(),
  }),
  z.object({ role: z.literal('tool'), tool_call_id: z.string().min(1), content: z.string() }),
]);
export type WireMessage = z.output<typeof wireMessage>;

const wireTool = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'function names are 1-64 of a-z A-Z 0-9 _ -'),
    description: z.string().optional(),
    parameters: z.object({ type: z.literal('object') }).loose(),
  }),
});
export type WireTool = z.output<typeof wireTool>;

const requestBody = z
  .object({
    model: z.string().min(1),
    messages: z.array(wireMessage).min(1),
    tools: z.array(wireTool).optional(),
    tool_choice: z.unknown().optional(),
    stream: z.boolean().optional(),
  })
  .loose();

/** Decides the reply to each request; `index` counts requests since the script was set. */
export type Script = (request: PeerChatRequest, index: number) => ScriptedReply;

/** A script that answers with `replies` in order, then fails loudly. */
export function inOrder(replies: readonly ScriptedReply[]): Script {
  return (_request, index) =>
    replies[index] ?? { status: 500, message: `the script has only ${replies.length} replies` };
}

export interface OpenAiPeerOptions {
  script?: Script;
  /** A key the peer insists on (401 otherwise). */
  apiKey?: string;
}

export class OpenAiPeer {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #requests: PeerChatRequest[] = [];
  readonly #apiKey: string | undefined;
  #script: Script;
  #index = 0;
  #port = 0;

  private constructor(server: Server, options: OpenAiPeerOptions) {
    this.#server = server;
    this.#apiKey = options.apiKey;
    this.#script = options.script ?? inOrder([]);
  }

  static async start(options: OpenAiPeerOptions = {}): Promise<OpenAiPeer> {
    let peer: OpenAiPeer | undefined;
    const server = createServer((req, res) => {
      peer?.handle(req, res).catch((e: unknown) => {
        if (!res.headersSent) sendError(res, 500, String(e));
      });
    });
    peer = new OpenAiPeer(server, options);
    const started = peer;
    server.on('connection', (socket) => {
      started.#sockets.add(socket);
      socket.on('close', () => started.#sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    peer.#port = (server.address() as AddressInfo).port;
    return peer;
  }

  /** The base URL to configure, like https://api.openai.com/v1. */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.#port}/v1`;
  }

  /** Replaces the script and restarts its request count. */
  setScript(script: Script): void {
    this.#script = script;
    this.#index = 0;
  }

  requests(): PeerChatRequest[] {
    return [...this.#requests];
  }

  clearRequests(): void {
    this.#requests.length = 0;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://peer').pathname;
    if (req.method === 'GET' && path.endsWith('/models')) {
      sendJson(res, 200, { object: 'list', data: [{ id: 'scripted', object: 'model', owned_by: 'peer' }] });
      return;
    }
    if (req.method !== 'POST' || !path.endsWith('/chat/completions')) {
      sendError(res, 404, `no route ${req.method} ${path}`);
      return;
    }
    const authorization = req.headers.authorization;
    if (this.#apiKey && authorization !== `Bearer ${this.#apiKey}`) {
      sendError(res, 401, 'Incorrect API key provided.', 'invalid_api_key');
      return;
    }
    const raw = await readBody(req);
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      sendError(res, 400, 'We could not parse the JSON body of your request.');
      return;
    }
    const parsed = requestBody.safeParse(json);
    if (!parsed.success) {
      sendError(res, 400, `Invalid request: ${z.prettifyError(parsed.error)}`);
      return;
    }
    const orphan = orphanToolMessage(parsed.data.messages);
    if (orphan) {
      sendError(res, 400, orphan);
      return;
    }
    const request: PeerChatRequest = {
      path,
      authorization,
      model: parsed.data.model,
      messages: parsed.data.messages,
      tools: parsed.data.tools ?? [],
      stream: parsed.data.stream ?? false,
      body: parsed.data,
    };
    this.#requests.push(request);
    const reply = this.#script(request, this.#index++);
    if ('hangMs' in reply) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, reply.hangMs);
        res.on('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (!res.writableEnded && !res.destroyed) sendError(res, 504, 'scripted hang ended');
      return;
    }
    if ('status' in reply) {
      sendError(res, reply.status, reply.message);
      return;
    }
    const toolCalls = (reply.toolCalls ?? []).map((c) => ({
      id: `call_${randomUUID().replaceAll('-', '').slice(0, 24)}`,
      type: 'function' as const,
      function: {
        name: c.name,
        arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments),
      },
    }));
    const usage = reply.usage ?? {
      prompt: estimateTokens(raw),
      completion: estimateTokens(JSON.stringify(reply)),
    };
    const id = `chatcmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const finish = toolCalls.length ? 'tool_calls' : 'stop';
    const usageBody = {
      prompt_tokens: usage.prompt,
      completion_tokens: usage.completion,
      total_tokens: usage.prompt + usage.completion,
    };
    if (request.stream) {
      streamReply(res, {
        id,
        created,
        model: request.model,
        content: reply.content ?? null,
        toolCalls,
        finish,
        usage: usageBody,
      });
      return;
    }
    sendJson(res, 200, {
      id,
      object: 'chat.completion',
      created,
      model: request.model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: reply.content ?? null,
            ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
            refusal: null,
          },
          finish_reason: finish,
          logprobs: null,
        },
      ],
      usage: usageBody,
    });
  }
}

/** OpenAI refuses a tool message that answers no tool call of the assistant message before it. */
function orphanToolMessage(messages: readonly WireMessage[]): string | undefined {
  const open = new Set<string>();
  for (const message of messages) {
    if (message.role === 'assistant') {
      open.clear();
      for (const call of message.tool_calls ?? []) open.add(call.id);
    } else if (message.role === 'tool') {
      if (!open.has(message.tool_call_id)) {
        return `Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls' (${message.tool_call_id}).`;
      }
    }
  }
  return undefined;
}

function streamReply(
  res: ServerResponse,
  r: {
    id: string;
    created: number;
    model: string;
    content: string | null;
    toolCalls: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }>;
    finish: string;
    usage: Record<string, number>;
  },
): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const chunk = (
    delta: Record<string, unknown>,
    finish: string | null,
    extra: Record<string, unknown> = {},
  ) =>
    res.write(
      `data: ${JSON.stringify({ id: r.id, object: 'chat.completion.chunk', created: r.created, model: r.model, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`,
    );
  chunk({ role: 'assistant', content: '' }, null);
  for (const piece of (r.content ?? '').match(/[\s\S]{1,16}/g) ?? []) chunk({ content: piece }, null);
  r.toolCalls.forEach((call, index) => {
    chunk(
      {
        tool_calls: [
          { index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } },
        ],
      },
      null,
    );
    for (const piece of call.function.arguments.match(/[\s\S]{1,16}/g) ?? []) {
      chunk({ tool_calls: [{ index, function: { arguments: piece } }] }, null);
    }
  });
  chunk({}, r.finish, { usage: r.usage });
  res.end('data: [DONE]\n\n');
}

/** Roughly what a tokenizer would count: a token per four characters. */
function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, message: string, code: string | null = null): void {
  sendJson(res, status, {
    error: { message, type: status >= 500 ? 'server_error' : 'invalid_request_error', param: null, code },
  });
}
