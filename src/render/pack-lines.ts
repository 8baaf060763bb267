/** What is left of a message: blocks and serialized characters. */
export interface PackBudget {
  blocks: number;
  /** JSON characters the blocks may still take. */
  chars: number;
}

export interface PackOptions {
  /** Most characters of text one chunk may hold (Slack: 3,000 per section text). */
  maxChunkText: number;
  /** Characters added around each chunk's text, e.g. the two ``` fences. */
  wrapperText: number;
  /** JSON size of the block that holds an empty chunk, counted against the budget. */
  chunkCost: number;
  /** Lines repeated at the top of every chunk, e.g. a table header. */
  prefix?: string[] | undefined;
}

export interface PackResult {
  /** Lines per chunk, prefix included. */
  chunks: string[][];
  /** How many of the input lines were placed (always a leading run of them). */
  placed: number;
  /** JSON characters the chunks take. */
  cost: number;
}

const jsonLength = (s: string): number => JSON.stringify(s).length - 2;

/**
 * Packs lines, in order, into as few chunks as fit Slack's per-section limit and the message
 * budget. It stops at the first line that does not fit, so callers can say exactly how many
 * lines were shown.
 */
export function packLines(lines: readonly string[], budget: PackBudget, options: PackOptions): PackResult {
  const prefix = options.prefix ?? [];
  const prefixText = prefix.length === 0 ? 0 : prefix.join('\n').length;
  const prefixCost = prefix.length === 0 ? 0 : jsonLength(prefix.join('\n'));
  const chunks: string[][] = [];
  let blocksLeft = budget.blocks;
  let costLeft = budget.chars;
  let placed = 0;
  let spent = 0;
  let current: string[] | undefined;
  let currentText = 0;
  let currentCost = 0;

  const close = (): void => {
    if (current !== undefined && current.length > prefix.length) {
      chunks.push(current);
      blocksLeft -= 1;
      costLeft -= currentCost;
      spent += currentCost;
    }
    current = undefined;
  };

  for (const line of lines) {
    let fitted = false;
    for (let attempt = 0; attempt < 2 && !fitted; attempt += 1) {
      if (current === undefined) {
        if (blocksLeft < 1) break;
        current = [...prefix];
        currentText = options.wrapperText + prefixText;
        currentCost = options.chunkCost + options.wrapperText + prefixCost;
      }
      const sep = current.length > 0 ? 1 : 0;
      const text = currentText + sep + line.length;
      const cost = currentCost + 2 * sep + jsonLength(line);
      if (text <= options.maxChunkText && cost <= costLeft) {
        current.push(line);
        currentText = text;
        currentCost = cost;
        fitted = true;
      } else if (current.length > prefix.length) {
        close();
      } else {
        break;
      }
    }
    if (!fitted) break;
    placed += 1;
  }
  close();
  return { chunks, placed, cost: spent };
}
