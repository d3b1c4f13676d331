/*
 * W-*: failure classes from what the server said, and the server's own
 * words in the message.  A timer alerts on a permanent failure and retries
 * a transient one, so a server that refuses access must never look like a
 * network blip.  Real servers on 127.0.0.1: a `git daemon` that exports
 * nothing, lighttpd with git http-backend (a 403 area, a missing
 * repository), and hooks that refuse with their own message.
 */
#define _GNU_SOURCE
#include "harness.h"
#include "pushseal.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A `git daemon` over the sandbox that exports only repositories marked
 * git-daemon-export-ok (none, unless a test marks one); stopped, with its
 * process group, in teardown. */
static int start_strict_daemon(ps_ctx *ctx)
{
	int port = ps_free_port();
	const char *root = ps_keep(ctx, "");
	ctx->server_pid = fork();
	if (ctx->server_pid == 0) {
		int null = open("/dev/null", O_RDWR);
		setpgid(0, 0);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execlp("timeout", "timeout", "120", "git", "daemon", "--listen=127.0.0.1",
			ps_fmt(ctx, "--port=%d", port), ps_fmt(ctx, "--base-path=%s", root), "--reuseaddr",
			"--enable=receive-pack", root, (char *)NULL);
		_exit(127);
	}
	setpgid(ctx->server_pid, ctx->server_pid);
	for (int i = 0; i < 250 && !ps_port_accepting(port); i++) {
		struct timespec ts = { 0, 20 * 1000000L };
		nanosleep(&ts, NULL);
	}
	if (!ps_port_accepting(port))
		fail_msg("git daemon did not start on 127.0.0.1:%d", port);
	return port;
}

/* The class in-process; through a command, the failure kind in its JSON. */
static void expect_permanent(ps_ctx *ctx, const ps_result *r, int klass, const char *words, const char *what)
{
	if (r->ok)
		fail_msg("%s succeeded: %s", what, r->line);
	if (r->class_known && r->klass != klass)
		fail_msg("%s: class %s, expected %s: %s", what, pushseal_class_name(r->klass), pushseal_class_name(klass), r->line);
	if (words && !strstr(r->line, words))
		fail_msg("%s: the server's words \"%s\" are not in the message: %s", what, words, r->line);
	(void)ctx;
}

/* A tick over `repo` says "failure":"permanent", exits 1 and counts it. */
static void tick_counts_permanent(ps_ctx *ctx, const char *repo)
{
	const char *argv[] = { PUSHSEAL_CLI_PATH, "run", "--remote", "--metrics-file", NULL, repo, NULL };
	const char *out, *err;
	int rc;
	argv[4] = ps_keep(ctx, "tick.prom");
	if (drv_is_exec())
		rc = drv_exec(ctx, &out, &err, "run", "--remote", "--metrics-file", argv[4], repo, NULL);
	else
		rc = ps_spawn(ctx, ctx->root, argv, &out, &err);
	assert_int_equal(rc, 1);
	if (!strstr(out, "\"failure\":\"permanent\""))
		fail_msg("the tick does not report a permanent failure: %s", out);
	if (!strstr(or_file(ctx, "tick.prom"), "pushseal_failures{kind=\"permanent\"} 1"))
		fail_msg("the metrics do not count the permanent failure:\n%s", or_file(ctx, "tick.prom"));
}

/* W-1 */
static void daemon_not_exported(ps_ctx *ctx)
{
	const char *local = ps_keep(ctx, "local");
	int port = start_strict_daemon(ctx);
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 1);
	fx_set_url(ctx, "local", "origin", ps_fmt(ctx, "git://127.0.0.1:%d/remote.git", port));
	{ ps_result r = drv_pull(ctx, local); expect_permanent(ctx, &r, PUSHSEAL_E_REJECTED, "not exported", "pull"); }
	{ ps_result r = drv_push(ctx, local); expect_permanent(ctx, &r, PUSHSEAL_E_REJECTED, "not exported", "push"); }
	tick_counts_permanent(ctx, local);
}

