import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricQuery, parseAnalysis } from '../../src/canary/analysis.ts';
import { ALICE, type E2eBot, startE2eBot } from './bot.ts';
import { e2e } from './e2e-env.ts';
import { kubectlApply as apply, kubectl } from './kubectl.ts';

/**
 * `/wh compare` on real Prometheus data: two Deployments of one app, the second's pods labelled
 * wheelhouse.io/track=candidate so the seeded exporter serves them their own error rate (the
 * exporter's `track` option, test/harness/OBSERVABILITY.md).
 */
const NS = 'shop';
const APP = `cmpapp-${process.pid % 100000}`;
const A = `cmpa-${process.pid % 100000}`;
const B = `cmpb-${process.pid % 100000}`;
const TRACK = 'candidate';

const exporterUrl = () =>
  process.env.WH_E2E_EXPORTER_URL ?? `http://127.0.0.1:${process.env.WH_EXPORTER_PORT ?? '29100'}`;

function deployment(name: string, version: string, track?: string): string {
  const labels = `{ app: ${APP}, version: ${version}${track ? `, wheelhouse.io/track: ${track}` : ''} }`;
  return `
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, namespace: ${NS} }
spec:
  replicas: 2
  selector: { matchLabels: { app: ${APP}, version: ${version} } }
  template:
    metadata: { labels: ${labels} }
    spec:
      containers: [{ name: app, image: "registry.example.com/shop/cmp:${version}" }]
`;
}

/** Points of the success rate of a Deployment's pods over the last 2 minutes, as the skill reads them. */
async function samples(name: string): Promise<number> {
  const [spec] = parseAnalysis('success-rate');
  if (!spec) throw new Error('no spec');
  const end = Date.now() / 1000;
  const url = new URL('/api/v1/query_range', e2e.prometheusUrl);
  url.searchParams.set('query', metricQuery(spec, { namespace: NS, deployment: name }, '60s'));
  url.searchParams.set('start', String(end - 120));
  url.searchParams.set('end', String(end));
  url.searchParams.set('step', '15');
  const body = (await (await fetch(url)).json()) as {
    data?: { result?: Array<{ values?: Array<[number, string]> }> };
  };
  return (body.data?.result?.[0]?.values ?? []).filter(([, v]) => Number.isFinite(Number(v))).length;
}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

let bot: E2eBot;

beforeAll(async () => {
  for (const [track, errorRatio] of [
    [undefined, 0.005],
    [TRACK, 0.08],
  ] as const) {
    const response = await fetch(`${exporterUrl()}/control`, {
      method: 'POST',
      body: JSON.stringify({ app: APP, ...(track ? { track } : {}), requestsPerSecond: 50, errorRatio }),
    });
    expect(response.status).toBe(200);
  }
  await apply(`${deployment(A, 'v1')}---${deployment(B, 'v2', TRACK)}`);
  await kubectl('rollout', 'status', `deploy/${A}`, '-n', NS, '--timeout=90s');
  await kubectl('rollout', 'status', `deploy/${B}`, '-n', NS, '--timeout=90s');
  bot = await startE2eBot();
  // Prometheus scrapes every 5 s: wait (on the data, not the clock) until both sides have enough points.
  await waitFor('5 success-rate samples of both Deployments', 180_000, async () => {
    const [a, b] = await Promise.all([samples(A), samples(B)]);
    return a >= 5 && b >= 5;
  });
}, 300_000);

afterAll(async () => {
  await bot?.stop();
  await bot?.peer.close().catch(() => undefined);
  await kubectl('delete', 'deploy', A, B, '-n', NS, '--ignore-not-found', '--wait=false').catch(
    () => undefined,
  );
});

describe('/wh compare on real Prometheus data', () => {
  it('fails 8% errors against 0.5% with the canary judge, per metric, with a chart of both', async () => {
    const filesBefore = bot.peer.files().length;
    const { text } = await bot.ask(`/wh compare deploy/${A} deploy/${B} -n ${NS} --last 2m`, ALICE, 60_000);
    expect(text).toContain(`deploy/${B} vs deploy/${A} in ${NS} over the last 2m: fail, success-rate:`);
    expect(text).toMatch(new RegExp(`deploy/${B} 92(\\.\\d+)?% is worse than deploy/${A} 99\\.5%`));
    // p99: both tracks have checkout's latency (0.25 s), so no difference.
    expect(text).toContain(`deploy/${B} 250 ms vs deploy/${A} 250 ms`);
    const pngs = async () =>
      bot.peer
        .files()
        .slice(filesBefore)
        .filter((f) => f.filename.endsWith('.png') && f.completed);
    await waitFor('two chart uploads', 30_000, async () => (await pngs()).length >= 2);
    const files = await pngs();
    expect(files.map((f) => f.filename).sort()).toEqual([
      `compare-${NS}-${A}-${B}-p99.png`,
      `compare-${NS}-${A}-${B}-success-rate.png`,
    ]);
    expect(files[0]?.bytes?.subarray(0, 4)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  });

  it('passes the better version judged against the worse one', async () => {
    const { text } = await bot.ask(`/wh compare deploy/${B} deploy/${A} -n ${NS} --last 2m`, ALICE, 60_000);
    expect(text).toContain(`deploy/${A} vs deploy/${B} in ${NS} over the last 2m: pass`);
  });
});
