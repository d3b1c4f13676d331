/*
 * F-HOOK: a remote that refuses through a hook (pre-receive, update).
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

/* ---- F-HOOK: a remote that refuses through a hook ---------------------------- */

static void install_hook(ps_ctx *ctx, const char *name, const char *body)
{
	const char *path = ps_path(ctx, ps_fmt(ctx, "remote.git/hooks/%s", name));
	fx_write(ctx, ps_fmt(ctx, "remote.git/hooks/%s", name), body);
	assert_int_equal(chmod(path, 0755), 0);
}

/* The first tick writes and its seal is refused; the next tick stops at
 * C-17 without writing; nothing is lost; once the hook accepts, it seals. */
static void hook_refusal_cycle(ps_ctx *ctx, const char *hook, const char *body)
{
	ps_rev before;
	fx_pair(ctx, 2);
	before = or_rev(ctx, "remote.git", "main");
	install_hook(ctx, hook, body);
	const char *wb = ps_fmt(ctx, "echo run >> '%s/marker' && echo bot >> data.txt && git add data.txt && git commit -qm 'bot: data'", ctx->root);
	ps_cycle_result r = drv_fix(ctx, ps_keep(ctx, "local"), wb);
	assert_int_equal(r.exit_code, 1);
	assert_false(r.sealed);
	assert_str(or_rev(ctx, "remote.git", "main").hex, before.hex);
	ps_rev ours;
	ours = or_rev(ctx, "local", "HEAD");
	/* an implementation that knows the push will be refused (the reference
	 * over a local path, whose hooks libgit2 cannot run) may refuse before
	 * writing at all: stricter, and just as lossless */
	int wrote_first = or_exists(ctx, "marker");
	r = drv_fix(ctx, ps_keep(ctx, "local"), wb);
	assert_int_equal(r.exit_code, 1);
	assert_str(r.skipped, wrote_first ? "c17" : "c16");
	assert_str(or_rev(ctx, "local", "HEAD").hex, ours.hex); /* kept, and nothing new */
	if (wrote_first)
		assert_str(or_file(ctx, "marker"), "run\n");
	else
		assert_false(or_exists(ctx, "marker"));
	unlink(ps_path(ctx, ps_fmt(ctx, "remote.git/hooks/%s", hook)));
	r = drv_fix(ctx, ps_keep(ctx, "local"), NULL);
	assert_int_equal(r.exit_code, 0);
	assert_str(or_rev(ctx, "remote.git", "main").hex, ours.hex);
}

static void hook_pre_receive(ps_ctx *ctx)
{
	hook_refusal_cycle(ctx, "pre-receive", "#!/bin/sh\necho 'policy: frozen' >&2\nexit 1\n");
}

static void hook_update_one_ref(ps_ctx *ctx)
{
	/* a NET_CLAUSE: always over a real server, which runs the hook */
	fx_pair(ctx, 2);
	install_hook(ctx, "update", "#!/bin/sh\n[ \"$1\" = refs/heads/main ] && { echo 'main is frozen' >&2; exit 1; }\nexit 0\n");
	fx_ahead(ctx, "local", 1);
	ps_rev tracking;
	ps_rev before;
	before = or_rev(ctx, "remote.git", "main");
	tracking = or_rev(ctx, "local", "refs/remotes/origin/main");
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_REJECTED);
	assert_str(or_rev(ctx, "remote.git", "main").hex, before.hex);
	/* a refusal is no success: the tracking ref stays where the remote is */
	if (strcmp(or_rev(ctx, "local", "refs/remotes/origin/main").hex, tracking.hex) != 0)
		fail_msg("the refused push moved refs/remotes/origin/main from %s to %s (%s)", tracking.hex,
			or_rev(ctx, "local", "refs/remotes/origin/main").hex, ps_transport());
	/* the hook refuses only main: another ref is accepted by the same server */
	assert_int_equal(or_git(ctx, NULL, "local", "push", "-q", "origin", "HEAD:refs/heads/other", NULL), 0);
	assert_str(or_rev(ctx, "remote.git", "other").hex, or_rev(ctx, "local", "HEAD").hex);
}

static const struct CMUnitTest tests[] = {
	SERVER_CLAUSE("F-HOOK-1", "a refusing pre-receive hook fails the seal visibly and later ticks stop at c17", hook_pre_receive),
	NET_CLAUSE("F-HOOK-2", "an update hook refusing main fails its push as rejected and keeps the tracking ref", hook_update_one_ref),
};

int main(void)
{
	ps_harness_init();
	return PS_RUN("F-HOOK", tests);
}