/* W-2 */
static void http_forbidden(ps_ctx *ctx)
{
	const char *local = ps_keep(ctx, "local");
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 1);
	fx_set_url(ctx, "local", "origin", ps_http_url(ctx, "remote.git", "forbidden", NULL));
	{ ps_result r = drv_pull(ctx, local); expect_permanent(ctx, &r, PUSHSEAL_E_AUTH, "403", "pull"); }
	{ ps_result r = drv_push(ctx, local); expect_permanent(ctx, &r, PUSHSEAL_E_AUTH, "403", "push"); }
	tick_counts_permanent(ctx, local);
}

/* W-3 */
static void http_not_found(ps_ctx *ctx)
{
	const char *local = ps_keep(ctx, "local");
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 1);
	fx_set_url(ctx, "local", "origin", ps_http_url(ctx, "no-such-repo.git", "git", NULL));
	{ ps_result r = drv_pull(ctx, local); expect_permanent(ctx, &r, PUSHSEAL_E_REJECTED, "404", "pull"); }
	tick_counts_permanent(ctx, local);
}

/* W-4: the hook's own line reaches the message of a refused branch. */
static void hook_words_in_message(ps_ctx *ctx)
{
	const char *local = ps_keep(ctx, "local");
	int port = start_strict_daemon(ctx);
	fx_pair(ctx, 2);
	fx_write(ctx, "remote.git/git-daemon-export-ok", "");
	fx_write(ctx, "remote.git/hooks/update",
		"#!/bin/sh\necho \"FATAL: W $1 hub1 bot DENIED by fallthru\" >&2\nexit 1\n");
	assert_int_equal(chmod(ps_path(ctx, "remote.git/hooks/update"), 0755), 0);
	fx_ahead(ctx, "local", 1);
	fx_set_url(ctx, "local", "origin", ps_fmt(ctx, "git://127.0.0.1:%d/remote.git", port));
	{
		ps_result r = drv_push(ctx, local);
		expect_permanent(ctx, &r, PUSHSEAL_E_REJECTED, "FATAL: W refs/heads/main hub1 bot DENIED by fallthru", "push");
	}
	tick_counts_permanent(ctx, local);
}

/* W-5: no server at all is a transient failure. */
static void connection_refused_is_transient(ps_ctx *ctx)
{
	const char *local = ps_keep(ctx, "local");
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 1);
	fx_set_url(ctx, "local", "origin", ps_fmt(ctx, "git://127.0.0.1:%d/remote.git", ps_free_port()));
	{
		ps_result r = drv_push(ctx, local);
		assert_false(r.ok);
		if (r.class_known && r.klass != PUSHSEAL_E_UNREACHABLE)
			fail_msg("a refused connection is class %s, not unreachable: %s", pushseal_class_name(r.klass), r.line);
	}
	{
		const char *argv[] = { PUSHSEAL_CLI_PATH, "run", "--remote", local, NULL };
		const char *out, *err;
		if (drv_is_exec())
			drv_exec(ctx, &out, &err, "run", "--remote", local, NULL);
		else
			ps_spawn(ctx, ctx->root, argv, &out, &err);
		if (!strstr(out, "\"failure\":\"transient\""))
			fail_msg("a refused connection is not reported as transient: %s", out);
	}
}

static const struct CMUnitTest tests[] = {
	CLAUSE("W-1", "git daemon's \"not exported\": pull and push fail as rejected, permanent, in the server's words", daemon_not_exported),
	CLAUSE("W-2", "HTTP 403 from a smart-HTTP server: pull and push fail as auth, permanent, saying 403", http_forbidden),
	CLAUSE("W-3", "HTTP 404 for a repository the server does not have: rejected, permanent, saying 404", http_not_found),
	CLAUSE("W-4", "a hook's refusal of a branch carries the hook's own line into the message, permanent", hook_words_in_message),
	CLAUSE("W-5", "no server listening is unreachable and transient, never permanent", connection_refused_is_transient),
};

int main(void)
{
	ps_harness_init();
	return PS_RUN("N", tests);
}
