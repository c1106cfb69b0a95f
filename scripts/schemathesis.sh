#!/usr/bin/env bash
# Check the server against its own OpenAPI document with schemathesis (from PyPI): every route,
# generated requests, signed in as a grid worker and as a grid leader, bounded in examples.
# Fails on any 500, any status the document does not list, and any response whose content type
# or body breaks the document's schema.
#   usage: schemathesis.sh BASE_URL ACCOUNTS_JSON     (BASE_URL like http://127.0.0.1:8787)
set -euo pipefail
base="$1" accounts="$2"
python3 -c 'import schemathesis' 2>/dev/null ||
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore 'schemathesis>=4.3,<5'
st() { python3 -m schemathesis.cli "$@"; }
# Sign in first: the run's own POST /session attempts soon trip the login limit for this address.
declare -A tokens
for role in grid_worker grid_leader; do
  phone=$(jq -r --arg r "$role" 'first(.[] | select(.role == $r)) | .phone' "$accounts")
  password=$(jq -r --arg r "$role" 'first(.[] | select(.role == $r)) | .password' "$accounts")
  tokens[$role]=$(curl -fsS -X POST "$base/api/v1/session" -H 'content-type: application/json' \
    -d "{\"phone\":\"$phone\",\"password\":\"$password\",\"device_id\":\"schemathesis-$role\",\"device_name\":\"schemathesis\"}" | jq -r .token)
done
for role in grid_worker grid_leader; do
  echo "== schemathesis as $role"
  # DELETE /session would sign this very token out mid-run; it has its own tests.
  st run "$base/api/v1/openapi.json" --url "$base/api/v1" \
    -H "Authorization: Bearer ${tokens[$role]}" -H "Gridmate-Protocol: 1" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
    --exclude-method DELETE --max-examples "${SCHEMATHESIS_EXAMPLES:-40}" --seed 20261122 --no-color
done
