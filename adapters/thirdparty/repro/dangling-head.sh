#!/bin/sh
# P-REMOTE-11, P-PULL-24: a remote made with `git init --bare` that only ever
# received feature/x has a HEAD that dangles (refs/heads/main never exists).
# Plain git fetches and fast-forwards feature/x from it all the same, and
# fsck stays clean.  Exits 0 when git does so.
. "$(dirname "$0")/lib.inc"
git init -q --bare -b main r.git
git clone -q r.git a 2>/dev/null; git -C a checkout -q -b feature/x
git -C a commit -q --allow-empty -m 1; git -C a push -q origin feature/x
git clone -q -b feature/x r.git b
git -C a commit -q --allow-empty -m 2; git -C a push -q origin feature/x
git -C b fetch -q origin && git -C b pull -q --ff-only &&
	[ "$(git -C b rev-parse HEAD)" = "$(git -C r.git rev-parse feature/x)" ] && git -C b fsck --no-progress --no-dangling 2>/dev/null &&
	echo "HEAD of r.git dangles ($(git -C r.git symbolic-ref HEAD)); git fetch and git pull --ff-only of feature/x work, fsck clean"
