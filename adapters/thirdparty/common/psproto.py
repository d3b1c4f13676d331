"""Protocol v1 plumbing shared by the third-party adapters.

This module only speaks the protocol (docs/PROTOCOL.md): the command line,
exit codes, JSON lines, deadlines, the per-repository lock and the sealed
cycle expressed in four primitives.  It never touches git.  Each adapter
supplies a Backend over its own library:

    state(path)        -> Repo (raises Fail): an exact worktree, on a branch with an upstream
    fetch(repo)        network: update the upstream's tracking ref (run under the deadline)
    count(repo, a, b)  commits reachable from b and not from a (refs or ids)
    ff(repo)           fast-forward the branch to the tracking ref, safely
    push(repo)         network: push the branch to its upstream (run under the deadline)
    pull(repo)         optional, network: the library's own fetch + fast-forward, used
                       instead of ff() where the library has one (run under the deadline)

Written from README.md, docs/PROTOCOL.md and docs/SPEC.md alone, like any
outside implementation.
"""
import fcntl
import json
import os
import select
import signal
import subprocess
import sys
import time


class Fail(Exception):
    def __init__(self, klass, message):
        Exception.__init__(self, message)
        self.klass = klass
        self.message = message


class Repo:
    """What the cycle needs to know about one worktree."""

    def __init__(self, path, gitdir, branch, remote, merge, tracking, handle):
        self.path = path          # the worktree, as given
        self.gitdir = gitdir      # its .git directory
        self.branch = branch      # "main"
        self.remote = remote      # branch.<b>.remote
        self.merge = merge        # branch.<b>.merge, "refs/heads/main"
        self.tracking = tracking  # "refs/remotes/origin/main"
        self.handle = handle      # the library's own repository object


def deadline(kind):
    """PUSHSEAL_DEADLINE_S, or 15 s for a fetch and 30 s for a pull or push."""
    text = os.environ.get("PUSHSEAL_DEADLINE_S")
    if text:
        try:
            value = float(text)
        except ValueError:
            value = 0
        if value > 0:
            return value
    return 15.0 if kind == "fetch" else 30.0


def under_deadline(seconds, what, fn, *args):
    """Run fn(*args) in a child process (its own process group) and kill it
    when the deadline passes: the libraries have no timeout of their own."""
    r, w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.setpgid(0, 0)
        # the deadline holds even if our parent is killed (SIGKILL, OOM):
        # then nobody else would ever stop this group
        signal.signal(signal.SIGALRM, lambda *_: os.killpg(0, signal.SIGKILL))
        signal.alarm(int(seconds) + 1)
        code, msg = 0, b""
        try:
            fn(*args)
        except Fail as e:
            code, msg = 1, ("%s\t%s" % (e.klass, e.message)).encode("utf-8", "replace")
        except BaseException as e:  # the library's own exception: a failure
            code, msg = 1, ("unreachable\t%s failed: %s" % (what, e)).encode("utf-8", "replace")
        os.write(w, msg[:4000])
        os._exit(code)
    os.close(w)
    end = time.monotonic() + seconds
    status = None
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() >= end:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(pid, sig)
                except ProcessLookupError:
                    pass
                time.sleep(0.05)
            os.waitpid(pid, 0)
            os.close(r)
            raise Fail("timeout", "%s timed out after %g s" % (what, seconds))
        select.select([], [], [], 0.02)
    msg = os.read(r, 4096).decode("utf-8", "replace")
    os.close(r)
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        return
    klass, _, text = msg.partition("\t")
    raise Fail(klass or "internal", text or "%s failed" % what)


