#!/usr/bin/python3
"""Soak finding (bench/soak.sh, issue 22): a fetch killed while libgit2 downloads or
indexes the pack leaves libgit2's temporaries in the clone's objects/pack for good:
the temporary pack `pack_git2_*` and, during the index write, `pack_git2_*idx.lock`.
No later tick removes them (the fetch child journals nothing).

usage: bench/repro/fetch-temporaries.py [BUILD_DIR]   env: KILL=child (default) | run
exit 1 when the leftovers are still there after two more ticks (the finding), 0 if not.
"""
import os, shutil, signal, subprocess, sys, tempfile, time

here = os.path.dirname(os.path.abspath(__file__))
PS = os.path.join(os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else f"{here}/../../build"), "pushseal")
T = tempfile.mkdtemp(prefix="pushseal-repro.")
try:
    env = dict(os.environ, HOME=T, GIT_CONFIG_NOSYSTEM="1", PUSHSEAL_DEADLINE_S="60")
    def sh(c): subprocess.run(c, shell=True, check=True, cwd=T, env=env)
    sh("git config --global user.name B && git config --global user.email b@x && git config --global init.defaultBranch main")
    sh("git init -q --bare r.git && git clone -q r.git c 2>/dev/null && cd c && echo a >f && git add f && "
       "git commit -qm i && git push -q -u origin main")
    # one commit of 150 000 small files lands on the remote: a pack whose index takes a while to write
    with open(f"{T}/stream", "w") as f:
        f.write("commit refs/heads/main\ncommitter B <b@x> 1 +0000\ndata 4\nbig\nfrom refs/heads/main^0\n")
        for i in range(150000):
            f.write(f"M 644 inline d/{i}\ndata {len(str(i)) + 1}\n{i}\n")
    sh("git -C r.git fast-import --quiet < stream")
    run = subprocess.Popen([PS, "remote-ahead", f"{T}/c"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pack, t0 = f"{T}/c/.git/objects/pack", time.monotonic()
    while time.monotonic() - t0 < 60 and run.poll() is None:   # wait for libgit2's idx lock
        if any(x.endswith(".lock") for x in os.listdir(pack)):
            break
    kids = open(f"/proc/{run.pid}/task/{run.pid}/children").read().split() if run.poll() is None else []
    if os.environ.get("KILL", "child") == "child" and kids:
        os.kill(int(kids[0]), signal.SIGKILL)
        what = "its network child"
    else:
        run.kill()
        what = "the run"
    run.wait()
    print(f"kill -9 of {what} after {time.monotonic() - t0:.2f} s: {sorted(os.listdir(pack))}")
    time.sleep(1)
    for args in (["run", "--remote"], ["run", "--remote", "--check", "false", "--writeback", "echo x>>f && git commit -qam w"]):
        subprocess.run([PS, *args, f"{T}/c"], env=env, stdout=subprocess.DEVNULL, check=False)
    left = sorted(x for x in os.listdir(pack) if "_git2_" in x)
    print(f"after two ticks: {sorted(os.listdir(pack))}")
    print("FINDING: left for good: %s" % left if left else "nothing left")
    sys.exit(1 if left else 0)
finally:
    shutil.rmtree(T)
