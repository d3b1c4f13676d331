/*
 * SEC-*: a repository whose config or environment tries to make pushseal do
 * something dangerous.  Each test runs pushseal against real repositories
 * and real servers on loopback (lighttpd + git http-backend, sshd, a TLS
 * listener), and the git CLI against a twin with the same config, so the
 * test shows git's own behaviour next to pushseal's (docs/SPEC.md, SEC).
 *
 * A program "run" is detected by a marker file that the configured command
 * appends to: a marker that stays absent proves pushseal never ran it, one
 * that appears in the twin proves the config was live for git.
 *
 * In-process against the library, plus the built `pushseal` command for
 * status, run and fix: these are the reference's own rules.
 */
#define _GNU_SOURCE
#include "harness.h"
#include "pushseal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const cred_vars[] = {
	"PUSHSEAL_HTTPS_TOKEN", "PUSHSEAL_HTTPS_TOKEN_FILE", "PUSHSEAL_CREDENTIAL_HELPER",
	"PUSHSEAL_SSH_KEY", "PUSHSEAL_SSH_KNOWN_HOSTS", "SSH_AUTH_SOCK", "GIT_CONFIG_COUNT",
	"GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_0", "GIT_SSH_COMMAND", "GIT_SSH", "GIT_ASKPASS", "SSH_ASKPASS",
};

/* No credentials and no ssh override, whatever an earlier test set. */
static void clean_env(void)
{
	for (size_t i = 0; i < sizeof(cred_vars) / sizeof(cred_vars[0]); i++)
		unsetenv(cred_vars[i]);
	setenv("GIT_TERMINAL_PROMPT", "0", 1);
	setenv("PUSHSEAL_DEADLINE_S", "20", 1);
}

/* The built command, with args (NULL-terminated); stdout and stderr in ring
 * buffers.  Returns its exit code. */
