/** One time series from a range query; points are [unix milliseconds, value]. */
export interface MetricSeries {
  labels: Record<string, string>;
  points: Array<[number, number]>;
}

export interface RangeQuery {
  query: string;
  start: Date;
  end: Date;
  stepSeconds: number;
  signal?: AbortSignal | undefined;
}

/**
 * Prometheus (or compatible) metrics. Throws WheelhouseError: INVALID_QUERY for a PromQL error,
 * SOURCE_TIMEOUT, SOURCE_UNAVAILABLE (connection refused, 5xx) or SOURCE_ERROR.
 */
export interface MetricsSource {
  rangeQuery(query: RangeQuery): Promise<MetricSeries[]>;
  /** Base URL for links in chat. */
  readonly url: string;
}

export interface LogSearchQuery {
  namespace?: string | undefined;
  app?: string | undefined;
  pod?: string | undefined;
  level?: string | undefined;
  /** Free text matched against the message. */
  text?: string | undefined;
  from: Date;
  to: Date;
  /** Hard cap on hits returned. */
  size: number;
  signal?: AbortSignal | undefined;
}

export interface LogHit {
  time: string;
  namespace?: string | undefined;
  pod?: string | undefined;
  container?: string | undefined;
  level?: string | undefined;
  message: string;
}

export interface LogSearchResult {
  hits: LogHit[];
  /** Total matches reported by the server. */
  total: number;
  /** True when the server only counted up to a limit ("10,000 or more"). */
  totalIsLowerBound: boolean;
}

/** Centralised log search (Elasticsearch). Same error codes as MetricsSource. */
export interface LogSearch {
  search(query: LogSearchQuery): Promise<LogSearchResult>;
}

export interface LineChartSpec {
  title: string;
  unit: string;
  series: Array<{ name: string; points: Array<[number, number]> }>;
  width?: number;
  height?: number;
}

/** Renders charts to PNG bytes without a browser. */
export interface ChartRenderer {
  renderLineChart(spec: LineChartSpec): Promise<Uint8Array>;
}
