#!/bin/sh
# Soak finding (bench/soak.sh, issue 22): a run killed inside ps_journal_begin(), after
# fopen() created .git/pushseal-journal.PID-START.N and before fclose() wrote its
# "pid PID START" line, leaves an empty journal that no later tick removes
# (recover_one() returns when it cannot read the first line).  The soak met one
# naturally (seed 1); this puts the kill at that point with gdb.
# usage: bench/repro/empty-journal.sh [BUILD_DIR]; exit 1 when the journal stays (the finding).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PS=$(cd "${1:-$here/../../build}" && pwd)/pushseal
command -v gdb >/dev/null || { echo "needs gdb" >&2; exit 2; }
T=$(mktemp -d "${TMPDIR:-/tmp}/pushseal-repro.XXXXXX"); trap 'rm -rf "$T"' EXIT
export HOME="$T" GIT_CONFIG_NOSYSTEM=1
git config --global user.name B; git config --global user.email b@x; git config --global init.defaultBranch main
git init -q --bare "$T/r.git"; git clone -q "$T/r.git" "$T/c" 2>/dev/null
(cd "$T/c" && echo a >f && git add f && git commit -qm i && git push -q -u origin main)
git clone -q "$T/r.git" "$T/p" 2>/dev/null
(cd "$T/p" && echo b >g && git add g && git commit -qm p && git push -q)
# the clone is behind: the fetch writes the tracking ref under a journal.  Stop in the first
# ps_journal_begin, then at its second fclose() (the first is start_time()'s /proc read),
# which is the journal's own, before its buffer is written; SIGKILL there.
gdb -q -batch -ex 'break ps_journal_begin' -ex run -ex 'break fclose' -ex continue -ex continue \
    -ex 'bt 2' -ex kill --args "$PS" run --remote "$T/c" 2>&1 | grep '^#1' || true
journals() { find "$T/c/.git" -maxdepth 1 -name 'pushseal-journal.*' -printf '%f (%s bytes)\n'; }
[ -n "$(journals)" ] || { echo "no journal was left: the kill missed"; exit 2; }
journals
"$PS" run --remote "$T/c" >/dev/null || true
"$PS" run --remote --check false --writeback 'echo x >>f && git commit -qam w' "$T/c" >/dev/null || true
if [ -n "$(journals)" ]; then echo "FINDING: still there after two ticks: $(journals)"; exit 1; fi
echo "the journal was recovered"
