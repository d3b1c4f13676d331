#!/bin/sh
# P-PULL-11, P-PULL-19, P-PULL-20: a fast-forward by `git pull --ff-only`
# writes one reflog entry for the branch, and deletes in the worktree the
# files deleted upstream.  Exits 0 when git does so.
. "$(dirname "$0")/lib.inc"; pair
git -C a rm -q g; git -C a commit -qm 2; for i in 3 4 5; do git -C a commit -q --allow-empty -m $i; done
git -C a push -q origin main
before=$(git -C b reflog show main | wc -l)
git -C b pull -q --ff-only
after=$(git -C b reflog show main | wc -l)
[ "$after" = $((before + 1)) ] && [ ! -e b/g ] &&
	echo "git pull --ff-only over 4 commits: one reflog entry (reflog $before -> $after), g deleted in the worktree"
