/**
 * Where the e2e environment is. `npm run test:e2e` (test/harness/e2e.sh) brings it up and sets
 * these; running the e2e project without them is a mistake, so it fails rather than skips.
 */
function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: run the e2e suite with \`npm run test:e2e\`, which starts the environment`,
    );
  }
  return value;
}

export const e2e = {
  get kubeconfig(): string {
    return required('WH_E2E_KUBECONFIG');
  },
  get kubectl(): string {
    return required('WH_E2E_KUBECTL');
  },
  /** The second cluster (multi-cluster tests): same contexts and tokens as `kubeconfig`, other data. */
  get secondKubeconfig(): string {
    return required('WH_E2E_SECOND_KUBECONFIG');
  },
  /** The second cluster's API server, https://127.0.0.1:<port> (its CA is in `secondKubeconfig`). */
  get secondApiUrl(): string {
    return required('WH_E2E_SECOND_API_URL');
  },
  get prometheusUrl(): string {
    return required('WH_E2E_PROMETHEUS_URL');
  },
  /** The bot's HTTP port, where Prometheus scrapes it (WH_E2E_BOT_METRICS is host:port). */
  get botPort(): string {
    return required('WH_E2E_BOT_METRICS').split(':').pop() ?? '28080';
  },
};
