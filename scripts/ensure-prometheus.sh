#!/usr/bin/env bash
# The dashboard test starts a real Prometheus (Debian's package, no download from elsewhere); installs
# it from Debian's packages when it is missing and this user may, and otherwise says what to do.
# Prints the path of the prometheus binary.
set -euo pipefail
# The system's folders last: a binary installed below is found even when the PATH's copy of /usr/bin
# was made before it (.ci/run hides pnpm that way), and apt's helpers (gpgv, run as _apt) are found
# whatever folders before them that user may not enter.
export PATH="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
if ! command -v prometheus >/dev/null; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    echo "Prometheus is missing: installing Debian's prometheus for the dashboard test" >&2
    # Another install (Chromium for the browser tests, a second test file) may hold dpkg's lock: wait for it.
    # Only the binary is wanted: no node exporter, and not the package's own service on port 9090,
    # which Debian's policy-rc.d mechanism keeps from starting (containers already have one).
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
      chmod +x /usr/sbin/policy-rc.d
      trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends prometheus >/dev/null
  else
    echo "The dashboard test needs Debian's Prometheus: sudo apt-get install prometheus" >&2
    exit 1
  fi
fi
command -v prometheus
