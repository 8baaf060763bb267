#!/usr/bin/env bash
# Start (or reuse) the local real-Kubernetes e2e cluster:
#   etcd -> kube-apiserver -> kube-controller-manager, kube-scheduler, kwok
# with 4 simulated kwok nodes. Everything listens on 127.0.0.1 only.
#
#   test/harness/cluster-up.sh           # idempotent; reuses a healthy cluster
#   test/harness/cluster-up.sh --restart # stop (keep state) and start again
#
# Afterwards: `source "$WH_E2E_DIR/env"` (default .cache/e2e/env) to get
# KUBECONFIG, KUBECTL and friends. See test/harness/README.md.
set -euo pipefail

HARNESS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$HARNESS_DIR/lib.sh"

# Fixed tokens of the human/bot identities (localhost-only test cluster).
WH_TOKEN_ADMIN="${WH_TOKEN_ADMIN:-wh-e2e-admin-token}"
WH_TOKEN_ALICE="${WH_TOKEN_ALICE:-wh-e2e-alice-token}"
WH_TOKEN_BOB="${WH_TOKEN_BOB:-wh-e2e-bob-token}"
WH_TOKEN_WHEELHOUSE="${WH_TOKEN_WHEELHOUSE:-wh-e2e-wheelhouse-token}"
WH_READY_TIMEOUT="${WH_READY_TIMEOUT:-120}"

COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

comp_bin() {
  case "$1" in
    etcd) echo "$ETCD" ;;
    kube-apiserver) echo "$KUBE_APISERVER" ;;
    kube-controller-manager) echo "$KUBE_CONTROLLER_MANAGER" ;;
    kube-scheduler) echo "$KUBE_SCHEDULER" ;;
    kwok) echo "$KWOK" ;;
  esac
}

# alive <component>: pid file points at a live process running the expected binary
alive() {
  local pidf="$WH_PID_DIR/$1.pid" pid exe
  [ -s "$pidf" ] || return 1
  pid="$(cat "$pidf")"
  kill -0 "$pid" 2>/dev/null || return 1
  exe="$(readlink -f "/proc/$pid/exe" 2>/dev/null || true)"
  [ "$exe" = "$(readlink -f "$(comp_bin "$1")")" ]
}

start_component() { # start_component <name> <args...>
  local name=$1; shift
  local bin; bin="$(comp_bin "$name")"
  local log="$WH_LOG_DIR/$name.log"
  printf '\n===== %s starting %s =====\n%s %s\n' "$(date -Is)" "$name" "$bin" "$*" >>"$log"
  # setsid: own session, so Ctrl-C / the caller's process group do not kill it
  setsid "$bin" "$@" >>"$log" 2>&1 </dev/null &
  echo $! >"$WH_PID_DIR/$name.pid"
  wh_log "started $name (pid $!, log $log)"
}

fail_with_logs() {
  local c
  for c in "${COMPONENTS[@]}"; do
    [ -f "$WH_LOG_DIR/$c.log" ] || continue
    echo "----- last lines of $WH_LOG_DIR/$c.log -----" >&2
    tail -n 15 "$WH_LOG_DIR/$c.log" >&2
  done
  wh_die "$* (processes are left running for inspection; stop them with $HARNESS_DIR/cluster-down.sh)"
}

admin_kubectl() { "$KUBECTL" --kubeconfig "$WH_KUBECONFIG" --context admin "$@"; }

nodes_ready() {
  local n
  n="$(admin_kubectl get nodes -l type=kwok -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' 2>/dev/null | grep -c '^True$' || true)"
  [ "$n" -ge "$WH_KWOK_NODE_COUNT" ]
}

cluster_healthy() {
  local c
  for c in "${COMPONENTS[@]}"; do alive "$c" || return 1; done
  [ -s "$WH_KUBECONFIG" ] || return 1
  admin_kubectl get --raw /readyz >/dev/null 2>&1 || return 1
  nodes_ready
}

