import {
  type ChatMessage,
  type ChatModel,
  type ChatResponse,
  ModelUnavailableError,
  type ToolSpec,
} from '../../src/planner/chat-model.ts';

/** A scripted turn of the fake model: tool calls (arguments as objects), text, or a failure. */
export type ModelTurn =
  | { calls: Array<{ name: string; args: unknown }>; content?: string; tokens?: number }
  | { content: string; tokens?: number }
  | { fail: string; retryable?: boolean };

/**
 * A ChatModel for unit tests: answers with `turns` in order and records what it was sent, so a test
 * reads as a conversation. The wire format itself is tested against the OpenAI peer.
 */
export class ScriptedModel implements ChatModel {
  readonly model = 'scripted-model';
  readonly sent: Array<{ messages: ChatMessage[]; tools: ToolSpec[] }> = [];
  readonly #turns: ModelTurn[];
  #calls = 0;

  constructor(turns: ModelTurn[]) {
    this.#turns = turns;
  }

  async complete(request: { messages: ChatMessage[]; tools: ToolSpec[] }): Promise<ChatResponse> {
    this.sent.push({ messages: [...request.messages], tools: request.tools });
    const turn = this.#turns[this.sent.length - 1];
    if (!turn) throw new Error(`the script has only ${this.#turns.length} turns`);
    if ('fail' in turn) throw new ModelUnavailableError(turn.fail, turn.retryable ?? true);
    const tokens = turn.tokens ?? 100;
    const toolCalls =
      'calls' in turn
        ? turn.calls.map((c) => ({
            id: `call-${++this.#calls}`,
            name: c.name,
            arguments: typeof c.args === 'string' ? c.args : JSON.stringify(c.args),
          }))
        : [];
    return {
      content: turn.content ?? null,
      toolCalls,
      usage: { promptTokens: tokens, completionTokens: Math.round(tokens / 10) },
      model: this.model,
    };
  }

  /** Every message sent in the last request, as text, for assertions on what the model saw. */
  lastPrompt(): string {
    return (this.sent.at(-1)?.messages ?? []).map((m) => `${m.role}: ${m.content ?? ''}`).join('\n');
  }
}
