#!/bin/sh
# P-PUSH-5, P-PUSH-15, C-17-2, T04-4, N-5, S-3, F-HOOK-1, F-HOOK-2, F-CONC-3:
# plain `git push` exits 1 and leaves the tracking ref when the receiving
# side refuses the update: a locked ref, a pre-receive hook, an update hook,
# and a ref that another push moved while ours was in flight (the server's
# old-value check).  Over a local path git runs receive-pack and its hooks
# too.  Exits 0 when every refusal is visible.
. "$(dirname "$0")/lib.inc"
fresh() {
	rm -rf r.git c
	git init -q --bare -b main r.git
	git clone -q r.git c 2>/dev/null
	git -C c commit -q --allow-empty -m base && git -C c push -q origin main
	git -C c commit -q --allow-empty -m ours
}
hook() { printf '#!/bin/sh\n%s\n' "$2" > "r.git/hooks/$1"; chmod +x "r.git/hooks/$1"; }
try() {
	before=$(git -C c rev-parse origin/main)
	if git -C c push -q origin main 2>/dev/null; then echo "$1: git push succeeded"; exit 1; fi
	[ "$(git -C c rev-parse origin/main)" = "$before" ] || { echo "$1: tracking ref moved"; exit 1; }
	echo "$1: git push exits 1, tracking ref kept"
}
fresh; : > r.git/refs/heads/main.lock; try "locked remote ref"
fresh; hook pre-receive 'exit 1'; try "refusing pre-receive hook"
fresh; hook update '[ "$1" = refs/heads/main ] && exit 1; exit 0'; try "update hook refusing main"
fresh; other=$(git -C r.git commit-tree -p main -m theirs "$(git -C r.git rev-parse main^{tree})")
hook pre-receive "env -u GIT_QUARANTINE_PATH git update-ref refs/heads/main $other"
try "a competing push landing mid-push"
[ "$(git -C r.git rev-parse main)" = "$other" ] && echo "  ...and the competing commit stays on the remote"
