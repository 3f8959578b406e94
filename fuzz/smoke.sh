#!/usr/bin/env bash
# CI smoke run of every fuzz target: installs cargo-fuzz if missing, builds the targets, seeds
# the corpora from spec/vectors/ (seed.sh), and runs each target for a fixed number of
# executions. Any crash, timeout or out-of-memory fails the script (libFuzzer exits non-zero
# and leaves the input in fuzz/artifacts/<target>/).
#
# Usage: fuzz/smoke.sh            (from anywhere; stable toolchain, RUSTC_BOOTSTRAP is set here)
# Budget: about 3 minutes of build on 2 cores from a cold cache, then 40 s or less per target.
set -euo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --version 0.13.2 --locked
fi

cargo fuzz build --sanitizer none
./seed.sh --sanitizer none

# The csv and import targets write two small files per execution: keep them in a folder of
# our own (on tmpfs when there is one), removed at exit.
BRINE_FUZZ_DIR=$(mktemp -d -p "$([[ -d /dev/shm ]] && echo /dev/shm || echo "${TMPDIR:-/tmp}")")
export BRINE_FUZZ_DIR
trap 'rm -rf "$BRINE_FUZZ_DIR"' EXIT

# target, executions, max input length: a fixed number of executions, capped at 40 s each on a
# slow machine.
run() {
  local target=$1 runs=$2 max_len=$3 log
  log=$(mktemp)
  echo "fuzz smoke: $target ($runs runs)"
  if ! cargo fuzz run --sanitizer none "$target" "corpus/$target" -- \
      -runs="$runs" -max_len="$max_len" -max_total_time=40 \
      -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz smoke: $target failed; the input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  grep -E '^#[0-9]+[[:space:]]+DONE|^stat::(number_of_executed_units|average_exec_per_sec)' "$log"
  rm -f "$log"
}
run open_walk 200000 65536
run decompress 300000 16384
run import 500000 16384
run csv 100000 8192
echo "fuzz smoke: all targets passed"
