#!/usr/bin/env bash
# npm run test:e2e — the end-to-end suite against real components:
# brings up (or reuses) the control plane, the seed scenario, a second (smaller) control plane for
# the multi-cluster tests, Prometheus, Alertmanager and the exporter; runs vitest's e2e project;
# tears down only what this run started.
set -euo pipefail
HARNESS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$HARNESS_DIR/lib.sh"
cd "$WH_REPO_DIR"

bash "$HARNESS_DIR/install-system-deps.sh"

api_up() { curl -sk --max-time 2 "$WH_API_URL/readyz" >/dev/null 2>&1; }
# The second cluster: own state dir inside the main one's, own ports (WH_SECOND_* to move them, e.g.
# for parallel runs), 2 kwok nodes. The overrides reach only its own scripts, never the main ones.
second_dir="$WH_E2E_DIR/second"
second_env=(
  "WH_CACHE_DIR=$WH_CACHE_DIR"
  "WH_E2E_DIR=$second_dir"
  "WH_APISERVER_PORT=${WH_SECOND_APISERVER_PORT:-25443}"
  "WH_ETCD_CLIENT_PORT=${WH_SECOND_ETCD_CLIENT_PORT:-22790}"
  "WH_ETCD_PEER_PORT=${WH_SECOND_ETCD_PEER_PORT:-22800}"
  "WH_KCM_PORT=${WH_SECOND_KCM_PORT:-25257}"
  "WH_SCHEDULER_PORT=${WH_SECOND_SCHEDULER_PORT:-25259}"
  "WH_KWOK_PORT=${WH_SECOND_KWOK_PORT:-25250}"
  "WH_KWOK_NODE_COUNT=${WH_SECOND_KWOK_NODE_COUNT:-2}"
)
second() { env "${second_env[@]}" bash "$HARNESS_DIR/$1" "${@:2}"; } # second <script> [args]: run it on the second cluster
second_up() { curl -sk --max-time 2 "https://127.0.0.1:${WH_SECOND_APISERVER_PORT:-25443}/readyz" >/dev/null 2>&1; }
obs_up() { [ -f "$WH_E2E_DIR/observability/env" ] && curl -s --max-time 2 "http://127.0.0.1:${WH_PROMETHEUS_PORT:-29090}/-/ready" >/dev/null 2>&1; }

started_cluster=0
started_second=0
started_obs=0
api_up || started_cluster=1
second_up || started_second=1
obs_up || started_obs=1
# Purging a fresh main cluster's state (below) deletes the second one's too: start both afresh.
[ "$started_cluster" = 1 ] && started_second=1

teardown() {
  local rc=$?
  if [ "${WH_E2E_KEEP:-0}" != 1 ]; then
    [ "$started_obs" = 1 ] && bash "$HARNESS_DIR/observability-down.sh" || true
    [ "$started_second" = 1 ] && second cluster-down.sh || true
    [ "$started_cluster" = 1 ] && bash "$HARNESS_DIR/cluster-down.sh" || true
  elif [ "$started_second" = 1 ]; then
    wh_log "WH_E2E_KEEP=1: second cluster left running; stop it with WH_E2E_DIR=$second_dir $HARNESS_DIR/cluster-down.sh"
  fi
  exit "$rc"
}
trap teardown EXIT

t0=$SECONDS
# A cluster this run starts begins from clean state: left-over etcd data from an earlier run (other
# ports, other certificates) would make the new one inconsistent. The second cluster goes first: its
# state dir is inside the main one's, and its processes must be stopped before that is deleted.
second_s=0
if [ "$started_second" = 1 ]; then
  t1=$SECONDS
  second cluster-down.sh --purge
  second_s=$((SECONDS - t1))
fi
if [ "$started_cluster" = 1 ]; then bash "$HARNESS_DIR/cluster-down.sh" --purge; fi
bash "$HARNESS_DIR/cluster-up.sh"
bash "$HARNESS_DIR/seed.sh"
t1=$SECONDS
second cluster-up.sh
second seed-second.sh
second_s=$((second_s + SECONDS - t1))
wh_log "second cluster ready: it added $second_s s to the set-up (started here: $started_second)"
bash "$HARNESS_DIR/observability-up.sh"
wh_log "e2e environment ready in $((SECONDS - t0)) s (cluster started here: $started_cluster, second cluster: $started_second, observability: $started_obs)"

# The second cluster for the multi-cluster tests: its kubeconfig has the same contexts (admin,
# alice, bob, wheelhouse) and tokens as the main one's.
WH_E2E_SECOND_KUBECONFIG="$(
  # shellcheck disable=SC1091
  source "$second_dir/env" && printf '%s' "$WH_KUBECONFIG"
)"
WH_E2E_SECOND_API_URL="$(
  # shellcheck disable=SC1091
  source "$second_dir/env" && printf '%s' "$WH_API_URL"
)"
export WH_E2E_SECOND_KUBECONFIG WH_E2E_SECOND_API_URL

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
