import type { Config } from '../config/schema.ts';
import type { SkillRegistry } from '../skills/registry.ts';
import type { RunStore } from '../store/run-store.ts';
import { OpenAiChatModel } from './chat-model.ts';
import { ConversationMemory } from './conversation-memory.ts';
import { createLlmPlanner, type LlmUsage, type Planner, type PlannerOutcome } from './llm-planner.ts';
import { createModelInputCleaner } from './model-input.ts';

export interface PlannerWiring {
  registry: SkillRegistry;
  /** The chat redactor; PII patterns from `llm.piiPatterns` are added for the model only. */
  redact: (text: string) => string;
  runs: RunStore;
  observe?: ((usage: LlmUsage, outcome: PlannerOutcome['kind']) => void) | undefined;
}

/**
 * The planner the `llm` config asks for, or why there is none (told to users who write free text).
 */
export function plannerFromConfig(
  llm: Config['llm'],
  wiring: PlannerWiring,
): { planner: Planner | undefined; plannerMissing: string | undefined } {
  if (!llm.baseUrl || !llm.model) {
    const missing = [!llm.baseUrl && 'WH_LLM_BASE_URL', !llm.model && 'WH_LLM_MODEL'].filter(Boolean);
    return {
      planner: undefined,
      plannerMissing: `no language model is configured (${missing.join(', ')} unset)`,
    };
  }
  const planner = createLlmPlanner({
    registry: wiring.registry,
    model: new OpenAiChatModel({ baseUrl: llm.baseUrl, model: llm.model, apiKey: llm.apiKey }),
    budget: {
      maxSteps: llm.maxSteps,
      maxTokens: llm.maxTokens,
      maxMs: llm.maxSeconds * 1000,
      callTimeoutMs: llm.requestTimeoutMs,
    },
    clean: createModelInputCleaner(
      wiring.redact,
      llm.piiPatterns.map((p) => new RegExp(p, 'g')),
    ),
    maxToolOutputChars: llm.maxToolOutputChars,
    pricing: llm.pricing,
    memory: new ConversationMemory(wiring.runs, llm.memoryTurns),
    observe: wiring.observe,
  });
  return { planner, plannerMissing: undefined };
}
