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
#include "internal.h"

#include <git2/sys/transport.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define ERR_TAIL 4096          /* the end of ssh's stderr kept for the message */
#define EXIT_WAIT_MS 5000      /* how long ssh may take to exit once its work is done */
#define MAX_ARGS 24

enum { VARIANT_AUTO, VARIANT_SSH, VARIANT_SIMPLE, VARIANT_PLINK, VARIANT_PUTTY, VARIANT_TORTOISEPLINK };

/* How ssh is run, chosen once per transport as git chooses it.  Strings
 * are owned (malloc). */
typedef struct ssh_how {
	char *shell_cmd;     /* GIT_SSH_COMMAND or core.sshCommand: run by /bin/sh */
	char *program;       /* otherwise GIT_SSH, or "ssh": run directly */
	char *variant;       /* GIT_SSH_VARIANT or ssh.variant, if set */
	char *upload_pack;   /* remote.<name>.uploadpack, if set */
	char *receive_pack;  /* remote.<name>.receivepack, if set */
} ssh_how;

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

/* ---- small helpers ---------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

static void how_dispose(ssh_how *h)
{
	free(h->shell_cmd);
	free(h->program);
	free(h->variant);
	free(h->upload_pack);
	free(h->receive_pack);
	memset(h, 0, sizeof(*h));
}

static int set_error(int code, const char *fmt, ...) PS_ATTR_PRINTF(2, 3);
static int set_error(int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap); /* NOLINT(clang-analyzer-valist.Uninitialized): clang 14 false positive */
	va_end(ap);
	git_error_set_str(GIT_ERROR_SSH, msg);
	return code;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Copy n bytes of src into dst (size cap), %XX-decoded when `decode`.
 * Returns 0, or -1 when it does not fit. */
static int copy_part(char *dst, size_t cap, const char *src, size_t n, int decode)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)src[i];
		if (decode && c == '%' && i + 2 < n && hexval(src[i + 1]) >= 0 && hexval(src[i + 2]) >= 0) {
			c = hexval(src[i + 1]) * 16 + hexval(src[i + 2]);
			i += 2;
		}
		if (o + 1 >= cap)
			return -1;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return 0;
}

/* ---- URLs --------------------------------------------------------------------- */

typedef struct ssh_target {
	char user[256], host[256], port[16], path[4096];
} ssh_target;

/* Split [user@]host[:port] (ssh:// authority, %-decoded) or the host part
 * of an scp-style URL into tgt. */
static int split_authority(ssh_target *tgt, const char *a, size_t n, int url_form)
{
	const char *at = NULL, *host, *end = a + n, *colon = NULL;
	for (const char *p = a; p < end; p++)
		if (*p == '@')
			at = p;
	if (at && copy_part(tgt->user, sizeof(tgt->user), a, (size_t)(at - a), url_form) < 0)
		return -1;
	if (at && url_form) /* "user:password@": ssh takes no password */
		tgt->user[strcspn(tgt->user, ":")] = '\0';
	host = at ? at + 1 : a;
	if (host < end && *host == '[') {
		const char *close = memchr(host, ']', (size_t)(end - host));
		if (!close)
			return -1;
		if (close + 1 < end && close[1] == ':')
			colon = close + 1;
		else if (close + 1 != end)
			return -1;
		if (copy_part(tgt->host, sizeof(tgt->host), host + 1, (size_t)(close - host - 1), url_form) < 0)
			return -1;
	} else {
		if (url_form)
			colon = memchr(host, ':', (size_t)(end - host));
		if (copy_part(tgt->host, sizeof(tgt->host), host, (size_t)((colon ? colon : end) - host), url_form) < 0)
			return -1;
	}
	if (colon && copy_part(tgt->port, sizeof(tgt->port), colon + 1, (size_t)(end - colon - 1), 0) < 0)
		return -1;
	for (const char *p = tgt->port; *p; p++)
		if (*p < '0' || *p > '9')
			return -1;
	return 0;
}

/* ssh://[user@]host[:port]/path (also ssh+git://, git+ssh://) or scp-style
 * [user@]host:path, as git reads them.  0, or -1 with a libgit2 error. */
