#!/usr/bin/env bash
# Every check CI runs, in order: formatting, lints, the core crates building without any GUI
# library, all tests, a smoke run of the benchmarks, and the desktop app starting under Xvfb.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gridmate-target}"
export CARGO_TERM_COLOR=never

echo "== fmt"
cargo fmt --all -- --check
echo "== the core builds without GUI libraries"
if cargo tree -e normal -p gridmate-model -p gridmate-protocol -p gridmate-device | grep -Eq 'webkit|gtk|dioxus'; then
  echo "a core crate depends on a GUI library" >&2
  exit 1
fi
echo "== clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== tests"
log="$(mktemp)"
cargo test --workspace 2>&1 | tee "$log"
echo "== benchmark smoke run"
cargo run -q --release -p gridmate-bench -- --quick >/dev/null
echo "== the app starts and shows its home screen"
cargo build -q -p gridmate
shot="$(mktemp -d)"
GRIDMATE_DATA="$shot/data" bash scripts/screenshot.sh "$shot/home.png"
test -s "$shot/home.png"
# One closing line for the whole run (cargo prints one per test binary, the last often a
# doc-test run with nothing in it).
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
