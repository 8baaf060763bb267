# shellcheck shell=bash disable=SC2034  # variables are used by the scripts sourcing this
# Shared settings for the e2e harness scripts. Sourced, not executed.
#
# Every value can be overridden from the environment.

WH_HARNESS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WH_REPO_DIR="$(cd "$WH_HARNESS_DIR/../.." && pwd)"
WH_TOOLS_DIR="$WH_REPO_DIR/test/tools"
WH_FIXTURES_DIR="$WH_REPO_DIR/test/fixtures"

export PATH="/usr/local/go/bin:$PATH"

WH_CACHE_DIR="${WH_CACHE_DIR:-$WH_REPO_DIR/.cache}"
WH_BIN_ROOT="$WH_CACHE_DIR/bin"
WH_E2E_DIR="${WH_E2E_DIR:-$WH_CACHE_DIR/e2e}"

# Ports (127.0.0.1 only). Non-standard on purpose to avoid clashes.
WH_APISERVER_PORT="${WH_APISERVER_PORT:-26443}"
WH_ETCD_CLIENT_PORT="${WH_ETCD_CLIENT_PORT:-23790}"
WH_ETCD_PEER_PORT="${WH_ETCD_PEER_PORT:-23800}"
WH_KCM_PORT="${WH_KCM_PORT:-26257}"             # kube-controller-manager secure port
WH_SCHEDULER_PORT="${WH_SCHEDULER_PORT:-26259}" # kube-scheduler secure port
WH_KWOK_PORT="${WH_KWOK_PORT:-26250}"           # kwok kubelet-like server (logs/exec), TLS
WH_KWOK_NODE_COUNT="${WH_KWOK_NODE_COUNT:-4}"
WH_SERVICE_CIDR="${WH_SERVICE_CIDR:-10.96.0.0/16}"
WH_POD_CIDR="${WH_POD_CIDR:-10.244.0.0/16}"

# --- pinned versions, read from the go.mod files (single source of truth)
_wh_gomod_version() { # _wh_gomod_version <go.mod> <module path>
  awk -v m="$2" '($1==m || ($1=="require" && $2==m)) { v = ($1=="require") ? $3 : $2; print v; exit }' "$1"
}
WH_K8S_VERSION="$(_wh_gomod_version "$WH_TOOLS_DIR/kube/go.mod" k8s.io/kubernetes)"
WH_ETCD_VERSION="$(_wh_gomod_version "$WH_TOOLS_DIR/etcd/go.mod" go.etcd.io/etcd/server/v3)"
WH_KWOK_VERSION="$(_wh_gomod_version "$WH_TOOLS_DIR/kwok/go.mod" sigs.k8s.io/kwok)"
# Chart validation tools (test/harness/chart-check.sh); not needed by the cluster itself.
WH_HELM_VERSION="$(_wh_gomod_version "$WH_TOOLS_DIR/helm/go.mod" helm.sh/helm/v3)"
WH_KUBECONFORM_VERSION="$(_wh_gomod_version "$WH_TOOLS_DIR/kubeconform/go.mod" github.com/yannh/kubeconform)"
WH_PROMOP_VERSION="$(_wh_gomod_version "$WH_TOOLS_DIR/prometheus-operator/go.mod" github.com/prometheus-operator/prometheus-operator)"

WH_K8S_BIN="$WH_BIN_ROOT/kubernetes-$WH_K8S_VERSION"
WH_ETCD_BIN="$WH_BIN_ROOT/etcd-$WH_ETCD_VERSION"
WH_KWOK_BIN="$WH_BIN_ROOT/kwok-$WH_KWOK_VERSION"
WH_HELM_BIN="$WH_BIN_ROOT/helm-$WH_HELM_VERSION"
WH_KUBECONFORM_BIN="$WH_BIN_ROOT/kubeconform-$WH_KUBECONFORM_VERSION"
WH_MONITORING_CRDS="$WH_BIN_ROOT/prometheus-operator-$WH_PROMOP_VERSION"   # ServiceMonitor CRD

KUBE_APISERVER="$WH_K8S_BIN/kube-apiserver"
KUBE_CONTROLLER_MANAGER="$WH_K8S_BIN/kube-controller-manager"
KUBE_SCHEDULER="$WH_K8S_BIN/kube-scheduler"
KUBECTL="$WH_K8S_BIN/kubectl"
ETCD="$WH_ETCD_BIN/etcd"
KWOK="$WH_KWOK_BIN/kwok"
HELM="$WH_HELM_BIN/helm"
KUBECONFORM="$WH_KUBECONFORM_BIN/kubeconform"
WH_KWOK_MANIFESTS="$WH_KWOK_BIN/manifests"   # CRDs + default stages copied from the kwok module

