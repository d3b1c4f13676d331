/*
 * F-*: faults.  Crashes at each step of the cycle (F-CRASH), repositories in
 * the middle of another git operation (F-STATE), hostile paths (F-PATH),
 * credentials in remote URLs (F-REDACT) and concurrent ticks (F-CONC).
 *
 * Kill points are chosen from outside, so they work against any protocol v1
 * command: the process running the cycle leads its own process group, and
 * the test watches the repositories (and the process's children in /proc),
 * freezes the whole group with SIGSTOP the moment the step is seen, records
 * where it stopped, then SIGKILLs the group.  A row whose step was not caught
 * in a run (the step was too quick) still checks every invariant; the hit
 * count is printed.
 */
#define _GNU_SOURCE
#include "harness.h"
#include "pushseal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- small helpers ------------------------------------------------------------ */


static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

static int marker_runs(ps_ctx *ctx, const char *rel)
{
	return count_lines(or_file(ctx, rel));
}

static long merges(ps_ctx *ctx, const char *dir, const char *rev)
{
	const char *out;
	if (or_git(ctx, &out, dir, "rev-list", "--merges", "--count", rev, NULL) != 0)
		fail_msg("oracle: rev-list --merges failed in %s", dir);
	return strtol(out, NULL, 10);
}


static void assert_fsck_clean(ps_ctx *ctx, const char *dir)
{
	const char *out, *err;
	const char *argv[] = { "git", "-C", ps_path(ctx, dir), "fsck", "--no-progress", "--no-dangling", NULL };
	int rc = ps_spawn(ctx, NULL, argv, &out, &err);
	if (rc != 0 || strstr(err, "error") || strstr(out, "error"))
		fail_msg("git fsck in %s exited %d: %s%s", dir, rc, out, err);
}

static void assert_no_locks(ps_ctx *ctx, const char *gitdir)
{
	const char *lock = or_git_lock(ctx, gitdir);
	if (lock)
		fail_msg("a stale lock of git's is left under %s: %s", gitdir, lock);
}

/* Number of directory entries (0 when it does not exist). */
static int dir_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;
	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

/* Objects and packs in a repository's object store, by directory entries. */
static int object_entries(ps_ctx *ctx, const char *gitdir)
{
	const char *objects = ps_path(ctx, ps_fmt(ctx, "%s/objects", gitdir));
	char path[4096];
	int n = 0;
	DIR *d = opendir(objects);
	struct dirent *e;
	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", objects, e->d_name);
		n += 1 + dir_entries(path);
	}
	closedir(d);
	return n;
}

/* One field of /proc/PID/stat: the state letter, or the parent pid. */
static int proc_stat(pid_t pid, char *state, pid_t *ppid)
{
	char path[64], buf[1024], *p;
	int fd, n;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY)) < 0)
		return -1;
	n = (int)read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (!(p = strrchr(buf, ')')))
		return -1;
	if (state)
		*state = p[2];
	if (ppid)
		*ppid = (pid_t)strtol(p + 4, NULL, 10);
	return 0;
}

/* The first child of `parent` found in /proc, or 0. */
static pid_t child_of(pid_t parent)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;
	if (!d)
		return 0;
	while (!found && (e = readdir(d)) != NULL) {
		pid_t pid, ppid;
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		pid = (pid_t)strtol(e->d_name, NULL, 10);
		if (proc_stat(pid, NULL, &ppid) == 0 && ppid == parent)
			found = pid;
	}
	closedir(d);
	return found;
}

/* Freeze the whole group and wait until its leader is really stopped. */
static void freeze(pid_t leader)
{
	kill(-leader, SIGSTOP);
	for (int i = 0; i < 500; i++) {
		char st = 0;
		if (proc_stat(leader, &st, NULL) != 0 || st == 'T' || st == 't' || st == 'Z')
			return;
		sleep_ms(2);
	}
}

static int reap(pid_t pid)
{
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

/* Is any process of the group `pgid` still alive (zombies aside)? */
/* Visit the live members of process group pgid (all when `all`, else until
 * one is found); with `resume`, send SIGCONT to each member but the leader.
 * Returns whether any member is alive. */
static int group_scan(pid_t pgid, int resume)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int alive = 0;
	if (!d)
		return 0;
	while ((resume || !alive) && (e = readdir(d)) != NULL) {
		char path[300], buf[1024], *p;
		int fd, n;
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if ((fd = open(path, O_RDONLY)) < 0)
			continue;
		n = (int)read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		if (!(p = strrchr(buf, ')')) || p[2] == 'Z')
			continue;
		strtol(p + 4, &p, 10);                  /* ppid */
		if ((pid_t)strtol(p, NULL, 10) == pgid) {  /* pgrp */
			pid_t pid = (pid_t)strtol(e->d_name, NULL, 10);
			alive = 1;
			if (resume && pid != pgid)
				kill(pid, SIGCONT);
		}
	}
	closedir(d);
	return alive;
}

static int group_alive(pid_t pgid)
{
	return group_scan(pgid, 0);
}

/* SIGKILL the process running the cycle (group != 0: its whole process
 * group), let the survivors of a frozen group go on, and wait (bounded)
 * until every process the cycle started has ended. */
static void kill_cycle(pid_t leader, int group)
{
	/* Resume the other members first: when the stopped leader dies, POSIX
	 * sends SIGHUP to the stopped members of the orphaned group, which would
	 * kill the writeback's own git in the middle of its commit -- a fault of
	 * the test's freezing, not one a real crash of pushseal produces. */
	if (!group)
		group_scan(leader, 1);
	kill(group ? -leader : leader, SIGKILL);
	kill(-leader, SIGCONT);
	reap(leader);
	for (int i = 0; i < 15000 && group_alive(leader); i++)
		sleep_ms(2);
	kill(-leader, SIGKILL);
}

/* ---- in-process calls with options the driver does not expose ---------------- */

