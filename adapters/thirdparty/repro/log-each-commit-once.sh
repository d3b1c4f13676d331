#!/bin/sh
# P-LOCAL-8, P-REMOTE-10 (isomorphic-git): `git log` / `git rev-list` list
# each reachable commit once, also when a merge reaches it through both
# parents; a walk that repeats it makes a set-difference count too high.
# Exits 0 when git lists each commit once.
. "$(dirname "$0")/lib.inc"
git init -q -b main r && cd r
git commit -q --allow-empty -m a; git checkout -q -b side
git commit -q --allow-empty -m s1; git commit -q --allow-empty -m s2
git checkout -q main; git commit -q --allow-empty -m m1; git merge -q --no-edit side
n=$(git log --format=%H | wc -l); u=$(git log --format=%H | sort -u | wc -l)
[ "$n" = 5 ] && [ "$u" = 5 ] && echo "git log over a merge: $n commits, each once (commit a is reached through both parents)"
