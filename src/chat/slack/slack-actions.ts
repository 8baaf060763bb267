import { createHash } from 'node:crypto';
import { z } from 'zod';
import { COMMAND_ACTION_PREFIX, TONE_EMOJI } from '../../render/block-kit.ts';
import { cutText, escapeMrkdwn, inlineCode } from '../../render/mrkdwn.ts';
import type { Reply } from '../../runner/types.ts';

/**
 * Buttons whose value is a chat command (`approve 3f2a…`, `deny 3f2a…`), the Deny modal, and the
 * in-place update of the message that held the buttons. Pure helpers; the Slack surface wires them.
 */

/** True for the buttons the Block Kit renderer makes of an actions section. */
export function isCommandAction(actionId: string): boolean {
  return actionId.startsWith(COMMAND_ACTION_PREFIX);
}

/** Approval ids as the grammar accepts them. */
const APPROVAL_ID = /^[A-Za-z0-9-]{6,64}$/;

/**
 * The approval id of a bare `deny <id>`: that button asks for a reason in a modal before anything
 * is sent. A `deny <id> <reason>` button runs like any other command.
 */
export function denyWithoutReason(command: string): string | undefined {
  const match = /^deny\s+(\S+)$/i.exec(command.trim());
  const id = match?.[1];
  return id !== undefined && APPROVAL_ID.test(id) ? id : undefined;
}

/**
 * `deny <id> <reason>` with the reason on one line and without quote characters, which the
 * tokenizer would read as the start of a quoted word: they become look-alikes (″ and ʼ).
 */
export function denyCommand(approvalId: string, reason: string): string {
  const oneLine = reason
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/["\u201C\u201D]/g, '\u2033')
    .replace(/['\u2018\u2019]/g, '\u02BC');
  return `deny ${approvalId} ${oneLine}`;
}

/** Short, fixed-length digest of a command for idempotency keys (a value may be 2,000 characters). */
export function commandDigest(command: string): string {
  return createHash('sha256').update(command).digest('hex').slice(0, 32);
}

/** Where the Deny modal's answer goes; carried in its private_metadata (at most 3,000 characters). */
export const denyMetadataSchema = z.object({
  /** Approval id. */
  a: z.string().regex(APPROVAL_ID),
  /** Channel of the message with the buttons. */
  c: z.string().min(1),
  /** Thread the answer goes to. */
  t: z.string().optional(),
  /** ts of the message with the buttons, updated in place after the answer. */
  m: z.string().optional(),
  /** Key of the message's blocks, kept in memory while the modal is open. */
  k: z.string().optional(),
  /** The message's fallback text, for when its blocks are no longer in memory. */
  x: z.string().optional(),
});
export type DenyMetadata = z.infer<typeof denyMetadataSchema>;

export function encodeDenyMetadata(meta: DenyMetadata): string {
  return JSON.stringify({ ...meta, x: meta.x === undefined ? undefined : cutText(meta.x, 1000).text });
}

export function decodeDenyMetadata(text: string): DenyMetadata | undefined {
  try {
    const parsed = denyMetadataSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export const DENY_CALLBACK_ID = 'wh-deny';
export const DENY_REASON_BLOCK = 'wh-deny-reason';
export const DENY_REASON_ACTION = 'reason';
/** Longest reason the modal takes. */
export const DENY_REASON_MAX = 500;

/** The modal a Deny button opens: one required input for the reason. */
export function denyModal(meta: DenyMetadata): Record<string, unknown> {
  return {
    type: 'modal',
    callback_id: DENY_CALLBACK_ID,
    private_metadata: encodeDenyMetadata(meta),
    title: { type: 'plain_text', text: 'Deny the change' },
    submit: { type: 'plain_text', text: 'Deny' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `Deny change ${inlineCode(meta.a)}? The requester and the thread see your reason.`,
        },
      },
      {
        type: 'input',
        block_id: DENY_REASON_BLOCK,
        label: { type: 'plain_text', text: 'Reason' },
        element: {
          type: 'plain_text_input',
          action_id: DENY_REASON_ACTION,
          multiline: true,
          max_length: DENY_REASON_MAX,
          placeholder: { type: 'plain_text', text: 'e.g. not during the sale; ship it tomorrow' },
        },
      },
    ],
  };
}

/**
 * Whether an answer decides the approval, so its buttons come off the message: the rule is kept
 * simple on purpose — an `ok` reply whose summary does not start with "Waiting for approval"
 * (more votes are needed) decides it. Errors (refused vote, expired, already decided) leave the
 * message as it is; the clicker sees the error privately.
 */
export function decides(reply: Reply): boolean {
  return reply.ok && !reply.result.summary.startsWith('Waiting for approval');
}

export const STATUS_BLOCK_ID = 'wh-status';

/** The line under the buttons that says who did what and the outcome. */
export function statusBlock(
  userId: string,
  command: string,
  reply: Reply & { ok: true },
): Record<string, unknown> {
  const summary = cutText(reply.result.summary, 500).text;
  return {
    type: 'context',
    block_id: STATUS_BLOCK_ID,
    elements: [
      {
        type: 'mrkdwn',
        text: `${TONE_EMOJI[reply.result.tone ?? 'info']} <@${escapeMrkdwn(userId)}> ${inlineCode(cutText(command, 300).text)}: ${escapeMrkdwn(summary)}`,
      },
    ],
  };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A row of our command buttons. */
function isCommandRow(block: unknown): boolean {
  return (
    isRecord(block) &&
    block.type === 'actions' &&
    Array.isArray(block.elements) &&
    block.elements.some((e) => isRecord(e) && typeof e.action_id === 'string' && isCommandAction(e.action_id))
  );
}

/**
 * The message's blocks with the status line in place of the previous one, right under the
 * buttons; the rows of command buttons are removed when the approval is decided. Blocks of other
 * kinds are sent back exactly as Slack gave them. Never more than Slack's 50 blocks.
 */
export function withStatus(blocks: readonly unknown[], status: unknown, decided: boolean): unknown[] {
  const out: unknown[] = [];
  let placed = false;
  for (const block of blocks) {
    if (isRecord(block) && block.block_id === STATUS_BLOCK_ID) continue;
    if (isCommandRow(block)) {
      // An incident's buttons (Silence, Restart …) stay for the incident's life, not one decision.
      if (!decided || (isRecord(block) && block.block_id === 'wh-incident-actions')) out.push(block);
      if (!placed) out.push(status);
      placed = true;
      continue;
    }
    out.push(block);
  }
  if (!placed) out.push(status);
  if (out.length <= 50) return out;
  return out.filter((b) => b !== status);
}
