#!/bin/sh
# The pushseal benchmark driver.  Builds scratch repositories under $TMPDIR,
# times pushseal and the git CLI side by side in the same run, and writes a
# markdown report (bench/RESULTS.md by default).  Not a test: timings never
# gate anything.  See bench/README.md for what each row means.
#
# usage: bench/run.sh [BUILD_DIR]      (default BUILD_DIR: build/)
# env:   BENCH_QUICK=1  a smoke run: small sizes, 3 repetitions (about 4 minutes with the servers)
#        BENCH_OUT=FILE where the report goes (default bench/RESULTS.md)
#        BENCH_KEEP=1   keep the scratch directory
#        BENCH_REPS, BENCH_BIG_REPS, BENCH_NS, BENCH_DAEMON_NS, BENCH_HIST, BENCH_DIV,
#        BENCH_HIST_POINTS, BENCH_WORK_N, BENCH_RSS_TICKS, BENCH_RSS_REMOTE_TICKS
#        override the sizes (see the defaults below); BENCH_JOBS the -j values
#        ("1 2 8"), BENCH_TRANSPORTS the served transports ("git http ssh";
#        empty: local paths only).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
PS=${BENCH_PUSHSEAL:-$build/pushseal}
TOOL=${BENCH_TOOL:-$build/bench/pushseal-bench}
SEED="$here/seed-tick.sh"
[ -x "$PS" ] || { echo "bench: no pushseal at $PS (build first)" >&2; exit 2; }
[ -x "$TOOL" ] || { echo "bench: no pushseal-bench at $TOOL (build first)" >&2; exit 2; }

if [ "${BENCH_QUICK:-0}" = 1 ]; then
  d_reps=3 d_ns="50" d_dns="10" d_hist=5000 d_div=2500 d_points="1000"
  d_work=10 d_rss=1500 d_rssr=50
else
  d_reps=5 d_ns="10 100 1000" d_dns="20" d_hist=100000 d_div=50000 d_points="1000 10000 100000"
  d_work=20 d_rss=10000 d_rssr=1000
fi
REPS=${BENCH_REPS:-$d_reps}
BIG_REPS=${BENCH_BIG_REPS:-3}   # runs for sets of 1000 repos and more
NS=${BENCH_NS:-$d_ns}
DNS=${BENCH_DAEMON_NS:-$d_dns}
HIST=${BENCH_HIST:-$d_hist}
DIV=${BENCH_DIV:-$d_div}
POINTS=${BENCH_HIST_POINTS:-$d_points}
WORK_N=${BENCH_WORK_N:-$d_work}
RSS_TICKS=${BENCH_RSS_TICKS:-$d_rss}
RSS_RTICKS=${BENCH_RSS_REMOTE_TICKS:-$d_rssr}
JOBS=${BENCH_JOBS:-1 2 8}
TRANSPORTS=${BENCH_TRANSPORTS-git http ssh}
OUT=${BENCH_OUT:-$here/RESULTS.md}