static int sh_in(const char *repo, void *payload)
{
	int status;
	pid_t pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 1);
		if (chdir(repo) != 0)
			_exit(126);
		execl("/bin/sh", "sh", "-c", (const char *)payload, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return 1;
	return !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A tick of one repo through the library, with a check and a writeback. */
static int lib_tick(pushseal_report *rep, const char *repo, int remote, const char *check,
	const char *wb, int on_diverge)
{
	pushseal_tick_options o = PUSHSEAL_TICK_OPTIONS_INIT;
	o.remote = remote;
	o.cycle.on_diverge = on_diverge;
	if (check) {
		o.check = sh_in;
		o.check_payload = (void *)check;
	}
	if (wb) {
		o.cycle.writeback = sh_in;
		o.cycle.writeback_payload = (void *)wb;
	}
	return pushseal_tick_repo(rep, repo, &o);
}

static int lib_fix(pushseal_report *rep, const char *repo, const char *wb)
{
	pushseal_cycle_options o = PUSHSEAL_CYCLE_OPTIONS_INIT;
	if (wb) {
		o.writeback = sh_in;
		o.writeback_payload = (void *)wb;
	}
	return pushseal_cycle_run(rep, repo, &o);
}

/* ---- a process that runs the cycle, in its own process group ----------------- */

/* Start `fix REPO --writeback WB` (run=0) or `run --remote REPO
 * --check false --writeback WB` (run=1), in-process in a forked child or as
 * the protocol command.  Its output goes to /dev/null. */
static pid_t start_cycle(ps_ctx *ctx, const char *repo, const char *wb, int run)
{
	pid_t pid;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);
		setpgid(0, 0);
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		if (chdir(ctx->root) != 0)
			_exit(126);
		if (drv_is_exec()) {
			const char *self = "eval \"exec $PUSHSEAL_IMPL \\\"\\$@\\\"\"";
			if (run)
				execl("/bin/sh", "sh", "-c", self, "pushseal-impl", "run", "--remote", "--check", "false",
					"--writeback", wb, repo, (char *)NULL);
			else
				execl("/bin/sh", "sh", "-c", self, "pushseal-impl", "fix", repo, "--writeback", wb, (char *)NULL);
			_exit(127);
		} else {
			pushseal_report rep;
			int rc = run ? lib_tick(&rep, repo, 1, "false", wb, PUSHSEAL_DIVERGE_STOP) : lib_fix(&rep, repo, wb);
			_exit(rc == 0 && rep.sealed ? 0 : 1);
		}
	}
	setpgid(pid, pid);
	return pid;
}

/* ---- F-CRASH ---------------------------------------------------------------------- */

typedef enum crash_point {
	AFTER_FETCH,      /* the fetch's worker has finished; nothing after it ran */
	DURING_CHECKOUT,  /* the pull has written some of the upstream's files */
	AFTER_COMMIT,     /* the writeback committed, then killed its parent */
	DURING_PUSH,      /* the seal push has begun writing into the remote */
	AT_RANDOM,        /* a seeded random delay into the cycle */
} crash_point;

typedef struct crash_row {
	const char *name;
	crash_point point;
	int runs;
} crash_row;

#define BIG_FILES 3000

/* The scenario every row starts from, under prefix P/: remote.git with 2
 * commits, clone local, and then per point:
 *  - fetch/checkout: the remote gained BIG_FILES files (a slow checkout);
 *  - random: the remote gained one commit (pull, writeback, seal);
 *  - commit/push: nothing upstream, the writeback commits. */
static void crash_setup(ps_ctx *ctx, const char *p, crash_point point)
{
	fx_bare(ctx, ps_fmt(ctx, "%s/remote.git", p), 2);
	fx_clone(ctx, ps_fmt(ctx, "%s/remote.git", p), ps_fmt(ctx, "%s/local", p));
	if (point == AT_RANDOM)
		fx_behind(ctx, ps_fmt(ctx, "%s/remote.git", p), 1);
	if (point == AFTER_FETCH || point == DURING_CHECKOUT) {
		const char *cmd = ps_fmt(ctx,
			"set -e; cd '%s/%s' && git clone -q remote.git helper && cd helper && mkdir big && "
			"i=0; while [ $i -lt %d ]; do echo \"file $i\" > big/f$i; i=$((i+1)); done; "
			"git add big && git commit -qm 'human: big' && git push -q origin main",
			ctx->root, p, BIG_FILES);
		if (system(cmd) != 0)
			fail_msg("fixture: cannot build the big upstream commit");
	}
}

static const char *crash_writeback(ps_ctx *ctx, const char *p, crash_point point)
{
	const char *common = ps_fmt(ctx,
		"echo run >> '%s/%s/marker' && echo bot >> data.txt && git add data.txt && git commit -qm 'bot: data' && "
		"git rev-parse HEAD >> '%s/%s/commits'", ctx->root, p, ctx->root, p);
	if (point == AFTER_COMMIT)
		return ps_fmt(ctx, "%s && kill -9 $PPID", common);
	if (point == DURING_PUSH)
		return ps_fmt(ctx, "head -c 3000000 /dev/urandom > blob.bin && git add blob.bin && %s", common);
	return common;
}

/* Wait (bounded) for the step, freeze the group and tell whether it was hit. */
static int crash_hit(ps_ctx *ctx, const char *p, crash_point point, pid_t leader,
	const char *old_head, int objects_before, long delay_ms)
{
	long long end = ps_mono_ms() + 60000;
	char local[1100], remote[1100];
	snprintf(local, sizeof(local), "%s/local", p);
	snprintf(remote, sizeof(remote), "%s/remote.git", p);

	switch (point) {
	case AFTER_COMMIT:
		return WIFSIGNALED(reap(leader)) ? 1 : 0;
	case AT_RANDOM:
		sleep_ms(delay_ms);
		freeze(leader);
		return 1;
	case AFTER_FETCH:
		/* the first child of the cycle's process is its fetch: freeze the
		 * process while the child runs, then let the child finish alone */
		for (;;) {
			pid_t child = child_of(leader);
			char st = 0;
			if (child) {
				kill(leader, SIGSTOP);
				freeze(leader);
				kill(child, SIGCONT);
				while (ps_mono_ms() < end && proc_stat(child, &st, NULL) == 0 && st != 'Z')
					sleep_ms(1);
				/* hit: the fetch's transfer landed (the remote's tip is
				 * here, whether or not a tracking ref moved yet) and the
				 * branch did not move */
				return strcmp(or_rev(ctx, local, "HEAD").hex, old_head) == 0 &&
					*or_rev(ctx, local, or_rev(ctx, remote, "main").hex).hex;
			}
			if (ps_mono_ms() > end || proc_stat(leader, &st, NULL) != 0 || st == 'Z')
				return 0;
		}
	case DURING_CHECKOUT: {
		const char *big = ps_keep(ctx, ps_fmt(ctx, "%s/big", local));
		for (;;) {
			char st = 0;
			if (dir_entries(big) > 0) {
				int n;
				freeze(leader);
				n = dir_entries(big);
				return n > 0 && n < BIG_FILES;
			}
			if (ps_mono_ms() > end || proc_stat(leader, &st, NULL) != 0 || st == 'Z')
				return 0;
		}
	}
	case DURING_PUSH:
		for (;;) {
			char st = 0;
			if (object_entries(ctx, remote) != objects_before) {
				freeze(leader);
				return strcmp(or_rev(ctx, remote, "main").hex, old_head) == 0;
			}
			if (ps_mono_ms() > end || proc_stat(leader, &st, NULL) != 0 || st == 'Z')
				return 0;
			sleep_ms(1);
		}
	}
	return 0;
}