static int cli(ps_ctx *ctx, const char **out, const char **err, ...)
{
	const char *argv[24];
	int argc = 0;
	va_list ap;
	argv[argc++] = PUSHSEAL_CLI_PATH;
	va_start(ap, err);
	for (const char *a; (a = va_arg(ap, const char *)) != NULL && argc < 23;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	return ps_spawn(ctx, NULL, argv, out, err);
}

/* `git -C dir args...` with stderr: returns the exit code. */
static int git_err(ps_ctx *ctx, const char **errout, const char *dir, ...)
{
	const char *argv[24], *o;
	int argc = 0;
	va_list ap;
	argv[argc++] = "git";
	argv[argc++] = "-C";
	argv[argc++] = ps_path(ctx, dir);
	va_start(ap, dir);
	for (const char *a; (a = va_arg(ap, const char *)) != NULL && argc < 23;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	return ps_spawn(ctx, NULL, argv, &o, errout);
}

/* An executable script in the sandbox that appends "<name> $*" to the
 * marker file, then exits with `code`. */
static const char *marker_script(ps_ctx *ctx, const char *name, int code)
{
	const char *path = ps_keep(ctx, name);
	fx_write(ctx, name, ps_fmt(ctx, "#!/bin/sh\necho \"%s $*\" >> '%s'\nexit %d\n", name,
		ps_path(ctx, "marker"), code));
	chmod(path, 0755);
	return path;
}

static void expect_no_marker(ps_ctx *ctx, const char *after)
{
	if (or_exists(ctx, "marker"))
		fail_msg("pushseal ran a command from the repository's config (%s): %s", after, or_file(ctx, "marker"));
}

/* url with its host "127.0.0.1" replaced by `host`. */
static const char *with_host(ps_ctx *ctx, const char *url, const char *host)
{
	const char *at = strstr(url, "127.0.0.1");
	if (!at)
		fail_msg("no 127.0.0.1 in %s", url);
	return ps_fmt(ctx, "%.*s%s%s", (int)(at - url), url, host, at + 9);
}

static void expect_token_refused(ps_result r, const char *url)
{
	if (r.ok || (r.class_known && r.klass != PUSHSEAL_E_AUTH) || !strstr(r.line, "refusing to send the token"))
		fail_msg("the token was not refused for %s: %s", url, r.line);
	if (strstr(r.line, ps_http_password()))
		fail_msg("the token appears in the message: %s", r.line);
}

/* ---- SEC-TOKEN ------------------------------------------------------------------ */

/* SEC-TOKEN-1: over plain http the token goes only to localhost or a
 * numeric loopback address.  127.1, 2130706433 and ::ffff:127.0.0.1 all
 * reach the server on 127.0.0.1 (glibc reads them), yet none is a loopback
 * address as inet_pton reads it: the token is refused before it is sent,
 * even though it is the right one.  git, with a credential helper, sends the
 * password to 127.1 in clear. */
static void token_numeric_loopback_only(ps_ctx *ctx)
{
	const char *local = ps_keep(ctx, "local");
	const char *hosts[] = { "127.1", "2130706433", "[::ffff:127.0.0.1]", NULL, NULL };
	char self[256] = "", good[1024];
	clean_env();
	snprintf(good, sizeof(good), "%s", ps_http_url(ctx, "remote.git", "private", "pushseal"));
	setenv("PUSHSEAL_HTTPS_TOKEN", ps_http_password(), 1);
	fx_bare(ctx, "remote.git", 2);
	fx_clone(ctx, "remote.git", "local");
	fx_behind(ctx, "remote.git", 1);
	/* a name of this machine that resolves to loopback is still a name */
	if (gethostname(self, sizeof(self) - 1) == 0 && self[0] && strcmp(self, "localhost") != 0) {
		struct addrinfo hints, *ai = NULL;
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_INET;
		if (getaddrinfo(self, NULL, &hints, &ai) == 0 && ai &&
			(ntohl(((struct sockaddr_in *)ai->ai_addr)->sin_addr.s_addr) >> 24) == 127)
			hosts[3] = self;
		if (ai)
			freeaddrinfo(ai);
	}
	for (int i = 0; hosts[i]; i++) {
		const char *url = with_host(ctx, good, hosts[i]);
		ps_rev tip;
		tip = or_rev(ctx, "local", "HEAD");
		fx_set_url(ctx, "local", "origin", url);
		expect_token_refused(drv_pull(ctx, local), url);
		assert_str(or_rev(ctx, "local", "HEAD").hex, tip.hex);
	}
	/* the server never answered 200 to this sandbox: no request carried the token */
	assert_int_equal(ps_http_log_lines(ctx, "access", "\" 200 ", 0), 0);
	/* localhost and 127.0.0.1 may have it */
	fx_set_url(ctx, "local", "origin", with_host(ctx, good, "localhost"));
	{ ps_result r_ = drv_pull(ctx, local); expect_ok(r_); }
	assert_str(or_rev(ctx, "local", "HEAD").hex, or_rev(ctx, "remote.git", "main").hex);
	/* git: its credential helper's password goes to 127.1 over plain http */
	fx_clone(ctx, "remote.git", "twin");
	fx_set_url(ctx, "twin", "origin", with_host(ctx, good, "127.1"));
	setenv("GIT_CONFIG_COUNT", "1", 1);
	setenv("GIT_CONFIG_KEY_0", "credential.helper", 1);
	setenv("GIT_CONFIG_VALUE_0", ps_fmt(ctx, "!f() { test \"$1\" = get || exit 0; "
		"echo username=pushseal; echo password=%s; }; f", ps_http_password()), 1);
	assert_int_equal(or_git(ctx, NULL, "twin", "ls-remote", "origin", NULL), 0);
	clean_env();
}

/* SEC-TOKEN-2: the token decision is made on the URL pushseal connects to,
 * when it connects: after url.<base>.insteadOf (a trusted https name pointed
 * at a plain-http host that is not loopback is refused; an unknown name
 * pointed at loopback is allowed), after pushInsteadOf and pushurl for a
 * push, and after a writeback rewrote the remote (the seal push refuses). */
static void token_decision_after_rewrite(ps_ctx *ctx)
{
	const char *local = ps_keep(ctx, "local");
	const char *path;
	char good[1024], good_base[1024], bad_base[1024];
	ps_rev tip;
	clean_env();
	snprintf(good, sizeof(good), "%s", ps_http_url(ctx, "remote.git", "private", "pushseal"));
	setenv("PUSHSEAL_HTTPS_TOKEN", ps_http_password(), 1);
	path = strstr(good, "/private/") + 1;                                /* private/<repo> */
	snprintf(good_base, sizeof(good_base), "%.*s", (int)(path - good), good); /* http://pushseal@127.0.0.1:P/ */
	snprintf(bad_base, sizeof(bad_base), "%s", with_host(ctx, good_base, "127.1"));
	fx_bare(ctx, "remote.git", 2);
	fx_clone(ctx, "remote.git", "local");

	/* a trusted https name rewritten to plain http on a host that is not loopback */
	fx_config(ctx, "local", ps_fmt(ctx, "url.%s.insteadOf", bad_base), "https://git.trusted.example/");
	fx_set_url(ctx, "local", "origin", ps_fmt(ctx, "https://git.trusted.example/%s", path));
	fx_behind(ctx, "remote.git", 1);
	expect_token_refused(drv_pull(ctx, local), "https://git.trusted.example/ (insteadOf)");
	{
		const char *out;
		/* git rewrites it the same way */
		assert_int_equal(or_git(ctx, &out, "local", "remote", "get-url", "origin", NULL), 0);
		assert_non_null(strstr(out, "127.1:"));
	}
	/* an unknown name rewritten to loopback: allowed */
	fx_config(ctx, "local", ps_fmt(ctx, "url.%s.insteadOf", good_base), "http://unknown.example/");
	fx_set_url(ctx, "local", "origin", ps_fmt(ctx, "http://unknown.example/%s", path));
	{ ps_result r_ = drv_pull(ctx, local); expect_ok(r_); }
	assert_str(or_rev(ctx, "local", "HEAD").hex, or_rev(ctx, "remote.git", "main").hex);

	/* pushInsteadOf: fetches go to loopback, pushes to 127.1 */
	fx_set_url(ctx, "local", "origin", good);
	fx_config(ctx, "local", ps_fmt(ctx, "url.%s.pushInsteadOf", bad_base), good_base);
	fx_ahead(ctx, "local", 1);
	tip = or_rev(ctx, "remote.git", "main");
	{ ps_result r_ = drv_pull(ctx, local); expect_ok(r_); }      /* the fetch still goes to loopback */
	expect_token_refused(drv_push(ctx, local), "pushInsteadOf");
	assert_str(or_rev(ctx, "remote.git", "main").hex, tip.hex);
	fx_config_delete(ctx, "local", ps_fmt(ctx, "url.%s.pushInsteadOf", bad_base));
	/* an explicit pushurl */
	fx_config(ctx, "local", "remote.origin.pushurl", with_host(ctx, good, "127.1"));
	expect_token_refused(drv_push(ctx, local), "pushurl");
	assert_str(or_rev(ctx, "remote.git", "main").hex, tip.hex);
	fx_config(ctx, "local", "remote.origin.pushurl", good);
	{ ps_result r_ = drv_push(ctx, local); expect_ok(r_); }
	assert_str(or_rev(ctx, "remote.git", "main").hex, or_rev(ctx, "local", "HEAD").hex);
	fx_config_delete(ctx, "local", "remote.origin.pushurl");

	/* a writeback that points the remote elsewhere: the seal push refuses */
	tip = or_rev(ctx, "remote.git", "main");
	{
		ps_cycle_result r = drv_fix(ctx, local, ps_fmt(ctx,
			"git config remote.origin.url '%s' && echo w >> w.txt && git add w.txt && git commit -qm w",
			with_host(ctx, good, "127.1")));
		assert_int_equal(r.exit_code, 1);
		assert_false(r.sealed);
	}
	assert_str(or_rev(ctx, "remote.git", "main").hex, tip.hex);
	assert_int_equal(or_count(ctx, "local", "origin/main..HEAD"), 1);
	clean_env();
}

/* ---- SEC-TLS -------------------------------------------------------------------- */

/* SEC-TLS-1: every child that may open a network connection starts with
 * fresh TLS random state, whatever the raw URL says: a git:// url that
 * insteadOf rewrites to https, and an https pushurl beside a git:// url,
 * each make two handshakes with different client randoms (a child that kept
 * the parent's DRBG state would repeat its siblings' randoms). */
static void tls_fresh_random_any_url(ps_ctx *ctx)
{
	const char *local = ps_keep(ctx, "local");
	char r[4][64];
	int port;
	clean_env();
	setenv("PUSHSEAL_DEADLINE_S", "10", 1);
	port = ps_hello_listener(ctx, 4);
	fx_bare(ctx, "remote.git", 2);
	fx_clone(ctx, "remote.git", "local");
	fx_config(ctx, "local", ps_fmt(ctx, "url.https://127.0.0.1:%d/.insteadOf", port), "git://tls.invalid/");
	fx_set_url(ctx, "local", "origin", "git://tls.invalid/remote.git");
	for (int i = 0; i < 2; i++) {
		ps_result r_ = drv_pull(ctx, local);
		assert_false(r_.ok);
	}
	fx_set_url(ctx, "local", "origin", "git://127.0.0.1:9/remote.git");
	fx_config(ctx, "local", "remote.origin.pushurl", ps_fmt(ctx, "https://127.0.0.1:%d/remote.git", port));
	fx_ahead(ctx, "local", 1);
	for (int i = 0; i < 2; i++) {
		ps_result r_ = drv_push(ctx, local);
		assert_false(r_.ok);
	}
	waitpid(ctx->server_pid, NULL, 0);
	ctx->server_pid = 0;
	for (int i = 0; i < 4; i++)
		snprintf(r[i], sizeof(r[i]), "%s", ps_client_random(ctx, i + 1));
	for (int i = 0; i < 4; i++)
		for (int j = i + 1; j < 4; j++)
			if (!strcmp(r[i], r[j]))
				fail_msg("handshakes %d and %d (%s) sent the same client random %s", i + 1, j + 1,
					i < 2 && j < 2 ? "fetches via insteadOf" : i >= 2 ? "pushes via pushurl" : "fetch and push",
					r[i]);
}

/* A free port on 127.0.0.1 (bound, then released). */
/* SEC-TLS-2: http.sslVerify=false in the repository's config is not
 * honoured: an https remote with a self-signed certificate fails with class
 * auth and a certificate message.  git honours it and gets past TLS. */
static void tls_verify_not_disabled(ps_ctx *ctx)
{
	const char *local = ps_keep(ctx, "local");
	const char *key = ps_keep(ctx, "key.pem"), *cert = ps_keep(ctx, "cert.pem");
	const char *err;
	int port;
	clean_env();
	{
		const char *argv[] = { "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
			"-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1", NULL };
		assert_int_equal(ps_spawn(ctx, NULL, argv, NULL, NULL), 0);
	}
	if ((port = ps_free_port()) < 0)
		fail_msg("no free port");
	ctx->server_pid = fork();
	if (ctx->server_pid == 0) {
		int null = open("/dev/null", O_RDWR);
		char accept_arg[64];
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		alarm(60); /* survives exec: the server stops by itself */
		snprintf(accept_arg, sizeof(accept_arg), "127.0.0.1:%d", port);
		execlp("openssl", "openssl", "s_server", "-quiet", "-accept", accept_arg, "-cert", cert, "-key", key,
			"-www", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 250 && !ps_port_accepting(port); i++)
		usleep(20 * 1000);
	fx_bare(ctx, "remote.git", 2);
	fx_clone(ctx, "remote.git", "local");
	fx_set_url(ctx, "local", "origin", ps_fmt(ctx, "https://127.0.0.1:%d/remote.git", port));
	fx_config(ctx, "local", "http.sslVerify", "false");
	{
		ps_result r = drv_pull(ctx, local);
		expect_fail(r, PUSHSEAL_E_AUTH);
		assert_non_null(strstr(r.line, "certificate"));
		r = drv_push(ctx, local);
		expect_fail(r, PUSHSEAL_E_AUTH);
	}
	/* git honours it: past TLS, the server is simply not a git server */
	assert_int_not_equal(git_err(ctx, &err, "local", "ls-remote", "origin", NULL), 0);
	if (strstr(err, "certificate"))
		fail_msg("git did not honour http.sslVerify=false: %s", err);
	fx_config_delete(ctx, "local", "http.sslVerify");
	assert_int_not_equal(git_err(ctx, &err, "local", "ls-remote", "origin", NULL), 0);
	assert_non_null(strstr(err, "certificate"));
}

/* ---- SEC-RUN -------------------------------------------------------------------- */

/* SEC-RUN-1: core.sshCommand is run exactly where git runs it: for an ssh
 * remote (pushseal runs ssh as git does), never for a remote on a path. */
static void ssh_command_as_git(ps_ctx *ctx)
{
	const char *local = ps_keep(ctx, "local");
	const char *cmd;
	clean_env();
	cmd = marker_script(ctx, "ssh-command.sh", 1);
	fx_bare(ctx, "remote.git", 2);
	fx_clone(ctx, "remote.git", "local");
	fx_config(ctx, "local", "core.sshCommand", cmd);
	/* a local remote: neither git nor pushseal has a use for ssh */
	fx_behind(ctx, "remote.git", 1);
	{ ps_result r_ = drv_pull(ctx, local); expect_ok(r_); }
	fx_ahead(ctx, "local", 1);
	{ ps_result r_ = drv_push(ctx, local); expect_ok(r_); }
	expect_no_marker(ctx, "pull and push to a local remote");
	/* an ssh remote: git runs the command, and so does pushseal */
	fx_set_url(ctx, "local", "origin", "ssh://git@127.0.0.1:9/remote.git");
	{ ps_result r_ = drv_pull(ctx, local); assert_false(r_.ok); }
	assert_non_null(or_file(ctx, "marker"));
	assert_non_null(strstr(or_file(ctx, "marker"), "ssh-command.sh"));
	unlink(ps_path(ctx, "marker"));
	fx_clone(ctx, "remote.git", "twin");
	fx_set_url(ctx, "twin", "origin", "ssh://git@127.0.0.1:9/remote.git");
	fx_config(ctx, "twin", "core.sshCommand", cmd);
	assert_int_not_equal(or_git(ctx, NULL, "twin", "fetch", "origin", NULL), 0);
	assert_non_null(or_file(ctx, "marker"));
	assert_non_null(strstr(or_file(ctx, "marker"), "ssh-command.sh"));
}

/* SEC-RUN-2: core.fsmonitor is never run by pull, push, the counts, status,
 * run or fix (libgit2 has no fsmonitor support).  git 2.39 runs it for
 * `git status` and `git pull --ff-only`, not for `git push`. */
static void fsmonitor_never_run(ps_ctx *ctx)
{
	const char *local = ps_keep(ctx, "local");
	const char *hook, *out, *err;
	clean_env();
	hook = marker_script(ctx, "fsmonitor.sh", 1);
	fx_pair(ctx, 2);
	fx_config(ctx, "local", "core.fsmonitor", hook);
	fx_behind(ctx, "remote.git", 1);
	{ ps_result r_ = drv_pull(ctx, local); expect_ok(r_); }
	fx_ahead(ctx, "local", 1);
	{ ps_result r_ = drv_push(ctx, local); expect_ok(r_); }
	drv_remote_ahead(ctx, local);
	drv_local_ahead(ctx, local);
	fx_behind(ctx, "remote.git", 1);
	assert_int_equal(cli(ctx, &out, &err, "status", "--remote", local, NULL), 0);
	assert_int_equal(cli(ctx, &out, &err, "run", "--remote", local, NULL), 0);
	if (cli(ctx, &out, &err, "fix", local, "--writeback", "echo w >> w.txt", "--commit-message", "w", NULL) != 0)
		fail_msg("fix failed: %s %s", out, err);
	assert_str(or_rev(ctx, "remote.git", "main").hex, or_rev(ctx, "local", "HEAD").hex);
	expect_no_marker(ctx, "pull, push, counts, status, run, fix");
	/* git, on a twin with the same config */
	fx_clone(ctx, "remote.git", "twin");
	fx_config(ctx, "twin", "core.fsmonitor", hook);
	or_git(ctx, NULL, "twin", "status", NULL);
	assert_true(or_exists(ctx, "marker"));
	fx_rmrf(ctx, "marker");
	fx_commit(ctx, "twin", "t.txt", "twin\n");
	fx_rmrf(ctx, "marker");
	assert_int_equal(or_git(ctx, NULL, "twin", "push", "-q", "origin", "main", NULL), 0);
	assert_false(or_exists(ctx, "marker"));
	fx_behind(ctx, "remote.git", 1);
	assert_int_equal(or_git(ctx, NULL, "twin", "pull", "-q", "--ff-only", NULL), 0);
	assert_true(or_exists(ctx, "marker"));
}

/* SEC-RUN-3: hooks (core.hooksPath or .git/hooks) and filter drivers from
 * the repository's config are never run: pull, push and fix with
 * --commit-message run no post-merge, post-checkout, reference-transaction,
 * pre-push, pre-commit or post-commit hook and no smudge or clean filter.
 * git's pull --ff-only runs the smudge filter and the checkout hooks. */
static void hooks_and_filters_never_run(ps_ctx *ctx)
{
	const char *local = ps_keep(ctx, "local");
	const char *hooks = ps_keep(ctx, "hooks");
	const char *names[] = { "post-merge", "post-checkout", "reference-transaction", "pre-push", "pre-commit",
		"post-commit", "commit-msg", "pre-auto-gc", NULL };
	const char *out, *err;
	clean_env();
	mkdir(hooks, 0755);
	for (int i = 0; names[i]; i++)
		marker_script(ctx, ps_fmt(ctx, "hooks/%s", names[i]), 0);
	fx_write(ctx, "filter.sh", ps_fmt(ctx, "#!/bin/sh\necho \"filter $*\" >> '%s'\ncat\n", ps_path(ctx, "marker")));
	chmod(ps_path(ctx, "filter.sh"), 0755);
	fx_pair(ctx, 2);
	fx_config(ctx, "local", "core.hooksPath", hooks);
	fx_config(ctx, "local", "filter.x.smudge", ps_fmt(ctx, "%s smudge", ps_path(ctx, "filter.sh")));
	fx_config(ctx, "local", "filter.x.clean", ps_fmt(ctx, "%s clean", ps_path(ctx, "filter.sh")));
	fx_write(ctx, "local/.git/info/attributes", "* filter=x\n");
	fx_behind(ctx, "remote.git", 1);
	{ ps_result r_ = drv_pull(ctx, local); expect_ok(r_); }
	fx_ahead(ctx, "local", 1);
	{ ps_result r_ = drv_push(ctx, local); expect_ok(r_); }
	fx_behind(ctx, "remote.git", 1);
	if (cli(ctx, &out, &err, "fix", local, "--writeback", "echo w >> w.txt", "--commit-message", "w", NULL) != 0)
		fail_msg("fix failed: %s %s", out, err);
	assert_str(or_rev(ctx, "remote.git", "main").hex, or_rev(ctx, "local", "HEAD").hex);
	expect_no_marker(ctx, "pull, push, fix with hooks and filters configured");
	/* git runs them */
	fx_clone(ctx, "remote.git", "twin");
	fx_config(ctx, "twin", "core.hooksPath", hooks);
	fx_config(ctx, "twin", "filter.x.smudge", ps_fmt(ctx, "%s smudge", ps_path(ctx, "filter.sh")));
	fx_config(ctx, "twin", "filter.x.clean", ps_fmt(ctx, "%s clean", ps_path(ctx, "filter.sh")));
	fx_write(ctx, "twin/.git/info/attributes", "* filter=x\n");
	fx_behind(ctx, "remote.git", 1);
	assert_int_equal(or_git(ctx, NULL, "twin", "pull", "-q", "--ff-only", NULL), 0);
	assert_non_null(or_file(ctx, "marker"));
	assert_non_null(strstr(or_file(ctx, "marker"), "filter "));
	assert_non_null(strstr(or_file(ctx, "marker"), "post-merge"));
}

/* SEC-RUN-4: pushseal says what it runs, and runs nothing else: with a PATH
 * whose git, ssh, sh, gpg and git-* programs only record that they ran,
 * pull-ff, push-ff, the counts, status --remote and run --remote run none of
 * them; fix runs exactly its writeback, through /bin/sh. */
static void runs_only_what_it_says(ps_ctx *ctx)
{
	const char *local = ps_keep(ctx, "local");
	const char *bin = ps_keep(ctx, "bin");
	const char *progs[] = { "git", "ssh", "sh", "bash", "gpg", "git-upload-pack", "git-receive-pack",
		"git-credential", "git-askpass", NULL };
	const char *path = getenv("PATH");
	char saved[4096];
	const char *out, *err;
	clean_env();
	fx_pair(ctx, 2);
	fx_behind(ctx, "remote.git", 1);
	mkdir(bin, 0755);
	for (int i = 0; progs[i]; i++)
		marker_script(ctx, ps_fmt(ctx, "bin/%s", progs[i]), 1);
	snprintf(saved, sizeof(saved), "%s", path ? path : "/usr/bin:/bin");
	/* from here until PATH is restored, only pushseal and libgit2 fixtures run */
	setenv("PATH", ps_fmt(ctx, "%s:%s", bin, saved), 1);
	{
		static const char *const what[] = { "remote-ahead", "local-ahead", "status --remote", "pull-ff",
			"push-ff", "run --remote", "fix --writeback" };
		int rc[7];
		rc[0] = cli(ctx, &out, &err, "remote-ahead", local, NULL);
		rc[1] = cli(ctx, &out, &err, "local-ahead", local, NULL);
		rc[2] = cli(ctx, &out, &err, "status", "--remote", local, NULL);
		rc[3] = cli(ctx, &out, &err, "pull-ff", local, NULL);
		fx_ahead(ctx, "local", 1);
		rc[4] = cli(ctx, &out, &err, "push-ff", local, NULL);
		fx_ahead(ctx, "local", 1);
		rc[5] = cli(ctx, &out, &err, "run", "--remote", local, NULL);
		rc[6] = cli(ctx, &out, &err, "fix", local, "--writeback", "echo w >> w.txt", "--commit-message", "w", NULL);
		setenv("PATH", saved, 1);
		for (int i = 0; i < 7; i++)
			if (rc[i] != 0)
				fail_msg("%s exited %d", what[i], rc[i]);
	}
	expect_no_marker(ctx, "remote-ahead, local-ahead, status, run, pull-ff, push-ff, fix");
	assert_str(or_file(ctx, "local/w.txt"), "w\n");
	assert_str(or_rev(ctx, "remote.git", "main").hex, or_rev(ctx, "local", "HEAD").hex);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		CLAUSE("SEC-TOKEN-1", "over plain http the token goes only to localhost, never to 127.1-style loopback spellings", token_numeric_loopback_only),
		CLAUSE("SEC-TOKEN-2", "the token goes by the URL actually used, after insteadOf, pushurl and writeback changes", token_decision_after_rewrite),
		CLAUSE("SEC-TLS-1", "every network child sends its own TLS client random, also after URL rewrites", tls_fresh_random_any_url),
		CLAUSE("SEC-TLS-2", "http.sslVerify=false in the repository's config is ignored: self-signed fails as auth", tls_verify_not_disabled),
		CLAUSE("SEC-RUN-1", "core.sshCommand runs where git runs it: for an ssh remote, never for a local one", ssh_command_as_git),
		CLAUSE("SEC-RUN-2", "core.fsmonitor is never run by any pushseal command", fsmonitor_never_run),
		CLAUSE("SEC-RUN-3", "hooks and filter drivers from the repository's config never run", hooks_and_filters_never_run),
		CLAUSE("SEC-RUN-4", "pushseal runs no git, ssh, shell or gpg program, only fix's writeback shell", runs_only_what_it_says),
	};
	ps_harness_init();
	return PS_RUN("hostile", tests) ? 1 : 0;
}
