/* P-PUSH: push_ff behaves as `git push` with push.default=simple, never forced. */
#include "harness.h"
#include "pushseal.h"

#include <string.h>
#include <sys/stat.h>

#define TRACKING "refs/remotes/origin/main"

/* What a failed push must leave alone, in the clone and in the remote. */
typedef struct snapshot {
	ps_rev head;
	ps_rev branch;
	ps_rev tracking;
	char status[1024];
	int reflog;
	int tracking_reflog;
	char remote_refs[2048];
	long remote_objects;
} snapshot;

static snapshot snap(ps_ctx *ctx)
{
	snapshot s;
	s.head = or_rev(ctx, "local", "HEAD");
	s.branch = or_rev(ctx, "local", "refs/heads/main");
	s.tracking = or_rev(ctx, "local", TRACKING);
	snprintf(s.status, sizeof(s.status), "%s", or_status(ctx, "local"));
	s.reflog = or_reflog(ctx, "local/.git", "refs/heads/main");
	s.tracking_reflog = or_reflog(ctx, "local/.git", TRACKING);
	if (or_exists(ctx, "remote.git")) {
		snprintf(s.remote_refs, sizeof(s.remote_refs), "%s", or_all_refs(ctx, "remote.git"));
		s.remote_objects = or_objects(ctx, "remote.git");
	} else {
		s.remote_refs[0] = '\0';
		s.remote_objects = -1;
	}
	return s;
}

/* The clone is unchanged: branch, HEAD, tracking ref, status, reflogs. */
static void assert_local_unchanged(ps_ctx *ctx, const snapshot *before)
{
	snapshot now = snap(ctx);
	assert_str(now.head.hex, before->head.hex);
	assert_str(now.branch.hex, before->branch.hex);
	assert_str(now.tracking.hex, before->tracking.hex);
	assert_str(now.status, before->status);
	assert_int_equal(now.reflog, before->reflog);
	assert_int_equal(now.tracking_reflog, before->tracking_reflog);
}

/* The remote's refs are exactly as they were. */
static void assert_remote_unchanged(ps_ctx *ctx, const snapshot *before)
{
	assert_str(or_all_refs(ctx, "remote.git"), before->remote_refs);
}

/* ---- P-PUSH-1 ------------------------------------------------------------- */

static void push_ahead_moves_remote(ps_ctx *ctx)
{
	ps_rev head;
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 3);
	head = or_rev(ctx, "local", "HEAD");
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_ok(r);
	if (!drv_is_exec())
		assert_int_equal(r.moved, 1);
	assert_str(or_rev(ctx, "remote.git", "main").hex, head.hex);
	assert_int_equal(or_count(ctx, "remote.git", "main"), 5);
	/* the objects arrived too, not just the ref */
	assert_int_equal(or_git(ctx, NULL, "remote.git", "fsck", "--connectivity-only", "--no-progress", NULL), 0);
	assert_str(or_file(ctx, "local/local-2.txt"), "local 2\n");
	assert_str(or_status(ctx, "local"), "");
}

static void push_ahead_one_commit(ps_ctx *ctx)
{
	ps_rev head;
	fx_pair(ctx, 1);
	head = fx_commit(ctx, "local", "log.txt", "commit 0\nlocal edit\n");
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_ok(r);
	assert_str(or_rev(ctx, "remote.git", "main").hex, head.hex);
	assert_int_equal(or_count(ctx, "remote.git", "main"), 2);
	{
		const char *out;
		assert_int_equal(or_git(ctx, &out, "remote.git", "show", "main:log.txt", NULL), 0);
		assert_str(out, "commit 0\nlocal edit");
	}
}

/* ---- P-PUSH-2 ------------------------------------------------------------- */

static void push_in_sync_touches_nothing(ps_ctx *ctx)
{
	fx_pair(ctx, 3);
	snapshot before = snap(ctx);
	char stamp[128];
	snprintf(stamp, sizeof(stamp), "%s", or_file_stamp(ctx, "remote.git/refs/heads/main"));
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_ok(r);
	if (!drv_is_exec())
		assert_int_equal(r.moved, 0);
	assert_remote_unchanged(ctx, &before);
	assert_int_equal(or_objects(ctx, "remote.git"), before.remote_objects);
	/* not even rewritten with the same value */
	assert_str(or_file_stamp(ctx, "remote.git/refs/heads/main"), stamp);
	assert_false(or_exists(ctx, "remote.git/refs/heads/main.lock"));
	assert_local_unchanged(ctx, &before);
}

