import { describe, expect, it } from 'vitest';
import { type ErrorCode, WheelhouseError } from '../../../src/errors.ts';
import {
  type ActionsBlock,
  BLOCK_KIT_LIMITS,
  type BlockKitBlock,
  blockTexts,
  ERROR_PRESENTATION,
  type RenderedMessage,
  renderReply,
} from '../../../src/render/block-kit.ts';
import { sectionToPlainText } from '../../../src/render/plain-text.ts';
import type { Reply } from '../../../src/runner/types.ts';
import type { Attachment, Section, SkillResult } from '../../../src/skills/result.ts';
import { validateMessage } from '../../support/slack-peer.ts';

const ok = (result: SkillResult): Reply => ({
  ok: true,
  requestId: 'req-0001',
  skill: 'pods-list',
  durationMs: 42,
  result,
});

const failed = (error: WheelhouseError): Reply => ({
  ok: false,
  requestId: 'req-0002',
  skill: 'pods-list',
  durationMs: 7,
  error,
});

const png: Attachment = {
  name: 'checkout-cpu.png',
  title: 'CPU of checkout',
  mimeType: 'image/png',
  content: new Uint8Array([0x89, 0x50, 0x4e, 0x47]),
};

const SECTIONS: Record<Section['type'], { section: Section; attachments?: Attachment[] }> = {
  table: {
    section: {
      type: 'table',
      columns: ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'],
      rows: [
        ['checkout-7d9f8b6c5-2xkqp', '1/1', 'Running', '0', '3d'],
        ['checkout-7d9f8b6c5-9wq4z', '0/1', 'CrashLoopBackOff', '17', '3d'],
        ['payments-5c7b9d8f4-h7k2m', '1/1', 'Running', '1', '12h'],
      ],
      caption: '1 of 3 pods is unhealthy',
    },
  },
  fields: {
    section: {
      type: 'fields',
      title: 'deploy/checkout',
      fields: [
        { label: 'Replicas', value: '2 desired, 1 available' },
        { label: 'Image', value: 'registry.example.com/shop/checkout:1.42.0' },
        { label: 'Progressing', value: 'True (NewReplicaSetAvailable)' },
        { label: 'Available', value: 'False (MinimumReplicasUnavailable)' },
      ],
    },
  },
  text: {
    section: {
      type: 'text',
      text: 'The readiness probe fails: GET /healthz answered 503 <Service Unavailable> & the pod restarts.',
      tone: 'warning',
    },
  },
  list: {
    section: {
      type: 'list',
      title: 'Why checkout is unhealthy',
      items: [
        'checkout-7d9f8b6c5-9wq4z restarted 17 times (OOMKilled)',
        'memory limit 256Mi, last usage 255Mi',
        'event: Back-off restarting failed container',
      ],
      tone: 'error',
    },
  },
  logs: {
    section: {
      type: 'logs',
      lines: [
        '2024-05-01T12:00:01Z INFO  starting checkout 1.42.0',
        '2024-05-01T12:00:02Z INFO  connected to postgres://db:5432/shop',
        '2024-05-01T12:00:05Z WARN  cache miss ratio 0.93 > 0.5',
        '2024-05-01T12:00:09Z ERROR payment call failed: <nil> & retry 3/3',
        '2024-05-01T12:00:09Z FATAL out of memory',
      ],
      total: 1200,
      attachment: 'checkout-logs.txt',
    },
    attachments: [
      { name: 'checkout-logs.txt', title: 'All 1200 lines', mimeType: 'text/plain', content: 'all lines\n' },
    ],
  },
  chart: {
    section: {
      type: 'chart',
      title: 'CPU of deploy/checkout (last 1h)',
      attachment: 'checkout-cpu.png',
      stats: [
        { series: 'checkout-7d9f8b6c5-2xkqp', min: 0.012, avg: 0.1534, max: 0.61, last: 0.2, unit: 'cores' },
        { series: 'checkout-7d9f8b6c5-9wq4z', min: 0, avg: 0.08, max: 1.25, last: 0, unit: 'cores' },
      ],
    },
    attachments: [png],
  },
  actions: {
    section: {
      type: 'actions',
      actions: [
        { label: 'Approve', command: 'approve 3f2a9c1e', style: 'primary' },
        { label: 'Deny', command: 'deny 3f2a9c1e', style: 'danger' },
        { label: 'Show the diff <again> & more', command: 'diff 3f2a9c1e' },
      ],
    },
  },
};

