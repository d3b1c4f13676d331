/*
 * White-box test of the TCP stream (src/lib/net_socket.c, compiled in
 * here): a git:// connection libgit2 opens through it has TCP_NODELAY and
 * SO_KEEPALIVE set, and one through libgit2's own stream has not, so the
 * check tells the two apart.  The peer is a one-shot server on 127.0.0.1
 * that answers with an empty advertisement; it stops by itself.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <git2.h>

int ps_socket_register(void);
void ps_socket_unregister(void);

/* A server for one connection: read the request, send a flush packet (an
 * empty repository), wait for the client to hang up.  Bounded by alarm. */
static pid_t serve_once(int *port)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pid_t pid;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(ls, 1) != 0 ||
	    getsockname(ls, (struct sockaddr *)&a, &len) != 0)
		fail_msg("cannot listen on 127.0.0.1");
	*port = ntohs(a.sin_port);
	if ((pid = fork()) == 0) {
		char buf[512];
		int c;
		alarm(10);
		if ((c = accept(ls, NULL, NULL)) < 0)
			_exit(1);
		if (read(c, buf, sizeof(buf)) <= 0 || write(c, "0000", 4) != 4)
			_exit(1);
		while (read(c, buf, sizeof(buf)) > 0)
			;
		_exit(0);
	}
	close(ls);
	return pid;
}

/* The option `opt` (at `level`) on our socket connected to 127.0.0.1:port;
 * -1 when there is no such socket. */
static int option_on_socket_to(int port, int level, int opt)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int value = -1;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		struct sockaddr_in peer;
		socklen_t len = sizeof(peer), olen = sizeof(int);
		int fd = atoi(e->d_name), v = 0;
		if (e->d_name[0] == '.' || fd == dirfd(d))
			continue;
		if (getpeername(fd, (struct sockaddr *)&peer, &len) != 0 || peer.sin_family != AF_INET ||
		    ntohs(peer.sin_port) != port)
			continue;
		if (getsockopt(fd, level, opt, &v, &olen) == 0)
			value = v != 0;
	}
	closedir(d);
	return value;
}

/* Connect to a fresh server through whatever stream is registered; the
 * options found on the connection, as 0/1 (-1: no connection seen). */
static void connect_and_read_options(int *nodelay, int *keepalive)
{
	git_remote *remote = NULL;
	char url[64];
	int port, status = 0;
	pid_t server = serve_once(&port);
	snprintf(url, sizeof(url), "git://127.0.0.1:%d/x.git", port);
	assert_int_equal(git_remote_create_detached(&remote, url), 0);
	if (git_remote_connect(remote, GIT_DIRECTION_FETCH, NULL, NULL, NULL) != 0)
		fail_msg("connect to %s: %s", url, git_error_last() ? git_error_last()->message : "?");
	*nodelay = option_on_socket_to(port, IPPROTO_TCP, TCP_NODELAY);
	*keepalive = option_on_socket_to(port, SOL_SOCKET, SO_KEEPALIVE);
	git_remote_disconnect(remote);
	git_remote_free(remote);
	waitpid(server, &status, 0);
}

static void ours_sets_nodelay_and_keepalive(void **state)
{
	int nodelay, keepalive;
	(void)state;
	assert_int_equal(ps_socket_register(), 0);
	connect_and_read_options(&nodelay, &keepalive);
	ps_socket_unregister();
	assert_int_equal(nodelay, 1);
	assert_int_equal(keepalive, 1);
}

/* The control: without ours, libgit2 1.5's stream sets neither, so the
 * check above is one that can fail. */
static void libgit2s_own_sets_neither(void **state)
{
	int nodelay, keepalive;
	(void)state;
	ps_socket_unregister();
	connect_and_read_options(&nodelay, &keepalive);
	assert_int_equal(nodelay, 0);
	assert_int_equal(keepalive, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ours_sets_nodelay_and_keepalive),
		cmocka_unit_test(libgit2s_own_sets_neither),
	};
	int rc;
	signal(SIGPIPE, SIG_IGN);
	git_libgit2_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	git_libgit2_shutdown();
	return rc;
}