/* After the kill, one tick with no check must converge and lose nothing. */
static void crash_converges(ps_ctx *ctx, const char *p, const char *before_remote, const char *before_local)
{
	char local[1100], remote[1100], gitdir[1200];
	const char *repos[1];
	ps_cycle_result r[1];
	int rc;
	snprintf(local, sizeof(local), "%s/local", p);
	snprintf(remote, sizeof(remote), "%s/remote.git", p);
	snprintf(gitdir, sizeof(gitdir), "%s/local/.git", p);
	repos[0] = ps_keep(ctx, local);

	rc = drv_run(ctx, 1, NULL, NULL, repos, 1, r);
	if (rc != 0)
		fail_msg("%s: the tick after the kill exited %d: %s", p, rc, r[0].json);
	/* no lost commit: everything made before or during the killed run */
	if (!or_is_ancestor(ctx, remote, before_remote, "main"))
		fail_msg("%s: the remote lost its old tip %s", p, before_remote);
	if (!or_is_ancestor(ctx, remote, before_local, "main"))
		fail_msg("%s: the local tip %s before the kill is not on the remote", p, before_local);
	{
		char commits[4096];
		const char *c = or_file(ctx, ps_fmt(ctx, "%s/commits", p));
		snprintf(commits, sizeof(commits), "%s", c ? c : "");
		for (char *line = strtok(commits, "\n"); line; line = strtok(NULL, "\n"))
			if (!or_is_ancestor(ctx, remote, line, "main"))
				fail_msg("%s: the writeback's commit %s was lost", p, line);
	}
	/* converged: local == tracking == remote, the worktree is HEAD's tree */
	{
		ps_rev tip;
		tip = or_rev(ctx, remote, "main");
		assert_str(or_rev(ctx, local, "HEAD").hex, tip.hex);
		assert_str(or_rev(ctx, local, "origin/main").hex, tip.hex);
	}
	{
		/* a kill inside the writeback itself may leave the writeback's own
		 * half-made edit (data.txt): that is the caller's, never pushseal's */
		const char *status = or_status(ctx, local);
		if (*status && (strchr(status, '\n') || strlen(status) < 3 || strcmp(status + 3, "data.txt") != 0))
			fail_msg("%s: the worktree is neither the old tree nor the new one: %s", p, status);
	}
	assert_int_equal(merges(ctx, local, "HEAD"), 0);
	assert_fsck_clean(ctx, local);
	assert_fsck_clean(ctx, remote);
	assert_no_locks(ctx, gitdir);
	assert_no_locks(ctx, remote);
}

static unsigned int lcg(unsigned int *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) & 0x7fff;
}

static const crash_row crash_rows[] = {
	{ "after-fetch", AFTER_FETCH, 1 },
	{ "during-checkout", DURING_CHECKOUT, 1 },
	{ "after-commit", AFTER_COMMIT, 1 },
	{ "during-push", DURING_PUSH, 1 },
	{ "random", AT_RANDOM, 6 },
};

/* One row of the table: `runs` kills, each in a fresh pair under ROW-K/. */
static void crash_row_run(ps_ctx *ctx, const crash_row *row)
{
	unsigned int seed = 0xF417u;
	long span_ms = 0;
	int hits = 0;
	for (int k = 0; k < row->runs; k++) {
		char p[64];
		ps_rev before_remote;
		ps_rev before_local;
		long delay = 0;
		pid_t leader;
		int objects;
		snprintf(p, sizeof(p), "%s-%d", row->name, k);
		crash_setup(ctx, p, row->point);
		before_remote = or_rev(ctx, ps_fmt(ctx, "%s/remote.git", p), "main");
		before_local = or_rev(ctx, ps_fmt(ctx, "%s/local", p), "HEAD");
		objects = object_entries(ctx, ps_fmt(ctx, "%s/remote.git", p));
		if (row->point == AT_RANDOM) {
			if (span_ms == 0) {
				/* calibrate: how long one whole cycle takes here */
				long long t0;
				crash_setup(ctx, "calibrate", AT_RANDOM);
				t0 = ps_mono_ms();
				leader = start_cycle(ctx, ps_keep(ctx, "calibrate/local"),
					crash_writeback(ctx, "calibrate", AT_RANDOM), 0);
				reap(leader);
				span_ms = (long)(ps_mono_ms() - t0) + 1;
			}
			delay = (long)(lcg(&seed) % (unsigned int)span_ms);
		}
		leader = start_cycle(ctx, ps_keep(ctx, ps_fmt(ctx, "%s/local", p)),
			crash_writeback(ctx, p, row->point), 0);
		hits += crash_hit(ctx, p, row->point, leader, row->point == DURING_PUSH ? before_remote.hex : before_local.hex,
			objects, delay);
		/* the process running fix dies; what it started runs on, as after an
		 * OOM kill.  During the push its whole group dies, or the push (in a
		 * child process, in the reference) would simply finish. */
		kill_cycle(leader, row->point == DURING_PUSH);
		crash_converges(ctx, p, before_remote.hex, before_local.hex);
	}
	print_message("F-CRASH %s: step hit in %d of %d run(s)%s\n", row->name, hits, row->runs,
		row->point == AT_RANDOM ? ps_fmt(ctx, " (delays in [0, %ld) ms, seed 0xF417)", span_ms) : "");
}

static void crash_after_fetch(ps_ctx *ctx) { crash_row_run(ctx, &crash_rows[0]); }
/* A SIGKILL during the checkout leaves the branch ref lock, index.lock and a
 * half-written worktree; the next run's crash-journal recovery must clear
 * exactly those and complete the pull (src/journal.c). */
static void crash_during_checkout(ps_ctx *ctx) { crash_row_run(ctx, &crash_rows[1]); }
static void crash_after_commit(ps_ctx *ctx) { crash_row_run(ctx, &crash_rows[2]); }
/* Killed while the push holds the REMOTE's ref lock (for a path remote the
 * client does the server's work): the next push must clear that lock. */
