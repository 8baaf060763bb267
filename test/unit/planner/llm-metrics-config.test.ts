import { describe, expect, it } from 'vitest';
import { describeConfig, loadConfig } from '../../../src/config/load-config.ts';
import { plannerFromConfig } from '../../../src/planner/planner-from-config.ts';
import { SkillRegistry } from '../../../src/skills/registry.ts';
import { SqliteStore } from '../../../src/store/sqlite-store.ts';
import { createMetrics } from '../../../src/telemetry/metrics.ts';

describe('llm configuration', () => {
  it('maps WH_LLM_* onto llm.*, hides the key, and builds a planner only with a base URL and a model', () => {
    const { config } = loadConfig({
      env: {
        HOME: '/home/test',
        WH_LLM_BASE_URL: 'http://127.0.0.1:11434/v1',
        WH_LLM_MODEL: 'llama3.1:8b',
        WH_LLM_API_KEY: 'sk-very-secret',
        WH_LLM_MAX_STEPS: '4',
        WH_LLM_TIMEOUT_MS: '15000',
      },
    });
    expect(config.llm).toMatchObject({
      baseUrl: 'http://127.0.0.1:11434/v1',
      model: 'llama3.1:8b',
      maxSteps: 4,
      requestTimeoutMs: 15_000,
      maxTokens: 32_000,
      maxSeconds: 60,
    });
    const printed = describeConfig(config).join('\n');
    expect(printed).toContain('llm.apiKey = (set, hidden)');
    expect(printed).not.toContain('sk-very-secret');
    const store = new SqliteStore(':memory:');
    const wiring = { registry: new SkillRegistry([]), redact: (t: string) => t, runs: store.runs };
    expect(plannerFromConfig(config.llm, wiring).planner).toBeDefined();
    const none = plannerFromConfig(loadConfig({ env: { HOME: '/h' } }).config.llm, wiring);
    expect(none).toEqual({
      planner: undefined,
      plannerMissing: 'no language model is configured (WH_LLM_BASE_URL, WH_LLM_MODEL unset)',
    });
  });
});

describe('llm metrics', () => {
  it('counts tokens, cost, requests and latency per model', async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.observeLlm(
      {
        model: 'gpt-x',
        calls: 2,
        promptTokens: 1200,
        completionTokens: 80,
        costUsd: 0.0031,
        latencyMs: 2500,
      },
      'answer',
    );
    const text = await metrics.registry.metrics();
    expect(text).toContain('wheelhouse_llm_requests_total{model="gpt-x",outcome="answer"} 1');
    expect(text).toContain('wheelhouse_llm_tokens_total{model="gpt-x",kind="prompt"} 1200');
    expect(text).toContain('wheelhouse_llm_tokens_total{model="gpt-x",kind="completion"} 80');
    expect(text).toContain('wheelhouse_llm_cost_dollars_total{model="gpt-x"} 0.0031');
    expect(text).toContain('wheelhouse_llm_request_duration_seconds_sum{model="gpt-x"} 2.5');
  });
});