/* ---- P-PUSH-3 ------------------------------------------------------------- */

/* A diverged clone's push: P-PUSH-3 checks the remote, P-PUSH-15 the clone. */
static void push_diverged(ps_ctx *ctx, int check_clone)
{
	ps_rev theirs;
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 2);
	fx_behind(ctx, "remote.git", 1);
	theirs = or_rev(ctx, "remote.git", "main");
	snapshot before = snap(ctx);
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_DIVERGED);
	if (check_clone) {
		assert_local_unchanged(ctx, &before);
		assert_int_equal(or_count(ctx, "local", "origin/main..main"), 2);
		return;
	}
	/* a force push would have made main the local tip and dropped theirs */
	assert_str(or_rev(ctx, "remote.git", "main").hex, theirs.hex);
	assert_true(or_is_ancestor(ctx, "remote.git", theirs.hex, "main"));
	assert_str(or_file(ctx, "remote.git/refs/heads/main"), ps_fmt(ctx, "%s\n", theirs.hex));
	assert_false(or_is_ancestor(ctx, "local", before.head.hex, theirs.hex));
	assert_remote_unchanged(ctx, &before);
}

static void push_diverged_keeps_remote_commits(ps_ctx *ctx) { push_diverged(ctx, 0); }
static void push_diverged_keeps_clone(ps_ctx *ctx) { push_diverged(ctx, 1); }

static void push_diverged_after_fetch_fails(ps_ctx *ctx)
{
	ps_rev theirs;
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 1);
	fx_behind(ctx, "remote.git", 2);
	assert_int_equal(or_git(ctx, NULL, "local", "fetch", "-q", "origin", NULL), 0);
	theirs = or_rev(ctx, "remote.git", "main");
	assert_str(or_rev(ctx, "local", TRACKING).hex, theirs.hex);
	snapshot before = snap(ctx);
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_DIVERGED);
	assert_str(or_rev(ctx, "remote.git", "main").hex, theirs.hex);
	assert_int_equal(or_count(ctx, "remote.git", "main"), 4);
	assert_remote_unchanged(ctx, &before);
	assert_local_unchanged(ctx, &before);
}

/* ---- P-PUSH-4 ------------------------------------------------------------- */

/* `git push` from a clone strictly behind rejects it as non-fast-forward
 * (checked with git 2.39, fetched or not). */
static void push_behind_fetched_fails(ps_ctx *ctx)
{
	ps_rev tip;
	fx_pair(ctx, 2);
	fx_behind(ctx, "remote.git", 2);
	assert_int_equal(or_git(ctx, NULL, "local", "fetch", "-q", "origin", NULL), 0);
	tip = or_rev(ctx, "remote.git", "main");
	snapshot before = snap(ctx);
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_DIVERGED);
	assert_str(or_rev(ctx, "remote.git", "main").hex, tip.hex);
	assert_int_equal(or_count(ctx, "remote.git", "main"), 4);
	assert_remote_unchanged(ctx, &before);
	assert_local_unchanged(ctx, &before);
}

static void push_behind_unfetched_fails(ps_ctx *ctx)
{
	ps_rev tip;
	fx_pair(ctx, 2);
	fx_behind(ctx, "remote.git", 1);
	tip = or_rev(ctx, "remote.git", "main");
	snapshot before = snap(ctx);
	/* the tracking ref still says "in sync": only the remote knows better */
	assert_str(before.tracking.hex, before.head.hex);
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_DIVERGED);
	assert_str(or_rev(ctx, "remote.git", "main").hex, tip.hex);
	assert_int_equal(or_count(ctx, "remote.git", "main"), 3);
	assert_remote_unchanged(ctx, &before);
	assert_local_unchanged(ctx, &before);
}

/* ---- P-PUSH-5 ------------------------------------------------------------- */

/* A push into a locked remote ref.  Kept as one test under P-PUSH-5 (it
 * checks the clone too, P-PUSH-15's part): the third-party adapters'
 * expected failures are keyed by its first ID. */
