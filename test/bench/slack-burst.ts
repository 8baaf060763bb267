/**
 * Child process of the Slack load: reads `{ url, requests: [{ headers, body }] }` as JSON on stdin,
 * POSTs every request at once (a fresh connection each, like Slack's senders), and prints one line
 * of JSON: per request `[sentMs, writtenMs, answeredMs, status]`, relative to the start of the burst.
 * It runs apart from the bench process so that the Slack peer's work (receiving the answers) does not
 * delay the reading of the acknowledgements.
 */
import http from 'node:http';

interface Input {
  url: string;
  requests: Array<{ headers: Record<string, string>; body: string }>;
}

const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const input = JSON.parse(Buffer.concat(chunks).toString()) as Input;

const t0 = performance.now();
const since = (): number => Math.round((performance.now() - t0) * 100) / 100;

function post(request: Input['requests'][number]): Promise<[number, number, number, number]> {
  const sent = since();
  let written = Number.NaN;
  return new Promise((resolve) => {
    const req = http.request(
      input.url,
      {
        method: 'POST',
        agent: false,
        headers: { ...request.headers, 'content-length': Buffer.byteLength(request.body) },
        timeout: 10_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve([sent, written, since(), res.statusCode ?? 0]));
      },
    );
    req.on('finish', () => {
      written = since();
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve([sent, written, since(), 0]));
    req.end(request.body);
  });
}

const results = await Promise.all(input.requests.map(post));
process.stdout.write(`${JSON.stringify(results)}\n`);