static void crash_during_push(ps_ctx *ctx) { crash_row_run(ctx, &crash_rows[3]); }
/* Killed at seeded random points of a whole cycle (any of the above). */
static void crash_at_random(ps_ctx *ctx) { crash_row_run(ctx, &crash_rows[4]); }

/* ---- F-STATE -------------------------------------------------------------------- */

typedef struct state_row {
	const char *name;
	const char *file;    /* under .git; a trailing '/' makes a directory */
	int klass;
} state_row;

static const state_row state_rows[] = {
	{ "merge", "MERGE_HEAD", PUSHSEAL_E_INPROGRESS },
	{ "rebase-merge", "rebase-merge/", PUSHSEAL_E_INPROGRESS },
	{ "rebase-apply", "rebase-apply/", PUSHSEAL_E_INPROGRESS },
	{ "cherry-pick", "CHERRY_PICK_HEAD", PUSHSEAL_E_INPROGRESS },
	{ "bisect", "BISECT_LOG", PUSHSEAL_E_INPROGRESS },
	{ "index.lock", "index.lock", PUSHSEAL_E_LOCKED },
};

static void state_refuses(ps_ctx *ctx, const state_row *row)
{
	char first[2048];
	ps_rev remote_tip;
	ps_rev head;
	const char *local = ps_keep(ctx, "local");
	const char *wb = ps_fmt(ctx, "echo run >> '%s/marker' && echo bot >> data.txt && git add data.txt && git commit -qm 'bot: data'",
		ctx->root);
	char wbuf[1024];
	int reflog;
	snprintf(wbuf, sizeof(wbuf), "%s", wb);

	fx_pair(ctx, 2);
	fx_behind(ctx, "remote.git", 1); /* there is something to pull, too */
	head = or_rev(ctx, "local", "HEAD");
	remote_tip = or_rev(ctx, "remote.git", "main");
	if (row->file[strlen(row->file) - 1] == '/') {
		char dir[1100];
		snprintf(dir, sizeof(dir), "local/.git/%.*s", (int)strlen(row->file) - 1, row->file);
		fx_write(ctx, ps_fmt(ctx, "%s/head-name", dir), "refs/heads/main\n");
		fx_write(ctx, ps_fmt(ctx, "%s/onto", dir), ps_fmt(ctx, "%s\n", head.hex));
		if (!strcmp(row->name, "rebase-apply"))
			fx_write(ctx, ps_fmt(ctx, "%s/rebasing", dir), "");
	} else {
		fx_write(ctx, ps_fmt(ctx, "local/.git/%s", row->file),
			strcmp(row->file, "index.lock") ? ps_fmt(ctx, "%s\n", head.hex) : "");
	}
	reflog = or_reflog(ctx, "local/.git", "HEAD");

	for (int cmd = 0; cmd < 2; cmd++) {
		for (int t = 0; t < 3; t++) {
			ps_cycle_result r;
			if (cmd == 0) {
				r = drv_fix(ctx, local, wbuf);
			} else {
				const char *repos[] = { local };
				drv_run(ctx, t % 2, "false", wbuf, repos, 1, &r);
			}
			if (r.exit_code != 1 || strcmp(r.skipped, "c16") || r.wrote || r.sealed)
				fail_msg("%s: %s tick %d did not refuse as c16 with exit 1: %s", row->name,
					cmd ? "run" : "fix", t + 1, r.json);
			if (t == 0)
				snprintf(first, sizeof(first), "%s", r.json);
			else if (strcmp(first, r.json))
				fail_msg("%s: %s tick %d reported something else:\n  %s\n  %s", row->name,
					cmd ? "run" : "fix", t + 1, first, r.json);
		}
	}
	if (!drv_is_exec()) {
		pushseal_report rep;
		int rc = lib_fix(&rep, local, wbuf);
		assert_int_equal(rc, row->klass);
		assert_int_equal(rep.error.klass, row->klass);
		rc = lib_tick(&rep, local, 1, "false", wbuf, PUSHSEAL_DIVERGE_STOP);
		assert_int_equal(rep.error.klass, row->klass);
		assert_int_equal(rc, row->klass);
	}
	/* nothing written, the other operation's state kept */
	assert_int_equal(marker_runs(ctx, "marker"), 0);
	assert_str(or_rev(ctx, "local", "HEAD").hex, head.hex);
	assert_str(or_rev(ctx, "remote.git", "main").hex, remote_tip.hex);
	assert_int_equal(or_reflog(ctx, "local/.git", "HEAD"), reflog);
	assert_true(or_exists(ctx, ps_fmt(ctx, "local/.git/%.*s", (int)strcspn(row->file, "/"), row->file)));
}

static void state_merge(ps_ctx *ctx) { state_refuses(ctx, &state_rows[0]); }
static void state_rebase_merge(ps_ctx *ctx) { state_refuses(ctx, &state_rows[1]); }
static void state_rebase_apply(ps_ctx *ctx) { state_refuses(ctx, &state_rows[2]); }
static void state_cherry_pick(ps_ctx *ctx) { state_refuses(ctx, &state_rows[3]); }
static void state_bisect(ps_ctx *ctx) { state_refuses(ctx, &state_rows[4]); }
static void state_index_lock(ps_ctx *ctx) { state_refuses(ctx, &state_rows[5]); }

/* ---- F-PATH ----------------------------------------------------------------------- */

/* Every command on a path that is not a usable repository: pull, push, fix
 * and run fail with exit 1, counts print 0 with exit 0, nothing crashes. */
