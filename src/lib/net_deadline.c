/*
 * Deadlines for network calls.  libgit2 1.5 has no timeout option, and a
 * server that accepts a connection and never answers would hang a fetch for
 * ever.  So the network transfer runs in a fork()ed child that is killed
 * when the deadline passes.
 *
 * The rule that keeps this safe beside other git processes: the child that
 * a deadline may kill never holds a lock.  It only talks to the server and
 * downloads into a temporary pack file (git's own convention, which gc
 * cleans); every ref, index or worktree update happens in the parent, after
 * the child has exited cleanly.  So a killed child needs no lock cleanup at
 * all, and nothing here ever removes a file.
 *
 * The child also never outlives its deadline or its parent: it leads its
 * own session and process group (a credential helper it starts stays in
 * it, with no terminal to prompt on),
 * arms its own alarm, and asks the kernel for a signal when the parent
 * dies; each of those kills the whole group.  It closes every descriptor it
 * inherited (the per-repository flock among them).  It starts libgit2
 * afresh when it may speak TLS (no TLS random state is shared between
 * siblings) or when it inherited pack files (libgit2's pack cache would
 * point at the descriptors it closed), and then opens the repository again
 * from its path; otherwise it keeps the parent's libgit2 and works on the
 * parent's repository handle, which holds no descriptor: the parent drops
 * its packs before the fork (ps_repo_drop_packs), and config, refs and the
 * index live in memory.
 */
#define _GNU_SOURCE
#include "internal.h"
#include "seconds.h"

#include <git2/sys/repository.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The most a child may send back: far above any real fetch's ref list. */
#define PS_CHILD_OUT_MAX ((size_t)64 << 20)

int ps_parse_seconds(int *out_ms, const char *text)
{
	return ps_seconds_parse(out_ms, text, PS_SECONDS_DEADLINE_MIN_MS, PS_SECONDS_DEADLINE_MAX_MS);
}

int ps_deadline_ms(int requested_ms, int default_ms)
{
	int env_ms;
	if (ps_parse_seconds(&env_ms, getenv("PUSHSEAL_DEADLINE_S")) == 0)
		return env_ms;
	return requested_ms > 0 ? requested_ms : default_ms;
}

long long ps_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* the child ---------------------------------------------------------------- */

static int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The deadline, or the parent's death: take the whole group down, the
 * credential helper and anything it started included. */
static void kill_own_group(int sig)
{
	(void)sig;
	kill(0, SIGKILL);
	_exit(137);
}

#define PS_LEVELS 4
static const int search_levels[PS_LEVELS] = {
	GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG, GIT_CONFIG_LEVEL_GLOBAL, GIT_CONFIG_LEVEL_PROGRAMDATA,
};

/* Start libgit2 afresh: its caches may hold descriptors we just closed, and
 * mbedTLS's random state must not be a copy of the parent's.  Restores the
 * parent's search paths and owner validation. */
static void fresh_libgit2(git_buf *paths, int owner_validation)
{
	while (git_libgit2_shutdown() > 0)
		;
	git_libgit2_init();
	ps_transports_register(); /* ssh through OpenSSH (net_ssh_transport.c) */
	for (int i = 0; i < PS_LEVELS; i++)
		if (paths[i].ptr)
			git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, search_levels[i], paths[i].ptr);
	git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, owner_validation);
}

/* Does this process hold libgit2's pack files open (the parent read
 * objects before forking us)?  Its cache would then point at descriptors
 * we are about to close. */
int ps_holds_pack_files(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int found = 0;
	if (!d)
		return 1; /* cannot tell: assume so */
	while (!found && (e = readdir(d)) != NULL) {
		char link[300], target[4096];
		ssize_t n;
		if (e->d_name[0] == '.' || strtol(e->d_name, NULL, 10) == dirfd(d))
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		if ((n = readlink(link, target, sizeof(target) - 1)) > 0) {
			target[n] = '\0';
			found = strstr(target, "/objects/pack/") != NULL;
		}
	}
	closedir(d);
	return found;
}

void ps_repo_drop_packs(git_repository *repo)
{
	git_config *pinned = NULL;
	if (!ps_holds_pack_files())
		return;
	/* the same snapshot again: only the packs must go, nothing is re-read */
	git_repository_config(&pinned, repo);
	git_repository__cleanup(repo);
	if (pinned)
		git_repository_set_config(repo, pinned);
	git_config_free(pinned);
}

/* Set in a child that started libgit2 afresh (ps_deadline_child_fresh). */
static int child_fresh;

int ps_deadline_child_fresh(void)
{
	return child_fresh;
}

