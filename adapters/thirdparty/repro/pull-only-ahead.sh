#!/bin/sh
# P-PULL-3: a clone only ahead of its upstream: `git pull --ff-only` says
# "Already up to date", exits 0 and keeps the branch.  Exits 0 when git does so.
. "$(dirname "$0")/lib.inc"; pair
git -C b commit -q --allow-empty -m ours; tip=$(git -C b rev-parse HEAD)
git -C b pull -q --ff-only && [ "$(git -C b rev-parse HEAD)" = "$tip" ] &&
	echo "only ahead: git pull --ff-only exits 0 and keeps the branch"
