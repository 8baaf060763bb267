#!/usr/bin/env bash
# Start (or reuse) the observability side of the e2e environment, all on 127.0.0.1:
#   seeded test exporter (test/harness/exporter.ts)  -> Prometheus -> Alertmanager -> bot webhook
#
#   test/harness/observability-up.sh     # idempotent; reuses running components
#
# Ports / addresses (env overrides):
#   WH_EXPORTER_PORT=29100  WH_PROMETHEUS_PORT=29090  WH_ALERTMANAGER_PORT=29093
#   WH_BOT_METRICS=127.0.0.1:28080   scraped as job "wheelhouse" (may be down)
#   WH_BOT_WEBHOOK=127.0.0.1:28080   Alertmanager posts to http://$WH_BOT_WEBHOOK/alerts
#                                    (a value containing :// is used as the full URL)
#   WH_ALERTS_TOKEN=                 if set, Alertmanager sends "Authorization: Bearer <token>"
#   WH_AM_GROUP_WAIT=2s WH_AM_GROUP_INTERVAL=5s WH_AM_REPEAT_INTERVAL=1h
#   WH_OBS_BACKFILL_SECONDS=900      history written into a fresh Prometheus (0 = none)
# State, logs and pid files: $WH_E2E_DIR/observability/ ; afterwards
#   source "$WH_E2E_DIR/observability/env"   # WH_E2E_PROMETHEUS_URL, ..._ALERTMANAGER_URL, ..._EXPORTER_URL
# See test/harness/OBSERVABILITY.md for the seeded values and alerts.
set -euo pipefail

HARNESS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$HARNESS_DIR/lib.sh"

WH_EXPORTER_PORT="${WH_EXPORTER_PORT:-29100}"
WH_PROMETHEUS_PORT="${WH_PROMETHEUS_PORT:-29090}"
WH_ALERTMANAGER_PORT="${WH_ALERTMANAGER_PORT:-29093}"
WH_BOT_METRICS="${WH_BOT_METRICS:-127.0.0.1:28080}"
WH_BOT_WEBHOOK="${WH_BOT_WEBHOOK:-127.0.0.1:28080}"
WH_ALERTS_TOKEN="${WH_ALERTS_TOKEN:-}"
WH_AM_GROUP_WAIT="${WH_AM_GROUP_WAIT:-2s}"
WH_AM_GROUP_INTERVAL="${WH_AM_GROUP_INTERVAL:-5s}"
WH_AM_REPEAT_INTERVAL="${WH_AM_REPEAT_INTERVAL:-1h}"
WH_OBS_BACKFILL_SECONDS="${WH_OBS_BACKFILL_SECONDS:-900}"
WH_OBS_TIMEOUT="${WH_OBS_TIMEOUT:-60}"
PROMETHEUS_BIN="${PROMETHEUS_BIN:-/usr/bin/prometheus}"
PROMTOOL_BIN="${PROMTOOL_BIN:-/usr/bin/promtool}"
ALERTMANAGER_BIN="${ALERTMANAGER_BIN:-/usr/bin/prometheus-alertmanager}"
NODE_BIN="${NODE_BIN:-$WH_REPO_DIR/node_modules/.bin/node}" # the project's pinned Node 24

OBS_DIR="$WH_E2E_DIR/observability"
OBS_LOG_DIR="$OBS_DIR/logs"
OBS_PID_DIR="$OBS_DIR/pids"
PROM_DATA="$OBS_DIR/prometheus-data"
AM_DATA="$OBS_DIR/alertmanager-data"
EXPORTER_URL="http://127.0.0.1:$WH_EXPORTER_PORT"
PROMETHEUS_URL="http://127.0.0.1:$WH_PROMETHEUS_PORT"
ALERTMANAGER_URL="http://127.0.0.1:$WH_ALERTMANAGER_PORT"

comp_bin() {
  case "$1" in
    exporter) readlink -f "$NODE_BIN" ;;
    prometheus) readlink -f "$PROMETHEUS_BIN" ;;
    alertmanager) readlink -f "$ALERTMANAGER_BIN" ;;
  esac
}

