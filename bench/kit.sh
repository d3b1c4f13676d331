#!/bin/sh
# How long the conformance kit takes, and how much of that is the kit's own
# work (sandboxes, fixtures, the git-CLI oracle) rather than the
# implementation's.  The kit's overhead is measured by running it against an
# implementation that does nothing (`true`): every test then fails, but it
# still builds its fixtures and reads the oracle.  usage: bench/kit.sh BUILD_DIR
set -eu
b=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
k="$b/pushseal-conformance"
t() { # label, then the kit's arguments: prints "label seconds"
  label=$1; shift
  start=$(date +%s.%N)
  "$k" "$@" >/dev/null 2>&1 || true
  end=$(date +%s.%N)
  printf '%s %.1f\n' "$label" "$(echo "$end - $start" | bc)"
}
command -v bc >/dev/null || { echo "bench/kit.sh needs bc" >&2; exit 2; }
echo "kit wall times on $(nproc) cores ($(date -u +%F)), -j 2:"
t "in-process-reference" 
t "reference-cli" --impl "$b/pushseal" --with all,reference
t "shell-adapter" --impl "$top/adapters/sh/pushseal-sh"
t "python-adapter" --impl "$top/adapters/python/pushseal-py"
t "kit-overhead(impl=true)" --impl true
