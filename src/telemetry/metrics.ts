import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ErrorCode } from '../errors.ts';
import type { Reply } from '../runner/types.ts';

/**
 * How a request ended, for alerting: `failure` is Wheelhouse's or a dependency's fault and is what an
 * SLO should count; `user_error` and `denied` are answers working as intended.
 */
export type RequestOutcome = 'ok' | 'user_error' | 'denied' | 'failure';

const OUTCOME_OF: Record<ErrorCode, RequestOutcome> = {
  GRAMMAR: 'user_error',
  UNKNOWN_SKILL: 'user_error',
  INVALID_INPUT: 'user_error',
  INVALID_QUERY: 'user_error',
  NOT_FOUND: 'user_error',
  FORBIDDEN: 'denied',
  POLICY_DENIED: 'denied',
  RATE_LIMITED: 'denied',
  CONFLICT: 'user_error',
  DRY_RUN_REJECTED: 'user_error',
  KUBE_UNREACHABLE: 'failure',
  SOURCE_NOT_CONFIGURED: 'failure',
  SOURCE_UNAVAILABLE: 'failure',
  SOURCE_TIMEOUT: 'failure',
  SOURCE_ERROR: 'failure',
  TIMEOUT: 'failure',
  AUDIT_UNAVAILABLE: 'failure',
  CONFIG: 'failure',
  INTERNAL: 'failure',
};

/** The outcome label a reply is counted under. */
export function outcomeOf(reply: Reply): RequestOutcome {
  return reply.ok ? 'ok' : OUTCOME_OF[reply.error.code];
}

/** Label used when a request failed before a skill was chosen (e.g. a typo). */
export const NO_SKILL = 'none';

/** Wheelhouse's Prometheus metrics, on a registry of their own (never prom-client's global one). */
export interface WheelhouseMetrics {
  readonly registry: Registry;
  /** Counts one answered request; the runner calls it once per reply. */
  observeReply(reply: Reply): void;
  /** Counts a chat delivery (e.g. a Slack API call that posts an answer) and how it went. */
  observeDelivery(surface: string, outcome: 'ok' | 'fallback' | 'failed'): void;
  /** Counts what the language model cost one free-text request (tokens, latency, dollars) and how it ended. */
  observeLlm(usage: LlmRequestUsage, outcome: string): void;
  /** Exports `wheelhouse_cluster_ready{cluster}`: 1 while the cluster's caches are synced. */
  watchClusters(clusters: ReadonlyArray<{ name: string; ready: () => boolean }>): void;
}

/** What one free-text request cost, as the planner reports it. */
export interface LlmRequestUsage {
  model: string;
  calls: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  latencyMs: number;
}

export interface MetricsOptions {
  /** Also collect Node's process metrics (CPU, memory, event loop lag, GC). @default true */
  processMetrics?: boolean | undefined;
  /** Labels added to every series, e.g. { replica: 'wheelhouse-0' }. */
  defaultLabels?: Record<string, string> | undefined;
}

/** Request duration buckets in seconds: cache reads answer in milliseconds, LLM analysis takes a minute. */
const DURATION_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** Creates the registry and the metrics Wheelhouse exports on `/metrics`. */
export function createMetrics(options: MetricsOptions = {}): WheelhouseMetrics {
  const registry = new Registry();
  if (options.defaultLabels) registry.setDefaultLabels(options.defaultLabels);
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'wheelhouse_requests_total',
    help: 'Chat requests answered, by skill and outcome (ok, user_error, denied, failure).',
    labelNames: ['skill', 'outcome'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'wheelhouse_request_duration_seconds',
    help: 'Time from request to reply, by skill.',
    labelNames: ['skill'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'wheelhouse_errors_total',
    help: 'Requests answered with an error, by skill and error code.',
    labelNames: ['skill', 'code'],
    registers: [registry],
  });
  const deliveries = new Counter({
    name: 'wheelhouse_chat_deliveries_total',
    help: 'Answers delivered to chat, by surface and outcome (ok, fallback to DM/ephemeral, failed).',
    labelNames: ['surface', 'outcome'],
    registers: [registry],
  });
  const llmRequests = new Counter({
    name: 'wheelhouse_llm_requests_total',
    help: 'Free-text requests the planner handled, by model and outcome (answer, change, refusal, unavailable).',
    labelNames: ['model', 'outcome'],
    registers: [registry],
  });
  const llmTokens = new Counter({
    name: 'wheelhouse_llm_tokens_total',
    help: 'Tokens sent to and received from the language model, by model and kind (prompt, completion).',
    labelNames: ['model', 'kind'],
    registers: [registry],
  });
  const llmCost = new Counter({
    name: 'wheelhouse_llm_cost_dollars_total',
    help: 'Cost of language model calls in US dollars at the configured prices, by model.',
    labelNames: ['model'],
    registers: [registry],
  });
  const llmLatency = new Histogram({
    name: 'wheelhouse_llm_request_duration_seconds',
    help: 'Time spent waiting for the language model per free-text request (all calls), by model.',
    labelNames: ['model'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  let clusters: ReadonlyArray<{ name: string; ready: () => boolean }> = [];
  new Gauge({
    name: 'wheelhouse_cluster_ready',
    help: "1 while a served cluster's watch caches are synced, 0 while it is unreachable or still syncing.",
    labelNames: ['cluster'],
    registers: [registry],
    collect() {
      for (const c of clusters) this.set({ cluster: c.name }, c.ready() ? 1 : 0);
    },
  });
  return {
    registry,
    watchClusters(list) {
      clusters = list;
    },
    observeReply(reply) {
      const skill = reply.skill ?? NO_SKILL;
      requests.inc({ skill, outcome: outcomeOf(reply) });
      duration.observe({ skill }, Math.max(0, reply.durationMs) / 1000);
      if (!reply.ok) errors.inc({ skill, code: reply.error.code });
    },
    observeDelivery(surface, outcome) {
      deliveries.inc({ surface, outcome });
    },
    observeLlm(usage, outcome) {
      const { model } = usage;
      llmRequests.inc({ model, outcome });
      llmTokens.inc({ model, kind: 'prompt' }, usage.promptTokens);
      llmTokens.inc({ model, kind: 'completion' }, usage.completionTokens);
      llmCost.inc({ model }, usage.costUsd);
      llmLatency.observe({ model }, Math.max(0, usage.latencyMs) / 1000);
    },
  };
}