static int parse_target(ssh_target *tgt, const char *url)
{
	static const char *const schemes[] = { "ssh://", "ssh+git://", "git+ssh://" };
	memset(tgt, 0, sizeof(*tgt));
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t sl = strlen(schemes[i]);
		if (!strncasecmp(url, schemes[i], sl)) {
			const char *a = url + sl, *slash = strchr(a, '/');
			if (!slash || split_authority(tgt, a, (size_t)(slash - a), 1) < 0)
				goto bad;
			/* git: ssh://host/~user/repo means ~user/repo */
			if (slash[1] == '~')
				slash++;
			if (copy_part(tgt->path, sizeof(tgt->path), slash, strlen(slash), 1) < 0)
				goto bad;
			goto check;
		}
	}
	{
		/* scp-style: host ends at the first ':' outside brackets */
		const char *p = url, *colon;
		if (*p == '[' || (strchr(p, '@') && strchr(p, '@')[1] == '[')) {
			const char *close = strchr(p, ']');
			colon = close ? strchr(close, ':') : NULL;
		} else {
			colon = strchr(p, ':');
		}
		/* git's rule: a '/' before the ':' makes it a local path, never a host */
		if (!colon || memchr(p, '/', (size_t)(colon - p)) || split_authority(tgt, p, (size_t)(colon - p), 0) < 0 ||
		    copy_part(tgt->path, sizeof(tgt->path), colon + 1, strlen(colon + 1), 0) < 0)
			goto bad;
		/* "[host:port]:path", as git accepts it */
		if (!tgt->port[0] && strchr(tgt->host, ':') && strchr(tgt->host, ':') == strrchr(tgt->host, ':')) {
			char *c = strchr(tgt->host, ':');
			snprintf(tgt->port, sizeof(tgt->port), "%s", c + 1);
			*c = '\0';
		}
	}
check:
	/* never let a host or user become an option of ssh (git's CVE-2017-1000117 rule) */
	if (!tgt->host[0] || tgt->host[0] == '-' || tgt->user[0] == '-' || !tgt->path[0])
		goto bad;
	for (const char *s = tgt->host; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == ' ')
			goto bad;
	return 0;
bad:
	{
		char shown[300];
		ps_redact(shown, sizeof(shown), url);
		return set_error(-1, "not an ssh URL pushseal can use: '%s'", shown);
	}
}

/* ---- choosing the command, as git does ---------------------------------------- */

static void config_string(char **dst, git_config *cfg, const char *name)
{
	git_buf b = GIT_BUF_INIT;
	if (cfg && git_config_get_string_buf(&b, cfg, name) == 0 && b.ptr && *b.ptr)
		*dst = strdup(b.ptr);
	git_buf_dispose(&b);
}

/* GIT_SSH_COMMAND, then core.sshCommand (both through the shell), then
 * GIT_SSH (run directly), then "ssh". */
static void how_read(ssh_how *h, git_remote *remote)
{
	git_repository *repo = remote ? git_remote_owner(remote) : NULL;
	git_config *cfg = NULL;
	const char *git_ssh = getenv("GIT_SSH");
	memset(h, 0, sizeof(*h));
	if (repo && git_repository_config_snapshot(&cfg, repo) < 0)
		cfg = NULL;
	h->shell_cmd = dup_or_null(getenv("GIT_SSH_COMMAND"));
	if (!h->shell_cmd)
		config_string(&h->shell_cmd, cfg, "core.sshCommand");
	if (!h->shell_cmd)
		h->program = strdup(git_ssh && *git_ssh ? git_ssh : "ssh");
	h->variant = dup_or_null(getenv("GIT_SSH_VARIANT"));
	if (!h->variant)
		config_string(&h->variant, cfg, "ssh.variant");
	if (remote && git_remote_name(remote)) {
		char key[600];
		snprintf(key, sizeof(key), "remote.%s.uploadpack", git_remote_name(remote));
		config_string(&h->upload_pack, cfg, key);
		snprintf(key, sizeof(key), "remote.%s.receivepack", git_remote_name(remote));
		config_string(&h->receive_pack, cfg, key);
	}
	git_config_free(cfg);
	git_error_clear();
}

/* The variant from its name: ssh.variant's values, or the program's base name. */
static int variant_named(const char *name, int from_config)
{
	static const struct { const char *name; int v; } names[] = {
		{ "ssh", VARIANT_SSH }, { "simple", VARIANT_SIMPLE }, { "plink", VARIANT_PLINK },
		{ "plink.exe", VARIANT_PLINK }, { "putty", VARIANT_PUTTY },
		{ "tortoiseplink", VARIANT_TORTOISEPLINK }, { "tortoiseplink.exe", VARIANT_TORTOISEPLINK },
		{ "auto", VARIANT_AUTO },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(name, names[i].name))
			return names[i].v;
	return from_config ? VARIANT_SSH : VARIANT_AUTO;
}

/* The base name of the command's first word (a shell command: up to the
 * first blank, quotes dropped). */
static void command_basename(char *dst, size_t n, const ssh_how *h)
{
	const char *cmd = h->shell_cmd ? h->shell_cmd : h->program;
	char word[1024];
	size_t o = 0;
	while (h->shell_cmd && (*cmd == ' ' || *cmd == '\t'))
		cmd++;
	for (; *cmd && o + 1 < sizeof(word); cmd++) {
		if (h->shell_cmd && (*cmd == ' ' || *cmd == '\t'))
			break;
		if (h->shell_cmd && (*cmd == '\'' || *cmd == '"'))
			continue;
		word[o++] = *cmd;
	}
	word[o] = '\0';
	snprintf(dst, n, "%s", strrchr(word, '/') ? strrchr(word, '/') + 1 : word);
}

