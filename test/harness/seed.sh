#!/usr/bin/env bash
# Apply the seed scenario (test/fixtures/seed) to the e2e cluster as admin and
# wait until it is in place. Idempotent: safe to run any number of times.
# Starts the cluster first (cluster-up.sh) if the API server is not reachable.
#
#   test/harness/seed.sh
#
# Scenario (namespaces shop, payments):
#   shop/checkout (3, app=checkout), shop/cart (2), payments/payments-api (2),
#   StatefulSet shop/orders-db (1)                          -> Running/Ready
#   shop/crashy    -> CrashLoopBackOff, restarts 5, lastState Error exit 1, --previous logs
#   shop/bad-image -> ImagePullBackOff
#   shop/hungry    -> OOMKilled (exit 137), restarts 3, --previous logs
#   pod shop/huge  -> Pending, Unschedulable (cpu 64), FailedScheduling event
#   checkout logs with timeouts, ERRORs and secret-looking strings.
set -euo pipefail

HARNESS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$HARNESS_DIR/lib.sh"

SEED_DIR="$WH_FIXTURES_DIR/seed"
WH_SEED_TIMEOUT="${WH_SEED_TIMEOUT:-120}"

k() { "$KUBECTL" --kubeconfig "$WH_KUBECONFIG" --context admin "$@"; }

# jp_is <expected> <kubectl get args...>: jsonpath output equals expected (non-empty)
jp_is() {
  local want=$1; shift
  local got; got="$(k get "$@" 2>/dev/null)" || return 1
  [ -n "$got" ] && [ "$got" = "$want" ]
}

# has_output <kubectl args...>: command succeeds and prints something
has_output() { local out; out="$(k "$@" 2>/dev/null)" && [ -n "$out" ]; }

ready_replicas() { # ready_replicas <ns> <kind/name> <n>
  jp_is "$3" -n "$1" "$2" -o 'jsonpath={.status.readyReplicas}'
}

# render_log <template> <out> <seconds before now of the last line>
# CRI log format, as kubelet writes it: "<RFC3339Nano> <stream> F <message>"
render_log() {
  local tmpl=$1 out=$2 end_ago=$3
  local -a lines=()
  local line
  while IFS= read -r line || [ -n "$line" ]; do
    [[ -z "$line" || "$line" == \#* ]] && continue
    lines+=("$line")
  done <"$tmpl"
  local n=${#lines[@]} now step=3 i ts cri app level stream
  now=$(date +%s)
  : >"$out.tmp"
  for (( i = 0; i < n; i++ )); do
    ts=$(( now - end_ago - (n - 1 - i) * step ))
    cri="$(date -u -d "@$ts" +%Y-%m-%dT%H:%M:%S).$(printf '%03d' $(( i % 1000 )))000000Z"
    app="$(date -u -d "@$ts" +%Y-%m-%dT%H:%M:%SZ)"
    level="${lines[$i]%% *}"
    case "$level" in ERROR | FATAL) stream=stderr ;; *) stream=stdout ;; esac
    printf '%s %s F %s %-5s %s\n' "$cri" "$stream" "$app" "$level" "${lines[$i]#* }" >>"$out.tmp"
  done
  mv -f "$out.tmp" "$out"
}

main() {
  local T0; T0=$(date +%s)
  if ! [ -s "$WH_KUBECONFIG" ] || ! k get --raw /readyz >/dev/null 2>&1; then
    wh_log "cluster not reachable; running cluster-up.sh"
    "$HARNESS_DIR/cluster-up.sh"
  fi

  # -------------------------------------------------- container log files
  mkdir -p "$WH_POD_LOGS_DIR"
  local f name
  # templates are *.txt (the repo's .gitignore ignores *.log)
  for f in "$SEED_DIR"/logs/*.txt; do
    name="$(basename "$f" .txt).log"
    case "$name" in
      *.previous.log) render_log "$f" "$WH_POD_LOGS_DIR/$name" 45 ;; # before the last restart
      *) render_log "$f" "$WH_POD_LOGS_DIR/$name" 2 ;;
    esac
  done
  wh_log "wrote container log files to $WH_POD_LOGS_DIR"

  # -------------------------------------------------- objects
  # Stages and log routing first, so kwok knows them before pods appear.
  k apply -f "$SEED_DIR/00-namespaces.yaml" -f "$SEED_DIR/15-never-ready.yaml" -f "$SEED_DIR/16-job-fails.yaml" -f "$SEED_DIR/10-stages.yaml"
  # Tekton Pipelines CRDs (no controller) for the pipelines e2e tests, from the pinned Go module.
  bash "$HARNESS_DIR/tekton-crds.sh"
  # Argo Rollouts CRDs (no controller) for the canary e2e tests, from the pinned Go module.
  bash "$HARNESS_DIR/argo-rollouts-crds.sh"
  sed "s#__WH_POD_LOGS_DIR__#$WH_POD_LOGS_DIR#g" "$SEED_DIR/30-logs.yaml.tmpl" | k apply -f -
  k apply -f "$SEED_DIR/20-workloads.yaml"

  # -------------------------------------------------- wait for the scenario
  local t=$WH_SEED_TIMEOUT ok=1
  wait_for "shop/checkout 3/3 ready" "$t" ready_replicas shop deployment/checkout 3 || ok=0
  wait_for "shop/cart 2/2 ready" "$t" ready_replicas shop deployment/cart 2 || ok=0
  wait_for "payments/payments-api 2/2 ready" "$t" ready_replicas payments deployment/payments-api 2 || ok=0
  wait_for "shop/orders-db 1/1 ready" "$t" ready_replicas shop statefulset/orders-db 1 || ok=0
  wait_for "shop/crashy CrashLoopBackOff" "$t" jp_is CrashLoopBackOff -n shop pods -l app=crashy \
    -o 'jsonpath={.items[*].status.containerStatuses[*].state.waiting.reason}' || ok=0
  wait_for "shop/bad-image ImagePullBackOff" "$t" jp_is ImagePullBackOff -n shop pods -l app=bad-image \
    -o 'jsonpath={.items[*].status.containerStatuses[*].state.waiting.reason}' || ok=0
  wait_for "shop/hungry OOMKilled" "$t" jp_is OOMKilled -n shop pods -l app=hungry \
    -o 'jsonpath={.items[*].status.containerStatuses[*].lastState.terminated.reason}' || ok=0
  wait_for "shop/huge Unschedulable" "$t" jp_is Unschedulable -n shop pod/huge \
    -o 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].reason}' || ok=0
  wait_for "FailedScheduling event for shop/huge" "$t" has_output -n shop get events \
    --field-selector reason=FailedScheduling,involvedObject.name=huge -o name || ok=0
  wait_for "BackOff event for shop/crashy" "$t" has_output -n shop get events \
    --field-selector reason=BackOff,involvedObject.kind=Pod -o name || ok=0
  wait_for "kubectl logs deploy/checkout" "$t" has_output -n shop logs deploy/checkout --tail=1 || ok=0
  wait_for "kubectl logs --previous (crashy)" "$t" has_output -n shop logs deploy/crashy --previous --tail=1 || ok=0

  if [ "$ok" != 1 ]; then
    k get pods -A -o wide >&2 || true
    wh_die "seed scenario did not converge (see $WH_LOG_DIR/kwok.log)"
  fi
  k get pods -n shop -o wide
  k get pods -n payments -o wide
  wh_log "seed scenario in place after $(( $(date +%s) - T0 ))s"
}

main "$@"
