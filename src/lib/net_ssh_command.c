/*
 * The ssh command as git chooses and starts it (net_ssh.h): GIT_SSH_COMMAND,
 * core.sshCommand, GIT_SSH, then "ssh"; git's ssh variants; a child with
 * clean signals and descriptors that never prompts.
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
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

char *ps_ssh_dup(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

void ps_ssh_how_dispose(ssh_how *h)
{
	free(h->shell_cmd);
	free(h->program);
	free(h->variant);
	free(h->upload_pack);
	free(h->receive_pack);
	memset(h, 0, sizeof(*h));
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
void ps_ssh_how_read(ssh_how *h, git_remote *remote)
{
	git_repository *repo = remote ? git_remote_owner(remote) : NULL;
	git_config *cfg = NULL;
	const char *git_ssh = getenv("GIT_SSH");
	memset(h, 0, sizeof(*h));
	if (repo && git_repository_config_snapshot(&cfg, repo) < 0)
		cfg = NULL;
	h->shell_cmd = ps_ssh_dup(getenv("GIT_SSH_COMMAND"));
	if (!h->shell_cmd)
		config_string(&h->shell_cmd, cfg, "core.sshCommand");
	if (!h->shell_cmd)
		h->program = strdup(git_ssh && *git_ssh ? git_ssh : "ssh");
	h->variant = ps_ssh_dup(getenv("GIT_SSH_VARIANT"));
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
int ps_ssh_variant_named(const char *name, int from_config)
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
void ps_ssh_command_basename(char *dst, size_t n, const ssh_how *h)
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

void ps_ssh_args_add(argv_list *a, const char *s)
{
	if (a->n < MAX_ARGS)
		a->v[a->n++] = strdup(s ? s : "");
	a->v[a->n] = NULL;
}

void ps_ssh_args_free(argv_list *a)
{
	for (int i = 0; i < a->n; i++)
		free(a->v[i]);
	a->n = 0;
	a->v[0] = NULL;
}

/* The command itself: `sh -c 'CMD "$@"' CMD` for a shell command, as git's
 * run-command does, or the program. */
void ps_ssh_args_command(argv_list *a, const ssh_how *h)
{
	if (h->shell_cmd) {
		char *script = NULL;
		if (asprintf(&script, "%s \"$@\"", h->shell_cmd) < 0)
			script = NULL;
		ps_ssh_args_add(a, "/bin/sh");
		ps_ssh_args_add(a, "-c");
		ps_ssh_args_add(a, script ? script : "false");
		ps_ssh_args_add(a, h->shell_cmd);
		free(script);
	} else {
		ps_ssh_args_add(a, h->program);
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
int ps_ssh_spawn(pid_t *pid, int *in, int *out, int *err, char *const argv[])
{
	int p[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } };
	for (int i = 0; i < 3; i++)
		if (pipe2(p[i], O_CLOEXEC) != 0) {
			for (int j = 0; j < i; j++) {
				close(p[j][0]);
				close(p[j][1]);
			}
			return ps_ssh_error(-1, "ssh: pipe: %s", strerror(errno));
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
		return ps_ssh_error(-1, "ssh: fork: %s", strerror(errno));
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
int ps_ssh_probe_is_openssh(const ssh_how *h, const char *host)
{
	argv_list a = { { NULL }, 0 };
	pid_t pid = -1;
	int in = -1, out = -1, err = -1, status = 0, rc;
	ps_ssh_args_command(&a, h);
	ps_ssh_args_add(&a, "-G");
	ps_ssh_args_add(&a, host);
	rc = ps_ssh_spawn(&pid, &in, &out, &err, a.v);
	ps_ssh_args_free(&a);
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
