#!/usr/bin/env bash
# The main job, for now: load the demo community (Lianhe, Jiangmen) into a device store, print
# the grid worker's home screen, then open the app at phone size on it (under Xvfb when there is
# no display, saving a screenshot to screenshots/home.png).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gridmate-target}"
data="${GRIDMATE_DATA:-$(mktemp -d)/gridmate}"
cargo run -q -p gridmate-device --bin gridmate-home -- --data "$data"
cargo build -q -p gridmate
if [ -n "${DISPLAY:-}" ]; then
  GRIDMATE_DATA="$data" exec "$CARGO_TARGET_DIR/debug/gridmate"
fi
mkdir -p screenshots
GRIDMATE_DATA="$data" bash scripts/screenshot.sh screenshots/home.png
echo "screenshot: screenshots/home.png"
