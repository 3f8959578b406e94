#!/usr/bin/env bash
# Runs test binaries under valgrind memcheck (issue 7, part 6): every invalid read or write,
# use of uninitialized memory or bad free fails the run. Leaks are not checked (`--leak-check=no`):
# tests end with `exit`, and rayon's and libtest's threads keep their memory until then.
#
#   .ci/valgrind.sh            the adversarial tests: adversarial, frame_adversarial,
#                              model_adversarial, hostile, corruption (what CI runs)
#   .ci/valgrind.sh --all      every test binary, the library's unit tests and the CLI's
#   .ci/valgrind.sh NAME...    the named test targets (`lib` for the library's unit tests;
#                              those of the `brine` command's crate, cli/, are prefixed with
#                              `cli:`: `cli:bin` for its unit tests, `cli:cli`,
#                              `cli:crash_safety`)
#
# Child processes are traced too (the `brine` binary run by cli/tests/cli.rs, and the test binaries
# that re-run themselves), except Python and shells. Doc-tests are not run: rustdoc compiles
# and runs them itself, outside any binary this script can wrap.
# Logs go to target/valgrind/NAME.PID.log (one per process); the binaries are copied to
# target/valgrind/bin first, so that a build running at the same time cannot replace them.
# Environment: VALGRIND_TEST_THREADS (default 2), VALGRIND_EXTRA (more valgrind options),
# VALGRIND_OUT (the folder for logs and copies, default target/valgrind; emptied first).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null 2>&1; then
    echo "valgrind: installing it with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
fi

if [ "${1:-}" = "--all" ]; then
    wanted=()
elif [ "$#" -gt 0 ]; then
    wanted=("$@")
else
    wanted=(adversarial frame_adversarial model_adversarial hostile corruption)
fi

out=${VALGRIND_OUT:-target/valgrind}
rm -rf "$out"
mkdir -p "$out/bin"

# Build once, and take the path of every test executable from cargo's own report.
cargo test --all-features --no-run --message-format=json >"$out/build.json"
python3 - "$out/build.json" "${wanted[@]}" >"$out/binaries" <<'EOF'
import json, os, sys
path, wanted = sys.argv[1], sys.argv[2:]
found = {}
for line in open(path):
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    if msg.get("reason") != "compiler-artifact" or not msg.get("executable"):
        continue
    if not msg["profile"]["test"]:
        continue
    kind = msg["target"]["kind"][0]
    name = {"lib": "lib", "bin": "bin"}.get(kind, msg["target"]["name"])
    # The command's crate (cli/) has test targets named as the library's (crash_safety).
    if os.path.basename(os.path.dirname(msg["manifest_path"])) == "cli":
        name = "cli:" + name
    found[name] = msg["executable"]
missing = [w for w in wanted if w not in found]
if missing:
    sys.exit(f"valgrind.sh: no test binary named {missing} (found {sorted(found)})")
for name in wanted or sorted(found):
    print(name, found[name])
EOF

supp=()
if [ -f .ci/valgrind.supp ]; then
    supp=(--suppressions=.ci/valgrind.supp)
fi

clean=0
dirty=0
while read -r name exe; do
    cp "$exe" "$out/bin/$name"
    start=$(date +%s)
    set +e
    # shellcheck disable=SC2086
    valgrind --tool=memcheck --error-exitcode=99 --leak-check=no --num-callers=40 \
        --trace-children=yes --trace-children-skip='*python*,*/sh,*/bash,*/env' \
        --log-file="$out/$name.%p.log" "${supp[@]}" ${VALGRIND_EXTRA:-} \
        "$out/bin/$name" --test-threads="${VALGRIND_TEST_THREADS:-2}" >"$out/$name.out" 2>&1
    status=$?
    set -e
    took=$(($(date +%s) - start))
    # Every process's summary: the test binary's and its children's.
    errors=$(grep -h "ERROR SUMMARY:" "$out/$name".*.log | grep -vc "ERROR SUMMARY: 0 errors" || true)
    summary=$(grep -h "^test result:" "$out/$name.out" | tail -1)
    if [ "$status" -eq 0 ] && [ "$errors" -eq 0 ]; then
        clean=$((clean + 1))
        echo "valgrind $name (${took}s): clean; $summary"
    else
        dirty=$((dirty + 1))
        echo "valgrind $name (${took}s): FAILED (exit $status, $errors processes with errors); $summary"
        tail -n 40 "$out/$name.out"
        for log in "$out/$name".*.log; do
            if ! grep -q "ERROR SUMMARY: 0 errors" "$log"; then
                echo "--- $log"
                head -n 150 "$log"
            fi
        done
    fi
done <"$out/binaries"

echo "valgrind memcheck: $clean binaries clean, $dirty with errors or failed tests"
[ "$dirty" -eq 0 ]
