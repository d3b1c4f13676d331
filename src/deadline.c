/*
 * Deadlines for network calls.  libgit2 1.5 has no timeout option, and a
 * server that accepts a connection and never answers would hang a fetch for
 * ever.  So the network work runs in a fork()ed child that the parent kills
 * when the deadline passes.  A killed child cannot leak memory or sockets
 * into the parent; what it can leave behind is lock files, which are removed
 * here (only the ones that appeared while the child ran).
 */
#define _GNU_SOURCE
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int ps_parse_seconds(int *out_ms, const char *text)
{
	char *end = NULL;
	double s;
	if (!text || !*text)
		return -1;
	errno = 0;
	s = strtod(text, &end);
	if (errno || end == text || *end || !(s > 0) || s > 86400)
		return -1;
	*out_ms = (int)(s * 1000.0 + 0.5);
	if (*out_ms < 1)
		*out_ms = 1;
	return 0;
}

int ps_deadline_ms(int requested_ms, int default_ms)
{
	int env_ms;
	if (ps_parse_seconds(&env_ms, getenv("PUSHSEAL_DEADLINE_S")) == 0)
		return env_ms;
	return requested_ms > 0 ? requested_ms : default_ms;
}

/* A list of lock-file paths, to tell new locks from old ones. */
typedef struct lockset {
	char **paths;
	size_t len, cap;
} lockset;

static void lockset_add(lockset *s, const char *path)
{
	if (s->len == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		char **p = realloc(s->paths, cap * sizeof(*p));
		if (!p)
			return;
		s->paths = p;
		s->cap = cap;
	}
	if ((s->paths[s->len] = strdup(path)) != NULL)
		s->len++;
}

static int lockset_has(const lockset *s, const char *path)
{
	for (size_t i = 0; i < s->len; i++)
		if (strcmp(s->paths[i], path) == 0)
			return 1;
	return 0;
}

static void lockset_free(lockset *s)
{
	for (size_t i = 0; i < s->len; i++)
		free(s->paths[i]);
	free(s->paths);
	memset(s, 0, sizeof(*s));
}

/* Collect *.lock files under dir, skipping objects/ (no locks live there). */
static void scan_locks(lockset *s, const char *dir, int depth)
{
	DIR *d;
	struct dirent *e;
	if (depth > 12 || !(d = opendir(dir)))
		return;
	while ((e = readdir(d)) != NULL) {
		char path[4096];
		size_t n = strlen(e->d_name);
		struct stat st;
		if (e->d_name[0] == '.' && (n == 1 || (n == 2 && e->d_name[1] == '.')))
			continue;
		if (depth == 0 && strcmp(e->d_name, "objects") == 0)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path))
			continue;
		if (lstat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			scan_locks(s, path, depth + 1);
		else if (n > 5 && strcmp(e->d_name + n - 5, ".lock") == 0)
			lockset_add(s, path);
	}
	closedir(d);
}

static void remove_new_locks(const lockset *before, const char *const *watch)
{
	for (; watch && *watch; watch++) {
		lockset after = { 0 };
		scan_locks(&after, *watch, 0);
		for (size_t i = 0; i < after.len; i++)
			if (!lockset_has(before, after.paths[i]))
				unlink(after.paths[i]);
		lockset_free(&after);
	}
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

/* A child that will speak TLS or ssh must not inherit the parent's random
 * state (mbedTLS's is copied by fork: children would send identical
 * randoms), so it re-initialises libgit2 and restores the parent's search
 * paths and owner validation.  That re-reads the CA bundle, which costs
 * about a third of a local fetch, so only children that need it do it. */
#define PS_LEVELS 4
static const int search_levels[PS_LEVELS] = {
	GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG, GIT_CONFIG_LEVEL_GLOBAL, GIT_CONFIG_LEVEL_PROGRAMDATA,
};

static void child_reinit(git_buf *paths, int owner_validation)
{
	while (git_libgit2_shutdown() > 0)
		;
	git_libgit2_init();
	for (int i = 0; i < PS_LEVELS; i++)
		if (paths[i].ptr)
			git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, search_levels[i], paths[i].ptr);
	git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, owner_validation);
}

