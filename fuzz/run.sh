#!/usr/bin/env bash
# Runs each fuzz target for FUZZ_SECONDS (default 60) from the committed seeds, and
# prints one line per target: executions, corpus size, crashes. A crashing input is
# kept in target/fuzz-artifacts/<target>/; make it a unit test, fix, and run again.
# Called by `make fuzz` (not part of CI).
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-"csv_reader xlsx_reader query_string account_fields"}
# cargo-fuzz passes -Z flags to rustc; the stable toolchain takes them when bootstrapping.
export RUSTC_BOOTSTRAP=1
# cargo-fuzz sets RUSTFLAGS, which replaces .cargo/config.toml's: keep erase_components
# (without it Leptos' view types overflow the compiler's depth limit).
export RUSTFLAGS="--cfg erase_components ${RUSTFLAGS:-}"
# Safe Rust throughout the readers: no sanitizer, so each second runs more inputs.
opts=(--fuzz-dir fuzz --sanitizer none --target-dir target/fuzz)
cargo fuzz build "${opts[@]}" || exit 1
failed=0
summary=()
for t in $targets; do
  corpus=target/fuzz-corpus/$t artifacts=target/fuzz-artifacts/$t log=target/fuzz-$t.log
  mkdir -p "$corpus" "$artifacts"
  # Crash files of earlier runs are tried again first: one that passes now was fixed
  # (and made a unit test), so it goes.
  for old in "$artifacts"/*; do
    [ -f "$old" ] || continue
    if cargo fuzz run "${opts[@]}" "$t" "$old" >/dev/null 2>&1; then rm -f "$old"; fi
  done
  cargo fuzz run "${opts[@]}" "$t" "$corpus" "fuzz/seeds/$t" -- \
    -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=4096 \
    -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1
  rc=$?
  runs=$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
  crashes=$(find "$artifacts" -type f | wc -l)
  if [ "$crashes" -gt 0 ]; then ended="stopped by a crash"; else ended="in ${seconds}s"; fi
  summary+=("$(printf '%-16s %10s executions %s, corpus %s inputs, %s crash files' \
    "$t" "$runs" "$ended" "$(find "$corpus" -type f | wc -l)" "$crashes")")
  if [ $rc -ne 0 ] || [ "$crashes" -gt 0 ]; then
    failed=1
    grep -E 'panicked|ERROR|SUMMARY' "$log" | head -5
  fi
done
printf '%s\n' "${summary[@]}"
exit $failed
