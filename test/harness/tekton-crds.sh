#!/usr/bin/env bash
# Installs Tekton Pipelines' CRDs into the e2e API server, from the Go module pinned in
# test/tools/tekton/go.mod (config/300-crds), plus Tekton's aggregated edit/view ClusterRoles
# (so `edit` users may create PipelineRuns) and read access to them for the bot user.
# No Tekton controller runs: tests drive PipelineRun status themselves. Idempotent.
set -euo pipefail
HARNESS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$HARNESS_DIR/lib.sh"

k() { "$KUBECTL" --kubeconfig "$WH_KUBECONFIG" --context admin "$@"; }

# The module cache directory of the pinned release (downloaded and checked against go.sum).
dir="$(cd "$WH_TOOLS_DIR/tekton" && GOFLAGS=-mod=readonly go mod download -json github.com/tektoncd/pipeline |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[ -n "$dir" ] && [ -d "$dir/config/300-crds" ] || wh_die "Tekton module not in the Go module cache (go mod download failed?)"
version="$(_wh_gomod_version "$WH_TOOLS_DIR/tekton/go.mod" github.com/tektoncd/pipeline)"

k apply --server-side --force-conflicts -f "$dir/config/300-crds/" >/dev/null
k apply -f "$dir/config/clusterrole-aggregate-edit.yaml" -f "$dir/config/clusterrole-aggregate-view.yaml" >/dev/null
k apply -f - >/dev/null <<'YAML'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: wheelhouse-tekton-reader }
rules:
- apiGroups: [tekton.dev]
  resources: [pipelineruns, pipelines]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: wheelhouse-tekton-reader }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: wheelhouse-tekton-reader }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: wheelhouse }]
YAML
k wait --for=condition=Established --timeout=60s crd/pipelineruns.tekton.dev >/dev/null
wh_log "Tekton Pipelines $version CRDs installed from $dir/config/300-crds"
