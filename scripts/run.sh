#!/usr/bin/env bash
# The main job: start the central service with the demo community (Lianhe, Jiangmen) and one
# account per role, load the same community into a device store and print the grid worker's
# home screen, then open the app at phone size on it (under Xvfb when there is no display,
# saving a screenshot to screenshots/home.png). The server keeps running until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gridmate-target}"
work="${GRIDMATE_WORK:-$(mktemp -d)}"
addr="${GRIDMATE_ADDR:-127.0.0.1:8787}"
cargo build -q -p gridmate-server -p gridmate-device -p gridmate
"$CARGO_TARGET_DIR/debug/gridmate-server" demo --data "$work/server" --addr "$addr" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do
  curl -fsS "http://$addr/api/v1/health" >/dev/null 2>&1 && break
  sleep 1
done
curl -fsS "http://$addr/api/v1/health"; echo
echo "demo accounts (phone / password per role): $work/server/demo-accounts.json"
"$CARGO_TARGET_DIR/debug/gridmate-home" --data "$work/device"
if [ -n "${DISPLAY:-}" ]; then
  GRIDMATE_DATA="$work/device" "$CARGO_TARGET_DIR/debug/gridmate"
else
  mkdir -p screenshots
  GRIDMATE_DATA="$work/device" bash scripts/screenshot.sh screenshots/home.png
  echo "screenshot: screenshots/home.png"
fi
echo "the server is still serving on http://$addr/api/v1 — Ctrl-C to stop"
wait $server