W=$(mktemp -d "${TMPDIR:-/tmp}/pushseal-bench.XXXXXX")
case "$W" in *[!A-Za-z0-9/._-]*) echo "bench: scratch path '$W' must be plain" >&2; exit 2 ;; esac
SPIDS=""
cleanup() {
  for pid in $SPIDS; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "bench: kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A pinned environment, as the suite uses: no system or user config leaks in.
export HOME="$W/home" GIT_CONFIG_NOSYSTEM=1 LANG=C TZ=UTC GIT_TERMINAL_PROMPT=0
unset GIT_DIR GIT_WORK_TREE PUSHSEAL_DEADLINE_S 2>/dev/null || true
mkdir -p "$HOME"
git config --global user.name Bench
git config --global user.email bench@example.com
git config --global init.defaultBranch main
git config --global advice.detachedHead false

T0=$(date +%s)
LOAD0=$(cut -d" " -f1-3 /proc/loadavg)
log() { echo "bench [$(( $(date +%s) - T0 ))s] $*" >&2; }
# fmt SECONDS -> "0.123"
ms() { awk -v s="$1" 'BEGIN { printf "%.1f", s * 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }'; }
# time_cmd [-p PREP] -- ARGV...  ->  "median min max rc"
R=$REPS
time_cmd() { "$TOOL" time -n "$R" "$@"; }
med() { echo "$1" | cut -d' ' -f1; }
rcof() { echo "$1" | cut -d' ' -f4; }

SEC="$W/sections"
mkdir -p "$SEC"
TARGETS="$SEC/targets"
: >"$TARGETS"

# ---- repositories ---------------------------------------------------------
log "template repository"
git init -q --bare "$W/tpl/bare.git"
git clone -q "$W/tpl/bare.git" "$W/tpl/clone" 2>/dev/null
echo 0 >"$W/tpl/clone/data.txt"
git -C "$W/tpl/clone" add data.txt
git -C "$W/tpl/clone" commit -qm init
git -C "$W/tpl/clone" push -q -u origin main 2>/dev/null
git -C "$W/tpl/clone" status --porcelain >/dev/null # refresh the index once
cfg="$W/tpl/clone/.git/config"
grep -q '^	url = ' "$cfg" || { echo "bench: unexpected template config" >&2; exit 1; }
cfg_head=$(sed '/^	url = /,$d' "$cfg")
cfg_tail=$(sed '1,/^	url = /d' "$cfg")

# mkset NAME N URLPREFIX: N bare+clone pairs; clone i's url is URLPREFIX/i.git,
# or its own bare when URLPREFIX is empty.  Writes $W/NAME/list.
mkset() {
  name=$1 setn=$2 prefix=$3
  mkdir -p "$W/$name/bare" "$W/$name/clone"
  : >"$W/$name/list"
  i=1
  while [ "$i" -le "$setn" ]; do
    if [ -z "$prefix" ]; then
      cp -a "$W/tpl/bare.git" "$W/$name/bare/$i.git"
      url="$W/$name/bare/$i.git"
    else
      url="$prefix/$i.git"
    fi
    cp -a "$W/tpl/clone" "$W/$name/clone/$i"
    { printf '%s\n' "$cfg_head"; printf '\turl = %s\n' "$url"; printf '%s\n' "$cfg_tail"; } \
      >"$W/$name/clone/$i/.git/config"
    echo "$W/$name/clone/$i" >>"$W/$name/list"
    i=$((i + 1))
  done
}

# every repo of a set must tick clean, with both implementations, before timing
check_clean() {
  list=$1 remote=$2 listn=$(wc -l <"$1")
  # shellcheck disable=SC2046
  got=$("$PS" run $remote $(cat "$list") | grep -c '"skipped":"clean"' || true)
  [ "$got" = "$listn" ] || { echo "bench: only $got of $listn repos in $list tick clean" >&2; exit 1; }
  # shellcheck disable=SC2046
  got=$(sh "$SEED" $(cat "$list") | grep -c ' 0 0 0 clean$' || true)
  [ "$got" = "$listn" ] || { echo "bench: only $got of $listn repos in $list are clean for git" >&2; exit 1; }
}

# ---- 1. stable-state ticks -------------------------------------------------
TICK="$SEC/tick.md"
{
  echo "| tick | repos | transport | -j | runs | pushseal median s | git CLI median s | git/pushseal (wall) | pushseal ms/repo | git ms/repo | pushseal CPU s | git CPU s | git/pushseal (CPU) |"
  echo "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
} >"$TICK"
FLOOR="$SEC/floor.md"
{
  echo "| repos | floor (libgit2 open+HEAD+upstream) s | \`pushseal run\` (CLI) s | x floor | pushseal_tick_repo loop (in-process) s | x floor | git CLI no-fetch s |"
  echo "|---:|---:|---:|---:|---:|---:|---:|"
} >"$FLOOR"

tick_row() { # label n transport jobs psres gitres
  pm=$(med "$5") gm=$(med "$6")
  pr=$(rcof "$5") gr=$(rcof "$6")
  note=""
  [ "$pr" = 0 ] && [ "$gr" = 0 ] || note=" (exit $pr/$gr)"
  pc=$(echo "$5" | cut -d' ' -f5) gc=$(echo "$6" | cut -d' ' -f5)
  echo "| $1$note | $2 | $3 | $4 | $R | $pm | $gm | $(ratio "$gm" "$pm") | $(awk -v s="$pm" -v n="$2" 'BEGIN{printf "%.2f", s*1000/n}') | $(awk -v s="$gm" -v n="$2" 'BEGIN{printf "%.2f", s*1000/n}') | $pc | $gc | $(ratio "$gc" "$pc") |" >>"$TICK"
}

# stable_ticks NAME N TRANSPORT: the seed tick once, then pushseal with each -j
stable_ticks() {
  list="$W/$1/list"
  check_clean "$list" --remote
  # shellcheck disable=SC2046
  {
    log "  stable tick --remote over $3, n=$2"
    g=$(time_cmd -- sh "$SEED" $(cat "$list"))
    echo "$g" >"$W/$1/seed.res"
    for j in $JOBS; do
      p=$(time_cmd -- "$PS" run -j "$j" --remote $(cat "$list"))
      tick_row "stable, \`run --remote\` vs fetch+2 counts+status" "$2" "$3" "$j" "$p" "$g"
      if [ "$2" = 1000 ] && [ "$3" = local ] && [ "$j" = 2 ]; then echo "remote1000 $(med "$p") $(med "$g")" >>"$TARGETS"; fi
    done
  }
}

for n in $NS; do
  log "stable set of $n repos (local paths)"
  mkset "n$n" "$n" ""
  list="$W/n$n/list"
  R=$REPS
  [ "$n" -lt 1000 ] || R=$BIG_REPS
  stable_ticks "n$n" "$n" local
  # shellcheck disable=SC2046
  {
    log "  tick without --remote, n=$n"
    p=$(time_cmd -- "$PS" run -j 1 $(cat "$list"))
    g=$(time_cmd -- sh "$SEED" --no-fetch $(cat "$list"))
    tick_row "stable, \`run\` vs 1 count+status (no network)" "$n" none 1 "$p" "$g"
    log "  floor, n=$n"
    f=$("$TOOL" floor -n "$R" "$list")
    l=$("$TOOL" libtick -n "$R" "$list")
    fm=$(med "$f") pm=$(med "$p") lm=$(med "$l")
    echo "| $n | $fm | $pm | $(ratio "$pm" "$fm") | $lm | $(ratio "$lm" "$fm") | $(med "$g") |" >>"$FLOOR"
    echo "floor$n $fm $pm $lm" >>"$TARGETS"
  }
  R=$REPS
done

# ---- 1b. servers on 127.0.0.1: git daemon, smart HTTP, ssh -------------------
# Each serves every repository under $W; each runs in its own process group
# and is killed by cleanup().  A transport whose server cannot start is left
# out with a note in the report.
NOTES="$SEC/notes.md"
: >"$NOTES"
wait_port() { # port what
  k=0
  until "$TOOL" probe "$1" 2>/dev/null; do
    k=$((k + 1)); [ "$k" -lt 100 ] || { echo "- $2 did not start on 127.0.0.1:$1; its rows are missing." >>"$NOTES"; return 1; }
    sleep 0.1
  done
}
start_servers() {
  have=""
  # git://
  gport=$("$TOOL" freeport)
  "$(git --exec-path)/git-daemon" --export-all --enable=receive-pack --base-path="$W" --listen=127.0.0.1 \
    --port="$gport" --reuseaddr --timeout=60 --init-timeout=10 "$W" >"$W/daemon.log" 2>&1 &
  SPIDS="$SPIDS $!"
  wait_port "$gport" "git daemon" && have="$have git"
  # smart HTTP: lighttpd + git http-backend; anonymous fetch, basic auth for push
  if command -v lighttpd >/dev/null 2>&1 || [ -x /usr/sbin/lighttpd ]; then
    hport=$("$TOOL" freeport)
    HPASS=pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
    mkdir -p "$W/http/www"
    # x-access-token: the user pushseal names when the URL names none.  The
    # URLs carry no user: with one, libgit2 1.5 first presents it with an
    # empty password, which lighttpd answers after its delay for invalid
    # credentials (about 1 s a push; README.md).
    printf 'pushseal:%s\nx-access-token:%s\n' "$HPASS" "$HPASS" >"$W/http/users"
    cat >"$W/http/lighttpd.conf" <<CONF
server.document-root = "$W/http/www"
server.bind = "127.0.0.1"
server.port = $hport
server.errorlog = "$W/http/error.log"
server.modules = ( "mod_alias", "mod_setenv", "mod_auth", "mod_authn_file", "mod_cgi" )
auth.backend = "plain"
auth.backend.plain.userfile = "$W/http/users"
alias.url = ( "/git" => "$(git --exec-path)/git-http-backend" )
setenv.add-environment = ( "GIT_PROJECT_ROOT" => "$W", "GIT_HTTP_EXPORT_ALL" => "1" )
cgi.assign = ( "" => "" )
\$HTTP["querystring"] =~ "service=git-receive-pack" {
  auth.require = ( "/" => ( "method" => "basic", "realm" => "pushseal", "require" => "valid-user" ) )
}
\$HTTP["url"] =~ "/git-receive-pack\$" {
  auth.require = ( "/" => ( "method" => "basic", "realm" => "pushseal", "require" => "valid-user" ) )
}
CONF
    "$(command -v lighttpd || echo /usr/sbin/lighttpd)" -D -f "$W/http/lighttpd.conf" >"$W/http/stderr.log" 2>&1 &
    SPIDS="$SPIDS $!"
    if wait_port "$hport" lighttpd; then
      have="$have http"
      # pushseal authenticates with its token; git through a credential helper
      export PUSHSEAL_HTTPS_TOKEN="$HPASS" GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=credential.helper
      export GIT_CONFIG_VALUE_0="!f() { test \"\$1\" = get || exit 0; echo username=pushseal; echo password=$HPASS; }; f"
    fi
  else
    echo "- lighttpd is not installed: no smart HTTP rows." >>"$NOTES"
  fi
  # ssh: sshd with a host key made for this run, key-only login
  if [ -x /usr/sbin/sshd ] && command -v ssh-keygen >/dev/null 2>&1; then
    sport=$("$TOOL" freeport)
    mkdir -p "$W/ssh" /run/sshd 2>/dev/null || mkdir -p "$W/ssh"
    ssh-keygen -q -t ed25519 -N "" -f "$W/ssh/host" && ssh-keygen -q -t ed25519 -N "" -f "$W/ssh/client"
    cp "$W/ssh/client.pub" "$W/ssh/authorized_keys"
    echo "[127.0.0.1]:$sport $(cat "$W/ssh/host.pub")" >"$W/ssh/known_hosts"
    cat >"$W/ssh/sshd_config" <<CONF
Port $sport
ListenAddress 127.0.0.1
HostKey $W/ssh/host
PidFile none
AuthorizedKeysFile $W/ssh/authorized_keys
AllowUsers $(id -un)
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxStartups 200
MaxSessions 200
LogLevel ERROR
CONF
    /usr/sbin/sshd -D -f "$W/ssh/sshd_config" -E "$W/ssh/sshd.log" >"$W/ssh/stderr.log" 2>&1 &
    SPIDS="$SPIDS $!"
    if wait_port "$sport" sshd; then
      have="$have ssh"
      unset SSH_AUTH_SOCK
      export PUSHSEAL_SSH_KEY="$W/ssh/client" PUSHSEAL_SSH_KNOWN_HOSTS="$W/ssh/known_hosts"
      export GIT_SSH_COMMAND="ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o IdentityAgent=none -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$W/ssh/known_hosts -i $W/ssh/client"
    fi
  else
    echo "- sshd is not installed: no ssh rows." >>"$NOTES"
  fi
}
url_prefix() { # transport set-dir-relative-to-W
  case $1 in
    git) echo "git://127.0.0.1:$gport/$2" ;;
    http) echo "http://127.0.0.1:$hport/git/$2" ;;
    ssh) echo "ssh://$(id -un)@127.0.0.1:$sport$W/$2" ;;
  esac
}
bare_set() { # NAME N: N bare repos under $W/NAME/bare
  mkdir -p "$W/$1/bare"
  i=1
  while [ "$i" -le "$2" ]; do
    [ -d "$W/$1/bare/$i.git" ] || cp -a "$W/tpl/bare.git" "$W/$1/bare/$i.git"
    i=$((i + 1))
  done
}

