import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RolloutProgress } from '../../../src/changes/types.ts';
import { progressLine, runConsole } from '../../../src/chat/console/console-surface.ts';
import type { RequestHandler } from '../../../src/runner/types.ts';
import type { Actor } from '../../../src/skills/context.ts';

const actor: Actor = { surface: 'console', id: 'alice', name: 'alice', kube: undefined };
const target = {
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  kind: 'Deployment',
  namespace: 'shop',
  name: 'checkout',
};

function state(
  updated: number,
  ready: number,
  available: number,
  phase: RolloutProgress['phase'] = 'progressing',
  extra: Partial<RolloutProgress> = {},
): RolloutProgress {
  return { target, desired: 3, updated, ready, available, phase, message: `at ${updated}`, ...extra };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wh-console-progress-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(handler: RequestHandler, script: string): Promise<string> {
  const input = new PassThrough();
  const output = new PassThrough();
  const chunks: Buffer[] = [];
  output.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = runConsole({ handler, actor, input, output, filesDir: dir, color: false, banner: '' });
  input.end(script);
  await done;
  return Buffer.concat(chunks).toString('utf8');
}

describe('console rollout progress', () => {
  it('prints one line per change, skips repeats, and answers after the last one', async () => {
    const handler: RequestHandler = {
      async handle(request) {
        const events = [
          state(1, 0, 0),
          // Only the controller's message changed: the same line, not printed twice.
          state(1, 0, 0, 'progressing', { message: 'waiting' }),
          state(2, 1, 1),
          state(3, 3, 3, 'done'),
        ];
        for (const e of events) request.onProgress?.(e);
        return {
          ok: true,
          requestId: 'req-00000001',
          skill: 'deploy-set-image',
          durationMs: 3,
          result: { summary: 'Done and verified.', tone: 'success', sections: [] },
        };
      },
    };
    const out = await run(handler, 'set image checkout v2\n');
    const lines = out.split('\n');
    const progress = lines.filter((l) => / (Rolling|Rolled) out /.test(l));
    expect(progress).toEqual([
      '↻ Rolling out deploy/checkout in shop: 1/3 updated · 0/3 ready · 0/3 available',
      '↻ Rolling out deploy/checkout in shop: 2/3 updated · 1/3 ready · 1/3 available',
      '✔ Rolled out deploy/checkout in shop: 3/3 updated · 3/3 ready · 3/3 available',
    ]);
    expect(out.indexOf('✔ Rolled out')).toBeLessThan(out.indexOf('Done and verified.'));
  });

  it('prints a failed rollout with its message and problems, and never fails the request', async () => {
    const failed = state(1, 0, 0, 'failed', {
      message: 'deploy/checkout exceeded its progress deadline of 600s',
      problems: ['pod checkout-7f9: ImagePullBackOff'],
    });
    expect(progressLine(failed)).toBe(
      '✖ Rollout of deploy/checkout in shop failed: 1/3 updated · 0/3 ready · 0/3 available — ' +
        'deploy/checkout exceeded its progress deadline of 600s\n    pod checkout-7f9: ImagePullBackOff',
    );
    expect(progressLine(state(1, 0, 0), true)).toBe(
      '\u001b[36m↻\u001b[0m Rolling out deploy/checkout in shop: 1/3 updated · 0/3 ready · 0/3 available',
    );
  });
});
