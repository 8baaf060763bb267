// Pins the Tekton Pipelines release whose CRDs (config/300-crds) and aggregated
// edit/view ClusterRoles the e2e harness installs into the API server
// (test/harness/tekton-crds.sh). Nothing is built from it: only its config/ is read.
//
// The Go proxy refuses to list this module's versions (403 on @v/list) but serves
// tagged versions (v1.9.0 here), so the version must stay pinned explicitly.
module wheelhouse.test/tools/tekton

go 1.26.0

require github.com/tektoncd/pipeline v1.9.0
