#!/usr/bin/env bash
# No Docker engine runs in CI, so this follows the Dockerfile without one: the files its deps stage
# copies and its production-only install, the bundles its build stage makes, then the api and a
# worker started the way docker-compose.yml starts them (from their own folders). Proves the image's
# contents are enough to run.
set -euo pipefail
cd "$(dirname "$0")/.."

run_id="image_$(date +%s)_$$"
app=$(mktemp -d)
free_port() { node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'; }
api_port=$(free_port)
metrics_port=$(free_port)
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/ticketing_${run_id}"
export QUEUE_PREFIX="${run_id}" LOG_LEVEL=warn HOST=127.0.0.1 NODE_ENV=production

cleanup() {
  [[ -n "${api_pid:-}" ]] && kill -TERM "$api_pid" 2>/dev/null || true
  [[ -n "${worker_pid:-}" ]] && kill -TERM "$worker_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$app"
  psql -h 127.0.0.1 -U postgres -qc "drop database if exists ticketing_${run_id} with (force)" postgres >/dev/null 2>&1 || true
  redis-cli -h 127.0.0.1 --scan --pattern "${run_id}:*" | xargs -r redis-cli -h 127.0.0.1 unlink >/dev/null || true
}
trap cleanup EXIT

# The `deps` stage: the files its COPY lines name, then (below) its production-only install.
sed -n '/^FROM .* AS deps$/,/^FROM /p' Dockerfile | grep -E '^COPY ' | while read -r _ rest; do
  read -ra parts <<<"$rest"
  destination="${parts[-1]}"
  for source in "${parts[@]:0:${#parts[@]}-1}"; do
    target="$app/${destination#./}"
    if [[ "$destination" == */ || "$destination" == "./" ]]; then mkdir -p "$target"; else mkdir -p "$(dirname "$target")"; fi
    cp -R "$source" "$target"
  done
done
(cd "$app" && pnpm install --frozen-lockfile --prod --silent)
[[ ! -e "$app/node_modules/typescript" ]] || { echo "dev dependencies were installed"; exit 1; }

# The `build` stage is this checkout with all its dependencies: build here, then copy what the
# runtime stage takes from it (`COPY --from=build /app/<path> <destination>`).
pnpm --silent build
grep -E '^COPY --from=build ' Dockerfile | while read -r _ _ source destination; do
  mkdir -p "$app/$(dirname "$destination")"
  cp -R "${source#/app/}" "$app/$destination"
done

(cd "$app/services/api" && PORT="$api_port" exec node --heap-growing-percent=100 --max-semi-space-size=8 dist/server.js) &
api_pid=$!
(cd "$app/services/worker" && WORKER_METRICS_PORT="$metrics_port" exec node --heap-growing-percent=100 dist/main.js) &
worker_pid=$!
for _ in $(seq 1 120); do
  kill -0 "$api_pid" 2>/dev/null && kill -0 "$worker_pid" 2>/dev/null || { echo "a service exited at start-up"; exit 1; }
  curl -sf "http://127.0.0.1:${api_port}/ready" >/dev/null && curl -sf "http://127.0.0.1:${metrics_port}/metrics" >/dev/null && break
  sleep 0.5
done
curl -sf "http://127.0.0.1:${api_port}/ready" && echo
# Read whole before matching: `grep -q` stops reading early and curl would fail on the closed pipe.
docs=$(curl -sf "http://127.0.0.1:${api_port}/docs/json")
[[ "$docs" == *'"openapi"'* ]] || { echo "no OpenAPI document"; exit 1; }
metrics=$(curl -sf "http://127.0.0.1:${metrics_port}/metrics")
[[ "$metrics" == *ticketing_purchases_decided_total* ]] || { echo "no worker metrics"; exit 1; }
kill -TERM "$api_pid" "$worker_pid"
wait "$api_pid" || { echo "api did not stop cleanly"; exit 1; }
wait "$worker_pid" || { echo "worker did not stop cleanly"; exit 1; }
api_pid="" worker_pid=""
echo "the image's files and production dependencies run the api and a worker"
