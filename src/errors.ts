/**
 * Coded errors that tell the user what happened and what to do next.
 * The `detail` (status, body, stack of the cause) goes to the log and the audit, never to chat.
 */
export type ErrorCode =
  | 'GRAMMAR'
  | 'UNKNOWN_SKILL'
  | 'INVALID_INPUT'
  | 'NOT_FOUND'
  | 'FORBIDDEN'
  | 'POLICY_DENIED'
  | 'KUBE_UNREACHABLE'
  | 'SOURCE_NOT_CONFIGURED'
  | 'SOURCE_UNAVAILABLE'
  | 'SOURCE_TIMEOUT'
  | 'SOURCE_ERROR'
  | 'INVALID_QUERY'
  | 'RATE_LIMITED'
  | 'CONFLICT'
  | 'DRY_RUN_REJECTED'
  | 'TIMEOUT'
  | 'AUDIT_UNAVAILABLE'
  | 'CONFIG'
  | 'INTERNAL';

export interface WheelhouseErrorOptions {
  /** What the user can do next, e.g. "Check the namespace with `/wh pods -A`". */
  hint?: string;
  /** Technical detail for logs and audit only. */
  detail?: unknown;
  cause?: unknown;
}

export class WheelhouseError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly detail: unknown;

  constructor(code: ErrorCode, message: string, options: WheelhouseErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WheelhouseError';
    this.code = code;
    this.hint = options.hint;
    this.detail = options.detail;
  }
}

export function isWheelhouseError(e: unknown): e is WheelhouseError {
  return e instanceof WheelhouseError;
}

/** Wraps anything thrown into a WheelhouseError so that no surface ever shows a raw stack. */
export function toWheelhouseError(e: unknown): WheelhouseError {
  if (e instanceof WheelhouseError) return e;
  if (e instanceof Error && e.name === 'AbortError') {
    return new WheelhouseError('SOURCE_TIMEOUT', 'The request was cancelled or timed out.', { cause: e });
  }
  const message = e instanceof Error ? e.message : String(e);
  return new WheelhouseError(
    'INTERNAL',
    'Something went wrong inside Wheelhouse; the details are in the log.',
    {
      detail: message,
      cause: e,
    },
  );
}
