#!/bin/sh
# The ssh benchmark: a stable `run --remote` tick over N repositories on one
# sshd on 127.0.0.1, pushseal (the system's OpenSSH through its transport)
# beside the git CLI (bench/seed-tick.sh) in the same run, on the same
# repositories, first without and then with the user's ControlMaster /
# ControlPersist in ~/.ssh/config.  Writes its section of bench/RESULTS.md
# (between the "ssh.sh" markers; bench/run.sh keeps it).  Not a test, not CI.
#
# Bounded: sshd runs under `timeout`, the ControlPersist master is asked to
# exit and dies by itself after ControlPersist, and everything it started is
# stopped on exit.  Only 127.0.0.1.  The machine's own ~/.ssh is never read
# or written: OpenSSH takes ~ from the passwd entry, so nss_wrapper
# (libnss-wrapper, ci/deps) points it at the scratch HOME.
#
# usage: bench/ssh.sh [BUILD_DIR]     (default BUILD_DIR: build/)
# env:   BENCH_SSH_N       repositories (100)
#        BENCH_REPS        timed runs per row (5), after one warm-up run
#        BENCH_SSH_OLD     a pushseal built before the OpenSSH transport
#                          (libssh2): adds a row over ssh:// URLs with
#                          PUSHSEAL_SSH_KEY, beside the current one
#        BENCH_OUT         the report (default bench/RESULTS.md)
#        BENCH_KEEP=1      keep the scratch directory
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
PS=${BENCH_PUSHSEAL:-$build/pushseal}
TOOL=${BENCH_TOOL:-$build/bench/pushseal-bench}
SEED="$here/seed-tick.sh"
N=${BENCH_SSH_N:-100}
R=${BENCH_REPS:-5}
OLD=${BENCH_SSH_OLD:-}
OUT=${BENCH_OUT:-$here/RESULTS.md}
NSSW=libnss_wrapper.so
[ -x "$PS" ] || { echo "bench/ssh: no pushseal at $PS (build first)" >&2; exit 2; }
[ -x "$TOOL" ] || { echo "bench/ssh: no pushseal-bench at $TOOL (build first)" >&2; exit 2; }
[ -x /usr/sbin/sshd ] || { echo "bench/ssh: needs openssh-server" >&2; exit 2; }
[ -n "$(find /usr/lib /lib -name "$NSSW" 2>/dev/null | head -1)" ] || { echo "bench/ssh: needs libnss-wrapper (ci/deps)" >&2; exit 2; }

