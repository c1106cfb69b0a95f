#!/usr/bin/env bash
# The desktop app under a private Xvfb display at phone size, signed in to a running demo
# server as one role: wait for the first sync, then screenshot the home screen and every tab
# (clicked with xdotool on the tab bar). Fails if the app dies, shows no window, or a
# screenshot is blank.
#   usage: desktop-tour.sh ACCOUNTS_JSON ROLE SERVER_URL OUT_DIR
set -euo pipefail
accounts="$1" role="$2" server="$3" out="$4"
bin="${CARGO_TARGET_DIR:-$HOME/.cache/gridmate-target}/debug/gridmate"
mkdir -p "$out"
phone=$(jq -r --arg r "$role" 'first(.[] | select(.role == $r)) | .phone' "$accounts")
password=$(jq -r --arg r "$role" 'first(.[] | select(.role == $r)) | .password' "$accounts")
[ -n "$phone" ] || { echo "no demo account for $role" >&2; exit 1; }
data="$(mktemp -d)"
# Xvfb picks a free display and writes its number when it accepts clients (a random number
# could meet a lock file a killed server left in /tmp).
Xvfb -displayfd 3 -screen 0 480x900x24 -nolisten tcp 3>"$data/display" >/dev/null 2>&1 &
xvfb=$!
trap 'kill $app $xvfb 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do [ -s "$data/display" ] && break; sleep 0.1; done
display=":$(head -n 1 "$data/display")"
[ "$display" != ":" ] || { echo "Xvfb did not start" >&2; exit 1; }
DISPLAY="$display" GRIDMATE_DATA="$data" GRIDMATE_SERVER="$server" GRIDMATE_PHONE="$phone" \
  GRIDMATE_PASSWORD="$password" GRIDMATE_LOCATION="${GRIDMATE_LOCATION:-22.5862,113.0810,8}" "$bin" &
app=$!
for _ in $(seq 1 60); do
  sleep 1
  kill -0 "$app" 2>/dev/null || { echo "the app exited before showing a window" >&2; exit 1; }
  win=$(DISPLAY="$display" xdotool search --onlyvisible --name "Gridmate" 2>/dev/null | head -n1 || true)
  [ -n "$win" ] && break
done
[ -n "${win:-}" ] || { echo "no app window after 60 s" >&2; exit 1; }
eval "$(DISPLAY="$display" xdotool getwindowgeometry --shell "$win")"
shot() {
  DISPLAY="$display" import -window root -crop "${WIDTH}x${HEIGHT}+${X}+${Y}" +repage "$out/$1.png"
  # A blank capture has one colour; a drawn screen has hundreds.
  colours=$(convert "$out/$1.png" -format %k info:)
  [ "$colours" -gt 50 ] || { echo "$1.png is blank ($colours colours)" >&2; exit 1; }
}
# Sign-in and the first sync of the demo grid take a few seconds. The app's own store says
# when they are done: a tour of the sign-in screen (a refused password, a tripped login limit)
# proves nothing, so it fails.
synced() {
  python3 - "$data/gridmate.sqlite" <<'PY'
import sqlite3, sys
try:
    row = sqlite3.connect(sys.argv[1]).execute(
        "SELECT value FROM device_state WHERE key = 'last_sync_at'").fetchone()
except sqlite3.Error:
    row = None
sys.exit(0 if row else 1)
PY
}
for _ in $(seq 1 90); do
  synced && break
  sleep 1
done
synced || { shot sign-in-failed; echo "the app never signed in and synced ($out/sign-in-failed.png)" >&2; exit 1; }
sleep 2
shot home
# The tab bar: equal-width buttons along the bottom 60 px of the window.
tabs=$(case "$role" in party_member) echo "home issues party sync";; *) echo "home households issues sync";; esac)
n=$(echo "$tabs" | wc -w)
i=0
for tab in $tabs; do
  x=$(( WIDTH * (2 * i + 1) / (2 * n) ))
  DISPLAY="$display" xdotool mousemove --window "$win" "$x" $(( HEIGHT - 30 )) click 1
  sleep 2
  shot "tab-$tab"
  i=$((i + 1))
done
echo "screenshots of $role in $out"