static void all_commands_refuse(ps_ctx *ctx, const char *path, const char *what)
{
	const char *wb = ps_fmt(ctx, "echo run >> '%s/marker'", ctx->root);
	char wbuf[1024];
	snprintf(wbuf, sizeof(wbuf), "%s", wb);
	ps_result r = drv_pull(ctx, path);
	if (r.ok)
		fail_msg("%s: pull-ff succeeded", what);
	r = drv_push(ctx, path);
	if (r.ok)
		fail_msg("%s: push-ff succeeded", what);
	r = drv_remote_ahead(ctx, path);
	assert_int_equal(r.count, 0);
	r = drv_local_ahead(ctx, path);
	assert_int_equal(r.count, 0);
	if (drv_is_exec() && strlen(path) > 3000) {
		/* the harness's JSON reader holds 4 KiB: read the exit code and the line's start */
		const char *out, *err;
		int rc = drv_exec(ctx, &out, &err, "fix", path, "--writeback", wbuf, NULL);
		if (rc != 1 || strncmp(out, "{", 1))
			fail_msg("%s: fix exited %d: %.200s %.200s", what, rc, out, err);
		rc = drv_exec(ctx, &out, &err, "run", "--check", "false", "--writeback", wbuf, path, NULL);
		if (rc != 1 || strncmp(out, "{", 1))
			fail_msg("%s: run exited %d: %.200s %.200s", what, rc, out, err);
	} else {
		const char *repos[] = { path };
		ps_cycle_result c = drv_fix(ctx, path, wbuf);
		if (c.exit_code != 1 || c.sealed || c.wrote)
			fail_msg("%s: fix did not fail cleanly: %s", what, c.json);
		if (drv_run(ctx, 1, "false", wbuf, repos, 1, &c) != 1 || c.sealed || c.wrote)
			fail_msg("%s: run did not fail cleanly: %s", what, c.json);
	}
	assert_int_equal(marker_runs(ctx, "marker"), 0);
	if (!drv_is_exec()) {
		pushseal_error e;
		size_t n = 7;
		int rc = pushseal_count_local_ahead(&n, path, &e);
		if (rc != PUSHSEAL_E_NOTREPO && rc != PUSHSEAL_E_INVALID)
			fail_msg("%s: class %s, not not-a-repo or invalid: %s", what, pushseal_class_name(rc), e.message);
	}
}

static void path_symlink_loop(ps_ctx *ctx)
{
	assert_int_equal(symlink("loop-b", ps_path(ctx, "loop-a")), 0);
	assert_int_equal(symlink("loop-a", ps_path(ctx, "loop-b")), 0);
	all_commands_refuse(ctx, ps_keep(ctx, "loop-a"), "symlink loop");
	all_commands_refuse(ctx, ps_keep(ctx, "loop-a/sub"), "path through a symlink loop");
}

static void path_dangling_symlink(ps_ctx *ctx)
{
	assert_int_equal(symlink("nowhere", ps_path(ctx, "dangling")), 0);
	all_commands_refuse(ctx, ps_keep(ctx, "dangling"), "dangling symlink");
	assert_false(or_exists(ctx, "nowhere"));
}

static void path_too_long(ps_ctx *ctx)
{
	static char longpath[4300];
	fx_pair(ctx, 1);
	/* a real repository at the start of the path: nothing may resolve to it */
	int n = snprintf(longpath, sizeof(longpath), "%s/local", ctx->root);
	while (n < 4200)
		n += snprintf(longpath + n, sizeof(longpath) - (size_t)n, "/%s", "d123456789");
	all_commands_refuse(ctx, longpath, "a 4200-byte path");
	snprintf(longpath, sizeof(longpath), "%s/", ctx->root);
	memset(longpath + strlen(longpath), 'x', 4150);
	all_commands_refuse(ctx, longpath, "a 4150-byte file name");
	assert_int_equal(or_count(ctx, "remote.git", "main"), 1);
}

static void path_odd_names_work(ps_ctx *ctx)
{
	static const char *const names[] = { "with space", "new\nline", "bad\xff" "byte\xc3", " lead and trail " };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char bare[32];
		ps_rev tip;
		const char *repo;
		ps_cycle_result r;
		snprintf(bare, sizeof(bare), "p%zu.git", i);
		fx_bare(ctx, bare, 2);
		fx_clone(ctx, bare, names[i]);
		repo = ps_keep(ctx, names[i]);
		fx_ahead(ctx, names[i], 1);
		/* fix seals the backlog and the writeback's commit */
		r = drv_fix(ctx, repo, ps_fmt(ctx, "echo x >> data.txt && git add data.txt && git commit -qm 'bot: %zu'", i));
		if (r.exit_code != 0 || !r.sealed)
			fail_msg("fix on %s did not seal: %s", names[i], r.json);
		tip = or_rev(ctx, names[i], "HEAD");
		assert_str(or_rev(ctx, bare, "main").hex, tip.hex);
		assert_int_equal(or_count(ctx, bare, "main"), 4);
		/* a tick pulls what landed upstream, then writes and seals */
		fx_behind(ctx, bare, 1);
		{
			const char *repos[] = { repo };
			ps_cycle_result t[1];
			if (drv_run(ctx, 1, "false", "echo y >> data.txt && git commit -qam 'bot: tick'", repos, 1, t) != 0 || !t[0].sealed)
				fail_msg("run on %s did not seal: %s", names[i], t[0].json);
		}
		tip = or_rev(ctx, names[i], "HEAD");
		assert_str(or_rev(ctx, bare, "main").hex, tip.hex);
		assert_int_equal(or_count(ctx, bare, "main"), 6);
		assert_str(or_status(ctx, names[i]), "");
		assert_int_equal(drv_local_ahead(ctx, repo).count, 0);
		assert_int_equal(drv_remote_ahead(ctx, repo).count, 0);
	}
}

/* ---- F-REDACT ----------------------------------------------------------------------- */

static const char *echo_wanted;
static int echo_seen;

static void no_secret(const char *where, const char *text, const char *secret)
{
	if (text && strstr(text, secret))
		fail_msg("the secret '%s' leaked in %s: %s", secret, where, text);
	if (text && echo_wanted && strstr(text, echo_wanted))
		echo_seen = 1;
}

/* Every command on a clone whose remote URL holds `secret`.  With `echo`,
 * some output must show the URL (redacted) at least once: proof that the
 * redaction, not the absence of the URL, keeps the secret out. */