SPIDS=""
if [ -n "$TRANSPORTS" ]; then
  log "servers on 127.0.0.1 for: $TRANSPORTS"
  start_servers
  for t in $TRANSPORTS; do
    case " $have " in *" $t "*) ;; *) continue ;; esac
    for dn in $DNS; do
      bare_set "s$t$dn" "$dn"
      mkset "c$t$dn" "$dn" "$(url_prefix "$t" "s$t$dn/bare")"
      stable_ticks "c$t$dn" "$dn" "$t"
    done
  done
fi

# ---- 2. a tick with real work: one local commit per repo -------------------
# work_ticks NAME TRANSPORT: each run pushes one new commit per repo (made
# untimed before it); the seed and pushseal with each -j.
work_ticks() {
  wl="$W/$1/list"
  prep="for r in \$(cat '$wl'); do echo x >>\"\$r/data.txt\" && git -C \"\$r\" commit -qam work || exit 1; done"
  sh -c "$prep"
  # shellcheck disable=SC2046
  sealed=$("$PS" run --remote $(cat "$wl") | grep -c '"sealed":true' || true)
  [ "$sealed" = "$WORK_N" ] || { echo "bench: only $sealed of $WORK_N work repos sealed over $2" >&2; exit 1; }
  log "  work tick over $2, n=$WORK_N"
  # shellcheck disable=SC2046
  g=$(time_cmd -p "$prep" -- sh "$SEED" $(cat "$wl"))
  for j in $JOBS; do
    # shellcheck disable=SC2046
    p=$(time_cmd -p "$prep" -- "$PS" run -j "$j" --remote $(cat "$wl"))
    tick_row "work: 1 local commit each, \`run --remote\` (push) vs seed + \`git push\`" "$WORK_N" "$2" "$j" "$p" "$g"
  done
  for r in $(cat "$wl"); do
    [ "$(git -C "$r" rev-list --count '@{u}..HEAD')" = 0 ] || { echo "bench: $r not pushed" >&2; exit 1; }
  done
}
log "work set of $WORK_N repos"
mkset work "$WORK_N" ""
work_ticks work local
for t in $TRANSPORTS; do
  case " $have " in *" $t "*) ;; *) continue ;; esac
  bare_set "ws$t" "$WORK_N"
  mkset "w$t" "$WORK_N" "$(url_prefix "$t" "ws$t/bare")"
  work_ticks "w$t" "$t"
