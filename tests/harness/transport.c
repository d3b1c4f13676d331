/*
 * The transport a suite runs over: PUSHSEAL_TRANSPORT=path (default), file
 * (file:// URLs) or git (a real `git daemon` on 127.0.0.1, started once per
 * suite process, bounded in lifetime and killed at exit).  The local path
 * transport runs no hooks on the remote; the daemon does, as servers do.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DAEMON_LIFETIME_S "900"

static pid_t daemon_pid;
static int daemon_port;

const char *ps_transport(void)
{
	const char *t = getenv("PUSHSEAL_TRANSPORT");
	return t && *t ? t : "path";
}

static void stop_daemon(void)
{
	if (daemon_pid > 0 && getpid() != daemon_pid) {
		kill(daemon_pid, SIGTERM);
		waitpid(daemon_pid, NULL, 0);
		daemon_pid = 0;
	}
}

static int free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), port = -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(s, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (s >= 0)
		close(s);
	return port;
}

static int accepting(int port)
{
	struct sockaddr_in a;
	int s = socket(AF_INET, SOCK_STREAM, 0), ok;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = s >= 0 && connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (s >= 0)
		close(s);
	return ok;
}

/* Start `git daemon` serving every repository under the sandboxes' parent. */
static void start_daemon(void)
{
	const char *tmp = getenv("TMPDIR");
	char port_arg[32], base[1100];
	pid_t owner = getpid();
	if (daemon_pid > 0)
		return;
	if ((daemon_port = free_port()) < 0)
		fail_msg("transport: no free loopback port");
	snprintf(port_arg, sizeof(port_arg), "--port=%d", daemon_port);
	snprintf(base, sizeof(base), "%s", tmp && *tmp ? tmp : "/tmp");
	daemon_pid = fork();
	if (daemon_pid < 0)
		fail_msg("transport: fork: %s", strerror(errno));
	if (daemon_pid == 0) {
		setpgid(0, 0);
		execlp("timeout", "timeout", DAEMON_LIFETIME_S, "git", "daemon", "--export-all",
			"--enable=receive-pack", "--reuseaddr", "--informative-errors", "--listen=127.0.0.1",
			port_arg, base, (char *)NULL);
		_exit(127);
	}
	if (getpid() == owner)
		atexit(stop_daemon);
	for (int i = 0; i < 250 && !accepting(daemon_port); i++) {
		struct timespec ts = { 0, 20 * 1000000L };
		nanosleep(&ts, NULL);
	}
	if (!accepting(daemon_port))
		fail_msg("transport: git daemon did not start on 127.0.0.1:%d", daemon_port);
}

const char *ps_remote_url(ps_ctx *ctx, const char *remote_rel)
{
	const char *t = ps_transport();
	const char *abs = ps_path(ctx, remote_rel);
	if (!strcmp(t, "path"))
		return abs;
	if (!strcmp(t, "file"))
		return ps_fmt(ctx, "file://%s", abs);
	if (!strcmp(t, "git")) {
		start_daemon();
		return ps_fmt(ctx, "git://127.0.0.1:%d%s", daemon_port, abs);
	}
	fail_msg("PUSHSEAL_TRANSPORT=%s: use path, file or git", t);
	return abs;
}
