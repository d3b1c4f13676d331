#!/usr/bin/python3
"""The crash-recovery soak of issue 22 (bench/soak.sh is the entry point).

Bots tick `pushseal run --remote --check false --writeback WB CLONE` in a loop
while "people" do `git pull --rebase && commit && git push`; a chaos thread
kill -9's random in-flight pushseal runs (sometimes their process group),
takes the loopback git daemon away for a few seconds and flips a refusing
pre-receive hook on the remote it serves.  Then chaos stops, quiet ticks
converge, and the invariants are checked (bench/README.md, "Soak").

Standard library only.  Everything lives in one mktemp -d directory that is
removed at exit, with every process this script started.
"""
import argparse, json, os, random, shutil, signal, socket, subprocess, sys, tempfile, threading, time

DEADLINE_S = 3                       # PUSHSEAL_DEADLINE_S for every run
RUN_LIMIT_S = 3 * DEADLINE_S + 3     # fetch + C-17 push + seal push, + 3 s margin: beyond it, a hang
WB_COMMITS = 1                       # commits one writeback makes
BACKLOG_BOUND = WB_COMMITS + 1       # one run's worth, +1 while the previous one's seal is in flight
REBASE_P = 0.3                       # share of chaos-phase ticks run with --on-diverge=rebase
QUIET_ROUNDS = 5

live = {}                            # pid -> Popen of every process group we started and not reaped
live_lock = threading.Lock()


def spawn(args, **kw):
    """Popen in a new session (pgid == pid), registered for cleanup."""
    p = subprocess.Popen(args, start_new_session=True, **kw)
    with live_lock:
        live[p.pid] = p
    return p


def reap(p, timeout):
    """communicate() with a time limit; on expiry kill the group. -> (out, err, hung)"""
    hung = False
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        hung = True
        killpg(p)
        out, err = p.communicate()
    with live_lock:
        live.pop(p.pid, None)
    return out or "", err or "", hung


def killpg(p, sig=signal.SIGKILL):
    if p.poll() is None:
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass


