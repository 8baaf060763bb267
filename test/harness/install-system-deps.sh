#!/usr/bin/env bash
# Installs the Debian packages the integration and end-to-end tests talk to, when missing:
# Prometheus and Alertmanager (real protocol peers), openssl, curl and util-linux (the e2e
# cluster's certificates, readiness probes, setsid/flock), and fonts for chart text. Also makes sure the local PostgreSQL server is up.
# Runs as `npm pretest`, so `npm ci && npm test` is the whole set-up on a fresh machine.
set -euo pipefail

need=()
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 || command -v alertmanager >/dev/null 2>&1 || need+=(prometheus-alertmanager)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v setsid >/dev/null 2>&1 && command -v flock >/dev/null 2>&1 || need+=(util-linux)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
command -v pg_isready >/dev/null 2>&1 || need+=(postgresql-client)

if ((${#need[@]})); then
  mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
  if [ "$(id -u)" != 0 ]; then
    echo "install-system-deps: missing Debian packages: ${need[*]}" >&2
    echo "install-system-deps: run as root, or: sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
  echo "install-system-deps: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # The Debian prometheus packages start services through systemd when it exists; tests start their own.
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The tests use the PostgreSQL server on 127.0.0.1:5432; start it if this machine has one stopped.
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
  for _ in $(seq 1 20); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 0.5; done
  pg_isready -h 127.0.0.1 -p 5432 -q || { echo "install-system-deps: PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }
fi
