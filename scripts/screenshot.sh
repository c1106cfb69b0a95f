#!/usr/bin/env bash
# Start the desktop app under a private Xvfb display, wait for its window, save a screenshot of
# it to $1, and stop. Fails if the app dies or never shows a window.
set -euo pipefail
out="$1"
bin="${CARGO_TARGET_DIR:-$HOME/.cache/gridmate-target}/debug/gridmate"
display=":$((90 + RANDOM % 100))"
Xvfb "$display" -screen 0 480x900x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
trap 'kill $app $xvfb 2>/dev/null || true' EXIT
sleep 1
DISPLAY="$display" "$bin" &
app=$!
for _ in $(seq 1 60); do
  sleep 1
  kill -0 "$app" 2>/dev/null || { echo "the app exited before showing a window" >&2; exit 1; }
  win=$(DISPLAY="$display" xdotool search --onlyvisible --name "Gridmate" 2>/dev/null | head -n1 || true)
  [ -n "$win" ] && break
done
[ -n "${win:-}" ] || { echo "no app window after 60 s" >&2; exit 1; }
# Let the webview finish its first paint.
sleep 4
# Capture the screen and cut out the window (tao's window can refuse a direct capture).
eval "$(DISPLAY="$display" xdotool getwindowgeometry --shell "$win")"
DISPLAY="$display" import -window root -crop "${WIDTH}x${HEIGHT}+${X}+${Y}" +repage "$out"