def one_line(text):
    """pull-ff and push-ff print exactly one line, whatever a path holds."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


def sh(cmd, cwd):
    """CMD as `sh -c CMD` in the worktree, its stdout kept off ours."""
    return subprocess.call(["sh", "-c", cmd], cwd=cwd, stdin=subprocess.DEVNULL, stdout=sys.stderr.fileno())


class Lock:
    """Runs on one repository are serialised: an flock on our own file under
    .git (git ignores it)."""

    def __init__(self, gitdir, name):
        self.fd = os.open(os.path.join(gitdir, name), os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def release(self):
        os.close(self.fd)


class Protocol:
    def __init__(self, name, backend):
        self.name = name
        self.be = backend

    # ---- the primitives -------------------------------------------------------

    def count(self, repo, a, b):
        try:
            return self.be.count(repo, a, b)
        except Fail:
            raise
        except Exception as e:  # the library's own error
            raise Fail("internal", "counting %s..%s failed: %s" % (a, b, e))

    def ff(self, repo):
        if hasattr(self.be, "pull"):
            return under_deadline(deadline("pull"), "pull", self.be.pull, repo)
        return self.be.ff(repo)

    def pull_ff(self, path):
        repo = self.be.state(path)
        under_deadline(deadline("pull"), "fetch", self.be.fetch, repo)
        return self.ff(repo)

    def push_ff(self, path):
        repo = self.be.state(path)
        under_deadline(deadline("push"), "push", self.be.push, repo)

    def remote_ahead(self, path):
        try:
            repo = self.be.state(path)
        except Fail:
            return 0
        try:
            under_deadline(deadline("fetch"), "fetch", self.be.fetch, repo)
        except Fail as e:
            print("%s: %s (counting against the last fetch)" % (self.name, e.message), file=sys.stderr)
        try:
            return self.be.count(repo, "HEAD", repo.tracking)
        except Exception as e:
            print("%s: %s" % (self.name, e), file=sys.stderr)
            return 0

    def local_ahead(self, path):
        try:
            repo = self.be.state(path)
            return self.be.count(repo, repo.tracking, "HEAD")
        except Exception as e:
            print("%s: %s" % (self.name, e), file=sys.stderr)
            return 0

    # ---- the sealed cycle ------------------------------------------------------

    def cycle(self, path, writeback, out):
        """One sealed cycle under the repository's lock; fills out; True when sealed."""
        try:
            repo = self.be.state(path)
        except Fail as e:
            out.update(skipped="c16", error={"class": e.klass, "message": e.message})
            return False
        lock = Lock(repo.gitdir, "pushseal-%s.lock" % self.name)
        try:
            return self.locked_cycle(self.be.state(path), writeback, out)
        finally:
            lock.release()

    def locked_cycle(self, repo, writeback, out):
        # C-16: fetch and count; when behind, fast-forward first
        try:
            under_deadline(deadline("fetch"), "fetch", self.be.fetch, repo)
            if self.count(repo, "HEAD", repo.tracking) > 0:
                self.ff(repo)
        except Fail as e:
            out.update(skipped="c16", error={"class": e.klass, "message": e.message})
            return False
        # C-17: push an unpushed backlog first
        try:
            backlog = self.count(repo, repo.tracking, "HEAD")
        except Fail as e:
            out.update(skipped="c17", error={"class": e.klass, "message": e.message})
            return False
        if backlog > 0:
            try:
                under_deadline(deadline("push"), "push", self.be.push, repo)
            except Fail as e:
                out.update(skipped="c17", error={"class": e.klass, "message": e.message})
                return False
        # the writeback, then T04: push unconditionally
        if writeback is not None:
            out["wrote"] = True
            if sh(writeback, repo.path) != 0:
                out["writeback_failed"] = True
        try:
            under_deadline(deadline("push"), "push", self.be.push, repo)
            out["sealed"] = True
        except Fail as e:
            out["error"] = {"class": e.klass, "message": e.message}
        return out["sealed"] and not out.get("writeback_failed")

    def fix(self, path, writeback):
        out = {"repo": path, "skipped": None, "wrote": False, "sealed": False}
        ok = self.cycle(path, writeback, out)
        print(json.dumps(out), flush=True)
        return 0 if ok else 1

    def run(self, repos, remote, check, writeback):
        code = 0
        for path in repos:
            out = {"repo": path, "skipped": None, "wrote": False, "sealed": False}
            if not self.tick_one(path, remote, check, writeback, out):
                code = 1
            print(json.dumps(out), flush=True)
        return code

    def tick_one(self, path, remote, check, writeback, out):
        """One repo of a tick, all of it under the repository's lock."""
        try:
            repo = self.be.state(path)
        except Fail as e:
            out.update(skipped="c16", error={"class": e.klass, "message": e.message})
            return False
        lock = Lock(repo.gitdir, "pushseal-%s.lock" % self.name)
        try:
            repo = self.be.state(path)  # as it is now that we hold the lock
            if remote:
                under_deadline(deadline("fetch"), "fetch", self.be.fetch, repo)
                if self.count(repo, "HEAD", repo.tracking) > 0:
                    self.ff(repo)
            backlog = self.count(repo, repo.tracking, "HEAD")
            if backlog == 0 and (check is None or sh(check, repo.path) == 0):
                out["skipped"] = "clean"
                return True
            return self.locked_cycle(repo, writeback, out)
        except Fail as e:
            out.update(skipped="c16", error={"class": e.klass, "message": e.message})
            return False
        finally:
            lock.release()

    # ---- the command line -------------------------------------------------------

    def usage(self, msg):
        print("%s: %s\nusage: %s pull-ff|push-ff|remote-ahead|local-ahead REPO | fix REPO [--writeback CMD]"
              " | run [--remote] [--check CMD] [--writeback CMD] REPO..." % (self.name, msg, self.name),
              file=sys.stderr)
        return 2

    def main(self, argv):
        if not argv:
            return self.usage("no command")
        cmd, args = argv[0], argv[1:]
        if cmd in ("pull-ff", "push-ff", "remote-ahead", "local-ahead"):
            if len(args) != 1:
                return self.usage("%s takes exactly one REPO" % cmd)
            path = args[0]
            if cmd in ("remote-ahead", "local-ahead"):
                n = self.remote_ahead(path) if cmd == "remote-ahead" else self.local_ahead(path)
                print(n, flush=True)
                return 0
            try:
                moved = (self.pull_ff if cmd == "pull-ff" else self.push_ff)(path)
                print("%s: %s" % (cmd, "done" if moved is not False else "already up to date"), flush=True)
                return 0
            except Fail as e:
                print(one_line("%s failed (%s): %s" % (cmd, e.klass, e.message)), flush=True)
                return 1
            except Exception as e:  # the library's own error
                print(one_line("%s failed: %s" % (cmd, e)), flush=True)
                return 1
        if cmd in ("fix", "run"):
            opts = {"--writeback": None, "--check": None}
            remote, repos = False, []
            i = 0
            while i < len(args):
                a = args[i]
                if a in opts and (cmd == "run" or a == "--writeback"):
                    if i + 1 >= len(args):
                        return self.usage("%s needs a value" % a)
                    opts[a] = args[i + 1]
                    i += 2
                    continue
                if a == "--remote" and cmd == "run":
                    remote = True
                elif a.startswith("-"):
                    return self.usage("unknown option %s" % a)
                else:
                    repos.append(a)
                i += 1
            if cmd == "fix":
                if len(repos) != 1:
                    return self.usage("fix takes exactly one REPO")
                return self.fix(repos[0], opts["--writeback"])
            if not repos:
                return self.usage("run needs at least one REPO")
            return self.run(repos, remote, opts["--check"], opts["--writeback"])
        return self.usage("unknown command %s" % cmd)
