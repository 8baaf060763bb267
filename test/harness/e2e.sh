#!/usr/bin/env bash
# npm run test:e2e — the end-to-end suite against real components:
# brings up (or reuses) the control plane, the seed scenario, Prometheus, Alertmanager and the
# exporter; runs vitest's e2e project; tears down only what this run started.
set -euo pipefail
HARNESS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$HARNESS_DIR/lib.sh"
cd "$WH_REPO_DIR"

bash "$HARNESS_DIR/install-system-deps.sh"

api_up() { curl -sk --max-time 2 "$WH_API_URL/readyz" >/dev/null 2>&1; }
obs_up() { [ -f "$WH_E2E_DIR/observability/env" ] && curl -s --max-time 2 "http://127.0.0.1:${WH_PROMETHEUS_PORT:-29090}/-/ready" >/dev/null 2>&1; }

started_cluster=0
started_obs=0
api_up || started_cluster=1
obs_up || started_obs=1

teardown() {
  local rc=$?
  if [ "${WH_E2E_KEEP:-0}" != 1 ]; then
    [ "$started_obs" = 1 ] && bash "$HARNESS_DIR/observability-down.sh" || true
    [ "$started_cluster" = 1 ] && bash "$HARNESS_DIR/cluster-down.sh" || true
  fi
  exit "$rc"
}
trap teardown EXIT

t0=$SECONDS
# A cluster this run starts begins from clean state: left-over etcd data from an earlier run (other
# ports, other certificates) would make the new one inconsistent.
if [ "$started_cluster" = 1 ]; then bash "$HARNESS_DIR/cluster-down.sh" --purge; fi
bash "$HARNESS_DIR/cluster-up.sh"
bash "$HARNESS_DIR/seed.sh"
bash "$HARNESS_DIR/observability-up.sh"
wh_log "e2e environment ready in $((SECONDS - t0)) s (cluster started here: $started_cluster, observability: $started_obs)"

# shellcheck disable=SC1091
source "$WH_E2E_DIR/env"
# shellcheck disable=SC1091
source "$WH_E2E_DIR/observability/env"
export WH_E2E_KUBECONFIG="$WH_KUBECONFIG" WH_E2E_KUBECTL="$KUBECTL" WH_E2E_PROMETHEUS_URL WH_E2E_ALERTMANAGER_URL WH_E2E_EXPORTER_URL WH_E2E_BOT_METRICS

# The Helm chart against the same API server (lint, kubeconform, install, the service account's
# rights); its summary line is printed here, and a failure fails the run after vitest has run too.
chart_rc=0
bash "$HARNESS_DIR/chart-check.sh" || chart_rc=$?

npx vitest run --project e2e "$@"
[ "$chart_rc" = 0 ] || wh_die "chart-check failed (exit $chart_rc); see its output above"
