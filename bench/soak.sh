#!/usr/bin/env bash
# Soak: a bounded mixed load on the release binary (SQLite, mail to a folder)
# for DURATION (default 10m): authorization checks as fast as they are
# answered, and at a steady pace logins, invitations and team-page reads, all
# from wrk on loopback (bench/soak.lua). The server's resident memory is
# sampled every 10 s. Fails on any answer other than 2xx, or when the memory
# after the warm-up (WARMUP seconds, default 60) grows by more than 10 %.
# Usage: bench/soak.sh            (DURATION=2m bench/soak.sh for a short run;
#        INVITE_CONNECTIONS=0 leaves the invitations out, so the data stays
#        the same size)
# Needs wrk (Debian package), curl and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gardien/target}"
PORT=${PORT:-18951}
BASE="http://127.0.0.1:$PORT"
DURATION=${DURATION:-10m}
WARMUP=${WARMUP:-60}
export ACCOUNTS=${ACCOUNTS:-50}
PASSWORD="violet tractor under the rain"

cargo build --release -q -p gardien
DATA=$(mktemp -d)
"$CARGO_TARGET_DIR/release/gardien" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" \
  --public-url "$BASE" --privacy-policy-version "" --trusted-proxies 127.0.0.1 \
  >"$DATA/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 50); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.2; done

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
JAR="$DATA/jar"
CSRF_TOKEN=$(curl -s -c "$JAR" "$BASE/api/v1/csrf-token" | json 'd["token"]')
CSRF_COOKIE=$(awk '$6 == "gardien_csrf" { print "gardien_csrf=" $7 }' "$JAR")
export CSRF_COOKIE CSRF_TOKEN
post() { # path json [cookie]
  curl -s -H "content-type: application/json" -H "cookie: $CSRF_COOKIE${3:+; $3}" \
    -H "x-csrf-token: $CSRF_TOKEN" -H "x-forwarded-for: 10.8.$((RANDOM % 250)).$((RANDOM % 250 + 1))" \
    -d "$2" "$BASE$1"
}

echo "==> $ACCOUNTS accounts; soak-0 founds the organization and confirms its address"
for i in $(seq 0 $((ACCOUNTS - 1))); do
  post /api/v1/signup "{\"email\":\"soak-$i@example.com\",\"password\":\"$PASSWORD\",\"first_name\":\"Soak\",\"last_name\":\"$i\",\"organization_name\":\"Soak $i\",\"language\":\"en\"}" >/dev/null
done
for _ in $(seq 50); do
  LINK=$(grep -l "soak-0@example.com" "$DATA"/mail/*.eml 2>/dev/null | head -n1 || true)
  [ -n "$LINK" ] && break; sleep 0.2
done
# The message is quoted-printable: read its text part decoded.
VERIFY=$(python3 -c '
import email, email.policy, re, sys
message = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
text = next(p for p in message.walk() if p.get_content_type() == "text/plain")
print(re.search(r"/verify-email/[A-Za-z0-9_-]+", text.get_content()).group(0))' "$LINK")
[ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE$VERIFY")" = 200 ] || { echo "verification failed" >&2; exit 1; }
curl -s -D "$DATA/login.headers" -o "$DATA/login.json" -H "content-type: application/json" \
  -H "cookie: $CSRF_COOKIE" -H "x-csrf-token: $CSRF_TOKEN" \
  -d "{\"email\":\"soak-0@example.com\",\"password\":\"$PASSWORD\"}" "$BASE/api/v1/login"
GARDIEN_SESSION=$(grep -io 'gardien_session=[^;]*' "$DATA/login.headers" | head -n1)
GARDIEN_ACCOUNT=$(json 'd["account"]["id"]' <"$DATA/login.json")
GARDIEN_ORG=$(json 'd["organization"]["id"]' <"$DATA/login.json")
GARDIEN_KEY=$(post "/api/v1/organizations/$GARDIEN_ORG/api-keys" '{"name":"soak"}' "$GARDIEN_SESSION" | json 'd["secret"]')
GARDIEN_ROLE=$(curl -s -H "cookie: $GARDIEN_SESSION" "$BASE/api/v1/organizations/$GARDIEN_ORG/roles" \
  | json '[r["id"] for r in d["items"] if r.get("template") == "user"][0]')
export GARDIEN_SESSION GARDIEN_ACCOUNT GARDIEN_ORG GARDIEN_KEY GARDIEN_ROLE
export SOAK_RUN=$RANDOM

echo "==> $DURATION of mixed load"
start=$(date +%s)
# mode connections delay-ms
loads=()
for spec in "check 8 0" "login 1 200" "invite ${INVITE_CONNECTIONS:-2} 100" "team 2 20"; do
  set -- $spec
  [ "$2" -gt 0 ] || continue
  SOAK_MODE=$1 SOAK_DELAY_MS=$3 wrk -t1 -c"$2" -d"$DURATION" --timeout 10s -s bench/soak.lua \
    "$BASE/" >"$DATA/wrk-$1.txt" 2>&1 &
  loads+=("$!")
done
running() { for pid in "${loads[@]}"; do kill -0 "$pid" 2>/dev/null && return 0; done; return 1; }
: >"$DATA/rss"
while running; do
  echo "$(( $(date +%s) - start )) $(awk '/VmRSS/ { print $2 }' /proc/$SERVER/status)" >>"$DATA/rss"
  sleep 10
done
wait "${loads[@]}" || true
echo "==> resident memory (seconds, KiB):"
tr '\n' ' ' <"$DATA/rss"; echo

errors=0
for mode in check login invite team; do
  [ -f "$DATA/wrk-$mode.txt" ] || continue
  grep -E '^(soak|first error)' "$DATA/wrk-$mode.txt" || { cat "$DATA/wrk-$mode.txt"; errors=1; }
  n=$(sed -n 's/^soak [a-z]*: [0-9]* requests, \([0-9]*\) errors.*/\1/p' "$DATA/wrk-$mode.txt")
  [ "${n:-1}" -eq 0 ] || errors=1
done
total=$(cat "$DATA"/wrk-*.txt | sed -n 's/^soak [a-z]*: \([0-9]*\) requests.*/\1/p' | paste -sd+ | bc)
awk -v warmup="$WARMUP" -v total="$total" '
  $1 >= warmup && base == "" { base = $2 }
  $1 >= warmup { if ($2 > max) max = $2; last = $2 }
  { n++ }
  END {
    growth = (max - base) / base * 100
    printf "==> %d requests; resident memory after %d s %.1f MiB, highest %.1f MiB, last %.1f MiB (+%.1f %%); %d samples\n",
      total, warmup, base / 1024, max / 1024, last / 1024, growth, n
    exit (growth > 10)
  }' "$DATA/rss" || { echo "==> memory grew by more than 10 %" >&2; errors=1; }
[ "$errors" -eq 0 ] && echo "==> soak passed: no error, memory flat" || { echo "==> soak FAILED" >&2; exit 1; }
