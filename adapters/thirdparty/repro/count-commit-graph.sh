#!/bin/sh
# P-LOCAL-9: with a commit-graph split into three layers, git's counts stay
# the set difference: `git rev-list --left-right --count @{u}...HEAD` equals
# the number of commits reachable from HEAD and not from the upstream.
# Exits 0 when plain git shows it.
. "$(dirname "$0")/lib.inc"
git init -q -b main r && cd r
git commit -q --allow-empty -m base
for i in 1 2 3 4 5 6; do git commit -q --allow-empty -m "m$i"; [ $((i % 2)) -eq 0 ] && git commit-graph write --reachable --split 2>/dev/null; done
git branch -q up HEAD~4
git checkout -q -b side HEAD~2 && git commit -q --allow-empty -m s1 && git checkout -q main && git merge -q --no-edit side
git commit-graph write --reachable --split=no-merge 2>/dev/null
git branch -q --set-upstream-to=up
lr=$(git rev-list --left-right --count @{u}...HEAD | cut -f2)
set_diff=$(git rev-list HEAD ^up | wc -l)
layers=$(ls .git/objects/info/commit-graphs/*.graph 2>/dev/null | wc -l)
echo "layers: $layers; git rev-list --left-right --count: $lr; the set difference: $set_diff"
[ "$layers" -ge 2 ] && [ "$lr" = "$set_diff" ]
