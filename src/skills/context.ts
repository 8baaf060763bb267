import type { KubeIdentity, KubeReader } from '../kube/types.ts';
import type { ChartRenderer, LogSearch, MetricsSource } from '../sources/types.ts';

/** Who asked, and where. */
export interface Actor {
  surface: 'slack' | 'console' | 'http';
  /** Slack user id, or the console's OS user. */
  id: string;
  name?: string | undefined;
  channel?: string | undefined;
  thread?: string | undefined;
  /** Kubernetes identity requests are impersonated as; undefined acts as the bot's own identity. */
  kube: KubeIdentity | undefined;
}

/** Caps on what one answer may carry into chat. */
export interface Limits {
  /** Log lines shown in chat before the rest goes to an attachment. */
  chatLogLines: number;
  /** Log lines read per request at most (all pods together). */
  maxLogLines: number;
  /** Bytes read per container log at most. */
  maxLogBytes: number;
  /** Hits a log search returns at most. */
  maxSearchHits: number;
  /** Widest time range a metrics query may cover, in seconds. */
  maxMetricsRangeSeconds: number;
  /** Most points per series in a range query. */
  maxPointsPerSeries: number;
}

export const DEFAULT_LIMITS: Limits = {
  chatLogLines: 50,
  maxLogLines: 5000,
  maxLogBytes: 1_000_000,
  maxSearchHits: 500,
  maxMetricsRangeSeconds: 7 * 24 * 3600,
  maxPointsPerSeries: 1000,
};

/** Everything a skill may use. Dependencies come in; skills reach for nothing. */
export interface SkillContext {
  /** Kubernetes, acting as the actor. */
  kube: KubeReader;
  /** Undefined when Prometheus is not configured. */
  metrics: MetricsSource | undefined;
  /** Undefined when Elasticsearch is not configured. */
  logSearch: LogSearch | undefined;
  charts: ChartRenderer;
  /** Removes secrets (tokens, keys, passwords, JWTs, bearer headers) from text bound for chat. */
  redact(text: string): string;
  actor: Actor;
  requestId: string;
  signal: AbortSignal;
  now(): Date;
  limits: Limits;
}
