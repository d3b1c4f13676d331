#!/bin/sh
# The kit in an adopter's ctest (issue 14): one full `ctest` run of
# tests/adopter, whose clause tests read one shared kit run, against a plain
# `pushseal-conformance` run over the same clauses, paired A/B with
# farm-bench (medians; the ratio is taken pair by pair).  Configuring the
# adopter project is its own, once, and is not timed.
#   bench/kit-ctest.sh BUILD_DIR [RUNS]     (default 5 runs; ADOPTER_CLAUSES as ci/adopter-check)
set -eu
b=$(cd "${1:?usage: bench/kit-ctest.sh BUILD_DIR [RUNS]}" && pwd)
runs=${2:-5}
top=$(cd "$(dirname "$0")/.." && pwd)
clauses=${ADOPTER_CLAUSES:-P-PULL,P-LOCAL}
command -v farm-bench >/dev/null || { echo "bench/kit-ctest.sh needs farm-bench" >&2; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pushseal-kit-ctest-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cmake --install "$b" --prefix "$tmp/inst" >/dev/null
cmake -S "$top/tests/adopter" -B "$tmp/proj" -DCMAKE_PREFIX_PATH="$tmp/inst" \
  -DADOPTER_IMPL="$top/adapters/python/pushseal-py" -DADOPTER_CLAUSES="$clauses" >/dev/null
n=$(cd "$tmp/proj" && ctest -N | sed -n 's/^Total Tests: //p')
echo "kit in ctest: $n ctest tests (one kit run + one per clause of $clauses), adapters/python, $(nproc) cores, $(date -u +%F)"
farm-bench -n "$runs" --timeout 3000 \
  --vs "$tmp/inst/bin/pushseal-conformance --impl $top/adapters/python/pushseal-py --transports path,file --clause $clauses" \
  -- sh -c "cd '$tmp/proj' && exec ctest -j2" 2>&1 | grep -E 'wall|cpu|^A |^B |exit'
