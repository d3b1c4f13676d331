/* The fault suites' shared helpers (faults_common.h). */
#define _GNU_SOURCE
#include "faults_common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- small helpers ------------------------------------------------------------ */


void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

int count_lines(const char *s)
{
	int n = 0;
	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

int marker_runs(ps_ctx *ctx, const char *rel)
{
	return count_lines(or_file(ctx, rel));
}

long merges(ps_ctx *ctx, const char *dir, const char *rev)
{
	const char *out;
	if (or_git(ctx, &out, dir, "rev-list", "--merges", "--count", rev, NULL) != 0)
		fail_msg("oracle: rev-list --merges failed in %s", dir);
	return strtol(out, NULL, 10);
}


void assert_fsck_clean(ps_ctx *ctx, const char *dir)
{
	const char *out, *err;
	const char *argv[] = { "git", "-C", ps_path(ctx, dir), "fsck", "--no-progress", "--no-dangling", NULL };
	int rc = ps_spawn(ctx, NULL, argv, &out, &err);
	if (rc != 0 || strstr(err, "error") || strstr(out, "error"))
		fail_msg("git fsck in %s exited %d: %s%s", dir, rc, out, err);
}

void assert_no_locks(ps_ctx *ctx, const char *gitdir)
{
	const char *lock = or_git_lock(ctx, gitdir);
	if (lock)
		fail_msg("a stale lock of git's is left under %s: %s", gitdir, lock);
}

/* Number of directory entries (0 when it does not exist). */
int dir_entries(const char *path)
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
int object_entries(ps_ctx *ctx, const char *gitdir)
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

/* Freeze the whole group and wait until its leader is really stopped. */
void freeze(pid_t leader)
{
	kill(-leader, SIGSTOP);
	for (int i = 0; i < 500; i++) {
		char st = 0;
		if (ps_proc_stat(leader, &st, NULL, NULL) != 0 || st == 'T' || st == 't' || st == 'Z')
			return;
		sleep_ms(2);
	}
}

int reap(pid_t pid)
{
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

/* Send SIGCONT to every live member of group pgid but its leader. */
static int resume_member(pid_t pid, char state, pid_t ppid, pid_t pgrp, void *arg)
{
	pid_t pgid = *(pid_t *)arg;
	(void)ppid;
	if (pgrp == pgid && pid != pgid && state != 'Z')
		kill(pid, SIGCONT);
	return 0;
}

/* The processes that were our children before start_cycle (the suite's
 * servers): everything else that becomes our child is the cycle's orphan. */
#define KNOWN_MAX 64
static pid_t known_children[KNOWN_MAX];
static int n_known;

static int is_known(pid_t pid)
{
	for (int i = 0; i < n_known; i++)
		if (known_children[i] == pid)
			return 1;
	return 0;
}

/* One of our children that is not known: reap it when it is dead, else
 * send it *arg (a signal, or 0) and stop at the first when *arg is 0. */
static int orphan_visit(pid_t pid, char state, pid_t ppid, pid_t pgrp, void *arg)
{
	int sig = *(int *)arg;
	(void)pgrp;
	if (ppid != getpid() || is_known(pid))
		return 0;
	if (state == 'Z') {
		waitpid(pid, NULL, WNOHANG);
		return 0;
	}
	if (sig)
		kill(pid, sig);
	return sig == 0;
}

/* Is one of the cycle's orphans alive?  With sig, send it to each. */
static int orphans_scan(int sig)
{
	int none = 0;
	if (sig)
		ps_proc_each(orphan_visit, &sig);
	return ps_proc_each(orphan_visit, &none);
}

static int note_known(pid_t pid, char state, pid_t ppid, pid_t pgrp, void *arg)
{
	(void)state;
	(void)pgrp;
	(void)arg;
	if (ppid == getpid() && n_known < KNOWN_MAX)
		known_children[n_known++] = pid;
	return 0;
}

/* Adopt the cycle's orphans: as a subreaper we see a child the cycle
 * started in a session of its own (a network worker) after the cycle dies,
 * and can wait for it.  Until it is gone it may hold what the dying cycle
 * held (a lock, by a descriptor inherited across fork): the next tick of
 * the test stands for one minutes later, not one racing the teardown. */
static void adopt_orphans(void)
{
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	n_known = 0;
	ps_proc_each(note_known, NULL);
}

void kill_cycle(pid_t leader, int group)
{
	/* Resume the other members first: when the stopped leader dies, POSIX
	 * sends SIGHUP to the stopped members of the orphaned group, which would
	 * kill the writeback's own git in the middle of its commit -- a fault of
	 * the test's freezing, not one a real crash of pushseal produces. */
	if (!group)
		ps_proc_each(resume_member, &leader);
	kill(group ? -leader : leader, SIGKILL);
	kill(-leader, SIGCONT);
	reap(leader);
	for (int i = 0; i < 15000 && ps_group_alive(leader); i++)
		sleep_ms(2);
	kill(-leader, SIGKILL);
	/* what the cycle started outside its group ends by itself (bounded) */
	for (int i = 0; i < 15000 && orphans_scan(0); i++)
		sleep_ms(2);
	if (orphans_scan(SIGKILL))
		for (int i = 0; i < 500 && orphans_scan(0); i++)
			sleep_ms(2);
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
int lib_tick(pushseal_report *rep, const char *repo, int remote, const char *check,
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

int lib_fix(pushseal_report *rep, const char *repo, const char *wb)
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
pid_t start_cycle(ps_ctx *ctx, const char *repo, const char *wb, int run)
{
	pid_t pid;
	adopt_orphans();
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

const char *crash_writeback(ps_ctx *ctx, const char *p, crash_point point)
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
int crash_hit(ps_ctx *ctx, const char *p, crash_point point, pid_t leader,
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
			pid_t child = ps_child_of(leader);
			char st = 0;
			if (child) {
				kill(leader, SIGSTOP);
				freeze(leader);
				kill(child, SIGCONT);
				while (ps_mono_ms() < end && ps_proc_stat(child, &st, NULL, NULL) == 0 && st != 'Z')
					sleep_ms(1);
				/* hit: the fetch's transfer landed (the remote's tip is
				 * here, whether or not a tracking ref moved yet) and the
				 * branch did not move */
				return strcmp(or_rev(ctx, local, "HEAD").hex, old_head) == 0 &&
					*or_rev(ctx, local, or_rev(ctx, remote, "main").hex).hex;
			}
			if (ps_mono_ms() > end || ps_proc_stat(leader, &st, NULL, NULL) != 0 || st == 'Z')
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
			if (ps_mono_ms() > end || ps_proc_stat(leader, &st, NULL, NULL) != 0 || st == 'Z')
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
			if (ps_mono_ms() > end || ps_proc_stat(leader, &st, NULL, NULL) != 0 || st == 'Z')
				return 0;
			sleep_ms(1);
		}
	}
	return 0;
}

