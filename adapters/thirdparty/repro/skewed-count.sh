#!/bin/sh
# P-LOCAL-8 / P-REMOTE-10: on a clock-skewed history `git rev-list --count
# @{u}..HEAD` (a walk limited by commit date) overcounts; `git status` and
# `git rev-list --left-right --count @{u}...HEAD` give the set difference.
# Exits 0 when plain git shows the difference (the defect is real).
. "$(dirname "$0")/lib.inc"
git init -q -b main r && cd r
t=$(git mktree </dev/null)
at() { s=$1; shift; GIT_COMMITTER_DATE="$s +0000" GIT_AUTHOR_DATE="$s +0000" git commit-tree "$t" "$@"; }
c0=$(at 1000000000 -m c0); x=$(at 1000001500 -p "$c0" -m x); p=$x
for i in 1 2 3 4 5 6 7 8; do p=$(at $((900000000 + 10 * i)) -p "$p" -m "old $i"); done
up=$(at 1000002000 -p "$p" -m upstream); head=$(at 1000003000 -p "$x" -m head)
git branch up "$up"; git reset -q --hard "$head"; git branch -q --set-upstream-to=up
dots=$(git rev-list --count @{u}..HEAD)
lr=$(git rev-list --left-right --count @{u}...HEAD | cut -f2)
st=$(git status -sb | head -1)
echo "git rev-list --count @{u}..HEAD: $dots; --left-right @{u}...HEAD: $lr; git status: $st"
[ "$dots" = 3 ] && [ "$lr" = 1 ] && case $st in *"ahead 1,"*) exit 0 ;; esac
exit 1
