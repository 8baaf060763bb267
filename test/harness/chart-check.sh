#!/usr/bin/env bash
# Validates charts/wheelhouse against the harness's real control plane (run by e2e.sh after the
# cluster is up; alone: `bash test/harness/seed.sh && bash test/harness/chart-check.sh`).
#
#   1. helm lint --strict with the default values, charts/wheelhouse/ci/*.yaml and the harness values
#   2. values.schema.json and the templates refuse what they must (secrets in values, relaxed security
#      context, read rules on Secrets, an {id} impersonation name, replicas without a shared store)
#   3. helm template | kubeconform -strict, against JSON schemas generated from THIS API server's
#      OpenAPI (/openapi/v2, with the ServiceMonitor CRD installed): nothing is downloaded at run time,
#      and the schemas are exactly the Kubernetes version the harness runs
#   4. helm install into a namespace that enforces the `restricted` Pod Security Standard, and wait
#      until the Deployment is available (the API server admits the hardened pod, kwok runs it)
#   5. kubectl auth can-i as the service account: reads yes, Secrets and direct writes no, impersonation
#      only of the configured users and groups, the Lease only in its namespace; then, with the service
#      account's own token, a write is allowed only while impersonating a user RBAC lets write
#
# Prints one summary line: "chart-check: N passed, M failed (...)"; exits 1 when anything failed.
set -euo pipefail
HARNESS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$HARNESS_DIR/lib.sh"
cd "$WH_REPO_DIR"

[ -f "$WH_ENV_FILE" ] || wh_die "no cluster env at $WH_ENV_FILE: run test/harness/seed.sh first"
# shellcheck disable=SC1090
source "$WH_ENV_FILE"
curl -sk --max-time 3 "$WH_API_URL/readyz" >/dev/null || wh_die "API server $WH_API_URL is not ready"
wh_chart_tools_present || bash "$HARNESS_DIR/build-tools.sh"

CHART="$WH_REPO_DIR/charts/wheelhouse"
VALUES="$WH_HARNESS_DIR/manifests/chart-values.yaml"
NODE_BIN="${NODE_BIN:-$WH_REPO_DIR/node_modules/.bin/node}"
OUT="$WH_E2E_DIR/chart-check"
NS="${WH_CHART_NAMESPACE:-wheelhouse-chart}"
RELEASE=wh
SECRET=wheelhouse-credentials
K8S_VER="${WH_K8S_VERSION#v}"
rm -rf "$OUT" && mkdir -p "$OUT"

passed=0 failed=0
failures=()
ok() { passed=$((passed + 1)); wh_log "  ok    $*"; }
nok() { failed=$((failed + 1)); failures+=("$*"); wh_log "  FAIL  $*"; }
# check <description> <command...>: passes when the command succeeds
check() { local d=$1; shift; if "$@" >>"$OUT/check.log" 2>&1; then ok "$d"; else nok "$d"; fi; }
# refuse <description> <expected message part> <command...>: passes when the command fails saying so
refuse() {
  local d=$1 want=$2 out; shift 2
  if out="$("$@" 2>&1)"; then nok "$d (was accepted)"; return; fi
  if grep -qF -- "$want" <<<"$out"; then ok "$d"; else nok "$d (failed without \"$want\": ${out:0:200})"; fi
}
helm_() { "$HELM" --kubeconfig "$WH_KUBECONFIG" "$@"; }
kubectl_() { "$KUBECTL" --kubeconfig "$WH_KUBECONFIG" "$@"; }

t0=$SECONDS
wh_log "chart-check: helm $WH_HELM_VERSION, kubeconform $WH_KUBECONFORM_VERSION, Kubernetes $WH_K8S_VERSION, namespace $NS"

# --- 1. lint
value_sets=("" "$CHART/ci/full-values.yaml" "$CHART/ci/persistence-values.yaml" "$VALUES")
for v in "${value_sets[@]}"; do
  check "helm lint --strict ${v:+-f ${v#"$WH_REPO_DIR"/}}" "$HELM" lint --strict "$CHART" ${v:+-f "$v"}
done

# --- 2. what values.schema.json and the templates must refuse
tpl() { "$HELM" template "$RELEASE" "$CHART" --namespace "$NS" "$@"; }
refuse "refuses a Slack token in values" "additional properties 'botToken' not allowed" tpl --set config.slack.botToken=xoxb-1
refuse "refuses a database URL in values" "additional properties 'postgresUrl' not allowed" \
  tpl --set config.store.postgresUrl=postgres://u:p@db/wh
