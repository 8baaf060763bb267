import { cutText, displayWidth } from './mrkdwn.ts';

/** A table laid out as monospace text lines. */
export interface TextTable {
  /** Header line and a dashed rule under it. */
  header: string[];
  /** One line per row. */
  rows: string[];
  /** True when at least one cell was cut to `maxCellWidth`. */
  shortened: boolean;
}

export interface TextTableOptions {
  /** Widest a cell may be before it is cut with "…"; unlimited by default. */
  maxCellWidth?: number | undefined;
  /** Spaces between columns. @default 2 */
  gap?: number | undefined;
}

/** Lays out a table with aligned columns; newlines and tabs inside cells become spaces. */
export function formatTextTable(
  columns: string[],
  rows: string[][],
  options: TextTableOptions = {},
): TextTable {
  const gap = ' '.repeat(options.gap ?? 2);
  const max = options.maxCellWidth ?? Number.POSITIVE_INFINITY;
  let shortened = false;
  const clean = (cell: string | undefined): string => {
    const flat = (cell ?? '').replace(/[\r\n\t]+/g, ' ');
    const { text, cut } = cutText(flat, max);
    if (cut) shortened = true;
    return text;
  };
  const head = columns.map(clean);
  const body = rows.map((row) => columns.map((_, i) => clean(row[i])));
  const widths = head.map((h, i) => Math.max(displayWidth(h), ...body.map((r) => displayWidth(r[i] ?? ''))));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c + ' '.repeat(Math.max(0, (widths[i] ?? 0) - displayWidth(c))))
      .join(gap)
      .trimEnd();
  return {
    header: [line(head), widths.map((w) => '-'.repeat(Math.max(1, w))).join(gap)],
    rows: body.map(line),
    shortened,
  };
}
