import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runConsole } from '../../../src/chat/console/console-surface.ts';
import { WheelhouseError } from '../../../src/errors.ts';
import type { ChatRequest, Reply, RequestHandler } from '../../../src/runner/types.ts';
import type { Actor } from '../../../src/skills/context.ts';
import type { SkillResult } from '../../../src/skills/result.ts';

const actor: Actor = { surface: 'console', id: 'alice', name: 'alice', kube: undefined };

/** A handler that records what it was asked and answers from a script (default: echo the text). */
function stubHandler(answer: (request: ChatRequest, n: number) => Reply = echo) {
  const requests: ChatRequest[] = [];
  const handler: RequestHandler = {
    async handle(request) {
      requests.push(request);
      return answer(request, requests.length);
    },
  };
  return { handler, requests };
}

function echo(request: ChatRequest, n: number): Reply {
  return ok(`req-${n}-0000000000`, { summary: `you said: ${request.text}`, sections: [] });
}

function ok(requestId: string, result: SkillResult): Reply {
  return { ok: true, requestId, skill: 'pods-list', durationMs: 1, result };
}

let filesDir: string;
beforeEach(async () => {
  filesDir = join(await mkdtemp(join(tmpdir(), 'wh-console-')), 'files');
});
afterEach(async () => {
  await rm(dirname(filesDir), { recursive: true, force: true });
});

/** Runs the console over `script` (written then ended) and returns everything it printed. */
async function run(
  handler: RequestHandler,
  script: string,
  banner = 'Wheelhouse console — test',
): Promise<string> {
  const input = new PassThrough();
  const output = new PassThrough();
  const chunks: Buffer[] = [];
  output.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = runConsole({ handler, actor, input, output, filesDir, color: false, banner });
  input.end(script);
  await done;
  return Buffer.concat(chunks).toString('utf8');
}