static void push_locked_remote_ref_fails(ps_ctx *ctx)
{
	ps_rev tip;
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 2);
	tip = or_rev(ctx, "remote.git", "main");
	fx_lock_ref(ctx, "remote.git", "main");
	snapshot before = snap(ctx);
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_REJECTED);
	assert_str(or_rev(ctx, "remote.git", "main").hex, tip.hex);
	assert_remote_unchanged(ctx, &before);
	/* someone else's lock is not ours to remove */
	assert_true(or_exists(ctx, "remote.git/refs/heads/main.lock"));
	/* the local commits kept (the tracking ref is P-PUSH-15's) */
	assert_str(or_rev(ctx, "local", "refs/heads/main").hex, before.branch.hex);

	/* the lock was the only obstacle: once released, the same push goes through */
	fx_rmrf(ctx, "remote.git/refs/heads/main.lock");
	r = drv_push(ctx, ps_path(ctx, "local"));
	expect_ok(r);
	assert_str(or_rev(ctx, "remote.git", "main").hex, before.head.hex);
}

/* P-PUSH-15 over a server: a push refused for a locked remote ref leaves the
 * clone as it was, its tracking ref included. */
static void push_locked_remote_ref_keeps_clone(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 2);
	fx_lock_ref(ctx, "remote.git", "main");
	snapshot before = snap(ctx);
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_REJECTED);
	/* local commits kept, tracking ref not moved to the unpushed commit */
	assert_local_unchanged(ctx, &before);
	assert_int_equal(or_count(ctx, "local", "origin/main..main"), 2);
}

/* ---- P-PUSH-6 ------------------------------------------------------------- */

static void push_updates_tracking_ref(ps_ctx *ctx)
{
	ps_rev head;
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 2);
	head = or_rev(ctx, "local", "HEAD");
	assert_int_equal(or_count(ctx, "local", "origin/main..main"), 2);
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_ok(r);
	assert_str(or_rev(ctx, "remote.git", "main").hex, head.hex);
	assert_str(or_rev(ctx, "local", TRACKING).hex, head.hex);
	assert_int_equal(or_count(ctx, "local", "origin/main...main"), 0);
	/* git's own view agrees: the branch is up to date with its upstream */
	{
		const char *out;
		assert_int_equal(or_git(ctx, &out, "local", "rev-parse", "--verify", "--quiet", "main@{upstream}", NULL), 0);
		assert_str(out, head.hex);
	}
}

/* `git push` that finds the remote already at HEAD still corrects a stale
 * tracking ref (checked with git 2.39: "Everything up-to-date", and
 * refs/remotes/origin/main then equals HEAD). */
static void push_up_to_date_fixes_stale_tracking(ps_ctx *ctx)
{
	ps_rev stale;
	ps_rev head;
	fx_pair(ctx, 2);
	stale = or_rev(ctx, "local", TRACKING);
	fx_ahead(ctx, "local", 1);
	head = or_rev(ctx, "local", "HEAD");
	/* the same commit reaches the remote by another way */
	assert_int_equal(or_git(ctx, NULL, "local", "push", "-q", ps_path(ctx, "remote.git"), "main:main", NULL), 0);
	assert_str(or_rev(ctx, "remote.git", "main").hex, head.hex);
	assert_str(or_rev(ctx, "local", TRACKING).hex, stale.hex);
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_ok(r);
	assert_str(or_rev(ctx, "remote.git", "main").hex, head.hex);
	assert_str(or_rev(ctx, "local", TRACKING).hex, head.hex);
}

/* ---- P-PUSH-7 ------------------------------------------------------------- */

static void push_no_upstream_fails(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 1);
	fx_unset_upstream(ctx, "local");
	snapshot before = snap(ctx);
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_NOUPSTREAM);
	/* not pushed to origin/main by guesswork, nor as a new branch */
	assert_remote_unchanged(ctx, &before);
	assert_int_equal(or_objects(ctx, "remote.git"), before.remote_objects);
	assert_local_unchanged(ctx, &before);
	assert_str(or_rev(ctx, "local", "main@{upstream}").hex, "");
}

/* ---- P-PUSH-8 ------------------------------------------------------------- */

static void push_detached_fails(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 1);
	fx_detach(ctx, "local");
	snapshot before = snap(ctx);
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_DETACHED);
	assert_remote_unchanged(ctx, &before);
	assert_false(or_has_object(ctx, "remote.git", before.head.hex));
	assert_local_unchanged(ctx, &before);
	/* still detached */
	assert_int_not_equal(or_git(ctx, NULL, "local", "symbolic-ref", "-q", "HEAD", NULL), 0);
}

/* ---- P-PUSH-9 ------------------------------------------------------------- */

static void push_unreachable_path_fails(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 1);
	fx_set_url(ctx, "local", "origin", ps_remote_url(ctx, "vanished.git"));
	snapshot before = snap(ctx);
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_fail(r, ps_missing_repo_class());
	assert_false(or_exists(ctx, "vanished.git"));
	assert_local_unchanged(ctx, &before);
	assert_remote_unchanged(ctx, &before);
}

