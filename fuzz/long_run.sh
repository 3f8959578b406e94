#!/usr/bin/env bash
# The long runs (issue 7): every target, one after the other, niced, with logs in fuzz/logs/.
# Usage: fuzz/long_run.sh [RUNS]   (default 10000000 executions per target; run seed.sh first)
# Then: grep -E 'DONE|stat::' fuzz/logs/*.log, and look in fuzz/artifacts/<target>/.
set -uo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
runs=${1:-10000000}
mkdir -p logs
run() { # target max_len
  echo "start $1 $(date +%T)" >>logs/progress
  nice -n 10 cargo fuzz run --sanitizer none "$1" "corpus/$1" -- \
    -runs="$runs" -max_len="$2" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    >"logs/$1.log" 2>&1
  echo "end $1 rc=$? $(date +%T)" >>logs/progress
}
run import 16384
run decompress 16384
run open_walk 65536
run csv 8192
