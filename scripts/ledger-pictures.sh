#!/usr/bin/env bash
# Look at the ledgers (台账) as an office prints them: seed the living demo, export this month's
# visits and issues (also in English) and the household roll as XLSX through the office API, turn each workbook into
# a PDF with LibreOffice headless, and render its first page to docs/screenshots/ledger-*.png.
#   usage: ledger-pictures.sh            (needs the server built: cargo build -p gridmate-server)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v soffice >/dev/null && command -v pdftoppm >/dev/null || {
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libreoffice-calc-nogui poppler-utils >/dev/null
}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gridmate-target}"
work="$(mktemp -d)"
port=$((20000 + RANDOM % 20000))
"$CARGO_TARGET_DIR/debug/gridmate-server" demo --data "$work/server" --addr "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 120); do curl -fsS "$base/api/v1/health" >/dev/null 2>&1 && break; sleep 1; done
accounts="$work/server/demo-accounts.json"
phone=$(jq -r 'first(.[] | select(.role == "community_admin")) | .phone' "$accounts")
password=$(jq -r 'first(.[] | select(.role == "community_admin")) | .password' "$accounts")
token=$(curl -fsS -X POST "$base/api/v1/session" -H 'content-type: application/json' \
  -H 'Gridmate-Protocol: 1' \
  -d "{\"phone\":\"$phone\",\"password\":\"$password\",\"device_id\":\"ledger-pictures\",\"device_name\":\"office PC\"}" | jq -r .token)
from=$(TZ=Asia/Shanghai date +%Y-%m-01)
to=$(TZ=Asia/Shanghai date -d "$from +1 month -1 day" +%Y-%m-%d)
# name ledger language: the issues ledger also as an English-reading office asks for it.
for ask in "visits visits zh-CN" "issues issues zh-CN" "households households zh-CN" "issues-en issues en"; do
  read -r name ledger lang <<<"$ask"
  curl -fsS -H "Authorization: Bearer $token" -H 'Gridmate-Protocol: 1' -H "Accept-Language: $lang" \
    "$base/api/v1/office/export/$ledger.xlsx?from=$from&to=$to" -o "$work/$name.xlsx"
  soffice --headless --convert-to pdf --outdir "$work" "$work/$name.xlsx" >/dev/null 2>&1
  echo "$name: $(pdfinfo "$work/$name.pdf" | awk '/^Pages:/ { print $2 }') pages"
  pdftoppm -png -r 80 -f 1 -l 1 -singlefile "$work/$name.pdf" "docs/screenshots/ledger-$name"
done
