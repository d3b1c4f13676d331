/*
 * ssh as git does it: the system's OpenSSH, with the user's own ssh
 * configuration.
 *
 * libgit2 1.5's own ssh transport is libssh2 1.10: it reads no
 * ~/.ssh/config (no Host alias, no per-repository IdentityFile, no
 * ProxyJump), honours neither GIT_SSH_COMMAND nor core.sshCommand, and signs
 * with an RSA key only as ssh-rsa (SHA-1), which OpenSSH 8.8+ refuses.  So
 * pushseal registers its own smart subtransport for ssh://, ssh+git://,
 * git+ssh:// and scp-style URLs ([user@]host:path, which libgit2 hands to
 * whatever serves "ssh://"), and runs what git runs:
 *
 *     ssh [-p PORT] -o BatchMode=yes [user@]host "git-upload-pack '/path'"
 *
 * or the command that GIT_SSH_COMMAND, core.sshCommand or GIT_SSH names, in
 * git's order, with git's ssh variants (ssh.variant, GIT_SSH_VARIANT); the
 * smart protocol then runs over its pipes.  ssh authenticates by itself:
 * agent, keys, known_hosts, ProxyJump and ControlMaster all come from the
 * user's configuration, and libgit2's credentials callback is never asked.
 * PUSHSEAL_SSH_KEY adds `-i KEY -o IdentitiesOnly=yes`, and
 * PUSHSEAL_SSH_KNOWN_HOSTS `-o UserKnownHostsFile=FILE`.
 *
 * It never prompts: BatchMode=yes, stdin is a pipe, SSH_ASKPASS_REQUIRE is
 * "never", and the network child that runs it has no controlling terminal.
 * An unknown host key therefore fails ("Host key verification failed."),
 * unless the user's own configuration accepts it (StrictHostKeyChecking).
 *
 * ssh runs inside the network child's session and process group (no
 * setsid() here), so the deadline's kill of that group ends it together with
 * what it started (a ProxyCommand, the ssh of a ProxyJump).  A ControlPersist
 * master detaches itself into a session of its own, as it does under git,
 * and lives as long as ControlPersist says.
 *
 * What ssh writes to stderr is kept (its last 4 KB) and becomes the error
 * message, one line: a refused key ("Permission denied (...)") is GIT_EAUTH
 * and a failed host key check GIT_ECERTIFICATE (class auth, permanent);
 * anything else, such as a refused connection or an unknown host name, stays
 * a network error (class unreachable).
 */
#define _GNU_SOURCE
#include "net_ssh.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define ERR_TAIL 4096          /* the end of ssh's stderr kept for the message */
#define EXIT_WAIT_MS 5000      /* how long ssh may take to exit once its work is done */

typedef struct ssh_subtransport ssh_subtransport;

/* One run of ssh: its pipes, and what it said on stderr. */
typedef struct ssh_stream {
	git_smart_subtransport_stream parent;
	ssh_subtransport *owner;
	pid_t pid;
	int in, out, err;      /* its stdin (we write), stdout and stderr (we read); -1 when closed */
	int reaped, status;
	char where[600];       /* [user@]host, for messages */
	char tail[ERR_TAIL + 1];
	size_t tail_len;
} ssh_stream;

struct ssh_subtransport {
	git_smart_subtransport parent;
	ssh_how how;
	ssh_stream *current;
};

/* ---- errors ------------------------------------------------------------------ */

int ps_ssh_error(int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap); /* NOLINT(clang-analyzer-valist.Uninitialized): clang 14 false positive */
	va_end(ap);
	git_error_set_str(GIT_ERROR_SSH, msg);
	return code;
}


/* Keep the last ERR_TAIL bytes of what ssh wrote to stderr. */
static void tail_add(ssh_stream *s, const char *p, size_t n)
{
	if (n >= ERR_TAIL) {
		p += n - ERR_TAIL;
		n = ERR_TAIL;
	}
	if (s->tail_len + n > ERR_TAIL) {
		size_t drop = s->tail_len + n - ERR_TAIL;
		memmove(s->tail, s->tail + drop, s->tail_len - drop);
		s->tail_len -= drop;
	}
	memcpy(s->tail + s->tail_len, p, n);
	s->tail_len += n;
	s->tail[s->tail_len] = '\0';
}