/* ---- running ssh --------------------------------------------------------------- */

typedef struct argv_list {
	char *v[MAX_ARGS + 1];
	int n;
} argv_list;

static void args_add(argv_list *a, const char *s)
{
	if (a->n < MAX_ARGS)
		a->v[a->n++] = strdup(s ? s : "");
	a->v[a->n] = NULL;
}

static void args_free(argv_list *a)
{
	for (int i = 0; i < a->n; i++)
		free(a->v[i]);
	a->n = 0;
	a->v[0] = NULL;
}

/* The command itself: `sh -c 'CMD "$@"' CMD` for a shell command, as git's
 * run-command does, or the program. */
static void args_command(argv_list *a, const ssh_how *h)
{
	if (h->shell_cmd) {
		char *script = NULL;
		if (asprintf(&script, "%s \"$@\"", h->shell_cmd) < 0)
			script = NULL;
		args_add(a, "/bin/sh");
		args_add(a, "-c");
		args_add(a, script ? script : "false");
		args_add(a, h->shell_cmd);
		free(script);
	} else {
		args_add(a, h->program);
	}
}

/* In the forked process: become ssh, with clean signals and descriptors. */
static void exec_child(int in, int out, int err, char *const argv[]) __attribute__((noreturn));
static void exec_child(int in, int out, int err, char *const argv[])
{
	sigset_t none;
	/* out of the way of 0..2 first, in case one of them was closed */
	in = fcntl(in, F_DUPFD, 10);
	out = fcntl(out, F_DUPFD, 10);
	err = fcntl(err, F_DUPFD, 10);
	if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(127);
	if (close_range(3, ~0U, 0) != 0)
		for (int fd = 3; fd < 65536; fd++)
			close(fd);
	/* the network child ignores SIGPIPE and catches SIGALRM/SIGTERM: ssh
	 * starts with the defaults, like any program */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* never an askpass program: nobody is there to answer */
	setenv("SSH_ASKPASS_REQUIRE", "never", 1);
	unsetenv("SSH_ASKPASS");
	execvp(argv[0], argv);
	dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Start argv with three pipes. 0, or -1 with a libgit2 error. */
static int spawn(pid_t *pid, int *in, int *out, int *err, char *const argv[])
{
	int p[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } };
	for (int i = 0; i < 3; i++)
		if (pipe2(p[i], O_CLOEXEC) != 0) {
			for (int j = 0; j < i; j++) {
				close(p[j][0]);
				close(p[j][1]);
			}
			return set_error(-1, "ssh: pipe: %s", strerror(errno));
		}
	*pid = fork();
	if (*pid == 0)
		exec_child(p[0][0], p[1][1], p[2][1], argv);
	close(p[0][0]);
	close(p[1][1]);
	close(p[2][1]);
	if (*pid < 0) {
		close(p[0][1]);
		close(p[1][0]);
		close(p[2][0]);
		return set_error(-1, "ssh: fork: %s", strerror(errno));
	}
	*in = p[0][1];
	*out = p[1][0];
	*err = p[2][0];
	/* our ends never block: stderr is drained while we wait on the others */
	fcntl(*in, F_SETFL, fcntl(*in, F_GETFL) | O_NONBLOCK);
	fcntl(*out, F_SETFL, fcntl(*out, F_GETFL) | O_NONBLOCK);
	fcntl(*err, F_SETFL, fcntl(*err, F_GETFL) | O_NONBLOCK);
	return 0;
}

/* `CMD -G host` exits 0 when CMD is OpenSSH (git's probe for VARIANT_AUTO). */
static int probe_is_openssh(const ssh_how *h, const char *host)
{
	argv_list a = { { NULL }, 0 };
	pid_t pid = -1;
	int in = -1, out = -1, err = -1, status = 0, rc;
	args_command(&a, h);
	args_add(&a, "-G");
	args_add(&a, host);
	rc = spawn(&pid, &in, &out, &err, a.v);
	args_free(&a);
	if (rc < 0) {
		git_error_clear();
		return 0;
	}
	close(in);
	/* read what it prints (ssh -G: its whole configuration) to its end, so
	 * that it never dies of SIGPIPE or blocks on a full pipe */
	while (out >= 0 || err >= 0) {
		struct pollfd p[2] = { { out, POLLIN, 0 }, { err, POLLIN, 0 } };
		char buf[4096];
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++) {
			int *fd = i ? &err : &out;
			ssize_t r;
			if (!p[i].revents)
				continue;
			r = read(*fd, buf, sizeof(buf));
			if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
				close(*fd);
				*fd = -1;
			}
		}
	}
	if (out >= 0)
		close(out);
	if (err >= 0)
		close(err);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
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
		return set_error(code, "ssh to %s was killed by signal %d: %s", s->where, WTERMSIG(s->status), said);
	return set_error(code, "ssh to %s exited with %d: %s", s->where, WEXITSTATUS(s->status), said);
}

