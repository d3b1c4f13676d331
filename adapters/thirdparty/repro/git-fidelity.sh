#!/bin/sh
# G-* (tests/test_fidelity.c): plain git on the setups the fidelity matrix
# builds.  Each line shows what git does, which the cited adapters do not:
# sparse and shallow clones pull and push, insteadOf/pushInsteadOf/pushurl
# and relative URLs reach the right repository, a remote's core.hooksPath
# refuses, a shared remote stays group-readable, core.autocrlf converts, and
# git's repository variables redirect git itself (so a writeback must not
# inherit them).  Exits 0 when git behaves so in every setup.
. "$(dirname "$0")/lib.inc"
n=0
ok() { n=$((n + 1)); echo "ok: $*"; }
up() { git clone -q r.git u && (cd u && echo "$1" >> f && git commit -qam up && git push -q) && rm -rf u; }
pair; mkdir -p a/x a/y; echo 1 > a/x/1; echo 2 > a/y/2; git -C a add . && git -C a commit -qm dirs && git -C a push -q
rm -rf b && git clone -q r.git b

# sparse: the pull moves paths outside the cone, and push carries no deletion
git clone -q r.git s && git -C s sparse-checkout set x && up sparse
git -C s pull -q --ff-only && [ ! -e s/y/2 ] && git -C s ls-files | grep -q '^y/2$' && ok "sparse: pull, y/ stays outside"
(cd s && echo m >> x/1 && git commit -qam m && git push -q) && git -C r.git ls-tree -r main --name-only | grep -q '^y/2$' &&
	ok "sparse: the push deletes nothing outside the cone"

# shallow: a depth-1 clone one commit behind fast-forwards and pushes
git clone -q --depth 1 "file://$d/r.git" sh && up shallow
git -C sh pull -q --ff-only && (cd sh && echo s >> f && git commit -qam s && git push -q) && ok "shallow: pull and push"

# insteadOf, pushInsteadOf, pushurl, relative
git clone -q r.git i && git -C i remote set-url origin forge:r.git && git -C i config url."$d/".insteadOf forge:
up io && git -C i pull -q --ff-only && ok "insteadOf: fetches through the rewritten URL"
git clone -q --bare r.git m.git && git clone -q r.git p && git -C p remote set-url origin "$d/m.git" &&
	git -C p config url."$d/r.git".pushInsteadOf "$d/m.git"
git -C p pull -q --ff-only && (cd p && echo p >> f && git commit -qam p && git push -q) &&
	[ "$(git -C r.git rev-parse main)" = "$(git -C p rev-parse HEAD)" ] && ok "pushInsteadOf: the push goes to r.git"
git clone -q r.git q && git -C q remote set-url --push origin "$d/r.git" && git -C q remote set-url origin "$d/m.git"
(cd q && echo q >> f && git commit -qam q && git push -q) &&
	[ "$(git -C r.git rev-parse main)" = "$(git -C q rev-parse HEAD)" ] && ok "pushurl: the push goes to r.git"
git clone -q r.git w && git -C w remote set-url origin ../r.git && up rel && (cd / && git -C "$d/w" pull -q --ff-only) &&
	ok "relative URL: taken from the worktree, wherever git is started"

# a remote's core.hooksPath refuses
mkdir hp && printf '#!/bin/sh\nexit 1\n' > hp/pre-receive && chmod +x hp/pre-receive && git -C r.git config core.hooksPath "$d/hp"
(cd w && git pull -q --ff-only && echo h >> f && git commit -qam h) && ! git -C w push -q 2>/dev/null && ok "hooksPath: the push is refused"
git -C r.git config --unset core.hooksPath

# a shared remote stays group-readable under umask 077
git init -q --bare --shared=group -b main g.git && git clone -q g.git gc 2>/dev/null &&
	(umask 077 && cd gc && echo g > f && git add f && git commit -qm g && git push -q origin main) &&
	[ -z "$(find g.git/refs g.git/objects -type f ! -perm -g+r)" ] && ok "shared: every pushed file is group-readable"

# core.autocrlf=true converts on checkout
git clone -q -c core.autocrlf=true r.git c && up crlf && git -C c pull -q --ff-only && grep -q "$(printf 'crlf\r')" c/f &&
	ok "autocrlf: the pulled file has CRLF line ends"

# git's repository variables redirect git itself: a writeback must not inherit them
git clone -q r.git o && (cd b && git pull -q --ff-only && echo e >> f && GIT_DIR="$d/o/.git" git commit -qam env)
[ "$(git -C o log -1 --format=%s)" = env ] && [ "$(git -C b log -1 --format=%s)" != env ] &&
	ok "environment: GIT_DIR sends git's commit to another repository (git rev-parse --local-env-vars lists it)"
[ "$(git -C o log -1 --format=%s)" = env ] || exit 1
[ "$n" -eq 11 ] || { echo "only $n of 11 setups behaved as expected"; exit 1; }
echo "git handles every setup of the fidelity matrix"
