#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (no browser download reaches these machines); installs it
# from Debian's packages when it is missing and this user may, and otherwise says what to do.
set -euo pipefail
# The system's folders last: a binary installed below is found even when the PATH's copy of /usr/bin
# was made before it (.ci/run hides pnpm that way), and apt's helpers (gpgv, run as _apt) are found
# whatever folders before them that user may not enter.
export PATH="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
command -v chromium >/dev/null && exit 0
if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
  echo "Chromium is missing: installing Debian's chromium for the browser tests"
  apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium >/dev/null
  command -v chromium
else
  echo "The browser tests need Debian's Chromium: sudo apt-get install chromium" >&2
  exit 1
fi
