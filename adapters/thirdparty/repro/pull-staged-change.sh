#!/bin/sh
# P-PULL-17: `git pull --ff-only` refuses when the index holds a staged change
# to a file the pull would change, even when the worktree file equals HEAD
# (and a staged deletion likewise).  Exits 0 when git refuses and keeps the index.
. "$(dirname "$0")/lib.inc"
git init -q --bare -b main r.git
git clone -q r.git a 2>/dev/null; echo 1 > a/f; git -C a add f; git -C a commit -qm 1; git -C a push -q origin main
git clone -q r.git b; echo 2 > a/f; git -C a commit -qam 2; git -C a push -q origin main
echo staged > b/f; git -C b add f; git -C b show HEAD:f > b/f
if git -C b pull -q --ff-only 2>/dev/null; then echo "git pull --ff-only succeeded"; exit 1; fi
[ "$(git -C b show :f)" = staged ] || { echo "index lost"; exit 1; }
echo "git pull --ff-only: refuses (staged change to f, worktree equal to HEAD); index kept"
