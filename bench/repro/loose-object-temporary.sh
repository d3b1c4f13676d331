#!/bin/sh
# Soak finding (bench/soak.sh seed 4 with --bots 5 --remotes 3, issue 22): a run killed while
# libgit2 writes a loose object (here: the commit --on-diverge=rebase replays) leaves
# objects/tmp_object_git2_* for good; no later tick removes it.  gdb stops the run in git_odb_write()
# at the link() of that temporary onto the object's name (libgit2's p_rename) and kills it there.
# usage: bench/repro/loose-object-temporary.sh [BUILD_DIR]; exit 1 while the temporary stays.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PS=$(cd "${1:-$here/../../build}" && pwd)/pushseal
command -v gdb >/dev/null || { echo "needs gdb" >&2; exit 2; }
T=$(mktemp -d "${TMPDIR:-/tmp}/pushseal-repro.XXXXXX"); trap 'rm -rf "$T"' EXIT
export HOME="$T" GIT_CONFIG_NOSYSTEM=1
git config --global user.name B; git config --global user.email b@x; git config --global init.defaultBranch main
git init -q --bare "$T/r.git"; git clone -q "$T/r.git" "$T/c" 2>/dev/null
(cd "$T/c" && echo a >f && echo a >g && git add f g && git commit -qm i && git push -q -u origin main)
git clone -q "$T/r.git" "$T/p" 2>/dev/null
(cd "$T/p" && echo b >>g && git commit -qam person && git push -q)
(cd "$T/c" && echo b >>f && git commit -qam bot)     # diverged: the bot's commit is rebased
# shellcheck disable=SC2016 # $rdi and $1 are gdb's, not the shell's
gdb -q -batch -ex 'set breakpoint pending on' -ex 'break git_odb_write' -ex run -ex 'delete 1' \
    -ex 'catch syscall link' -ex continue -ex 'p (char *)$rdi' -ex kill \
    --args "$PS" run --remote --on-diverge=rebase "$T/c" 2>&1 | grep '^\$1' || true
find "$T/c/.git/objects" -name '*_git2_*' | sed "s|$T/||" | grep . || { echo "nothing was left: the kill missed"; exit 2; }
"$PS" run --remote --on-diverge=rebase "$T/c" >/dev/null || true
"$PS" run --remote --check false --writeback 'echo x >>f && git commit -qam w' "$T/c" >/dev/null || true
if find "$T/c/.git/objects" -name '*_git2_*' | grep -q .; then
  echo "FINDING: still there after two ticks: $(find "$T/c/.git/objects" -name '*_git2_*' | sed "s|$T/||")"; exit 1
fi
echo "the temporary was removed"
