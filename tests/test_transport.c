/*
 * T-HTTP, T-CRED: https remotes, and credentials that never prompt.  A real
 * server on 127.0.0.1 (harness/transport.c): smart HTTP through
 * `git http-backend` behind lighttpd with basic auth.  In-process only: these
 * are the reference's credential rules (src/credentials.c).  ssh, which
 * authenticates through OpenSSH, is tests/test_ssh.c.
 *
 * Every test sets the whole credential environment itself, with stdin
 * /dev/null and GIT_TERMINAL_PROMPT=0, and PUSHSEAL_DEADLINE_S=20 so that a
 * loop or a prompt would show as a slow `timeout`, never as a pass.
 */
#define _GNU_SOURCE
#include "harness.h"
#include "pushseal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A failure must come within this many ms: no loop, no prompt, no deadline. */
#define FAST_MS 8000

static const char *const cred_vars[] = {
	"PUSHSEAL_HTTPS_TOKEN", "PUSHSEAL_HTTPS_TOKEN_FILE", "PUSHSEAL_CREDENTIAL_HELPER",
	"GIT_CONFIG_COUNT",
	"GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_0", "GIT_SSH_COMMAND", "GIT_ASKPASS", "SSH_ASKPASS",
};

/* No credentials at all, whatever an earlier test set. */
static void clean_env(void)
{
	for (size_t i = 0; i < sizeof(cred_vars) / sizeof(cred_vars[0]); i++)
		unsetenv(cred_vars[i]);
	setenv("GIT_TERMINAL_PROMPT", "0", 1);
	setenv("PUSHSEAL_DEADLINE_S", "20", 1);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef ps_result (*op_fn)(ps_ctx *ctx, const char *repo);

/* Run op and assert it fails with class auth, quickly. */
static ps_result expect_auth_fast(ps_ctx *ctx, op_fn op, const char *repo)
{
	long long t0 = now_ms();
	ps_result r = op(ctx, repo);
	long long ms = now_ms() - t0;
	expect_fail(r, PUSHSEAL_E_AUTH);
	if (ms > FAST_MS)
		fail_msg("auth failure took %lld ms (bound %d): a loop or a prompt", ms, FAST_MS);
	return r;
}

/* "remote.git" with 3 commits, "local" cloned from it, origin at url(remote.git). */
static void pair_at(ps_ctx *ctx, const char *url)
{
	char copy[4096];
	snprintf(copy, sizeof(copy), "%s", url);
	fx_bare(ctx, "remote.git", 3);
	fx_clone(ctx, "remote.git", "local");
	fx_set_url(ctx, "local", "origin", copy);
}

/* Lines of `file` that contain both needles (b: NULL for any). */
static int count_lines(const char *file, const char *a, const char *b)
{
	FILE *f = fopen(file, "r");
	char *line = NULL;
	size_t cap = 0;
	int n = 0;
	if (!f)
		return 0;
	while (getline(&line, &cap, f) >= 0)
		if (strstr(line, a) && (!b || strstr(line, b)))
			n++;
	free(line);
	fclose(f);
	return n;
}

static void expect_no_secret(const ps_result *r, const char *secret)
{
	if (strstr(r->line, secret))
		fail_msg("the secret appears in the message: %s", r->line);
}

/* ---- T-HTTP ------------------------------------------------------------------- */

/* T-HTTP-1: no credentials: pull and push fail fast as auth, no prompt, and
 * the server saw at most two unauthenticated attempts per operation. */
static void http_missing_credentials(ps_ctx *ctx)
{
	clean_env();
	pair_at(ctx, ps_http_url(ctx, "remote.git", "private", NULL));
	fx_behind(ctx, "remote.git", 1);
	{
		ps_result r = expect_auth_fast(ctx, drv_pull, ps_path(ctx, "local"));
		assert_non_null(strstr(r.line, "no credentials are configured"));
	}
	assert_int_equal(or_count(ctx, ps_path(ctx, "local"), "HEAD..origin/main"), 0);
	/* push over the anonymous-fetch area: receive-pack needs auth */
	fx_set_url(ctx, "local", "origin", ps_http_url(ctx, "remote.git", "git", NULL));
	fx_ahead(ctx, "local", 1);
	{
		ps_rev tip = or_rev(ctx, ps_path(ctx, "remote.git"), "main");
		expect_auth_fast(ctx, drv_push, ps_path(ctx, "local"));
		assert_str(or_rev(ctx, ps_path(ctx, "remote.git"), "main").hex, tip.hex);
	}
	assert_in_range(ps_http_log_lines(ctx, "access", "\" 401 ", 2), 2, 4);
}

/* T-HTTP-2: a wrong token fails as auth and is offered once: at most three
 * 401s per operation, where a retrying client would make dozens. */
static void http_wrong_token(ps_ctx *ctx)
{
	const char *secret = "wrong-token-7f3a9c";
	clean_env();
	setenv("PUSHSEAL_HTTPS_TOKEN", secret, 1);
	pair_at(ctx, ps_http_url(ctx, "remote.git", "private", "pushseal"));
	{
		ps_result r = expect_auth_fast(ctx, drv_pull, ps_path(ctx, "local"));
		assert_non_null(strstr(r.line, "not retrying"));
		expect_no_secret(&r, secret);
	}
	assert_in_range(ps_http_log_lines(ctx, "access", "\" 401 ", 2), 2, 3);
	fx_ahead(ctx, "local", 1);
	{
		ps_result r = expect_auth_fast(ctx, drv_push, ps_path(ctx, "local"));
		expect_no_secret(&r, secret);
	}
	assert_in_range(ps_http_log_lines(ctx, "access", "\" 401 ", 4), 4, 6);
}

/* T-HTTP-3: the right token (from the environment, then from a file) pulls
 * and pushes through an area where every request needs it. */
static void http_right_token(ps_ctx *ctx)
{
	const char *local = ps_keep(ctx, "local");
	clean_env();
	setenv("PUSHSEAL_HTTPS_TOKEN", ps_http_password(), 1);
	pair_at(ctx, ps_http_url(ctx, "remote.git", "private", "pushseal"));
	fx_behind(ctx, "remote.git", 2);
	{
		ps_result r = drv_pull(ctx, local);
		expect_ok(r);
	}
	assert_str(or_rev(ctx, local, "HEAD").hex, or_rev(ctx, ps_path(ctx, "remote.git"), "main").hex);
	unsetenv("PUSHSEAL_HTTPS_TOKEN");
	fx_write(ctx, "token", ps_fmt(ctx, "%s\n", ps_http_password()));
	setenv("PUSHSEAL_HTTPS_TOKEN_FILE", ps_path(ctx, "token"), 1);
	fx_ahead(ctx, "local", 2);
	{
		ps_result r = drv_push(ctx, local);
		expect_ok(r);
	}
	assert_str(or_rev(ctx, ps_path(ctx, "remote.git"), "main").hex, or_rev(ctx, local, "HEAD").hex);
	/* every authenticated request was made as the configured user */
	assert_true(ps_http_log_lines(ctx, "access", " pushseal [", 1) > 0);
}

/* T-HTTP-4: a password in the URL and a wrong token never appear in any
 * message, in either order of failure. */
static void http_secret_never_shown(ps_ctx *ctx)
{
	const char *url_secret = "urlpass-55e1d0";
	const char *token = "tok-9bd2aa61";
	clean_env();
	setenv("PUSHSEAL_HTTPS_TOKEN", token, 1);
	pair_at(ctx, ps_http_url(ctx, "remote.git", "private", ps_fmt(ctx, "pushseal:%s", url_secret)));
	fx_ahead(ctx, "local", 1);
	{
		ps_result r = expect_auth_fast(ctx, drv_pull, ps_path(ctx, "local"));
		expect_no_secret(&r, url_secret);
		expect_no_secret(&r, token);
		r = expect_auth_fast(ctx, drv_push, ps_path(ctx, "local"));
		expect_no_secret(&r, url_secret);
		expect_no_secret(&r, token);
		r = drv_remote_ahead(ctx, ps_path(ctx, "local"));
		expect_no_secret(&r, url_secret);
		expect_no_secret(&r, token);
	}
}

/* One upstream commit pulled, then one local commit pushed: both succeed and
 * the remote ends at local's HEAD. */
static void pull_then_push_ok(ps_ctx *ctx, const char *local)
{
	fx_behind(ctx, "remote.git", 1);
	{
		ps_result r = drv_pull(ctx, local);
		expect_ok(r);
	}
	fx_ahead(ctx, "local", 1);
	{
		ps_result r = drv_push(ctx, local);
		expect_ok(r);
	}
	assert_str(or_rev(ctx, ps_path(ctx, "remote.git"), "main").hex, or_rev(ctx, local, "HEAD").hex);
}

/* T-HTTP-6: a user in the URL without a password.  libgit2 1.5 on its own,
 * and git through curl (repro/http-url-user.sh), present it with an empty
 * password first: a refused login in the server's log, which lighttpd
 * answers a second late.  pushseal offers the token first. */
static void http_url_user_no_empty_password(ps_ctx *ctx)
{
	const char *local = ps_keep(ctx, "local");
	clean_env();
	setenv("PUSHSEAL_HTTPS_TOKEN", ps_http_password(), 1);
	pair_at(ctx, ps_http_url(ctx, "remote.git", "private", "pushseal"));
	pull_then_push_ok(ctx, local);
	/* as the URL's user, and never refused */
	assert_true(ps_http_log_lines(ctx, "access", " pushseal [", 2) >= 2);
	if (ps_http_log_lines(ctx, "error", "password doesn't match", 0) != 0)
		fail_msg("pushseal presented the URL's user with a wrong (empty) password: the server refused a login");
}

/* T-HTTP-6: ...and where the URL's user is itself the token (the server's
 * account "tok" has an empty password) and nothing else is configured,
 * the user with the empty password is still offered, as git offers it. */
static void http_url_user_as_token(ps_ctx *ctx)
{
	const char *local = ps_keep(ctx, "local");
	clean_env();
	pair_at(ctx, ps_http_url(ctx, "remote.git", "private", "tok"));
	pull_then_push_ok(ctx, local);
	assert_true(ps_http_log_lines(ctx, "access", " tok [", 2) >= 2);
}

/* T-HTTP-5: each network call's child process re-seeds mbedTLS: two https
 * fetches from one process send different ClientHello randoms (a child that
 * kept the parent's DRBG state would repeat the parent's next random). */
static void https_random_not_shared(ps_ctx *ctx)
{
	char r1[80];
	int port;
	clean_env();
	setenv("PUSHSEAL_DEADLINE_S", "10", 1);
	port = ps_hello_listener(ctx, 2);
	pair_at(ctx, ps_fmt(ctx, "https://127.0.0.1:%d/remote.git", port));
	{ ps_result r_ = drv_pull(ctx, ps_path(ctx, "local")); expect_fail(r_, PUSHSEAL_E_UNREACHABLE); }
	{ ps_result r_ = drv_pull(ctx, ps_path(ctx, "local")); expect_fail(r_, PUSHSEAL_E_UNREACHABLE); }
	waitpid(ctx->server_pid, NULL, 0);
	ctx->server_pid = 0;
	snprintf(r1, sizeof(r1), "%s", ps_client_random(ctx, 1));
	if (!strcmp(r1, ps_client_random(ctx, 2)))
		fail_msg("two TLS handshakes sent the same client random %s", r1);
}

/* ---- T-CRED ------------------------------------------------------------------- */

/* A credential helper in the sandbox's global config that answers with
 * `pass` and leaves a mark each time it runs. */
static void configure_helper(ps_ctx *ctx, const char *pass)
{
	fx_write(ctx, "helper.sh", ps_fmt(ctx,
		"#!/bin/sh\necho ran >> '%s'\ntest \"$1\" = get || exit 0\n"
		"echo username=pushseal\necho password=%s\n", ps_path(ctx, "helper-ran"), pass));
	chmod(ps_path(ctx, "helper.sh"), 0755);
	{
		const char *home_cfg = ps_fmt(ctx, "%s/.gitconfig", ctx->home);
		const char *out;
		assert_int_equal(or_git(ctx, &out, ctx->root, "config", "--file", home_cfg, "credential.helper",
			ps_path(ctx, "helper.sh"), NULL), 0);
	}
}

/* T-CRED-1: `git credential fill` is used only when opted in: without
 * PUSHSEAL_CREDENTIAL_HELPER=1 the helper never runs and the push fails as
 * auth; with it, the push succeeds. */
static void cred_helper_opt_in(ps_ctx *ctx)
{
	const char *local = ps_keep(ctx, "local");
	clean_env();
	configure_helper(ctx, ps_http_password());
	pair_at(ctx, ps_http_url(ctx, "remote.git", "git", NULL));
	fx_ahead(ctx, "local", 1);
	expect_auth_fast(ctx, drv_push, local);
	assert_false(or_exists(ctx, "helper-ran"));
	setenv("PUSHSEAL_CREDENTIAL_HELPER", "1", 1);
	{ ps_result r_ = drv_push(ctx, local); expect_ok(r_); }
	assert_true(or_exists(ctx, "helper-ran"));
	assert_str(or_rev(ctx, ps_path(ctx, "remote.git"), "main").hex, or_rev(ctx, local, "HEAD").hex);
}

/* T-CRED-4: a credential helper that hangs, and the helper it starts, are
 * gone once the deadline has passed: nothing of them outlives the push. */
static void cred_helper_hang_killed(ps_ctx *ctx)
{
	const char *local = ps_keep(ctx, "local");
	char marker[64];
	long long t0;
	clean_env();
	snprintf(marker, sizeof(marker), "sleep 600.%d", (int)getpid());
	/* the helper starts a grandchild of its own, then waits on it */
	fx_write(ctx, "helper.sh", ps_fmt(ctx, "#!/bin/sh\n%s &\nwait\n", marker));
	chmod(ps_path(ctx, "helper.sh"), 0755);
	{
		const char *out;
		assert_int_equal(or_git(ctx, &out, ctx->root, "config", "--file", ps_fmt(ctx, "%s/.gitconfig", ctx->home),
			"credential.helper", ps_path(ctx, "helper.sh"), NULL), 0);
	}
	pair_at(ctx, ps_http_url(ctx, "remote.git", "git", NULL));
	fx_ahead(ctx, "local", 1);
	setenv("PUSHSEAL_CREDENTIAL_HELPER", "1", 1);
	setenv("PUSHSEAL_DEADLINE_S", "2", 1);
	t0 = now_ms();
	{ ps_result r_ = drv_push(ctx, local); expect_fail(r_, PUSHSEAL_E_TIMEOUT); }
	unsetenv("PUSHSEAL_CREDENTIAL_HELPER");
	/* within a second of the deadline, no process of the helper is left */
	while (now_ms() - t0 < 3000) {
		const char *argv[] = { "pgrep", "-f", marker, NULL };
		if (ps_spawn(ctx, NULL, argv, NULL, NULL) != 0)
			return;
		usleep(50 * 1000);
	}
	fail_msg("the credential helper's `%s` outlived the push's deadline", marker);
}

/* T-CRED-2: the helper path never prompts: with no helper configured and an
 * askpass program in the config and the environment, it fails fast as auth
 * and the askpass program never runs. */
static void cred_helper_never_prompts(ps_ctx *ctx)
{
	clean_env();
	fx_write(ctx, "askpass.sh", ps_fmt(ctx, "#!/bin/sh\necho ran >> '%s'\necho x\n", ps_path(ctx, "askpass-ran")));
	chmod(ps_path(ctx, "askpass.sh"), 0755);
	{
		const char *out;
		assert_int_equal(or_git(ctx, &out, ctx->root, "config", "--file",
			ps_fmt(ctx, "%s/.gitconfig", ctx->home), "core.askPass", ps_path(ctx, "askpass.sh"), NULL), 0);
	}
	setenv("SSH_ASKPASS", ps_path(ctx, "askpass.sh"), 1);
	setenv("PUSHSEAL_CREDENTIAL_HELPER", "1", 1);
	pair_at(ctx, ps_http_url(ctx, "remote.git", "private", NULL));
	fx_behind(ctx, "remote.git", 1);
	expect_auth_fast(ctx, drv_pull, ps_path(ctx, "local"));
	assert_false(or_exists(ctx, "askpass-ran"));
}

/* T-CRED-3: a helper's wrong password is tried once: auth, not a loop, and
 * the helper ran once per operation. */
static void cred_helper_wrong_once(ps_ctx *ctx)
{
	clean_env();
	configure_helper(ctx, "not-the-password");
	setenv("PUSHSEAL_CREDENTIAL_HELPER", "1", 1);
	pair_at(ctx, ps_http_url(ctx, "remote.git", "private", NULL));
	{
		ps_result r = expect_auth_fast(ctx, drv_pull, ps_path(ctx, "local"));
		expect_no_secret(&r, "not-the-password");
	}
	assert_int_equal(count_lines(ps_path(ctx, "helper-ran"), "ran", NULL), 1);
	assert_in_range(ps_http_log_lines(ctx, "access", "\" 401 ", 2), 2, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		CLAUSE("T-HTTP-1", "with no credentials pull and push over HTTP fail fast as auth, never prompting", http_missing_credentials),
		CLAUSE("T-HTTP-2", "a wrong token fails as auth after one try and is never shown", http_wrong_token),
		CLAUSE("T-HTTP-3", "the right token, from the variable or its file, pulls and pushes over HTTP", http_right_token),
		CLAUSE("T-HTTP-4", "a password in the URL and a token never appear in pull, push or remote-ahead messages", http_secret_never_shown),
		CLAUSE("T-HTTP-5", "two https fetches from one process send different TLS client randoms", https_random_not_shared),
		CLAUSE("T-HTTP-6", "a URL's user with no password gets the token first: pull and push without a refused login", http_url_user_no_empty_password),
		CLAUSE("T-HTTP-6", "a URL's user that is itself the token, nothing else configured, pulls and pushes as git does", http_url_user_as_token),
		CLAUSE("T-CRED-1", "git credential fill runs only with PUSHSEAL_CREDENTIAL_HELPER=1", cred_helper_opt_in),
		CLAUSE("T-CRED-2", "the credential helper path never runs an askpass program and fails fast with class auth", cred_helper_never_prompts),
		CLAUSE("T-CRED-3", "a wrong password from the helper is tried once and fails as auth", cred_helper_wrong_once),
		CLAUSE("T-CRED-4", "a credential helper that hangs, and what it started, end with the push's deadline", cred_helper_hang_killed),
	};
	ps_harness_init();
	return PS_RUN("transport", tests) ? 1 : 0;
}
