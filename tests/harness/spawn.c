/* Running a child process with captured output and a bounded lifetime. */
#define _GNU_SOURCE
#include "harness.h"
#include "proc_stat.h" /* the library's own reader (src/util) */

#include <dirent.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SPAWN_LIMIT_S 120

long long ps_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ps_spawn(ps_ctx *ctx, const char *dir, const char *const *argv, const char **out, const char **errout)
{
	int po[2], pe[2], status = 0;
	char *obuf = ctx->ring[ctx->ring_next++ % 8];
	char *ebuf = ctx->ring[ctx->ring_next++ % 8];
	size_t on = 0, en = 0, cap = sizeof(ctx->ring[0]) - 1;
	long long end = ps_mono_ms() + SPAWN_LIMIT_S * 1000;
	pid_t pid;

	if (pipe2(po, O_CLOEXEC) != 0 || pipe2(pe, O_CLOEXEC) != 0)
		fail_msg("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		/* what we run starts as from a shell: SIGPIPE at its default (the
		 * harness itself ignores it) */
		signal(SIGPIPE, SIG_DFL);
		dup2(devnull, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		if (dir && chdir(dir) != 0)
			_exit(126);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	{
		struct pollfd p[2] = { { po[0], POLLIN, 0 }, { pe[0], POLLIN, 0 } };
		int open_fds = 2;
		while (open_fds > 0) {
			long long left = end - ps_mono_ms();
			if (left <= 0) {
				kill(pid, SIGKILL);
				break;
			}
			if (poll(p, 2, (int)left) <= 0)
				continue;
			for (int i = 0; i < 2; i++) {
				char tmp[4096];
				ssize_t r;
				if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
					continue;
				r = read(p[i].fd, tmp, sizeof(tmp));
				if (r <= 0) {
					close(p[i].fd);
					p[i].fd = -1;
					open_fds--;
					continue;
				}
				char *buf = i == 0 ? obuf : ebuf;
				size_t *n = i == 0 ? &on : &en;
				size_t take = (size_t)r < cap - *n ? (size_t)r : cap - *n;
				memcpy(buf + *n, tmp, take);
				*n += take;
			}
		}
		for (int i = 0; i < 2; i++)
			if (p[i].fd >= 0)
				close(p[i].fd);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	obuf[on] = '\0';
	ebuf[en] = '\0';
	if (out)
		*out = obuf;
	if (errout)
		*errout = ebuf;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int ps_proc_stat(pid_t pid, char *state, pid_t *ppid, pid_t *pgrp)
{
	ps_proc_info info;
	if (ps_proc_info_read(&info, pid) != 0)
		return -1;
	if (state)
		*state = info.state;
	if (ppid)
		*ppid = (pid_t)info.ppid;
	if (pgrp)
		*pgrp = (pid_t)info.pgrp;
	return 0;
}

int ps_proc_each(int (*fn)(pid_t pid, char state, pid_t ppid, pid_t pgrp, void *arg), void *arg)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int stop = 0;
	if (!d)
		return 0;
	while (!stop && (e = readdir(d)) != NULL) {
		pid_t pid, ppid = 0, pgrp = 0;
		char state = 'X';
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		pid = (pid_t)strtol(e->d_name, NULL, 10);
		if (ps_proc_stat(pid, &state, &ppid, &pgrp) == 0)
			stop = fn(pid, state, ppid, pgrp, arg);
	}
	closedir(d);
	return stop;
}

typedef struct proc_query {
	pid_t want;   /* the parent, or the group */
	pid_t found;
} proc_query;

static int is_child(pid_t pid, char state, pid_t ppid, pid_t pgrp, void *arg)
{
	proc_query *q = arg;
	(void)state;
	(void)pgrp;
	if (ppid == q->want)
		q->found = pid;
	return q->found != 0;
}

pid_t ps_child_of(pid_t parent)
{
	proc_query q = { parent, 0 };
	ps_proc_each(is_child, &q);
	return q.found;
}

static int in_group_alive(pid_t pid, char state, pid_t ppid, pid_t pgrp, void *arg)
{
	(void)pid;
	(void)ppid;
	return pgrp == *(pid_t *)arg && state != 'Z';
}

int ps_group_alive(pid_t pgid)
{
	return ps_proc_each(in_group_alive, &pgid);
}
