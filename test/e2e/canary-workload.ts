import { kubectlApply as apply, kubectl } from './kubectl.ts';

/**
 * What a canary e2e test needs on the real control plane with real Prometheus: a stable Deployment
 * whose traffic the seeded exporter serves per track (canary pods carry wheelhouse.io/track=canary
 * and get their own series), and a bot config that may write there and steps canaries quickly.
 * The exporter only watches the seeded namespaces shop and payments.
 */

/** Config lines: direct writes in `namespace`, and canary timings short enough for a test. */
export function canaryConfig(namespace: string): string[] {
  return [
    'policy:',
    '  rules:',
    `    - name: ${namespace}-direct`,
    `      namespaces: [${namespace}]`,
    '      write: allow',
    'canary:',
    '  rateWindow: 15s',
    '  sampleStep: 2s',
    '  tickInterval: 1s',
    '  lease: 15s',
    '  rolloutTimeout: 60s',
  ];
}

const exporterUrl = () =>
  process.env.WH_E2E_EXPORTER_URL ?? `http://127.0.0.1:${process.env.WH_EXPORTER_PORT ?? '29100'}`;

export interface CanaryWorkload {
  namespace: string;
  name: string;
  /** The image without its tag; the stable runs `:v1`. */
  image: string;
  /** Error ratios per track, and the canary's request rate (default 50/s; 0 for no traffic). */
  traffic: { stable: number; canary: number; canaryRps?: number };
}

/** A stable Deployment of 4 pods at `image:v1`, rolled out, whose traffic the exporter serves. */
export async function canaryWorkload({ namespace, name, image, traffic }: CanaryWorkload): Promise<void> {
  await apply(`
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  replicas: 4
  progressDeadlineSeconds: 30
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      containers: [{ name: app, image: "${image}:v1" }]
`);
  await kubectl('rollout', 'status', `deploy/${name}`, '-n', namespace, '--timeout=60s');
  for (const [track, errorRatio, rps] of [
    [undefined, traffic.stable, 50],
    ['canary', traffic.canary, traffic.canaryRps ?? 50],
  ] as const) {
    const response = await fetch(`${exporterUrl()}/control`, {
      method: 'POST',
      body: JSON.stringify({ app: name, ...(track ? { track } : {}), requestsPerSecond: rps, errorRatio }),
    });
    if (response.status !== 200) {
      throw new Error(
        `the exporter answered ${response.status} to traffic for ${name}: ${await response.text()}`,
      );
    }
  }
}

/** A field of a Deployment by JSONPath, e.g. `{.spec.replicas}`. */
export const deploymentField = (namespace: string, name: string, jsonPath: string) =>
  kubectl('get', `deploy/${name}`, '-n', namespace, '-o', `jsonpath=${jsonPath}`);

export const deploymentImage = (namespace: string, name: string) =>
  deploymentField(namespace, name, '{.spec.template.spec.containers[0].image}');

export const deploymentExists = (namespace: string, name: string) =>
  kubectl('get', `deploy/${name}`, '-n', namespace, '-o', 'name').then(
    () => true,
    () => false,
  );

/** Deletes the stable Deployment and its canary, if there; does not wait. */
export async function deleteCanaryWorkload(namespace: string, name: string): Promise<void> {
  await kubectl(
    'delete',
    'deploy',
    name,
    `${name}-canary`,
    '-n',
    namespace,
    '--ignore-not-found',
    '--wait=false',
  ).catch(() => undefined);
}
