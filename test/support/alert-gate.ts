import { createServer } from 'node:http';
import { z } from 'zod';

/**
 * Listens where the harness's Alertmanager posts its webhooks and passes the alert groups a test
 * owns (by groupKey) to a bot unchanged, body and credentials included; every other group gets 503,
 * as if no bot listened, so Alertmanager keeps it for the next bot instead of counting it as
 * delivered (it would not send it again within repeat_interval). 127.0.0.1 only.
 */
export interface AlertGate {
  /** Webhooks passed to the bot, and refused. */
  readonly passed: number;
  readonly refused: number;
  close(): Promise<void>;
}

const webhookSchema = z.object({ groupKey: z.string() });

export async function startAlertGate(options: {
  port: number;
  /** The bot's base URL, e.g. http://127.0.0.1:41234 (asked per request). */
  target: () => string;
  /** Whether this group is the caller's. */
  owns: (groupKey: string) => boolean;
}): Promise<AlertGate> {
  let passed = 0;
  let refused = 0;
  const server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
      const body = Buffer.concat(chunks);
      let groupKey: string | undefined;
      try {
        groupKey = webhookSchema.safeParse(JSON.parse(body.toString('utf8'))).data?.groupKey;
      } catch {
        groupKey = undefined;
      }
      if (
        req.method !== 'POST' ||
        req.url !== '/alerts' ||
        groupKey === undefined ||
        !options.owns(groupKey)
      ) {
        refused += 1;
        res.writeHead(503, { 'content-type': 'text/plain' }).end('not an alert group of this test');
        return;
      }
      passed += 1;
      const forwarded = await fetch(`${options.target()}/alerts`, {
        method: 'POST',
        headers: {
          'content-type': req.headers['content-type'] ?? 'application/json',
          ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
        },
        body,
      });
      res
        .writeHead(forwarded.status, {
          'content-type': forwarded.headers.get('content-type') ?? 'text/plain',
        })
        .end(Buffer.from(await forwarded.arrayBuffer()));
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  return {
    get passed() {
      return passed;
    },
    get refused() {
      return refused;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
