#!/usr/bin/env bash
# The harness-built kubectl against the e2e cluster's kubeconfig.
#   test/harness/kubectl.sh get pods -A
#   test/harness/kubectl.sh --context alice auth can-i list pods -n payments
set -euo pipefail
HARNESS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$HARNESS_DIR/lib.sh"
[ -x "$KUBECTL" ] || wh_die "kubectl not built yet: run test/harness/build-tools.sh"
exec "$KUBECTL" --kubeconfig "$WH_KUBECONFIG" "$@"
