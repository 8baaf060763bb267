import { WheelhouseError } from '../errors.ts';

/** A word of chat text; `quoted` words are always values, never flags or key=value pairs. */
export interface Token {
  text: string;
  quoted: boolean;
}

/** Splits chat text into words, keeping "quoted strings" and 'quoted strings' whole. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let current = '';
  let quote: '"' | "'" | undefined;
  let inToken = false;
  let quoted = false;
  // Slack turns quotes into typographic ones; treat them as plain quotes.
  const normalized = text.replace(/[\u201C\u201D]/g, '"').replace(/[\u2018\u2019]/g, "'");
  for (const ch of normalized) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else current += ch;
    } else if ((ch === '"' || ch === "'") && !inToken) {
      quote = ch;
      inToken = true;
      quoted = true;
    } else if (/\s/.test(ch)) {
      if (inToken) tokens.push({ text: current, quoted });
      current = '';
      inToken = false;
      quoted = false;
    } else {
      current += ch;
      inToken = true;
    }
  }
  if (quote) {
    throw new WheelhouseError('GRAMMAR', `A ${quote} quote is not closed.`, {
      hint: 'Close the quote and try again.',
    });
  }
  if (inToken) tokens.push({ text: current, quoted });
  return tokens;
}
