#!/usr/bin/env bash
# `npm run bench`: Wheelhouse side by side with kubectl on the harness's real API server.
#
#   bash test/harness/bench.sh          # ~15 min on 2 cores; results in bench-results/
#
# Ensures system packages and the cluster (reused when healthy, and then left running; stopped at
# the end only if this script started it), the seed scenario and the observability side
# (Prometheus, Alertmanager, exporter; likewise reused or started and stopped again) for the
# alert → enriched thread and bad canary → rollback figures, runs test/bench/run-bench.ts, prints the summary.
# The driver removes everything it created (namespaces bench-NN, nodes bench-node-N, the bench RBAC,
# its bot processes) on success, failure or Ctrl-C; the trap below repeats that with kubectl in case
# the driver itself died. The seed scenario (shop, payments) is never touched; the canary figures add
# and remove their own Deployments (bench-cj-*, bench-ct-*) in shop, where the exporter watches.
# Settings: see test/bench/README.md (WH_BENCH_* variables).
set -euo pipefail

HARNESS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$HARNESS_DIR/lib.sh"
cd "$WH_REPO_DIR"

OUT="${WH_BENCH_OUT:-bench-results}"
case "$OUT" in /*) ;; *) OUT="$WH_REPO_DIR/$OUT" ;; esac
mkdir -p "$OUT"
STARTED_CLUSTER=0
STARTED_OBS=0

# shellcheck disable=SC2317  # invoked by the EXIT trap
fallback_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  # Bot processes the driver started (pids it recorded), if the driver could not stop them.
  if [ -s "$OUT/bot-pids" ]; then
    local pid
    while read -r pid; do
      [ -n "$pid" ] || continue
      if kill -0 "$pid" 2>/dev/null && grep -q 'src/cli.ts' "/proc/$pid/cmdline" 2>/dev/null; then
        wh_log "stopping leftover bot process $pid"
        kill -TERM "$pid" 2>/dev/null || true
      fi
    done <"$OUT/bot-pids"
    rm -f "$OUT/bot-pids"
  fi
  if [ -s "$WH_KUBECONFIG" ] && [ -x "$KUBECTL" ] && wh_kubectl --context admin get --raw /readyz >/dev/null 2>&1; then
    local left
    left="$(wh_kubectl --context admin get ns -l wheelhouse.test/bench=true -o name 2>/dev/null | grep -c '^namespace/bench-' || true)"
    if [ "${left:-0}" != 0 ]; then
      wh_log "fallback clean-up: $left bench namespaces left"
      wh_kubectl --context admin get ns -l wheelhouse.test/bench=true -o name | grep '^namespace/bench-' |
        while read -r ns; do
          wh_kubectl --context admin -n "${ns#namespace/}" delete pods --all --grace-period=0 --force --wait=false >/dev/null 2>&1 || true
        done
      wh_kubectl --context admin delete ns -l wheelhouse.test/bench=true --wait=false >/dev/null 2>&1 || true
    fi
    wh_kubectl --context admin delete nodes -l wheelhouse.test/bench=true,type=kwok-bench --ignore-not-found >/dev/null 2>&1 || true
    wh_kubectl --context admin delete clusterrolebinding,clusterrole -l wheelhouse.test/bench=true --ignore-not-found >/dev/null 2>&1 || true
    # The canary phase's Deployments in shop (stable ones carry the label; the bot's canaries the name).
    wh_kubectl --context admin -n shop get deploy -o name 2>/dev/null | grep -E '^deployment.apps/bench-c[jt]-' |
      xargs -r "$KUBECTL" --kubeconfig "$WH_KUBECONFIG" --context admin -n shop delete --ignore-not-found --wait=false >/dev/null 2>&1 || true
  fi
  if [ "$STARTED_OBS" = 1 ]; then
    wh_log "stopping the observability side this bench started"
    "$HARNESS_DIR/observability-down.sh" || true
  fi
  if [ "$STARTED_CLUSTER" = 1 ]; then
    wh_log "stopping the cluster this bench started"
    "$HARNESS_DIR/cluster-down.sh" || true
  fi
  exit "$rc"
}

wh_log "bench: system packages"
bash "$HARNESS_DIR/install-system-deps.sh"
if [ ! -x /usr/bin/time ] && [ "$(id -u)" = 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null || true
fi

wh_log "bench: cluster"
trap fallback_cleanup EXIT
trap 'exit 130' INT TERM
up_log="$(mktemp)"
if ! "$HARNESS_DIR/cluster-up.sh" | tee "$up_log"; then
  rm -f "$up_log"
  wh_die "cluster-up.sh failed"
fi
if grep -q 'reusing it' "$up_log"; then
  export WH_BENCH_CLUSTER="reused (already running)"
else
  STARTED_CLUSTER=1
  export WH_BENCH_CLUSTER="started by the bench"
fi
rm -f "$up_log"

if [ "${WH_BENCH_SKIP_ALERTS:-0}" != 1 ] || [ "${WH_BENCH_SKIP_CANARY:-0}" != 1 ]; then
  wh_log "bench: seed scenario and observability (for alert → enriched thread, bad canary → rollback)"
  if ! { [ -f "$WH_E2E_DIR/observability/env" ] &&
    curl -s --max-time 2 "http://127.0.0.1:${WH_PROMETHEUS_PORT:-29090}/-/ready" >/dev/null 2>&1; }; then
    STARTED_OBS=1
  fi
  if ! bash "$HARNESS_DIR/seed.sh" || ! bash "$HARNESS_DIR/observability-up.sh"; then
    wh_log "seed or observability-up failed: the alert and canary figures are skipped"
    export WH_BENCH_SKIP_ALERTS=1 WH_BENCH_SKIP_ALERTS_WHY="seed.sh or observability-up.sh failed"
    export WH_BENCH_SKIP_CANARY=1 WH_BENCH_SKIP_CANARY_WHY="seed.sh or observability-up.sh failed"
  fi
fi

export WH_E2E_DIR
wh_log "bench: running test/bench/run-bench.ts (results in $OUT)"
rc=0
WH_BENCH_OUT="$OUT" npx node test/bench/run-bench.ts || rc=$?
exit "$rc"
