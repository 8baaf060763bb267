// Pins the Prometheus Operator release whose ServiceMonitor CRD test/harness/chart-check.sh installs
// into the e2e control plane, so the chart's optional ServiceMonitor is validated (kubeconform and a
// server-side install) against the real CRD. Only a version pin: build-tools.sh takes the CRD file
// from this module's source (module proxy, checked against the checksum database); nothing is built.
module wheelhouse.test/tools/prometheus-operator

go 1.26.0

require github.com/prometheus-operator/prometheus-operator v0.85.0
