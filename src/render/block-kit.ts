import type { ErrorCode } from '../errors.ts';
import type { Reply } from '../runner/types.ts';
import type {
  ActionsSection,
  Attachment,
  ChartSection,
  FieldsSection,
  ListSection,
  LogsSection,
  Section,
  SkillResult,
  TextSection,
  Tone,
} from '../skills/result.ts';
import {
  CODE_BLOCK_OVERHEAD,
  codeBlock,
  cutText,
  escapeCode,
  escapeMrkdwn,
  inlineCode,
  splitLongLine,
} from './mrkdwn.ts';
import { type PackBudget, packLines } from './pack-lines.ts';
import { actionHint, chartStatsTable, sectionToPlainText } from './plain-text.ts';
import { formatTextTable } from './text-table.ts';

/** A Slack mrkdwn text object. */
export interface MrkdwnText {
  type: 'mrkdwn';
  text: string;
}

/** A section block: text, up to 10 fields, or both. */
export interface SectionBlock {
  type: 'section';
  text?: MrkdwnText;
  fields?: MrkdwnText[];
}

/** Small grey print under or over the answer (captions, notices, request ids). */
export interface ContextBlock {
  type: 'context';
  elements: MrkdwnText[];
}

/** Plain text (button labels, modal titles): Slack shows it as written, no markup. */
export interface PlainText {
  type: 'plain_text';
  text: string;
  emoji?: boolean;
}

/** A button. Its value is the chat command it stands for, so a click and a typed command take one road. */
export interface ButtonElement {
  type: 'button';
  /** `wh-command-<i>`: the Slack surface treats every action id with this prefix as a command. */
  action_id: string;
  text: PlainText;
  value: string;
  style?: 'primary' | 'danger';
}

/** A row of buttons. */
export interface ActionsBlock {
  type: 'actions';
  block_id?: string;
  elements: ButtonElement[];
}

/** The Block Kit blocks Wheelhouse sends: a deliberately small subset of Slack's. */
export type BlockKitBlock = SectionBlock | ContextBlock | ActionsBlock;

/** Action id prefix of buttons whose value is a chat command. */
export const COMMAND_ACTION_PREFIX = 'wh-command';
/** Longest button value Slack accepts. */
export const MAX_BUTTON_VALUE_CHARS = 2000;
/** Longest button label Slack accepts. */
export const MAX_BUTTON_LABEL_CHARS = 75;

/**
 * The texts a block shows, as written in it (mrkdwn stays mrkdwn); a row of buttons reads as
 * what to type instead, e.g. "Approve: type `approve 3f2a…`".
 */
export function blockTexts(block: BlockKitBlock): string[] {
  switch (block.type) {
    case 'context':
      return block.elements.map((e) => e.text);
    case 'section':
      return [...(block.text ? [block.text.text] : []), ...(block.fields ?? []).map((f) => f.text)];
    case 'actions':
      return block.elements.map((e) => actionHint({ label: e.text.text, command: e.value }));
  }
}

/** A file that goes with the message (uploaded into the answer's thread). */
export interface RenderedFile {
  name: string;
  title: string;
  content: Uint8Array | string;
}

/** One chat message and the files that go with it. */
export interface RenderedMessage {
  /** Fallback text for notifications and clients that cannot show blocks. */
  text: string;
  blocks: BlockKitBlock[];
  files: RenderedFile[];
}

/** Slack's message limits, and the budget Wheelhouse keeps under them. */
export interface BlockKitLimits {
  /** Blocks per message (Slack: 50). */
  maxBlocks: number;
  /** Characters per section text (Slack: 3,000). */
  maxSectionChars: number;
  /** Fields per section (Slack: 10). */
  maxFieldsPerSection: number;
  /** Characters per field (Slack: 2,000). */
  maxFieldChars: number;
  /**
   * Serialized (JSON) size of all blocks together. Slack has answered `msg_blocks_too_long`
   * at about 13,000 characters, so stay well under it.
   */
  maxMessageChars: number;
  /** Widest table cell shown in chat; the attached file has the whole value. */
  maxCellWidth: number;
  /** Longest log line shown in chat; the attached file has the whole line. */
  maxLogLineChars: number;
  /** Elements per actions block (Slack: 25). */
  maxActionElements: number;
}

