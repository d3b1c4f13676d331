#!/bin/sh
# P-INPUT-9: git on a symlink loop and on a path over 4096 bytes answers with
# one "fatal:" line and exit 128: no crash, no stack trace.  Exits 0 when
# git does so.
. "$(dirname "$0")/lib.inc"
ln -s loop loop
long=$d; while [ ${#long} -lt 4200 ]; do long=$long/aaaaaaa; done
for p in "$d/loop" "$d/loop/inside" "$long"; do
	for args in "rev-list --count HEAD" "fetch -q" "pull -q --ff-only" "push -q"; do
		# shellcheck disable=SC2086
		rc=0; err=$(git -C "$p" $args 2>&1 >/dev/null) || rc=$?
		[ $rc -eq 128 ] || { echo "git $args in a bad path exited $rc"; exit 1; }
		[ "$(printf '%s\n' "$err" | grep -c .)" -eq 1 ] || { echo "git $args said more than one line: $err"; exit 1; }
	done
done
echo "a symlink loop and a path over 4096 bytes: git says one fatal line and exits 128"