done
for pid in $SPIDS; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
SPIDS=""

# ---- 3. counting on long histories -----------------------------------------
COUNT="$SEC/count.md"
{
  echo "| history | case | command | commit-graph | pushseal | git | exact | pushseal ms | git --count ms | git/pushseal | git --left-right --count ms | git --left-right/pushseal |"
  echo "|---|---|---|---|---:|---:|---|---:|---:|---:|---:|---:|"
} >"$COUNT"
SCALEH="$SEC/scaleh.md"
{
  echo "| history (commits) | stable \`run --remote\` ms | seed tick ms | stable \`run\` ms | \`local-ahead\` (ahead 1) ms | \`git rev-list --count @{u}..HEAD\` ms |"
  echo "|---:|---:|---:|---:|---:|---:|"
} >"$SCALEH"

# mkclone BARE NAME BRANCH_OID UPSTREAM_BRANCH
mkclone() {
  git clone -q --no-checkout "$1" "$2"
  git -C "$2" update-ref refs/heads/main "$3"
  git -C "$2" config branch.main.merge "refs/heads/$4"
}

count_row() { # hist case clone cmd cg
  ch=$1 cc=$2 r=$3 cmd=$4 ccg=$5
  if [ "$cmd" = local-ahead ]; then
    want=$(git -C "$r" rev-list --count '@{u}..HEAD')
    g=$(time_cmd -- git -C "$r" rev-list --count '@{u}..HEAD')
    g2=$(time_cmd -- git -C "$r" rev-list --left-right --count '@{u}...HEAD')
    label="\`local-ahead\` vs \`git rev-list [--left-right] --count @{u}[.]..HEAD\`"
  else
    git -C "$r" fetch -q
    want=$(git -C "$r" rev-list --count 'HEAD..@{u}')
    g=$(time_cmd -- sh -c 'git -C "$1" fetch -q && git -C "$1" rev-list --count "HEAD..@{u}"' sh "$r")
    g2=$(time_cmd -- sh -c 'git -C "$1" fetch -q && git -C "$1" rev-list --left-right --count "HEAD...@{u}"' sh "$r")
    label="\`remote-ahead\` vs \`git fetch\` + \`git rev-list [--left-right] --count HEAD[.]..@{u}\`"
  fi
  got=$("$PS" "$cmd" "$r")
  p=$(time_cmd -- "$PS" "$cmd" "$r")
  exact=yes
  [ "$got" = "$want" ] || exact=NO
  pm=$(med "$p") gm=$(med "$g") g2m=$(med "$g2")
  echo "| $ch | $cc | $label | $ccg | $got | $want | $exact | $(ms "$pm") | $(ms "$gm") | $(ratio "$gm" "$pm") | $(ms "$g2m") | $(ratio "$g2m" "$pm") |" >>"$COUNT"
  echo "count $exact $pm $g2m $(echo "$ch" | tr ' ' _) $(echo "$cc" | tr ' ' _) $cmd $ccg" >>"$TARGETS"
}