/* Read what stderr has now; close it at its end. */
static void drain_err(ssh_stream *s)
{
	char buf[4096];
	while (s->err >= 0) {
		ssize_t r = read(s->err, buf, sizeof(buf));
		if (r > 0) {
			tail_add(s, buf, (size_t)r);
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		close(s->err);
		s->err = -1;
	}
}

/* Wait for ssh to exit, at most EXIT_WAIT_MS (then it is killed), reading
 * its stderr meanwhile.  Its input is closed first: that is its EOF. */
static void reap(ssh_stream *s)
{
	long long end = ps_now_ms() + EXIT_WAIT_MS;
	if (s->in >= 0) {
		close(s->in);
		s->in = -1;
	}
	while (!s->reaped) {
		struct pollfd p = { s->err, POLLIN, 0 };
		pid_t r = waitpid(s->pid, &s->status, WNOHANG);
		if (r == s->pid || (r < 0 && errno != EINTR)) {
			s->reaped = 1;
			break;
		}
		if (ps_now_ms() >= end) {
			kill(s->pid, SIGKILL);
			while (waitpid(s->pid, &s->status, 0) < 0 && errno == EINTR)
				;
			s->reaped = 1;
			break;
		}
		if (poll(&p, 1, 20) > 0)
			drain_err(s);
	}
	drain_err(s); /* what is left in the pipe; a ProxyCommand may keep it open */
}

/* The last two lines that say something, joined into one. */
static void summarise(char *dst, size_t n, const char *text)
{
	const char *lines[2] = { NULL, NULL };
	size_t lens[2] = { 0, 0 };
	const char *p = text;
	while (*p) {
		size_t len = strcspn(p, "\r\n");
		const char *q = p;
		while (q < p + len && (*q == ' ' || *q == '\t'))
			q++;
		if (q < p + len && *q != '@' && strncmp(q, "Warning: Permanently added", 26) != 0) {
			lines[0] = lines[1];
			lens[0] = lens[1];
			lines[1] = q;
			lens[1] = len - (size_t)(q - p);
		}
		p += len;
		while (*p == '\r' || *p == '\n')
			p++;
	}
	if (lines[0])
		snprintf(dst, n, "%.*s; %.*s", (int)lens[0], lines[0], (int)lens[1], lines[1]);
	else if (lines[1])
		snprintf(dst, n, "%.*s", (int)lens[1], lines[1]);
	else
		snprintf(dst, n, "(ssh said nothing)");
}

/* ssh is done: 0 when it exited 0, or the failure as a libgit2 error. */
static int outcome(ssh_stream *s)
{
	char said[700];
	int code = -1;
	reap(s);
	if (WIFEXITED(s->status) && WEXITSTATUS(s->status) == 0)
		return 0;
	summarise(said, sizeof(said), s->tail);
	if (strstr(s->tail, "Host key verification failed") || strstr(s->tail, "HOST IDENTIFICATION HAS CHANGED"))
		code = GIT_ECERTIFICATE;
	else if (strstr(s->tail, "Permission denied (") || strstr(s->tail, "Too many authentication failures"))
		code = GIT_EAUTH;
	if (WIFSIGNALED(s->status))
		return ps_ssh_error(code, "ssh to %s was killed by signal %d: %s", s->where, WTERMSIG(s->status), said);
	return ps_ssh_error(code, "ssh to %s exited with %d: %s", s->where, WEXITSTATUS(s->status), said);
}

/* ---- the stream ------------------------------------------------------------------ */

/* Wait until fd is ready for `events`, reading what ssh says on stderr
 * meanwhile.  1: ready; 0: not yet (ask again); -1: poll failed. */
static int wait_ready(ssh_stream *s, int fd, short events)
{
	struct pollfd p[2] = { { fd, events, 0 }, { s->err, POLLIN, 0 } };
	if (poll(p, 2, -1) < 0 && errno != EINTR)
		return ps_ssh_error(-1, "ssh: poll: %s", strerror(errno));
	if (p[1].revents)
		drain_err(s);
	return p[0].revents != 0;
}

static int stream_read(git_smart_subtransport_stream *stream, char *buffer, size_t size, size_t *bytes_read)
{
	ssh_stream *s = (ssh_stream *)stream;
	*bytes_read = 0;
	while (s->out >= 0) {
		ssize_t r;
		int ready = wait_ready(s, s->out, POLLIN);
		if (ready < 0)
			return ready;
		if (!ready)
			continue;
		r = read(s->out, buffer, size);
		if (r > 0) {
			*bytes_read = (size_t)r;
			return 0;
		}
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		close(s->out); /* its end: ssh is done, or failed */
		s->out = -1;
	}
	return outcome(s); /* 0 bytes and 0: the end of the stream */
}

static int stream_write(git_smart_subtransport_stream *stream, const char *buffer, size_t len)
{
	ssh_stream *s = (ssh_stream *)stream;
	while (len > 0) {
		ssize_t w;
		int ready;
		if (s->in < 0)
			break;
		if ((ready = wait_ready(s, s->in, POLLOUT)) < 0)
			return ready;
		if (!ready)
			continue;
		w = write(s->in, buffer, len);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w <= 0)
			break; /* EPIPE: ssh stopped reading */
		buffer += w;
		len -= (size_t)w;
	}
	if (len == 0)
		return 0;
	{
		int rc = outcome(s);
		return rc < 0 ? rc : ps_ssh_error(-1, "ssh to %s exited before it took all its input", s->where);
	}
}