static void redact_url(ps_ctx *ctx, const char *url, const char *secret, const char *echo)
{
	echo_wanted = echo;
	echo_seen = 0;
	const char *local;
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 1);
	fx_set_url(ctx, "local", "origin", url);
	local = ps_keep(ctx, "local");
	if (drv_is_exec()) {
		static const char *const cmds[][6] = {
			{ "pull-ff", "R", NULL }, { "push-ff", "R", NULL }, { "remote-ahead", "R", NULL },
			{ "local-ahead", "R", NULL }, { "fix", "R", "--writeback", "true", NULL },
			{ "run", "--remote", "--check", "false", "R", NULL }, { "status", "--remote", "R", NULL },
		};
		for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
			const char *a[6] = { NULL };
			const char *out, *err;
			int rc;
			for (int k = 0; k < 6 && cmds[c][k]; k++)
				a[k] = strcmp(cmds[c][k], "R") ? cmds[c][k] : local;
			rc = drv_exec(ctx, &out, &err, a[0], a[1], a[2], a[3], a[4], a[5], NULL);
			if (rc >= 128)
				fail_msg("%s crashed (%d)", cmds[c][0], rc);
			no_secret(ps_fmt(ctx, "%s's stdout", cmds[c][0]), out, secret);
			no_secret(ps_fmt(ctx, "%s's stderr", cmds[c][0]), err, secret);
		}
	} else {
		pushseal_error e;
		pushseal_report rep;
		size_t n;
		int rc;
		rc = pushseal_pull_ff(NULL, local, NULL, &e);
		assert_true(rc < 0);
		no_secret("pull's error", e.message, secret);
		rc = pushseal_push_ff(NULL, local, NULL, &e);
		assert_true(rc < 0);
		no_secret("push's error", e.message, secret);
		rc = pushseal_count_remote_ahead(&n, local, NULL, &e);
		assert_true(rc < 0);
		no_secret("remote-ahead's error", e.message, secret);
		rc = lib_fix(&rep, local, "true");
		assert_true(rc < 0);
		no_secret("fix's error", rep.error.message, secret);
		rc = lib_tick(&rep, local, 1, "false", NULL, PUSHSEAL_DIVERGE_STOP);
		assert_true(rc < 0);
		no_secret("run's error", rep.error.message, secret);
	}
	if (echo && !echo_seen)
		fail_msg("no output showed the redacted URL '%s': the test proved nothing", echo);
	/* what the test relies on: the secret is really in the configuration */
	{
		const char *cfg;
		or_git(ctx, &cfg, "local", "config", "remote.origin.url", NULL);
		assert_non_null(strstr(cfg, secret));
	}
}

static void redact_password(ps_ctx *ctx)
{
	redact_url(ctx, "https://user:s3cr3t@127.0.0.1:1/x.git", "s3cr3t", NULL);
}

static void redact_token(ps_ctx *ctx)
{
	redact_url(ctx, "http://tok3n@127.0.0.1:1/x", "tok3n", NULL);
}

static void redact_echoed_url(ps_ctx *ctx)
{
	/* libgit2 quotes a malformed URL in its message: it must come out masked */
	redact_url(ctx, "https://user:s3cr3t@127.0.0.1:99999/x.git", "s3cr3t", "@127.0.0.1:99999/x.git");
}

/* ---- F-CONC --------------------------------------------------------------------- */

/* One tick in this process (in-process or the command) with the rebase
 * policy; returns the exit code, and 10 when skipped as locked. */
static int conc_tick(ps_ctx *ctx, const char *repo, const char *wb, int rebase)
{
	if (drv_is_exec()) {
		const char *out, *err;
		int rc = rebase
			? drv_exec(ctx, &out, &err, "run", "--remote", "--on-diverge=rebase", "--check", "false", "--writeback", wb, repo, NULL)
			: drv_exec(ctx, &out, &err, "run", "--remote", "--check", "false", "--writeback", wb, repo, NULL);
		if (strstr(out, "\"skipped\":\"locked\""))
			return 10;
		return rc;
	} else {
		pushseal_report rep;
		int rc = lib_tick(&rep, repo, 1, "false", wb, rebase ? PUSHSEAL_DIVERGE_REBASE : PUSHSEAL_DIVERGE_STOP);
		if (rep.skipped == PUSHSEAL_SKIP_LOCKED)
			return 10;
		return rc == 0 && rep.sealed ? 0 : 1;
	}
}

static void wait_for_file(ps_ctx *ctx, const char *rel)
{
	for (int i = 0; i < 3000 && !or_exists(ctx, rel); i++)
		sleep_ms(2);
}

