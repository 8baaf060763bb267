/**
 * Chat-neutral results. Skills return these; renderers (Slack Block Kit, terminal) are the only
 * code that knows a surface. A result is a short summary plus an ordered list of sections.
 */

export type Tone = 'info' | 'success' | 'warning' | 'error';

/** A table; renderers paginate or attach it when it does not fit. */
export interface TableSection {
  type: 'table';
  columns: string[];
  rows: string[][];
  /** Shown under the table, e.g. "3 of 40 pods are unhealthy". */
  caption?: string;
}

/** Label/value pairs, e.g. the conditions of a deployment. */
export interface FieldsSection {
  type: 'fields';
  title?: string;
  fields: Array<{ label: string; value: string }>;
}

/** Prose (plain text, no surface markup). */
export interface TextSection {
  type: 'text';
  text: string;
  tone?: Tone;
}

/** A bullet list, e.g. "why it is unhealthy". */
export interface ListSection {
  type: 'list';
  title?: string;
  items: string[];
  tone?: Tone;
}

/** Log lines, already redacted, with honest counts. */
export interface LogsSection {
  type: 'logs';
  /** Lines shown in chat. */
  lines: string[];
  /** Lines that matched in total (before the chat cap). */
  total: number;
  /** Name of the attachment holding every line when more than `lines` exist. */
  attachment?: string;
}

/** A chart: the PNG goes out as an upload, the stats as text. */
export interface ChartSection {
  type: 'chart';
  title: string;
  /** Attachment name of the PNG. */
  attachment: string;
  stats: Array<{ series: string; min: number; avg: number; max: number; last: number; unit: string }>;
}

/**
 * Follow-up actions, e.g. Approve / Deny. Each carries the chat command it stands for, so a
 * button click and a typed command take the same road.
 */
export interface ActionsSection {
  type: 'actions';
  actions: Array<{ label: string; command: string; style?: 'primary' | 'danger' | undefined }>;
}

export type Section =
  | TableSection
  | FieldsSection
  | TextSection
  | ListSection
  | LogsSection
  | ChartSection
  | ActionsSection;

/** A file that goes with a result (full logs, a chart PNG, a long table). */
export interface Attachment {
  name: string;
  title: string;
  mimeType: string;
  content: Uint8Array | string;
}

export interface SkillResult {
  /** One line, e.g. "12 pods in shop, 3 unhealthy". */
  summary: string;
  /** The cluster the answer is about, when Wheelhouse serves several (set by the cluster router). */
  cluster?: string | undefined;
  tone?: Tone;
  sections: Section[];
  attachments?: Attachment[];
}
