/**
 * Slack mrkdwn helpers. Slack treats `&`, `<` and `>` as control characters in every text
 * field (even inside code spans), so text from users or the cluster is escaped before it is
 * placed in a block; everything else is left as written.
 */

/** Escapes `&`, `<`, `>` so cluster or user text cannot form links, mentions or broadcasts. */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/**
 * Makes text safe inside a ``` code block: escaped, and a literal ``` would end the block early,
 * so it becomes three modifier-letter grave accents that look the same.
 */
export function escapeCode(text: string): string {
  return escapeMrkdwn(text).replaceAll('```', 'ˋˋˋ');
}

/** Inline code span: a backtick inside would end the span, so it is replaced by a look-alike. */
export function inlineCode(text: string): string {
  return `\`${escapeMrkdwn(text).replaceAll('`', 'ˋ')}\``;
}

/** Wraps already-escaped lines in a code block. */
export function codeBlock(escapedBody: string): string {
  return `\`\`\`${escapedBody}\`\`\``;
}

/** Characters a code block adds around its body. */
export const CODE_BLOCK_OVERHEAD = 6;

/** Length in code points, which is what a monospace column counts (close enough for alignment). */
export function displayWidth(text: string): number {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}

/** Cuts text to at most `max` code points, ending with "…" when something was removed. */
export function cutText(text: string, max: number): { text: string; cut: boolean } {
  // UTF-16 length is never less than the code point count: most text needs no counting.
  if (text.length <= max) return { text, cut: false };
  if (displayWidth(text) <= max) return { text, cut: false };
  let out = '';
  let n = 0;
  for (const point of text) {
    if (n >= max - 1) break;
    out += point;
    n += 1;
  }
  return { text: `${out}…`, cut: true };
}

/** Splits one over-long line into pieces of at most `max` UTF-16 units, preferring spaces. */
export function splitLongLine(line: string, max: number): string[] {
  const pieces: string[] = [];
  let rest = line;
  while (rest.length > max) {
    let at = rest.lastIndexOf(' ', max);
    if (at < max / 2) at = max;
    // Never split a surrogate pair.
    const code = rest.charCodeAt(at - 1);
    if (code >= 0xd800 && code <= 0xdbff) at -= 1;
    pieces.push(rest.slice(0, at));
    rest = rest.slice(at).replace(/^ /, '');
  }
  pieces.push(rest);
  return pieces;
}
