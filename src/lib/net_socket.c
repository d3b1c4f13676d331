/*
 * The plain TCP stream under git:// and http(s)://: libgit2 1.5's own
 * socket stream with TCP_NODELAY set.  libgit2 writes a request in many
 * small pieces (an HTTP chunk's size line, its data, its "\r\n"; a pkt-line
 * at a time), and with Nagle's algorithm on, a small write waits for the
 * peer's delayed ACK: about 40 ms, several times per push (bench/README.md:
 * a push over http took 79 ms, 34 ms with it).  curl, under git's http
 * transport, sets TCP_NODELAY by default; git's git:// sets SO_KEEPALIVE
 * (connect.c), which we set too.  libgit2's TLS streams are built on
 * whatever stream is registered here, so https gets it as well.  The rest
 * is as libgit2's: blocking sockets, getaddrinfo order, no timeout of its
 * own (the deadline child bounds the whole operation: net_deadline.c).
 */
#define _GNU_SOURCE
#include "internal.h"

#include <git2/sys/stream.h>

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct ps_socket {
	git_stream parent;
	char *host;
	char *port;
	int fd;
} ps_socket;

static int sock_connect(git_stream *stream)
{
	ps_socket *st = (ps_socket *)stream;
	struct addrinfo hints, *info = NULL;
	int rc, one = 1, saved = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(st->host, st->port, &hints, &info)) != 0) {
		git_error_set(GIT_ERROR_NET, "failed to resolve address for %s: %s", st->host, gai_strerror(rc));
		return -1;
	}
	for (struct addrinfo *p = info; p; p = p->ai_next) {
		int fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC, p->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		if (connect(fd, p->ai_addr, p->ai_addrlen) == 0) {
			/* best effort: a socket that refuses them still works */
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
			st->fd = fd;
			break;
		}
		saved = errno;
		close(fd);
	}
	freeaddrinfo(info);
	if (st->fd < 0) {
		git_error_set(GIT_ERROR_NET, "failed to connect to %s: %s", st->host,
			strerror(saved ? saved : ECONNREFUSED));
		return -1;
	}
	return 0;
}

static ssize_t sock_read(git_stream *stream, void *data, size_t len)
{
	ps_socket *st = (ps_socket *)stream;
	ssize_t n;
	while ((n = recv(st->fd, data, len, 0)) < 0 && errno == EINTR)
		;
	if (n < 0)
		git_error_set(GIT_ERROR_NET, "error receiving data from socket: %s", strerror(errno));
	return n;
}

/* libgit2 loops over a short write (git_stream__write_full) */
static ssize_t sock_write(git_stream *stream, const char *data, size_t len, int flags)
{
	ps_socket *st = (ps_socket *)stream;
	ssize_t n;
	while ((n = send(st->fd, data, len, flags | MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (n < 0)
		git_error_set(GIT_ERROR_NET, "error sending data: %s", strerror(errno));
	return n;
}

static int sock_close(git_stream *stream)
{
	ps_socket *st = (ps_socket *)stream;
	int rc = 0;
	if (st->fd >= 0)
		rc = close(st->fd);
	st->fd = -1;
	return rc < 0 ? -1 : 0;
}

static void sock_free(git_stream *stream)
{
	ps_socket *st = (ps_socket *)stream;
	sock_close(stream);
	free(st->host);
	free(st->port);
	free(st);
}

static int sock_new(git_stream **out, const char *host, const char *port)
{
	ps_socket *st = calloc(1, sizeof(*st));
	*out = NULL;
	if (!st || !(st->host = strdup(host)) || !(st->port = strdup(port))) {
		if (st) {
			free(st->host);
			free(st);
		}
		git_error_set_oom();
		return -1;
	}
	st->fd = -1;
	st->parent.version = GIT_STREAM_VERSION;
	st->parent.connect = sock_connect;
	st->parent.read = sock_read;
	st->parent.write = sock_write;
	st->parent.close = sock_close;
	st->parent.free = sock_free;
	*out = &st->parent;
	return 0;
}

int ps_socket_register(void)
{
	git_stream_registration reg;
	memset(&reg, 0, sizeof(reg));
	reg.version = GIT_STREAM_VERSION;
	reg.init = sock_new;
	return git_stream_register(GIT_STREAM_STANDARD, &reg);
}

void ps_socket_unregister(void)
{
	git_stream_register(GIT_STREAM_STANDARD, NULL);
}
