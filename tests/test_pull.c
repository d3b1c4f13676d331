/* P-PULL: pull_ff behaves as `git pull --ff-only`, and never loses a byte. */
#include "harness.h"
#include "pushseal.h"

#include <string.h>

/* What must not change when a pull fails: branch tip, worktree status, reflog. */
typedef struct snapshot {
	char head[64];
	char status[4096];
	int reflog;
} snapshot;

static snapshot snap(ps_ctx *ctx)
{
	snapshot s;
	snprintf(s.head, sizeof(s.head), "%s", or_rev(ctx, "local", "HEAD"));
	snprintf(s.status, sizeof(s.status), "%s", or_status(ctx, "local"));
	s.reflog = or_reflog(ctx, "local/.git", "refs/heads/main");
	return s;
}

static void assert_unchanged(ps_ctx *ctx, const snapshot *before)
{
	snapshot now = snap(ctx);
	assert_str(now.head, before->head);
	assert_str(now.status, before->status);
	assert_int_equal(now.reflog, before->reflog);
}

static void pull_behind_fast_forwards(ps_ctx *ctx)
{
	fx_pair(ctx, 3);
	fx_behind(ctx, "remote.git", 2);
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_ok(r);
	assert_str(or_rev(ctx, "local", "HEAD"), or_rev(ctx, "remote.git", "main"));
	assert_str(or_file(ctx, "local/remote-1.txt"), "remote 1\n");
	assert_str(or_status(ctx, "local"), "");
}

static void pull_diverged_fails_unchanged(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 1);
	fx_behind(ctx, "remote.git", 1);
	snapshot before = snap(ctx);
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_DIVERGED);
	assert_unchanged(ctx, &before);
}

static void pull_dirty_edit_kept(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_commit_bare(ctx, "remote.git", "main", "log.txt", "rewritten upstream\n");
	fx_write(ctx, "local/log.txt", "my precious edit\n");
	snapshot before = snap(ctx);
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_WOULD_OVERWRITE);
	assert_unchanged(ctx, &before);
	assert_str(or_file(ctx, "local/log.txt"), "my precious edit\n");
}

static const struct CMUnitTest tests[] = {
	CLAUSE("P-PULL-1", "a clean clone behind its upstream fast-forwards branch, index and worktree to the upstream tip", pull_behind_fast_forwards),
	CLAUSE("P-PULL-4", "a diverged branch makes pull fail and leaves branch, worktree and reflog unchanged", pull_diverged_fails_unchanged),
	CLAUSE("P-PULL-6", "an uncommitted edit to a file the pull would change makes pull fail and is kept byte for byte", pull_dirty_edit_kept),
};

int main(void)
{
	ps_harness_init();
	return PS_RUN("P-PULL", tests);
}