static void push_unreachable_port_fails(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 1);
	/* nothing listens on loopback port 1: connection refused at once */
	fx_set_url(ctx, "local", "origin", ps_net_url(ctx, 1, "remote.git"));
	snapshot before = snap(ctx);
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_UNREACHABLE);
	assert_local_unchanged(ctx, &before);
	assert_str(or_file(ctx, "local/local-0.txt"), "local 0\n");
}

/* ---- P-PUSH-10 ------------------------------------------------------------ */

static void push_uses_configured_remote(ps_ctx *ctx)
{
	ps_rev head;
	ps_rev decoy;
	const char *out;
	fx_pair(ctx, 2);
	/* a decoy "origin" with the same history: a push there would succeed too */
	assert_int_equal(or_git(ctx, NULL, ".", "clone", "-q", "--bare", "remote.git", "decoy.git", NULL), 0);
	decoy = or_rev(ctx, "decoy.git", "main");
	fx_rename_remote(ctx, "local", "origin", "upstream");
	fx_config(ctx, "local", "remote.origin.url", ps_path(ctx, "decoy.git"));
	fx_config(ctx, "local", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*");
	assert_int_equal(or_git(ctx, &out, "local", "config", "branch.main.remote", NULL), 0);
	assert_str(out, "upstream");
	fx_ahead(ctx, "local", 2);
	head = or_rev(ctx, "local", "HEAD");
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_ok(r);
	assert_str(or_rev(ctx, "remote.git", "main").hex, head.hex);
	assert_str(or_rev(ctx, "local", "refs/remotes/upstream/main").hex, head.hex);
	assert_str(or_rev(ctx, "decoy.git", "main").hex, decoy.hex);
	assert_false(or_has_object(ctx, "decoy.git", head.hex));
	assert_str(or_rev(ctx, "local", "refs/remotes/origin/main").hex, "");
}

/* ---- P-PUSH-11 ------------------------------------------------------------ */

/* `git push` recreates a deleted upstream branch ("* [new branch]"), even
 * when the stale tracking ref claims there is nothing to push (git 2.39). */
static void push_recreates_deleted_branch(ps_ctx *ctx)
{
	ps_rev head;
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 1);
	head = or_rev(ctx, "local", "HEAD");
	fx_delete_branch(ctx, "remote.git", "main");
	assert_str(or_rev(ctx, "remote.git", "main").hex, "");
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_ok(r);
	assert_str(or_rev(ctx, "remote.git", "main").hex, head.hex);
	assert_int_equal(or_count(ctx, "remote.git", "main"), 3);
	assert_str(or_rev(ctx, "local", TRACKING).hex, head.hex);
}

static void push_recreates_deleted_branch_in_sync(ps_ctx *ctx)
{
	ps_rev head;
	fx_pair(ctx, 2);
	head = or_rev(ctx, "local", "HEAD");
	/* the tracking ref says "up to date"; the remote no longer has main */
	assert_str(or_rev(ctx, "local", TRACKING).hex, head.hex);
	fx_delete_branch(ctx, "remote.git", "main");
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_ok(r);
	if (!drv_is_exec())
		assert_int_equal(r.moved, 1);
	assert_str(or_rev(ctx, "remote.git", "main").hex, head.hex);
	assert_str(or_rev(ctx, "local", TRACKING).hex, head.hex);
}

/* ---- P-PUSH-12 ------------------------------------------------------------ */

static void push_remote_not_configured_fails(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 1);
	fx_remove_remote(ctx, "local", "origin");
	snapshot before = snap(ctx);
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_NOUPSTREAM);
	assert_remote_unchanged(ctx, &before);
	assert_false(or_has_object(ctx, "remote.git", before.head.hex));
	assert_local_unchanged(ctx, &before);
}

/* ---- P-PUSH-13 ------------------------------------------------------------ */

/* git 2.39 with push.default=simple: "fatal: The upstream branch of your
 * current branch does not match the name of your current branch", exit 128. */
