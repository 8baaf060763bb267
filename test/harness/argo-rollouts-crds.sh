#!/usr/bin/env bash
# Installs Argo Rollouts' CRDs (Rollout, AnalysisRun, AnalysisTemplate, ...) into the e2e API
# server, from the Go module pinned in test/tools/argo-rollouts/go.mod (manifests/crds), plus
# Argo's aggregated view/edit ClusterRoles (so `view` users may read Rollouts and `edit` users may
# patch rollouts and rollouts/status: promote, abort, retry). No Argo controller runs: tests drive
# a Rollout's status themselves. Idempotent.
set -euo pipefail
HARNESS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$HARNESS_DIR/lib.sh"

k() { "$KUBECTL" --kubeconfig "$WH_KUBECONFIG" --context admin "$@"; }

# The module cache directory of the pinned release (downloaded and checked against go.sum).
dir="$(cd "$WH_TOOLS_DIR/argo-rollouts" && GOFLAGS=-mod=readonly go mod download -json github.com/argoproj/argo-rollouts |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[ -n "$dir" ] && [ -s "$dir/manifests/crds/rollout-crd.yaml" ] || wh_die "Argo Rollouts module not in the Go module cache (go mod download failed?)"
version="$(_wh_gomod_version "$WH_TOOLS_DIR/argo-rollouts/go.mod" github.com/argoproj/argo-rollouts)"

for crd in rollout analysis-run analysis-template cluster-analysis-template experiment; do
  k apply --server-side --force-conflicts -f "$dir/manifests/crds/$crd-crd.yaml" >/dev/null
done
k apply -f "$dir/manifests/base/argo-rollouts-aggregate-roles.yaml" >/dev/null
k wait --for=condition=Established --timeout=60s crd/rollouts.argoproj.io crd/analysisruns.argoproj.io >/dev/null
wh_log "Argo Rollouts $version CRDs installed from $dir/manifests/crds"