# alive <component>: pid file -> live process running the expected binary with our state dir
alive() {
  local pidf="$OBS_PID_DIR/$1.pid" pid exe
  [ -s "$pidf" ] || return 1
  pid="$(cat "$pidf")"
  kill -0 "$pid" 2>/dev/null || return 1
  exe="$(readlink -f "/proc/$pid/exe" 2>/dev/null || true)"
  [ "$exe" = "$(comp_bin "$1")" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$OBS_DIR"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_component() { # start_component <name> <args...>
  local name=$1; shift
  local bin; bin="$(comp_bin "$name")"
  local log="$OBS_LOG_DIR/$name.log"
  printf '\n===== %s starting %s =====\n%s %s\n' "$(date -Is)" "$name" "$bin" "$*" >>"$log"
  # setsid: own session, so Ctrl-C / the caller's process group do not kill it
  setsid "$bin" "$@" >>"$log" 2>&1 </dev/null &
  echo $! >"$OBS_PID_DIR/$name.pid"
  wh_log "started $name (pid $!, log $log)"
}

fail_with_logs() {
  local c
  for c in exporter prometheus alertmanager; do
    [ -f "$OBS_LOG_DIR/$c.log" ] || continue
    echo "----- last lines of $OBS_LOG_DIR/$c.log -----" >&2
    tail -n 15 "$OBS_LOG_DIR/$c.log" >&2
  done
  wh_die "$*"
}

# render <template> <out> KEY=VALUE...: replace __KEY__ placeholders; returns 0 if <out> changed
render() {
  local tmpl=$1 out=$2 kv text; shift 2
  text="$(cat "$tmpl")"
  for kv in "$@"; do text="${text//__${kv%%=*}__/${kv#*=}}"; done
  text="$(printf '%s' "$text")" # drop trailing newlines, as $(cat "$out") does
  if [ -f "$out" ] && [ "$(cat "$out")" = "$text" ]; then return 1; fi
  printf '%s\n' "$text" >"$out.tmp"
  mv -f "$out.tmp" "$out"
}

query_scalar() { # query_scalar <promql>: first result value, or nothing
  curl -fsS --max-time 5 --get "$PROMETHEUS_URL/api/v1/query" --data-urlencode "query=$1" 2>/dev/null |
    sed -n 's/.*"value":\[[0-9.]*,"\([^"]*\)"\].*/\1/p'
}
exporter_scraped() { [ "$(query_scalar 'up{job="exporter"} == 1')" = 1 ]; }
alertmanager_discovered() {
  curl -fsS --max-time 5 "$PROMETHEUS_URL/api/v1/alertmanagers" 2>/dev/null |
    grep -qF "127.0.0.1:$WH_ALERTMANAGER_PORT"
}

main() {
  local T0; T0=$(date +%s)
  local b
  for b in "$PROMETHEUS_BIN" "$PROMTOOL_BIN" "$ALERTMANAGER_BIN"; do
    [ -x "$b" ] || wh_die "$b not found (bash test/harness/install-system-deps.sh installs prometheus and prometheus-alertmanager)"
  done
  [ -x "$NODE_BIN" ] || wh_die "$NODE_BIN not found: run npm ci in $WH_REPO_DIR"
  command -v curl >/dev/null || wh_die "curl is required"
  if ! [ -s "$WH_KUBECONFIG" ] || ! wh_kubectl get --raw /readyz >/dev/null 2>&1; then
    wh_log "cluster not reachable; running cluster-up.sh"
    "$HARNESS_DIR/cluster-up.sh"
  fi
  mkdir -p "$OBS_DIR" "$OBS_LOG_DIR" "$OBS_PID_DIR"

  # ------------------------------------------------------------ configs (always re-rendered)
  local webhook_url http_config=""
  case "$WH_BOT_WEBHOOK" in
    *://*) webhook_url=$WH_BOT_WEBHOOK ;;
    *) webhook_url="http://$WH_BOT_WEBHOOK/alerts" ;;
  esac
  if [ -n "$WH_ALERTS_TOKEN" ]; then
    http_config="    http_config:
      authorization:
        type: Bearer
        credentials: '$WH_ALERTS_TOKEN'"
  fi
  local prom_changed=0 am_changed=0
  render "$HARNESS_DIR/prometheus/prometheus.yml.tmpl" "$OBS_DIR/prometheus.yml" \
    "ALERTMANAGER_ADDR=127.0.0.1:$WH_ALERTMANAGER_PORT" \
    "EXPORTER_ADDR=127.0.0.1:$WH_EXPORTER_PORT" \
    "PROMETHEUS_ADDR=127.0.0.1:$WH_PROMETHEUS_PORT" \
    "BOT_METRICS_ADDR=$WH_BOT_METRICS" \
    "RULES_DIR=$HARNESS_DIR/prometheus/rules" && prom_changed=1
  render "$HARNESS_DIR/alertmanager/alertmanager.yml.tmpl" "$OBS_DIR/alertmanager.yml" \
    "BOT_WEBHOOK_URL=$webhook_url" \
    "GROUP_WAIT=$WH_AM_GROUP_WAIT" \
    "GROUP_INTERVAL=$WH_AM_GROUP_INTERVAL" \
    "REPEAT_INTERVAL=$WH_AM_REPEAT_INTERVAL" \
    "HTTP_CONFIG=$http_config" && am_changed=1
  chmod 600 "$OBS_DIR/alertmanager.yml"
  "$PROMTOOL_BIN" check config --syntax-only "$OBS_DIR/prometheus.yml" >/dev/null ||
    wh_die "invalid $OBS_DIR/prometheus.yml"
  if command -v amtool >/dev/null; then
    amtool check-config "$OBS_DIR/alertmanager.yml" >/dev/null || wh_die "invalid $OBS_DIR/alertmanager.yml"
  fi
  "$PROMTOOL_BIN" check rules "$HARNESS_DIR"/prometheus/rules/*.yml >/dev/null ||
    wh_die "invalid rules in $HARNESS_DIR/prometheus/rules"

  local prom_fresh=0
  alive prometheus || prom_fresh=1
  local c port
  for c in exporter prometheus alertmanager; do
    alive "$c" && continue
    case $c in
      exporter) port=$WH_EXPORTER_PORT ;;
      prometheus) port=$WH_PROMETHEUS_PORT ;;
      alertmanager) port=$WH_ALERTMANAGER_PORT ;;
    esac
    ! port_busy "$port" || wh_die "port 127.0.0.1:$port (for $c) is taken by another process; stop it or set the port env var"
  done

  # ------------------------------------------------------------ exporter
  if alive exporter; then
    wh_log "exporter already running (pid $(cat "$OBS_PID_DIR/exporter.pid"))"
  else
    local origin_ms; origin_ms=$(( $(date +%s%3N) - ( prom_fresh ? WH_OBS_BACKFILL_SECONDS : 0 ) * 1000 ))
    start_component exporter "$HARNESS_DIR/exporter.ts" \
      --kubeconfig "$WH_KUBECONFIG" \
      --port "$WH_EXPORTER_PORT" \
      --namespaces shop,payments \
      --origin-ms "$origin_ms" \
      --state-dir "$OBS_DIR"
  fi
  wait_for "exporter /ready" "$WH_OBS_TIMEOUT" curl -fsS --max-time 2 "$EXPORTER_URL/ready" ||
    fail_with_logs "exporter did not become ready"

  # ------------------------------------------------------------ prometheus
  if [ "$prom_fresh" = 0 ]; then
    wh_log "prometheus already running (pid $(cat "$OBS_PID_DIR/prometheus.pid"))"
    if [ "$prom_changed" = 1 ]; then
      curl -fsS -X POST --max-time 10 "$PROMETHEUS_URL/-/reload" >/dev/null || wh_die "prometheus reload failed"
      wh_log "prometheus config changed: reloaded"
    fi
  else
    # a fresh TSDB every start: counters and alert state only come from this run
    rm -rf "$PROM_DATA"
    mkdir -p "$PROM_DATA"
    if [ "$WH_OBS_BACKFILL_SECONDS" -gt 0 ]; then
      local om="$OBS_DIR/backfill.om"
      curl -fsS --max-time 60 "$EXPORTER_URL/backfill?seconds=$WH_OBS_BACKFILL_SECONDS&step=5&job=exporter&instance=127.0.0.1:$WH_EXPORTER_PORT" -o "$om" ||
        fail_with_logs "could not fetch backfill data from the exporter"
      "$PROMTOOL_BIN" tsdb create-blocks-from openmetrics --quiet "$om" "$PROM_DATA" >>"$OBS_LOG_DIR/promtool.log" 2>&1 ||
        { tail -n 20 "$OBS_LOG_DIR/promtool.log" >&2; wh_die "promtool backfill failed"; }
      rm -f "$om"
      wh_log "backfilled ${WH_OBS_BACKFILL_SECONDS}s of exporter history into $PROM_DATA"
    fi
    start_component prometheus \
      --config.file="$OBS_DIR/prometheus.yml" \
      --storage.tsdb.path="$PROM_DATA" \
      --storage.tsdb.retention.time=2d \
      --web.listen-address="127.0.0.1:$WH_PROMETHEUS_PORT" \
      --web.external-url="$PROMETHEUS_URL/" \
      --web.enable-lifecycle \
      --web.enable-admin-api \
      --log.level=info
  fi

  # ------------------------------------------------------------ alertmanager
  if alive alertmanager; then
    wh_log "alertmanager already running (pid $(cat "$OBS_PID_DIR/alertmanager.pid"))"
    if [ "$am_changed" = 1 ]; then
      curl -fsS -X POST --max-time 10 "$ALERTMANAGER_URL/-/reload" >/dev/null || wh_die "alertmanager reload failed"
      wh_log "alertmanager config changed: reloaded"
    fi
  else
    # fresh notification log and silences every start (no suppressed re-notifications)
    rm -rf "$AM_DATA"
    mkdir -p "$AM_DATA"
    start_component alertmanager \
      --config.file="$OBS_DIR/alertmanager.yml" \
      --storage.path="$AM_DATA" \
      --web.listen-address="127.0.0.1:$WH_ALERTMANAGER_PORT" \
      --web.external-url="$ALERTMANAGER_URL" \
      --cluster.listen-address= \
      --log.level=info
  fi

  local t=$WH_OBS_TIMEOUT
  wait_for "prometheus /-/ready" "$t" curl -fsS --max-time 2 "$PROMETHEUS_URL/-/ready" ||
    fail_with_logs "prometheus did not become ready"
  wait_for "alertmanager /-/ready" "$t" curl -fsS --max-time 2 "$ALERTMANAGER_URL/-/ready" ||
    fail_with_logs "alertmanager did not become ready"
  wait_for "first exporter scrape (up{job=\"exporter\"} == 1)" "$t" exporter_scraped ||
    fail_with_logs "prometheus did not scrape the exporter"
  wait_for "prometheus -> alertmanager" "$t" alertmanager_discovered ||
    fail_with_logs "prometheus does not see alertmanager"
  for c in exporter prometheus alertmanager; do alive "$c" || fail_with_logs "$c died during start-up"; done

  cat >"$OBS_DIR/env.tmp" <<EOF
# Generated by test/harness/observability-up.sh -- source me.
export WH_E2E_PROMETHEUS_URL='$PROMETHEUS_URL'
export WH_E2E_ALERTMANAGER_URL='$ALERTMANAGER_URL'
export WH_E2E_EXPORTER_URL='$EXPORTER_URL'
export WH_E2E_BOT_WEBHOOK_URL='$webhook_url'
export WH_E2E_BOT_METRICS='$WH_BOT_METRICS'
EOF
  mv -f "$OBS_DIR/env.tmp" "$OBS_DIR/env"

  cat <<EOF

Wheelhouse e2e observability is up
  Prometheus    $PROMETHEUS_URL   (scrapes exporter, wheelhouse at $WH_BOT_METRICS every 5s)
  Alertmanager  $ALERTMANAGER_URL   (webhook -> $webhook_url)
  exporter      $EXPORTER_URL/metrics   (control: $EXPORTER_URL/control)
  env file      source $OBS_DIR/env
  logs          $OBS_LOG_DIR/<component>.log
EOF
  wh_log "observability-up took $(( $(date +%s) - T0 ))s"
}

main "$@"