static void push_upstream_name_mismatch_fails(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	/* other == main: a push to either would be a fast-forward */
	assert_int_equal(or_git(ctx, NULL, "remote.git", "branch", "other", "main", NULL), 0);
	assert_int_equal(or_git(ctx, NULL, "local", "fetch", "-q", "origin", NULL), 0);
	fx_config(ctx, "local", "branch.main.merge", "refs/heads/other");
	assert_str(or_rev(ctx, "local", "main@{upstream}").hex, or_rev(ctx, "local", "refs/remotes/origin/other").hex);
	fx_ahead(ctx, "local", 1);
	snapshot before = snap(ctx);
	ps_rev other_tracking;
	other_tracking = or_rev(ctx, "local", "refs/remotes/origin/other");
	/* the class is not part of the contract for this case */
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_fail(r, 0);
	assert_remote_unchanged(ctx, &before);
	assert_false(or_has_object(ctx, "remote.git", before.head.hex));
	assert_local_unchanged(ctx, &before);
	assert_str(or_rev(ctx, "local", "refs/remotes/origin/other").hex, other_tracking.hex);
}

/* ---- P-PUSH-14 ------------------------------------------------------------ */

static void push_only_current_branch_new(ps_ctx *ctx)
{
	ps_rev feature;
	ps_rev head;
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 1);
	head = or_rev(ctx, "local", "HEAD");
	feature = fx_commit_on_branch(ctx, "local", "feature", head.hex, "feature work");
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_ok(r);
	assert_str(or_rev(ctx, "remote.git", "main").hex, head.hex);
	assert_str(or_rev(ctx, "remote.git", "refs/heads/feature").hex, "");
	assert_false(or_has_object(ctx, "remote.git", feature.hex));
	assert_str(or_all_refs(ctx, "remote.git"), ps_fmt(ctx, "refs/heads/main %s", head.hex));
	assert_str(or_rev(ctx, "local", "refs/remotes/origin/feature").hex, "");
}

/* push.default=matching would push feature too: it exists on both sides. */
static void push_only_current_branch_matching(ps_ctx *ctx)
{
	ps_rev feature;
	ps_rev head;
	ps_rev base;
	fx_pair(ctx, 2);
	base = or_rev(ctx, "remote.git", "main");
	assert_int_equal(or_git(ctx, NULL, "remote.git", "branch", "feature", "main", NULL), 0);
	assert_int_equal(or_git(ctx, NULL, "local", "fetch", "-q", "origin", NULL), 0);
	feature = fx_commit_on_branch(ctx, "local", "feature", base.hex, "feature work");
	fx_config(ctx, "local", "branch.feature.remote", "origin");
	fx_config(ctx, "local", "branch.feature.merge", "refs/heads/feature");
	fx_ahead(ctx, "local", 1);
	head = or_rev(ctx, "local", "HEAD");
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_ok(r);
	assert_str(or_rev(ctx, "remote.git", "main").hex, head.hex);
	assert_str(or_rev(ctx, "remote.git", "feature").hex, base.hex);
	assert_false(or_has_object(ctx, "remote.git", feature.hex));
	assert_str(or_rev(ctx, "local", "refs/remotes/origin/feature").hex, base.hex);
	assert_str(or_rev(ctx, "local", "refs/heads/feature").hex, feature.hex);
}

/* ---- P-PUSH-15 ------------------------------------------------------------ */

static void push_rejected_keeps_tracking(ps_ctx *ctx)
{
	ps_rev tracking;
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 1);
	tracking = or_rev(ctx, "local", TRACKING);
	fx_lock_ref(ctx, "remote.git", "main");
	int reflog = or_reflog(ctx, "local/.git", TRACKING);
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_REJECTED);
	assert_str(or_rev(ctx, "local", TRACKING).hex, tracking.hex);
	assert_int_equal(or_reflog(ctx, "local/.git", TRACKING), reflog);
	assert_int_equal(or_count(ctx, "local", "origin/main..main"), 1);
}

/* A rejected non-fast-forward does not fetch either: the stale tracking ref
 * stays stale, as with `git push` (git 2.39). */
static void push_diverged_keeps_stale_tracking(ps_ctx *ctx)
{
	ps_rev tracking;
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 1);
	fx_behind(ctx, "remote.git", 1);
	tracking = or_rev(ctx, "local", TRACKING);
	int reflog = or_reflog(ctx, "local/.git", TRACKING);
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_DIVERGED);
	assert_str(or_rev(ctx, "local", TRACKING).hex, tracking.hex);
	assert_int_equal(or_reflog(ctx, "local/.git", TRACKING), reflog);
	assert_string_not_equal(or_rev(ctx, "local", TRACKING).hex, or_rev(ctx, "local", "HEAD").hex);
}

/* ---- P-PUSH-16 ------------------------------------------------------------ */