# ---------------------------------------------------------------- PKI + auth
gen_pki() {
  mkdir -p "$WH_PKI_DIR"
  chmod 700 "$WH_PKI_DIR"
  local p=$WH_PKI_DIR
  if [ ! -s "$p/ca.crt" ]; then
    wh_log "generating PKI in $p (openssl)"
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
      -keyout "$p/ca.key" -out "$p/ca.crt" -subj "/CN=wheelhouse-e2e-ca" \
      -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
    rm -f "$p"/apiserver.* "$p"/kubelet-client.* "$p"/kwok.* "$p"/front-proxy-client.*
  fi
  issue_cert apiserver "/CN=kube-apiserver" serverAuth \
    "IP:127.0.0.1,IP:${WH_SERVICE_CIDR%.*/*}.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  # client cert the apiserver presents to kwok's kubelet-like server (logs)
  issue_cert kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth ""
  # aggregation layer / front proxy (keeps extension-apiserver-authentication complete)
  issue_cert front-proxy-client "/CN=front-proxy-client" clientAuth ""
  # serving cert of kwok's kubelet-like server; apiserver verifies it against ca.crt
  issue_cert kwok "/CN=kwok-kubelet" serverAuth "IP:127.0.0.1,DNS:localhost"
  if [ ! -s "$p/sa.key" ]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$p/sa.key" 2>/dev/null
    openssl pkey -in "$p/sa.key" -pubout -out "$p/sa.pub" 2>/dev/null
  fi
  if [ ! -s "$p/control-plane-tokens" ]; then
    # random per state dir; nobody but the components needs them
    {
      echo "KCM_TOKEN=$(openssl rand -hex 24)"
      echo "SCHED_TOKEN=$(openssl rand -hex 24)"
      echo "KWOK_TOKEN=$(openssl rand -hex 24)"
    } >"$p/control-plane-tokens"
  fi
  # shellcheck disable=SC1091
  source "$p/control-plane-tokens"
  # token,user,uid,"groups" (static token file; rewritten every start so env overrides apply)
  cat >"$WH_TOKENS_FILE" <<EOF
$WH_TOKEN_ADMIN,admin,uid-admin,"system:masters"
$WH_TOKEN_ALICE,alice,uid-alice
$WH_TOKEN_BOB,bob,uid-bob
$WH_TOKEN_WHEELHOUSE,wheelhouse,uid-wheelhouse
$KCM_TOKEN,system:kube-controller-manager,uid-kcm
$SCHED_TOKEN,system:kube-scheduler,uid-scheduler
$KWOK_TOKEN,kwok-controller,uid-kwok,"system:masters"
EOF
  chmod 600 "$WH_TOKENS_FILE"
}

issue_cert() { # issue_cert <name> <subject> <serverAuth|clientAuth> <SANs or "">
  local name=$1 subj=$2 eku=$3 san=$4 p=$WH_PKI_DIR
  [ -s "$p/$name.crt" ] && return 0
  local ext; ext="$(mktemp)"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    [ -n "$san" ] && echo "subjectAltName=$san"
  } >"$ext"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$p/$name.key" -out "$p/$name.csr" -subj "$subj" 2>/dev/null
  openssl x509 -req -in "$p/$name.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial \
    -sha256 -days 3650 -extfile "$ext" -out "$p/$name.crt" 2>/dev/null
  rm -f "$ext" "$p/$name.csr"
}

write_kubeconfigs() {
  local ca; ca="$(base64 -w0 <"$WH_PKI_DIR/ca.crt")"
  local ctxs=(admin alice bob wheelhouse)
  local toks=("$WH_TOKEN_ADMIN" "$WH_TOKEN_ALICE" "$WH_TOKEN_BOB" "$WH_TOKEN_WHEELHOUSE")
  local nss=(default shop shop default)
  local i
  {
    echo "apiVersion: v1"
    echo "kind: Config"
    echo "clusters:"
    echo "- name: wheelhouse-e2e"
    echo "  cluster:"
    echo "    server: $WH_API_URL"
    echo "    certificate-authority-data: $ca"
    echo "users:"
    for i in "${!ctxs[@]}"; do
      echo "- name: ${ctxs[$i]}"
      echo "  user:"
      echo "    token: ${toks[$i]}"
    done
    echo "contexts:"
    for i in "${!ctxs[@]}"; do
      echo "- name: ${ctxs[$i]}"
      echo "  context:"
      echo "    cluster: wheelhouse-e2e"
      echo "    user: ${ctxs[$i]}"
      echo "    namespace: ${nss[$i]}"
    done
    echo "current-context: admin"
  } >"$WH_KUBECONFIG.tmp"
  mv -f "$WH_KUBECONFIG.tmp" "$WH_KUBECONFIG"
  chmod 600 "$WH_KUBECONFIG"

  mkdir -p "$WH_E2E_DIR/kubeconfigs"
  local comp tok
  for comp in controller-manager scheduler kwok; do
    case $comp in
      controller-manager) tok=$KCM_TOKEN ;;
      scheduler) tok=$SCHED_TOKEN ;;
      kwok) tok=$KWOK_TOKEN ;;
    esac
    cat >"$WH_E2E_DIR/kubeconfigs/$comp.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: wheelhouse-e2e
  cluster:
    server: $WH_API_URL
    certificate-authority-data: $ca
