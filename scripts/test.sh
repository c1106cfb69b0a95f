#!/usr/bin/env bash
# Every check CI runs, in order: formatting, lints, the core crates building without any GUI
# library, all tests (the browser end-to-end run among them), the server's tests again on
# PostgreSQL, fuzzing, a smoke run of the benchmarks,
# and the desktop app signed in to the demo server, toured tab by tab under Xvfb.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gridmate-target}"
export CARGO_TERM_COLOR=never
# CI keeps its target folder between runs on a disk it shares: incremental caches are of no use to
# a clean clone and grow without bound, and a linker that meets a full disk dies of SIGBUS in the
# middle of some other step. Keep the cache, but never let it fill the disk.
if [ "${CI:-}" = "true" ]; then
  export CARGO_INCREMENTAL=0
  mkdir -p "$CARGO_TARGET_DIR"
  free_gb() { df -P -BG "$CARGO_TARGET_DIR" | awk 'NR == 2 { sub("G", "", $4); print $4 }'; }
  # Each run leaves its builds of the workspace's own crates and test binaries beside earlier
  # ones (new hashes as the code changes); those not rebuilt for a day are dead weight. Third-party
  # crates are kept: they are what the cache is for.
  ours=$(ls tests/*.rs crates/*/tests/*.rs fuzz/fuzz_targets/*.rs 2>/dev/null | xargs -n1 basename | sed 's/\.rs$//' | sort -u | paste -sd'|')
  find "$CARGO_TARGET_DIR" -path '*/deps/*' -type f -mtime +0 -regextype posix-extended \
    -regex ".*/deps/(lib)?(gridmate[a-z_]*|$ours)-[0-9a-f]{16}.*" -delete 2>/dev/null || true
  if [ "$(free_gb)" -lt 25 ]; then
    echo "== $(free_gb) GB free: dropping incremental caches"
    rm -rf "$CARGO_TARGET_DIR"/*/incremental "$CARGO_TARGET_DIR"/*/*/incremental
  fi
  if [ "$(free_gb)" -lt 12 ]; then
    echo "== $(free_gb) GB free: starting the build cache afresh"
    rm -rf "$CARGO_TARGET_DIR"
  fi
  echo "== $(free_gb) GB free for the build"
fi

# Each step's start is stamped with the minutes since the run began, so a slow CI run says where
# its time went.
step() { printf '== [%3d:%02d] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }
step "fmt"
cargo fmt --all -- --check
step "the core builds without GUI libraries"
if cargo tree -e normal -p gridmate-model -p gridmate-protocol -p gridmate-device -p gridmate-words | grep -Eq 'webkit|gtk|dioxus'; then
  echo "a core crate depends on a GUI library" >&2
  exit 1
fi
step "clippy"
cargo clippy --workspace --all-targets -- -D warnings
step "tests"
log="$(mktemp)"
cargo test --workspace 2>&1 | tee "$log"
step "the server's tests again, on PostgreSQL (a throwaway cluster)"
pg="$(mktemp -d)"
pg_url="$(bash scripts/postgres.sh start "$pg")"
# The cluster's folder goes too: each run's holds gigabytes, on a disk the runs share.
trap 'bash scripts/postgres.sh stop "$pg" 2>/dev/null || true; rm -rf "$pg"' EXIT
# The server's test binaries as the workspace run built them: `cargo test -p gridmate-server`
# would resolve the crates' features on their own and build them all again.
server_tests=$(cargo test --workspace --no-run --message-format=json 2>/dev/null | jq -r \
  'select(.reason == "compiler-artifact" and .executable != null and .profile.test
     and (.package_id | test("crates/server[#) ]"))) | .executable')
[ -n "$server_tests" ] || { echo "found no server test binary" >&2; exit 1; }
for t in $server_tests; do
  (cd crates/server && GRIDMATE_TEST_POSTGRES="$pg_url" "$t") 2>&1 | tee -a "$log"
done
step "the device store encrypted at rest (SQLCipher build)"
cargo test -q -p gridmate-device --features encryption --test encryption 2>&1 | tail -3
step "release build of the fuzzers and the benchmarks (one build: their crates' features unify)"
cargo build -q --release -p gridmate-fuzz -p gridmate-bench
step "fuzz every decoder of outside input, 10 s each (failing inputs land in fuzz/crashes/)"
"$CARGO_TARGET_DIR/release/gridmate-fuzz" --seconds 10
step "the same targets under libFuzzer, coverage-guided, 10 s each (nightly + cargo-fuzz)"
bash scripts/libfuzzer.sh 10
step "benchmark smoke run"
"$CARGO_TARGET_DIR/release/gridmate-bench" --quick >/dev/null
step "the demo server"
# The app and the server as the test run built them (their integration tests need both).
for bin in gridmate gridmate-server; do
  [ -x "$CARGO_TARGET_DIR/debug/$bin" ] || { echo "the test run built no $bin" >&2; exit 1; }
done
tour="$(mktemp -d)"
port=$((20000 + RANDOM % 20000))
"$CARGO_TARGET_DIR/debug/gridmate-server" demo --data "$tour/server" --addr "127.0.0.1:$port" >"$tour/server.log" 2>&1 &
demo_server=$!
for _ in $(seq 1 90); do
  curl -fsS "http://127.0.0.1:$port/api/v1/health" >/dev/null 2>&1 && break
  sleep 1
done
# The tour first: schemathesis tries wrong passwords on purpose, and the server then (rightly)
# refuses sign-ins from this address for a while.
step "the desktop app, signed in to the demo server, every tab under Xvfb"
for role in grid_worker party_member; do
  bash scripts/desktop-tour.sh "$tour/server/demo-accounts.json" "$role" "http://127.0.0.1:$port" "screenshots/desktop/$role"
done
step "the server against its own OpenAPI document (schemathesis)"
bash scripts/schemathesis.sh "http://127.0.0.1:$port" "$tour/server/demo-accounts.json"
kill $demo_server
# One closing line for the whole run (cargo prints one per test binary, the last often a
# doc-test run with nothing in it).
step "done"
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
