import { describe, expect, it } from 'vitest';
import { WheelhouseError } from '../../../src/errors.ts';
import { formatTable, renderError, renderTerminal } from '../../../src/render/terminal.ts';
import type { Reply } from '../../../src/runner/types.ts';
import type { Attachment, Section, SkillResult } from '../../../src/skills/result.ts';

const PLAIN = { color: false };
const COLOR = { color: true };
const ESC = '\u001b[';
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point.
const ANSI = /\u001b\[\d+m/g;

const ok = (result: SkillResult): Reply => ({
  ok: true,
  requestId: 'req-0001',
  skill: 'pods-list',
  durationMs: 12,
  result,
});

const withSection = (section: Section, extra: Partial<SkillResult> = {}): Reply =>
  ok({ summary: 'Summary line', sections: [section], ...extra });

const fullLogs: Attachment = {
  name: 'checkout.log',
  title: 'All log lines',
  mimeType: 'text/plain',
  content: 'a\nb\nc\n',
};
const chartPng: Attachment = {
  name: 'cpu.png',
  title: 'CPU chart',
  mimeType: 'image/png',
  content: new Uint8Array([0x89, 0x50]),
};

describe('formatTable', () => {
  it('pads every column but the last to its widest cell, three spaces apart', () => {
    expect(
      formatTable(
        ['NAME', 'READY', 'STATUS'],
        [
          ['checkout-a', '1/1', 'Running'],
          ['cart', '0/1', 'CrashLoopBackOff'],
        ],
      ),
    ).toEqual([
      'NAME         READY   STATUS',
      'checkout-a   1/1     Running',
      'cart         0/1     CrashLoopBackOff',
    ]);
  });

  it('widens a column to its header and trims trailing blanks', () => {
    expect(formatTable(['NAMESPACE', 'X'], [['a', '']])).toEqual(['NAMESPACE   X', 'a']);
  });

  it('treats missing cells as empty', () => {
    expect(formatTable(['A', 'B', 'C'], [['1']])).toEqual(['A   B   C', '1']);
  });

  it('prints only the header for no rows', () => {
    expect(formatTable(['NAME', 'AGE'], [])).toEqual(['NAME   AGE']);
  });
});

describe('renderTerminal without colour', () => {
  it('renders a table with its caption under the summary and the tone mark', () => {
    const text = renderTerminal(
      withSection(
        {
          type: 'table',
          columns: ['NAME', 'STATUS'],
          rows: [
            ['checkout-b', 'CrashLoopBackOff'],
            ['cart-a', 'Running'],
          ],
          caption: '1 of 2 pods is unhealthy.',
        },
        { summary: '2 pods in shop, 1 unhealthy.', tone: 'warning' },
      ),
      PLAIN,
    );
    expect(text).toBe(
      [
        '! 2 pods in shop, 1 unhealthy.',
        '',
        'NAME         STATUS',
        'checkout-b   CrashLoopBackOff',
        'cart-a       Running',
        '1 of 2 pods is unhealthy.',
      ].join('\n'),
    );
    expect(text).not.toContain(ESC);
  });

  it('aligns the values of fields after the longest label, under an optional title', () => {
    const text = renderTerminal(
      withSection({
        type: 'fields',
        title: 'Rollout',
        fields: [
          { label: 'Replicas', value: '3 desired, 2 ready' },
          { label: 'Strategy', value: 'RollingUpdate' },
          { label: 'Image', value: 'shop/checkout:1.4' },
        ],
      }),
      PLAIN,
    );
    expect(text.split('\n').slice(2)).toEqual([
      'Rollout',
      'Replicas: 3 desired, 2 ready',
      'Strategy: RollingUpdate',
      'Image:    shop/checkout:1.4',
    ]);
  });

  it('renders text with its tone and a bullet list with its title', () => {
    const text = renderTerminal(
      ok({
        summary: 'checkout is not ready',
        tone: 'error',
        sections: [
          { type: 'text', text: 'Rollout finished.', tone: 'success' },
          {
            type: 'list',
            title: 'Why it is unhealthy',
            tone: 'error',
            items: ['checkout-b: CrashLoopBackOff', 'checkout-c: OOMKilled'],
          },
          { type: 'list', items: ['untitled item'] },
        ],
      }),
      PLAIN,
    );
    expect(text).toBe(
      [
        '✖ checkout is not ready',
        '',
        '✔ Rollout finished.',
        '',
        '✖ Why it is unhealthy',
        '  • checkout-b: CrashLoopBackOff',
        '  • checkout-c: OOMKilled',
        '',
        '  • untitled item',
      ].join('\n'),
    );
  });

  it('says "showing N of M lines" and where all lines were saved when logs are capped', () => {
    const reply = withSection(
      { type: 'logs', lines: ['line 1', 'line 2'], total: 120, attachment: fullLogs.name },
      { attachments: [fullLogs] },
    );
    const text = renderTerminal(reply, PLAIN, new Map([[fullLogs.name, '/data/files/req-checkout.log']]));
    expect(text.split('\n').slice(2)).toEqual([
      'line 1',
      'line 2',
      'showing 2 of 120 lines; all lines: /data/files/req-checkout.log',
    ]);
    // The path is given once, in the logs note, not again as a loose attachment line.
    expect(text.match(/req-checkout\.log/g)).toHaveLength(1);
  });

  it('still says "showing N of M" when the full log was not saved', () => {
    const text = renderTerminal(
      withSection({ type: 'logs', lines: ['only'], total: 3, attachment: 'missing.log' }),
      PLAIN,
    );
    expect(text.split('\n').slice(2)).toEqual(['only', 'showing 1 of 3 lines']);
  });

  it('prints every log line without a note when nothing was capped, and says so when empty', () => {
    expect(renderTerminal(withSection({ type: 'logs', lines: ['a', 'b'], total: 2 }), PLAIN)).toBe(
      'Summary line\n\na\nb',
    );
    expect(renderTerminal(withSection({ type: 'logs', lines: [], total: 0 }), PLAIN)).toBe(
      'Summary line\n\n(no log lines)',
    );
  });

  it('renders a chart as its title, the saved PNG path and a stats table with units', () => {
    const reply = withSection(
      {
        type: 'chart',
        title: 'CPU of deploy/checkout',
        attachment: chartPng.name,
        stats: [
          { series: 'checkout-a', min: 0.0123, avg: 0.25, max: 1.5, last: 12.345, unit: 'cores' },
          { series: 'checkout-b', min: 0, avg: 0.001, max: 2_500_000, last: 3, unit: '' },
        ],
      },
      { attachments: [chartPng] },
    );
    const text = renderTerminal(reply, PLAIN, new Map([[chartPng.name, '/data/files/cpu.png']]));
    expect(text.split('\n').slice(2)).toEqual([
      'CPU of deploy/checkout  (chart: /data/files/cpu.png)',
      'SERIES       MIN           AVG          MAX         LAST',
      'checkout-a   0.012 cores   0.25 cores   1.5 cores   12.3 cores',
      'checkout-b   0             1.00e-3      2.50e+6     3',
    ]);
    expect(text.match(/cpu\.png/g)).toHaveLength(1);
  });

  it('renders a chart without a path when the PNG was not saved', () => {
    const text = renderTerminal(
      withSection({ type: 'chart', title: 'Memory', attachment: 'mem.png', stats: [] }),
      PLAIN,
    );
    expect(text.split('\n').slice(2)).toEqual(['Memory', 'SERIES   MIN   AVG   MAX   LAST']);
  });

  it('lists a saved attachment that no section shows, and omits unsaved ones', () => {
    const csv: Attachment = { name: 'pods.csv', title: 'Every pod', mimeType: 'text/csv', content: 'x' };
    const reply = ok({ summary: 'Many pods', sections: [], attachments: [csv, fullLogs] });
    expect(renderTerminal(reply, PLAIN, new Map([['pods.csv', '/tmp/pods.csv']]))).toBe(
      'Many pods\n\nEvery pod: /tmp/pods.csv',
    );
  });

  it('says what to type for each action, since the console has no buttons', () => {
    const text = renderTerminal(
      withSection(
        {
          type: 'actions',
          actions: [
            { label: 'Approve', command: 'approve 3f2a9c1e', style: 'primary' },
            { label: 'Deny', command: 'deny 3f2a9c1e', style: 'danger' },
          ],
        },
        { summary: 'Waiting for approval: deploy checkout.', tone: 'warning' },
      ),
      PLAIN,
    );
    expect(text.split('\n')).toEqual([
      '! Waiting for approval: deploy checkout.',
      '',
      'Approve: type `approve 3f2a9c1e`',
      'Deny: type `deny 3f2a9c1e`',
    ]);
  });

  it('renders an error with its hint, code and request id', () => {
    const reply: Reply = {
      ok: false,
      requestId: 'req-0042',
      skill: 'pods-list',
      durationMs: 3,
      error: new WheelhouseError('KUBE_UNREACHABLE', 'I cannot reach the Kubernetes API.', {
        hint: 'Check that the cluster is up and your kubeconfig points at it.',
        detail: 'connect ECONNREFUSED 127.0.0.1:1',
      }),
    };
    const text = renderTerminal(reply, PLAIN);
    expect(text).toBe(
      [
        '✖ I cannot reach the Kubernetes API.',
        '  Check that the cluster is up and your kubeconfig points at it.',
        '  (KUBE_UNREACHABLE, request req-0042)',
      ].join('\n'),
    );
    expect(text).not.toContain('ECONNREFUSED');
  });

  it('renders an error without a hint as message and code only', () => {
    expect(renderError(new WheelhouseError('TIMEOUT', 'The request was cancelled.'), 'r-1', PLAIN)).toBe(
      '✖ The request was cancelled.\n  (TIMEOUT, request r-1)',
    );
  });
});

describe('renderTerminal with colour', () => {
  it('bolds the summary and table header, dims the caption, colours the tone', () => {
    const text = renderTerminal(
      withSection(
        { type: 'table', columns: ['NAME'], rows: [['a']], caption: 'one pod' },
        { summary: 'All good', tone: 'success' },
      ),
      COLOR,
    );
    expect(text.split('\n')).toEqual([
      `${ESC}32m✔ ${ESC}0m${ESC}1mAll good${ESC}0m`,
      '',
      `${ESC}1mNAME${ESC}0m`,
      'a',
      `${ESC}2mone pod${ESC}0m`,
    ]);
  });

  it('dims the logs note and the chart path; stripped of escapes it equals the plain text', () => {
    const saved = new Map([
      [fullLogs.name, '/f/all.log'],
      [chartPng.name, '/f/cpu.png'],
    ]);
    const reply = ok({
      summary: 'Logs and a chart',
      tone: 'warning',
      sections: [
        { type: 'logs', lines: ['x'], total: 5, attachment: fullLogs.name },
        {
          type: 'chart',
          title: 'CPU',
          attachment: chartPng.name,
          stats: [{ series: 's', min: 1, avg: 2, max: 3, last: 4, unit: 'cores' }],
        },
        { type: 'fields', title: 'F', fields: [{ label: 'k', value: 'v' }] },
        { type: 'list', title: 'L', tone: 'warning', items: ['i'] },
        { type: 'text', text: 'T', tone: 'error' },
      ],
      attachments: [fullLogs, chartPng],
    });
    const colored = renderTerminal(reply, COLOR, saved);
    expect(colored).toContain(`${ESC}2mshowing 1 of 5 lines; all lines: /f/all.log${ESC}0m`);
    expect(colored).toContain(`${ESC}1mCPU${ESC}0m${ESC}2m  (chart: /f/cpu.png)${ESC}0m`);
    expect(colored).toContain(`${ESC}33m! ${ESC}0m${ESC}1mL${ESC}0m`);
    expect(colored).toContain(`${ESC}31m✖ ${ESC}0mT`);
    expect(colored.replace(ANSI, '')).toBe(renderTerminal(reply, PLAIN, saved));
  });

  it('colours the command to type; stripped of escapes it equals the plain text', () => {
    const reply = withSection({
      type: 'actions',
      actions: [{ label: 'Approve', command: 'approve abc123' }],
    });
    const colored = renderTerminal(reply, COLOR);
    expect(colored.split('\n').at(-1)).toBe(`Approve: type ${ESC}36m\`approve abc123\`${ESC}0m`);
    expect(colored.replace(ANSI, '')).toBe(renderTerminal(reply, PLAIN));
  });

  it('colours the error mark red and dims the code line', () => {
    const text = renderError(
      new WheelhouseError('UNKNOWN_SKILL', 'I don\'t know the command "frobnicate".', {
        hint: '`/wh help` lists every command.',
      }),
      'req-9',
      COLOR,
    );
    expect(text.split('\n')).toEqual([
      `${ESC}31m✖ ${ESC}0mI don't know the command "frobnicate".`,
      '  `/wh help` lists every command.',
      `${ESC}2m  (UNKNOWN_SKILL, request req-9)${ESC}0m`,
    ]);
  });
});
