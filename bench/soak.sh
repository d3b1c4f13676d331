#!/bin/sh
# The crash-recovery soak (issue 22): bots tick while people push, under
# random kill -9, git daemon outages and a refusing pre-receive hook; then
# quiet ticks and invariant checks.  Not a test: never run by ctest or .ci/run.
# See bench/README.md ("Soak") and bench/soak.py.
#
# usage: bench/soak.sh [--seed N]... [--seconds S] [--bots M] [--remotes N]
#                      [--build DIR] [--keep]
# exit:  0 every invariant held for every seed, 1 one failed, 2 usage/setup error
here=$(cd "$(dirname "$0")" && pwd)
exec /usr/bin/python3 "$here/soak.py" "$@"
