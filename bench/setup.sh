#!/usr/bin/env bash
# Prepares a running Gardien for bench/check.lua: signs a person up, logs in,
# creates an API key, and prints the three variables wrk needs.
# Usage: bench/setup.sh http://127.0.0.1:8080
set -euo pipefail
BASE=${1:-http://127.0.0.1:8080}
JAR=$(mktemp)
trap 'rm -f "$JAR"' EXIT
EMAIL="bench-$RANDOM$RANDOM@example.com"
csrf() { curl -s -c "$JAR" -b "$JAR" "$BASE/api/v1/csrf-token" | sed -E 's/.*"token":"([^"]+)".*/\1/'; }
post() { # path json
  curl -s -c "$JAR" -b "$JAR" -H "content-type: application/json" -H "x-csrf-token: $(csrf)" -d "$2" "$BASE$1"
}
post /api/v1/signup "{\"email\":\"$EMAIL\",\"password\":\"violet tractor under the rain\",\"first_name\":\"Bench\",\"last_name\":\"Mark\",\"organization_name\":\"Bench\",\"language\":\"en\"}" >/dev/null
LOGIN=$(post /api/v1/login "{\"email\":\"$EMAIL\",\"password\":\"violet tractor under the rain\"}")
ACCOUNT=$(echo "$LOGIN" | sed -E 's/.*"account":\{"id":"([^"]+)".*/\1/')
ORG=$(echo "$LOGIN" | sed -E 's/.*"organization":\{"id":"([^"]+)".*/\1/')
KEY=$(post "/api/v1/organizations/$ORG/api-keys" '{"name":"bench"}' | sed -E 's/.*"secret":"([^"]+)".*/\1/')
echo "export GARDIEN_KEY=$KEY GARDIEN_ACCOUNT=$ACCOUNT GARDIEN_ORG=$ORG"
