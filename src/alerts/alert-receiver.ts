import { createHash, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { AuditEntry } from '../audit/audit-record.ts';
import { type HttpRequest, type HttpResponse, jsonResponse, type RouteHandler } from '../http/http-server.ts';
import type { AuditLog } from '../store/types.ts';
import { parseWebhookPayload, type WebhookPayload } from './alertmanager-payload.ts';
import type { Received } from './thread-keeper.ts';

/** Credentials Alertmanager must send (`http_config` of its webhook receiver). */
export interface WebhookAuth {
  /** `Authorization: Bearer <token>`. */
  token?: string | undefined;
  /** `Authorization: Basic …`. */
  basic?: { username: string; password: string } | undefined;
  /** Neither configured and this true: anyone who reaches the port may post. */
  allowUnauthenticated: boolean;
}

export interface AlertReceiverOptions {
  receive: (payload: WebhookPayload) => Promise<Received>;
  auth: WebhookAuth;
  audit: AuditLog;
  logger: Logger;
  now?: (() => Date) | undefined;
  newRequestId: () => string;
  /** Removes secrets from the start of a rejected body before it goes into the audit record. */
  redact?: ((text: string) => string) | undefined;
  /** Counts outcomes, e.g. for /metrics: accepted, duplicate, invalid, unauthorized, failed. */
  observe?: ((outcome: 'accepted' | 'duplicate' | 'invalid' | 'unauthorized' | 'failed') => void) | undefined;
}

/**
 * `POST /alerts`: the Alertmanager webhook (payload version 4). Authenticates, validates, folds
 * the notification into its group's thread state in the store, and answers; Slack is updated in
 * the background, so Alertmanager is never kept waiting on chat. A malformed payload gets 400 with
 * the reason and an audit record; a store failure 503, which Alertmanager retries (an identical
 * retry changes nothing).
 */
export function alertWebhookHandler(options: AlertReceiverOptions): RouteHandler {
  const now = options.now ?? (() => new Date());
  const logger = options.logger.child({ component: 'alerts' });
  return async (request: HttpRequest): Promise<HttpResponse> => {
    const started = performance.now();
    if (!authorized(request, options.auth)) {
      // Not audited: requests without credentials must not be able to write into the audit chain.
      logger.warn({ remote: request.remoteAddress }, 'Rejected an alert webhook without valid credentials');
      options.observe?.('unauthorized');
      return jsonResponse(
        401,
        { error: 'unauthorized', reason: 'send the bearer token or basic auth configured in alerts.*' },
        { 'www-authenticate': options.auth.basic ? 'Basic realm="wheelhouse"' : 'Bearer realm="wheelhouse"' },
      );
    }
    const requestId = options.newRequestId();
    const parsed = parseWebhookPayload(request.body);
    if (!parsed.ok) {
      options.observe?.('invalid');
      logger.warn({ reason: parsed.reason, requestId }, 'Rejected a malformed alert webhook');
      await options.audit
        .append(
          entry(requestId, now(), request, {
            type: 'alert.rejected',
            text: (options.redact ?? ((t: string) => t))(preview(request.body)),
            outcome: 'error',
            errorCode: 'INVALID_INPUT',
            message: parsed.reason,
            input: { bytes: request.body.length, sha256: sha256(request.body) },
            durationMs: Math.round(performance.now() - started),
          }),
        )
        .catch((error: unknown) => logger.error({ err: error }, 'Could not audit a rejected alert webhook'));
      return jsonResponse(400, { error: 'invalid_payload', reason: parsed.reason, requestId });
    }
    const payload = parsed.payload;
    let received: Received;
    try {
      received = await options.receive(payload);
    } catch (error) {
      options.observe?.('failed');
      logger.error(
        { err: error, groupKey: payload.groupKey, requestId },
        'Could not take an alert notification',
      );
      return jsonResponse(503, {
        error: 'unavailable',
        reason: 'the notification could not be stored; retry',
        requestId,
      });
    }
    options.observe?.(received.changed ? 'accepted' : 'duplicate');
    const firing = payload.alerts.filter((a) => a.status === 'firing').length;
    try {
      await options.audit.append(
        entry(requestId, now(), request, {
          type: 'alert.received',
          text: `${payload.status} ${payload.groupKey}`,
          outcome: 'ok',
          errorCode: null,
          message: `${payload.status}: ${firing} of ${payload.alerts.length} alert(s) firing${
            payload.truncatedAlerts ? `, ${payload.truncatedAlerts} truncated` : ''
          }; ${received.created ? 'new thread' : received.changed ? 'thread updated' : 'no change (repeat)'} in ${received.channel}`,
          input: {
            groupKey: payload.groupKey,
            incident: received.id,
            receiver: payload.receiver,
            fingerprints: payload.alerts.slice(0, 50).map((a) => `${a.fingerprint}:${a.status}`),
          },
          durationMs: Math.round(performance.now() - started),
        }),
      );
    } catch (error) {
      logger.error({ err: error, requestId }, 'Could not audit an alert notification');
      return jsonResponse(503, { error: 'audit_unavailable', requestId });
    }
    return jsonResponse(200, {
      status: received.changed ? 'accepted' : 'duplicate',
      incident: received.id,
      created: received.created,
      requestId,
    });
  };
}

function entry(
  requestId: string,
  time: Date,
  request: HttpRequest,
  fields: Pick<AuditEntry, 'type' | 'text' | 'outcome' | 'errorCode' | 'message' | 'input' | 'durationMs'>,
): AuditEntry {
  return {
    requestId,
    time: time.toISOString(),
    actor: { surface: 'http', id: 'alertmanager', name: request.remoteAddress },
    plan: null,
    skill: null,
    ...fields,
  };
}

/** Bearer or basic credentials, compared in constant time. */
export function authorized(request: Pick<HttpRequest, 'headers'>, auth: WebhookAuth): boolean {
  if (!auth.token && !auth.basic) return auth.allowUnauthenticated;
  const header = request.headers.authorization ?? '';
  const [scheme = '', value = ''] = header.split(/\s+/, 2);
  if (auth.token && scheme.toLowerCase() === 'bearer') return same(value, auth.token);
  if (auth.basic && scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    return same(decoded, `${auth.basic.username}:${auth.basic.password}`);
  }
  return false;
}

function same(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

function sha256(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

/** The start of a rejected body, for the audit record; never the whole thing. */
function preview(body: Buffer): string {
  const text = body.subarray(0, 300).toString('utf8').replace(/\s+/g, ' ');
  return body.length > 300 ? `${text}…` : text;
}
