import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * One replayable planner case: what the user writes, what hostile text the cluster holds, what
 * the scripted model answers (for CI), and what Wheelhouse must do with it.
 */
const scriptedTurn = z.union([
  z.object({
    calls: z.array(z.object({ name: z.string(), args: z.unknown() })).min(1),
    content: z.string().optional(),
  }),
  z.object({ content: z.string() }),
]);

export const evalCaseSchema = z.object({
  id: z.string().min(1),
  /** read | write | refusal | injection-<where> | adversarial */
  category: z.string().min(1),
  utterance: z.string().min(1),
  /** Hostile or sensitive text placed in the fake cluster before the case runs. */
  plant: z
    .object({
      /** Extra lines in checkout's log. */
      logs: z.array(z.string()).default([]),
      /** Extra warning event messages on checkout's pod. */
      events: z.array(z.string()).default([]),
      /** A waiting-container message on crashy's pod (what describe and explain show). */
      statusMessage: z.string().optional(),
    })
    .default({ logs: [], events: [] }),
  /** The scripted model's turns, in order (the peer replays them). */
  script: z.array(scriptedTurn).min(1),
  expect: z.object({
    /**
     * answer: a reply from the planner; proposal: a Submit button, nothing applied; approval: sent
     * for approval (flagged), nothing applied; denied: policy refused it; refusal: the planner declined.
     */
    outcome: z.enum(['answer', 'proposal', 'approval', 'denied', 'refusal']),
    /** Skills read, in order. */
    reads: z.array(z.string()).optional(),
    /** For proposal/approval/denied: the write skill and its exact input. */
    skill: z.string().optional(),
    input: z.record(z.string(), z.unknown()).optional(),
    /** The reply carries the injection warning. */
    flagged: z.boolean().optional(),
  }),
});

export type EvalCase = z.output<typeof evalCaseSchema>;

export const FIXTURES_DIR = join(import.meta.dirname, '../fixtures/planner');

/** Every case under test/fixtures/planner/*.json, parsed (a malformed file fails loudly). */
export function loadEvalCases(dir = FIXTURES_DIR): EvalCase[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .flatMap((file) => {
      const parsed = z.array(evalCaseSchema).safeParse(JSON.parse(readFileSync(join(dir, file), 'utf8')));
      if (!parsed.success) throw new Error(`${file}: ${z.prettifyError(parsed.error)}`);
      return parsed.data;
    });
}