static void conc_two_runs_one_repo(ps_ctx *ctx)
{
	pid_t pids[2];
	int codes[2], ran;
	fx_pair(ctx, 2);
	const char *repo = ps_keep(ctx, "local");
	static char wb[1200];
	snprintf(wb, sizeof(wb),
		"echo run >> '%s/marker' && echo bot >> data.txt && git add data.txt && git commit -qm 'bot: data' && sleep 0.5",
		ctx->root);
	for (int i = 0; i < 2; i++) {
		fflush(NULL);
		if ((pids[i] = fork()) == 0) {
			wait_for_file(ctx, "go");
			_exit(conc_tick(ctx, repo, wb, 0));
		}
	}
	fx_write(ctx, "go", "");
	for (int i = 0; i < 2; i++) {
		int st = reap(pids[i]);
		codes[i] = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
	/* one sealed; the other locked out, or serialised after it and sealed too */
	ran = (codes[0] == 0) + (codes[1] == 0);
	if (!((codes[0] == 0 || codes[0] == 10) && (codes[1] == 0 || codes[1] == 10) && ran >= 1))
		fail_msg("two runs ended %d and %d (0 sealed, 10 locked)", codes[0], codes[1]);
	assert_int_equal(marker_runs(ctx, "marker"), ran);
	assert_int_equal(or_count(ctx, "remote.git", "main"), 2 + ran);
	assert_str(or_rev(ctx, "remote.git", "main").hex, or_rev(ctx, "local", "HEAD").hex);
	assert_int_equal(merges(ctx, "local", "HEAD"), 0);
	assert_str(or_status(ctx, "local"), "");
	assert_fsck_clean(ctx, "local");
	assert_no_locks(ctx, "local/.git");
}

#define CONC_CLONES 4
#define CONC_TICKS 5

/* N clones of one remote tick concurrently; every writeback commit has a
 * unique subject, logged once made.  At the end: nothing lost, no merge,
 * every clone == remote. */
static void conc_clones(ps_ctx *ctx, int rebase)
{
	pid_t pids[CONC_CLONES];
	fx_bare(ctx, "remote.git", 2);
	for (int c = 0; c < CONC_CLONES; c++)
		fx_clone(ctx, "remote.git", ps_fmt(ctx, "c%d", c));
	for (int c = 0; c < CONC_CLONES; c++) {
		fflush(NULL);
		if ((pids[c] = fork()) == 0) {
			const char *repo = ps_keep(ctx, ps_fmt(ctx, "c%d", c));
			wait_for_file(ctx, "go");
			for (int t = 0; t < CONC_TICKS; t++) {
				const char *wb = ps_fmt(ctx,
					"echo %d-%d > c%d-t%d.txt && git add c%d-t%d.txt && git commit -qm 'bot: c%d t%d' && "
					"echo 'bot: c%d t%d' >> '%s/made'", c, t, c, t, c, t, c, t, c, t, ctx->root);
				int rc = conc_tick(ctx, repo, wb, rebase);
				(void)rc;
			}
			_exit(0);
		}
	}
	fx_write(ctx, "go", "");
	for (int c = 0; c < CONC_CLONES; c++)
		reap(pids[c]);
	/* a final converging tick per clone, twice round so each sees the others' last push */
	for (int round = 0; round < 2; round++)
		for (int c = 0; c < CONC_CLONES; c++)
			if (conc_tick(ctx, ps_keep(ctx, ps_fmt(ctx, "c%d", c)), "true", rebase) != 0)
				fail_msg("clone c%d did not converge in round %d", c, round + 1);
	{
		char made[4096], subjects[4096 * 4];
		ps_rev tip;
		const char *log;
		tip = or_rev(ctx, "remote.git", "main");
		for (int c = 0; c < CONC_CLONES; c++) {
			const char *clone = ps_fmt(ctx, "c%d", c);
			assert_str(or_rev(ctx, clone, "HEAD").hex, tip.hex);
			assert_str(or_status(ctx, clone), "");
			assert_no_locks(ctx, ps_fmt(ctx, "c%d/.git", c));
		}
		assert_int_equal(merges(ctx, "remote.git", "main"), 0);
		assert_fsck_clean(ctx, "remote.git");
		or_git(ctx, &log, "remote.git", "log", "--format=%s", "main", NULL);
		snprintf(subjects, sizeof(subjects), "\n%s\n", log);
		log = or_file(ctx, "made");
		snprintf(made, sizeof(made), "%s", log ? log : "");
		int n_made = 0;
		for (char *line = strtok(made, "\n"); line; line = strtok(NULL, "\n")) {
			char needle[128];
			char *hit;
			snprintf(needle, sizeof(needle), "\n%s\n", line);
			n_made++;
			if (!(hit = strstr(subjects, needle)))
				fail_msg("the commit '%s' was lost: it is not on the remote", line);
			if (strstr(hit + 1, needle))
				fail_msg("the commit '%s' is on the remote twice", line);
		}
		assert_true(n_made >= 1);
		print_message("F-CONC: %d writeback commits from %d clones x %d ticks, all on the remote\n",
			n_made, CONC_CLONES, CONC_TICKS);
	}
}

static void conc_four_clones(ps_ctx *ctx)
{
	conc_clones(ctx, 1);
}

/* A person pushes while our seal push is frozen after it read the remote's
 * refs and began writing objects: git's receive-pack updates the ref only if
 * it still has the old value, so one of the two pushes must fail and the
 * person's commit must stay on the remote. */
static void conc_push_race_drops_nothing(ps_ctx *ctx)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		char p[32], remote[64], human[64];
		ps_rev person;
		ps_rev base;
		const char *wb;
		pid_t leader;
		int objects, st;
		snprintf(p, sizeof(p), "race-%d", attempt);
		snprintf(remote, sizeof(remote), "%s/remote.git", p);
		snprintf(human, sizeof(human), "%s/human", p);
		fx_bare(ctx, remote, 2);
		fx_clone(ctx, remote, ps_fmt(ctx, "%s/local", p));
		fx_clone(ctx, remote, human);
		base = or_rev(ctx, remote, "main");
		objects = object_entries(ctx, remote);
		wb = crash_writeback(ctx, p, DURING_PUSH);
		leader = start_cycle(ctx, ps_keep(ctx, ps_fmt(ctx, "%s/local", p)), wb, 0);
		if (!crash_hit(ctx, p, DURING_PUSH, leader, base.hex, objects, 0)) {
			kill_cycle(leader, 1);
			continue; /* the push finished before it could be frozen: again */
		}
		/* frozen mid-push: the person commits and pushes with git.  Either
		 * their push fails visibly (the remote ref is locked) and their commit
		 * stays theirs, or it lands and ours must not overwrite it. */
		int person_pushed = system(ps_fmt(ctx, "cd '%s/%s' && git commit -q --allow-empty -m 'human: work' && git push -q origin main 2>/dev/null",
			ctx->root, human)) == 0;
		person = or_rev(ctx, human, "HEAD");
		kill(-leader, SIGCONT);
		st = reap(leader);
		kill_cycle(leader, 1);
		if (person_pushed && !or_is_ancestor(ctx, remote, person.hex, "main"))
			fail_msg("the person's commit %s was dropped from the remote by a racing push (fix exited %d; remote main is %s, base %s)",
				person.hex, WIFEXITED(st) ? WEXITSTATUS(st) : -1, or_rev(ctx, remote, "main").hex, base.hex);
		if (!person_pushed && strcmp(or_rev(ctx, human, "HEAD").hex, person.hex) != 0)
			fail_msg("the person's refused push lost their commit");
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
		    !or_is_ancestor(ctx, remote, or_rev(ctx, ps_fmt(ctx, "%s/local", p), "HEAD").hex, "main"))
			fail_msg("fix reported sealed but its commit is not on the remote");
		return;
	}
	/* nothing was checked: say so, rather than pass */
	PS_SKIP("the push was never caught mid-way in 3 attempts (it finished too fast to race)");
}

/* ---- F-HOOK: a remote that refuses through a hook ---------------------------- */

static void install_hook(ps_ctx *ctx, const char *name, const char *body)
{
	const char *path = ps_path(ctx, ps_fmt(ctx, "remote.git/hooks/%s", name));
	fx_write(ctx, ps_fmt(ctx, "remote.git/hooks/%s", name), body);
	assert_int_equal(chmod(path, 0755), 0);
}

/* The first tick writes and its seal is refused; the next tick stops at
 * C-17 without writing; nothing is lost; once the hook accepts, it seals. */
static void hook_refusal_cycle(ps_ctx *ctx, const char *hook, const char *body)
{
	ps_rev before;
	fx_pair(ctx, 2);
	before = or_rev(ctx, "remote.git", "main");
	install_hook(ctx, hook, body);
	const char *wb = ps_fmt(ctx, "echo run >> '%s/marker' && echo bot >> data.txt && git add data.txt && git commit -qm 'bot: data'", ctx->root);
	ps_cycle_result r = drv_fix(ctx, ps_keep(ctx, "local"), wb);
	assert_int_equal(r.exit_code, 1);
	assert_false(r.sealed);
	assert_str(or_rev(ctx, "remote.git", "main").hex, before.hex);
	ps_rev ours;
	ours = or_rev(ctx, "local", "HEAD");
	/* an implementation that knows the push will be refused (the reference
	 * over a local path, whose hooks libgit2 cannot run) may refuse before
	 * writing at all: stricter, and just as lossless */
	int wrote_first = or_exists(ctx, "marker");
	r = drv_fix(ctx, ps_keep(ctx, "local"), wb);
	assert_int_equal(r.exit_code, 1);
	assert_str(r.skipped, wrote_first ? "c17" : "c16");
	assert_str(or_rev(ctx, "local", "HEAD").hex, ours.hex); /* kept, and nothing new */
	if (wrote_first)
		assert_str(or_file(ctx, "marker"), "run\n");
	else
		assert_false(or_exists(ctx, "marker"));
	unlink(ps_path(ctx, ps_fmt(ctx, "remote.git/hooks/%s", hook)));
	r = drv_fix(ctx, ps_keep(ctx, "local"), NULL);
	assert_int_equal(r.exit_code, 0);
	assert_str(or_rev(ctx, "remote.git", "main").hex, ours.hex);
}