static void stream_free(git_smart_subtransport_stream *stream)
{
	ssh_stream *s = (ssh_stream *)stream;
	if (s->owner && s->owner->current == s)
		s->owner->current = NULL;
	if (!s->reaped)
		reap(s);
	if (s->out >= 0)
		close(s->out);
	if (s->err >= 0)
		close(s->err);
	free(s);
}

/* Start ssh for one service. */
static int stream_start(ssh_stream **out, ssh_subtransport *t, const char *url, int receive)
{
	const ssh_how *h = &t->how;
	ssh_target tgt;
	argv_list a = { { NULL }, 0 };
	ssh_stream *s;
	char target[600], command[5000], name[1024];
	const char *service = receive ? (h->receive_pack ? h->receive_pack : "git-receive-pack")
				      : (h->upload_pack ? h->upload_pack : "git-upload-pack");
	const char *key = getenv("PUSHSEAL_SSH_KEY"), *known = getenv("PUSHSEAL_SSH_KNOWN_HOSTS");
	int variant, rc;
	size_t o;

	if (ps_ssh_parse_target(&tgt, url) < 0)
		return -1;
	snprintf(target, sizeof(target), "%s%s%s", tgt.user, tgt.user[0] ? "@" : "", tgt.host);
	if (h->variant) {
		variant = ps_ssh_variant_named(h->variant, 1);
	} else {
		ps_ssh_command_basename(name, sizeof(name), h);
		variant = ps_ssh_variant_named(name, 0);
	}
	if (variant == VARIANT_AUTO)
		variant = ps_ssh_probe_is_openssh(h, target) ? VARIANT_SSH : VARIANT_SIMPLE;
	if (key && *key && access(key, R_OK) != 0)
		return ps_ssh_error(GIT_EAUTH, "PUSHSEAL_SSH_KEY=%s cannot be read: %s", key, strerror(errno));

	/* the remote command: git's quoting, '\'' for ' and \! for ! */
	o = (size_t)snprintf(command, sizeof(command), "%s '", service);
	for (const char *p = tgt.path; *p && o + 8 < sizeof(command); p++) {
		if (*p == '\'' || *p == '!')
			o += (size_t)snprintf(command + o, sizeof(command) - o, "'\\%c'", *p);
		else
			command[o++] = *p;
	}
	if (o + 2 >= sizeof(command))
		return ps_ssh_error(-1, "ssh: the repository path is too long");
	command[o++] = '\'';
	command[o] = '\0';

	ps_ssh_args_command(&a, h);
	switch (variant) {
	case VARIANT_SSH:
		if (tgt.port[0]) {
			ps_ssh_args_add(&a, "-p");
			ps_ssh_args_add(&a, tgt.port);
		}
		ps_ssh_args_add(&a, "-o");
		ps_ssh_args_add(&a, "BatchMode=yes");
		if (key && *key) {
			ps_ssh_args_add(&a, "-i");
			ps_ssh_args_add(&a, key);
			ps_ssh_args_add(&a, "-o");
			ps_ssh_args_add(&a, "IdentitiesOnly=yes");
		}
		if (known && *known) {
			char opt[4200];
			snprintf(opt, sizeof(opt), "UserKnownHostsFile=%s", known);
			ps_ssh_args_add(&a, "-o");
			ps_ssh_args_add(&a, opt);
		}
		break;
	case VARIANT_SIMPLE:
		if (tgt.port[0]) {
			ps_ssh_args_free(&a);
			return ps_ssh_error(-1, "ssh variant 'simple' does not support setting port");
		}
		break;
	default: /* plink, putty, tortoiseplink */
		if (variant != VARIANT_PUTTY)
			ps_ssh_args_add(&a, "-batch");
		if (tgt.port[0]) {
			ps_ssh_args_add(&a, "-P");
			ps_ssh_args_add(&a, tgt.port);
		}
		break;
	}
	ps_ssh_args_add(&a, target);
	ps_ssh_args_add(&a, command);

	if (!(s = calloc(1, sizeof(*s)))) {
		ps_ssh_args_free(&a);
		return ps_ssh_error(-1, "out of memory");
	}
	s->parent.subtransport = &t->parent;
	s->parent.read = stream_read;
	s->parent.write = stream_write;
	s->parent.free = stream_free;
	s->owner = t;
	s->in = s->out = s->err = -1;
	snprintf(s->where, sizeof(s->where), "%s", target);
	rc = ps_ssh_spawn(&s->pid, &s->in, &s->out, &s->err, a.v);
	ps_ssh_args_free(&a);
	if (rc < 0) {
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* ---- the subtransport and the transport ------------------------------------------ */

static int sub_action(git_smart_subtransport_stream **out, git_smart_subtransport *sub, const char *url,
	git_smart_service_t action)
{
	ssh_subtransport *t = (ssh_subtransport *)sub;
	ssh_stream *s = NULL;
	int rc;
	*out = NULL;
	switch (action) {
	case GIT_SERVICE_UPLOADPACK_LS:
	case GIT_SERVICE_RECEIVEPACK_LS:
		if (t->current)
			stream_free(&t->current->parent);
		if ((rc = stream_start(&s, t, url, action == GIT_SERVICE_RECEIVEPACK_LS)) < 0)
			return rc;
		t->current = s;
		*out = &s->parent;
		return 0;
	case GIT_SERVICE_UPLOADPACK:
	case GIT_SERVICE_RECEIVEPACK:
		/* stateful: the same ssh carries the listing and the transfer */
		if (!t->current)
			return ps_ssh_error(-1, "ssh: no connection to continue");
		*out = &t->current->parent;
		return 0;
	}
	return ps_ssh_error(-1, "ssh: unknown service %d", (int)action);
}

static int sub_close(git_smart_subtransport *sub)
{
	ssh_subtransport *t = (ssh_subtransport *)sub;
	if (t->current)
		stream_free(&t->current->parent);
	return 0;
}

static void sub_free(git_smart_subtransport *sub)
{
	ssh_subtransport *t = (ssh_subtransport *)sub;
	sub_close(sub);
	ps_ssh_how_dispose(&t->how);
	free(t);
}

/* Hands over the subtransport that ssh_transport_new made: it must not
 * fail, since libgit2 1.5 then frees a NULL subtransport. */
static int sub_new(git_smart_subtransport **out, git_transport *owner, void *param)
{
	ssh_subtransport **made = param;
	(void)owner;
	*out = &(*made)->parent;
	*made = NULL;
	return 0;
}

static int ssh_transport_new(git_transport **out, git_remote *owner, void *param)
{
	ssh_subtransport *t = calloc(1, sizeof(*t));
	git_smart_subtransport_definition def;
	int rc;
	(void)param;
	if (!t)
		return ps_ssh_error(-1, "out of memory");
	t->parent.action = sub_action;
	t->parent.close = sub_close;
	t->parent.free = sub_free;
	ps_ssh_how_read(&t->how, owner);
	def.callback = sub_new;
	def.rpc = 0;
	def.param = &t;
	rc = git_transport_smart(out, owner, &def);
	if (t) /* git_transport_smart failed before taking it */
		sub_free(&t->parent);
	return rc;
}

static const char *const ssh_schemes[] = { "ssh", "ssh+git", "git+ssh" };

int ps_transports_register(void)
{
	for (size_t i = 0; i < sizeof(ssh_schemes) / sizeof(ssh_schemes[0]); i++) {
		/* a registration inherited across fork() or from an earlier init */
		git_transport_unregister(ssh_schemes[i]);
		if (git_transport_register(ssh_schemes[i], ssh_transport_new, NULL) < 0)
			return -1;
	}
	return ps_socket_register();
}

void ps_transports_unregister(void)
{
	for (size_t i = 0; i < sizeof(ssh_schemes) / sizeof(ssh_schemes[0]); i++)
		git_transport_unregister(ssh_schemes[i]);
	ps_socket_unregister();
}