W=$(mktemp -d "${TMPDIR:-/tmp}/ps-bench-ssh.XXXXXX")
case "$W" in *[!A-Za-z0-9/._-]*) echo "bench/ssh: scratch path '$W' must be plain" >&2; exit 2 ;; esac
SPID=""
cleanup() {
  if [ -f "$W/home/.ssh/config" ]; then
    ssh -O exit bench-host >/dev/null 2>&1 || true
  fi
  if [ -n "$SPID" ]; then
    kill "$SPID" 2>/dev/null || true
    wait "$SPID" 2>/dev/null || true
  fi
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "bench/ssh: kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

T0=$(date +%s)
LOAD0=$(cut -d" " -f1-3 /proc/loadavg)
log() { echo "bench/ssh [$(( $(date +%s) - T0 ))s] $*" >&2; }
med() { echo "$1" | cut -d' ' -f1; }
cpu() { echo "$1" | cut -d' ' -f5; }
rcof() { echo "$1" | cut -d' ' -f4; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }'; }
per() { awk -v s="$1" -v n="$2" 'BEGIN { printf "%.1f", s * 1000 / n }'; }
time_cmd() { "$TOOL" time -n "$R" "$@"; }

user=$(id -un)
mkdir -p "$W/keys" "$W/home/.ssh" "$W/bare" "$W/clone" "$W/old"
chmod 700 "$W/home/.ssh"
ssh-keygen -q -t ed25519 -N '' -f "$W/keys/host"
ssh-keygen -q -t ed25519 -N '' -f "$W/keys/client"
cp "$W/keys/client.pub" "$W/keys/authorized_keys"

# ---- sshd on a free loopback port, at most 30 minutes --------------------------
port=$("$TOOL" freeport)
cat >"$W/sshd_config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $W/keys/host
PidFile none
AuthorizedKeysFile $W/keys/authorized_keys
AllowUsers $user
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxStartups 100:30:200
PrintMotd no
LogLevel ERROR
EOF
mkdir -p /run/sshd 2>/dev/null || true
# the server side of a git host: a session runs `sh -c "git-upload-pack ..."`
# with no rc files (this machine's login shell would run ~/.bashrc for each)
mkdir -p "$W/srvhome"
getent passwd | awk -F: -v OFS=: -v u="$(id -u)" -v h="$W/srvhome" '$3 == u { $6 = h; $7 = "/bin/sh" } { print }' \
  >"$W/passwd-server"
getent group >"$W/group-server"
LD_PRELOAD="$NSSW" NSS_WRAPPER_PASSWD="$W/passwd-server" NSS_WRAPPER_GROUP="$W/group-server" \
  timeout 1800 /usr/sbin/sshd -D -f "$W/sshd_config" -E "$W/sshd.log" &
SPID=$!

# ---- a pinned environment, and ssh's ~ in the scratch dir ------------------------
export HOME="$W/home" GIT_CONFIG_NOSYSTEM=1 LANG=C LC_ALL=C TZ=UTC GIT_TERMINAL_PROMPT=0
unset GIT_DIR GIT_WORK_TREE PUSHSEAL_DEADLINE_S GIT_SSH GIT_SSH_COMMAND SSH_AUTH_SOCK PUSHSEAL_SSH_KEY \
  PUSHSEAL_SSH_KNOWN_HOSTS 2>/dev/null || true
getent passwd "$(id -u)" | awk -F: -v OFS=: -v h="$HOME" '{ $6 = h; print }' >"$W/passwd"
getent group "$(id -g)" >"$W/group"
export LD_PRELOAD="$NSSW" NSS_WRAPPER_PASSWD="$W/passwd" NSS_WRAPPER_GROUP="$W/group"
git config --global user.name Bench
git config --global user.email bench@example.com
git config --global init.defaultBranch main
echo "[127.0.0.1]:$port $(cut -d' ' -f1-2 "$W/keys/host.pub")" >"$HOME/.ssh/known_hosts"
host_block="Host bench-host
  HostName 127.0.0.1
  Port $port
  User $user
  IdentityFile $W/keys/client
  IdentitiesOnly yes"
printf '%s\n' "$host_block" >"$HOME/.ssh/config"
chmod 600 "$HOME/.ssh/config"
k=0
until ssh -o BatchMode=yes bench-host true </dev/null 2>/dev/null; do
  k=$((k + 1)); [ "$k" -lt 100 ] || { echo "bench/ssh: sshd did not answer: $(cat "$W/sshd.log")" >&2; exit 1; }
  sleep 0.1
done

# ---- N stable repositories: clone i's origin is bench-host:$W/bare/i.git ----------
log "$N repositories"
git init -q --bare "$W/tpl.git"
git clone -q "$W/tpl.git" "$W/tpl" 2>/dev/null
echo 0 >"$W/tpl/data.txt"
git -C "$W/tpl" add data.txt
git -C "$W/tpl" commit -qm init
git -C "$W/tpl" push -q -u origin main 2>/dev/null
git -C "$W/tpl" status --porcelain >/dev/null
: >"$W/list"
: >"$W/oldlist"
i=1
while [ "$i" -le "$N" ]; do
  cp -a "$W/tpl.git" "$W/bare/$i.git"
  cp -a "$W/tpl" "$W/clone/$i"
  git -C "$W/clone/$i" remote set-url origin "bench-host:$W/bare/$i.git"
  git -C "$W/clone/$i" fetch -q
  echo "$W/clone/$i" >>"$W/list"
  if [ -n "$OLD" ]; then
    cp -a "$W/clone/$i" "$W/old/$i"
    git -C "$W/old/$i" remote set-url origin "ssh://$user@127.0.0.1:$port$W/bare/$i.git"
    echo "$W/old/$i" >>"$W/oldlist"
  fi
  i=$((i + 1))
done

check_clean() { # IMPL LIST
  # shellcheck disable=SC2046
  got=$("$1" run --remote $(cat "$2") | grep -c '"skipped":"clean"' || true)
  [ "$got" = "$N" ] || { echo "bench/ssh: only $got of $N repos tick clean with $1 ($2)" >&2; "$1" run --remote $(head -1 "$2") >&2; exit 1; }
}
check_seed() {
  # shellcheck disable=SC2046
  got=$(sh "$SEED" $(cat "$W/list") | grep -c ' 0 0 0 clean$' || true)
  [ "$got" = "$N" ] || { echo "bench/ssh: only $got of $N repos are clean for git" >&2; exit 1; }
}

ROWS="$W/rows.md"
: >"$ROWS"
row() { # label result
  note=""
  [ "$(rcof "$2")" = 0 ] || note=" (exit $(rcof "$2"))"
  echo "| $1$note | $(med "$2") | $(per "$(med "$2")" "$N") | $(cpu "$2") |" >>"$ROWS"
}
# the floor: one `git-upload-pack` over ssh per repository, answered by a flush
floor_script="$W/floor.sh"
cat >"$floor_script" <<EOF
#!/bin/sh
i=1
while [ "\$i" -le $N ]; do
  printf 0000 | ssh -o BatchMode=yes bench-host "git-upload-pack '$W/bare/\$i.git'" >/dev/null || exit 1
  i=\$((i + 1))
done
EOF

for mode in plain mux; do
  if [ "$mode" = mux ]; then
    printf '%s\n  ControlMaster auto\n  ControlPath %s/cm-%%C\n  ControlPersist 120\n' "$host_block" "$W" \
      >"$HOME/.ssh/config"
    what="with ControlMaster auto + ControlPersist"
  else
    what="no multiplexing"
  fi
  log "$mode: checking that every repo ticks clean"
  check_clean "$PS" "$W/list"
  check_seed
  echo "| **$what** | | | |" >>"$ROWS"
  log "$mode: pushseal run -j 1"
  # shellcheck disable=SC2046
  p1=$(time_cmd -- "$PS" run -j 1 --remote $(cat "$W/list"))
  row "pushseal \`run -j 1 --remote\` (OpenSSH, Host alias)" "$p1"
  log "$mode: pushseal run -j 2"
  # shellcheck disable=SC2046
  p2=$(time_cmd -- "$PS" run -j 2 --remote $(cat "$W/list"))
  row "pushseal \`run -j 2 --remote\`" "$p2"
  log "$mode: git CLI"
  # shellcheck disable=SC2046
  g=$(time_cmd -- sh "$SEED" $(cat "$W/list"))
  row "git CLI: fetch + 2 counts + status per repo (\`bench/seed-tick.sh\`)" "$g"
  log "$mode: floor"
  f=$(time_cmd -- sh "$floor_script")
  row "floor: \`ssh host git-upload-pack\` answered by a flush, per repo" "$f"
  echo "$mode $(med "$p1") $(med "$p2") $(med "$g") $(med "$f")" >>"$W/summary"
  if [ "$mode" = plain ] && [ -n "$OLD" ]; then
    log "$mode: OpenSSH and the libssh2 build over ssh:// (PUSHSEAL_SSH_KEY)"
    export PUSHSEAL_SSH_KEY="$W/keys/client" PUSHSEAL_SSH_KNOWN_HOSTS="$HOME/.ssh/known_hosts"
    check_clean "$PS" "$W/oldlist"
    # shellcheck disable=SC2046
    pn=$(time_cmd -- "$PS" run -j 1 --remote $(cat "$W/oldlist"))
    row "pushseal \`run -j 1 --remote\` (OpenSSH), ssh:// URLs, PUSHSEAL_SSH_KEY" "$pn"
    check_clean "$OLD" "$W/oldlist"
    # shellcheck disable=SC2046
    po=$(time_cmd -- "$OLD" run -j 1 --remote $(cat "$W/oldlist"))
    row "previous pushseal \`run -j 1 --remote\` (libssh2 1.10), ssh:// URLs, PUSHSEAL_SSH_KEY" "$po"
    unset PUSHSEAL_SSH_KEY PUSHSEAL_SSH_KNOWN_HOSTS
    echo "old $(med "$pn") $(med "$po")" >>"$W/summary"
  fi
done
ssh -O exit bench-host >/dev/null 2>&1 || true

# ---- the report ---------------------------------------------------------------------
plain=$(grep '^plain ' "$W/summary") mux=$(grep '^mux ' "$W/summary")
sec="$W/section.md"
{
  echo "<!-- ssh.sh -->"
  echo "## ssh: a stable tick over $N repositories on one sshd (\`bench/ssh.sh\`)"
  echo
  echo "Generated by \`bench/ssh.sh\` on $(date -u '+%Y-%m-%d %H:%M') UTC in $(( $(date +%s) - T0 )) s;"
  echo "load average at start: $LOAD0. $(ssh -V 2>&1 | cut -d, -f1), $(git --version), sshd on 127.0.0.1."
  echo "Each repository's origin is \`bench-host:/path/N.git\`, a Host alias in \`~/.ssh/config\` (HostName,"
  echo "Port, User, IdentityFile, IdentitiesOnly), read by both pushseal and git; every repo ticks clean with"
  echo "both before timing. Medians of $R runs after one warm-up run (which also starts the ControlPersist"
  echo "master). CPU is user+system of the timed process tree; a ControlPersist master is not in it."
  echo "The server runs each session as \`sh -c \"git-upload-pack '...'\"\` with no rc files, as a git host does."
  echo
  echo "| tick | median s | ms/repo | CPU s |"
  echo "|---|---:|---:|---:|"
  cat "$ROWS"
  echo
  set -- $plain; pp1=$2 pp2=$3 pg=$4 pf=$5
  set -- $mux; mp1=$2 mp2=$3 mg=$4 mf=$5
  echo "git/pushseal (wall, \`-j 1\`): $(ratio "$pg" "$pp1")x without multiplexing, $(ratio "$mg" "$mp1")x with it."
  echo "ControlPersist makes pushseal's tick $(ratio "$pp1" "$mp1")x faster (\`-j 1\`) and git's $(ratio "$pg" "$mg")x."
  echo "pushseal over the floor (\`-j 1\`): $(ratio "$pp1" "$pf")x without, $(ratio "$mp1" "$mf")x with multiplexing."
  if grep -q '^old ' "$W/summary"; then
    set -- $(grep '^old ' "$W/summary")
    echo "Over ssh:// URLs with one key, OpenSSH vs the previous libssh2 transport: $2 s vs $3 s ($(ratio "$3" "$2")x)."
  fi
  echo "<!-- /ssh.sh -->"
} >"$sec"
if [ -f "$OUT" ] && grep -q '^<!-- ssh.sh -->$' "$OUT"; then
  awk -v f="$sec" '
    /^<!-- ssh.sh -->$/ { while ((getline l < f) > 0) print l; skip = 1; next }
    /^<!-- \/ssh.sh -->$/ { skip = 0; next }
    !skip { print }' "$OUT" >"$W/out.md"
  cp "$W/out.md" "$OUT"
else
  { [ -f "$OUT" ] && cat "$OUT" && echo; cat "$sec"; } >"$W/out.md"
  cp "$W/out.md" "$OUT"
fi
cat "$sec"
log "done: $OUT"
