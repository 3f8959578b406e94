#!/usr/bin/env bash
# Builds the seed corpora of every fuzz target in fuzz/corpus/<target>/ from spec/vectors/ and
# generated files (fuzz_targets/make_seeds.rs). Corpora are not committed: run this first.
# Usage: fuzz/seed.sh [--sanitizer none|address]   (the build must match later runs' flags)
set -euo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
sanitizer=none
if [[ "${1:-}" == --sanitizer ]]; then sanitizer=$2; fi
cargo fuzz build --sanitizer "$sanitizer" make_seeds
triple=$(rustc -vV | sed -n 's/^host: //p')
BRINE_SEED_ROOT="$PWD/.." BRINE_SEED_CORPUS="$PWD/corpus" "target/$triple/release/make_seeds"
for t in open_walk decompress csv import; do
  echo "corpus/$t: $(ls "corpus/$t" | wc -l) seeds"
done
