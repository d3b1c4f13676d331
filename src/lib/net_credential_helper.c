/*
 * `git credential fill`, run so that it can never prompt: the opt-in second
 * source of https credentials (net_https_credentials.c decides when).
 * Every prompt is disabled (GIT_TERMINAL_PROMPT=0, an empty GIT_ASKPASS, no
 * controlling terminal, stdin a pipe) and the helper gets HELPER_TIMEOUT_MS.
 */
#define _GNU_SOURCE
#include "internal.h"

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

#define HELPER_TIMEOUT_MS 10000

/* Run `git credential fill` with no way to prompt; fill user and pass. */
int ps_credential_fill(char *user, size_t un, char *pass, size_t pn, const char *url,
	const char *user_from_url)
{
	int in[2], out[2], status, rc = -1;
	char req[2200], buf[4096];
	size_t got = 0;
	pid_t pid;
	struct timespec t0;
	if (pipe2(in, O_CLOEXEC) != 0)
		return -1;
	if (pipe2(out, O_CLOEXEC) != 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		/* no setsid() here: it runs in the network child's own session,
		 * which has no controlling terminal (/dev/tty cannot be opened)
		 * and whose whole group dies at the deadline (net_deadline.c) */
		dup2(in[0], 0);
		dup2(out[1], 1);
		if (devnull >= 0)
			dup2(devnull, 2);
		/* the helper asks about this URL, not about a repository a
		 * hook's environment may name */
		unsetenv("GIT_DIR");
		unsetenv("GIT_WORK_TREE");
		unsetenv("GIT_COMMON_DIR");
		unsetenv("GIT_CONFIG_PARAMETERS");
		unsetenv("GIT_CONFIG_COUNT");
		setenv("GIT_TERMINAL_PROMPT", "0", 1);
		setenv("GIT_ASKPASS", "", 1); /* empty: beats core.askPass and SSH_ASKPASS */
		unsetenv("SSH_ASKPASS");
		execlp("git", "git", "credential", "fill", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	if (pid < 0) {
		close(in[1]);
		close(out[0]);
		return -1;
	}
	if (user_from_url && *user_from_url)
		snprintf(req, sizeof(req), "url=%s\nusername=%s\n\n", url, user_from_url);
	else
		snprintf(req, sizeof(req), "url=%s\n\n", url);
	if (write(in[1], req, strlen(req)) < 0) {
		/* the helper went away; its exit status tells */
	}
	close(in[1]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = { out[0], POLLIN, 0 };
		struct timespec now;
		long elapsed;
		ssize_t r;
		clock_gettime(CLOCK_MONOTONIC, &now);
		elapsed = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
		if (elapsed >= HELPER_TIMEOUT_MS || got + 1 >= sizeof(buf)) {
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&p, 1, (int)(HELPER_TIMEOUT_MS - elapsed)) <= 0)
			continue;
		r = read(out[0], buf + got, sizeof(buf) - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(out[0]);
	buf[got] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		user[0] = pass[0] = '\0';
		char *save = NULL;
		for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			if (!strncmp(line, "username=", 9))
				snprintf(user, un, "%s", line + 9);
			else if (!strncmp(line, "password=", 9))
				snprintf(pass, pn, "%s", line + 9);
		}
		rc = pass[0] ? 0 : -1;
	}
	explicit_bzero(buf, sizeof(buf));
	return rc;
}
