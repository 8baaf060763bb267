// Pins the Argo Rollouts release whose Rollout and AnalysisRun CRDs (manifests/crds) and
// aggregated edit/view ClusterRoles (manifests/base/argo-rollouts-aggregate-roles.yaml) the e2e
// harness installs into the API server (test/harness/argo-rollouts-crds.sh). Nothing is built
// from it and no Argo controller runs: tests drive a Rollout's status themselves.
module wheelhouse.test/tools/argo-rollouts

go 1.26.0

require github.com/argoproj/argo-rollouts v1.8.3