for h in $POINTS $HIST; do
  [ -d "$W/hist$h" ] && continue
  log "linear history of $h commits (fast-import)"
  b="$W/hist$h/bare.git"
  git init -q --bare "$b"
  "$TOOL" gen linear "$h" | git -C "$b" fast-import --quiet
  tip=$(git -C "$b" rev-parse main) tip1=$(git -C "$b" rev-parse tip1) root=$(git -C "$b" rev-parse root)
  git clone -q "$b" "$W/hist$h/sync"
  mkclone "$b" "$W/hist$h/ahead1" "$tip" tip1
  echo "$W/hist$h/sync" >"$W/hist$h/list"
  check_clean "$W/hist$h/list" --remote
  s="$W/hist$h/sync"
  p1=$(time_cmd -- "$PS" run --remote "$s")
  g1=$(time_cmd -- sh "$SEED" "$s")
  p2=$(time_cmd -- "$PS" run "$s")
  p3=$(time_cmd -- "$PS" local-ahead "$W/hist$h/ahead1")
  g3=$(time_cmd -- git -C "$W/hist$h/ahead1" rev-list --count '@{u}..HEAD')
  echo "| $h | $(ms "$(med "$p1")") | $(ms "$(med "$g1")") | $(ms "$(med "$p2")") | $(ms "$(med "$p3")") | $(ms "$(med "$g3")") |" >>"$SCALEH"
  if [ "$h" = "$HIST" ]; then
    mkclone "$b" "$W/hist$h/full" "$tip" root
    mkclone "$b" "$W/hist$h/behind" "$root" main
    log "divergence of $DIV/$DIV commits (fast-import)"
    db="$W/div/bare.git"
    git init -q --bare "$db"
    "$TOOL" gen diverge "$DIV" "$DIV" | git -C "$db" fast-import --quiet
    mkclone "$db" "$W/div/d" "$(git -C "$db" rev-parse main)" side
    for cg in no yes chain; do
      for r in "$W/hist$h/ahead1" "$W/hist$h/full" "$W/hist$h/behind" "$W/div/d"; do
        case $cg in
          yes) git -C "$r" commit-graph write --reachable ;;
          chain) # a split chain instead of the single file (git prefers the file)
            rm -f "$r/.git/objects/info/commit-graph"
            git -C "$r" commit-graph write --reachable --split ;;
        esac
      done
      log "  counts on $h commits, commit-graph: $cg"
      count_row "$h linear" "ahead by 1" "$W/hist$h/ahead1" local-ahead "$cg"
      count_row "$h linear" "ahead by 1" "$W/hist$h/ahead1" remote-ahead "$cg"
      count_row "$h linear" "ahead by $((h - 1)) (upstream = root)" "$W/hist$h/full" local-ahead "$cg"
      count_row "$h linear" "behind by $((h - 1)) (HEAD = root)" "$W/hist$h/behind" remote-ahead "$cg"
      count_row "$DIV/$DIV diverged" "diverged" "$W/div/d" local-ahead "$cg"
      count_row "$DIV/$DIV diverged" "diverged" "$W/div/d" remote-ahead "$cg"
    done
  fi