refuse "refuses a writable root filesystem" "readOnlyRootFilesystem" tpl --set securityContext.readOnlyRootFilesystem=false
refuse "refuses privilege escalation" "allowPrivilegeEscalation" tpl --set securityContext.allowPrivilegeEscalation=true
refuse "refuses running as root" "runAsNonRoot" tpl --set podSecurityContext.runAsNonRoot=false
refuse "refuses dropping the seccomp profile" "seccompProfile" tpl --set securityContext.seccompProfile=null
refuse "refuses read rules on Secrets" "/rbac/reader/extraRules/0/resources/0" \
  tpl --set-json 'rbac.reader.extraRules=[{"apiGroups":[""],"resources":["secrets"],"verbs":["get"]}]'
refuse "refuses write verbs in read rules" "/rbac/reader/extraRules/0/verbs/0" \
  tpl --set-json 'rbac.reader.extraRules=[{"apiGroups":["apps"],"resources":["deployments"],"verbs":["patch"]}]'
refuse "refuses impersonating system:masters" "/rbac/impersonation/groups/0" tpl --set 'rbac.impersonation.groups[0]=system:masters'
refuse "refuses an {id} impersonation name" "placeholder" tpl --set 'config.identity.unmapped.kubeUser=slack:{id}'
refuse "refuses replicas over SQLite" "needs config.store.driver: postgres" tpl --set replicaCount=2
refuse "refuses replicas without leader election" "needs leaderElection.enabled" \
  tpl --set replicaCount=2 --set config.store.driver=postgres
refuse "refuses unknown config keys" "additional properties 'bogus' not allowed" tpl --set config.bogus=1
refuse "refuses non-secret variables from the Secret" "invalid propertyName" tpl --set secretEnv.WH_LOG_LEVEL=x

# --- 3. kubeconform against this API server's own OpenAPI (ServiceMonitor CRD installed first)
kubectl_ apply --server-side --field-manager wheelhouse-chart-check -f "$WH_MONITORING_CRDS/servicemonitors.yaml" >>"$OUT/check.log"
kubectl_ wait --for condition=Established --timeout 30s crd/servicemonitors.monitoring.coreos.com >>"$OUT/check.log"
schemas="$OUT/schemas"
# The aggregated OpenAPI document takes a moment to include a new CRD.
for _ in $(seq 1 40); do
  kubectl_ get --raw /openapi/v2 >"$OUT/openapi-v2.json"
  grep -q '"com.coreos.monitoring.v1.ServiceMonitor"' "$OUT/openapi-v2.json" && break
  sleep 0.5
done
"$NODE_BIN" "$HARNESS_DIR/openapi-to-json-schemas.ts" "$OUT/openapi-v2.json" "$schemas/v$K8S_VER-standalone-strict" >>"$OUT/check.log"
location="$schemas/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json"
kubeconform_resources=0
for v in "${value_sets[@]}"; do
  name="${v:+${v#"$WH_REPO_DIR"/}}"
  tpl --kube-version "$K8S_VER" ${v:+-f "$v"} >"$OUT/rendered.yaml"
  if "$KUBECONFORM" -strict -summary -output text -kubernetes-version "$K8S_VER" -schema-location "$location" \
      "$OUT/rendered.yaml" >"$OUT/kubeconform.txt" 2>&1 \
    && n="$(sed -n 's/.*Valid: \([0-9]*\), Invalid: 0, Errors: 0, Skipped: 0.*/\1/p' "$OUT/kubeconform.txt")" && [ -n "$n" ]; then
    kubeconform_resources=$((kubeconform_resources + n))
    ok "kubeconform -strict ${name:-default values}: $n resources valid"
  else
    nok "kubeconform -strict ${name:-default values}: $(tr '\n' ' ' <"$OUT/kubeconform.txt" | cut -c1-400)"
  fi
done
# The schemas are strict: a misspelt field must be caught, or the check above proves nothing.
tpl --kube-version "$K8S_VER" | sed 's/revisionHistoryLimit:/revisionHistoryLimt:/' >"$OUT/broken.yaml"
refuse "kubeconform catches a misspelt field" "additional properties 'revisionHistoryLimt' not allowed" \
  "$KUBECONFORM" -strict -kubernetes-version "$K8S_VER" -schema-location "$location" "$OUT/broken.yaml"

# --- 4. install, server-side, into a namespace enforcing the restricted Pod Security Standard
helm_ uninstall "$RELEASE" --namespace "$NS" --wait >/dev/null 2>&1 || true
kubectl_ delete namespace "$NS" --ignore-not-found --wait=true >/dev/null
kubectl_ create namespace "$NS" >/dev/null
kubectl_ label namespace "$NS" pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/warn=restricted >/dev/null
# Placeholder credentials: the chart only references the Secret; kwok does not run the container.
kubectl_ -n "$NS" create secret generic "$SECRET" --from-literal=WH_ALERTS_TOKEN=chart-check-not-a-real-token >/dev/null
t_install=$SECONDS
if helm_ install "$RELEASE" "$CHART" --namespace "$NS" -f "$VALUES" --wait --timeout 90s >"$OUT/install.log" 2>&1; then
  ok "helm install (restricted namespace) and Deployment available in $((SECONDS - t_install)) s"