static git_buf *child_paths;
static int child_owner_validation = 1;
static int in_child;

void ps_child_fresh_libgit2(void)
{
	if (in_child)
		child_reinit(child_paths, child_owner_validation);
}

int ps_url_needs_fresh(const char *url)
{
	if (!url)
		return 1;
	if (!strncmp(url, "git://", 6) || !strncmp(url, "file://", 7) || url[0] == '/' || url[0] == '.')
		return 0;
	return 1; /* https://, http:// (may redirect), ssh://, user@host:path, ... */
}

int ps_deadline_run(void *out, size_t out_size, ps_child_fn fn, void *payload,
	int deadline_ms, const char *what, const char *const *watch, pushseal_error *err)
{
	git_buf paths[PS_LEVELS] = { GIT_BUF_INIT, GIT_BUF_INIT, GIT_BUF_INIT, GIT_BUF_INIT };
	int owner_validation = 1;
	lockset before = { 0 };
	size_t msg_size = sizeof(int) + sizeof(pushseal_error) + out_size;
	unsigned char *msg;
	int fds[2], status, rc = PUSHSEAL_E_INTERNAL;
	size_t got = 0;
	long long end;
	pid_t pid;

	if (!(msg = calloc(1, msg_size)))
		return ps_error_set(err, PUSHSEAL_E_INTERNAL, "out of memory");
	for (int i = 0; i < PS_LEVELS; i++)
		git_libgit2_opts(GIT_OPT_GET_SEARCH_PATH, search_levels[i], &paths[i]);
	git_libgit2_opts(GIT_OPT_GET_OWNER_VALIDATION, &owner_validation);
	for (const char *const *w = watch; w && *w; w++)
		scan_locks(&before, *w, 0);

	if (pipe2(fds, O_CLOEXEC) != 0) {
		rc = ps_error_set(err, PUSHSEAL_E_INTERNAL, "pipe: %s", strerror(errno));
		goto done;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		rc = ps_error_set(err, PUSHSEAL_E_INTERNAL, "fork: %s", strerror(errno));
		goto done;
	}
	if (pid == 0) {
		pushseal_error cerr;
		int crc;
		/* every byte goes down the pipe: no uninitialised tail after the message */
		memset(&cerr, 0, sizeof(cerr));
		close(fds[0]);
		/* a git:// peer that goes away must not kill us with SIGPIPE */
		signal(SIGPIPE, SIG_IGN);
		in_child = 1;
		child_paths = paths;
		child_owner_validation = owner_validation;
		ps_error_clear(&cerr);
		crc = fn(msg + sizeof(int) + sizeof(pushseal_error), payload, &cerr);
		memcpy(msg, &crc, sizeof(int));
		memcpy(msg + sizeof(int), &cerr, sizeof(cerr));
		_exit(write_all(fds[1], msg, msg_size) == 0 ? 0 : 3);
	}

	close(fds[1]);
	end = now_ms() + deadline_ms;
	while (got < msg_size) {
		struct pollfd p = { fds[0], POLLIN, 0 };
		long long left = end - now_ms();
		ssize_t r;
		if (left <= 0)
			break;
		r = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;
		r = read(fds[0], msg + got, msg_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fds[0]);

	if (got == msg_size) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		memcpy(&rc, msg, sizeof(int));
		if (err)
			memcpy(err, msg + sizeof(int), sizeof(*err));
		if (out && out_size)
			memcpy(out, msg + sizeof(int) + sizeof(pushseal_error), out_size);
	} else {
		int timed_out = now_ms() >= end;
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		remove_new_locks(&before, watch);
		if (timed_out)
			rc = ps_error_set(err, PUSHSEAL_E_TIMEOUT, "%s: no answer within %d.%03d s",
				what, deadline_ms / 1000, deadline_ms % 1000);
		else
			rc = ps_error_set(err, PUSHSEAL_E_INTERNAL, "%s: worker process died", what);
	}
done:
	lockset_free(&before);
	for (int i = 0; i < PS_LEVELS; i++)
		git_buf_dispose(&paths[i]);
	free(msg);
	return rc;
}
