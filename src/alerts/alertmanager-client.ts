import { z } from 'zod';
import { WheelhouseError } from '../errors.ts';

/** One matcher of a silence (Alertmanager API v2). */
export interface SilenceMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual: boolean;
}

export interface NewSilence {
  matchers: SilenceMatcher[];
  startsAt: Date;
  endsAt: Date;
  createdBy: string;
  comment: string;
}

/** Alertmanager's silences API (v2), the part Wheelhouse uses. Throws SOURCE_* WheelhouseErrors. */
export interface SilenceApi {
  create(baseUrl: string, silence: NewSilence): Promise<string>;
  expire(baseUrl: string, id: string): Promise<void>;
}

const createdSchema = z.object({ silenceID: z.string().min(1) });

/** `POST /api/v2/silences` and `DELETE /api/v2/silence/{id}` over fetch, with a timeout. */
export function alertmanagerSilences(options: { timeoutMs?: number | undefined } = {}): SilenceApi {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const call = async (url: URL, init: RequestInit): Promise<Response> => {
    let response: Response;
    try {
      response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      throw new WheelhouseError(
        timedOut ? 'SOURCE_TIMEOUT' : 'SOURCE_UNAVAILABLE',
        `Alertmanager at ${url.origin} ${timedOut ? `did not answer within ${timeoutMs / 1000} s` : 'cannot be reached'}.`,
        { hint: 'Check alerts.alertmanagerUrl and that Alertmanager runs.', cause: error },
      );
    }
    if (!response.ok) {
      const body = (await response.text()).slice(0, 300);
      throw new WheelhouseError('SOURCE_ERROR', `Alertmanager answered HTTP ${response.status}: ${body}`, {
        detail: { url: url.toString(), status: response.status },
      });
    }
    return response;
  };
  return {
    async create(baseUrl, silence) {
      const url = new URL('api/v2/silences', withSlash(baseUrl));
      const response = await call(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          matchers: silence.matchers,
          startsAt: silence.startsAt.toISOString(),
          endsAt: silence.endsAt.toISOString(),
          createdBy: silence.createdBy,
          comment: silence.comment,
        }),
      });
      const parsed = createdSchema.safeParse(await response.json().catch(() => undefined));
      if (!parsed.success)
        throw new WheelhouseError('SOURCE_ERROR', 'Alertmanager did not return a silence id.');
      return parsed.data.silenceID;
    },
    async expire(baseUrl, id) {
      const url = new URL(`api/v2/silence/${encodeURIComponent(id)}`, withSlash(baseUrl));
      await call(url, { method: 'DELETE' });
    },
  };
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
