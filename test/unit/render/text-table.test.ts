import { describe, expect, it } from 'vitest';
import { cutText, escapeCode, escapeMrkdwn, inlineCode, splitLongLine } from '../../../src/render/mrkdwn.ts';
import { packLines } from '../../../src/render/pack-lines.ts';
import { formatStat } from '../../../src/render/plain-text.ts';
import { formatTextTable } from '../../../src/render/text-table.ts';

describe('formatTextTable', () => {
  it('aligns columns on the widest cell and rules the header', () => {
    const t = formatTextTable(
      ['NAME', 'READY'],
      [
        ['web-1', '1/1'],
        ['checkout-long', '0/1'],
      ],
    );
    expect([...t.header, ...t.rows]).toEqual([
      'NAME           READY',
      '-------------  -----',
      'web-1          1/1',
      'checkout-long  0/1',
    ]);
    expect(t.shortened).toBe(false);
  });

  it('flattens newlines and tabs, fills missing cells, and cuts wide cells when asked', () => {
    const t = formatTextTable(['A', 'B'], [['x\ny\tz'], ['0123456789']], { maxCellWidth: 5 });
    expect(t.rows).toEqual(['x y z', '0123…']);
    expect(t.shortened).toBe(true);
  });

  it('counts an emoji as one column', () => {
    const t = formatTextTable(
      ['S', 'N'],
      [
        ['✅', 'ok'],
        ['ab', 'no'],
      ],
    );
    expect(t.rows).toEqual(['✅   ok', 'ab  no']);
  });
});

describe('mrkdwn', () => {
  it('escapes only &, < and >', () => {
    expect(escapeMrkdwn('a & <b> *c*')).toBe('a &amp; &lt;b&gt; *c*');
  });

  it('keeps code blocks and spans closed', () => {
    expect(escapeCode('x ``` y')).toBe('x ˋˋˋ y');
    expect(inlineCode('a`b')).toBe('`aˋb`');
  });

  it('cuts by code points and says so with an ellipsis', () => {
    expect(cutText('short', 10)).toEqual({ text: 'short', cut: false });
    expect(cutText('😀😀😀😀', 3)).toEqual({ text: '😀😀…', cut: true });
  });

  it('splits long lines at spaces where it can, never inside a surrogate pair', () => {
    expect(splitLongLine('aaaa bbbb cccc', 9)).toEqual(['aaaa bbbb', 'cccc']);
    const pieces = splitLongLine('😀'.repeat(5), 3);
    expect(pieces.join('')).toBe('😀'.repeat(5));
    for (const p of pieces) expect(p.length).toBeLessThanOrEqual(3);
  });
});

describe('packLines', () => {
  const options = { maxChunkText: 20, wrapperText: 6, chunkCost: 10 };

  it('fills chunks up to the per-chunk limit', () => {
    const r = packLines(['aaaa', 'bbbb', 'cccc', 'dddd'], { blocks: 10, chars: 1000 }, options);
    expect(r.chunks).toEqual([['aaaa', 'bbbb', 'cccc'], ['dddd']]);
    expect(r.placed).toBe(4);
  });

  it('stops at the first line that does not fit the blocks left', () => {
    const r = packLines(['aaaa', 'bbbb', 'cccc', 'dddd'], { blocks: 1, chars: 1000 }, options);
    expect(r.placed).toBe(3);
  });

  it('counts JSON escaping against the budget', () => {
    const r = packLines(['"""', '"""'], { blocks: 5, chars: 10 + 6 + 6 + 2 + 6 - 1 }, options);
    expect(r.placed).toBe(1);
  });

  it('repeats a prefix on every chunk and never emits a chunk holding only the prefix', () => {
    const r = packLines(
      ['aaaa', 'bbbb'],
      { blocks: 5, chars: 1000 },
      { ...options, maxChunkText: 16, prefix: ['HH'] },
    );
    expect(r.chunks).toEqual([
      ['HH', 'aaaa'],
      ['HH', 'bbbb'],
    ]);
    expect(packLines(['x'.repeat(30)], { blocks: 5, chars: 1000 }, options)).toEqual({
      chunks: [],
      placed: 0,
      cost: 0,
    });
  });
});

describe('formatStat', () => {
  it('keeps small values precise, large ones short, and shows the unit', () => {
    expect(formatStat(0.000123, 'cores')).toBe('0.0001 cores');
    expect(formatStat(1536.456, 'MiB')).toBe('1536.46 MiB');
    expect(formatStat(3, '')).toBe('3');
    expect(formatStat(Number.NaN, 'x')).toBe('–');
  });
});
