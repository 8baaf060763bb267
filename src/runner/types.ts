import type { RolloutProgress } from '../changes/types.ts';
import type { WheelhouseError } from '../errors.ts';
import type { Actor } from '../skills/context.ts';
import type { SkillResult } from '../skills/result.ts';

/** A line of chat from any surface. */
export interface ChatRequest {
  text: string;
  actor: Actor;
  /** Given by the surface when it already has one (e.g. to dedupe retries); generated otherwise. */
  requestId?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Rollout progress of a change, for surfaces that update a message in place. */
  onProgress?: ((progress: RolloutProgress) => void) | undefined;
}

/** What the one road answers; renderers turn it into Block Kit or terminal text. */
export type Reply =
  | { ok: true; requestId: string; skill: string | undefined; durationMs: number; result: SkillResult }
  | { ok: false; requestId: string; skill: string | undefined; durationMs: number; error: WheelhouseError };

/** The entry point every surface calls. It never throws: failures come back as `ok: false`. */
export interface RequestHandler {
  handle(request: ChatRequest): Promise<Reply>;
}