done

# ---- 4. memory --------------------------------------------------------------
log "memory: $RSS_TICKS stable ticks, $RSS_RTICKS with --remote"
first=$(head -n 1 "$W/n$(echo "$NS" | awk '{print $1}')/list")
m1=$("$TOOL" rss -n "$RSS_TICKS" "$first")
m2=$("$TOOL" rss -r -n "$RSS_RTICKS" "$first")
MEM="$SEC/mem.md"
{
  echo "| loop | ticks | VmRSS start KiB | after 1000 KiB | end KiB | ticks not clean |"
  echo "|---|---:|---:|---:|---:|---:|"
  set -- $m1
  echo "| \`pushseal_tick_repo\`, no remote | $RSS_TICKS | $1 | $2 | $3 | $4 |"
  set -- $m2
  echo "| \`pushseal_tick_repo\`, remote | $RSS_RTICKS | $1 | $2 | $3 | $4 |"
} >"$MEM"
echo "rss $m1" >>"$TARGETS"

# ---- 5. start-up: one call that speaks no TLS ---------------------------------
log "start-up"
SU="$SEC/startup.md"
su=$W/su
git clone -q "$W/tpl/bare.git" "$su" 2>/dev/null
echo 1 >>"$su/data.txt"
git -C "$su" commit -qam one
git -C "$su" status --porcelain >/dev/null
R=$((REPS * 4))
{
  echo "| call | pushseal wall ms | pushseal CPU ms | git equivalent | git wall ms | git CPU ms | git/pushseal (wall) | git/pushseal (CPU) |"
  echo "|---|---:|---:|---|---:|---:|---:|---:|"
} >"$SU"
su_row() { # label psres gitlabel gitres [judge]
  pw=$(med "$2") pc=$(echo "$2" | cut -d' ' -f5) gw=$(med "$4") gc=$(echo "$4" | cut -d' ' -f5)
  echo "| $1 | $(ms "$pw") | $(ms "$pc") | $3 | $(ms "$gw") | $(ms "$gc") | $(ratio "$gw" "$pw") | $(ratio "$gc" "$pc") |" >>"$SU"
  if [ "${5:-}" = judge ]; then echo "startup $pc $gc $pw $gw $(echo "$1" | cut -d'(' -f1 | tr -d '\`' | tr ' ' _)" >>"$TARGETS"; fi
}
g=$(time_cmd -- git -C "$su" rev-list --count '@{u}..HEAD')
su_row "\`pushseal local-ahead\` (ahead by 1)" "$(time_cmd -- "$PS" local-ahead "$su")" "\`git rev-list --count @{u}..HEAD\`" "$g" judge
su_row "\`pushseal run\` (one repo, no network)" "$(time_cmd -- "$PS" run "$su")" "\`git rev-list --count @{u}..HEAD\` + \`git status --porcelain\` (seed tick, no fetch)" \
  "$(time_cmd -- sh "$SEED" --no-fetch "$su")" judge