static void push_keeps_uncommitted_edits(ps_ctx *ctx)
{
	char status[1024], committed[256];
	ps_rev head;
	const char *out;
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 1);
	head = or_rev(ctx, "local", "HEAD");
	assert_int_equal(or_git(ctx, &out, "local", "show", "HEAD:log.txt", NULL), 0);
	snprintf(committed, sizeof(committed), "%s", out);
	fx_write(ctx, "local/log.txt", "uncommitted edit\r\nno final newline");
	fx_write(ctx, "local/staged.txt", "staged only\n");
	assert_int_equal(or_git(ctx, NULL, "local", "add", "staged.txt", NULL), 0);
	fx_write(ctx, "local/scratch.txt", "untracked\n");
	snprintf(status, sizeof(status), "%s", or_status(ctx, "local"));
	assert_str(status, " M log.txt\nA  staged.txt\n?? scratch.txt");
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_ok(r);
	/* the committed HEAD was pushed, nothing was committed on the way */
	assert_str(or_rev(ctx, "local", "HEAD").hex, head.hex);
	assert_str(or_rev(ctx, "remote.git", "main").hex, head.hex);
	assert_int_equal(or_git(ctx, &out, "remote.git", "show", "main:log.txt", NULL), 0);
	assert_str(out, committed);
	assert_false(or_has_object(ctx, "remote.git", "main:staged.txt"));
	/* the edits, byte for byte */
	assert_str(or_file(ctx, "local/log.txt"), "uncommitted edit\r\nno final newline");
	assert_str(or_file(ctx, "local/staged.txt"), "staged only\n");
	assert_str(or_file(ctx, "local/scratch.txt"), "untracked\n");
	assert_str(or_status(ctx, "local"), status);
}

/* ---- P-PUSH-17 (ext) ------------------------------------------------------ */

static void class_diverged(ps_ctx *ctx)
{
	fx_pair(ctx, 1);
	fx_ahead(ctx, "local", 1);
	fx_behind(ctx, "remote.git", 1);
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_DIVERGED);
}

static void class_behind_is_diverged(ps_ctx *ctx)
{
	fx_pair(ctx, 1);
	fx_behind(ctx, "remote.git", 1);
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_DIVERGED);
}

static void class_rejected(ps_ctx *ctx)
{
	fx_pair(ctx, 1);
	fx_ahead(ctx, "local", 1);
	fx_lock_ref(ctx, "remote.git", "main");
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_REJECTED);
	if (!drv_is_exec())
		assert_non_null(strstr(r.line, "refs/heads/main"));
}

/* libgit2's local transport (a remote on a path or file:// URL) never runs
 * the remote's hooks; `git push` fails with "pre-receive hook declined".
 * pushseal refuses such a push rather than bypass the remote's policy. */
static void class_rejected_by_hook(ps_ctx *ctx)
{
	ps_rev tip;
	fx_pair(ctx, 1);
	fx_ahead(ctx, "local", 1);
	fx_write(ctx, "remote.git/hooks/pre-receive", "#!/bin/sh\necho 'policy: no pushes' >&2\nexit 1\n");
	assert_int_equal(chmod(ps_path(ctx, "remote.git/hooks/pre-receive"), 0755), 0);
	tip = or_rev(ctx, "remote.git", "main");
	snapshot before = snap(ctx);
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_REJECTED);
	assert_str(or_rev(ctx, "remote.git", "main").hex, tip.hex);
	assert_local_unchanged(ctx, &before);
}

static void class_no_upstream(ps_ctx *ctx)
{
	fx_pair(ctx, 1);
	fx_ahead(ctx, "local", 1);
	fx_unset_upstream(ctx, "local");
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_NOUPSTREAM);
}

static void class_no_upstream_remote_gone(ps_ctx *ctx)
{
	fx_pair(ctx, 1);
	fx_ahead(ctx, "local", 1);
	fx_remove_remote(ctx, "local", "origin");
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_NOUPSTREAM);
}

static void class_detached(ps_ctx *ctx)
{
	fx_pair(ctx, 1);
	fx_detach(ctx, "local");
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_DETACHED);
}

static void class_unreachable(ps_ctx *ctx)
{
	fx_pair(ctx, 1);
	fx_ahead(ctx, "local", 1);
	fx_rmrf(ctx, "remote.git");
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_fail(r, ps_missing_repo_class());
}

/* ---- P-PUSH-18: a competing push during ours is never lost ------------------ */

/* Commit C1 in local and C2 in a second clone; run our push with the
 * competitor's `git push` injected at `point` (PUSHSEAL_TEST_HOOK_<point>,
 * honoured by the reference).  Whatever the order, neither commit is lost:
 * each is on the remote, or its push failed and it is still its clone's tip. */
