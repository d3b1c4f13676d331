/*
 * F-LOCK and F-CHILD: pushseal beside other git processes.  A lock file is
 * removed only by the process that created it; no child outlives its
 * deadline or its parent; commands run with clean signals and descriptors.
 *
 * The other processes here are real: a `git commit -a -e` whose editor
 * waits on a fifo holds index.lock, a `git update-ref --stdin` transaction
 * holds a ref lock, and a silent server is a loopback socket that is
 * listened on and never answered.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* A server that accepts connections (the kernel does, into the backlog)
 * and never says a word.  Closed in teardown with the test's process. */
static int silent_port(ps_ctx *ctx)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 64) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0)
		fail_msg("cannot listen on 127.0.0.1: %s", strerror(errno));
	(void)ctx;
	return ntohs(a.sin_port);
}

/* A person's `git commit -a -e` in `repo`, stopped in its editor (which
 * waits on a fifo) while it holds index.lock.  Returns its pid. */
static pid_t start_commit_in_editor(ps_ctx *ctx, const char *repo, const char *fifo, const char *edit)
{
	const char *editor = ps_fmt(ctx, "cat '%s' >/dev/null; :", fifo);
	const char *lock = ps_fmt(ctx, "%s/.git/index.lock", repo);
	char lockpath[1100];
	pid_t pid;
	snprintf(lockpath, sizeof(lockpath), "%s", lock);
	if (mkfifo(fifo, 0600) != 0)
		fail_msg("mkfifo %s: %s", fifo, strerror(errno));
	fx_write(ctx, ps_fmt(ctx, "%s/log.txt", repo + strlen(ctx->root) + 1), edit);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		setenv("GIT_EDITOR", editor, 1);
		execlp("git", "git", "-C", repo, "commit", "-q", "-a", "-e", "-m", "person: edit", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500 && access(lockpath, F_OK) != 0; i++)
		sleep_ms(10);
	if (access(lockpath, F_OK) != 0)
		fail_msg("the person's git commit never took %s", lockpath);
	return pid;
}

/* Let the editor finish; the commit must then succeed. */
static void finish_commit(ps_ctx *ctx, pid_t pid, const char *fifo)
{
	int status = 0, fd = open(fifo, O_WRONLY);
	if (fd >= 0)
		close(fd);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("the person's git commit failed (status %d) after pushseal ran beside it", status);
	(void)ctx;
}

/* Start the implementation (PUSHSEAL_IMPL, or the reference CLI) with argv
 * in the background, its environment marked with `marker`.  Returns its pid. */