/* ---- the stream ------------------------------------------------------------------ */

/* Wait until fd is ready for `events`, reading what ssh says on stderr
 * meanwhile.  1: ready; 0: not yet (ask again); -1: poll failed. */
static int wait_ready(ssh_stream *s, int fd, short events)
{
	struct pollfd p[2] = { { fd, events, 0 }, { s->err, POLLIN, 0 } };
	if (poll(p, 2, -1) < 0 && errno != EINTR)
		return set_error(-1, "ssh: poll: %s", strerror(errno));
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
		return rc < 0 ? rc : set_error(-1, "ssh to %s exited before it took all its input", s->where);
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

	if (parse_target(&tgt, url) < 0)
		return -1;
	snprintf(target, sizeof(target), "%s%s%s", tgt.user, tgt.user[0] ? "@" : "", tgt.host);
	if (h->variant) {
		variant = variant_named(h->variant, 1);
	} else {
		command_basename(name, sizeof(name), h);
		variant = variant_named(name, 0);
	}
	if (variant == VARIANT_AUTO)
		variant = probe_is_openssh(h, target) ? VARIANT_SSH : VARIANT_SIMPLE;
	if (key && *key && access(key, R_OK) != 0)
		return set_error(GIT_EAUTH, "PUSHSEAL_SSH_KEY=%s cannot be read: %s", key, strerror(errno));

	/* the remote command: git's quoting, '\'' for ' and \! for ! */
	o = (size_t)snprintf(command, sizeof(command), "%s '", service);
	for (const char *p = tgt.path; *p && o + 8 < sizeof(command); p++) {
		if (*p == '\'' || *p == '!')
			o += (size_t)snprintf(command + o, sizeof(command) - o, "'\\%c'", *p);
		else
			command[o++] = *p;
	}
	if (o + 2 >= sizeof(command))
		return set_error(-1, "ssh: the repository path is too long");
	command[o++] = '\'';
	command[o] = '\0';

	args_command(&a, h);
	switch (variant) {
	case VARIANT_SSH:
		if (tgt.port[0]) {
			args_add(&a, "-p");
			args_add(&a, tgt.port);
		}
		args_add(&a, "-o");
		args_add(&a, "BatchMode=yes");
		if (key && *key) {
			args_add(&a, "-i");
			args_add(&a, key);
			args_add(&a, "-o");
			args_add(&a, "IdentitiesOnly=yes");
		}
		if (known && *known) {
			char opt[4200];
			snprintf(opt, sizeof(opt), "UserKnownHostsFile=%s", known);
			args_add(&a, "-o");
			args_add(&a, opt);
		}
		break;
	case VARIANT_SIMPLE:
		if (tgt.port[0]) {
			args_free(&a);
			return set_error(-1, "ssh variant 'simple' does not support setting port");
		}
		break;
	default: /* plink, putty, tortoiseplink */
		if (variant != VARIANT_PUTTY)
			args_add(&a, "-batch");
		if (tgt.port[0]) {
			args_add(&a, "-P");
			args_add(&a, tgt.port);
		}
		break;
	}
	args_add(&a, target);
	args_add(&a, command);

	if (!(s = calloc(1, sizeof(*s)))) {
		args_free(&a);
		return set_error(-1, "out of memory");
	}
	s->parent.subtransport = &t->parent;
	s->parent.read = stream_read;
	s->parent.write = stream_write;
	s->parent.free = stream_free;
	s->owner = t;
	s->in = s->out = s->err = -1;
	snprintf(s->where, sizeof(s->where), "%s", target);
	rc = spawn(&s->pid, &s->in, &s->out, &s->err, a.v);
	args_free(&a);
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
			return set_error(-1, "ssh: no connection to continue");
		*out = &t->current->parent;
		return 0;
	}
	return set_error(-1, "ssh: unknown service %d", (int)action);
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
	how_dispose(&t->how);
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
		return set_error(-1, "out of memory");
	t->parent.action = sub_action;
	t->parent.close = sub_close;
	t->parent.free = sub_free;
	how_read(&t->how, owner);
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
	return 0;
}

void ps_transports_unregister(void)
{
	for (size_t i = 0; i < sizeof(ssh_schemes) / sizeof(ssh_schemes[0]); i++)
		git_transport_unregister(ssh_schemes[i]);
}
