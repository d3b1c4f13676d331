/*
 * The worker pool (pool.h).  Each worker owns two pipes: the supervisor
 * writes it repository indexes (a size_t each; end of file: stop), and the
 * worker answers each with one record: a header (failed, the report, the
 * line's length) and the line's bytes.  A worker that dies mid-repository
 * is seen as end of file on its answer pipe: that repository is reported
 * lost and a new worker takes the rest.  Indexes are handed out one at a
 * time as workers finish, so a slow repository never holds up the others.
 */
#define _GNU_SOURCE
#include "pool.h"
#include "proc_stat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct record_head {
	int failed;
	pushseal_report report;
	size_t len;
} record_head;

typedef struct worker {
	pid_t pid;     /* 0: not running */
	int to;        /* the supervisor's end of the index pipe, -1 closed */
	int from;      /* the supervisor's end of the answer pipe */
	size_t busy;   /* the index it works on, or SIZE_MAX when idle */
} worker;

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* 0: all of it; 1: end of file before the first byte; -1: a short read or an error. */
static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;
	while (got < len) {
		ssize_t r = read(fd, p + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return got == 0 ? 1 : -1;
		if (r < 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* The worker's loop: an index in, a record out, until end of file. */
static void __attribute__((noreturn)) work(int in, int out, cli_pool_fn fn, void *payload)
{
	size_t index;
	while (read_all(in, &index, sizeof(index)) == 0) {
		record_head head;
		char *line = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&line, &len);
		memset(&head, 0, sizeof(head));
		if (!f)
			_exit(1);
		head.failed = fn(&head.report, f, index, payload) != 0;
		if (fclose(f) != 0)
			_exit(1);
		head.len = len;
		if (write_all(out, &head, sizeof(head)) < 0 || write_all(out, line, len) < 0)
			_exit(1);
		free(line);
	}
	_exit(0);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Start worker w; every other worker's pipe ends are closed in it, so that
 * closing one worker's index pipe is that worker's end of file. */
static int start(worker *ws, size_t nw, size_t w, pid_t parent, cli_pool_fn fn, void *payload)
{
	int to[2], from[2];
	pid_t pid;
	if (pipe2(to, O_CLOEXEC) != 0)
		return -1;
	if (pipe2(from, O_CLOEXEC) != 0) {
		close(to[0]);
		close(to[1]);
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(to[0]);
		close(to[1]);
		close(from[0]);
		close(from[1]);
		return -1;
	}
	if (pid == 0) {
		/* a worker never outlives the tick that started it */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
			_exit(1);
		for (size_t k = 0; k < nw; k++) {
			close_fd(&ws[k].to);
			close_fd(&ws[k].from);
		}
		close(to[1]);
		close(from[0]);
		work(to[0], from[1], fn, payload);
	}
	close(to[0]);
	close(from[1]);
	ws[w].pid = pid;
	ws[w].to = to[1];
	ws[w].from = from[0];
	ws[w].busy = SIZE_MAX;
	return 0;
}

/* Stop worker w: end of file on its index pipe, then reap it.  Returns
 * the signal that killed it, 0 when it exited. */
static int stop(worker *w)
{
	int status = 0;
	close_fd(&w->to);
	close_fd(&w->from);
	if (w->pid > 0)
		while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
			;
	w->pid = 0;
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

/* The supervisor is a child subreaper: what a dead worker left running (a
 * writeback's children, in the writeback's process group) is reparented to
 * us.  Kill each such orphan's process group and reap it, so no child
 * outlives the worker that started it.  Never a live worker, never a
 * process that leads its own group (a daemon, detached on purpose). */
static void kill_orphans(const worker *ws, size_t nw)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t self = getpid();
	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		ps_proc_info info;
		long pid;
		int is_worker = 0;
		if ((pid = strtol(e->d_name, NULL, 10)) <= 0 || ps_proc_info_read(&info, (pid_t)pid) != 0 ||
		    info.ppid != self)
			continue;
		for (size_t w = 0; w < nw; w++)
			if (ws[w].pid == (pid_t)pid)
				is_worker = 1;
		/* a group leader of its own left on purpose: a daemon (git's
		 * detached auto-gc calls setsid()), which may hold git's lock
		 * files; killing it would strand them.  A dead writeback's
		 * children are in the writeback's group, led by the dead shell. */
		if (is_worker || info.pgrp == pid)
			continue;
		if (info.pgrp > 1 && info.pgrp != (long)getpgrp())
			kill(-(pid_t)info.pgrp, SIGKILL);
		kill((pid_t)pid, SIGKILL);
		while (waitpid((pid_t)pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	closedir(d);
}

/* Hand worker w the next index, or stop it when none is left. */
static void feed(worker *w, size_t *next, size_t n, cli_pool_result *results)
{
	if (*next >= n) {
		stop(w);
		return;
	}
	w->busy = (*next)++;
	if (write_all(w->to, &w->busy, sizeof(w->busy)) < 0) {
		results[w->busy].failed = 1; /* have stays 0: reported lost */
		w->busy = SIZE_MAX;
		stop(w);
	}
}

/* Read worker w's answer; 0 on a whole record, -1 when it died. */
static int answer(worker *w, cli_pool_result *results)
{
	record_head head;
	cli_pool_result *res = &results[w->busy];
	char *line;
	if (read_all(w->from, &head, sizeof(head)) != 0)
		return -1;
	if (!(line = malloc(head.len + 1)) || read_all(w->from, line, head.len) != 0) {
		free(line);
		return -1;
	}
	line[head.len] = '\0';
	res->have = 1;
	res->failed = head.failed;
	res->report = head.report;
	res->line = line;
	w->busy = SIZE_MAX;
	return 0;
}

int cli_pool_run(cli_pool_result *results, size_t n, int jobs, cli_pool_fn fn, void *payload)
{
	size_t nw = jobs < 1 ? 1 : (size_t)jobs, next = 0, live = 0, deaths = 0;
	pid_t parent = getpid();
	worker *ws;
	struct pollfd *pfds;
	if (nw > n)
		nw = n;
	if (nw == 0)
		return 0; /* nothing to tick */
	ws = calloc(nw, sizeof(*ws));
	pfds = calloc(nw, sizeof(*pfds));
	if (!ws || !pfds) {
		free(ws);
		free(pfds);
		errno = ENOMEM;
		return -1;
	}
	for (size_t w = 0; w < nw; w++)
		ws[w].to = ws[w].from = -1;
	/* a dead worker's orphans come to us (kill_orphans) */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	for (size_t w = 0; w < nw; w++) {
		if (start(ws, nw, w, parent, fn, payload) == 0) {
			live++;
			feed(&ws[w], &next, n, results);
		}
	}
	if (live == 0) {
		free(ws);
		free(pfds);
		return -1;
	}
	for (;;) {
		size_t np = 0;
		for (size_t w = 0; w < nw; w++)
			if (ws[w].pid > 0 && ws[w].busy != SIZE_MAX)
				pfds[np++] = (struct pollfd){ .fd = ws[w].from, .events = POLLIN };
		if (np == 0)
			break;
		if (poll(pfds, np, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (size_t w = 0; w < nw; w++) {
			int ready = 0;
			for (size_t p = 0; p < np; p++)
				if (pfds[p].fd == ws[w].from && pfds[p].revents)
					ready = 1;
			if (!ready || ws[w].pid <= 0)
				continue;
			if (answer(&ws[w], results) == 0) {
				feed(&ws[w], &next, n, results);
				continue;
			}
			/* it died mid-repository: that one is lost, a new worker goes on
			 * (bounded, so a crash on every repository cannot loop for ever) */
			results[ws[w].busy].failed = 1;
			results[ws[w].busy].died_signal = stop(&ws[w]);
			ws[w].busy = SIZE_MAX;
			kill_orphans(ws, nw);
			if (next < n && deaths++ < n && start(ws, nw, w, parent, fn, payload) == 0)
				feed(&ws[w], &next, n, results);
		}
	}
	/* every worker is told to stop and reaped; an index never handed out
	 * (no worker could be started again) stays "lost" */
	for (size_t w = 0; w < nw; w++)
		stop(&ws[w]);
	for (size_t i = next; i < n; i++)
		results[i].failed = 1;
	kill_orphans(ws, 0); /* none should be left; if one is, it ends with the tick */
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	free(ws);
	free(pfds);
	return 0;
}

void cli_pool_results_free(cli_pool_result *results, size_t n)
{
	for (size_t i = 0; results && i < n; i++)
		free(results[i].line);
	free(results);
}
