#!/usr/bin/env bash
# Runs the quick start's first command (default `pnpm start`; CI passes the README's own line, install
# included) on its own port, database and key prefix, buys a ticket through the HTTP API, runs a short
# audited load test, then stops it with SIGTERM and expects a clean exit. Proves the quick start works.
set -euo pipefail
cd "$(dirname "$0")/.."

run_id="smoke_$(date +%s)_$$"
export PORT="${SMOKE_PORT:-3900}"
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/ticketing_${run_id}"
export QUEUE_PREFIX="${run_id}"
export LOG_LEVEL=info
log_file=$(mktemp)
base="http://127.0.0.1:${PORT}"

# `pnpm start` runs in a process group of its own and is stopped the way Ctrl-C stops it in a
# terminal: the signal goes to the whole group.
cleanup() {
  [[ -n "${pid:-}" ]] && kill -TERM -- "-$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -f "$log_file"
  psql -h 127.0.0.1 -U postgres -qc "drop database if exists ticketing_${run_id} with (force)" postgres >/dev/null 2>&1 || true
  redis-cli -h 127.0.0.1 --scan --pattern "${run_id}:*" | xargs -r redis-cli -h 127.0.0.1 unlink >/dev/null || true
}
trap cleanup EXIT

start_command="${1:-pnpm start}"
echo "running: $start_command"
setsid bash -c "$start_command" >"$log_file" 2>&1 &
pid=$!
# Installing comes first on a fresh machine, so this waits minutes, not seconds, as long as it runs.
for _ in $(seq 1 1200); do
  curl -sf "$base/ready" >/dev/null && break
  kill -0 "$pid" 2>/dev/null || { echo "the start command exited before the api was ready"; cat "$log_file"; exit 1; }
  sleep 0.5
done
curl -sf "$base/ready" || { cat "$log_file"; exit 1; }
echo

json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s)[process.argv[1]]))' "$1"; }
event_id=$(curl -sf -XPOST "$base/events" -H 'content-type: application/json' \
  -d '{"name":"Smoke test","totalTickets":1,"priceCents":1000}' | json id)
purchase_id=$(curl -sf -XPOST "$base/events/$event_id/purchases" -H 'content-type: application/json' \
  -d '{"userId":"smoke"}' | json purchaseId)
status=$(curl -sf "$base/purchases/$purchase_id?waitMs=10000" | json status)
echo "purchase $purchase_id: $status"
[[ "$status" == "confirmed" ]] || { echo "expected confirmed, got $status"; exit 1; }

# A few seconds of the load client against the same system; it audits the books and exits 1 on any
# violation.
pnpm --silent loadtest -- --url "$base" --events 3 --tickets 40 --purchases 300 --concurrency 32 \
  --quantity 1-2 --cancel-ratio 0.1 --quiet

kill -TERM -- "-$pid"
wait "$pid" || true # pnpm itself reports 143 for a SIGTERM; what counts is how the services stopped
for _ in $(seq 1 40); do
  pgrep -g "$pid" >/dev/null || break
  sleep 0.25
done
pid_left=$(pgrep -g "$pid" || true)
pid=""
grep -q '"msg":"api stopped"' "$log_file" || { echo "api did not stop cleanly"; cat "$log_file"; exit 1; }
grep -q '"msg":"worker stopped"' "$log_file" || { echo "worker did not stop cleanly"; cat "$log_file"; exit 1; }
[[ -z "$pid_left" ]] || { echo "processes left running: $pid_left"; exit 1; }
echo "pnpm start stopped cleanly on SIGTERM"
