import { describe, expect, it } from 'vitest';
import {
  commandDigest,
  DENY_CALLBACK_ID,
  decides,
  decodeDenyMetadata,
  denyCommand,
  denyModal,
  denyWithoutReason,
  encodeDenyMetadata,
  isCommandAction,
  STATUS_BLOCK_ID,
  statusBlock,
  withStatus,
} from '../../../src/chat/slack/slack-actions.ts';
import { WheelhouseError } from '../../../src/errors.ts';
import { tokenize } from '../../../src/planner/tokenize.ts';
import { renderReply } from '../../../src/render/block-kit.ts';
import type { Reply } from '../../../src/runner/types.ts';
import type { SkillResult } from '../../../src/skills/result.ts';
import { validateMessage, validateModal } from '../../support/slack-peer.ts';

const ok = (result: SkillResult): Reply & { ok: true } => ({
  ok: true,
  requestId: 'r-1',
  skill: 'deploy',
  durationMs: 1,
  result,
});

const request = renderReply(
  ok({
    summary: 'Waiting for approval: deploy checkout.',
    tone: 'warning',
    sections: [
      { type: 'text', text: 'image checkout:1.42 → checkout:1.43' },
      {
        type: 'actions',
        actions: [
          { label: 'Approve', command: 'approve abc123', style: 'primary' },
          { label: 'Deny', command: 'deny abc123', style: 'danger' },
        ],
      },
    ],
  }),
).blocks;

const types = (blocks: unknown[]): string[] => blocks.map((b) => (b as { type: string }).type);

describe('command buttons', () => {
  it('knows its own buttons by action id', () => {
    expect(isCommandAction('wh-command-0')).toBe(true);
    expect(isCommandAction('approve')).toBe(false);
  });

  it('asks for a reason only for a bare `deny <id>`', () => {
    expect(denyWithoutReason('deny abc123')).toBe('abc123');
    expect(denyWithoutReason('  Deny   abc123 ')).toBe('abc123');
    expect(denyWithoutReason('deny abc123 too risky')).toBeUndefined();
    expect(denyWithoutReason('approve abc123')).toBeUndefined();
    expect(denyWithoutReason('deny x')).toBeUndefined();
  });

  it('writes the reason on one line, with quotes the tokenizer reads as letters', () => {
    const command = denyCommand('abc123', ` it's "risky"\n during\tthe sale `);
    expect(command).toBe('deny abc123 it\u02BCs \u2033risky\u2033 during the sale');
    expect(tokenize(command).map((t) => t.text)).toEqual([
      'deny',
      'abc123',
      'it\u02BCs',
      '\u2033risky\u2033',
      'during',
      'the',
      'sale',
    ]);
    expect(() => tokenize(denyCommand('abc123', "'unclosed"))).not.toThrow();
  });

  it('digests commands to short keys', () => {
    expect(commandDigest('approve abc123')).toMatch(/^[0-9a-f]{32}$/);
    expect(commandDigest('approve abc123')).not.toBe(commandDigest('approve abc124'));
  });
});

describe('the Deny modal', () => {
  it('is a valid modal whose metadata round-trips', () => {
    const view = denyModal({ a: 'abc123', c: 'C1', t: '1.2', m: '1.2', k: 'key', x: 'Waiting' });
    expect(view.callback_id).toBe(DENY_CALLBACK_ID);
    expect(validateModal(view, view.blocks as unknown[])).toEqual([]);
    expect(decodeDenyMetadata(view.private_metadata as string)).toEqual({
      a: 'abc123',
      c: 'C1',
      t: '1.2',
      m: '1.2',
      k: 'key',
      x: 'Waiting',
    });
  });

  it('keeps the metadata under 3,000 characters however long the message text', () => {
    const encoded = encodeDenyMetadata({ a: 'abc123', c: 'C1', x: 'y'.repeat(10_000) });
    expect(encoded.length).toBeLessThan(3000);
  });

  it('rejects metadata that is not ours', () => {
    expect(decodeDenyMetadata('not json')).toBeUndefined();
    expect(decodeDenyMetadata('{"a":"x","c":"C1"}')).toBeUndefined();
    expect(decodeDenyMetadata('{"a":"abc123"}')).toBeUndefined();
  });
});

describe('updating the message with the buttons', () => {
  const approved = ok({ summary: 'Approved and applied: deploy checkout.', tone: 'success', sections: [] });
  const oneMore = ok({ summary: 'Waiting for approval: 1 of 2 approvals.', tone: 'warning', sections: [] });

  it('decides on an ok answer that is not still waiting; errors decide nothing', () => {
    expect(decides(approved)).toBe(true);
    expect(decides(oneMore)).toBe(false);
    expect(
      decides({
        ok: false,
        requestId: 'r',
        skill: undefined,
        durationMs: 0,
        error: new WheelhouseError('FORBIDDEN', 'no'),
      }),
    ).toBe(false);
  });

  it('says who did what and how it went, escaped', () => {
    expect(statusBlock('U4', 'approve abc123', ok({ summary: 'ok <!here>', sections: [] }))).toEqual({
      type: 'context',
      block_id: STATUS_BLOCK_ID,
      elements: [{ type: 'mrkdwn', text: ':information_source: <@U4> `approve abc123`: ok &lt;!here&gt;' }],
    });
  });

  it('removes the buttons once decided and puts the status where they were', () => {
    const status = statusBlock('U4', 'approve abc123', approved);
    const blocks = withStatus(request, status, true);
    expect(types(request)).toEqual(['section', 'section', 'actions', 'context']);
    expect(types(blocks)).toEqual(['section', 'section', 'context', 'context']);
    expect(blocks[2]).toBe(status);
    expect(validateMessage({ text: 'x', blocks })).toBeUndefined();
  });

  it('keeps the buttons while waiting, and replaces the previous status instead of piling up', () => {
    const first = withStatus(request, statusBlock('U4', 'approve abc123', oneMore), false);
    const second = withStatus(first, statusBlock('U5', 'approve abc123', approved), false);
    expect(types(second)).toEqual(['section', 'section', 'actions', 'context', 'context']);
    expect(JSON.stringify(second)).toContain('<@U5>');
    expect(JSON.stringify(second)).not.toContain('<@U4>');
    expect(validateMessage({ text: 'x', blocks: second })).toBeUndefined();
  });

  it('adds the status at the end of a message without buttons, never past 50 blocks', () => {
    const status = statusBlock('U4', 'approve abc123', approved);
    expect(withStatus([{ type: 'section' }], status, true)).toEqual([{ type: 'section' }, status]);
    const full = Array.from({ length: 50 }, () => ({ type: 'divider' }));
    expect(withStatus(full, status, false)).toHaveLength(50);
  });
});
