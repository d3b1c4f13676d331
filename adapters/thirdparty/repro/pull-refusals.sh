#!/bin/sh
# P-PULL-16, -21, -22: `git pull --ff-only` refuses while .git/index.lock
# exists, while the branch ref is locked, and during a merge (MERGE_HEAD):
# it exits non-zero, the branch does not move and the lock stays.  Exits 0
# when git does so.
. "$(dirname "$0")/lib.inc"; pair
printf '2\n' > a/f; git -C a commit -qam 2; git -C a push -q origin main
tip=$(git -C b rev-parse HEAD)
refuses() { # what, then the file that holds the refusal
	if git -C b pull -q --ff-only >/dev/null 2>&1; then echo "git pulled $1"; exit 1; fi
	[ "$(git -C b rev-parse HEAD)" = "$tip" ] || { echo "git moved the branch $1"; exit 1; }
	[ -e "b/.git/$2" ] || { echo "git removed $2"; exit 1; }
	rm -f "b/.git/$2"
	git -C b reset -q   # only the index: undo what git staged before it failed
	git -C b checkout -q -- .
	git -C b clean -qfd
}
printf 'held\n' > b/.git/index.lock; refuses "through index.lock" index.lock
: > b/.git/refs/heads/main.lock; refuses "through a locked branch ref" refs/heads/main.lock
echo "$tip" > b/.git/MERGE_HEAD; refuses "during a merge" MERGE_HEAD
echo "git pull --ff-only refuses through index.lock, a locked branch ref and MERGE_HEAD"
