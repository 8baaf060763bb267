/**
 * Where log shippers put the Kubernetes metadata of a line. Filebeat and Elastic Agent write ECS
 * field names; Fluent Bit's kubernetes filter writes its own.
 */

/** Field paths (dotted) of one log document. */
export interface LogFields {
  timestamp: string;
  namespace: string;
  app: string;
  pod: string;
  container: string;
  level: string;
  message: string;
}

/** A preset: the field paths, and how exact-match filters reach a keyword version of a field. */
export interface LogLayout {
  name: LogLayoutName;
  fields: LogFields;
  /**
   * Appended to a field for term filters. Filebeat's index template maps Kubernetes metadata as
   * `keyword`; Fluent Bit's documents usually land in dynamic mappings, where strings are `text`
   * with a `.keyword` sub-field, and a term filter on the text field misses names with dashes.
   */
  keywordSuffix: string;
}

export const LOG_LAYOUT_NAMES = ['ecs', 'fluent-bit'] as const;

export type LogLayoutName = (typeof LOG_LAYOUT_NAMES)[number];

const LAYOUTS: Record<LogLayoutName, LogLayout> = {
  ecs: {
    name: 'ecs',
    fields: {
      timestamp: '@timestamp',
      namespace: 'kubernetes.namespace',
      app: 'kubernetes.labels.app',
      pod: 'kubernetes.pod.name',
      container: 'kubernetes.container.name',
      level: 'log.level',
      message: 'message',
    },
    keywordSuffix: '',
  },
  'fluent-bit': {
    name: 'fluent-bit',
    fields: {
      timestamp: '@timestamp',
      namespace: 'kubernetes.namespace_name',
      app: 'kubernetes.labels.app',
      pod: 'kubernetes.pod_name',
      container: 'kubernetes.container_name',
      level: 'level',
      message: 'log',
    },
    keywordSuffix: '.keyword',
  },
};

/** A preset with some fields renamed, e.g. `{ level: "severity" }`. Unknown keys are ignored. */
export function logLayout(
  name: LogLayoutName,
  overrides: Partial<Record<string, string>> = {},
  keywordSuffix?: string,
): LogLayout {
  const preset = LAYOUTS[name];
  const fields: LogFields = { ...preset.fields };
  for (const key of Object.keys(fields)) {
    const value = overrides[key];
    if (value && isLogField(key)) fields[key] = value;
  }
  return { name, fields, keywordSuffix: keywordSuffix ?? preset.keywordSuffix };
}

function isLogField(key: string): key is keyof LogFields {
  return key in LAYOUTS.ecs.fields;
}