static void child_main(int wfd, pid_t parent, int deadline_ms, git_buf *paths, int owner_validation,
	int fresh, ps_child_fn fn, void *payload)
{
	struct sigaction sa;
	sigset_t none;
	pushseal_error cerr;
	ps_buf out = { 0 };
	int crc, fd;
	size_t len;

	/* keep 0, 1, 2 and our pipe; everything else (the flock, libgit2's
	 * pack files, the parent's sockets) is not ours.
	 * First of all: a worker that dies before it gets further must not
	 * hold the parent's repository lock while the kernel tears it down */
	if (wfd != 3) {
		if (dup2(wfd, 3) < 0)
			_exit(3);
		wfd = 3;
	}
	if (close_range(4, ~0U, 0) != 0)
		for (fd = 4; fd < 65536; fd++)
			close(fd);

	/* our own session and group: no controlling terminal for anything we
	 * start (a credential helper cannot prompt), and one kill reaches it all */
	setsid();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kill_own_group;
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
		_exit(137); /* the parent is already gone */
	alarm((unsigned int)(deadline_ms / 1000 + 2));
	/* a peer that goes away must not kill us with SIGPIPE */
	signal(SIGPIPE, SIG_IGN);

	child_fresh = fresh;
	if (fresh)
		fresh_libgit2(paths, owner_validation);
	else
		ps_transports_register(); /* ssh through OpenSSH, whoever set libgit2 up */

	memset(&cerr, 0, sizeof(cerr)); /* every byte goes down the pipe */
	ps_error_clear(&cerr);
	crc = fn(&out, payload, &cerr);
	len = out.len;
	if (write_all(wfd, &crc, sizeof(crc)) < 0 || write_all(wfd, &cerr, sizeof(cerr)) < 0 ||
	    write_all(wfd, &len, sizeof(len)) < 0 || (len && write_all(wfd, out.ptr, len) < 0))
		_exit(3);
	/* whatever we started (a credential helper's own helpers) ends with us */
	kill(0, SIGKILL);
	_exit(0);
}

/* the parent --------------------------------------------------------------- */

/* Read exactly n bytes before `end`; 0, or -1 on EOF, error or deadline. */
static int read_until(int fd, void *dst, size_t n, long long end)
{
	char *p = dst;
	while (n > 0) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		long long left = end - ps_now_ms();
		ssize_t r;
		if (left <= 0)
			return -1;
		r = poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left);
		if (r < 0 && errno != EINTR)
			return -1;
		if (r <= 0)
			continue;
		r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static void reap(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
}

int ps_deadline_run(ps_buf *out, ps_child_fn fn, void *payload, int deadline_ms, int tls, const char *what,
	pushseal_error *err)
{
	git_buf paths[PS_LEVELS] = { GIT_BUF_INIT, GIT_BUF_INIT, GIT_BUF_INIT, GIT_BUF_INIT };
	int owner_validation = 1, fds[2], status = 0, rc = PUSHSEAL_E_INTERNAL, crc = 0, ok = 0, fresh;
	pushseal_error cerr;
	size_t len = 0;
	long long end;
	pid_t pid, parent = getpid();

	for (int i = 0; i < PS_LEVELS; i++)
		git_libgit2_opts(GIT_OPT_GET_SEARCH_PATH, search_levels[i], &paths[i]);
	git_libgit2_opts(GIT_OPT_GET_OWNER_VALIDATION, &owner_validation);

	if (pipe2(fds, O_CLOEXEC) != 0) {
		rc = ps_error_set(err, PUSHSEAL_E_INTERNAL, "pipe: %s", strerror(errno));
		goto done;
	}
	/* libgit2 starts afresh in the child when it must: TLS needs random
	 * state of its own, and a pack cache over descriptors the child closes
	 * is unusable.  Otherwise the parent's state is clean to keep, and
	 * keeping it saves re-reading the CA bundle (most of a stable tick's
	 * CPU: bench/README.md).  Asked here: the child closes first thing. */
	fresh = tls || ps_holds_pack_files();
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		rc = ps_error_set(err, PUSHSEAL_E_INTERNAL, "fork: %s", strerror(errno));
		goto done;
	}
	if (pid == 0) {
		close(fds[0]);
		child_main(fds[1], parent, deadline_ms, paths, owner_validation, fresh, fn, payload);
	}
	close(fds[1]);
	end = ps_now_ms() + deadline_ms;
	memset(&cerr, 0, sizeof(cerr));
	if (read_until(fds[0], &crc, sizeof(crc), end) == 0 && read_until(fds[0], &cerr, sizeof(cerr), end) == 0 &&
	    read_until(fds[0], &len, sizeof(len), end) == 0 && len <= PS_CHILD_OUT_MAX) {
		char *data = malloc(len + 1);
		if (data && (len == 0 || read_until(fds[0], data, len, end) == 0)) {
			ok = 1;
			data[len] = '\0';
			if (out) {
				ps_buf_free(out);
				out->ptr = data;
				out->len = len;
				out->cap = len + 1;
				data = NULL;
			}
		}
		free(data);
	}
	close(fds[0]);
	if (ok) {
		reap(pid, &status);
		rc = crc;
		cerr.message[sizeof(cerr.message) - 1] = '\0';
		if (err)
			*err = cerr;
	} else {
		int timed_out = ps_now_ms() >= end;
		kill(-pid, SIGKILL); /* the child's session: it and whatever it started */
		kill(pid, SIGKILL);  /* in case it had not called setsid() yet */
		reap(pid, &status);
		if (timed_out)
			rc = ps_error_set(err, PUSHSEAL_E_TIMEOUT, "%s: no answer within %d.%03d s",
				what, deadline_ms / 1000, deadline_ms % 1000);
		else if (WIFSIGNALED(status))
			/* an OOM kill, a supervisor: nothing of ours was changed (the
			 * worker holds no lock and writes no ref), so a retry will do */
			rc = ps_error_set(err, PUSHSEAL_E_UNREACHABLE,
				"%s: the network worker was killed (signal %d) before it answered; nothing changed",
				what, WTERMSIG(status));
		else
			rc = ps_error_set(err, PUSHSEAL_E_INTERNAL, "%s: worker process died (status %d)", what,
				WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
done:
	for (int i = 0; i < PS_LEVELS; i++)
		git_buf_dispose(&paths[i]);
	return rc;
}
