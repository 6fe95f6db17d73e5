#!/usr/bin/env bash
# Soak: a bounded mixed load on the release binary (SQLite, mail to a folder)
# for DURATION (default 10m): authorization checks as fast as they are
# answered, and at a steady pace logins, invitations and team-page reads, all
# from wrk on loopback (bench/soak.lua). The server's resident memory is
# sampled every 10 s: all of it (VmRSS), and apart its two parts, the memory
# the process allocated (RssAnon: heap, stacks, SQLite's page caches) and
# the pages of files it maps (RssFile: its own code, and the SQLite database,
# read through a memory map: the kernel's cache of that file, shared and
# reclaimable, which grows with the data read, up to the file's size).
# Fails on any answer other than 2xx, or when the allocated memory grows by
# more than 10 %: the median of the last minute's samples against the median
# of the minute after the warm-up (WARMUP seconds, default 60). The highest
# sample is printed too (single samples swing by several MiB as threads of
# the blocking pool come and go).
# Usage: bench/soak.sh            (DURATION=2m bench/soak.sh for a short run;
#        INVITE_CONNECTIONS=0 leaves the invitations out, so the data stays
#        the same size; GARDIEN_BIN=path serves that binary instead of
#        building this checkout)
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

# GARDIEN_BIN runs another build (such as an earlier commit's, to compare).
if [ -z "${GARDIEN_BIN:-}" ]; then
  cargo build --release -q -p gardien
  GARDIEN_BIN="$CARGO_TARGET_DIR/release/gardien"
fi
DATA=$(mktemp -d)
"$GARDIEN_BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" \
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
  echo "$(( $(date +%s) - start )) $(awk '/^(VmRSS|RssAnon|RssFile):/ { printf "%s ", $2 }' /proc/$SERVER/status)" >>"$DATA/rss"
  sleep 10
done
wait "${loads[@]}" || true
echo "==> resident memory (seconds: VmRSS / RssAnon / RssFile, KiB):"
awk '{ printf "%s: %s/%s/%s  ", $1, $2, $3, $4 } END { print "" }' "$DATA/rss"

errors=0
for mode in check login invite team; do
  [ -f "$DATA/wrk-$mode.txt" ] || continue
  grep -E '^(soak|first error)' "$DATA/wrk-$mode.txt" || { cat "$DATA/wrk-$mode.txt"; errors=1; }
  n=$(sed -n 's/^soak [a-z]*: [0-9]* requests, \([0-9]*\) errors.*/\1/p' "$DATA/wrk-$mode.txt")
  [ "${n:-1}" -eq 0 ] || errors=1
done
total=$(cat "$DATA"/wrk-*.txt | sed -n 's/^soak [a-z]*: \([0-9]*\) requests.*/\1/p' | paste -sd+ | bc)
echo "==> database file: $(du -k "$DATA/gardien.db" | cut -f1) KiB"
python3 - "$DATA/rss" "$WARMUP" "$total" <<'PY' || { echo "==> allocated memory grew by more than 10 %" >&2; errors=1; }
import statistics, sys
rows = [[int(v) for v in line.split()] for line in open(sys.argv[1]) if len(line.split()) == 4]
warmup, total = int(sys.argv[2]), int(sys.argv[3])
after = [r for r in rows if r[0] >= warmup]
end = after[-1][0]
def median(window, column):
    return statistics.median(r[column] for r in window) / 1024
first = [r for r in after if r[0] < warmup + 60]
last = [r for r in after if r[0] > end - 60]
drift = (median(last, 2) - median(first, 2)) / median(first, 2) * 100
peak = (max(r[2] for r in after) / 1024 - median(first, 2)) / median(first, 2) * 100
print(f"==> {total} requests; {len(rows)} samples; medians of the minute after the {warmup} s warm-up -> of the last minute:")
print(f"    allocated (RssAnon) {median(first, 2):.1f} -> {median(last, 2):.1f} MiB ({drift:+.1f} %); "
      f"highest sample {max(r[2] for r in after) / 1024:.1f} MiB ({peak:+.1f} %)")
print(f"    all (VmRSS) {median(first, 1):.1f} -> {median(last, 1):.1f} MiB; "
      f"file pages (RssFile) {median(first, 3):.1f} -> {median(last, 3):.1f} MiB")
sys.exit(1 if drift > 10 else 0)
PY
[ "$errors" -eq 0 ] && echo "==> soak passed: no error, memory flat" || { echo "==> soak FAILED" >&2; exit 1; }
