import { createHmac } from 'node:crypto';
import type { PipelineSpec } from './pipeline-config.ts';
import type { RunState } from './run-state.ts';

/** Header with `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`, keyed with the pipeline's secret. */
export const SIGNATURE_HEADER = 'x-wheelhouse-signature';
export const TIMESTAMP_HEADER = 'x-wheelhouse-timestamp';
/** The run's name: the same delivery sent twice (after a restart) can be recognised by the receiver. */
export const DELIVERY_HEADER = 'x-wheelhouse-delivery';

export function signBody(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * Starts a run of an external CI system (Jenkins, GitLab, GitHub Actions, …): one POST of the run
 * as JSON, signed. 2xx is started; anything else (or no answer in time) fails the run with why.
 */
export async function callWebhook(
  pipeline: Extract<PipelineSpec, { type: 'webhook' }>,
  run: RunState,
  now: Date,
): Promise<{ ok: boolean; message: string }> {
  const body = JSON.stringify({
    run: run.name,
    pipeline: run.pipeline,
    params: run.params,
    requestedBy: { id: run.requester.id, name: run.requester.name, kubeUser: run.requester.kubeUser },
    auditId: run.requestId,
    channel: run.where.channel,
  });
  const timestamp = String(Math.floor(now.getTime() / 1000));
  try {
    const response = await fetch(pipeline.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [SIGNATURE_HEADER]: signBody(pipeline.secret, timestamp, body),
        [TIMESTAMP_HEADER]: timestamp,
        [DELIVERY_HEADER]: run.name,
      },
      body,
      signal: AbortSignal.timeout(pipeline.timeoutMs),
      redirect: 'error',
    });
    const text = (await response.text()).slice(0, 300);
    return response.ok
      ? { ok: true, message: `triggered (HTTP ${response.status})` }
      : { ok: false, message: `the CI answered HTTP ${response.status}${text ? `: ${text}` : ''}` };
  } catch (error) {
    return {
      ok: false,
      message: `the CI could not be reached: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}
