import type { WheelhouseError } from '../errors.ts';
import type { Reply } from '../runner/types.ts';
import type { Section, Tone } from '../skills/result.ts';
import { actionHint } from './plain-text.ts';

export interface TerminalStyle {
  color: boolean;
}

const CODES = { bold: 1, dim: 2, red: 31, green: 32, yellow: 33, cyan: 36 } as const;

function paint(style: TerminalStyle, code: keyof typeof CODES, text: string): string {
  return style.color ? `\u001b[${CODES[code]}m${text}\u001b[0m` : text;
}

function toneMark(style: TerminalStyle, tone: Tone | undefined): string {
  switch (tone) {
    case 'error':
      return paint(style, 'red', '✖ ');
    case 'warning':
      return paint(style, 'yellow', '! ');
    case 'success':
      return paint(style, 'green', '✔ ');
    default:
      return '';
  }
}

/** Columns padded to the widest cell, like kubectl's tables. */
export function formatTable(columns: readonly string[], rows: readonly string[][]): string[] {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('   ')
      .trimEnd();
  return [line(columns), ...rows.map(line)];
}

/**
 * Renders a reply for a terminal. Attachments are not shown inline: `savedFiles` maps attachment
 * names to where the console saved them.
 */
export function renderTerminal(
  reply: Reply,
  style: TerminalStyle,
  savedFiles: ReadonlyMap<string, string> = new Map(),
): string {
  if (!reply.ok) return renderError(reply.error, reply.requestId, style);
  const { result } = reply;
  const where = result.cluster ? paint(style, 'dim', `[${result.cluster}] `) : '';
  const out: string[] = [toneMark(style, result.tone) + where + paint(style, 'bold', result.summary)];
  for (const section of result.sections) out.push('', ...renderSection(section, style, savedFiles));
  for (const attachment of result.attachments ?? []) {
    const path = savedFiles.get(attachment.name);
    if (path && !result.sections.some((s) => 'attachment' in s && s.attachment === attachment.name)) {
      out.push('', paint(style, 'dim', `${attachment.title}: ${path}`));
    }
  }
  return out.join('\n');
}

function renderSection(section: Section, style: TerminalStyle, saved: ReadonlyMap<string, string>): string[] {
  switch (section.type) {
    case 'table': {
      const [head = '', ...body] = formatTable(section.columns, section.rows);
      return [
        paint(style, 'bold', head),
        ...body,
        ...(section.caption ? [paint(style, 'dim', section.caption)] : []),
      ];
    }
    case 'fields': {
      const width = Math.max(0, ...section.fields.map((f) => f.label.length));
      return [
        ...(section.title ? [paint(style, 'bold', section.title)] : []),
        ...section.fields.map((f) => `${`${f.label}:`.padEnd(width + 2)}${f.value}`),
      ];
    }
    case 'text':
      return [toneMark(style, section.tone) + section.text];
    case 'list':
      return [
        ...(section.title ? [toneMark(style, section.tone) + paint(style, 'bold', section.title)] : []),
        ...section.items.map((item) => `  • ${item}`),
      ];
    case 'logs': {
      const path = section.attachment ? saved.get(section.attachment) : undefined;
      const note =
        section.total > section.lines.length
          ? [
              paint(
                style,
                'dim',
                `showing ${section.lines.length} of ${section.total} lines${path ? `; all lines: ${path}` : ''}`,
              ),
            ]
          : [];
      return [...(section.lines.length ? section.lines : [paint(style, 'dim', '(no log lines)')]), ...note];
    }
    case 'chart': {
      const path = saved.get(section.attachment);
      return [
        paint(style, 'bold', section.title) + (path ? paint(style, 'dim', `  (chart: ${path})`) : ''),
        ...formatTable(
          ['SERIES', 'MIN', 'AVG', 'MAX', 'LAST'],
          section.stats.map((s) => [
            s.series,
            ...[s.min, s.avg, s.max, s.last].map((v) => `${formatNumber(v)} ${s.unit}`.trim()),
          ]),
        ),
      ];
    }
    case 'actions':
      // The console has no buttons: it says what to type, the command the button would send.
      return section.actions.map((a) =>
        style.color ? `${a.label}: type ${paint(style, 'cyan', `\`${a.command}\``)}` : actionHint(a),
      );
  }
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 0.01 || abs >= 1e6)) return value.toExponential(2);
  return String(Number(value.toFixed(abs < 10 ? 3 : 1)));
}

export function renderError(error: WheelhouseError, requestId: string, style: TerminalStyle): string {
  const lines = [toneMark(style, 'error') + error.message];
  if (error.hint) lines.push(`  ${error.hint}`);
  lines.push(paint(style, 'dim', `  (${error.code}, request ${requestId})`));
  return lines.join('\n');
}
