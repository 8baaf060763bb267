import OpenAI, { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import type {
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions/completions';

/** A tool call as the model sent it: arguments are JSON text, not yet trusted. */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** The Chat Completions messages the planner sends (the wire format, narrowed). */
export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string | null; toolCalls?: ToolCall[] | undefined }
  | { role: 'tool'; toolCallId: string; content: string };

/** A function the model may call, with a JSON Schema for its arguments. */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export interface ChatResponse {
  content: string | null;
  toolCalls: ToolCall[];
  usage: { promptTokens: number; completionTokens: number };
  model: string;
}

/** Why a model call failed, in words for the user; `retryable` ones open the circuit for a while. */
export class ModelUnavailableError extends Error {
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean, cause?: unknown) {
    super(message, { cause });
    this.name = 'ModelUnavailableError';
    this.retryable = retryable;
  }
}

/** One chat completion. Implementations throw ModelUnavailableError for every failure. */
export interface ChatModel {
  readonly model: string;
  complete(
    request: { messages: ChatMessage[]; tools: ToolSpec[] },
    options: { signal: AbortSignal; timeoutMs: number },
  ): Promise<ChatResponse>;
}

export interface OpenAiChatModelOptions {
  baseUrl: string;
  model: string;
  apiKey?: string | undefined;
}

/**
 * The planner's model over any OpenAI-compatible Chat Completions endpoint (OpenAI, vLLM, Ollama,
 * LiteLLM …) through the `openai` SDK. Retries are off: the planner's budget decides, and a slow
 * endpoint must not hold chat for the SDK's default 10 minutes.
 */
export class OpenAiChatModel implements ChatModel {
  readonly model: string;
  readonly #client: OpenAI;

  constructor(options: OpenAiChatModelOptions) {
    this.model = options.model;
    this.#client = new OpenAI({
      baseURL: options.baseUrl,
      // Local servers take no key, but the SDK insists on one.
      apiKey: options.apiKey ?? 'none',
      maxRetries: 0,
      timeout: 60_000,
    });
  }

  async complete(
    request: { messages: ChatMessage[]; tools: ToolSpec[] },
    options: { signal: AbortSignal; timeoutMs: number },
  ): Promise<ChatResponse> {
    const tools: ChatCompletionTool[] = request.tools.map((t) => ({
      type: 'function',
      function: { name: t.name, description: t.description, parameters: t.parameters },
    }));
    try {
      const completion = await this.#client.chat.completions.create(
        {
          model: this.model,
          messages: request.messages.map(toWire),
          tools,
          tool_choice: 'auto',
          temperature: 0,
        },
        { signal: options.signal, timeout: options.timeoutMs, maxRetries: 0 },
      );
      const message = completion.choices[0]?.message;
      if (!message) throw new ModelUnavailableError('the model endpoint answered without a choice', false);
      const toolCalls: ToolCall[] = [];
      for (const call of message.tool_calls ?? []) {
        if (call.type === 'function') {
          toolCalls.push({ id: call.id, name: call.function.name, arguments: call.function.arguments });
        }
      }
      return {
        content: message.content,
        toolCalls,
        usage: {
          promptTokens: completion.usage?.prompt_tokens ?? 0,
          completionTokens: completion.usage?.completion_tokens ?? 0,
        },
        model: completion.model || this.model,
      };
    } catch (e) {
      throw unavailable(e, options.timeoutMs);
    }
  }
}

function toWire(message: ChatMessage): ChatCompletionMessageParam {
  switch (message.role) {
    case 'system':
    case 'user':
      return { role: message.role, content: message.content };
    case 'assistant':
      return {
        role: 'assistant',
        content: message.content,
        ...(message.toolCalls?.length
          ? {
              tool_calls: message.toolCalls.map((c) => ({
                id: c.id,
                type: 'function' as const,
                function: { name: c.name, arguments: c.arguments },
              })),
            }
          : {}),
      };
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
  }
}

function unavailable(e: unknown, timeoutMs: number): ModelUnavailableError {
  if (e instanceof ModelUnavailableError) return e;
  if (e instanceof APIUserAbortError) {
    return new ModelUnavailableError('the request was cancelled while the model was thinking', false, e);
  }
  if (e instanceof APIConnectionError) {
    const timedOut = /timed? ?out/i.test(e.message) || e.constructor.name === 'APIConnectionTimeoutError';
    return new ModelUnavailableError(
      timedOut
        ? `the language model did not answer within ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`}`
        : 'the language model endpoint cannot be reached',
      true,
      e,
    );
  }
  if (e instanceof APIError) {
    const status = e.status ?? 0;
    if (status === 401 || status === 403) {
      return new ModelUnavailableError(
        `the language model endpoint refused Wheelhouse's key (HTTP ${status})`,
        true,
        e,
      );
    }
    if (status === 429) return new ModelUnavailableError('the language model is rate-limiting us', true, e);
    if (status >= 500) {
      return new ModelUnavailableError(`the language model endpoint failed (HTTP ${status})`, true, e);
    }
    return new ModelUnavailableError(
      `the language model endpoint rejected the request (HTTP ${status})`,
      false,
      e,
    );
  }
  return new ModelUnavailableError(`the language model call failed: ${String(e)}`, true, e);
}