su_row "\`pushseal-bench noop\`: load libgit2 and its libraries, exit" "$(time_cmd -- "$TOOL" noop)" "\`git rev-list --count @{u}..HEAD\`" "$g"
su_row "\`pushseal-bench init\`: + git_libgit2_init (parses the CA bundle)" "$(time_cmd -- "$TOOL" init)" "\`git rev-list --count @{u}..HEAD\`" "$g"
# What Debian's build costs: the same call with the CA bundle hidden from
# libgit2's initialisation (a private mount namespace; root only).
ca=/etc/ssl/certs/ca-certificates.crt
if [ "$(id -u)" = 0 ] && [ -f "$ca" ] && unshare -m sh -c "mount --bind /dev/null $ca" 2>/dev/null; then
  # both under the same unshare + bind mount, which adds its own few ms to each
  su_row "\`pushseal local-ahead\`, CA bundle hidden (both rows of this line under unshare -m + mount)" \
    "$(time_cmd -- unshare -m sh -c "mount --bind /dev/null $ca && exec \"\$0\" local-ahead \"\$1\"" "$PS" "$su")" \
    "\`git rev-list --count @{u}..HEAD\`" \
    "$(time_cmd -- unshare -m sh -c "mount --bind /dev/null $ca && exec git -C \"\$0\" rev-list --count @{u}..HEAD" "$su")"
  if [ -f "$W/n1000/list" ]; then
    log "  1000-repo tick with the CA bundle hidden"
    R=$BIG_REPS
    # shellcheck disable=SC2016
    p=$(time_cmd -- unshare -m sh -c "mount --bind /dev/null $ca && exec \"\$0\" run -j 2 --remote \$(cat \"\$1\")" "$PS" "$W/n1000/list")
    g=$(cat "$W/n1000/seed.res") # the git CLI's tick measured above, in this run
    tick_row "stable, \`run --remote\`, CA bundle hidden (mount namespace) vs fetch+2 counts+status" 1000 local 2 "$p" "$g"
  fi
else
  echo "- not root (or no unshare): the CA-bundle-hidden rows are missing." >>"$NOTES"
fi
R=$REPS

# ---- targets ----------------------------------------------------------------
TG="$SEC/targets.md"
awk '
  function flag(ok) { return ok ? "PASS" : "MISSED" }
  $1 == "remote1000" { r = ($2 > 0) ? $3 / $2 : 0
    printf "| stable tick with --remote, 1000 local repos: >= 20x faster than the git CLI and < 1 s with -j 2 | %.1fx, %.2f s | %s |\n", r, $2, flag(r >= 20 && $2 < 1); seen1 = 1 }
  $1 == "floor1000" { r = $3 / $2
    printf "| stable tick without --remote, 1000 repos: within 3x of the floor | `pushseal run` %.1fx floor (in-process loop %.1fx) | %s |\n", r, $4 / $2, flag(r <= 3); seen2 = 1 }
  $1 == "startup" { su = su sprintf(" %s %.1f vs %.1f ms CPU (%.1fx);", $6, $2 * 1000, $3 * 1000, ($3 > 0) ? $2 / $3 : 0); if ($2 > 2 * $3) suslow++; nsu++ }
  $1 == "count" { n++; if ($2 != "yes") inexact++; if ($3 > $4) { slow++; worst = worst sprintf(" %s %s %s cg=%s: %.0f vs %.0f ms;", $5, $6, $7, $8, $3 * 1000, $4 * 1000) } }
  END {
    if (!seen1) print "| stable tick with --remote, 1000 local repos | not measured in this run | - |"
    if (!seen2) print "| stable tick without --remote within 3x of the floor (1000 repos) | not measured in this run | - |"
    if (nsu) printf "| one call that speaks no TLS within 2x of git'"'"'s start-up cost (CPU) |%s | %s |\n", su, flag(!suslow)
    if (n) printf "| ahead/behind on long histories exact, and no slower than `git rev-list --left-right --count`, with and without a commit-graph | %d of %d exact; %d of %d slower than git:%s | %s |\n", n - inexact, n, slow, n, worst, flag(!inexact && !slow)
  }' "$TARGETS" >"$TG"

# ---- report -------------------------------------------------------------------
{
  echo "# pushseal benchmark results"
  echo
  echo "Generated by \`bench/run.sh\` ($( [ "${BENCH_QUICK:-0}" = 1 ] && echo "BENCH_QUICK=1 smoke run" || echo "full run")) on $(date -u '+%Y-%m-%d %H:%M UTC'), in $(( $(date +%s) - T0 )) s."
  echo "Every figure is the median of $REPS timed runs ($BIG_REPS for sets of 1000 repos; see the runs column) after one warm-up run; pushseal and the git CLI"
  echo "were measured in this same run on the same repositories; the -j column gives pushseal's workers."
  echo "Ratios are git time / pushseal time: above 1 means pushseal is faster."
  echo
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), Linux $(uname -r),"
  echo "$(git --version), libgit2 $(pkg-config --modversion libgit2 2>/dev/null || echo '?'), load average at start: $LOAD0, at the end: $(cut -d" " -f1-3 /proc/loadavg)."
  echo
  echo "## Targets"
  echo
  echo "| target | measured | flag |"
  echo "|---|---|---|"
  cat "$TG"
  echo
  if [ -s "$NOTES" ]; then cat "$NOTES"; echo; fi
  echo "## Ticks: pushseal vs the seed's git-CLI adapter (\`bench/seed-tick.sh\`)"
  echo
  echo "Transports: local paths; \`git://\` (git daemon), smart HTTP (lighttpd + git http-backend, basic auth"
  echo "for pushes) and ssh (sshd, key login), each on 127.0.0.1 and serving the same kind of repositories."
  echo "The git CLI's figure does not depend on -j: it is one sequential run per set."
  echo
  cat "$TICK"
  echo
  echo "## The floor: how close \`pushseal run\` (no --remote) gets to opening each repo and reading HEAD and its upstream"
  echo
  cat "$FLOOR"
  echo
  echo "## Counting on long histories"
  echo
  cat "$COUNT"
  echo
  echo "## Scale with history size (one repo, linear history, in sync unless stated)"
  echo
  cat "$SCALEH"
  echo
  echo "## Memory (one process, one repo)"
  echo
  cat "$MEM"
  echo
  echo "## Start-up: one call that speaks no TLS (median of $((REPS * 4)) runs)"
  echo
  cat "$SU"
} >"$W/RESULTS.md"
# bench/ssh.sh writes its own section: keep it
if [ -f "$OUT" ] && grep -q '^<!-- ssh.sh -->$' "$OUT"; then
  { echo; sed -n '/^<!-- ssh.sh -->$/,/^<!-- \/ssh.sh -->$/p' "$OUT"; } >>"$W/RESULTS.md"
fi
# the soak's section (bench/soak.sh, recorded by hand, kept last) survives a new report
if [ -f "$OUT" ] && grep -q '^## Soak (issue 22)' "$OUT"; then
  { echo; sed -n '/^## Soak (issue 22)/,$p' "$OUT"; } >>"$W/RESULTS.md"
fi
cp "$W/RESULTS.md" "$OUT"
log "done: $OUT"
cat "$TG" >&2
