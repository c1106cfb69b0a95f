#!/usr/bin/env bash
# The main job: start the central service with the demo community (Lianhe, Jiangmen) and one
# account per role, then open the app at phone size signed in as the grid worker (or
# GRIDMATE_ROLE): it syncs the grid on first start. With no display it runs under Xvfb and saves
# a screenshot of every tab to screenshots/desktop/ROLE/. The server keeps running until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gridmate-target}"
work="${GRIDMATE_WORK:-$(mktemp -d)}"
addr="${GRIDMATE_ADDR:-127.0.0.1:8787}"
cargo build -q -p gridmate-server -p gridmate
"$CARGO_TARGET_DIR/debug/gridmate-server" demo --data "$work/server" --addr "$addr" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do
  curl -fsS "http://$addr/api/v1/health" >/dev/null 2>&1 && break
  sleep 1
done
curl -fsS "http://$addr/api/v1/health"; echo
echo "demo accounts (phone / password per role): $work/server/demo-accounts.json"
accounts="$work/server/demo-accounts.json"
echo "office console: http://$addr/console/ — community office $(jq -r 'first(.[] | select(.role == "community_admin")) | "\(.phone) / \(.password)"' "$accounts"), street $(jq -r 'first(.[] | select(.role == "street_viewer")) | "\(.phone) / \(.password)"' "$accounts")"
echo "resident page: http://$addr/resident/ — residents of the demo sign in with their phone ($(jq -r '[.[] | select(.role == "resident") | .phone] | join(", ")' "$accounts")) and the code the page shows (no SMS is sent in the demo)"
role="${GRIDMATE_ROLE:-grid_worker}"
export GRIDMATE_SERVER="http://$addr"
export GRIDMATE_PHONE=$(jq -r --arg r "$role" 'first(.[] | select(.role == $r)) | .phone' "$accounts")
export GRIDMATE_PASSWORD=$(jq -r --arg r "$role" 'first(.[] | select(.role == $r)) | .password' "$accounts")
if [ -n "${DISPLAY:-}" ]; then
  GRIDMATE_DATA="$work/device-$role" "$CARGO_TARGET_DIR/debug/gridmate"
else
  bash scripts/desktop-tour.sh "$accounts" "$role" "http://$addr" "screenshots/desktop/$role"
fi
echo "the server is still serving on http://$addr/api/v1 — Ctrl-C to stop"
wait $server