export const BLOCK_KIT_LIMITS: BlockKitLimits = {
  maxBlocks: 50,
  maxSectionChars: 3000,
  maxFieldsPerSection: 10,
  maxFieldChars: 2000,
  maxMessageChars: 10_000,
  maxCellWidth: 60,
  maxLogLineChars: 400,
  maxActionElements: 25,
};

export interface RenderOptions {
  /** Who asked and what; shown as the first line of an answer posted to a channel. */
  /** Who asked what, and in which channel when the message is shown elsewhere (e.g. a copy). */
  requestedBy?: { userId: string; text: string; channel?: string | undefined } | undefined;
  limits?: Partial<BlockKitLimits> | undefined;
}

/** How each error code looks in chat: the emoji tells denials, typos and outages apart at a glance. */
export const ERROR_PRESENTATION: Record<ErrorCode, { emoji: string; label: string }> = {
  GRAMMAR: { emoji: ':pencil2:', label: 'Could not read that command' },
  UNKNOWN_SKILL: { emoji: ':grey_question:', label: 'Unknown command' },
  INVALID_INPUT: { emoji: ':memo:', label: 'Invalid input' },
  NOT_FOUND: { emoji: ':mag:', label: 'Not found' },
  FORBIDDEN: { emoji: ':no_entry:', label: 'Denied by Kubernetes RBAC' },
  POLICY_DENIED: { emoji: ':octagonal_sign:', label: 'Denied by Wheelhouse policy' },
  KUBE_UNREACHABLE: { emoji: ':electric_plug:', label: 'Kubernetes API unreachable' },
  SOURCE_NOT_CONFIGURED: { emoji: ':gear:', label: 'Data source not configured' },
  SOURCE_UNAVAILABLE: { emoji: ':satellite:', label: 'Data source unavailable' },
  SOURCE_TIMEOUT: { emoji: ':hourglass:', label: 'Timed out' },
  SOURCE_ERROR: { emoji: ':warning:', label: 'Data source error' },
  INVALID_QUERY: { emoji: ':triangular_ruler:', label: 'Invalid query' },
  RATE_LIMITED: { emoji: ':traffic_light:', label: 'Slow down' },
  CONFLICT: { emoji: ':twisted_rightwards_arrows:', label: 'Conflicting change' },
  DRY_RUN_REJECTED: { emoji: ':x:', label: 'Rejected by the API server' },
  TIMEOUT: { emoji: ':stopwatch:', label: 'Took too long' },
  AUDIT_UNAVAILABLE: { emoji: ':ledger:', label: 'Audit log unavailable' },
  CONFIG: { emoji: ':wrench:', label: 'Configuration problem' },
  INTERNAL: { emoji: ':boom:', label: 'Internal error' },
};

export const TONE_EMOJI: Record<Tone, string> = {
  info: ':information_source:',
  success: ':white_check_mark:',
  warning: ':warning:',
  error: ':x:',
};

/** Characters of summary or error message shown before "…" (they are meant to be one line). */
const HEADLINE_CHARS = 500;
/** Room kept for the notice that says which sections went to a file. */
const OMITTED_RESERVE = { blocks: 1, chars: 400 };

const mrkdwn = (text: string): MrkdwnText => ({ type: 'mrkdwn', text });
const section = (text: string): SectionBlock => ({ type: 'section', text: mrkdwn(text) });
const context = (...texts: string[]): ContextBlock => ({ type: 'context', elements: texts.map(mrkdwn) });
const cost = (blocks: readonly BlockKitBlock[]): number =>
  blocks.reduce((n, b) => n + JSON.stringify(b).length, 0);
const EMPTY_SECTION_COST = cost([section('')]);

/**
 * Renders a reply as one Slack message plus files. The message always fits Slack's limits;
 * whatever does not fit is attached as a file and the message says so ("showing N of M — full
 * table attached as …"), so nothing is ever cut silently. Text from skills, users and the cluster
 * is escaped for mrkdwn.
 */
