# Shared by the repro scripts: plain git in a pinned environment (no user
# config), a scratch directory, and `pair`: a bare remote r.git on main,
# clone a (another writer) with f and g pushed, clone b (ours).
set -eu
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
export HOME="$d" GIT_CONFIG_NOSYSTEM=1 LANG=C LC_ALL=C TZ=UTC GIT_TERMINAL_PROMPT=0
export GIT_AUTHOR_NAME=repro GIT_AUTHOR_EMAIL=repro@example.invalid
export GIT_COMMITTER_NAME=repro GIT_COMMITTER_EMAIL=repro@example.invalid
cd "$d"
pair() {
	git init -q --bare -b main r.git
	git clone -q r.git a 2>/dev/null
	printf '1\n' > a/f; printf 'gone\n' > a/g; git -C a add f g; git -C a commit -qm 1; git -C a push -q origin main
	git clone -q r.git b
}
