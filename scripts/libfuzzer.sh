#!/usr/bin/env bash
# Every fuzz target under libFuzzer (coverage-guided: cargo-fuzz on the nightly toolchain), for
# SECONDS each (default 30), starting from the kept corpora in fuzz/corpus/ (new inputs go to a
# scratch folder, so the kept corpora change only when someone adds to them on purpose). A
# crashing input is saved under fuzz/artifacts/ and fails the run. Prints executions and
# coverage per target. A longer run: `bash scripts/libfuzzer.sh 3600`.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
if ! rustup toolchain list | grep -q '^nightly'; then
  echo "no nightly toolchain on this machine: the libFuzzer run is skipped (the stable engine ran)"
  exit 0
fi
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
scratch="$(mktemp -d)"
# Build every target first, so that a build that fails (a full disk, a linker crash) is reported
# as what it is, not as an input libFuzzer found.
if ! (cd fuzz && cargo +nightly fuzz build --release) >"$scratch/build.log" 2>&1; then
  tail -n 40 "$scratch/build.log"
  echo "the fuzz targets did not build under libFuzzer (see above): no input was tried" >&2
  exit 1
fi
printf '%-16s %12s %8s %8s\n' target executions cov features
for t in push pull_page csv_import people_import base_map_import geojson_import address photo photo_upload; do
  mkdir -p "$scratch/$t"
  log="$scratch/$t.log"
  if ! (cd fuzz && cargo +nightly fuzz run --release "$t" "$scratch/$t" "corpus/$t" -- \
      -max_total_time="$seconds" -rss_limit_mb=4096 -print_final_stats=1) >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "libFuzzer found a failing input for $t (fuzz/artifacts/$t/)" >&2
    exit 1
  fi
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
  line=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
  cov=$(echo "$line" | grep -oE 'cov: [0-9]+' | grep -oE '[0-9]+' || echo "?")
  ft=$(echo "$line" | grep -oE 'ft: [0-9]+' | grep -oE '[0-9]+' || echo "?")
  printf '%-16s %12s %8s %8s\n' "$t" "$runs" "$cov" "$ft"
done
