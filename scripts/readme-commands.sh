#!/usr/bin/env bash
# Prints the README's quick-start commands, one per line: the command lines (not comments) of the
# first ```sh block under "## Quick start". CI runs exactly these, so the README cannot drift from it.
set -euo pipefail
cd "$(dirname "$0")/.."
awk '
  /^## Quick start/ { in_section = 1; next }
  in_section && /^## / { exit }
  in_section && /^```sh/ { in_block = 1; next }
  in_block && /^```/ { exit }
  in_block && !/^[[:space:]]*(#|$)/ { print }
' README.md