def sh(args, cwd=None, timeout=30, check=True):
    p = spawn(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err, hung = reap(p, timeout)
    if check and (hung or p.returncode != 0):
        raise RuntimeError(f"{' '.join(args)}: rc={p.returncode} hung={hung}: {err.strip()}")
    return p.returncode, out


def git(*args, **kw):
    return sh(["git", *args], **kw)


class Soak:
    def __init__(self, o, seed, build):
        self.o, self.seed = o, seed
        self.ps = os.path.join(build, "pushseal")
        self.w = tempfile.mkdtemp(prefix="pushseal-soak.")
        self.stop = threading.Event()
        self.mu = threading.Lock()
        self.n = dict(ticks=0, sealed=0, clean=0, c16=0, c17=0, locked=0, killed=0, failed=0,
                      kills=0, group_kills=0, child_kills=0, outages=0, hook_flips=0, person_commits=0,
                      person_pushes=0, person_push_failed=0, samples=0, sample_errors=0,
                      div_person=0, div_bot=0, hangs=0)
        self.max_backlog, self.over_bound, self.max_run = 0, [], 0.0
        self.why = {}                                  # "outcome/error class" -> count
        self.hang_cmds, self.running = [], {}          # running: pid -> Popen of in-flight pushseal runs
        self.daemon, self.daemons, self.hook_on = None, [], False
        self.log = os.path.join(self.w, "commits.log")

    # ---- setup -------------------------------------------------------------
    def setup(self):
        w, o = self.w, self.o
        env = os.environ
        for k in list(env):
            if k.startswith("GIT_") or k.startswith("PUSHSEAL_"):
                del env[k]
        env.update(HOME=f"{w}/home", GIT_CONFIG_NOSYSTEM="1", LANG="C", TZ="UTC",
                   GIT_TERMINAL_PROMPT="0", PUSHSEAL_DEADLINE_S=str(DEADLINE_S))
        os.makedirs(env["HOME"])
        for k, v in (("user.name", "Soak"), ("user.email", "soak@soak.invalid"),
                     ("init.defaultBranch", "main"), ("advice.detachedHead", "false")):
            git("config", "--global", k, v)
        self.port = free_port()
        self.remotes = [f"{w}/remotes/r{k}.git" for k in range(o.remotes)]
        # remote 0 is served over git:// (outages, hook flips); the others are local paths
        self.urls = [f"git://127.0.0.1:{self.port}/r0.git"] + self.remotes[1:]
        seedc = f"{w}/seed"
        git("init", "-q", seedc)
        for i in range(o.bots):
            open(f"{seedc}/bot-{i}.txt", "w").write("bot %d\n" % i)
        for k in range(o.remotes):
            open(f"{seedc}/person-{k}.txt", "w").write("person %d\n" % k)
        git("add", ".", cwd=seedc)
        git("commit", "-qm", "seed", cwd=seedc)
        for r in self.remotes:
            git("init", "-q", "--bare", r)
            for f in os.listdir(f"{r}/hooks"):          # no hook at all on the local-path remotes
                os.unlink(f"{r}/hooks/{f}")
            git("push", "-q", r, "main", cwd=seedc)
        self.start_daemon()
        self.bots = []
        for i in range(o.bots):
            k = i % o.remotes
            c = f"{w}/bot-{i}"
            git("clone", "-q", self.urls[k], c)
            git("config", "user.name", f"bot-{i}", cwd=c)
            git("config", "user.email", f"bot-{i}@soak.invalid", cwd=c)
            hook = f"{c}/.git/hooks/post-commit"           # records every commit the writeback makes
            open(hook, "w").write(f'#!/bin/sh\necho "bot-{i} $(git rev-parse HEAD)" >>"{self.log}"\n')
            os.chmod(hook, 0o755)
            self.bots.append(dict(i=i, k=k, clone=c, max_backlog=0))
        self.people = []
        for k in range(o.remotes):
            c = f"{w}/person-{k}"
            git("clone", "-q", self.urls[k], c)
            git("config", "user.name", f"person-{k}", cwd=c)
            git("config", "user.email", f"person-{k}@soak.invalid", cwd=c)
            self.people.append(dict(k=k, clone=c))

    def start_daemon(self):
        d = f"{self.w}/remotes"
        self.daemon = spawn([os.path.join(git("--exec-path")[1].strip(), "git-daemon"),
                             "--export-all", "--enable=receive-pack", f"--base-path={d}",
                             "--listen=127.0.0.1", f"--port={self.port}", "--reuseaddr",
                             "--timeout=10", "--init-timeout=5", d],
                            stdout=subprocess.DEVNULL, stderr=open(f"{self.w}/daemon.log", "a"))
        self.daemons.append(self.daemon)
        for _ in range(50):
            if git("ls-remote", self.urls[0], check=False, timeout=5)[0] == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("git daemon did not answer")

    def stop_daemon(self):   # an outage: the server goes away; in-flight connections end by themselves
        self.daemon.send_signal(signal.SIGTERM)
        self.daemon.wait()
        with live_lock:
            live.pop(self.daemon.pid, None)
        self.daemon = None

    def set_hook(self, on):
        h = f"{self.remotes[0]}/hooks/pre-receive"
        if on:
            open(h + ".new", "w").write("#!/bin/sh\necho 'soak: refused by the pre-receive hook' >&2\nexit 1\n")
            os.chmod(h + ".new", 0o755)
            os.rename(h + ".new", h)
        else:
            os.unlink(h)
        self.hook_on = on

    # ---- the actors ----------------------------------------------------------
    def tick(self, b, rebase, writeback=True):
        """One `pushseal run --remote` on a bot clone. -> parsed JSON report or None"""
        wb = (f'printf "bot-{b["i"]} %s\\n" "$(date +%s.%N)" >>bot-{b["i"]}.txt && '
              f'git commit -qam "soak bot-{b["i"]}"')
        args = [self.ps, "run", "--remote", "--command-deadline", "10"]
        if writeback:
            args += ["--check", "false", "--writeback", wb]
        if rebase:
            args.append("--on-diverge=rebase")
        args.append(b["clone"])
        t0 = time.monotonic()
        p = spawn(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        with self.mu:
            self.running[p.pid] = p
        out, err, hung = reap(p, RUN_LIMIT_S)
        dt = time.monotonic() - t0
        with self.mu:
            self.running.pop(p.pid, None)
            self.n["ticks"] += 1
            self.max_run = max(self.max_run, dt)
            if hung:
                self.n["hangs"] += 1
                self.hang_cmds.append(f"{' '.join(args)} ({dt:.1f} s)")
        if p.returncode == -signal.SIGKILL and not hung:
            self.count("killed")
            return None
        try:
            rep = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            self.count("failed")
            return None
        what = rep.get("skipped") or ("sealed" if rep.get("sealed") else "failed")
        err = rep.get("error") or {}
        if err.get("class") == "locked":
            what = "locked"
        self.count(what if what in self.n else "failed")
        if err:
            key = f"{what}/{err.get('class')}"
            with self.mu:
                self.why[key] = self.why.get(key, 0) + 1
        if what == "c16" and err.get("class") == "diverged" and not rebase:
            authors = git("log", "--format=%ae", "HEAD..@{u}", cwd=b["clone"], check=False)[1].split()
            self.count("div_person" if any(a.startswith("person-") for a in authors) else "div_bot")
            rep["diverged_by"] = "person" if any(a.startswith("person-") for a in authors) else "bot"
        return rep

    def count(self, k, d=1):
        with self.mu:
            self.n[k] += d

    def bot_loop(self, b):
        rng = random.Random(f"{self.seed}-bot-{b['i']}")
        while not self.stop.is_set():
            self.tick(b, rng.random() < REBASE_P)
            self.stop.wait(rng.uniform(0.05, 0.5))

    def person_round(self, pr, final=False):
        """git pull --rebase && commit && git push; a rejected push is retried twice after
        another pull --rebase, as a person would.  -> True when nothing is left unpushed"""
        for attempt in range(3):
            if not self.pull_commit_push(pr, commit=not final and attempt == 0):
                continue
            return True
        return False

    def pull_commit_push(self, pr, commit):
        c = pr["clone"]
        rc, _ = git("pull", "--rebase", "-q", cwd=c, check=False, timeout=20)
        if rc != 0:
            if os.path.isdir(f"{c}/.git/rebase-merge") or os.path.isdir(f"{c}/.git/rebase-apply"):
                git("rebase", "--abort", cwd=c, check=False)
            return False
        if commit:
            with open(f"{c}/person-{pr['k']}.txt", "a") as f:
                f.write("person-%d %.9f\n" % (pr["k"], time.time()))
            git("commit", "-qam", f"soak person-{pr['k']}", cwd=c)
            head = git("rev-parse", "HEAD", cwd=c)[1].strip()
            with open(self.log, "a") as f:
                f.write(f"person-{pr['k']} {head}\n")
            self.count("person_commits")
        if git("rev-list", "--count", "@{u}..HEAD", cwd=c)[1].strip() == "0":
            return True
        ok = git("push", "-q", cwd=c, check=False, timeout=20)[0] == 0
        self.count("person_pushes" if ok else "person_push_failed")
        return ok

    def person_loop(self, pr):
        rng = random.Random(f"{self.seed}-person-{pr['k']}")
        while not self.stop.wait(rng.uniform(0.5, 2.5)):
            self.person_round(pr)

    def sampler(self):
        while not self.stop.wait(0.15):
            for b in self.bots:
                rc, out = sh([self.ps, "local-ahead", b["clone"]], timeout=5, check=False)
                if rc != 0 or not out.strip().isdigit():
                    self.count("sample_errors")
                    continue
                v = int(out)
                with self.mu:
                    self.n["samples"] += 1
                    b["max_backlog"] = max(b["max_backlog"], v)
                    self.max_backlog = max(self.max_backlog, v)
                    if v > BACKLOG_BOUND:
                        self.over_bound.append(f"bot-{b['i']}={v} at {time.monotonic() - self.t0:.1f} s")

    def chaos(self, end):
        rng = random.Random(f"{self.seed}-chaos")
        up_at = hook_off_at = 0.0
        next_outage = next_hook = time.monotonic() + 2
        while time.monotonic() < end:
            time.sleep(rng.uniform(0.05, 0.4))
            now = time.monotonic()
            if self.daemon is None and now >= up_at:
                self.start_daemon()
                next_outage = now + rng.uniform(3, 6)
            if self.hook_on and now >= hook_off_at:
                self.set_hook(False)
                self.count("hook_flips")
                next_hook = now + rng.uniform(2, 5)
            r = rng.random()
            if r < 0.5:
                with self.mu:
                    runs = [p for p in self.running.values() if p.poll() is None]
                if runs:
                    p = rng.choice(runs)
                    x = rng.random()
                    kids = pushseal_children(p.pid) if x < 0.2 else []
                    if kids:                 # its network child (own session), alone
                        try:
                            os.kill(rng.choice(kids), signal.SIGKILL)
                            self.count("child_kills")
                        except ProcessLookupError:
                            pass
                    elif p.poll() is None:
                        if x > 0.7:          # the run's process group (not the writeback's, nor the child's session)
                            killpg(p)
                        else:
                            p.send_signal(signal.SIGKILL)
                        self.count("group_kills" if x > 0.7 else "kills")
            elif r < 0.65 and self.daemon is not None and now >= next_outage:
                self.stop_daemon()
                self.count("outages")
                up_at = now + rng.uniform(1, 4)
            elif r < 0.8 and not self.hook_on and now >= next_hook:
                self.set_hook(True)
                self.count("hook_flips")
                hook_off_at = now + rng.uniform(1, 4)
        if self.daemon is None:
            self.start_daemon()
        if self.hook_on:
            self.set_hook(False)
            self.count("hook_flips")

    # ---- the run -------------------------------------------------------------
    def run(self):
        o = self.o
        self.setup()
        self.t0 = time.monotonic()
        threads = [threading.Thread(target=self.bot_loop, args=(b,)) for b in self.bots]
        threads += [threading.Thread(target=self.person_loop, args=(p,)) for p in self.people]
        sampler = threading.Thread(target=self.sampler)
        for t in threads + [sampler]:
            t.start()
        self.chaos(self.t0 + o.seconds)
        self.stop.set()
        for t in threads:
            t.join()
        # quiet: no more kills, the daemon is up and the hook gone; people push what they hold
        tq = time.monotonic()
        for pr in self.people:
            for _ in range(5):
                if self.person_round(pr, final=True):
                    break
        rebase = set()
        self.quiet_rounds, self.div_final = 0, []
        for rnd in range(QUIET_ROUNDS):
            self.quiet_rounds = rnd + 1
            for b in self.bots:
                rep = self.tick(b, b["i"] in rebase, writeback=(rnd == 0))
                if rep and rep.get("diverged_by"):
                    self.div_final.append(f"bot-{b['i']} (by a {rep['diverged_by']})")
                    rebase.add(b["i"])
            if all(self.converged(b) for b in self.bots):
                break
        self.t_converge = time.monotonic() - tq
        self.stop.set()
        sampler.join()
        time.sleep(DEADLINE_S + 1)   # F-CHILD-1: a killed run's children are gone by deadline + 1 s
        return self.check()

    def converged(self, b):
        c, r = b["clone"], self.remotes[b["k"]]
        head = git("rev-parse", "HEAD", "@{u}", cwd=c, check=False)[1].split()
        rmain = git("--git-dir", r, "rev-parse", "main", check=False)[1].strip()
        dirty = git("status", "--porcelain", cwd=c, check=False)[1].strip()
        return len(head) == 2 and head[0] == head[1] == rmain and not dirty

    # ---- invariants ------------------------------------------------------------
    def check(self):
        res = []
        # 1. no lost commit: reachable from the remote's main, or an equal patch there
        recs = [l.split() for l in open(self.log)] if os.path.exists(self.log) else []
        on_remote, pids = {}, {}
        for k, r in enumerate(self.remotes):
            on_remote[k] = set(git("--git-dir", r, "rev-list", "main")[1].split())
            pids[k] = patch_ids(["--git-dir", r, "log", "-p", "--no-merges", "main"])
        lost, equal, reach = [], 0, 0
        for who, sha in recs:
            kind, idx = who.split("-")
            k = int(idx) % self.o.remotes if kind == "bot" else int(idx)
            if sha in on_remote[k]:
                reach += 1
                continue
            src = f"{self.w}/{who}"
            mine = patch_ids(["-C", src, "show", sha])
            if mine and mine & pids[k]:
                equal += 1
            else:
                lost.append(f"{who} {sha}")
        nb = sum(1 for w, _ in recs if w.startswith("bot-"))
        res.append(("no lost commit", not lost,
                    f"{len(recs)} recorded ({nb} bot, {len(recs) - nb} people): {reach} reachable, "
                    f"{equal} as an equal patch, {len(lost)} lost {lost[:5]}"))
        # 2. backlog bound
        res.append(("backlog <= %d" % BACKLOG_BOUND, not self.over_bound,
                    f"max {self.max_backlog} over {self.n['samples']} samples "
                    f"({self.n['sample_errors']} unreadable) {self.over_bound[:5]}"))
        # 3. no bot merge commit on a remote
        merges = []
        for r in self.remotes:
            for l in git("--git-dir", r, "log", "--merges", "--format=%H %ae", "main")[1].splitlines():
                if l.split()[1].startswith("bot-"):
                    merges.append(l)
        res.append(("no bot merge", not merges, f"{len(merges)} {merges[:3]}"))
        # 4. fsck
        repos = [b["clone"] for b in self.bots] + [p["clone"] for p in self.people] + self.remotes
        bad = []
        for r in repos:
            rc, out = git("-C", r, "fsck", "--no-progress", check=False, timeout=60)
            if rc != 0:
                bad.append(f"{os.path.basename(r)}: {out.strip()[:200]}")
        res.append(("fsck clean", not bad, f"{len(repos)} repos; {bad}"))
        # 5. no lock or private temporary left
        left, journals = [], []
        for r in repos:
            gd = r if r.endswith(".git") else f"{r}/.git"
            for dp, dns, fns in os.walk(gd):
                for f in fns + dns:
                    rel = os.path.relpath(os.path.join(dp, f), self.w)
                    path = os.path.join(dp, f)
                    # git's lock files, pushseal's private temporaries, libgit2's temporaries
                    # (a killed fetch's pack_git2_* pack and its *idx.lock are the same kind)
                    if (f.endswith(".lock") and path != f"{gd}/pushseal.lock") or \
                            f.startswith("pushseal-tmp.") or "_git2_" in f:
                        left.append(rel)
                    elif f.startswith("pushseal-journal."):
                        first = open(path, errors="replace").readline().strip()
                        journals.append(f"{rel} ({os.path.getsize(path)} bytes, first line {first!r})")
        res.append(("no lock left", not left, f"{left[:8]}; crash journals left (info): {journals[:4]}"))
        # 6. no hang
        res.append(("no hang", not self.hang_cmds,
                    f"max run {self.max_run:.2f} s, limit {RUN_LIMIT_S} s {self.hang_cmds[:3]}"))
        # 7. convergence
        notconv = [f"bot-{b['i']}" for b in self.bots if not self.converged(b)]
        res.append(("converged", not notconv,
                    f"{self.t_converge:.1f} s, {self.quiet_rounds} quiet rounds; not converged: {notconv}; "
                    f"diverged under stop in the quiet ticks (reported, rebased): {self.div_final}"))
        # 8. no process left behind (anything whose command line or cwd is in our directory)
        stray = [p for p in strays(self.w) if p != self.daemon.pid]
        res.append(("no process left", not stray, f"{stray[:5]}"))
        return res

    def report(self, res):
        n, o = self.n, self.o
        print(f"soak seed={self.seed} seconds={o.seconds} bots={o.bots} remotes={o.remotes} "
              f"(r0 over git://127.0.0.1, r1.. local paths; PUSHSEAL_DEADLINE_S={DEADLINE_S})")
        print(f"  ticks {n['ticks']}: sealed {n['sealed']}, clean {n['clean']}, c16 {n['c16']}, "
              f"c17 {n['c17']}, locked {n['locked']}, killed {n['killed']}, other failed {n['failed']}")
        print("  failures by class: " + ", ".join(f"{k} {v}" for k, v in sorted(self.why.items())))
        print(f"  chaos: kills {n['kills'] + n['group_kills'] + n['child_kills']} ({n['group_kills']} of a "
              f"run's process group, {n['child_kills']} of its network child alone), "
              f"outages {n['outages']}, hook flips {n['hook_flips']}")
        bots = sum(1 for l in open(self.log) if l.startswith("bot-")) if os.path.exists(self.log) else 0
        print(f"  commits: bots {bots}, people {n['person_commits']} (pushes {n['person_pushes']}, "
              f"refused or failed {n['person_push_failed']})")
        print(f"  diverged under stop: {n['div_person'] + n['div_bot']} reports "
              f"(remote moved by a person {n['div_person']}, by another bot {n['div_bot']})")
        print(f"  max backlog {self.max_backlog} (bound {BACKLOG_BOUND}), max run {self.max_run:.2f} s, "
              f"converged in {self.t_converge:.1f} s ({self.quiet_rounds} quiet rounds)")
        for name, ok, detail in res:
            print(f"  {'PASS' if ok else 'FAIL'} {name}: {detail}")
        sys.stdout.flush()

    def cleanup(self):
        self.stop.set()
        with live_lock:
            ps = list(live.values())
        for p in ps:
            killpg(p)
        for p in self.daemons:
            killpg(p)
        for pid in strays(self.w):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.o.keep:
            print(f"soak: kept {self.w}", file=sys.stderr)
        else:
            shutil.rmtree(self.w, ignore_errors=True)


def patch_ids(gitargs):
    p1 = subprocess.Popen(["git", *gitargs], stdout=subprocess.PIPE)
    out = subprocess.run(["git", "patch-id", "--stable"], stdin=p1.stdout, capture_output=True,
                         text=True, timeout=60).stdout
    p1.wait()
    return {l.split()[0] for l in out.splitlines()}


def pushseal_children(pid):
    try:
        kids = open(f"/proc/{pid}/task/{pid}/children").read().split()
        return [int(k) for k in kids if open(f"/proc/{k}/comm").read().strip() == "pushseal"]
    except OSError:
        return []


def strays(w):
    """Our processes whose command line or working directory lies in W (unique to this run)."""
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            if os.stat(f"/proc/{d}").st_uid != os.getuid():
                continue
            cmd = open(f"/proc/{d}/cmdline", "rb").read().decode(errors="replace")
            cwd = os.readlink(f"/proc/{d}/cwd")
        except OSError:
            continue
        if w in cmd or cwd == w or cwd.startswith(w + "/"):
            found.append(int(d))
    return found


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(prog="bench/soak.sh", description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, action="append", help="repeatable (default: 1)")
    ap.add_argument("--seconds", type=float, default=45, help="length of the chaos phase (default 45)")
    ap.add_argument("--bots", type=int, default=3)
    ap.add_argument("--remotes", type=int, default=2)
    ap.add_argument("--build", default=os.path.join(here, "..", "build"))
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    o = ap.parse_args()
    if o.bots < 1 or o.remotes < 1 or not 1 <= o.seconds <= 3600:
        ap.error("need --bots >= 1, --remotes >= 1, 1 <= --seconds <= 3600")
    build = os.path.abspath(o.build)
    if not os.access(os.path.join(build, "pushseal"), os.X_OK):
        print(f"soak: no pushseal in {build} (build first)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    failed = 0
    for seed in o.seed or [1]:
        s = Soak(o, seed, build)
        try:
            res = s.run()
            s.report(res)
            failed += sum(1 for _, ok, _ in res if not ok)
        finally:
            s.cleanup()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
