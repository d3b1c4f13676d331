#!/bin/sh
# P-PULL-25 (ext, stricter than git): with the branch ref locked,
# `git pull --ff-only` fails, but only after it has checked the new tree out
# and staged it: the new file is in the worktree and the index under the old
# HEAD.  Exits 0 when git still does so (the reason the clause is ext).
. "$(dirname "$0")/lib.inc"; pair
printf 'new\n' > a/h; git -C a add h; git -C a commit -qm h; git -C a push -q origin main
: > b/.git/refs/heads/main.lock
if git -C b pull -q --ff-only >/dev/null 2>&1; then echo "git pulled through the lock"; exit 1; fi
[ -e b/h ] && git -C b diff --cached --name-only | grep -qx h &&
	echo "a locked branch: git pull --ff-only fails after writing h into the worktree and the index"
