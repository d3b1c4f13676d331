/*
 * F-REDACT: credentials in remote URLs never reach any output.
 * Kill points and shared helpers: faults_common.h.
 */
#define _GNU_SOURCE
#include "faults_common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- F-REDACT ----------------------------------------------------------------------- */

static const char *echo_wanted;
static int echo_seen;

static void no_secret(const char *where, const char *text, const char *secret)
{
	if (text && strstr(text, secret))
		fail_msg("the secret '%s' leaked in %s: %s", secret, where, text);
	if (text && echo_wanted && strstr(text, echo_wanted))
		echo_seen = 1;
}

/* Every command on a clone whose remote URL holds `secret`.  With `echo`,
 * some output must show the URL (redacted) at least once: proof that the
 * redaction, not the absence of the URL, keeps the secret out. */
static void redact_url(ps_ctx *ctx, const char *url, const char *secret, const char *echo)
{
	echo_wanted = echo;
	echo_seen = 0;
	const char *local;
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 1);
	fx_set_url(ctx, "local", "origin", url);
	local = ps_keep(ctx, "local");
	if (drv_is_exec()) {
		static const char *const cmds[][6] = {
			{ "pull-ff", "R", NULL }, { "push-ff", "R", NULL }, { "remote-ahead", "R", NULL },
			{ "local-ahead", "R", NULL }, { "fix", "R", "--writeback", "true", NULL },
			{ "run", "--remote", "--check", "false", "R", NULL }, { "status", "--remote", "R", NULL },
		};
		for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
			const char *a[6] = { NULL };
			const char *out, *err;
			int rc;
			for (int k = 0; k < 6 && cmds[c][k]; k++)
				a[k] = strcmp(cmds[c][k], "R") ? cmds[c][k] : local;
			rc = drv_exec(ctx, &out, &err, a[0], a[1], a[2], a[3], a[4], a[5], NULL);
			if (rc >= 128)
				fail_msg("%s crashed (%d)", cmds[c][0], rc);
			no_secret(ps_fmt(ctx, "%s's stdout", cmds[c][0]), out, secret);
			no_secret(ps_fmt(ctx, "%s's stderr", cmds[c][0]), err, secret);
		}
	} else {
		pushseal_error e;
		pushseal_report rep;
		size_t n;
		int rc;
		rc = pushseal_pull_ff(NULL, local, NULL, &e);
		assert_true(rc < 0);
		no_secret("pull's error", e.message, secret);
		rc = pushseal_push_ff(NULL, local, NULL, &e);
		assert_true(rc < 0);
		no_secret("push's error", e.message, secret);
		rc = pushseal_count_remote_ahead(&n, local, NULL, &e);
		assert_true(rc < 0);
		no_secret("remote-ahead's error", e.message, secret);
		rc = lib_fix(&rep, local, "true");
		assert_true(rc < 0);
		no_secret("fix's error", rep.error.message, secret);
		rc = lib_tick(&rep, local, 1, "false", NULL, PUSHSEAL_DIVERGE_STOP);
		assert_true(rc < 0);
		no_secret("run's error", rep.error.message, secret);
	}
	if (echo && !echo_seen)
		fail_msg("no output showed the redacted URL '%s': the test proved nothing", echo);
	/* what the test relies on: the secret is really in the configuration */
	{
		const char *cfg;
		or_git(ctx, &cfg, "local", "config", "remote.origin.url", NULL);
		assert_non_null(strstr(cfg, secret));
	}
}

static void redact_password(ps_ctx *ctx)
{
	redact_url(ctx, "https://user:s3cr3t@127.0.0.1:1/x.git", "s3cr3t", NULL);
}

static void redact_token(ps_ctx *ctx)
{
	redact_url(ctx, "http://tok3n@127.0.0.1:1/x", "tok3n", NULL);
}

static void redact_echoed_url(ps_ctx *ctx)
{
	/* libgit2 quotes a malformed URL in its message: it must come out masked */
	redact_url(ctx, "https://user:s3cr3t@127.0.0.1:99999/x.git", "s3cr3t", "@127.0.0.1:99999/x.git");
}

static const struct CMUnitTest tests[] = {
	CLAUSE("F-REDACT-1", "a password in the remote URL never appears in any output or library message", redact_password),
	CLAUSE("F-REDACT-2", "a token as the URL's user never appears in any output or library message", redact_token),
	CLAUSE("F-REDACT-3", "a URL that libgit2 quotes in an error is shown with its credentials masked", redact_echoed_url),
};

int main(void)
{
	ps_harness_init();
	return PS_RUN("F-REDACT", tests);
}
