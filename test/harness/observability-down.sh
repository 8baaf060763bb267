#!/usr/bin/env bash
# Stop what observability-up.sh started (exporter, Prometheus, Alertmanager); the
# cluster is left alone.
#
#   test/harness/observability-down.sh           # stop processes, keep state and logs
#   test/harness/observability-down.sh --purge   # ... and delete $WH_E2E_DIR/observability
#
# Stops by pid file first, then sweeps for any process running one of the three
# binaries whose command line mentions the state dir, so nothing is left behind
# even if pid files were lost.
set -euo pipefail

HARNESS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$HARNESS_DIR/lib.sh"

PROMETHEUS_BIN="${PROMETHEUS_BIN:-/usr/bin/prometheus}"
ALERTMANAGER_BIN="${ALERTMANAGER_BIN:-/usr/bin/prometheus-alertmanager}"
NODE_BIN="${NODE_BIN:-$WH_REPO_DIR/node_modules/.bin/node}"
OBS_DIR="$WH_E2E_DIR/observability"
OBS_PID_DIR="$OBS_DIR/pids"

PURGE=0
case "${1:-}" in
  --purge) PURGE=1 ;;
  "") ;;
  *) wh_die "usage: $0 [--purge]" ;;
esac

OUR_EXES=()
for b in "$PROMETHEUS_BIN" "$ALERTMANAGER_BIN" "$NODE_BIN"; do
  r="$(readlink -f "$b" 2>/dev/null)" && OUR_EXES+=("$r")
done

# ours <pid>: runs one of our binaries and its command line mentions the state dir
ours() {
  local exe e
  exe="$(readlink -f "/proc/$1/exe" 2>/dev/null)" || return 1
  exe="${exe% (deleted)}"
  for e in "${OUR_EXES[@]}"; do
    if [ "$exe" = "$e" ]; then
      tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$OBS_DIR"
      return
    fi
  done
  return 1
}

sweep_pids() {
  local d pid
  for d in /proc/[0-9]*; do
    pid="${d#/proc/}"
    [ "$pid" = "$$" ] && continue
    wh_running "$pid" && ours "$pid" && echo "$pid"
  done
  return 0
}

stopped=0
# consumers first: Prometheus (sends to Alertmanager, scrapes the exporter), then the rest
for c in prometheus alertmanager exporter; do
  pidf="$OBS_PID_DIR/$c.pid"
  [ -s "$pidf" ] || continue
  pid="$(cat "$pidf")"
  if wh_running "$pid" && ours "$pid"; then
    wh_log "stopping $c (pid $pid)"
    wh_stop_pids "$pid"
    stopped=$(( stopped + 1 ))
  fi
  rm -f "$pidf"
done

mapfile -t strays < <(sweep_pids)
if [ "${#strays[@]}" -gt 0 ]; then
  for pid in "${strays[@]}"; do
    wh_log "stopping stray $(readlink "/proc/$pid/exe" 2>/dev/null | xargs -r basename) (pid $pid)"
  done
  wh_stop_pids "${strays[@]}"
  stopped=$(( stopped + ${#strays[@]} ))
fi

mapfile -t left < <(sweep_pids)
[ "${#left[@]}" -eq 0 ] || wh_die "processes still running: ${left[*]}"
wh_log "stopped $stopped process(es); none left for $OBS_DIR"

if [ "$PURGE" = 1 ]; then
  case "$OBS_DIR" in
    "" | / | /observability | "$HOME"/observability) wh_die "refusing to purge suspicious $OBS_DIR" ;;
  esac
  rm -rf "$OBS_DIR"
  wh_log "purged $OBS_DIR"
fi