users:
- name: $comp
  user:
    token: $tok
contexts:
- name: $comp
  context:
    cluster: wheelhouse-e2e
    user: $comp
current-context: $comp
EOF
    chmod 600 "$WH_E2E_DIR/kubeconfigs/$comp.kubeconfig"
  done
}

write_env_file() {
  cat >"$WH_ENV_FILE" <<EOF
# Generated by test/harness/cluster-up.sh -- source me.
export WH_E2E_DIR='$WH_E2E_DIR'
export KUBECONFIG='$WH_KUBECONFIG'
export WH_KUBECONFIG='$WH_KUBECONFIG'
export WH_API_URL='$WH_API_URL'
export WH_CA_FILE='$WH_PKI_DIR/ca.crt'
export WH_K8S_VERSION='$WH_K8S_VERSION'
export WH_ETCD_VERSION='$WH_ETCD_VERSION'
export WH_KWOK_VERSION='$WH_KWOK_VERSION'
export KUBECTL='$KUBECTL'
export WH_KUBECTL='$KUBECTL'
export WH_BIN_DIR='$WH_BIN_ROOT'
export WH_LOG_DIR='$WH_LOG_DIR'
export WH_POD_LOGS_DIR='$WH_POD_LOGS_DIR'
export WH_TOKEN_ADMIN='$WH_TOKEN_ADMIN'
export WH_TOKEN_ALICE='$WH_TOKEN_ALICE'
export WH_TOKEN_BOB='$WH_TOKEN_BOB'
export WH_TOKEN_WHEELHOUSE='$WH_TOKEN_WHEELHOUSE'
export WH_APISERVER_PORT='$WH_APISERVER_PORT'
export WH_ETCD_CLIENT_PORT='$WH_ETCD_CLIENT_PORT'
export WH_KWOK_PORT='$WH_KWOK_PORT'
EOF
}

node_manifest() {
  local i zones=(zone-a zone-b zone-c)
  for (( i = 0; i < WH_KWOK_NODE_COUNT; i++ )); do
    cat <<EOF
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    type: kwok
    kubernetes.io/arch: amd64
    kubernetes.io/os: linux
    kubernetes.io/hostname: kwok-node-$i
    node-role.kubernetes.io/worker: ""
    topology.kubernetes.io/zone: ${zones[$(( i % 3 ))]}
spec:
  podCIDR: 10.244.$i.0/24
status:
  capacity:
    cpu: "8"
    memory: 32Gi
    pods: "110"
    ephemeral-storage: 100Gi
  allocatable:
    cpu: "8"
    memory: 32Gi
    pods: "110"
    ephemeral-storage: 100Gi
  nodeInfo:
    architecture: amd64
    operatingSystem: linux
    osImage: kwok simulated node
    kubeletVersion: $WH_K8S_VERSION
    kubeProxyVersion: $WH_K8S_VERSION
    containerRuntimeVersion: kwok://$WH_KWOK_VERSION
    kernelVersion: kwok
---
EOF
  done
}

print_summary() {
  cat <<EOF

Wheelhouse e2e cluster is up (kubernetes $WH_K8S_VERSION, etcd $WH_ETCD_VERSION, kwok $WH_KWOK_VERSION)
  API server   $WH_API_URL   (CA: $WH_PKI_DIR/ca.crt)
  kubeconfig   $WH_KUBECONFIG   contexts: admin (default), alice, bob, wheelhouse
  env file     source $WH_ENV_FILE
  kubectl      $KUBECTL
  logs         $WH_LOG_DIR/<component>.log
  state        $WH_E2E_DIR
  ports        apiserver $WH_APISERVER_PORT, etcd $WH_ETCD_CLIENT_PORT/$WH_ETCD_PEER_PORT, controller-manager $WH_KCM_PORT, scheduler $WH_SCHEDULER_PORT, kwok $WH_KWOK_PORT (all 127.0.0.1)
  nodes        $WH_KWOK_NODE_COUNT kwok nodes (cpu 8, memory 32Gi, pods 110)
EOF
}

