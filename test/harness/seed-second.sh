#!/usr/bin/env bash
# Minimal seed for the SECOND e2e cluster (multi-cluster tests), applied as admin to the cluster
# of $WH_E2E_DIR; e2e.sh runs it with the second cluster's WH_E2E_DIR and ports. Idempotent.
# Starts the cluster first (cluster-up.sh) if the API server is not reachable.
#
#   WH_E2E_DIR=... WH_APISERVER_PORT=... test/harness/seed-second.sh
#
# Not for the main cluster: it would scale the main seed's shop/checkout down to 1.
#
# Identities and RBAC (alice, bob, wheelhouse; namespaces shop and payments) come from
# cluster-up.sh (manifests/identities.yaml), the same as on the main cluster. This adds only
# test/fixtures/seed-second/20-workloads.yaml:
#   shop/checkout  (1 replica; the main cluster has 3)  -> Running/Ready
#   shop/edge-only (2 replicas; only on this cluster)   -> Running/Ready, Service shop/edge-only
# No failure scenarios, pod logs, Tekton/Argo CRDs or observability: seed.sh has those, for the
# main cluster (it could run here too, but costs more and would make both clusters look alike).
set -euo pipefail

HARNESS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$HARNESS_DIR/lib.sh"

WH_SEED_TIMEOUT="${WH_SEED_TIMEOUT:-120}"

k() { "$KUBECTL" --kubeconfig "$WH_KUBECONFIG" --context admin "$@"; }

ready_replicas() { # ready_replicas <ns> <kind/name> <n>
  local got; got="$(k get -n "$1" "$2" -o 'jsonpath={.status.readyReplicas}' 2>/dev/null)" || return 1
  [ "$got" = "$3" ]
}

main() {
  local T0; T0=$(date +%s)
  if ! [ -s "$WH_KUBECONFIG" ] || ! k get --raw /readyz >/dev/null 2>&1; then
    wh_log "cluster not reachable; running cluster-up.sh"
    "$HARNESS_DIR/cluster-up.sh"
  fi
  k apply -f "$WH_FIXTURES_DIR/seed/00-namespaces.yaml" -f "$WH_FIXTURES_DIR/seed-second/20-workloads.yaml"
  local t=$WH_SEED_TIMEOUT ok=1
  wait_for "shop/checkout 1/1 ready" "$t" ready_replicas shop deployment/checkout 1 || ok=0
  wait_for "shop/edge-only 2/2 ready" "$t" ready_replicas shop deployment/edge-only 2 || ok=0
  if [ "$ok" != 1 ]; then
    k get pods -A -o wide >&2 || true
    wh_die "second-cluster seed did not converge (see $WH_LOG_DIR/kwok.log)"
  fi
  k get pods -n shop -o wide
  wh_log "second-cluster seed in place after $(( $(date +%s) - T0 ))s"
}

main "$@"