static void race_at(ps_ctx *ctx, const char *point)
{
	char var[64];
	ps_rev c2;
	ps_rev c1;
	ps_rev before;
	fx_pair(ctx, 2);
	fx_clone(ctx, "remote.git", "other");
	before = or_rev(ctx, "remote.git", "main");
	c1 = fx_commit(ctx, "local", "ours.txt", "ours\n");
	c2 = fx_commit(ctx, "other", "theirs.txt", "theirs\n");
	snprintf(var, sizeof(var), "PUSHSEAL_TEST_HOOK_%s", point);
	setenv(var, ps_fmt(ctx, "git -C '%s/other' push -q origin main 2>/dev/null; echo $? > '%s/competitor.rc'",
		ctx->root, ctx->root), 1);
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	unsetenv(var);
	const char *rc_text = or_file(ctx, "competitor.rc");
	if (!rc_text)
		PS_SKIP("the implementation honours no PUSHSEAL_TEST_HOOK_* injection point: nothing raced");
	int competitor_ok = rc_text[0] == '0';
	ps_rev remote_tip = or_rev(ctx, "remote.git", "main");
	/* the remote never loses what it had, nor the competitor's accepted commit */
	assert_int_equal(or_git(ctx, NULL, "remote.git", "merge-base", "--is-ancestor", before.hex, remote_tip.hex, NULL), 0);
	if (competitor_ok)
		assert_int_equal(or_git(ctx, NULL, "remote.git", "merge-base", "--is-ancestor", c2.hex, remote_tip.hex, NULL), 0);
	else
		assert_str(or_rev(ctx, "other", "HEAD").hex, c2.hex);
	if (r.ok)
		assert_int_equal(or_git(ctx, NULL, "remote.git", "merge-base", "--is-ancestor", c1.hex, remote_tip.hex, NULL), 0);
	else
		assert_str(or_rev(ctx, "local", "HEAD").hex, c1.hex);
	/* two diverging commits cannot both have been accepted */
	assert_false(r.ok && competitor_ok);
	assert_int_equal(or_git(ctx, NULL, "remote.git", "fsck", "--no-progress", NULL), 0);
}

static void race_during_push_loses_nothing(ps_ctx *ctx)
{
	race_at(ctx, "AFTER_LOCK");
}

static void race_before_push_loses_nothing(ps_ctx *ctx)
{
	race_at(ctx, "BEFORE_LOCK");
}

/* ---- P-PUSH-19: a remote whose HEAD is not the upstream ------------------ */

static void push_remote_head_elsewhere(ps_ctx *ctx, int other_branch)
{
	fx_other_head_pair(ctx, other_branch);
	ps_rev main_before;
	ps_rev head;
	main_before = or_rev(ctx, "remote.git", "refs/heads/main");
	head = fx_commit(ctx, "local", "y.txt", "y\n");
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	expect_ok(r);
	assert_str(or_rev(ctx, "remote.git", "refs/heads/feature/x").hex, head.hex);
	assert_str(or_rev(ctx, "local", "refs/remotes/origin/feature/x").hex, head.hex);
	assert_str(or_rev(ctx, "remote.git", "refs/heads/main").hex, main_before.hex); /* "" when it dangles */
	or_fsck_clean(ctx, "remote.git");
}

static void push_remote_head_dangling(ps_ctx *ctx) { push_remote_head_elsewhere(ctx, 0); }
static void push_remote_head_other(ps_ctx *ctx) { push_remote_head_elsewhere(ctx, 1); }

