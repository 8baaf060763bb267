#!/usr/bin/env bash
# Stop the local e2e cluster started by cluster-up.sh.
#
#   test/harness/cluster-down.sh           # stop processes, keep state (pki, etcd data, logs)
#   test/harness/cluster-down.sh --purge   # ... and delete $WH_E2E_DIR
#
# Stops processes by pid file first, then sweeps for any process whose binary
# lives under the harness cache bin dir (${WH_CACHE_DIR:-<repo>/.cache}/bin)
# and whose command line names this cluster's state dir ($WH_E2E_DIR), so
# nothing is left behind even if pid files were lost, and clusters of other
# state dirs sharing the same binaries (other ports) are left alone.
set -euo pipefail

HARNESS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$HARNESS_DIR/lib.sh"

PURGE=0
case "${1:-}" in
  --purge) PURGE=1 ;;
  "") ;;
  *) wh_die "usage: $0 [--purge]" ;;
esac

# stop order: consumers first (together), then the apiserver, etcd last
STAGES=("kwok kube-scheduler kube-controller-manager" "kube-apiserver" "etcd")

bin_root_real="$(readlink -f "$WH_BIN_ROOT" 2>/dev/null || echo "$WH_BIN_ROOT")"
e2e_dir_real="$(readlink -f "$WH_E2E_DIR" 2>/dev/null || echo "$WH_E2E_DIR")"

# our_pid <pid>: is it a process running a binary from our cache bin dir?
our_pid() {
  local exe
  exe="$(readlink -f "/proc/$1/exe" 2>/dev/null)" || return 1
  # a deleted (rebuilt) binary shows as "<path> (deleted)"
  exe="${exe% (deleted)}"
  [[ "$exe" == "$bin_root_real"/* ]] || return 1
  # every component is started with files from its state dir (pki, kubeconfig, data)
  tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -e "$e2e_dir_real/" -e "$WH_E2E_DIR/"
}

sweep_pids() { # all live pids whose executable is under the cache bin dir
  local d pid
  for d in /proc/[0-9]*; do
    pid="${d#/proc/}"
    [ "$pid" = "$$" ] && continue
    wh_running "$pid" && our_pid "$pid" && echo "$pid"
  done
  return 0
}

stopped=0
for stage in "${STAGES[@]}"; do
  pids=()
  for c in $stage; do
    pidf="$WH_PID_DIR/$c.pid"
    [ -s "$pidf" ] || continue
    pid="$(cat "$pidf")"
    if wh_running "$pid" && our_pid "$pid"; then
      wh_log "stopping $c (pid $pid)"
      pids+=("$pid")
    fi
    rm -f "$pidf"
  done
  if [ "${#pids[@]}" -gt 0 ]; then
    wh_stop_pids "${pids[@]}"
    stopped=$(( stopped + ${#pids[@]} ))
  fi
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
wh_log "stopped $stopped process(es); none of $WH_E2E_DIR left running"

if [ "$PURGE" = 1 ]; then
  case "$WH_E2E_DIR" in
    "" | / | "$HOME" | "$WH_REPO_DIR") wh_die "refusing to purge suspicious WH_E2E_DIR=$WH_E2E_DIR" ;;
  esac
  rm -rf "$WH_E2E_DIR"
  wh_log "purged $WH_E2E_DIR"
fi