export function renderReply(reply: Reply, options: RenderOptions = {}): RenderedMessage {
  const limits: BlockKitLimits = { ...BLOCK_KIT_LIMITS, ...options.limits };
  const head: BlockKitBlock[] = [];
  if (options.requestedBy) {
    head.push(
      context(
        `<@${escapeMrkdwn(options.requestedBy.userId)}> asked ${inlineCode(options.requestedBy.text)}${
          options.requestedBy.channel ? ` in <#${escapeMrkdwn(options.requestedBy.channel)}>` : ''
        }`,
      ),
    );
  }
  if (!reply.ok) {
    const { code, message, hint } = reply.error;
    const look = ERROR_PRESENTATION[code];
    const shown = cutText(message, HEADLINE_CHARS).text;
    const blocks: BlockKitBlock[] = [
      ...head,
      section(`${look.emoji} *${look.label}*\n${escapeMrkdwn(shown)}`),
    ];
    if (hint) blocks.push(section(`:bulb: ${escapeMrkdwn(cutText(hint, HEADLINE_CHARS).text)}`));
    blocks.push(context(`code ${inlineCode(code)} · request ${inlineCode(reply.requestId)}`));
    return { text: escapeMrkdwn(`${look.label}: ${shown}`), blocks, files: [] };
  }
  return renderResult(reply.result, head, footer(reply), limits);
}

/**
 * Renders a chat-neutral result that is not an answer to a request (an alert thread's
 * enrichment or note): the same sections and limits as {@link renderReply}, with `note` as the
 * small print at the bottom instead of the request footer.
 */
export function renderResultMessage(
  result: SkillResult,
  options: { note: string; limits?: Partial<BlockKitLimits> | undefined },
): RenderedMessage {
  const limits: BlockKitLimits = { ...BLOCK_KIT_LIMITS, ...options.limits };
  return renderResult(result, [], context(escapeMrkdwn(options.note)), limits);
}

function footer(reply: Reply): ContextBlock {
  const parts = [`request ${inlineCode(reply.requestId)}`];
  if (reply.skill !== undefined) parts.push(inlineCode(reply.skill));
  parts.push(`${Math.round(reply.durationMs)} ms`);
  return context(parts.join(' · '));
}

interface RenderContext {
  limits: BlockKitLimits;
  /** Names of files already going out with the message (result attachments, earlier overflow files). */
  fileNames: Set<string>;
  index: number;
}

interface SectionOutput {
  blocks: BlockKitBlock[];
  files: RenderedFile[];
}

function renderResult(
  result: SkillResult,
  head: BlockKitBlock[],
  foot: ContextBlock,
  limits: BlockKitLimits,
): RenderedMessage {
  const summary = cutText(result.summary, HEADLINE_CHARS).text;
  const where = result.cluster ? `\`${escapeMrkdwn(result.cluster)}\` ` : '';
  const top = [...head, section(`${TONE_EMOJI[result.tone ?? 'info']} ${where}*${escapeMrkdwn(summary)}*`)];
  const budget: PackBudget = {
    blocks: limits.maxBlocks - top.length - 1 - OMITTED_RESERVE.blocks,
    chars: limits.maxMessageChars - cost(top) - cost([foot]) - OMITTED_RESERVE.chars,
  };
  const files: RenderedFile[] = (result.attachments ?? []).map(toFile);
  const fileNames = new Set(files.map((f) => f.name));
  const body: BlockKitBlock[] = [];
  const omitted: Section[] = [];
  const shares = shareBudget(
    result.sections.map((s, index) => {
      // Measured against the whole message: a section never needs more than all of it.
      const whole = renderSection(s, budget, { limits, fileNames: new Set(fileNames), index });
      return whole === undefined
        ? { blocks: 0, chars: 0 }
        : { blocks: whole.blocks.length, chars: cost(whole.blocks) + NEED_MARGIN };
    }),
    budget,
  );
  // What one section leaves of its share goes to the next.
  const carry: PackBudget = { blocks: 0, chars: 0 };
  for (const [index, s] of result.sections.entries()) {
    const share = shares[index] ?? { blocks: 0, chars: 0 };
    const room = { blocks: share.blocks + carry.blocks, chars: share.chars + carry.chars };
    const out = renderSection(s, room, { limits, fileNames, index });
    if (out === undefined) {
      omitted.push(s);
      carry.blocks = room.blocks;
      carry.chars = room.chars;
      continue;
    }
    body.push(...out.blocks);
    carry.blocks = room.blocks - out.blocks.length;
    carry.chars = room.chars - cost(out.blocks);
    for (const f of out.files) {
      files.push(f);
      fileNames.add(f.name);
    }
  }
  if (omitted.length > 0) {
    const name = uniqueName('more-sections.txt', fileNames);
    files.push({
      name,
      title: `${omitted.length} more section${omitted.length === 1 ? '' : 's'} of the answer`,
      content: omitted.map(sectionToPlainText).join('\n\n'),
    });
    const n = omitted.length;
    body.push(
      context(
        `:page_facing_up: ${n} more section${n === 1 ? '' : 's'} did not fit in this message — attached as ${inlineCode(name)}`,
      ),
    );
  }
  const text = escapeMrkdwn(result.cluster ? `[${result.cluster}] ${summary}` : summary);
  return { text, blocks: [...top, ...body, foot], files };
}

/**
 * Splits the message budget between sections by water-filling: a section that needs less than an
 * equal share gets what it needs, and the big ones (a long table next to long logs) split the rest
 * evenly, so one of them cannot crowd out the other.
 */
function shareBudget(needs: PackBudget[], budget: PackBudget): PackBudget[] {
  const fill = (key: keyof PackBudget): number[] => {
    const out = needs.map(() => 0);
    let left = Math.max(0, budget[key]);
    const order = needs.map((n, i) => ({ need: n[key], i })).sort((a, b) => a.need - b.need);
    for (const [k, { need, i }] of order.entries()) {
      // Rounding up hands spare whole blocks to the earlier sections (the sort is stable).
      const give = Math.min(need, Math.ceil(left / (order.length - k)));
      out[i] = give;
      left -= give;
    }
    return out;
  };
  const blocks = fill('blocks');
  const chars = fill('chars');
  return needs.map((_, i) => ({ blocks: blocks[i] ?? 0, chars: chars[i] ?? 0 }));
}

function toFile(a: Attachment): RenderedFile {
  return { name: a.name, title: a.title, content: a.content };
}

function uniqueName(wanted: string, taken: ReadonlySet<string>): string {
  if (!taken.has(wanted)) return wanted;
  const dot = wanted.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [wanted.slice(0, dot), wanted.slice(dot)] : [wanted, ''];
  for (let n = 2; ; n += 1) {
    const candidate = `${stem}-${n}${ext}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/** Returns undefined when not even the start of the section fits what is left of the message. */
function renderSection(s: Section, budget: PackBudget, ctx: RenderContext): SectionOutput | undefined {
  switch (s.type) {
    case 'table':
      return renderTable(
        {
          columns: s.columns,
          rows: s.rows,
          caption: s.caption,
          lead: [],
          trailer: [],
          noun: 'rows',
          fileBase: `table-${ctx.index + 1}.txt`,
          fileTitle: `Full table (${s.rows.length} rows)`,
          fullText: () => sectionToPlainText(s),
        },
        budget,
        ctx,
      );
    case 'chart':
      return renderChart(s, budget, ctx);
    case 'logs':
      return renderLogs(s, budget, ctx);
    case 'text':
      return renderText(s, budget, ctx);
    case 'list':
      return renderList(s, budget, ctx);
    case 'fields':
      return renderFields(s, budget, ctx);
    case 'actions':
      return renderActions(s, budget, ctx);
  }
}

/**
 * What is left after `blocks`. Notices are reserved with a placeholder count and written with
 * the real one afterwards, so a little slack covers the extra digits.
 */
const minus = (budget: PackBudget, blocks: readonly BlockKitBlock[], slack = 0): PackBudget => ({
  blocks: budget.blocks - blocks.length,
  chars: budget.chars - cost(blocks) - slack,
});
const NOTICE_SLACK = 24;
/**
 * Added to what a section needs when the budget is shared: a cut section first reserves its
 * longest notice ("showing 0 of 500 rows, …") plus the slack, then writes a shorter one.
 */
const NEED_MARGIN = 100;

const codeChunks = (chunks: string[][]): BlockKitBlock[] =>
  chunks.map((c) => section(codeBlock(c.join('\n'))));

interface TableLike {
  columns: string[];
  rows: string[][];
  caption?: string | undefined;
  /** Blocks before the table (a chart's title). */
  lead: BlockKitBlock[];
  /** Context elements after the table, already mrkdwn. */
  trailer: string[];
  noun: string;
  fileBase: string;
  fileTitle: string;
  fullText: () => string;
}

function renderTable(t: TableLike, budget: PackBudget, ctx: RenderContext): SectionOutput | undefined {
  const { limits } = ctx;
  const chat = formatTextTable(t.columns, t.rows, { maxCellWidth: limits.maxCellWidth });
  const header = chat.header.map(escapeCode);
  const lines = chat.rows.map(escapeCode);
  const caption = t.caption ? [escapeMrkdwn(cutText(t.caption, HEADLINE_CHARS).text)] : [];
  const pack = (elements: string[], slack = 0) => {
    const tail = elements.length > 0 ? [context(...elements)] : [];
    const packed = packLines(lines, minus(budget, [...t.lead, ...tail], slack), {
      maxChunkText: limits.maxSectionChars,
      wrapperText: CODE_BLOCK_OVERHEAD,
      chunkCost: EMPTY_SECTION_COST,
      prefix: header,
    });
    return { packed, tail };
  };

  if (lines.length === 0) {
    const blocks = [
      ...t.lead,
      section(codeBlock(header.join('\n'))),
      context(...caption, `_no ${t.noun}_`, ...t.trailer),
    ];
    return budget.blocks >= blocks.length && budget.chars >= cost(blocks) ? { blocks, files: [] } : undefined;
  }

  const whole = pack([...caption, ...t.trailer]);
  if (whole.packed.placed === lines.length && !chat.shortened) {
    return { blocks: [...t.lead, ...codeChunks(whole.packed.chunks), ...whole.tail], files: [] };
  }

  const name = uniqueName(t.fileBase, ctx.fileNames);
  const notice = (placed: number): string => {
    const parts: string[] = [];
    if (placed < lines.length) parts.push(`showing ${placed} of ${lines.length} ${t.noun}`);
    if (chat.shortened) parts.push('long values shortened');
    return `:page_facing_up: ${parts.join(', ')} — full table attached as ${inlineCode(name)}`;
  };
  // Reserve room for the longest notice this table can need, then say what was actually shown.
  const cut = pack([...caption, notice(0), ...t.trailer], NOTICE_SLACK);
  if (cut.packed.placed === 0) return undefined;
  const tail = [context(...caption, notice(cut.packed.placed), ...t.trailer)];
  return {
    blocks: [...t.lead, ...codeChunks(cut.packed.chunks), ...tail],
    files: [{ name, title: t.fileTitle, content: t.fullText() }],
  };
}

function renderChart(s: ChartSection, budget: PackBudget, ctx: RenderContext): SectionOutput | undefined {
  const { columns, rows } = chartStatsTable(s);
  const image = ctx.fileNames.has(s.attachment)
    ? `:frame_with_picture: chart attached as ${inlineCode(s.attachment)}`
    : `:grey_exclamation: the chart image ${inlineCode(s.attachment)} was not produced`;
  return renderTable(
    {
      columns,
      rows,
      lead: [section(`:chart_with_upwards_trend: *${escapeMrkdwn(s.title)}*`)],
      trailer: [image],
      noun: 'series',
      fileBase: `chart-${ctx.index + 1}-stats.txt`,
      fileTitle: `Statistics: ${s.title}`,
      fullText: () => sectionToPlainText(s),
    },
    budget,
    ctx,
  );
}

function renderLogs(s: LogsSection, budget: PackBudget, ctx: RenderContext): SectionOutput | undefined {
  const { limits } = ctx;
  const total = Math.max(s.total, s.lines.length);
  const attached = s.attachment !== undefined && ctx.fileNames.has(s.attachment) ? s.attachment : undefined;
  if (s.lines.length === 0) {
    const blocks = [
      context(total === 0 ? '_no matching log lines_' : `_none of the ${total} lines is shown_`),
    ];
    return budget.blocks >= 1 && budget.chars >= cost(blocks) ? { blocks, files: [] } : undefined;
  }
  // Newest lines matter most, so when the message is full the oldest lines give way. Only lines
  // that could fit the budget are prepared: 5,000 lines must not cost 5,000 escapes.
  const reversed: string[] = [];
  const cuts: boolean[] = [];
  let prepared = 0;
  for (let i = s.lines.length - 1; i >= 0 && prepared <= budget.chars; i -= 1) {
    const raw = (s.lines[i] ?? '').replace(/\r/g, '').replace(/\t/g, '  ');
    const { text, cut } = cutText(raw, limits.maxLogLineChars);
    const escaped = escapeCode(text);
    reversed.push(escaped);
    cuts.push(cut);
    prepared += escaped.length + 1;
  }
  const pack = (elements: string[], slack = 0) => {
    const tail = elements.length > 0 ? [context(...elements)] : [];
    const packed = packLines(reversed, minus(budget, tail, slack), {
      maxChunkText: limits.maxSectionChars,
      wrapperText: CODE_BLOCK_OVERHEAD,
      chunkCost: EMPTY_SECTION_COST,
    });
    const chunks = packed.chunks.map((c) => [...c].reverse()).reverse();
    const shortened = cuts.slice(0, packed.placed).some(Boolean);
    return { placed: packed.placed, shortened, blocks: [...codeChunks(chunks), ...tail] };
  };
  const notice = (placed: number, shortened: boolean, file: string | undefined): string[] => {
    const parts: string[] = [];
    if (placed < s.lines.length) parts.push(`showing the last ${placed} of ${total} lines`);
    else if (placed < total) parts.push(`showing ${placed} of ${total} lines`);
    if (shortened) parts.push('long lines shortened');
    if (parts.length === 0) return [];
    if (file === undefined) return [`:page_facing_up: ${parts.join(', ')}`];
    const what =
      file === attached || s.lines.length === total ? 'all lines' : `the ${s.lines.length} lines fetched`;
    return [`:page_facing_up: ${parts.join(', ')} — ${what} attached as ${inlineCode(file)}`];
  };

  const first = pack(notice(s.lines.length, false, attached));
  if (first.placed === s.lines.length && !first.shortened) return { blocks: first.blocks, files: [] };

  const name = attached ?? uniqueName(`logs-${ctx.index + 1}.txt`, ctx.fileNames);
  const files: RenderedFile[] =
    attached === undefined
      ? [{ name, title: `Log lines (${s.lines.length})`, content: s.lines.join('\n') }]
      : [];
  // Reserve room for the longest notice first, then state what was actually shown.
  const reserved = pack(notice(0, true, name), NOTICE_SLACK);
  if (reserved.placed === 0) return undefined;
  return {
    blocks: [...reserved.blocks.slice(0, -1), context(...notice(reserved.placed, reserved.shortened, name))],
    files,
  };
}

/** Escaped pieces of a line, each at most `max` characters once escaped. */
function escapedPieces(raw: string, max: number): string[] {
  const out: string[] = [];
  for (const piece of splitLongLine(raw, max)) {
    const escaped = escapeMrkdwn(piece);
    if (escaped.length <= max) out.push(escaped);
    else
      out.push(
        ...escapedPieces(piece.slice(0, piece.length >> 1), max),
        ...escapedPieces(piece.slice(piece.length >> 1), max),
      );
  }
  return out;
}

function renderProse(
  lines: string[],
  countPlaced: (placedLines: number) => { placed: number; total: number },
  noun: string,
  what: string,
  file: () => RenderedFile,
  budget: PackBudget,
  ctx: RenderContext,
): SectionOutput | undefined {
  const options = { maxChunkText: ctx.limits.maxSectionChars, wrapperText: 0, chunkCost: EMPTY_SECTION_COST };
  const toBlocks = (chunks: string[][]): BlockKitBlock[] =>
    chunks
      .map((c) => c.join('\n'))
      .filter((t) => t.trim() !== '')
      .map(section);
  if (lines.every((l) => l.trim() === '')) return { blocks: [], files: [] };
  const whole = packLines(lines, budget, options);
  if (whole.placed === lines.length) return { blocks: toBlocks(whole.chunks), files: [] };
  const name = uniqueName(file().name, ctx.fileNames);
  const notice = (placedLines: number): ContextBlock => {
    const { placed, total } = countPlaced(placedLines);
    const shown = placed === 0 ? `${noun} continues` : `showing ${placed} of ${total} ${noun}`;
    return context(`:page_facing_up: ${shown} — full ${what} attached as ${inlineCode(name)}`);
  };
  const cut = packLines(lines, minus(budget, [notice(0)], NOTICE_SLACK), options);
  if (cut.placed === 0) return undefined;
  return { blocks: [...toBlocks(cut.chunks), notice(cut.placed)], files: [{ ...file(), name }] };
}

function renderText(s: TextSection, budget: PackBudget, ctx: RenderContext): SectionOutput | undefined {
  const max = ctx.limits.maxSectionChars;
  const prefix = s.tone ? `${TONE_EMOJI[s.tone]} ` : '';
  const lines = s.text.split('\n').flatMap((l) => escapedPieces(l, max - prefix.length));
  if (lines.length > 0) lines[0] = `${prefix}${lines[0]}`;
  return renderProse(
    lines,
    (placedLines) => ({ placed: placedLines, total: lines.length }),
    'lines',
    'text',
    () => ({ name: `text-${ctx.index + 1}.txt`, title: 'Full text', content: s.text }),
    budget,
    ctx,
  );
}

function renderList(s: ListSection, budget: PackBudget, ctx: RenderContext): SectionOutput | undefined {
  const max = ctx.limits.maxSectionChars;
  const prefix = s.tone ? `${TONE_EMOJI[s.tone]} ` : '';
  const titled = s.title !== undefined && s.title !== '';
  const lines: string[] = [];
  if (titled) lines.push(`${prefix}*${escapeMrkdwn(cutText(s.title ?? '', 200).text)}*`);
  let shortened = false;
  for (const [i, item] of s.items.entries()) {
    const bullet = !titled && i === 0 ? `${prefix}•` : '•';
    const { text, cut } = cutText(item, Math.floor((max - 20) / 5));
    if (cut) shortened = true;
    lines.push(`${bullet} ${escapeMrkdwn(text)}`);
  }
  const file = (): RenderedFile => ({
    name: `list-${ctx.index + 1}.txt`,
    title: `Full list (${s.items.length} items)`,
    content: sectionToPlainText(s),
  });
  const out = renderProse(
    lines,
    (placedLines) => ({ placed: Math.max(0, placedLines - (titled ? 1 : 0)), total: s.items.length }),
    'items',
    'list',
    file,
    budget,
    ctx,
  );
  if (out === undefined || !shortened || out.files.length > 0) return out;
  // Every item fit, but some were cut: attach the list and say so.
  const name = uniqueName(file().name, ctx.fileNames);
  const notice = context(`:page_facing_up: long items shortened — full list attached as ${inlineCode(name)}`);
  if (budget.blocks < out.blocks.length + 1 || budget.chars < cost([...out.blocks, notice])) return undefined;
  return { blocks: [...out.blocks, notice], files: [{ ...file(), name }] };
}

/** Escapes and cuts so that the escaped text is at most `max` characters. */
function fitEscaped(raw: string, max: number): { text: string; cut: boolean } {
  let limit = max;
  for (;;) {
    const { text, cut } = cutText(raw, limit);
    const escaped = escapeMrkdwn(text);
    if (escaped.length <= max) return { text: escaped, cut };
    limit -= Math.max(1, escaped.length - max);
  }
}

function renderFields(s: FieldsSection, budget: PackBudget, ctx: RenderContext): SectionOutput | undefined {
  const { limits } = ctx;
  let shortened = false;
  const texts = s.fields.map((f) => {
    const label = fitEscaped(f.label, 200).text;
    const value = fitEscaped(f.value === '' ? '–' : f.value, limits.maxFieldChars - label.length - 3);
    if (value.cut) shortened = true;
    return `*${label}*\n${value.text}`;
  });
  const title = s.title ? mrkdwn(`*${fitEscaped(s.title, 500).text}*`) : undefined;
  const groups: SectionBlock[] = [];
  for (let i = 0; i < texts.length; i += limits.maxFieldsPerSection) {
    const block: SectionBlock = {
      type: 'section',
      fields: texts.slice(i, i + limits.maxFieldsPerSection).map(mrkdwn),
    };
    if (i === 0 && title) block.text = title;
    groups.push(block);
  }
  if (groups.length === 0 && title) groups.push({ type: 'section', text: title });
  const fits = (blocks: BlockKitBlock[], room: PackBudget): boolean =>
    blocks.length <= room.blocks && cost(blocks) <= room.chars;
  if (fits(groups, budget) && !shortened) return { blocks: groups, files: [] };

  const name = uniqueName(`fields-${ctx.index + 1}.txt`, ctx.fileNames);
  const notice = (placed: number): ContextBlock => {
    const parts: string[] = [];
    if (placed < texts.length) parts.push(`showing ${placed} of ${texts.length} fields`);
    if (shortened) parts.push('long values shortened');
    return context(`:page_facing_up: ${parts.join(', ')} — all fields attached as ${inlineCode(name)}`);
  };
  const room = minus(budget, [notice(0)], NOTICE_SLACK);
  const shown: SectionBlock[] = [];
  let placed = 0;
  for (const g of groups) {
    if (!fits([...shown, g], room)) break;
    shown.push(g);
    placed += g.fields?.length ?? 0;
  }
  if (shown.length === 0) return undefined;
  return {
    blocks: [...shown, notice(placed)],
    files: [{ name, title: `All fields (${texts.length})`, content: sectionToPlainText(s) }],
  };
}

/**
 * One actions block of buttons (at most 25; each value is the command, at most 2,000 characters).
 * Actions that cannot be buttons (too many, or a command too long for a button value) are listed
 * as what to type instead, so none is lost.
 */
function renderActions(s: ActionsSection, budget: PackBudget, ctx: RenderContext): SectionOutput | undefined {
  const buttons: ButtonElement[] = [];
  const typed: ActionsSection['actions'] = [];
  for (const action of s.actions) {
    const command = action.command.trim();
    if (
      command === '' ||
      command.length > MAX_BUTTON_VALUE_CHARS ||
      buttons.length >= ctx.limits.maxActionElements
    ) {
      typed.push(action);
      continue;
    }
    const label = action.label.trim() === '' ? command : action.label.trim();
    const button: ButtonElement = {
      type: 'button',
      action_id: `${COMMAND_ACTION_PREFIX}-${buttons.length}`,
      text: { type: 'plain_text', text: cutText(label, MAX_BUTTON_LABEL_CHARS).text, emoji: true },
      value: command,
    };
    if (action.style !== undefined) button.style = action.style;
    buttons.push(button);
  }
  const blocks: BlockKitBlock[] =
    buttons.length === 0
      ? []
      : [{ type: 'actions', block_id: `wh-actions-${ctx.index + 1}`, elements: buttons }];
  if (blocks.length > budget.blocks || cost(blocks) > budget.chars) return undefined;
  if (typed.length === 0) return { blocks, files: [] };
  const rest = renderList(
    { type: 'list', items: typed.map(actionHint).filter((h) => h.trim() !== '') },
    minus(budget, blocks),
    ctx,
  );
  if (rest === undefined) return undefined;
  return { blocks: [...blocks, ...rest.blocks], files: rest.files };
}