# State layout
WH_PKI_DIR="$WH_E2E_DIR/pki"
WH_LOG_DIR="$WH_E2E_DIR/logs"
WH_PID_DIR="$WH_E2E_DIR/pids"
WH_ETCD_DATA="$WH_E2E_DIR/etcd-data"
WH_KUBECONFIG="$WH_E2E_DIR/kubeconfig"
WH_ENV_FILE="$WH_E2E_DIR/env"
WH_POD_LOGS_DIR="$WH_E2E_DIR/pod-logs"     # files served as container logs by kwok
WH_TOKENS_FILE="$WH_PKI_DIR/tokens.csv"
WH_API_URL="https://127.0.0.1:$WH_APISERVER_PORT"

wh_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
wh_die() { printf '[%s] ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2; exit 1; }

if [ -z "$WH_K8S_VERSION" ] || [ -z "$WH_ETCD_VERSION" ] || [ -z "$WH_KWOK_VERSION" ] \
  || [ -z "$WH_HELM_VERSION" ] || [ -z "$WH_KUBECONFORM_VERSION" ] || [ -z "$WH_PROMOP_VERSION" ]; then
  wh_die "could not read pinned versions from $WH_TOOLS_DIR/*/go.mod"
fi

# Keep the cache dir out of git without touching the repo's .gitignore.
wh_ignore_cache_dir() {
  mkdir -p "$WH_CACHE_DIR"
  [ -f "$WH_CACHE_DIR/.gitignore" ] || printf '# created by test/harness: never commit build/e2e state\n*\n' >"$WH_CACHE_DIR/.gitignore"
}

wh_tool_paths_env() {
  cat <<EOF
WH_K8S_VERSION=$WH_K8S_VERSION
WH_ETCD_VERSION=$WH_ETCD_VERSION
WH_KWOK_VERSION=$WH_KWOK_VERSION
WH_HELM_VERSION=$WH_HELM_VERSION
WH_KUBECONFORM_VERSION=$WH_KUBECONFORM_VERSION
KUBE_APISERVER=$KUBE_APISERVER
KUBE_CONTROLLER_MANAGER=$KUBE_CONTROLLER_MANAGER
KUBE_SCHEDULER=$KUBE_SCHEDULER
KUBECTL=$KUBECTL
ETCD=$ETCD
KWOK=$KWOK
HELM=$HELM
KUBECONFORM=$KUBECONFORM
EOF
}

wh_tools_present() {
  local b
  for b in "$KUBE_APISERVER" "$KUBE_CONTROLLER_MANAGER" "$KUBE_SCHEDULER" "$KUBECTL" "$ETCD" "$KWOK"; do
    [ -x "$b" ] || return 1
  done
  [ -s "$WH_KWOK_MANIFESTS/crds.yaml" ] && [ -s "$WH_KWOK_MANIFESTS/stages.yaml" ]
}

# The chart tools are checked apart: a cluster runs without them.
wh_chart_tools_present() {
  [ -x "$HELM" ] && [ -x "$KUBECONFORM" ] && [ -s "$WH_MONITORING_CRDS/servicemonitors.yaml" ]
}

# wait_for <description> <timeout s> <command...>: poll every 0.5s until the command succeeds
wait_for() {
  local what=$1 timeout=$2; shift 2
  local t0; t0=$(date +%s)
  until "$@" >/dev/null 2>&1; do
    if (( $(date +%s) - t0 >= timeout )); then
      wh_log "timed out after ${timeout}s waiting for $what"
      return 1
    fi
    sleep 0.5
  done
  wh_log "$what ready after $(( $(date +%s) - t0 ))s"
}

# kubectl as a given context of the harness kubeconfig
wh_kubectl() { "$KUBECTL" --kubeconfig "$WH_KUBECONFIG" "$@"; }

# wh_running <pid>: exists and is not a zombie (an exited setsid child stays a zombie until
# whoever adopted it reaps it, which can take seconds; it cannot be killed and holds nothing).
wh_running() {
  local st
  st="$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)" || return 1
  [ -n "$st" ] && [ "$st" != Z ]
}

# wh_stop_pids <pid>...: TERM, wait up to 10 s, then KILL.
wh_stop_pids() {
  [ "$#" -gt 0 ] || return 0
  kill -TERM "$@" 2>/dev/null || true
  local i p left
  for (( i = 0; i < 50; i++ )); do
    left=()
    for p in "$@"; do wh_running "$p" && left+=("$p"); done
    [ "${#left[@]}" -eq 0 ] && return 0
    sleep 0.2
  done
  wh_log "force-killing ${left[*]}"
  kill -KILL "${left[@]}" 2>/dev/null || true
  sleep 0.2
}
