#!/usr/bin/env bash
# The Postgres failover tests run a private pg_auto_failover formation (a monitor and two nodes) with
# Debian's pg_autoctl (no download from elsewhere); installs Debian's packages when they are missing and
# this user may, and otherwise says what to do. Prints the path of the pg_autoctl binary.
set -euo pipefail
# The system's folders last: a binary installed below is found even when the PATH's copy of /usr/bin
# was made before it (.ci/run hides pnpm that way), and apt's helpers (gpgv, run as _apt) are found
# whatever folders before them that user may not enter.
export PATH="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# The extension must match the Postgres server the harness runs: the newest one installed.
major="$(ls /usr/lib/postgresql 2>/dev/null | grep -E '^[0-9]+$' | sort -n | tail -n 1)"
if [[ -z "${major}" ]]; then
  echo "The Postgres failover tests need a PostgreSQL server under /usr/lib/postgresql" >&2
  exit 1
fi
extension="/usr/lib/postgresql/${major}/lib/pgautofailover.so"
if ! command -v pg_autoctl >/dev/null || [[ ! -e "${extension}" ]]; then
  packages=(pg-auto-failover-cli "postgresql-${major}-auto-failover")
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    echo "pg_auto_failover is missing: installing Debian's ${packages[*]} for the Postgres failover tests" >&2
    # Another install (Prometheus, Chromium, a second test file) may hold dpkg's lock: wait for it.
    apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
      "${packages[@]}" >/dev/null
  else
    echo "The Postgres failover tests need pg_auto_failover: sudo apt-get install ${packages[*]}" >&2
    exit 1
  fi
fi
command -v pg_autoctl
