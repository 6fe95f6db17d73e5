#!/usr/bin/env bash
# Login throughput against the Argon2 bound, and the latency of a cheap
# request (an authorization check) while logins flood. See bench/README.md.
# Usage: bench/login.sh            (builds the release binary if needed)
# Needs wrk (Debian package) and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gardien/target}"
PORT=${PORT:-18941}
BASE="http://127.0.0.1:$PORT"
ACCOUNTS=${ACCOUNTS:-200}
DURATION=${DURATION:-20s}
CORES=$(nproc)

cargo build --release -q -p gardien
DATA=$(mktemp -d)
"$CARGO_TARGET_DIR/release/gardien" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" \
  --public-url "$BASE" --privacy-policy-version "" --trusted-proxies 127.0.0.1 \
  >"$DATA/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 50); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.2; done

JAR="$DATA/jar"
TOKEN=$(curl -s -c "$JAR" "$BASE/api/v1/csrf-token" | sed -E 's/.*"token":"([^"]+)".*/\1/')
COOKIE=$(awk '$6 == "gardien_csrf" { print "gardien_csrf=" $7 }' "$JAR")
export CSRF_COOKIE="$COOKIE" CSRF_TOKEN="$TOKEN" ACCOUNTS

echo "==> creating $ACCOUNTS accounts"
seq 0 $((ACCOUNTS - 1)) | xargs -P "$CORES" -I{} curl -s -o /dev/null -w '' \
  -H "content-type: application/json" -H "cookie: $COOKIE" -H "x-csrf-token: $TOKEN" \
  -H "x-forwarded-for: 10.9.$(( RANDOM % 250 )).{}" \
  -d '{"email":"bench-login-{}@example.com","password":"violet tractor under the rain","first_name":"Bench","last_name":"Login","organization_name":"Bench {}","language":"en"}' \
  "$BASE/api/v1/signup"

eval "$(bench/setup.sh "$BASE")"

echo "==> one login at a time (≈ the time of one Argon2id verification)"
wrk -t1 -c1 -d10s --latency -s bench/login.lua "$BASE/api/v1/login" | tee "$DATA/serial.txt"
echo "==> cheap request alone: checks, 4 connections"
wrk -t1 -c4 -d10s --latency -s bench/check.lua "$BASE/api/v1/check" | tee "$DATA/quiet.txt"
echo "==> login flood (32 connections) with checks (4 connections) at the same time"
wrk -t1 -c4 -d"$DURATION" --latency -s bench/check.lua "$BASE/api/v1/check" >"$DATA/checks.txt" &
CHECKS=$!
wrk -t1 -c32 -d"$DURATION" --latency -s bench/login.lua "$BASE/api/v1/login" | tee "$DATA/flood.txt"
wait $CHECKS
echo "--- checks during the flood:"
cat "$DATA/checks.txt"

serial_p50=$(awk '$1 == "p50:" { print $2 }' "$DATA/serial.txt")
flood_rps=$(awk '$1 == "Requests/sec:" { print $2 }' "$DATA/flood.txt")
awk -v p50="$serial_p50" -v rps="$flood_rps" -v cores="$CORES" 'BEGIN {
  bound = cores / (p50 / 1000);
  printf "==> login throughput %.1f/s; Argon2 bound %d cores / %.1f ms = %.1f/s; ratio %.2f\n", rps, cores, p50, bound, rps / bound
}'
