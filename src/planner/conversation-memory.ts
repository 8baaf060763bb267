import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Actor } from '../skills/context.ts';
import type { RunStore } from '../store/run-store.ts';

/** The runs-table kind that holds what was said in a thread. */
export const CONVERSATION_KIND = 'conversation';

const turnSchema = z.object({
  role: z.enum(['user', 'assistant']),
  /** Already cleaned (secrets, PII) before it was stored. */
  text: z.string(),
  /** Skill steps the assistant took for this turn, e.g. "workload-explain {…}". */
  steps: z.array(z.string()).default([]),
  /** The turn read content that tried to instruct the model. */
  tainted: z.boolean().default(false),
  at: z.string(),
});

/** One turn of a conversation as the planner remembers it. */
export type Turn = z.output<typeof turnSchema>;

const stateSchema = z.object({ turns: z.array(turnSchema) });

/**
 * What was said in a chat thread, in the store (runs table, kind `conversation`) so that
 * "and its logs?" works after a restart or on another replica. Keyed by surface, channel and
 * thread; a message outside a thread (a slash command) is remembered per user in that channel.
 */
export class ConversationMemory {
  readonly #runs: RunStore;
  readonly #maxTurns: number;

  constructor(runs: RunStore, maxTurns: number) {
    this.#runs = runs;
    this.#maxTurns = maxTurns;
  }

  static keyOf(actor: Actor): string {
    const where = actor.thread ?? `user:${actor.id}`;
    return `${actor.surface}:${actor.channel ?? 'direct'}:${where}`;
  }

  /** The remembered turns, oldest first; a record that no longer parses is treated as empty. */
  async load(actor: Actor): Promise<Turn[]> {
    if (this.#maxTurns === 0) return [];
    const run = await this.#runs.byKey(CONVERSATION_KIND, ConversationMemory.keyOf(actor));
    const parsed = stateSchema.safeParse(run?.state);
    return parsed.success ? parsed.data.turns.slice(-this.#maxTurns) : [];
  }

  /** Appends turns, keeping the newest; compare-and-set, retried when another replica wrote first. */
  async append(actor: Actor, turns: readonly Turn[], now: Date): Promise<void> {
    if (this.#maxTurns === 0 || turns.length === 0) return;
    const key = ConversationMemory.keyOf(actor);
    for (let attempt = 0; attempt < 5; attempt++) {
      const run = await this.#runs.byKey(CONVERSATION_KIND, key);
      if (!run) {
        const created = await this.#runs.create(
          {
            id: randomUUID(),
            kind: CONVERSATION_KIND,
            key,
            status: 'active',
            state: { turns: turns.slice(-this.#maxTurns) },
          },
          now,
        );
        if (created) return;
        continue;
      }
      const parsed = stateSchema.safeParse(run.state);
      const before = parsed.success ? parsed.data.turns : [];
      const next = { turns: [...before, ...turns].slice(-this.#maxTurns) };
      if (await this.#runs.update(run.id, run.version, { state: next }, now)) return;
    }
    throw new Error(`conversation ${key} changed five times while being saved`);
  }
}
