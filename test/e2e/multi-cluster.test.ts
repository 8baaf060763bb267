import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertOf, groupPayload } from '../support/alert-payloads.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import {
  ANA,
  auditRecords,
  BOB,
  buttonValue,
  CHANNEL,
  type E2eBot,
  messageText,
  startE2eBot,
  waitUntil,
} from './bot.ts';
import { e2e } from './e2e-env.ts';
import { kubectlWith } from './kubectl.ts';

// One Wheelhouse, two control planes from the harness: its own cluster "main" (the e2e cluster) and
// "edge" (the second cluster, seeded with shop/edge-only and a one-replica shop/checkout), reached
// through a loopback proxy the test can cut. Edge starts unreachable: main must answer as always.
const EDGE_CHANNEL = 'CEDGE0001';
const SCALED = `mc-${process.pid % 100000}`;
const ALERTS_TOKEN = 'multi-cluster-alerts-token-0123';
const CONFIG = [
  'kube: { name: main }',
  `alerts: { enabled: true, token: ${ALERTS_TOKEN}, defaultChannel: ${CHANNEL}, updateInterval: 2s }`,
  // Main refuses writes outright; edge keeps the default (writes need an approver).
  'policy: { defaults: { write: deny } }',
  'clusters:',
  `  - { name: edge, kubeconfig: "KUBECONFIG_EDGE", context: wheelhouse, channels: [${EDGE_CHANNEL}], policy: {} }`,
];

let bot: E2eBot;
let proxy: TcpProxy;

const onEdge = (...args: string[]) => kubectlWith(e2e.secondKubeconfig, 'admin', ...args);
const edgeReady = () => bot.server.app.clusters.find((c) => c.name === 'edge')?.kube.ready() ?? false;

beforeAll(async () => {
  const server = new URL(e2e.secondApiUrl);
  proxy = await TcpProxy.start({ host: server.hostname, port: Number(server.port) });
  await proxy.cut();
  const proxied = join(e2e.secondKubeconfig.replace(/[^/]+$/, ''), `kubeconfig-edge-proxy-${process.pid}`);
  writeFileSync(
    proxied,
    readFileSync(e2e.secondKubeconfig, 'utf8').replaceAll(server.origin, `https://127.0.0.1:${proxy.port}`),
  );
  bot = await startE2eBot({
    extraConfig: CONFIG.map((line) => line.replace('KUBECONFIG_EDGE', proxied)),
    channels: [{ id: EDGE_CHANNEL, name: 'edge-ops' }],
    httpPort: 0,
  });
  // A Deployment of this test's own on edge, for the change (the seed stays as the other tests expect it).
  await onEdge(
    'create',
    'deployment',
    SCALED,
    '-n',
    'shop',
    '--image=registry.example.com/shop/mc:1',
    '--replicas=1',
  );
}, 90_000);

afterAll(async () => {
  await bot?.stop();
  await proxy?.close();
  await onEdge('delete', 'deployment', SCALED, '-n', 'shop', '--ignore-not-found').catch(() => undefined);
});