static pid_t start_impl(ps_ctx *ctx, const char *marker, const char *const *args)
{
	const char *argv[24];
	int n = 0;
	pid_t pid;
	const char *impl = getenv("PUSHSEAL_IMPL");
	argv[n++] = "/bin/sh";
	argv[n++] = "-c";
	argv[n++] = "eval \"exec $PUSHSEAL_IMPL \\\"\\$@\\\"\"";
	argv[n++] = "pushseal-impl";
	for (; *args && n < 23; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		int log = open(ps_path(ctx, "impl.log"), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		dup2(null, 0);
		dup2(log >= 0 ? log : null, 1);
		dup2(log >= 0 ? log : null, 2);
		if (!impl || !*impl)
			setenv("PUSHSEAL_IMPL", PUSHSEAL_CLI_PATH, 1);
		setenv("PUSHSEAL_TEST_MARK", marker, 1);
		if (chdir(ctx->root) != 0)
			_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* F-LOCK-1: the person's commit starts while our network call is already
 * waiting on the silent server, so its lock is newer than our run. */
static void deadline_leaves_live_index_lock(ps_ctx *ctx)
{
	const char *local = ps_keep(ctx, "local"), *fifo = ps_keep(ctx, "editor.fifo");
	static const char *const verbs[] = { "push-ff", "remote-ahead" };
	ps_rev head;
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 1);
	fx_set_url(ctx, "local", "origin", ps_net_url(ctx, silent_port(ctx), "remote.git"));
	setenv("PUSHSEAL_DEADLINE_S", "1.5", 1);
	for (size_t v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++) {
		const char *args[] = { verbs[v], local, NULL };
		pid_t run, person;
		int status;
		head = or_rev(ctx, local, "HEAD");
		run = start_impl(ctx, "f-lock-1", args);
		sleep_ms(400);
		person = start_commit_in_editor(ctx, local, fifo, verbs[v]);
		waitpid(run, &status, 0);
		if (!or_exists(ctx, "local/.git/index.lock"))
			fail_msg("%s past its deadline removed a live git commit's index.lock", verbs[v]);
		finish_commit(ctx, person, fifo);
		unlink(fifo);
		assert_true(or_is_ancestor(ctx, local, head.hex, "HEAD"));
		assert_str(or_file(ctx, "local/log.txt"), verbs[v]);
		assert_str(or_status(ctx, local), "");
	}
}

/* F-LOCK-2: another writer's ref transaction on the shared remote takes
 * its lock while our push is in progress: held at the reference's test
 * hook past the deadline, so a deadline cleanup would see a "new" lock. */
static void local_push_leaves_live_ref_lock(ps_ctx *ctx)
{
	const char *local = ps_keep(ctx, "local"), *remote = ps_keep(ctx, "remote.git");
	const char *lock = ps_keep(ctx, "remote.git/refs/heads/other.lock");
	ps_rev tip;
	int in[2], status = 0;
	pid_t person;
	fx_pair(ctx, 2);
	tip = or_rev(ctx, remote, "main");
	if (pipe(in) != 0)
		fail_msg("pipe: %s", strerror(errno));
	person = fork();
	if (person == 0) {
		int null = open("/dev/null", O_RDWR);
		const char *tx = ps_fmt(ctx, "start\nupdate refs/heads/other %s\nprepare\n", tip.hex);
		sleep_ms(400); /* our push is under way by now */
		if (write(in[1], tx, strlen(tx)) != (ssize_t)strlen(tx))
			_exit(126);
		dup2(in[0], 0);
		dup2(null, 1);
		close(in[1]);
		execlp("git", "git", "-C", remote, "update-ref", "--stdin", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	fx_ahead(ctx, "local", 1);
	setenv("PUSHSEAL_DEADLINE_S", "1", 1);
	setenv("PUSHSEAL_TEST_HOOK_BEFORE_LOCK", "sleep 2", 1);
	setenv("PUSHSEAL_TEST_HOOK_AFTER_LOCK", "sleep 2", 1);
	{
		ps_result r = drv_push(ctx, local);
		unsetenv("PUSHSEAL_TEST_HOOK_BEFORE_LOCK");
		unsetenv("PUSHSEAL_TEST_HOOK_AFTER_LOCK");
		(void)r; /* sealed or timed out: either way, the other lock is not ours */
	}
	if (access(lock, F_OK) != 0)
		fail_msg("another writer's live ref lock in the remote was removed");
	if (write(in[1], "commit\n", 7) != 7)
		fail_msg("cannot talk to git update-ref");
	close(in[1]);
	waitpid(person, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("the other writer's ref update failed (status %d) beside our push", status);
	assert_str(or_rev(ctx, remote, "other").hex, tip.hex);
}

/* Pids of live (non-zombie) processes whose environment holds `marker`. */
static int marked_processes(const char *marker, char *first, size_t n)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	char want[200];
	int count = 0;
	snprintf(want, sizeof(want), "PUSHSEAL_TEST_MARK=%s", marker);
	while (d && (e = readdir(d)) != NULL) {
		char path[300], buf[65536];
		FILE *f;
		size_t got;
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		{
			char state = 'X';
			if (ps_proc_stat((pid_t)strtol(e->d_name, NULL, 10), &state, NULL, NULL) == 0 && state == 'Z')
				continue;
		}
		snprintf(path, sizeof(path), "/proc/%s/environ", e->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		got = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		for (size_t off = 0; off < got; off += strlen(buf + off) + 1) {
			buf[got] = '\0';
			if (!strcmp(buf + off, want)) {
				if (count++ == 0)
					snprintf(first, n, "%s", e->d_name);
				break;
			}
		}
	}
	if (d)
		closedir(d);
	return count;
}

/* F-CHILD-1 */
static void killed_run_leaves_no_process(ps_ctx *ctx)
{
	const char *local = ps_keep(ctx, "local");
	char marker[64];
	const char *args[] = { "run", "--remote", local, NULL };
	char first[300] = "";
	long long killed;
	snprintf(marker, sizeof(marker), "f-child-1-%d", (int)getpid());
	pid_t run;
	int status;
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 1);
	fx_set_url(ctx, "local", "origin", ps_net_url(ctx, silent_port(ctx), "remote.git"));
	setenv("PUSHSEAL_DEADLINE_S", "3", 1);
	run = start_impl(ctx, marker, args);
	/* give it time to reach the silent server, then kill it as an OOM killer would */
	sleep_ms(700);
	kill(run, SIGKILL);
	waitpid(run, &status, 0);
	killed = ps_mono_ms();
	while (marked_processes(marker, first, sizeof(first)) > 0 && ps_mono_ms() - killed < 4000)
		sleep_ms(20);
	if (marked_processes(marker, first, sizeof(first)) > 0)
		fail_msg("process %s of the killed run is still alive %lld ms after the kill (deadline 3 s)",
			first, ps_mono_ms() - killed);
	/* the next tick is not blocked by anything the dead run held */
	setenv("PUSHSEAL_DEADLINE_S", "1", 1);
	{
		const char *repos[] = { local };
		ps_cycle_result r[1];
		drv_run(ctx, 1, NULL, NULL, repos, 1, r);
		if (!strcmp(r[0].skipped, "locked"))
			fail_msg("the tick after the kill is skipped as locked: %s", r[0].json);
	}
}

/* F-CHILD-2 */
static void writeback_pipeline_ends(ps_ctx *ctx)
{
	const char *local = ps_keep(ctx, "local");
	ps_cycle_result r;
	fx_pair(ctx, 2);
	/* `yes` must die of SIGPIPE (status 141) once head has its line; with
	 * SIGPIPE ignored it would get EPIPE instead, or spin for ever */
	{
		/* in-process, the library's writeback is the caller's C function:
		 * the shell command belongs to the command line, so run that */
		const char *impl = getenv("PUSHSEAL_IMPL");
		int was_exec = impl && *impl;
		if (!was_exec)
			setenv("PUSHSEAL_IMPL", PUSHSEAL_CLI_PATH, 1);
		r = drv_fix(ctx, local,
			"(yes; echo $? > ../yes-status) | head -1 >/dev/null && "
			"grep -E '^Sig(Blk|Ign):' /proc/self/status > ../signals && "
			"echo bot >> data.txt && git add data.txt && git commit -qm 'bot: data'");
		if (!was_exec)
			unsetenv("PUSHSEAL_IMPL");
	}
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(r.sealed, 1);
	assert_str(or_file(ctx, "yes-status"), "141\n");
	assert_str(or_file(ctx, "signals"), "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
	assert_str(or_rev(ctx, ps_path(ctx, "remote.git"), "main").hex, or_rev(ctx, local, "HEAD").hex);
}

/* Run the reference CLI; its JSON line in *out (ring).  Returns the exit code. */
static int cli(ps_ctx *ctx, const char **out, const char *const *args)
{
	const char *argv[24];
	const char *err;
	int n = 0;
	argv[n++] = PUSHSEAL_CLI_PATH;
	for (; *args && n < 23; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	return ps_spawn(ctx, ctx->root, argv, out, &err);
}

/* Is a process whose command line holds `marker` alive? */
static int marker_alive(ps_ctx *ctx, const char *marker)
{
	const char *argv[] = { "pgrep", "-f", marker, NULL };
	return ps_spawn(ctx, NULL, argv, NULL, NULL) == 0;
}

/* F-CHILD-3 */
static void command_deadline_kills_writeback(ps_ctx *ctx)
{
	const char *local = ps_keep(ctx, "local");
	char marker[64];
	const char *args[] = { "fix", local, "--command-deadline", "1", "--writeback", NULL, NULL };
	const char *out;
	char field[64];
	long long t0;
	int rc;
	fx_pair(ctx, 2);
	snprintf(marker, sizeof(marker), "sleep 30.%d", (int)getpid());
	args[5] = ps_fmt(ctx, "echo bot >> data.txt && git add data.txt && git commit -qm 'bot: data' && %s", marker);
	t0 = ps_mono_ms();
	rc = cli(ctx, &out, args);
	if (ps_mono_ms() - t0 > 10000)
		fail_msg("fix with --command-deadline 1 took %lld ms", ps_mono_ms() - t0);
	assert_int_equal(rc, 1);
	ps_json_field(field, sizeof(field), out, "writeback_failed");
	assert_str(field, "true");
	ps_json_field(field, sizeof(field), out, "sealed");
	assert_str(field, "true");
	/* the commit it made before the deadline is sealed */
	assert_str(or_rev(ctx, ps_path(ctx, "remote.git"), "main").hex, or_rev(ctx, local, "HEAD").hex);
	assert_str(or_file(ctx, "local/data.txt"), "bot\n");
	if (marker_alive(ctx, marker))
		fail_msg("the writeback's `%s` outlived its deadline", marker);
}

/* F-CHILD-5: one row per way the writeback runs.  Its `sleep &` stays in
 * the writeback's process group; its `setsid sleep &` leaves it.  Neither
 * holds our pipes: the run's end is not theirs to delay. */
static void writeback_jobs_end_with_it(ps_ctx *ctx, int jobs)
{
	const char *how = jobs == 0 ? "fix" : jobs == 1 ? "run -j 1" : "run -j 2";
	char job[64], daemon[64];
	const char *wb, *out;
	int rc;
	/* unique to this test process and row: pgrep finds no one else's */
	snprintf(job, sizeof(job), "sleep 40.%d%d", (int)getpid(), jobs);
	snprintf(daemon, sizeof(daemon), "sleep 41.%d%d", (int)getpid(), jobs);
	fx_pair_named(ctx, "r1.git", "c1", 2);
	fx_pair_named(ctx, "r2.git", "c2", 2);
	/* the daemon says when it has left the group, and the writeback waits
	 * (bounded) for that: a daemon killed before its setsid() would be the
	 * writeback's race, not pushseal's */
	wb = ps_fmt(ctx, "echo bot >> data.txt && git add data.txt && git commit -qm 'bot: data' && "
		"{ %s </dev/null >/dev/null 2>&1 & } && "
		"{ setsid sh -c 'echo $$ > ../up.$0; exec %s' \"$(basename \"$PWD\")\" </dev/null >/dev/null 2>&1 & } && "
		"i=0 && while [ ! -s \"../up.$(basename \"$PWD\")\" ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done",
		job, daemon);
	if (jobs == 0) {
		const char *args[] = { "fix", ps_keep(ctx, ps_path(ctx, "c1")), "--writeback", wb, NULL };
		rc = cli(ctx, &out, args);
	} else {
		const char *args[] = { "run", "--remote", "-j", jobs == 1 ? "1" : "2", "--check", "false",
			"--writeback", wb, ps_keep(ctx, ps_path(ctx, "c1")), ps_keep(ctx, ps_path(ctx, "c2")), NULL };
		rc = cli(ctx, &out, args);
	}
	if (rc != 0)
		fail_msg("%s exited %d: %s", how, rc, out);
	/* sealed: the remote has the writeback's commit */
	assert_str(or_rev(ctx, ps_path(ctx, "r1.git"), "main").hex, or_rev(ctx, ps_path(ctx, "c1"), "HEAD").hex);
	{
		int job_alive = marker_alive(ctx, job), daemon_alive = marker_alive(ctx, daemon);
		const char *argv[] = { "pkill", "-f", daemon, NULL }, *argv2[] = { "pkill", "-f", job, NULL };
		ps_spawn(ctx, NULL, argv, NULL, NULL);
		ps_spawn(ctx, NULL, argv2, NULL, NULL);
		if (job_alive)
			fail_msg("%s: the writeback's background `%s` outlived the run", how, job);
		if (!daemon_alive)
			fail_msg("%s: the writeback's detached `setsid %s` was killed: a daemon is the user's", how, daemon);
	}
}

static void writeback_jobs_fix(ps_ctx *ctx) { writeback_jobs_end_with_it(ctx, 0); }
static void writeback_jobs_run_j1(ps_ctx *ctx) { writeback_jobs_end_with_it(ctx, 1); }
static void writeback_jobs_run_j2(ps_ctx *ctx) { writeback_jobs_end_with_it(ctx, 2); }

/* The descriptors of process pid that are neither 0-2 nor a pipe or a
 * socket: "" when there are none. */
static const char *foreign_fds(ps_ctx *ctx, pid_t pid)
{
	char dir[64], list[4096] = "";
	DIR *d;
	struct dirent *e;
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	if (!(d = opendir(dir)))
		return "";
	while ((e = readdir(d)) != NULL) {
		char path[400], target[1024];
		ssize_t n;
		if (e->d_name[0] == '.' || atoi(e->d_name) <= 2)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if ((n = readlink(path, target, sizeof(target) - 1)) < 0)
			continue;
		target[n] = '\0';
		if (!strncmp(target, "pipe:", 5) || !strncmp(target, "socket:", 7))
			continue;
		snprintf(list + strlen(list), sizeof(list) - strlen(list), " %s=%s", e->d_name, target);
	}
	closedir(d);
	return ps_fmt(ctx, "%s", list);
}

/* F-CHILD-4 */
static void children_inherit_no_descriptor(ps_ctx *ctx)
{
	const char *local = ps_keep(ctx, "local");
	const char *args[] = { "run", "--remote", local, NULL };
	pid_t run, child = 0;
	long long end;
	int status;
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 1);
	/* the writeback, caught while it sleeps: what it holds, it inherited */
	{
		char marker[64];
		const char *fix[] = { "fix", local, "--writeback", NULL, NULL };
		pid_t sleeper = 0;
		snprintf(marker, sizeof(marker), "3.%d", (int)getpid());
		fix[3] = ps_fmt(ctx, "exec sleep %s", marker);
		unsetenv("PUSHSEAL_IMPL"); /* the reference's own children */
		run = start_impl(ctx, "f-child-4", fix);
		for (end = ps_mono_ms() + 5000; !sleeper && ps_mono_ms() < end; sleep_ms(20)) {
			const char *argv[] = { "pgrep", "-x", "-f", ps_fmt(ctx, "sleep %s", marker), NULL };
			const char *out;
			if (ps_spawn(ctx, NULL, argv, &out, NULL) == 0)
				sleeper = (pid_t)atoi(out);
		}
		if (!sleeper)
			fail_msg("the writeback never started");
		{
			const char *fds = foreign_fds(ctx, sleeper);
			kill(-sleeper, SIGKILL);
			kill(run, SIGKILL);
			waitpid(run, &status, 0);
			if (*fds)
				fail_msg("the writeback inherited descriptors:%s", fds);
		}
	}
	/* the network child, caught while it waits on a silent server */
	fx_ahead(ctx, "local", 1);
	fx_set_url(ctx, "local", "origin", ps_fmt(ctx, "git://127.0.0.1:%d/remote.git", silent_port(ctx)));
	setenv("PUSHSEAL_DEADLINE_S", "3", 1);
	run = start_impl(ctx, "f-child-4", args);
	child = 0;
	for (end = ps_mono_ms() + 2500; !child && ps_mono_ms() < end; sleep_ms(20))
		child = ps_child_of(run);
	if (!child)
		fail_msg("no network child of the run appeared");
	sleep_ms(300); /* past its start-up: what it holds now, it holds while it waits */
	{
		const char *fds = foreign_fds(ctx, child);
		kill(run, SIGKILL);
		waitpid(run, &status, 0);
		if (*fds)
			fail_msg("the network child holds inherited descriptors:%s", fds);
	}
}

/* A crash at a test hook point of the reference: PUSHSEAL_TEST_HOOK_<point>
 * kills the run (`kill -9 $PPID` from the hook's shell). */
static void fix_killed_at(ps_ctx *ctx, const char *repo, const char *point)
{
	const char *args[] = { "fix", repo, NULL };
	const char *out;
	int rc;
	char name[64];
	snprintf(name, sizeof(name), "PUSHSEAL_TEST_HOOK_%s", point);
	setenv(name, "kill -9 $PPID", 1);
	rc = cli(ctx, &out, args);
	unsetenv(name);
	if (rc != 128 + SIGKILL && rc != -1 && rc != 137)
		fail_msg("fix was meant to die at %s, but exited %d: %s", point, rc, out);
}

/* F-LOCK-3 */
static void recovery_leaves_live_index_lock(ps_ctx *ctx)
{
	const char *local = ps_keep(ctx, "local"), *fifo = ps_keep(ctx, "editor.fifo");
	const char *repos[] = { local };
	ps_cycle_result r[1];
	pid_t person;
	fx_pair(ctx, 2);
	fx_behind(ctx, "remote.git", 1);
	/* a run dies with its journal open, before taking any lock */
	fix_killed_at(ctx, local, "MOVE_JOURNALED");
	/* then a person's commit takes index.lock, and a tick runs recovery */
	person = start_commit_in_editor(ctx, local, fifo, "a person's edit\n");
	drv_run(ctx, 1, NULL, NULL, repos, 1, r);
	if (!or_exists(ctx, "local/.git/index.lock"))
		fail_msg("recovery removed a live git commit's index.lock: %s", r[0].json);
	assert_str(r[0].skipped, "c16");
	finish_commit(ctx, person, fifo);
	/* the commit diverges from the remote's new commit: the tick stops at
	 * c16 as diverged; nothing of the person's is lost */
	assert_str(or_file(ctx, "local/log.txt"), "a person's edit\n");
	assert_str(or_status(ctx, local), "");
}

/* F-LOCK-4 */
static void linked_worktree_crash_recovers(ps_ctx *ctx)
{
	const char *local = ps_keep(ctx, "local"), *wt = ps_keep(ctx, "wt");
	const char *repos[] = { wt };
	ps_cycle_result r[1];
	ps_rev before;
	fx_pair(ctx, 2);
	{
		/* the main worktree parks on another branch; the linked one has main */
		const char *out;
		assert_int_equal(or_git(ctx, &out, local, "checkout", "-q", "-b", "parking", NULL), 0);
		assert_int_equal(or_git(ctx, &out, local, "worktree", "add", "-q", wt, "main", NULL), 0);
	}
	fx_behind(ctx, "remote.git", 2);
	before = or_rev(ctx, wt, "HEAD");
	fix_killed_at(ctx, wt, "MOVE_CHECKED_OUT");
	/* the dead run held the branch ref (in the common dir) and the
	 * worktree's index.lock */
	assert_true(or_exists(ctx, "local/.git/refs/heads/main.lock"));
	assert_true(or_exists(ctx, "local/.git/worktrees/wt/index.lock"));
	assert_str(or_rev(ctx, wt, "HEAD").hex, before.hex);
	drv_run(ctx, 1, NULL, NULL, repos, 1, r);
	if (!strcmp(r[0].skipped, "locked") || !strcmp(r[0].skipped, "c16"))
		fail_msg("the tick after a crash in a linked worktree did not recover: %s", r[0].json);
	assert_str(or_rev(ctx, wt, "HEAD").hex, or_rev(ctx, ps_path(ctx, "remote.git"), "main").hex);
	assert_str(or_status(ctx, wt), "");
	assert_false(or_exists(ctx, "local/.git/refs/heads/main.lock"));
	assert_false(or_exists(ctx, "local/.git/worktrees/wt/index.lock"));
}

/* ---- F-STEP: a kill at every step boundary of pull and push ---------------- */

typedef struct step {
	const char *point;   /* the reference's test hook */
	const char *where;   /* a part of PUSHSEAL_TEST_HOOK_ARG to kill at ("": any) */
	int behind;          /* 1: the remote moved (a pull); 0: only our writeback (a push) */
} step;

static const step steps[] = {
	{ "FETCH_TRANSFERRED", "", 1 },                    /* after the fetch's transfer */
	{ "REF_LOCKED", "/refs/remotes/origin/main", 1 },  /* before the tracking-ref update */
	{ "MOVE_CHECKED_OUT", "", 1 },                     /* after the checkout */
	{ "MOVE_INDEX_WRITTEN", "", 1 },                   /* before the branch update */
	{ "REF_RENAMED", "local/.git/refs/heads/main", 1 },  /* after the branch update */
	{ "PACK_WRITTEN", "", 0 },                         /* after writing the pack */
	{ "REF_RENAMED", "remote.git/refs/heads/main", 0 },  /* after the remote ref update */
	{ "PUSH_TRACKING", "", 0 },                        /* before the tracking-ref update */
};

/* git's own lock files under dir: "" when there are none */
static const char *git_locks(ps_ctx *ctx, const char *dir)
{
	const char *argv[] = { "/bin/sh", "-c", NULL, NULL };
	const char *out, *err;
	argv[2] = ps_fmt(ctx, "cd '%s' && find . \\( -name index.lock -o -name HEAD.lock -o -name packed-refs.lock "
		"-o -name config.lock -o -name shallow.lock -o -path './refs/*.lock' -o -name 'pushseal-tmp.*' "
		"-o -path './objects/pack/*.lock' \\) -print", dir);
	ps_spawn(ctx, NULL, argv, &out, &err);
	return out;
}

static void fsck_clean(ps_ctx *ctx, const char *dir)
{
	const char *out;
	if (or_git(ctx, &out, dir, "fsck", "--no-progress", "--no-dangling", NULL) != 0)
		fail_msg("git fsck in %s: %s", dir, out);
}

/* One step: kill `fix` there, then one tick must converge, nothing lost. */
static void step_converges(ps_ctx *ctx, const step *st)
{
	const char *local = ps_keep(ctx, "local"), *remote = ps_keep(ctx, "remote.git");
	const char *args[] = { "fix", local, "--writeback", NULL, NULL };
	const char *repos[] = { local };
	ps_cycle_result r[1];
	const char *out;
	char hook[600], made[64];
	int rc;
	fx_pair(ctx, 2);
	if (st->behind)
		fx_behind(ctx, "remote.git", 1);
	args[3] = ps_fmt(ctx, "echo bot >> data.txt && git add data.txt && git commit -qm 'bot: data' && "
		"git rev-parse HEAD > '%s/made'", ctx->root);
	snprintf(hook, sizeof(hook), "case \"$PUSHSEAL_TEST_HOOK_ARG\" in *%s*) kill -9 $PPID;; esac", st->where);
	setenv(ps_fmt(ctx, "PUSHSEAL_TEST_HOOK_%s", st->point), hook, 1);
	rc = cli(ctx, &out, args);
	unsetenv(ps_fmt(ctx, "PUSHSEAL_TEST_HOOK_%s", st->point));
	if (rc != 128 + SIGKILL && rc != -1)
		fail_msg("%s %s: fix was meant to die there, but exited %d: %s", st->point, st->where, rc, out);
	snprintf(made, sizeof(made), "%s", or_exists(ctx, "made") ? or_file(ctx, "made") : "");
	made[strcspn(made, "\n")] = '\0';

	drv_run(ctx, 1, NULL, NULL, repos, 1, r);
	if (r[0].exit_code != 0)
		fail_msg("%s %s: the tick after the kill exited %d: %s", st->point, st->where, r[0].exit_code, r[0].json);
	assert_str(or_rev(ctx, local, "HEAD").hex, or_rev(ctx, remote, "main").hex);
	assert_str(or_rev(ctx, local, "origin/main").hex, or_rev(ctx, remote, "main").hex);
	if (*made && !or_is_ancestor(ctx, remote, made, "main"))
		fail_msg("%s %s: the writeback's commit %s was lost", st->point, st->where, made);
	assert_str(or_status(ctx, local), "");
	fsck_clean(ctx, local);
	fsck_clean(ctx, remote);
	{
		char left[4096];
		snprintf(left, sizeof(left), "%s%s", git_locks(ctx, ps_fmt(ctx, "%s/.git", local)), git_locks(ctx, remote));
		if (*left)
			fail_msg("%s %s: left behind after the next tick:\n%s", st->point, st->where, left);
	}
}

static void step_after_fetch(ps_ctx *ctx) { step_converges(ctx, &steps[0]); }
static void step_before_tracking(ps_ctx *ctx) { step_converges(ctx, &steps[1]); }
static void step_after_checkout(ps_ctx *ctx) { step_converges(ctx, &steps[2]); }
static void step_before_branch(ps_ctx *ctx) { step_converges(ctx, &steps[3]); }
static void step_after_branch(ps_ctx *ctx) { step_converges(ctx, &steps[4]); }
static void step_after_pack(ps_ctx *ctx) { step_converges(ctx, &steps[5]); }
static void step_after_remote_ref(ps_ctx *ctx) { step_converges(ctx, &steps[6]); }
static void step_before_push_tracking(ps_ctx *ctx) { step_converges(ctx, &steps[7]); }

static const struct CMUnitTest tests[] = {
	NET_CLAUSE("F-LOCK-1", "a network deadline leaves a live git commit's index.lock, and that commit then completes", deadline_leaves_live_index_lock),
	CLAUSE("F-LOCK-2", "a push held past its deadline leaves the lock another writer took meanwhile in the remote", local_push_leaves_live_ref_lock),
	CLAUSE("F-LOCK-3", "recovery after a run killed with its journal open leaves a live git commit's index.lock", recovery_leaves_live_index_lock),
	CLAUSE("F-LOCK-4", "a run killed mid-pull in a linked worktree is recovered by the next tick, which converges", linked_worktree_crash_recovers),
	NET_CLAUSE("F-CHILD-1", "a run killed with SIGKILL while it waits on a silent server leaves no process, and no lock", killed_run_leaves_no_process),
	CLAUSE("F-CHILD-2", "a writeback runs with default signals: `yes | head -1` ends by SIGPIPE and the tick seals", writeback_pipeline_ends),
	CLAUSE("F-CHILD-3", "a writeback past --command-deadline is killed with its group and reported", command_deadline_kills_writeback),
	CLAUSE("F-STEP-1", "killed after the fetch's transfer: the next tick converges, fsck clean, no lock", step_after_fetch),
	CLAUSE("F-STEP-2", "killed holding the tracking ref's lock: the next tick converges, no lock left", step_before_tracking),
	CLAUSE("F-STEP-3", "killed after the checkout, before index and branch: converges, nothing lost", step_after_checkout),
	CLAUSE("F-STEP-4", "killed with the index written but the branch not: the next tick finishes the pull", step_before_branch),
	CLAUSE("F-STEP-5", "killed after the branch update, before its lock is dropped: converges, no lock", step_after_branch),
	CLAUSE("F-STEP-6", "killed with the pack written but not published: converges, no temporary left in the remote", step_after_pack),
	CLAUSE("F-STEP-7", "killed after the remote ref update, before its lock is dropped: converges, no lock", step_after_remote_ref),
	CLAUSE("F-STEP-8", "killed before the tracking-ref update of a push: converges, nothing lost", step_before_push_tracking),
	CLAUSE("F-CHILD-4", "the writeback and the network child inherit no descriptor but 0, 1, 2 and pipes or sockets", children_inherit_no_descriptor),
	CLAUSE("F-CHILD-5", "fix: the writeback's background job ends with it, its setsid daemon does not", writeback_jobs_fix),
	CLAUSE("F-CHILD-5", "run -j 1: the writeback's background job ends with it, its setsid daemon does not", writeback_jobs_run_j1),
	CLAUSE("F-CHILD-5", "run -j 2: the writeback's background job ends with it, its setsid daemon does not", writeback_jobs_run_j2),
};

int main(void)
{
	ps_harness_init();
	return PS_RUN("F-LOCK", tests);
}