describe('runConsole', () => {
  it('prints the banner, then handles each line in order as the console actor', async () => {
    const { handler, requests } = stubHandler();
    const out = await run(handler, 'help\npods shop\nlogs deploy/checkout -n shop\n');
    expect(requests.map((r) => r.text)).toEqual(['help', 'pods shop', 'logs deploy/checkout -n shop']);
    expect(requests.every((r) => r.actor === actor)).toBe(true);
    expect(out.startsWith('Wheelhouse console — test\nType `help` for commands, `exit` to leave.\n')).toBe(
      true,
    );
    const answers = ['you said: help', 'you said: pods shop', 'you said: logs deploy/checkout -n shop'];
    const positions = answers.map((a) => out.indexOf(a));
    expect(positions.every((p) => p > 0)).toBe(true);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
  });

  it('waits for each answer before handling the next line', async () => {
    const order: string[] = [];
    let release: (() => void) | undefined;
    const handler: RequestHandler = {
      async handle(request) {
        order.push(`start ${request.text}`);
        if (request.text === 'slow') await new Promise<void>((resolve) => (release = resolve));
        order.push(`end ${request.text}`);
        return echo(request, order.length);
      },
    };
    const input = new PassThrough();
    const output = new PassThrough();
    output.resume();
    const done = runConsole({ handler, actor, input, output, filesDir, color: false, banner: '' });
    input.end('slow\nfast\n');
    await new Promise<void>((resolve) => {
      const poll = () => (release ? resolve() : setImmediate(poll));
      poll();
    });
    expect(order).toEqual(['start slow']);
    release?.();
    await done;
    expect(order).toEqual(['start slow', 'end slow', 'start fast', 'end fast']);
  });

  it('ignores blank and whitespace-only lines and trims the others', async () => {
    const { handler, requests } = stubHandler();
    await run(handler, '\n   \n  pods shop  \n\t\n\r\nevents shop\n');
    expect(requests.map((r) => r.text)).toEqual(['pods shop', 'events shop']);
  });

  it('stops at `exit` (and `quit`) without handling what follows', async () => {
    const first = stubHandler();
    const out = await run(first.handler, 'pods shop\nexit\npods payments\n');
    expect(first.requests.map((r) => r.text)).toEqual(['pods shop']);
    expect(out).not.toContain('payments');

    const second = stubHandler();
    await run(second.handler, '  quit  \npods shop\n');
    expect(second.requests).toEqual([]);
  });

  it('returns when the input ends without `exit`, handling a last line without a newline', async () => {
    const { handler, requests } = stubHandler();
    await run(handler, 'pods shop\nevents shop');
    expect(requests.map((r) => r.text)).toEqual(['pods shop', 'events shop']);
  });

  it('prints errors with their hint and code', async () => {
    const { handler } = stubHandler((request) => ({
      ok: false,
      requestId: 'req-err',
      skill: undefined,
      durationMs: 1,
      error: new WheelhouseError('UNKNOWN_SKILL', `I don't know the command "${request.text}".`, {
        hint: 'Did you mean `pods`?',
      }),
    }));
    const out = await run(handler, 'frobnicate\n');
    expect(out).toContain(
      '✖ I don\'t know the command "frobnicate".\n  Did you mean `pods`?\n  (UNKNOWN_SKILL, request req-err)',
    );
  });

  it('saves attachments under filesDir and prints where', async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a]);
    const { handler } = stubHandler(() =>
      ok('0123456789abcdef', {
        summary: 'CPU of deploy/checkout',
        sections: [
          { type: 'chart', title: 'CPU', attachment: 'cpu chart.png', stats: [] },
          { type: 'logs', lines: ['l1'], total: 2, attachment: 'checkout.log' },
        ],
        attachments: [
          { name: 'cpu chart.png', title: 'CPU chart', mimeType: 'image/png', content: png },
          { name: 'checkout.log', title: 'All lines', mimeType: 'text/plain', content: 'l1\nl2\n' },
          { name: '../../escape.txt', title: 'Notes', mimeType: 'text/plain', content: 'kept inside' },
        ],
      }),
    );
    const out = await run(handler, 'metrics cpu deploy/checkout -n shop\n');
    const chart = join(filesDir, '01234567-cpu_chart.png');
    const logs = join(filesDir, '01234567-checkout.log');
    const notes = join(filesDir, '01234567-.._.._escape.txt');
    expect((await readdir(filesDir)).sort()).toEqual(
      ['01234567-.._.._escape.txt', '01234567-checkout.log', '01234567-cpu_chart.png'].sort(),
    );
    expect(new Uint8Array(await readFile(chart))).toEqual(png);
    expect(await readFile(logs, 'utf8')).toBe('l1\nl2\n');
    expect(await readFile(notes, 'utf8')).toBe('kept inside');
    expect(out).toContain(`CPU  (chart: ${chart})`);
    expect(out).toContain(`showing 1 of 2 lines; all lines: ${logs}`);
    expect(out).toContain(`Notes: ${notes}`);
  });

  it('writes no files for answers without attachments or for errors', async () => {
    const { handler } = stubHandler();
    await run(handler, 'pods shop\n');
    await expect(readdir(filesDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('prints no prompt when the input is not a terminal', async () => {
    const { handler } = stubHandler();
    const out = await run(handler, 'pods shop\n');
    expect(out).not.toContain('wh> ');
  });

  it('prompts before each line when the input is a terminal', async () => {
    const { handler } = stubHandler();
    const input = Object.assign(new PassThrough(), { isTTY: true });
    const output = new PassThrough();
    const chunks: Buffer[] = [];
    output.on('data', (chunk: Buffer) => chunks.push(chunk));
    const done = runConsole({ handler, actor, input, output, filesDir, color: false, banner: 'B' });
    input.end('pods shop\n');
    await done;
    const out = Buffer.concat(chunks).toString('utf8');
    expect(out.match(/wh> /g)).toHaveLength(2);
    expect(out.indexOf('wh> ')).toBeLessThan(out.indexOf('you said: pods shop'));
  });
});

describe('as <user>', () => {
  it('switches to a configured user for the following lines, and refuses unknown ones', async () => {
    const seen: string[] = [];
    const handler = {
      handle: async (request: { text: string; actor: { id: string } }) => {
        seen.push(`${request.actor.id}:${request.text}`);
        return {
          ok: true as const,
          requestId: 'r',
          skill: undefined,
          durationMs: 0,
          result: { summary: 'ok', sections: [] },
        };
      },
    };
    const input = new PassThrough();
    const output = new PassThrough();
    let text = '';
    output.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    const done = runConsole({
      handler,
      actor: { surface: 'console', id: 'me', kube: undefined },
      input,
      output,
      filesDir: '/tmp',
      color: false,
      banner: '',
      switchUser: (name) =>
        name === 'ana'
          ? { surface: 'console', id: 'U-ANA', name: 'ana', kube: { user: 'ana', groups: ['approvers'] } }
          : undefined,
    });
    input.end('deploy x\nas ana\napprove abc123\nas nobody\nexit\n');
    await done;
    expect(seen).toEqual(['me:deploy x', 'U-ANA:approve abc123']);
    expect(text).toContain('Now acting as ana (Kubernetes user ana)');
    expect(text).toContain('No configured user "nobody"');
  });
});