else
  nok "helm install: $(tail -3 "$OUT/install.log" | tr '\n' ' ')"
  kubectl_ -n "$NS" get events --sort-by=.lastTimestamp >>"$OUT/install.log" 2>&1 || true
fi
if grep -qi "would violate PodSecurity" "$OUT/install.log"; then nok "Pod Security warnings: $(grep -i podsecurity "$OUT/install.log" | head -2)"; fi
fullname="$RELEASE-wheelhouse"
check "pod runs with the hardened security context" bash -c \
  "'$KUBECTL' --kubeconfig '$WH_KUBECONFIG' -n '$NS' get pods -l app.kubernetes.io/instance=$RELEASE -o jsonpath='{.items[0].spec.containers[0].securityContext.readOnlyRootFilesystem} {.items[0].spec.securityContext.runAsNonRoot} {.items[0].status.phase}' | grep -qx 'true true Running'"
check "ServiceMonitor created" kubectl_ -n "$NS" get servicemonitor "$fullname"
check "PodDisruptionBudget, NetworkPolicy, ConfigMap created" kubectl_ -n "$NS" get pdb/"$fullname" networkpolicy/"$fullname" configmap/"$fullname"

# --- 5. the service account's rights
sa="system:serviceaccount:$NS:$fullname"
can() { # can <yes|no> <can-i args...>
  local want=$1 got; shift
  got="$(kubectl_ auth can-i --as "$sa" "$@" 2>/dev/null || true)"
  if [ "$got" = "$want" ]; then ok "can-i $* → $want"; else nok "can-i $* → ${got:-error}, want $want"; fi
}
can yes list pods --all-namespaces
can yes watch pods --all-namespaces
can yes get pods --subresource=log -n shop
can yes list deployments.apps -n shop
can yes list events -n payments
can yes list nodes
can yes list jobs.batch -n shop
can yes impersonate users/alice
can yes impersonate users/bob
can yes impersonate groups/wheelhouse:chat
can no get secrets -n shop
can no list secrets --all-namespaces
can no patch deployments.apps -n shop
can no delete pods -n shop
can no create deployments.apps -n shop
can no impersonate users/carol
can no impersonate users/admin
can no impersonate groups/system:masters
can no impersonate serviceaccounts -n shop
can yes create leases.coordination.k8s.io -n "$NS"
can yes update "leases.coordination.k8s.io/$fullname" -n "$NS"
can no update leases.coordination.k8s.io/someone-else -n "$NS"
can no update "leases.coordination.k8s.io/$fullname" -n kube-system

# Writes exist only through impersonation: with the service account's own token, patching as itself
# is refused, as bob (edit in shop) it is allowed, and impersonating an unconfigured user is refused.
token="$(kubectl_ -n "$NS" create token "$fullname" --duration 10m 2>>"$OUT/check.log" || true)"
as_sa() { "$KUBECTL" --server "$WH_API_URL" --certificate-authority "$WH_CA_FILE" --token "$token" "$@"; }
if [ -n "$token" ]; then
  patch='{"metadata":{"annotations":{"wheelhouse.test/chart-check":"1"}}}'
  refuse "service account token: patch as itself is forbidden" "Forbidden" \
    as_sa -n shop patch deployment checkout --type merge -p "$patch" --dry-run=server
  check "service account token: patch impersonating bob is allowed" \
    as_sa -n shop patch deployment checkout --type merge -p "$patch" --dry-run=server --as bob
  refuse "service account token: patch impersonating alice (view) is forbidden" "Forbidden" \
    as_sa -n shop patch deployment checkout --type merge -p "$patch" --dry-run=server --as alice
  refuse "service account token: impersonating carol is forbidden" "cannot impersonate" \
    as_sa -n shop get pods --as carol
else
  nok "kubectl create token $fullname (see $OUT/check.log)"
fi

# --- clean up what this script installed (the CRD stays: harmless, and quicker next time)
helm_ uninstall "$RELEASE" --namespace "$NS" --wait >>"$OUT/check.log" 2>&1 || nok "helm uninstall"
kubectl_ get clusterrole "$NS-$fullname-reader" >/dev/null 2>&1 && nok "ClusterRole left after uninstall"
kubectl_ delete namespace "$NS" --wait=false >/dev/null 2>&1 || true

summary="chart-check: $passed passed, $failed failed (helm lint ×${#value_sets[@]}, kubeconform $kubeconform_resources resources, install + can-i; $((SECONDS - t0)) s)"
if [ "$failed" -gt 0 ]; then
  printf '%s\n' "${failures[@]/#/  failed: }"
  wh_log "$summary"
  exit 1
fi
wh_log "$summary"