main() {
  local restart=0
  case "${1:-}" in
    --restart) restart=1 ;;
    "") ;;
    *) wh_die "usage: $0 [--restart]" ;;
  esac
  local T0; T0=$(date +%s)
  for tool in openssl curl setsid base64; do
    command -v "$tool" >/dev/null || wh_die "$tool is required (apt-get install -y openssl curl util-linux coreutils)"
  done
  wh_ignore_cache_dir
  if ! wh_tools_present; then
    wh_log "tools missing; running build-tools.sh"
    "$HARNESS_DIR/build-tools.sh"
  fi
  mkdir -p "$WH_E2E_DIR" "$WH_LOG_DIR" "$WH_PID_DIR" "$WH_POD_LOGS_DIR"

  if [ "$restart" = 0 ] && cluster_healthy; then
    wh_log "cluster already running and healthy; reusing it"
    write_env_file
    print_summary
    return 0
  fi
  local c any=0
  for c in "${COMPONENTS[@]}"; do [ -s "$WH_PID_DIR/$c.pid" ] && any=1; done
  if [ "$any" = 1 ]; then
    wh_log "stopping leftovers of a previous (unhealthy or restarted) cluster"
    "$HARNESS_DIR/cluster-down.sh"
  fi

  local var port
  for var in WH_ETCD_CLIENT_PORT WH_ETCD_PEER_PORT WH_APISERVER_PORT WH_KCM_PORT WH_SCHEDULER_PORT WH_KWOK_PORT; do
    port="${!var}"
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      wh_die "127.0.0.1:$port is already in use by another process; set $var to a free port"
    fi
  done

  gen_pki
  write_kubeconfigs
  write_env_file
  local p=$WH_PKI_DIR

  # ---------------------------------------------------------------- etcd
  mkdir -p "$WH_ETCD_DATA"; chmod 700 "$WH_ETCD_DATA"
  start_component etcd \
    --name=wh-e2e \
    --data-dir="$WH_ETCD_DATA" \
    --listen-client-urls="http://127.0.0.1:$WH_ETCD_CLIENT_PORT" \
    --advertise-client-urls="http://127.0.0.1:$WH_ETCD_CLIENT_PORT" \
    --listen-peer-urls="http://127.0.0.1:$WH_ETCD_PEER_PORT" \
    --initial-advertise-peer-urls="http://127.0.0.1:$WH_ETCD_PEER_PORT" \
    --initial-cluster="wh-e2e=http://127.0.0.1:$WH_ETCD_PEER_PORT" \
    --quota-backend-bytes=2147483648 \
    --auto-compaction-retention=1 \
    --unsafe-no-fsync=true \
    --log-level=warn
  wait_for etcd 30 curl -fsS "http://127.0.0.1:$WH_ETCD_CLIENT_PORT/health" || fail_with_logs "etcd did not start"

  # ---------------------------------------------------------------- apiserver
  start_component kube-apiserver \
    --bind-address=127.0.0.1 \
    --advertise-address=127.0.0.1 \
    --secure-port="$WH_APISERVER_PORT" \
    --event-ttl=168h \
    --etcd-servers="http://127.0.0.1:$WH_ETCD_CLIENT_PORT" \
    --etcd-prefix=/registry \
    --tls-cert-file="$p/apiserver.crt" \
    --tls-private-key-file="$p/apiserver.key" \
    --client-ca-file="$p/ca.crt" \
    --token-auth-file="$WH_TOKENS_FILE" \
    --authorization-mode=Node,RBAC \
    --enable-admission-plugins=NodeRestriction \
    --allow-privileged=true \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$p/sa.pub" \
    --service-account-signing-key-file="$p/sa.key" \
    --service-cluster-ip-range="$WH_SERVICE_CIDR" \
    --endpoint-reconciler-type=none \
    --requestheader-client-ca-file="$p/ca.crt" \
    --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User \
    --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$p/front-proxy-client.crt" \
    --proxy-client-key-file="$p/front-proxy-client.key" \
    --kubelet-client-certificate="$p/kubelet-client.crt" \
    --kubelet-client-key="$p/kubelet-client.key" \
    --kubelet-certificate-authority="$p/ca.crt" \
    --kubelet-preferred-address-types=InternalIP \
    --cert-dir="$WH_E2E_DIR/apiserver-certs" \
    --profiling=false
  wait_for "kube-apiserver /readyz" 90 admin_kubectl get --raw /readyz ||
    fail_with_logs "kube-apiserver did not become ready"

  # ---------------------------------------------------------------- cluster objects
  admin_kubectl apply -f "$WH_KWOK_MANIFESTS/crds.yaml" >/dev/null
  admin_kubectl wait --for=condition=Established --timeout=60s \
    crd/stages.kwok.x-k8s.io crd/logs.kwok.x-k8s.io crd/clusterlogs.kwok.x-k8s.io >/dev/null
  # a freshly established CRD can take a moment to show up in discovery
  wait_for "kwok CRDs in discovery" 30 admin_kubectl get stages.kwok.x-k8s.io ||
    fail_with_logs "kwok CRDs not served"
  admin_kubectl apply -f "$WH_KWOK_MANIFESTS/stages.yaml" >/dev/null
  admin_kubectl apply -f "$HARNESS_DIR/manifests/identities.yaml" >/dev/null
  wh_log "applied kwok CRDs + stages and identities (RBAC)"

  # ---------------------------------------------------------------- controllers
  local kc=$WH_E2E_DIR/kubeconfigs
  start_component kube-controller-manager \
    --kubeconfig="$kc/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$kc/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$kc/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 \
    --secure-port="$WH_KCM_PORT" \
    --cert-dir="$WH_E2E_DIR/controller-manager-certs" \
    --leader-elect=false \
    --use-service-account-credentials=true \
    --service-account-private-key-file="$p/sa.key" \
    --root-ca-file="$p/ca.crt" \
    --cluster-signing-cert-file="$p/ca.crt" \
    --cluster-signing-key-file="$p/ca.key" \
    --service-cluster-ip-range="$WH_SERVICE_CIDR" \
    --controllers='*,-nodeipam,-cloud-node-lifecycle,-service,-route' \
    --profiling=false
  start_component kube-scheduler \
    --kubeconfig="$kc/scheduler.kubeconfig" \
    --authentication-kubeconfig="$kc/scheduler.kubeconfig" \
    --authorization-kubeconfig="$kc/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 \
    --secure-port="$WH_SCHEDULER_PORT" \
    --cert-dir="$WH_E2E_DIR/scheduler-certs" \
    --leader-elect=false \
    --profiling=false
  # kwok always loads ~/.kwok/kwok.yaml if present, and a KwokConfiguration
  # given via --config is NOT defaulted (parallelism 0 -> controllers fail).
  # So: no --config, and a private HOME so no stray user config leaks in.
  mkdir -p "$WH_E2E_DIR/kwok-home"
  HOME="$WH_E2E_DIR/kwok-home" start_component kwok \
    --kubeconfig="$kc/kwok.kubeconfig" \
    --manage-all-nodes=false \
    --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --enable-crds=Stage,Logs,ClusterLogs \
    --cidr="$WH_POD_CIDR" \
    --node-ip=127.0.0.1 \
    --node-name=localhost \
    --node-port="$WH_KWOK_PORT" \
    --server-address="127.0.0.1:$WH_KWOK_PORT" \
    --tls-cert-file="$p/kwok.crt" \
    --tls-private-key-file="$p/kwok.key" \
    --node-lease-duration-seconds=40

  node_manifest | admin_kubectl apply -f - >/dev/null
  wh_log "registered $WH_KWOK_NODE_COUNT kwok nodes"
  wait_for "kube-controller-manager /healthz" 60 curl -fsSk "https://127.0.0.1:$WH_KCM_PORT/healthz" ||
    fail_with_logs "kube-controller-manager not healthy"
  wait_for "kube-scheduler /healthz" 60 curl -fsSk "https://127.0.0.1:$WH_SCHEDULER_PORT/healthz" ||
    fail_with_logs "kube-scheduler not healthy"
  wait_for "nodes Ready" "$WH_READY_TIMEOUT" nodes_ready || fail_with_logs "kwok nodes not Ready"
  # pods can only be created once the service account controller made 'default'
  wait_for "default service account" 60 admin_kubectl -n default get serviceaccount default ||
    fail_with_logs "service account controller not working"

  for c in "${COMPONENTS[@]}"; do alive "$c" || fail_with_logs "$c died during start-up"; done
  print_summary
  wh_log "cluster-up took $(( $(date +%s) - T0 ))s"
}

main "$@"