const isErrorCode = (key: string): key is ErrorCode => key in ERROR_PRESENTATION;

/** Slack's own checks (as the peer models them) plus the budget Wheelhouse keeps. */
function expectWithinSlackLimits(message: RenderedMessage): void {
  expect(validateMessage({ text: message.text, blocks: message.blocks })).toBeUndefined();
  expect(message.blocks.length).toBeLessThanOrEqual(50);
  expect(JSON.stringify(message.blocks).length).toBeLessThan(12_000);
  for (const block of message.blocks) {
    if (block.type !== 'section') continue;
    expect(block.text?.text.length ?? 0).toBeLessThanOrEqual(3000);
    expect(block.fields?.length ?? 0).toBeLessThanOrEqual(10);
    for (const f of block.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(2000);
  }
}

/** Snapshot form: binary file contents shown by size, so goldens stay readable. */
const golden = (message: RenderedMessage): string =>
  `${JSON.stringify(
    {
      ...message,
      files: message.files.map((f) => ({
        ...f,
        content: typeof f.content === 'string' ? f.content : `<${f.content.length} bytes>`,
      })),
    },
    null,
    2,
  )}\n`;

const allText = (blocks: BlockKitBlock[]): string => blocks.flatMap(blockTexts).join('\n');

const fileText = (message: RenderedMessage, name: string): string => {
  const file = message.files.find((f) => f.name === name);
  if (file === undefined)
    throw new Error(`no file ${name}; files: ${message.files.map((f) => f.name).join(', ')}`);
  return typeof file.content === 'string' ? file.content : Buffer.from(file.content).toString('utf8');
};

describe('renderReply golden snapshots', () => {
  for (const [kind, { section, attachments }] of Object.entries(SECTIONS)) {
    it(`renders a ${kind} section`, async () => {
      const message = renderReply(
        ok({
          summary: `3 pods in shop, 1 unhealthy (${kind})`,
          tone: 'warning',
          sections: [section],
          ...(attachments ? { attachments } : {}),
        }),
        { requestedBy: { userId: 'U0001', text: '/wh pods shop' } },
      );
      expectWithinSlackLimits(message);
      await expect(golden(message)).toMatchFileSnapshot(
        `../../fixtures/golden/block-kit/section-${kind}.json`,
      );
    });
  }

  for (const code of Object.keys(ERROR_PRESENTATION).filter(isErrorCode)) {
    it(`renders the ${code} error with message, hint and request id`, async () => {
      const message = renderReply(
        failed(
          new WheelhouseError(code, `Example ${code} message about <shop> & friends.`, {
            hint: 'Try `/wh pods -A` to see every namespace.',
            detail: { secret: 'never shown in chat' },
          }),
        ),
      );
      expectWithinSlackLimits(message);
      const text = allText(message.blocks);
      expect(text).toContain(`Example ${code} message about &lt;shop&gt; &amp; friends.`);
      expect(text).toContain('Try `/wh pods -A` to see every namespace.');
      expect(text).not.toContain('never shown in chat');
      const last = message.blocks.at(-1);
      expect(last?.type).toBe('context');
      expect(last?.type === 'context' && last.elements[0]?.text).toContain('`req-0002`');
      expect(message.blocks[0]?.type === 'section' && message.blocks[0].text?.text).toContain(
        ERROR_PRESENTATION[code].emoji,
      );
      await expect(golden(message)).toMatchFileSnapshot(`../../fixtures/golden/block-kit/error-${code}.json`);
    });
  }
});

describe('error presentation', () => {
  it('gives every error code its own emoji, so denials and outages look different', () => {
    const emojis = Object.values(ERROR_PRESENTATION).map((p) => p.emoji);
    expect(new Set(emojis).size).toBe(emojis.length);
    expect(ERROR_PRESENTATION.FORBIDDEN.emoji).not.toBe(ERROR_PRESENTATION.POLICY_DENIED.emoji);
  });

  it('leaves out the hint block when there is no hint', () => {
    const message = renderReply(failed(new WheelhouseError('NOT_FOUND', 'No deployment "chekout" in shop.')));
    expect(message.blocks.map((b) => b.type)).toEqual(['section', 'context']);
    expect(message.text).toBe('Not found: No deployment "chekout" in shop.');
  });
});

describe('Slack limits', () => {
  const bigTable: Section = {
    type: 'table',
    columns: ['NAME', 'STATUS', 'RESTARTS', 'NODE'],
    rows: Array.from({ length: 500 }, (_, i) => [
      `web-${String(i).padStart(4, '0')}`,
      'Running',
      String(i % 9),
      `node-${i % 12}`,
    ]),
  };
  const bigLogs: Section = {
    type: 'logs',
    lines: Array.from(
      { length: 5000 },
      (_, i) => `2024-05-01T12:00:00Z INFO line ${String(i).padStart(4, '0')} <ok>`,
    ),
    total: 5000,
  };

  it('shows the start of a 500-row table and attaches all of it, saying so', () => {
    const message = renderReply(ok({ summary: '500 pods', sections: [bigTable] }));
    expectWithinSlackLimits(message);
    const text = allText(message.blocks);
    const shown = /showing (\d+) of 500 rows — full table attached as `table-1.txt`/.exec(text);
    expect(shown).not.toBeNull();
    const count = Number(shown?.[1]);
    expect(count).toBeGreaterThan(20);
    expect(count).toBeLessThan(500);
    expect(text).toContain(`web-${String(count - 1).padStart(4, '0')}`);
    expect(text).not.toContain(`web-${String(count).padStart(4, '0')}`);
    const file = fileText(message, 'table-1.txt');
    for (const i of [0, 250, 499]) expect(file).toContain(`web-${String(i).padStart(4, '0')}`);
    expect(file.split('\n')).toHaveLength(502);
  });

  it('shows the newest of 5,000 log lines and attaches every line, saying so', () => {
    const message = renderReply(ok({ summary: 'logs', sections: [bigLogs] }));
    expectWithinSlackLimits(message);
    const text = allText(message.blocks);
    const shown = /showing the last (\d+) of 5000 lines — all lines attached as `logs-1.txt`/.exec(text);
    expect(shown).not.toBeNull();
    expect(text).toContain('line 4999 &lt;ok&gt;');
    expect(text).not.toContain('line 0000 ');
    expect(fileText(message, 'logs-1.txt').split('\n')).toHaveLength(5000);
  });

  it('splits the message between a big table and big logs instead of letting one crowd out the other', () => {
    const message = renderReply(ok({ summary: 'both', sections: [bigTable, bigLogs] }));
    expectWithinSlackLimits(message);
    const text = allText(message.blocks);
    expect(text).toMatch(/showing \d+ of 500 rows/);
    expect(text).toMatch(/showing the last \d+ of 5000 lines/);
    expect(message.files.map((f) => f.name)).toEqual(['table-1.txt', 'logs-2.txt']);
  });

  it('points at the skill attachment when it already holds every log line', () => {
    const message = renderReply(
      ok({
        summary: 'logs',
        sections: [{ ...bigLogs, attachment: 'all.log' } satisfies Section],
        attachments: [{ name: 'all.log', title: 'All', mimeType: 'text/plain', content: 'x' }],
      }),
    );
    expect(allText(message.blocks)).toMatch(/all lines attached as `all.log`/);
    expect(message.files.map((f) => f.name)).toEqual(['all.log']);
  });

  it('puts at most 10 fields in a section and cuts long values visibly, attaching them whole', () => {
    const fields = Array.from({ length: 25 }, (_, i) => ({
      label: `label ${i}`,
      value: i === 3 ? 'v'.repeat(5000) : `v${i}`,
    }));
    const message = renderReply(ok({ summary: 'fields', sections: [{ type: 'fields', fields }] }));
    expectWithinSlackLimits(message);
    const sections = message.blocks.filter((b) => b.type === 'section' && b.fields !== undefined);
    expect(sections.map((b) => (b.type === 'section' ? b.fields?.length : 0))).toEqual([10, 10, 5]);
    expect(allText(message.blocks)).toContain(
      'long values shortened — all fields attached as `fields-1.txt`',
    );
    expect(fileText(message, 'fields-1.txt')).toContain('v'.repeat(5000));
  });

  it('splits long text into sections of at most 3,000 characters', () => {
    const text = Array.from({ length: 200 }, (_, i) => `Paragraph ${i}: ${'lorem ipsum '.repeat(8)}`).join(
      '\n',
    );
    const message = renderReply(ok({ summary: 'text', sections: [{ type: 'text', text }] }));
    expectWithinSlackLimits(message);
    expect(message.blocks.filter((b) => b.type === 'section').length).toBeGreaterThan(2);
    expect(allText(message.blocks)).toMatch(/showing \d+ of 200 lines — full text attached as `text-1.txt`/);
    expect(fileText(message, 'text-1.txt')).toBe(text);
  });

  it('splits one very long line without losing characters', () => {
    const line = 'x'.repeat(7000);
    const message = renderReply(ok({ summary: 'long', sections: [{ type: 'text', text: line }] }));
    expectWithinSlackLimits(message);
    const shown = message.blocks
      .flatMap((b) => (b.type === 'section' && b.text ? [b.text.text] : []))
      .slice(1);
    expect(shown.join('')).toBe(line);
  });

  it('attaches sections that do not fit at all and says how many', () => {
    const sections: Section[] = Array.from({ length: 8 }, (_, i) => ({ type: 'text', text: `section ${i}` }));
    const message = renderReply(ok({ summary: 'many', sections }), { limits: { maxBlocks: 6 } });
    expect(message.blocks.length).toBeLessThanOrEqual(6);
    expect(allText(message.blocks)).toMatch(
      /5 more sections did not fit in this message — attached as `more-sections.txt`/,
    );
    expect(fileText(message, 'more-sections.txt')).toBe(
      'section 3\n\nsection 4\n\nsection 5\n\nsection 6\n\nsection 7',
    );
  });

  it('cuts wide table cells in chat, marks it, and keeps them whole in the file', () => {
    const image = `registry.example.com/${'very-long-path/'.repeat(8)}checkout:1.0`;
    const message = renderReply(
      ok({ summary: 'images', sections: [{ type: 'table', columns: ['IMAGE'], rows: [[image]] }] }),
    );
    const text = allText(message.blocks);
    expect(text).not.toContain(image);
    expect(text).toContain('long values shortened — full table attached as `table-1.txt`');
    expect(fileText(message, 'table-1.txt')).toContain(image);
  });

  it('uses the documented defaults', () => {
    expect(BLOCK_KIT_LIMITS).toMatchObject({
      maxBlocks: 50,
      maxSectionChars: 3000,
      maxFieldsPerSection: 10,
      maxFieldChars: 2000,
      maxActionElements: 25,
    });
  });
});

describe('escaping', () => {
  it('keeps cluster text from forming mentions, links or broadcasts', () => {
    const message = renderReply(
      ok({
        summary: 'pod <!channel> & co',
        sections: [
          { type: 'table', columns: ['NAME'], rows: [['<!here>']] },
          { type: 'text', text: 'see <https://evil.example|this> & <@U999>' },
          { type: 'list', items: ['<#C123>'] },
          { type: 'fields', fields: [{ label: '<b>', value: '<!everyone>' }] },
          { type: 'logs', lines: ['<@U0001> said ```hi```'], total: 1 },
        ],
      }),
    );
    const json = JSON.stringify(message.blocks);
    for (const raw of [
      '<!channel>',
      '<!here>',
      '<https://',
      '<@U999>',
      '<#C123>',
      '<!everyone>',
      '<@U0001>',
    ]) {
      expect(json).not.toContain(raw);
    }
    expect(json).toContain('&lt;!here&gt;');
    expect(message.text).toBe('pod &lt;!channel&gt; &amp; co');
    // A ``` inside a log line must not close the code block early.
    const logBlock = message.blocks.find((b) => b.type === 'section' && b.text?.text.includes('said'));
    expect(logBlock?.type === 'section' && logBlock.text?.text.match(/```/g)).toHaveLength(2);
  });

  it('names who asked and what, as the first line', () => {
    const message = renderReply(ok({ summary: 's', sections: [] }), {
      requestedBy: { userId: 'U0001', text: '/wh logs `x` <y>' },
    });
    expect(message.blocks[0]).toEqual({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: '<@U0001> asked `/wh logs ˋxˋ &lt;y&gt;`' }],
    });
  });
});

describe('actions', () => {
  const actionsBlocks = (message: RenderedMessage): ActionsBlock[] =>
    message.blocks.filter((b): b is ActionsBlock => b.type === 'actions');

  it('renders one row of buttons whose values are the commands they stand for', () => {
    const message = renderReply(
      ok({ summary: 'Waiting for approval', sections: [SECTIONS.actions.section] }),
    );
    expectWithinSlackLimits(message);
    expect(actionsBlocks(message)).toEqual([
      {
        type: 'actions',
        block_id: 'wh-actions-1',
        elements: [
          {
            type: 'button',
            action_id: 'wh-command-0',
            text: { type: 'plain_text', text: 'Approve', emoji: true },
            value: 'approve 3f2a9c1e',
            style: 'primary',
          },
          {
            type: 'button',
            action_id: 'wh-command-1',
            text: { type: 'plain_text', text: 'Deny', emoji: true },
            value: 'deny 3f2a9c1e',
            style: 'danger',
          },
          {
            type: 'button',
            action_id: 'wh-command-2',
            // plain_text is shown as written: nothing to escape.
            text: { type: 'plain_text', text: 'Show the diff <again> & more', emoji: true },
            value: 'diff 3f2a9c1e',
          },
        ],
      },
    ]);
    expect(message.files).toEqual([]);
  });

  it('keeps every button id unique in a message with two rows of buttons', () => {
    const row: Section = { type: 'actions', actions: [{ label: 'A', command: 'approve abcdef' }] };
    const message = renderReply(ok({ summary: 's', sections: [row, row] }));
    expectWithinSlackLimits(message);
    expect(actionsBlocks(message).map((b) => b.block_id)).toEqual(['wh-actions-1', 'wh-actions-2']);
  });

  it('puts at most 25 buttons in the row and says what to type for the rest', () => {
    const actions = Array.from({ length: 30 }, (_, i) => ({
      label: `Pod ${i}`,
      command: `restart pod-${i}`,
    }));
    const message = renderReply(ok({ summary: 'pick', sections: [{ type: 'actions', actions }] }));
    expectWithinSlackLimits(message);
    const [row, ...more] = actionsBlocks(message);
    expect(more).toEqual([]);
    expect(row?.elements).toHaveLength(25);
    expect(row?.elements.at(-1)).toMatchObject({ action_id: 'wh-command-24', value: 'restart pod-24' });
    const text = allText(message.blocks);
    for (const i of [25, 29]) expect(text).toContain(`• Pod ${i}: type \`restart pod-${i}\``);
    expect(text).not.toContain('• Pod 24:');
  });

  it('cuts long labels to 75 characters and never makes a button of a command over 2,000 characters', () => {
    const long = `apply ${'x'.repeat(2100)}`;
    const message = renderReply(
      ok({
        summary: 'odd',
        sections: [
          {
            type: 'actions',
            actions: [
              { label: 'L'.repeat(100), command: 'approve abcdef' },
              { label: 'Apply it', command: long },
              { label: '  ', command: 'deny abcdef' },
            ],
          },
        ],
      }),
    );
    expectWithinSlackLimits(message);
    const [row] = actionsBlocks(message);
    expect(row?.elements.map((e) => [e.text.text, e.value])).toEqual([
      [`${'L'.repeat(74)}…`, 'approve abcdef'],
      ['deny abcdef', 'deny abcdef'],
    ]);
    // The long command is typed instead: shortened in chat, whole in the attached list.
    const text = allText(message.blocks);
    expect(text).toContain('• Apply it: type `apply xxx');
    expect(text).toContain('long items shortened — full list attached as `list-1.txt`');
    expect(fileText(message, 'list-1.txt')).toContain(long);
  });

  it('attaches the commands as text when even the buttons do not fit', () => {
    const sections: Section[] = [
      { type: 'text', text: 'one' },
      { type: 'text', text: 'two' },
      SECTIONS.actions.section,
    ];
    const message = renderReply(ok({ summary: 'tight', sections }), { limits: { maxBlocks: 5 } });
    expect(actionsBlocks(message)).toEqual([]);
    expect(fileText(message, 'more-sections.txt')).toBe(
      'Approve: type `approve 3f2a9c1e`\nDeny: type `deny 3f2a9c1e`\nShow the diff <again> & more: type `diff 3f2a9c1e`',
    );
  });

  it('reads a row of buttons as what to type, for text fallbacks', () => {
    const message = renderReply(ok({ summary: 's', sections: [SECTIONS.actions.section] }));
    const [row] = actionsBlocks(message);
    expect(row && blockTexts(row)).toEqual([
      'Approve: type `approve 3f2a9c1e`',
      'Deny: type `deny 3f2a9c1e`',
      'Show the diff <again> & more: type `diff 3f2a9c1e`',
    ]);
    expect(sectionToPlainText(SECTIONS.actions.section)).toBe(row && blockTexts(row).join('\n'));
  });
});

describe('charts', () => {
  it('keeps the PNG as a file and shows the stats as text', () => {
    const message = renderReply(
      ok({ summary: 'cpu', sections: [SECTIONS.chart.section], attachments: [png] }),
    );
    expect(message.files).toEqual([{ name: png.name, title: png.title, content: png.content }]);
    const text = allText(message.blocks);
    expect(text).toContain('chart attached as `checkout-cpu.png`');
    expect(text).toMatch(/checkout-7d9f8b6c5-9wq4z\s+0 cores\s+0.08 cores\s+1.25 cores\s+0 cores/);
  });

  it('says so when the chart image is missing', () => {
    const message = renderReply(ok({ summary: 'cpu', sections: [SECTIONS.chart.section] }));
    expect(allText(message.blocks)).toContain('the chart image `checkout-cpu.png` was not produced');
  });
});

describe('any mix of sections', () => {
  /** A small seeded generator, so the same 150 cases run every time. */
  function random(seed: number): () => number {
    let state = seed;
    return () => {
      state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
      return state / 2 ** 31;
    };
  }
  const rnd = random(42);
  const int = (max: number): number => Math.floor(rnd() * max);
  // Slices of one random string: cheap enough for thousands of lines per case.
  const pool = Array.from({ length: 20_000 }, () => 'ab<c&d e`*_\u00e9\u{1F600}'[int(12)] ?? 'x').join('');
  const word = (n: number): string => {
    const start = int(pool.length - n);
    return pool.slice(start, start + n);
  };
  const makeSection = (): Section => {
    switch (int(7)) {
      case 0:
        return {
          type: 'table',
          columns: ['A', 'B', 'C'],
          rows: Array.from({ length: int(400) }, () => [word(int(30)), word(int(90)), word(5)]),
        };
      case 1:
        return { type: 'logs', lines: Array.from({ length: int(3000) }, () => word(int(600))), total: 3000 };
      case 2:
        return { type: 'text', text: Array.from({ length: int(50) }, () => word(int(400))).join('\n') };
      case 3:
        return {
          type: 'list',
          title: word(10),
          items: Array.from({ length: int(200) }, () => word(int(100))),
        };
      case 4:
        return {
          type: 'fields',
          fields: Array.from({ length: int(40) }, () => ({ label: word(int(20)), value: word(int(2500)) })),
        };
      case 5:
        return {
          type: 'actions',
          actions: Array.from({ length: int(40) }, () => ({
            label: word(int(100)),
            command: word(int(2200)),
            ...(rnd() < 0.5 ? { style: 'danger' as const } : {}),
          })),
        };
      default:
        return {
          type: 'chart',
          title: word(20),
          attachment: 'c.png',
          stats: Array.from({ length: int(80) }, () => ({
            series: word(30),
            min: 0,
            avg: 1,
            max: 2,
            last: 1,
            unit: 'x',
          })),
        };
    }
  };

  it('always fits Slack, and whatever is not shown whole is in a file the message names', () => {
    for (let i = 0; i < 150; i += 1) {
      const sections = Array.from({ length: 1 + int(5) }, makeSection);
      const message = renderReply(ok({ summary: word(40), sections }), {
        requestedBy: { userId: 'U1', text: word(30) },
        limits: { maxBlocks: 49, maxMessageChars: 9_500 },
      });
      expectWithinSlackLimits(message);
      const text = allText(message.blocks);
      for (const f of message.files) expect(text).toContain(`\`${f.name}\``);
    }
  });
});
