import type { ActionsSection, ChartSection, Section } from '../skills/result.ts';
import { formatTextTable } from './text-table.ts';

const small = new Intl.NumberFormat('en-US', { maximumFractionDigits: 4, useGrouping: false });
const large = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2, useGrouping: false });

/** A chart statistic with its unit, e.g. "0.25 cores" or "512 MiB". */
export function formatStat(value: number, unit: string): string {
  if (!Number.isFinite(value)) return '–';
  const n = (Math.abs(value) < 1 ? small : large).format(value);
  return unit === '' ? n : `${n} ${unit}`;
}

/** The statistics of a chart as a table: one row per series. */
export function chartStatsTable(section: ChartSection): { columns: string[]; rows: string[][] } {
  return {
    columns: ['series', 'min', 'avg', 'max', 'last'],
    rows: section.stats.map((s) => [
      s.series,
      formatStat(s.min, s.unit),
      formatStat(s.avg, s.unit),
      formatStat(s.max, s.unit),
      formatStat(s.last, s.unit),
    ]),
  };
}

/**
 * How to do by typing what a button does, e.g. "Approve: type `approve 3f2a…`". Surfaces without
 * buttons (the console, files, notifications) show this; the command is exactly the button's.
 */
export function actionHint(action: ActionsSection['actions'][number]): string {
  return `${action.label}: type \`${action.command}\``;
}

/**
 * The whole of a section as plain text, nothing cut: what goes into the file attached when a
 * section does not fit in a chat message.
 */
export function sectionToPlainText(section: Section): string {
  switch (section.type) {
    case 'table': {
      const t = formatTextTable(section.columns, section.rows);
      return [...t.header, ...t.rows, ...(section.caption ? ['', section.caption] : [])].join('\n');
    }
    case 'fields':
      return [
        ...(section.title ? [section.title, ''] : []),
        ...section.fields.map((f) => `${f.label}: ${f.value}`),
      ].join('\n');
    case 'text':
      return section.text;
    case 'list':
      return [...(section.title ? [section.title, ''] : []), ...section.items.map((i) => `- ${i}`)].join(
        '\n',
      );
    case 'logs':
      return section.lines.join('\n');
    case 'chart': {
      const { columns, rows } = chartStatsTable(section);
      const t = formatTextTable(columns, rows);
      return [section.title, '', ...t.header, ...t.rows].join('\n');
    }
    case 'actions':
      return section.actions.map(actionHint).join('\n');
  }
}