static const struct CMUnitTest tests[] = {
	CLAUSE("P-PUSH-1", "a clone three commits ahead pushes them all and the remote equals HEAD", push_ahead_moves_remote),
	CLAUSE("P-PUSH-1", "a clone ahead by one commit pushes it with its content", push_ahead_one_commit),
	CLAUSE("P-PUSH-2", "a clone equal to its upstream succeeds and leaves the remote untouched", push_in_sync_touches_nothing),
	CLAUSE("P-PUSH-3", "a diverged clone fails and the remote branch keeps its own commit (no force)", push_diverged_keeps_remote_commits),
	CLAUSE("P-PUSH-15", "a diverged clone's failed push leaves the clone and its tracking ref unchanged", push_diverged_keeps_clone),
	CLAUSE("P-PUSH-3", "a diverged clone that fetched the remote's commits fails and the remote keeps them", push_diverged_after_fetch_fails),
	CLAUSE("P-PUSH-4", "a clone behind its fetched upstream fails and the remote is not rewound", push_behind_fetched_fails),
	CLAUSE("P-PUSH-4", "a clone behind an unfetched upstream fails and the remote is not rewound", push_behind_unfetched_fails),
	SERVER_CLAUSE("P-PUSH-5", "a locked remote ref fails the push, and remote ref, lock and local commits stay", push_locked_remote_ref_fails),
	SERVER_CLAUSE("P-PUSH-15", "a push refused for a locked remote ref leaves the clone and its tracking ref unchanged", push_locked_remote_ref_keeps_clone),
	CLAUSE("P-PUSH-6", "a successful push moves refs/remotes/origin/main to the pushed commit", push_updates_tracking_ref),
	CLAUSE("P-PUSH-6", "a push that finds the remote already at HEAD corrects a stale tracking ref, as git does", push_up_to_date_fixes_stale_tracking),
	CLAUSE("P-PUSH-7", "a branch with no upstream fails and the remote gets no ref and no object", push_no_upstream_fails),
	CLAUSE("P-PUSH-8", "a detached HEAD fails, stays detached, and the remote gets nothing", push_detached_fails),
	SERVER_CLAUSE("P-PUSH-9", "a remote path that vanished fails and the clone is unchanged", push_unreachable_path_fails),
	NET_CLAUSE("P-PUSH-9", "a loopback remote refusing connections fails and the clone is unchanged", push_unreachable_port_fails),
	CLAUSE("P-PUSH-10", "the push goes to the branch's remote 'upstream', never to a decoy 'origin'", push_uses_configured_remote),
	CLAUSE("P-PUSH-11", "when the upstream branch was deleted on the remote, the push recreates it at local HEAD", push_recreates_deleted_branch),
	CLAUSE("P-PUSH-11", "a deleted upstream branch is recreated even when the stale ref says in sync", push_recreates_deleted_branch_in_sync),
	CLAUSE("P-PUSH-12", "a branch whose remote is no longer configured fails and the remote gets nothing", push_remote_not_configured_fails),
	CLAUSE("P-PUSH-13", "an upstream named other for branch main fails as push.default=simple does", push_upstream_name_mismatch_fails),
	CLAUSE("P-PUSH-14", "another local branch with a new commit is never pushed", push_only_current_branch_new),
	CLAUSE("P-PUSH-14", "another branch ahead of its own remote branch is never pushed", push_only_current_branch_matching),
	CLAUSE("P-PUSH-18", "a competing push landing after ours read the remote is never lost", race_during_push_loses_nothing),
	CLAUSE("P-PUSH-18", "a competing push landing just before ours makes ours fail, and theirs stays", race_before_push_loses_nothing),
	CLAUSE("P-PUSH-15", "a push refused by the remote leaves the tracking ref and its reflog where they were", push_rejected_keeps_tracking),
	CLAUSE("P-PUSH-15", "a rejected non-fast-forward leaves a stale tracking ref stale: no fetch, no update", push_diverged_keeps_stale_tracking),
	CLAUSE("P-PUSH-16", "a push with local edits pushes only HEAD and keeps every edit byte for byte", push_keeps_uncommitted_edits),
	SERVER_CLAUSE("P-PUSH-19", "a remote whose HEAD dangles: the push updates feature/x and creates no main", push_remote_head_dangling),
	SERVER_CLAUSE("P-PUSH-19", "a remote whose HEAD names main: the push updates feature/x only", push_remote_head_other),
	CLAUSE("P-PUSH-17", "a diverged push fails with class diverged", class_diverged),
	CLAUSE("P-PUSH-17", "a push from a clone strictly behind fails with class diverged (not a fast-forward)", class_behind_is_diverged),
	CLAUSE("P-PUSH-17", "a push refused by the remote (locked ref) fails with class rejected, naming the ref", class_rejected),
	CLAUSE("P-PUSH-17", "a push refused by a pre-receive hook fails as rejected, remote unchanged", class_rejected_by_hook),
	CLAUSE("P-PUSH-17", "a push without upstream fails with class no-upstream", class_no_upstream),
	CLAUSE("P-PUSH-17", "a push whose remote is not configured fails with class no-upstream", class_no_upstream_remote_gone),
	CLAUSE("P-PUSH-17", "a push from a detached HEAD fails with class detached", class_detached),
	CLAUSE("P-PUSH-17", "a push to a vanished remote fails with class unreachable", class_unreachable),
};

int main(void)
{
	ps_harness_init();
	return PS_RUN("P-PUSH", tests);
}
