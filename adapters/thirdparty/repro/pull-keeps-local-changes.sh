#!/bin/sh
# P-PULL-6, P-PULL-7, P-PULL-10, C-16-3: `git pull --ff-only` refuses when an
# uncommitted edit or an untracked file is in the way, changing nothing, and
# keeps edits to files the pull does not touch.  Exits 0 when git does so.
. "$(dirname "$0")/lib.inc"; pair
printf '2\n' > a/f; printf 'new\n' > a/n; git -C a add n; git -C a commit -qam 2; git -C a push -q origin main
printf 'mine\n' > b/f
if git -C b pull -q --ff-only 2>/dev/null; then echo "pull over an edit succeeded"; exit 1; fi
[ "$(cat b/f)" = mine ] || exit 1; echo "uncommitted edit in the way: git pull --ff-only refuses, edit kept"
git -C b checkout -q f; printf 'untracked\n' > b/n
if git -C b pull -q --ff-only 2>/dev/null; then echo "pull over an untracked file succeeded"; exit 1; fi
[ "$(cat b/n)" = untracked ] || exit 1; echo "untracked file in the way: git pull --ff-only refuses, file kept"
rm b/n; printf 'edit\n' > b/g; git -C b pull -q --ff-only
[ "$(cat b/g)" = edit ] || exit 1; echo "edit to a file the pull does not touch: kept by a successful pull"
