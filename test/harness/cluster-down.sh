#!/usr/bin/env bash
# Stop the local e2e cluster started by cluster-up.sh.
#
#   test/harness/cluster-down.sh           # stop processes, keep state (pki, etcd data, logs)
#   test/harness/cluster-down.sh --purge   # ... and delete $WH_E2E_DIR
#
# Stops processes by pid file first, then sweeps for any process whose binary
# lives under the harness cache bin dir (${WH_CACHE_DIR:-<repo>/.cache}/bin)
# and whose command line names this cluster's state files ($WH_E2E_DIR/pki/,
# kubeconfigs/, etcd-data), so nothing is left behind even if pid files were
# lost, and clusters of other state dirs sharing the same binaries (other
# ports) are left alone -- also one whose state dir is nested in this one
# (e2e.sh's second cluster, $WH_E2E_DIR/second).
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

# names_our_state <arg>: a command-line argument ("path" or "--flag=path") naming a file of this
# state dir that every component is started with: pki/, kubeconfigs/ or etcd-data. Matched as a
# path prefix of the whole value, so a cluster whose state dir lies inside ours (e2e.sh puts the
# second cluster in $WH_E2E_DIR/second) or ends with the same path is not taken for ours.
names_our_state() {
  local v=$1 d
  [[ "$v" == -*=* ]] && v="${v#*=}"
  for d in "$e2e_dir_real" "$WH_E2E_DIR"; do
    [[ "$v" == "$d/pki/"* || "$v" == "$d/kubeconfigs/"* || "$v" == "$d/etcd-data" || "$v" == "$d/etcd-data/"* ]] && return 0
  done
  return 1
}

# our_pid <pid>: a process running a binary from our cache bin dir, started for this state dir?
our_pid() {
  local exe arg
  exe="$(readlink -f "/proc/$1/exe" 2>/dev/null)" || return 1
  # a deleted (rebuilt) binary shows as "<path> (deleted)"
  exe="${exe% (deleted)}"
  [[ "$exe" == "$bin_root_real"/* ]] || return 1
  local -a args=()
  mapfile -d '' -t args <"/proc/$1/cmdline" 2>/dev/null || return 1
  for arg in "${args[@]}"; do names_our_state "$arg" && return 0; done
  return 1
}

sweep_pids() { # all live pids of this cluster (see our_pid)
  local f pid
  # One find lists the processes running a binary from the cache bin dir (a readlink per process
  # took seconds on a busy machine); only those are looked at closer.
  while IFS= read -r f; do
    pid="${f#/proc/}"
    pid="${pid%/exe}"
    [ "$pid" = "$$" ] && continue
    wh_running "$pid" && our_pid "$pid" && echo "$pid"
  done < <(find /proc -mindepth 2 -maxdepth 2 -path '/proc/[0-9]*/exe' -lname "$bin_root_real/*" 2>/dev/null)
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