describe('one Wheelhouse, two clusters', () => {
  it('answers for its own cluster while the other is unreachable, and says which one failed', async () => {
    expect(edgeReady()).toBe(false);
    const started = performance.now();
    const main = await bot.ask('/wh pods -n shop');
    expect(main.text).toMatch(/`main`/);
    expect(main.text).toMatch(/checkout-/);
    expect(main.text).not.toMatch(/edge-only-/);
    const mainMs = performance.now() - started;

    const edge = await bot.ask('/wh pods -n shop --cluster edge');
    expect(edge.text).toMatch(/Cluster edge: /);
    expect(edge.text).toMatch(/Other clusters are not affected/);

    const ready = await fetch(`${bot.server.url}/readyz`);
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(`${bot.server.url}/metrics`)).text();
    expect(metrics).toMatch(/wheelhouse_cluster_ready\{cluster="main"\} 1/);
    expect(metrics).toMatch(/wheelhouse_cluster_ready\{cluster="edge"\} 0/);

    const clusters = await bot.ask('/wh clusters');
    expect(clusters.text).toMatch(/2 clusters, 1 not ready/);
    expect(clusters.text).toMatch(/not synced: .*pods/);
    console.log(`[multi-cluster] main answered in ${Math.round(mainMs)} ms while edge was unreachable`);
  });

  it('catches up with a cluster that comes back, without a restart', async () => {
    await proxy.restore();
    const cut = Date.now();
    await waitUntil(edgeReady, 60_000, "edge's caches to sync");
    console.log(`[multi-cluster] edge caches synced ${Date.now() - cut} ms after it came back`);
    const clusters = await bot.ask('/wh clusters');
    expect(clusters.text).toMatch(/2 clusters, all ready/);
  });

  it('reads the cluster the command or the channel names', async () => {
    const flagged = await bot.ask('/wh pods -n shop --cluster edge');
    expect(flagged.text).toMatch(/`edge`/);
    expect(flagged.text).toMatch(/edge-only-/);
    const inChannel = await bot.ask('/wh pods -n shop', BOB, 30_000, EDGE_CHANNEL);
    expect(inChannel.text).toMatch(/`edge`/);
    expect(inChannel.text).toMatch(/edge-only-/);
    // The same name on both clusters is two workloads: checkout has 1 replica on edge, 3 on main.
    const edgeCheckout = await bot.ask('/wh status deploy/checkout -n shop --cluster edge');
    const mainCheckout = await bot.ask('/wh status deploy/checkout -n shop');
    expect(edgeCheckout.text).toMatch(/1\/1/);
    expect(mainCheckout.text).toMatch(/3\/3/);
    const unknown = await bot.ask('/wh pods -n shop --cluster egde');
    expect(unknown.text).toMatch(/There is no cluster "egde"/);
    expect(unknown.text).toMatch(/Did you mean `edge`/);
  });

  it("applies each cluster's policy, and an approval lands on the cluster it was asked for", async () => {
    const denied = await bot.ask(`/wh scale deploy/${SCALED} -n shop --replicas 2`);
    expect(denied.text).toMatch(/Cluster main: Policy does not allow this/);

    const asked = await bot.ask(`/wh scale deploy/${SCALED} -n shop --replicas 2 --cluster edge`);
    expect(asked.text).toMatch(/Waiting for approval/);
    expect(buttonValue(asked.message, 'Approve')).toMatch(/^approve \S+ --cluster edge$/);
    const approved = await bot.click(asked.message, 'Approve', ANA);
    expect(approved.text).toMatch(/`edge`/);
    const replicas = () =>
      onEdge('get', '-n', 'shop', `deployment/${SCALED}`, '-o', 'jsonpath={.spec.replicas}');
    const deadline = Date.now() + 30_000;
    while ((await replicas()) !== '2' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(await replicas()).toBe('2');

    const records = await auditRecords(bot.dataDir);
    // The change and every step of it are recorded as edge's; the refusal on main as main's.
    const steps = records.filter((r) => r.type.startsWith('change.') || r.type.startsWith('approval.'));
    expect(steps.map((r) => r.type)).toEqual(expect.arrayContaining(['change.preview', 'change.apply']));
    expect(new Set(steps.map((r) => r.cluster))).toEqual(new Set(['edge']));
    const refused = records.find((r) => r.type === 'request' && r.outcome === 'denied');
    expect(refused).toMatchObject({ cluster: 'main', text: `scale deploy/${SCALED} -n shop --replicas 2` });
  });

  it('reads an alert on the cluster its label names, and its buttons act there', async () => {
    const post = async (group: string, cluster: string) => {
      const labels = { alertname: group, namespace: 'shop', deployment: 'edge-only', cluster };
      const payload = groupPayload(group, [alertOf('a', 'firing', labels)], {
        groupKey: `{}:{alertname="${group}", cluster="${cluster}"}`,
        groupLabels: { alertname: group, cluster },
        commonLabels: { ...labels, severity: 'warning' },
      });
      const response = await fetch(`${bot.server.url}/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERTS_TOKEN}` },
        body: JSON.stringify(payload),
      });
      expect(response.status).toBe(200);
      let root: ReturnType<typeof bot.peer.messages>[number] | undefined;
      await waitUntil(
        () => {
          root = bot.peer.messages().find((m) => !m.threadTs && messageText(m.blocks).includes(group));
          return root !== undefined;
        },
        20_000,
        `the thread of ${group}`,
      );
      return root as NonNullable<typeof root>;
    };
    // edge-only exists on edge only: found there, so the thread offers to act on it, on edge.
    const onEdge = await post('EdgeOnlyDown', 'edge');
    expect(messageText(onEdge.blocks)).toMatch(/\*Cluster\*\nedge/);
    expect(buttonValue(onEdge, 'Restart')).toBe('restart deploy/edge-only -n shop --cluster edge');
    expect(buttonValue(onEdge, 'Silence 1h')).toMatch(/ --cluster edge$/);
    // A cluster this Wheelhouse does not serve: shown as such, and no button that could act elsewhere.
    const elsewhere = await post('FarAwayDown', 'far-away');
    expect(messageText(elsewhere.blocks)).toMatch(/far-away \(not served here\)/);
    expect(() => buttonValue(elsewhere, 'Restart')).toThrow(/no "Restart" button/);
    // Enrichment reads the alert's cluster: edge's pods in one thread, nothing from main in the other.
    const thread = (root: { ts: string }) =>
      bot.peer
        .messages()
        .filter((m) => m.threadTs === root.ts)
        .map((m) => messageText(m.blocks, m.text))
        .join('\n');
    await waitUntil(
      () => /edge-only-/.test(thread(onEdge)),
      20_000,
      "edge's pods in the EdgeOnlyDown thread",
    );
    await waitUntil(
      () => /does not serve/.test(thread(elsewhere)),
      20_000,
      'the not-served note in the FarAwayDown thread',
    );
    expect(thread(elsewhere)).not.toMatch(/edge-only-|checkout-/);
  });
});
