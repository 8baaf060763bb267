#!/usr/bin/env bash
# Build the real-Kubernetes test tools from pinned Go modules (never downloads
# prebuilt binaries). Idempotent: only missing binaries are built.
#
#   test/harness/build-tools.sh            # build what is missing
#   test/harness/build-tools.sh --print    # only print the binary paths (env format)
#   WH_FORCE_REBUILD=1 test/harness/build-tools.sh
#
# Versions come from the go.mod files under test/tools/{kube,etcd,kwok,helm,kubeconform,prometheus-operator}.
# Binaries land in ${WH_CACHE_DIR:-<repo>/.cache}/bin/<tool>-<version>/ so a
# version bump builds into a fresh directory (and old ones can be deleted).
set -euo pipefail

HARNESS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$HARNESS_DIR/lib.sh"

main() {
  PRINT_ONLY=0
  [ "${1:-}" = "--print" ] && PRINT_ONLY=1

  if [ "$PRINT_ONLY" = 1 ]; then
    wh_tool_paths_env
    return 0
  fi

  command -v go >/dev/null || wh_die "go not found (expected /usr/local/go/bin/go)"
  mkdir -p "$WH_BIN_ROOT"
  wh_ignore_cache_dir

  # one builder at a time (cluster-up may call us concurrently with a manual run)
  exec 9>"$WH_CACHE_DIR/build.lock"
  if ! flock -n 9; then
    wh_log "another build-tools.sh is running; waiting for its lock"
    flock 9
  fi

  export CGO_ENABLED=0
  export GOFLAGS="-mod=readonly -buildvcs=false"
  export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
  GO_BUILD=(go build -trimpath)

  T_ALL=$(date +%s)
  wh_log "go: $(go version)  cache: $WH_BIN_ROOT"
  wh_log "versions: kubernetes $WH_K8S_VERSION, etcd $WH_ETCD_VERSION, kwok $WH_KWOK_VERSION, helm $WH_HELM_VERSION, kubeconform $WH_KUBECONFORM_VERSION"

  missing() { # missing <dir> <name>...: prints names whose binary is absent
    local dir=$1; shift
    local n
    for n in "$@"; do
      if [ "${WH_FORCE_REBUILD:-0}" = 1 ] || [ ! -x "$dir/$n" ]; then echo "$n"; fi
    done
  }

  build_into() { # build_into <module dir> <out dir> <ldflags> <pkg>...
    local moddir=$1 out=$2 ldflags=$3; shift 3
    local tmp; tmp="$(mktemp -d "$WH_BIN_ROOT/.build.XXXXXX")"
    local t0; t0=$(date +%s)
    wh_log "building $* (in $moddir)"
    if ! (cd "$moddir" && "${GO_BUILD[@]}" -ldflags "$ldflags" -o "$tmp/" "$@"); then
      rm -rf "$tmp"; wh_die "go build failed for $*"
    fi
    mkdir -p "$out"
    local f
    for f in "$tmp"/*; do mv -f "$f" "$out/"; done
    rm -rf "$tmp"
    wh_log "  done in $(( $(date +%s) - t0 ))s"
  }

  # --- Kubernetes: kube-apiserver, kube-controller-manager, kube-scheduler, kubectl
  # All four are built by one `go build` so shared packages compile once.
  mapfile -t kmiss < <(missing "$WH_K8S_BIN" kube-apiserver kube-controller-manager kube-scheduler kubectl)
  if [ "${#kmiss[@]}" -gt 0 ]; then
    # Same version stamps hack/lib/version.sh sets, so `kubectl version` and
    # /version report a real release instead of v0.0.0-master.
    minor="${WH_K8S_VERSION#v1.}"; minor="${minor%%.*}"
    ver_ld=""
    for p in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
      ver_ld+=" -X $p.gitVersion=$WH_K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
      ver_ld+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
    done
    pkgs=()
    for n in "${kmiss[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$n"); done
    build_into "$WH_TOOLS_DIR/kube" "$WH_K8S_BIN" "-s -w$ver_ld" "${pkgs[@]}"
  else
    wh_log "kubernetes $WH_K8S_VERSION binaries present"
  fi

  # --- etcd server (tiny main.go calling etcdmain.Main)
  if [ -n "$(missing "$WH_ETCD_BIN" etcd)" ]; then
    build_into "$WH_TOOLS_DIR/etcd" "$WH_ETCD_BIN" "-s -w" .
    # `go build -o dir/ .` names the binary after the module's last path element
    [ -x "$WH_ETCD_BIN/etcd" ] || wh_die "etcd binary not produced"
  else
    wh_log "etcd $WH_ETCD_VERSION present"
  fi

  # --- kwok controller
  if [ -n "$(missing "$WH_KWOK_BIN" kwok)" ]; then
    build_into "$WH_TOOLS_DIR/kwok" "$WH_KWOK_BIN" \
      "-s -w" sigs.k8s.io/kwok/cmd/kwok
  else
    wh_log "kwok $WH_KWOK_VERSION present"
  fi

  # --- chart validation: helm (lint, template, install) and kubeconform (schema checks).
  # Versions are stamped the way helm's own Makefile does, so `helm version` reports the release.
  if [ -n "$(missing "$WH_HELM_BIN" helm)" ]; then
    # Like helm's Makefile: the default Kubernetes version (Capabilities, lint) follows client-go's.
    cgo="$(_wh_gomod_version "$WH_TOOLS_DIR/helm/go.mod" k8s.io/client-go)"  # v0.MINOR.PATCH
    cgo_minor="${cgo#v0.}"; cgo_minor="${cgo_minor%%.*}"
    helm_ld="-s -w -X helm.sh/helm/v3/internal/version.version=$WH_HELM_VERSION"
    helm_ld+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
    for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
      helm_ld+=" -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$cgo_minor"
    done
    build_into "$WH_TOOLS_DIR/helm" "$WH_HELM_BIN" "$helm_ld" helm.sh/helm/v3/cmd/helm
  else
    wh_log "helm $WH_HELM_VERSION present"
  fi
  if [ -n "$(missing "$WH_KUBECONFORM_BIN" kubeconform)" ]; then
    build_into "$WH_TOOLS_DIR/kubeconform" "$WH_KUBECONFORM_BIN" \
      "-s -w -X main.version=$WH_KUBECONFORM_VERSION" github.com/yannh/kubeconform/cmd/kubeconform
  else
    wh_log "kubeconform $WH_KUBECONFORM_VERSION present"
  fi

  # --- the ServiceMonitor CRD of the pinned Prometheus Operator (for chart-check.sh), from the
  # module's source as the module proxy serves it; `go mod download` checks it against sum.golang.org.
  if [ "${WH_FORCE_REBUILD:-0}" = 1 ] || [ ! -s "$WH_MONITORING_CRDS/servicemonitors.yaml" ]; then
    pdir="$(cd "$WH_BIN_ROOT" && GOFLAGS=-mod=mod go mod download -json \
      "github.com/prometheus-operator/prometheus-operator@$WH_PROMOP_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
    crd="$pdir/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml"
    [ -s "$crd" ] || wh_die "ServiceMonitor CRD not found in prometheus-operator $WH_PROMOP_VERSION ($crd)"
    mkdir -p "$WH_MONITORING_CRDS"
    cp "$crd" "$WH_MONITORING_CRDS/servicemonitors.yaml.tmp"
    mv -f "$WH_MONITORING_CRDS/servicemonitors.yaml.tmp" "$WH_MONITORING_CRDS/servicemonitors.yaml"
    wh_log "ServiceMonitor CRD of prometheus-operator $WH_PROMOP_VERSION extracted"
  fi

  # --- kwok manifests (CRDs + default node/pod stages) taken from the SAME kwok
  # module version, so cluster-up.sh never needs the network or the module cache.
  if [ "${WH_FORCE_REBUILD:-0}" = 1 ] || [ ! -s "$WH_KWOK_MANIFESTS/stages.yaml" ] || [ ! -s "$WH_KWOK_MANIFESTS/crds.yaml" ]; then
    kdir="$(cd "$WH_TOOLS_DIR/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
    [ -d "$kdir/kustomize" ] || wh_die "kwok module source not found ($kdir)"
    wh_log "extracting kwok CRDs and stages from $kdir"
    tmp="$(mktemp -d "$WH_BIN_ROOT/.manifests.XXXXXX")"
    for crd in stages logs clusterlogs; do
      cat "$kdir/kustomize/crd/bases/kwok.x-k8s.io_$crd.yaml"; echo "---"
    done >"$tmp/crds.yaml"
    {
      for s in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
               pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
        f="$kdir/kustomize/stage/$s.yaml"
        [ -f "$f" ] || wh_die "missing kwok stage $f"
        if [ "$s" = pod/fast/pod-ready ]; then
          # Pods carrying the annotation wheelhouse.test/scenario are driven by
          # the seed's own stages (CrashLoopBackOff, ImagePullBackOff, ...);
          # keep the stock "make it Running+Ready" stage away from them.
          awk '{ print }
               /^    matchExpressions:$/ && !done {
                 print "    - key: '\''.metadata.annotations[\"wheelhouse.test/scenario\"]'\''"
                 print "      operator: '\''DoesNotExist'\''"
                 done = 1 }' "$f"
        else
          cat "$f"
        fi
        echo "---"
      done
    } >"$tmp/stages.yaml"
    grep -q 'wheelhouse.test/scenario' "$tmp/stages.yaml" || wh_die "could not patch kwok pod-ready stage (format changed?)"
    mkdir -p "$WH_KWOK_MANIFESTS"
    mv -f "$tmp"/*.yaml "$WH_KWOK_MANIFESTS/"
    rm -rf "$tmp"
  fi

  # stable, version-less symlinks for humans and other scripts
  for b in "$WH_K8S_BIN"/kube* "$WH_ETCD_BIN/etcd" "$WH_KWOK_BIN/kwok" "$HELM" "$KUBECONFORM"; do
    ln -sfn "${b#"$WH_BIN_ROOT"/}" "$WH_BIN_ROOT/$(basename "$b")"
  done

  wh_log "all tools ready in $(( $(date +%s) - T_ALL ))s:"
  wh_tool_paths_env | sed 's/^/    /'
}

main "$@"
