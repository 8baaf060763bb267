#!/usr/bin/env bash
# Smoke-test the running e2e cluster + seed scenario with kubectl only.
# Exits non-zero if any check fails; ends with "N passed, N failed".
#
#   test/harness/cluster-up.sh && test/harness/seed.sh && test/harness/smoke.sh
set -uo pipefail

HARNESS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$HARNESS_DIR/lib.sh"

PASS=0
FAIL=0
kc() { "$KUBECTL" --kubeconfig "$WH_KUBECONFIG" "$@" 2>&1; }

check() { # check <description> <expected substring|!substring> <kubectl args...>
  local what=$1 want=$2; shift 2
  local out; out="$(kc "$@")"
  local ok=0
  if [[ "$want" == !* ]]; then
    [[ "$out" != *"${want#!}"* ]] && ok=1
  else
    [[ "$out" == *"$want"* ]] && ok=1
  fi
  if [ "$ok" = 1 ]; then
    PASS=$(( PASS + 1 )); echo "ok   - $what"
  else
    FAIL=$(( FAIL + 1 )); echo "FAIL - $what"; echo "       expected '$want' in: $(echo "$out" | head -5)"
  fi
}

can() { # can <context> <yes|no> <can-i args...>
  local ctx=$1 want=$2; shift 2
  local out; out="$(kc --context "$ctx" auth can-i "$@" 2>/dev/null | tail -1)"
  if [ "$out" = "$want" ]; then
    PASS=$(( PASS + 1 )); echo "ok   - $ctx can-i $* = $want"
  else
    FAIL=$(( FAIL + 1 )); echo "FAIL - $ctx can-i $*: got '$out', want '$want'"
  fi
}

A=(--context admin)
check "apiserver readyz" "ok" "${A[@]}" get --raw /readyz
check "server version $WH_K8S_VERSION" "$WH_K8S_VERSION" "${A[@]}" version
check "4 Ready kwok nodes" "4" "${A[@]}" get nodes -l type=kwok \
  -o 'go-template={{len .items}}'
check "checkout 3 ready" "3" "${A[@]}" -n shop get deploy checkout -o 'jsonpath={.status.readyReplicas}'
check "cart 2 ready" "2" "${A[@]}" -n shop get deploy cart -o 'jsonpath={.status.readyReplicas}'
check "payments-api 2 ready" "2" "${A[@]}" -n payments get deploy payments-api -o 'jsonpath={.status.readyReplicas}'
check "orders-db 1 ready" "1" "${A[@]}" -n shop get sts orders-db -o 'jsonpath={.status.readyReplicas}'
check "crashy CrashLoopBackOff" "CrashLoopBackOff" "${A[@]}" -n shop get pods -l app=crashy \
  -o 'jsonpath={.items[0].status.containerStatuses[0].state.waiting.reason}'
check "crashy lastState Error/1" "Error/1" "${A[@]}" -n shop get pods -l app=crashy \
  -o 'jsonpath={.items[0].status.containerStatuses[0].lastState.terminated.reason}/{.items[0].status.containerStatuses[0].lastState.terminated.exitCode}'
check "crashy restarts 5" "5" "${A[@]}" -n shop get pods -l app=crashy \
  -o 'jsonpath={.items[0].status.containerStatuses[0].restartCount}'
check "bad-image ImagePullBackOff" "ImagePullBackOff" "${A[@]}" -n shop get pods -l app=bad-image \
  -o 'jsonpath={.items[0].status.containerStatuses[0].state.waiting.reason}'
check "hungry OOMKilled/137" "OOMKilled/137" "${A[@]}" -n shop get pods -l app=hungry \
  -o 'jsonpath={.items[0].status.containerStatuses[0].lastState.terminated.reason}/{.items[0].status.containerStatuses[0].lastState.terminated.exitCode}'
check "huge Unschedulable" "Unschedulable" "${A[@]}" -n shop get pod huge \
  -o 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].reason}'
check "FailedScheduling event" "Insufficient cpu" "${A[@]}" -n shop get events \
  --field-selector reason=FailedScheduling,involvedObject.name=huge
check "BackOff event" "BackOff" "${A[@]}" -n shop get events --field-selector reason=BackOff
check "logs deploy/checkout: timeout" "timeout" "${A[@]}" -n shop logs deploy/checkout
check "logs deploy/checkout: ERROR" "ERROR" "${A[@]}" -n shop logs deploy/checkout
check "logs deploy/checkout: secret-looking" "AKIAIOSFODNN7EXAMPLE" "${A[@]}" -n shop logs deploy/checkout
check "logs --timestamps" "Z INFO" "${A[@]}" -n shop logs deploy/checkout --timestamps --tail=1
n="$("$KUBECTL" --kubeconfig "$WH_KUBECONFIG" "${A[@]}" -n shop logs deploy/cart --tail=2 2>/dev/null | wc -l)"
if [ "$n" = 2 ]; then PASS=$(( PASS + 1 )); echo "ok   - logs --tail=2 returns 2 lines"
else FAIL=$(( FAIL + 1 )); echo "FAIL - logs --tail=2 returned $n lines"; fi
check "logs --previous crashy" "exiting with code 1" "${A[@]}" -n shop logs deploy/crashy --previous
check "logs --previous hungry" "loading 300000 rows" "${A[@]}" -n shop logs deploy/hungry --previous
check "logs payments-api" "payments-api v3.7.0" "${A[@]}" -n payments logs deploy/payments-api
check "bot reads logs" "checkout-service" --context wheelhouse -n shop logs deploy/checkout
check "bot cannot read secrets" "Forbidden" --context wheelhouse -n shop get secrets
check "bot impersonating alice: shop ok" "checkout" --context wheelhouse --as alice \
  --as-group wheelhouse:chat --as-group system:authenticated -n shop get pods
check "bot impersonating alice: payments forbidden" "Forbidden" --context wheelhouse --as alice \
  --as-group wheelhouse:chat -n payments get pods
check "bot cannot impersonate admin" "Forbidden" --context wheelhouse --as admin get pods

can alice yes get pods -n shop
can alice yes get pods/log -n shop
can alice no get pods -n payments
can alice no delete pods -n shop
can alice no get secrets -n shop
can bob yes delete pods -n shop
can bob yes patch deployments -n payments
can bob no get pods -n default
can bob no list nodes
can wheelhouse yes list pods --all-namespaces
can wheelhouse yes get pods/log -n payments
can wheelhouse yes list nodes
can wheelhouse yes list events -n shop
can wheelhouse yes watch deployments.apps -n shop
can wheelhouse yes list jobs.batch -n shop
can wheelhouse yes get configmaps -n shop
can wheelhouse no get secrets -n shop
can wheelhouse no delete pods -n shop
can wheelhouse yes impersonate users/alice
can wheelhouse yes impersonate users/bob
can wheelhouse no impersonate users/admin
can wheelhouse yes impersonate groups/wheelhouse:chat
can wheelhouse yes impersonate groups/system:authenticated
can wheelhouse no impersonate groups/system:masters
can wheelhouse yes create selfsubjectaccessreviews.authorization.k8s.io

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