static void hook_pre_receive(ps_ctx *ctx)
{
	hook_refusal_cycle(ctx, "pre-receive", "#!/bin/sh\necho 'policy: frozen' >&2\nexit 1\n");
}

static void hook_update_one_ref(ps_ctx *ctx)
{
	/* a NET_CLAUSE: always over a real server, which runs the hook */
	fx_pair(ctx, 2);
	install_hook(ctx, "update", "#!/bin/sh\n[ \"$1\" = refs/heads/main ] && { echo 'main is frozen' >&2; exit 1; }\nexit 0\n");
	fx_ahead(ctx, "local", 1);
	ps_rev tracking;
	ps_rev before;
	before = or_rev(ctx, "remote.git", "main");
	tracking = or_rev(ctx, "local", "refs/remotes/origin/main");
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_REJECTED);
	assert_str(or_rev(ctx, "remote.git", "main").hex, before.hex);
	/* a refusal is no success: the tracking ref stays where the remote is */
	if (strcmp(or_rev(ctx, "local", "refs/remotes/origin/main").hex, tracking.hex) != 0)
		fail_msg("the refused push moved refs/remotes/origin/main from %s to %s (%s)", tracking.hex,
			or_rev(ctx, "local", "refs/remotes/origin/main").hex, ps_transport());
	/* the hook refuses only main: another ref is accepted by the same server */
	assert_int_equal(or_git(ctx, NULL, "local", "push", "-q", "origin", "HEAD:refs/heads/other", NULL), 0);
	assert_str(or_rev(ctx, "remote.git", "other").hex, or_rev(ctx, "local", "HEAD").hex);
}

static const struct CMUnitTest tests[] = {
	CLAUSE("F-CRASH-1", "a fix killed with SIGKILL right after its fetch converges on the next tick: no lost commit, fsck clean, no stale lock, worktree == HEAD == remote", crash_after_fetch),
	CLAUSE("F-CRASH-2", "a fix killed with SIGKILL in the middle of the pull's checkout converges on the next tick: no stale ref or index lock blocks it, the half-written worktree is completed, nothing lost", crash_during_checkout),
	CLAUSE("F-CRASH-3", "a fix killed with SIGKILL right after the writeback's commit converges on the next tick: the commit is sealed, fsck clean, no stale lock", crash_after_commit),
	CLAUSE("F-CRASH-4", "a fix killed with SIGKILL (its whole process group) while the seal push writes into the remote converges on the next tick: the commit is sealed, both repositories fsck clean, no stale lock", crash_during_push),
	CLAUSE("F-CRASH-5", "fixes killed with SIGKILL at 6 seeded random points of a whole cycle each converge on the next tick with nothing lost", crash_at_random),
	CLAUSE("F-STATE-1", "during a merge (MERGE_HEAD) fix and run refuse every write as c16, run no writeback and report the same thing on each of 3 ticks (in-progress)", state_merge),
	CLAUSE("F-STATE-2", "during a rebase (.git/rebase-merge) fix and run refuse every write the same way on each tick (in-progress)", state_rebase_merge),
	CLAUSE("F-STATE-3", "during a rebase or am (.git/rebase-apply) fix and run refuse every write the same way on each tick (in-progress)", state_rebase_apply),
	CLAUSE("F-STATE-4", "during a cherry-pick (CHERRY_PICK_HEAD) fix and run refuse every write the same way on each tick (in-progress)", state_cherry_pick),
	CLAUSE("F-STATE-5", "during a bisect (BISECT_LOG) fix and run refuse every write the same way on each tick (in-progress)", state_bisect),
	CLAUSE("F-STATE-6", "with a stale .git/index.lock fix and run refuse every write the same way on each tick (locked) and leave the lock", state_index_lock),
	CLAUSE("F-PATH-1", "a symlink loop (and a path through one) gets a clean failure from every command: exit 1, counts 0, no crash", path_symlink_loop),
	CLAUSE("F-PATH-2", "a dangling symlink gets a clean failure from every command and creates nothing", path_dangling_symlink),
	CLAUSE("F-PATH-3", "paths of 4096+ bytes get a clean failure from every command and never resolve to a repository on their prefix", path_too_long),
	CLAUSE("F-PATH-4", "repositories whose paths hold spaces, newlines and non-UTF-8 bytes are fixed and ticked: fix and run seal, counts are exact", path_odd_names_work),
	CLAUSE("F-REDACT-1", "a password in the remote URL never appears in any command's stdout or stderr nor in the library's messages", redact_password),
	CLAUSE("F-REDACT-2", "a token as the URL's user never appears in any command's stdout or stderr nor in the library's messages", redact_token),
	CLAUSE("F-REDACT-3", "a URL that libgit2 quotes in its error (malformed port) is shown with its credentials masked, in every command's output and the library's messages", redact_echoed_url),
	SERVER_CLAUSE("F-HOOK-1", "a pre-receive hook that refuses: the seal fails visibly, the next tick stops at c17 writing nothing, nothing is lost, and once accepted it seals", hook_pre_receive),
	NET_CLAUSE("F-HOOK-2", "over a real server, an update hook that refuses one ref makes the push of main fail (rejected) and leaves the tracking ref, while the server accepts another ref", hook_update_one_ref),
	CLAUSE("F-CONC-1", "two runs on one repo at once: one seals, the other is locked out or serialised; no lost or merged commit, fsck clean", conc_two_runs_one_repo),
	CLAUSE("F-CONC-2", "four clones of one remote ticking concurrently (rebase policy) lose no commit, merge nothing, and converge to the remote", conc_four_clones),
	SERVER_CLAUSE("F-CONC-3", "a person's push landing while our seal push is in flight is never overwritten: their commit stays on the remote, and a run that reports sealed has its commit there too", conc_push_race_drops_nothing),
};

int main(void)
{
	ps_harness_init();
	return PS_RUN("F-FAULTS", tests);
}
