/* P-PULL: pull_ff behaves as `git pull --ff-only`, and never loses a byte. */
#define _GNU_SOURCE
#include "harness.h"
#include "pushseal.h"

#include <git2/sys/mempack.h>

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- "unchanged": the harness's clone state (oracle_state.c) -------------- */

typedef ps_clone_state snapshot;

static snapshot snap_of(ps_ctx *ctx, const char *repo)
{
	snapshot s;
	or_clone_state(ctx, repo, &s);
	return s;
}

static snapshot snap(ps_ctx *ctx)
{
	return snap_of(ctx, "local");
}

static void assert_unchanged_of(ps_ctx *ctx, const char *repo, const snapshot *before)
{
	or_assert_clone_unchanged(ctx, repo, before);
}

static void assert_unchanged(ps_ctx *ctx, const snapshot *before)
{
	or_assert_clone_unchanged(ctx, "local", before);
}

/* A file's exact bytes (NULL-safe: a missing file fails with its name). */
static void assert_file(ps_ctx *ctx, const char *rel, const char *bytes)
{
	const char *got = or_file(ctx, rel);
	if (!got)
		fail_msg("%s does not exist; expected \"%s\"", rel, bytes);
	assert_str(got, bytes);
}

static void assert_absent(ps_ctx *ctx, const char *rel)
{
	if (or_exists(ctx, rel))
		fail_msg("%s exists but must not", rel);
}

/* In-process only: what the implementation says it did. */
static void assert_moved(const ps_result *r, int moved)
{
	if (!drv_is_exec())
		assert_int_equal(r->moved, moved);
}

/* The last reflog line of `ref` starts "<old> <new> ". */
static void assert_last_reflog(ps_ctx *ctx, const char *gitdir, const char *ref,
	const char *old_id, const char *new_id)
{
	const char *log = or_file(ctx, ps_fmt(ctx, "%s/logs/%s", gitdir, ref));
	const char *last, *end;
	char expect[200];
	if (!log || !*log)
		fail_msg("no reflog for %s", ref);
	end = log + strlen(log);
	if (end > log && end[-1] == '\n')
		end--;
	for (last = end; last > log && last[-1] != '\n'; last--)
		;
	snprintf(expect, sizeof(expect), "%s %s ", old_id, new_id);
	if (strncmp(last, expect, strlen(expect)) != 0)
		fail_msg("last reflog line of %s is '%.*s', expected it to start '%s'",
			ref, (int)(end - last), last, expect);
}

/* ---- P-PULL-1, -2, -3: the successful cases ------------------------------- */

static void pull_behind_fast_forwards(ps_ctx *ctx)
{
	fx_pair(ctx, 3);
	fx_behind(ctx, "remote.git", 2);
	fx_commit_bare(ctx, "remote.git", "main", "log.txt", "rewritten upstream\n");
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_ok(r);
	assert_moved(&r, 1);
	assert_str(or_rev(ctx, "local", "HEAD").hex, or_rev(ctx, "remote.git", "main").hex);
	assert_str(or_rev(ctx, "local", "refs/heads/main").hex, or_rev(ctx, "remote.git", "main").hex);
	assert_file(ctx, "local/remote-0.txt", "remote 0\n");
	assert_file(ctx, "local/remote-1.txt", "remote 1\n");
	assert_file(ctx, "local/log.txt", "rewritten upstream\n");
	/* clean status: index == HEAD's tree and worktree == index */
	assert_str(or_status(ctx, "local"), "");
	assert_int_equal(or_git(ctx, NULL, "local", "diff-index", "--quiet", "--cached", "HEAD", NULL), 0);
}

static void pull_equal_changes_nothing(ps_ctx *ctx)
{
	fx_pair(ctx, 3);
	snapshot before = snap(ctx);
	ps_rev tracking;
	tracking = or_rev(ctx, "local", "refs/remotes/origin/main");
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_ok(r);
	assert_moved(&r, 0);
	assert_unchanged(ctx, &before);
	assert_str(or_rev(ctx, "local", "refs/remotes/origin/main").hex, tracking.hex);
}

/* P-PULL-2 as a hub sees it: the remote moved another branch and two tags
 * in the same fetch.  git: "Already up to date". */
static void pull_equal_while_others_move(ps_ctx *ctx)
{
	fx_pair(ctx, 3);
	fx_remote_moves_others(ctx, "remote.git");
	snapshot before = snap(ctx);
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_ok(r);
	assert_moved(&r, 0);
	assert_unchanged(ctx, &before);
}

/* P-PULL-10 the same way, with an unrelated uncommitted edit: git says
 * "Already up to date" and keeps the edit. */
static void pull_equal_keeps_unrelated_edit(ps_ctx *ctx)
{
	fx_pair(ctx, 3);
	fx_remote_moves_others(ctx, "remote.git");
	fx_write(ctx, "local/log.txt", "an unrelated edit, not committed\n");
	snapshot before = snap(ctx);
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_ok(r);
	assert_unchanged(ctx, &before);
	assert_file(ctx, "local/log.txt", "an unrelated edit, not committed\n");
}

/* P-PULL-3 the same way: only ahead, while other refs move upstream. */
static void pull_ahead_while_others_move(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 2);
	fx_remote_moves_others(ctx, "remote.git");
	ps_rev remote_tip;
	remote_tip = or_rev(ctx, "remote.git", "main");
	snapshot before = snap(ctx);
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_ok(r);
	assert_moved(&r, 0);
	assert_unchanged(ctx, &before);
	assert_int_equal(or_count(ctx, "local", "origin/main..HEAD"), 2);
	assert_str(or_rev(ctx, "remote.git", "main").hex, remote_tip.hex);
}

static void pull_ahead_keeps_branch(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 2);
	ps_rev remote_tip;
	remote_tip = or_rev(ctx, "remote.git", "main");
	snapshot before = snap(ctx);
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_ok(r);
	assert_moved(&r, 0);
	/* no reset to the upstream, no rewrite of the local commits */
	assert_unchanged(ctx, &before);
	assert_int_equal(or_count(ctx, "local", "origin/main..HEAD"), 2);
	assert_file(ctx, "local/local-1.txt", "local 1\n");
	/* a pull never pushes */
	assert_str(or_rev(ctx, "remote.git", "main").hex, remote_tip.hex);
}

/* ---- P-PULL-4, -5, -8: refused before anything is touched ------------------ */

static void pull_diverged_fails_unchanged(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 1);
	fx_behind(ctx, "remote.git", 1);
	snapshot before = snap(ctx);
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_DIVERGED);
	assert_unchanged(ctx, &before);
	assert_absent(ctx, "local/remote-0.txt");
	assert_file(ctx, "local/local-0.txt", "local 0\n");
}

static void pull_unrelated_fails_unchanged(ps_ctx *ctx)
{
	/* the remote's history was replaced by an unrelated one: no merge base */
	fx_pair(ctx, 2);
	fx_bare(ctx, "other.git", 3);
	fx_set_url(ctx, "local", "origin", ps_remote_url(ctx, "other.git"));
	snapshot before = snap(ctx);
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_DIVERGED);
	assert_unchanged(ctx, &before);
}

static void pull_no_upstream_fails_unchanged(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_behind(ctx, "remote.git", 1);
	fx_fetch(ctx, "local", "origin"); /* origin/main is a fast-forward away */
	fx_unset_upstream(ctx, "local");
	snapshot before = snap(ctx);
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_NOUPSTREAM);
	assert_unchanged(ctx, &before);
	assert_absent(ctx, "local/remote-0.txt");
}

static void pull_detached_fails_unchanged(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_behind(ctx, "remote.git", 1);
	fx_fetch(ctx, "local", "origin");
	fx_detach(ctx, "local");
	snapshot before = snap(ctx);
	assert_str(before.symref, ""); /* the fixture really detached HEAD */
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_DETACHED);
	assert_unchanged(ctx, &before);
	assert_file(ctx, "local/.git/HEAD", ps_fmt(ctx, "%s\n", before.head));
}

/* ---- P-PULL-6, -7, -17: a local change in the way -------------------------- */

static void pull_dirty_edit_kept(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_commit_bare(ctx, "remote.git", "main", "log.txt", "rewritten upstream\n");
	fx_behind(ctx, "remote.git", 2); /* files the pull could create: all or nothing */
	fx_write(ctx, "local/log.txt", "my precious edit\n");
	snapshot before = snap(ctx);
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_WOULD_OVERWRITE);
	assert_unchanged(ctx, &before);
	assert_file(ctx, "local/log.txt", "my precious edit\n");
	assert_absent(ctx, "local/remote-0.txt");
	assert_absent(ctx, "local/remote-1.txt");
}

static void pull_edit_of_deleted_file_kept(ps_ctx *ctx)
{
	fx_bare(ctx, "remote.git", 1);
	fx_commit_bare(ctx, "remote.git", "main", "dir/notes.txt", "notes\n");
	fx_clone(ctx, "remote.git", "local");
	fx_delete_bare(ctx, "remote.git", "main", "dir/notes.txt");
	fx_write(ctx, "local/dir/notes.txt", "notes\nand my unsaved thought\n");
	snapshot before = snap(ctx);
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_WOULD_OVERWRITE);
	assert_unchanged(ctx, &before);
	assert_file(ctx, "local/dir/notes.txt", "notes\nand my unsaved thought\n");
}

static void pull_untracked_file_kept(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_behind(ctx, "remote.git", 2);
	fx_write(ctx, "local/remote-1.txt", "my own remote-1, never committed\n");
	snapshot before = snap(ctx);
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_WOULD_OVERWRITE);
	assert_unchanged(ctx, &before);
	assert_file(ctx, "local/remote-1.txt", "my own remote-1, never committed\n");
	assert_absent(ctx, "local/remote-0.txt");
}

static void pull_untracked_dir_kept(ps_ctx *ctx)
{
	/* an untracked directory where the pull would create a file */
	fx_pair(ctx, 2);
	fx_behind(ctx, "remote.git", 1);
	fx_write(ctx, "local/remote-0.txt/inside.txt", "untracked, inside a directory\n");
	snapshot before = snap(ctx);
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_WOULD_OVERWRITE);
	assert_unchanged(ctx, &before);
	assert_file(ctx, "local/remote-0.txt/inside.txt", "untracked, inside a directory\n");
}

static void pull_untracked_file_where_dir_kept(ps_ctx *ctx)
{
	/* an untracked file where the pull would create a directory */
	fx_pair(ctx, 2);
	fx_commit_bare(ctx, "remote.git", "main", "newdir/file.txt", "upstream\n");
	fx_write(ctx, "local/newdir", "untracked file named like the new directory\n");
	snapshot before = snap(ctx);
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_WOULD_OVERWRITE);
	assert_unchanged(ctx, &before);
	assert_file(ctx, "local/newdir", "untracked file named like the new directory\n");
}

static void pull_staged_change_kept(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_commit_bare(ctx, "remote.git", "main", "log.txt", "rewritten upstream\n");
	fx_write(ctx, "local/log.txt", "staged edit\n");
	fx_stage(ctx, "local", "log.txt");
	fx_write(ctx, "local/log.txt", "staged edit\nthen edited again\n");
	snapshot before = snap(ctx);
	assert_str(before.status, "MM log.txt");
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_WOULD_OVERWRITE);
	assert_unchanged(ctx, &before);
	assert_file(ctx, "local/log.txt", "staged edit\nthen edited again\n");
	const char *staged;
	assert_int_equal(or_git(ctx, &staged, "local", "show", ":log.txt", NULL), 0);
	assert_str(staged, "staged edit");
}

static void pull_staged_only_change_kept(ps_ctx *ctx)
{
	/* the worktree matches HEAD, only the index differs: git still refuses */
	fx_pair(ctx, 2);
	fx_commit_bare(ctx, "remote.git", "main", "log.txt", "rewritten upstream\n");
	const char *orig = or_file(ctx, "local/log.txt");
	char original[256];
	snprintf(original, sizeof(original), "%s", orig);
	fx_write(ctx, "local/log.txt", "staged only\n");
	fx_stage(ctx, "local", "log.txt");
	fx_write(ctx, "local/log.txt", original);
	snapshot before = snap(ctx);
	assert_str(before.status, "MM log.txt");
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_WOULD_OVERWRITE);
	assert_unchanged(ctx, &before);
	const char *staged;
	assert_int_equal(or_git(ctx, &staged, "local", "show", ":log.txt", NULL), 0);
	assert_str(staged, "staged only");
}

static void pull_staged_new_file_kept(ps_ctx *ctx)
{
	/* a staged new file where the pull would create a different one */
	fx_pair(ctx, 2);
	fx_behind(ctx, "remote.git", 1);
	fx_write(ctx, "local/remote-0.txt", "mine, staged\n");
	fx_stage(ctx, "local", "remote-0.txt");
	snapshot before = snap(ctx);
	assert_str(before.status, "A  remote-0.txt");
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_WOULD_OVERWRITE);
	assert_unchanged(ctx, &before);
	assert_file(ctx, "local/remote-0.txt", "mine, staged\n");
}

static void pull_staged_deletion_kept(ps_ctx *ctx)
{
	/* `git rm log.txt` while upstream changes log.txt */
	fx_pair(ctx, 2);
	fx_commit_bare(ctx, "remote.git", "main", "log.txt", "rewritten upstream\n");
	fx_unstage_delete(ctx, "local", "log.txt", 0);
	snapshot before = snap(ctx);
	assert_str(before.status, "D  log.txt");
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_WOULD_OVERWRITE);
	assert_unchanged(ctx, &before);
	assert_absent(ctx, "local/log.txt");
}

static void pull_cached_deletion_kept(ps_ctx *ctx)
{
	/* `git rm --cached log.txt` while upstream changes log.txt */
	fx_pair(ctx, 2);
	fx_commit_bare(ctx, "remote.git", "main", "log.txt", "rewritten upstream\n");
	fx_unstage_delete(ctx, "local", "log.txt", 1);
	snapshot before = snap(ctx);
	assert_str(before.status, "D  log.txt\n?? log.txt");
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_WOULD_OVERWRITE);
	assert_unchanged(ctx, &before);
	assert_file(ctx, "local/log.txt", "commit 0\ncommit 1\n");
}

/* ---- P-PULL-9, -13, -14, -18: the upstream cannot be trusted --------------- */

static void pull_remote_deleted_fails_unchanged(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_behind(ctx, "remote.git", 1);
	fx_fetch(ctx, "local", "origin"); /* a stale tracking ref one fast-forward ahead */
	ps_rev tracking;
	tracking = or_rev(ctx, "local", "refs/remotes/origin/main");
	fx_rmrf(ctx, "remote.git");
	snapshot before = snap(ctx);
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_fail(r, ps_missing_repo_class());
	assert_unchanged(ctx, &before);
	assert_absent(ctx, "local/remote-0.txt");
	assert_str(or_rev(ctx, "local", "refs/remotes/origin/main").hex, tracking.hex);
}

static void pull_remote_never_existed_fails_unchanged(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_behind(ctx, "remote.git", 1);
	fx_fetch(ctx, "local", "origin");
	fx_set_url(ctx, "local", "origin", ps_remote_url(ctx, "no/such/remote.git"));
	snapshot before = snap(ctx);
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_fail(r, ps_missing_repo_class());
	assert_unchanged(ctx, &before);
	assert_absent(ctx, "no");
}

static void pull_refused_port_fails_unchanged(ps_ctx *ctx)
{
	/* nothing listens on loopback port 1: the connection is refused at once */
	fx_pair(ctx, 2);
	fx_behind(ctx, "remote.git", 1);
	fx_fetch(ctx, "local", "origin");
	fx_set_url(ctx, "local", "origin", ps_net_url(ctx, 1, "remote.git"));
	snapshot before = snap(ctx);
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_UNREACHABLE);
	assert_unchanged(ctx, &before);
}

static void pull_upstream_deleted_stale_ahead_fails(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_commit_bare(ctx, "remote.git", "keep", "other.txt", "another branch\n");
	fx_behind(ctx, "remote.git", 1);
	fx_fetch(ctx, "local", "origin"); /* origin/main would fast-forward ... */
	fx_delete_branch(ctx, "remote.git", "main"); /* ... but main is gone */
	snapshot before = snap(ctx);
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_NOUPSTREAM);
	assert_unchanged(ctx, &before);
	assert_absent(ctx, "local/remote-0.txt");
}

static void pull_upstream_deleted_stale_equal_fails(ps_ctx *ctx)
{
	/* the stale tracking ref equals HEAD: "already up to date" would be a lie */
	fx_pair(ctx, 2);
	fx_commit_bare(ctx, "remote.git", "keep", "other.txt", "another branch\n");
	fx_delete_branch(ctx, "remote.git", "main");
	snapshot before = snap(ctx);
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_NOUPSTREAM);
	assert_unchanged(ctx, &before);
}

static void pull_remote_unconfigured_fails_unchanged(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_behind(ctx, "remote.git", 1);
	fx_fetch(ctx, "local", "origin");
	fx_remove_remote(ctx, "local", "origin"); /* branch.main.remote still says origin */
	snapshot before = snap(ctx);
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_NOUPSTREAM);
	assert_unchanged(ctx, &before);
	assert_absent(ctx, "local/remote-0.txt");
}

static void pull_local_upstream_fails(ps_ctx *ctx)
{
	/* git itself would fast-forward main to the local branch `other` */
	fx_pair(ctx, 2);
	fx_behind(ctx, "remote.git", 1);
	fx_fetch(ctx, "local", "origin");
	fx_branch_at(ctx, "local", "other", "refs/remotes/origin/main");
	fx_config(ctx, "local", "branch.main.remote", ".");
	fx_config(ctx, "local", "branch.main.merge", "refs/heads/other");
	snapshot before = snap(ctx);
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_NOUPSTREAM);
	assert_unchanged(ctx, &before);
	assert_absent(ctx, "local/remote-0.txt");
}

/* ---- P-PULL-10, -11, -12, -19, -20: what a successful pull does ------------ */

static void pull_keeps_unrelated_edits(ps_ctx *ctx)
{
	fx_bare(ctx, "remote.git", 2);
	fx_commit_bare(ctx, "remote.git", "main", "notes.txt", "notes\n");
	fx_commit_bare(ctx, "remote.git", "main", "other.txt", "other\n");
	fx_clone(ctx, "remote.git", "local");
	fx_behind(ctx, "remote.git", 1);
	fx_commit_bare(ctx, "remote.git", "main", "other.txt", "other, changed upstream\n");
	fx_write(ctx, "local/log.txt", "unstaged edit, not touched by the pull\n");
	fx_write(ctx, "local/notes.txt", "staged edit, not touched by the pull\n");
	fx_stage(ctx, "local", "notes.txt");
	fx_write(ctx, "local/scratch.txt", "untracked scratch\n");
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_ok(r);
	assert_moved(&r, 1);
	assert_str(or_rev(ctx, "local", "HEAD").hex, or_rev(ctx, "remote.git", "main").hex);
	assert_file(ctx, "local/other.txt", "other, changed upstream\n");
	assert_file(ctx, "local/remote-0.txt", "remote 0\n");
	assert_file(ctx, "local/log.txt", "unstaged edit, not touched by the pull\n");
	assert_file(ctx, "local/notes.txt", "staged edit, not touched by the pull\n");
	assert_file(ctx, "local/scratch.txt", "untracked scratch\n");
	assert_str(or_status(ctx, "local"), " M log.txt\nM  notes.txt\n?? scratch.txt");
}

static void pull_writes_one_reflog_entry(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_behind(ctx, "remote.git", 3);
	ps_rev old_head;
	ps_rev new_head;
	old_head = or_rev(ctx, "local", "HEAD");
	new_head = or_rev(ctx, "remote.git", "main");
	int reflog = or_reflog(ctx, "local/.git", "refs/heads/main");
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_ok(r);
	assert_int_equal(or_reflog(ctx, "local/.git", "refs/heads/main"), reflog + 1);
	assert_last_reflog(ctx, "local/.git", "refs/heads/main", old_head.hex, new_head.hex);
	/* git's own reader agrees */
	assert_str(or_rev(ctx, "local", "main@{1}").hex, old_head.hex);
	assert_str(or_rev(ctx, "local", "main@{0}").hex, new_head.hex);
}

static void pull_uses_configured_remote(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_rename_remote(ctx, "local", "origin", "upstream");
	/* a decoy "origin" one fast-forward away, elsewhere */
	fx_clone(ctx, "remote.git", "decoy");
	fx_commit(ctx, "decoy", "decoy.txt", "from the wrong remote\n");
	fx_config(ctx, "local", "remote.origin.url", ps_path(ctx, "decoy"));
	fx_config(ctx, "local", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*");
	fx_behind(ctx, "remote.git", 2);
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_ok(r);
	assert_str(or_rev(ctx, "local", "HEAD").hex, or_rev(ctx, "remote.git", "main").hex);
	assert_str(or_rev(ctx, "local", "refs/remotes/upstream/main").hex, or_rev(ctx, "remote.git", "main").hex);
	assert_file(ctx, "local/remote-1.txt", "remote 1\n");
	assert_absent(ctx, "local/decoy.txt");
	assert_str(or_status(ctx, "local"), "");
}

static void pull_mirrors_added_and_deleted_files(ps_ctx *ctx)
{
	fx_bare(ctx, "remote.git", 1);
	fx_commit_bare(ctx, "remote.git", "main", "a.txt", "a\n");
	fx_commit_bare(ctx, "remote.git", "main", "dir/b.txt", "b\n");
	fx_commit_bare(ctx, "remote.git", "main", "dir/sub/c.txt", "c\n");
	fx_commit_bare(ctx, "remote.git", "main", "keep/k.txt", "k\n");
	fx_clone(ctx, "remote.git", "local");
	fx_delete_bare(ctx, "remote.git", "main", "a.txt");
	fx_delete_bare(ctx, "remote.git", "main", "dir/b.txt");
	fx_delete_bare(ctx, "remote.git", "main", "dir/sub/c.txt");
	fx_commit_bare(ctx, "remote.git", "main", "new.txt", "new\n");
	fx_commit_bare(ctx, "remote.git", "main", "keep/n.txt", "n\n");
	fx_commit_bare(ctx, "remote.git", "main", "deep/x/y.txt", "y\n");
	fx_commit_bare(ctx, "remote.git", "main", "log.txt", "log, rewritten\n");

	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_ok(r);
	assert_str(or_rev(ctx, "local", "HEAD").hex, or_rev(ctx, "remote.git", "main").hex);

	char upstream[2048], files[2048];
	const char *out;
	assert_int_equal(or_git(ctx, &out, "remote.git", "ls-tree", "-r", "--name-only", "main", NULL), 0);
	snprintf(upstream, sizeof(upstream), "%s", out);
	assert_str(upstream, "deep/x/y.txt\nkeep/k.txt\nkeep/n.txt\nlog.txt\nnew.txt");
	assert_int_equal(or_git(ctx, &out, "local", "ls-files", NULL), 0);
	assert_str(out, upstream);
	assert_int_equal(or_git(ctx, &out, "local", "ls-tree", "-r", "--name-only", "HEAD", NULL), 0);
	assert_str(out, upstream);
	/* the worktree holds exactly those files, no leftovers, no empty directories */
	or_worktree_listing(ctx, "local", 0, 0, files, sizeof(files));
	assert_str(files, upstream);
	or_worktree_listing(ctx, "local", 0, 1, files, sizeof(files));
	assert_str(files, "deep/\ndeep/x/\ndeep/x/y.txt\nkeep/\nkeep/k.txt\nkeep/n.txt\nlog.txt\nnew.txt");
	/* and each file's bytes are the upstream blob's */
	for (char *p = upstream, *nl; p && *p; p = nl ? nl + 1 : NULL) {
		char want[64];
		if ((nl = strchr(p, '\n')) != NULL)
			*nl = '\0';
		assert_int_equal(or_git(ctx, &out, "remote.git", "rev-parse", ps_fmt(ctx, "main:%s", p), NULL), 0);
		snprintf(want, sizeof(want), "%s", out);
		assert_int_equal(or_git(ctx, &out, "local", "hash-object", p, NULL), 0);
		assert_str(out, want);
	}
	assert_str(or_status(ctx, "local"), "");
}

static void pull_many_commits_in_one_call(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_behind_packed(ctx, "remote.git", 300);
	ps_rev old_head;
	old_head = or_rev(ctx, "local", "HEAD");
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_ok(r);
	/* only this clause's requirement: the tip in one call (the reflog entry
	 * is P-PULL-11's, the tree's bytes P-PULL-1's) */
	assert_str(or_rev(ctx, "local", "HEAD").hex, or_rev(ctx, "remote.git", "main").hex);
	assert_int_equal(or_count(ctx, "local", ps_fmt(ctx, "%s..HEAD", old_head.hex)), 300);
	assert_int_equal(or_count(ctx, "local", "HEAD..origin/main"), 0);
	assert_file(ctx, "local/many.txt", "upstream commit 299\n");
	assert_str(or_status(ctx, "local"), "");
}

/* ---- P-PULL-15, -25: pushseal's stricter refusals (ext); -16, -21, -22: git's own ---- */

static void pull_ignored_file_kept(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_write(ctx, "local/.git/info/exclude", "build.out\n");
	fx_commit_bare(ctx, "remote.git", "main", "build.out", "tracked upstream\n");
	fx_write(ctx, "local/build.out", "generated locally, ignored\n");
	snapshot before = snap(ctx);
	assert_str(before.status, ""); /* really ignored */
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_WOULD_OVERWRITE);
	assert_unchanged(ctx, &before);
	assert_file(ctx, "local/build.out", "generated locally, ignored\n");
}

static void pull_gitignored_file_kept(ps_ctx *ctx)
{
	/* the same, ignored by a tracked .gitignore pattern in a subdirectory */
	fx_bare(ctx, "remote.git", 1);
	fx_commit_bare(ctx, "remote.git", "main", ".gitignore", "*.log\n");
	fx_clone(ctx, "remote.git", "local");
	fx_commit_bare(ctx, "remote.git", "main", "out/debug.log", "tracked upstream\n");
	fx_write(ctx, "local/out/debug.log", "local log, ignored\n");
	snapshot before = snap(ctx);
	assert_str(before.status, "");
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_WOULD_OVERWRITE);
	assert_unchanged(ctx, &before);
	assert_file(ctx, "local/out/debug.log", "local log, ignored\n");
}

static void pull_index_lock_fails_locked(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_behind(ctx, "remote.git", 1);
	fx_write(ctx, "local/.git/index.lock", "held by another git\n");
	snapshot before = snap(ctx);
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_LOCKED);
	assert_unchanged(ctx, &before);
	assert_absent(ctx, "local/remote-0.txt");
	assert_file(ctx, "local/.git/index.lock", "held by another git\n");
}

/* A clone 2 commits behind (and log.txt rewritten upstream) whose branch ref
 * another writer holds locked. */
static void fx_behind_with_branch_locked(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_behind(ctx, "remote.git", 2);
	fx_commit_bare(ctx, "remote.git", "main", "log.txt", "rewritten upstream\n");
	fx_lock_ref(ctx, "local/.git", "main");
}

static void pull_ref_lock_fails(ps_ctx *ctx)
{
	fx_behind_with_branch_locked(ctx);
	snapshot before = snap(ctx);
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_LOCKED);
	/* git's own refusal: the branch, HEAD and their reflogs stay (git may
	 * have written the worktree by then: P-PULL-25 is the stricter rule) */
	snapshot now = snap(ctx);
	assert_str(now.head, before.head);
	assert_str(now.symref, before.symref);
	assert_str(now.branch, before.branch);
	assert_int_equal(now.reflog, before.reflog);
	assert_int_equal(now.head_reflog, before.head_reflog);
	/* somebody else's lock is left alone */
	assert_file(ctx, "local/.git/refs/heads/main.lock", "");
}

static void pull_ref_lock_no_new_worktree(ps_ctx *ctx)
{
	fx_behind_with_branch_locked(ctx);
	snapshot before = snap(ctx);
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_LOCKED);
	/* no new worktree or index under an old HEAD */
	assert_unchanged(ctx, &before);
	assert_absent(ctx, "local/remote-0.txt");
	assert_absent(ctx, "local/remote-1.txt");
	assert_file(ctx, "local/log.txt", "commit 0\ncommit 1\n");
	assert_str(or_status(ctx, "local"), "");
}

static void pull_merge_in_progress_fails(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_behind(ctx, "remote.git", 1);
	const char *merge_head = ps_fmt(ctx, "%s\n", or_rev(ctx, "local", "HEAD").hex);
	fx_write(ctx, "local/.git/MERGE_HEAD", merge_head);
	char kept[128];
	snprintf(kept, sizeof(kept), "%s", or_file(ctx, "local/.git/MERGE_HEAD"));
	snapshot before = snap(ctx);
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_fail(r, PUSHSEAL_E_INPROGRESS);
	assert_unchanged(ctx, &before);
	assert_absent(ctx, "local/remote-0.txt");
	assert_file(ctx, "local/.git/MERGE_HEAD", kept);
}

/* ---- P-PULL-23: every failure carries its class (ext) ---------------------- */

static void expect_pull_class(ps_ctx *ctx, const char *repo, int klass)
{
	snapshot before = snap_of(ctx, repo);
	ps_result r = drv_pull(ctx, ps_path(ctx, repo));
	expect_fail(r, klass);
	if (!drv_is_exec() && r.line[0] == '\0')
		fail_msg("%s: class %s but an empty message", repo, pushseal_class_name(klass));
	assert_unchanged_of(ctx, repo, &before);
}

static void pull_failure_classes(ps_ctx *ctx)
{
	fx_pair_named(ctx, "r1.git", "diverged", 2);
	fx_ahead(ctx, "diverged", 1);
	fx_behind(ctx, "r1.git", 1);
	expect_pull_class(ctx, "diverged", PUSHSEAL_E_DIVERGED);

	fx_pair_named(ctx, "r2.git", "noupstream", 2);
	fx_unset_upstream(ctx, "noupstream");
	expect_pull_class(ctx, "noupstream", PUSHSEAL_E_NOUPSTREAM);

	fx_pair_named(ctx, "r3.git", "detached", 2);
	fx_behind(ctx, "r3.git", 1);
	fx_detach(ctx, "detached");
	expect_pull_class(ctx, "detached", PUSHSEAL_E_DETACHED);

	fx_pair_named(ctx, "r4.git", "overwrite", 2);
	fx_behind(ctx, "r4.git", 1);
	fx_write(ctx, "overwrite/remote-0.txt", "untracked\n");
	expect_pull_class(ctx, "overwrite", PUSHSEAL_E_WOULD_OVERWRITE);

	fx_pair_named(ctx, "r5.git", "unreachable", 2);
	fx_rmrf(ctx, "r5.git");
	expect_pull_class(ctx, "unreachable", ps_missing_repo_class());
}

/* ---- P-PULL-24: a remote whose HEAD is not the upstream ------------------ */

static void pull_remote_head_elsewhere(ps_ctx *ctx, int other_branch)
{
	fx_other_head_pair(ctx, other_branch);
	ps_rev tip;
	tip = fx_commit_bare(ctx, "remote.git", "feature/x", "x.txt", "x 3\n");
	ps_result r = drv_pull(ctx, ps_path(ctx, "local"));
	expect_ok(r);
	assert_str(or_rev(ctx, "local", "HEAD").hex, tip.hex);
	assert_str(or_rev(ctx, "local", "refs/heads/feature/x").hex, tip.hex);
	assert_str(or_file(ctx, "local/x.txt"), "x 3\n");
	assert_false(or_exists(ctx, "local/main.txt"));
	assert_str(or_status(ctx, "local"), "");
	or_fsck_clean(ctx, "local");
}

static void pull_remote_head_dangling(ps_ctx *ctx) { pull_remote_head_elsewhere(ctx, 0); }
static void pull_remote_head_other(ps_ctx *ctx) { pull_remote_head_elsewhere(ctx, 1); }

static const struct CMUnitTest tests[] = {
	CLAUSE("P-PULL-1", "a clean clone behind fast-forwards branch, index and worktree to the upstream", pull_behind_fast_forwards),
	CLAUSE("P-PULL-2", "a clone equal to its upstream succeeds and changes nothing, reflogs included", pull_equal_changes_nothing),
	CLAUSE("P-PULL-3", "a clone only ahead succeeds, keeps its commits and its branch tip, and pushes nothing", pull_ahead_keeps_branch),
	CLAUSE("P-PULL-2", "in sync while the remote adds a branch and tags: succeeds and changes nothing", pull_equal_while_others_move),
	CLAUSE("P-PULL-3", "only ahead while the remote adds a branch and tags: succeeds and keeps the branch", pull_ahead_while_others_move),
	CLAUSE("P-PULL-4", "a diverged branch makes pull fail and leaves branch, worktree and reflog unchanged", pull_diverged_fails_unchanged),
	CLAUSE("P-PULL-4", "an upstream with unrelated history makes pull fail, clone unchanged", pull_unrelated_fails_unchanged),
	CLAUSE("P-PULL-5", "a branch without upstream fails and is unchanged, even with origin/main ahead", pull_no_upstream_fails_unchanged),
	CLAUSE("P-PULL-6", "an uncommitted edit to a file the pull changes fails the pull, kept intact", pull_dirty_edit_kept),
	CLAUSE("P-PULL-6", "an uncommitted edit to a file the pull deletes fails the pull, kept intact", pull_edit_of_deleted_file_kept),
	CLAUSE("P-PULL-7", "an untracked file where the pull would create one makes pull fail and is kept byte for byte", pull_untracked_file_kept),
	CLAUSE("P-PULL-7", "an untracked directory where the pull would create a file makes pull fail and is kept", pull_untracked_dir_kept),
	CLAUSE("P-PULL-7", "an untracked file where the pull would create a directory makes pull fail and is kept", pull_untracked_file_where_dir_kept),
	CLAUSE("P-PULL-8", "a detached HEAD fails and HEAD, the branch and the worktree are unchanged", pull_detached_fails_unchanged),
	SERVER_CLAUSE("P-PULL-9", "a deleted remote directory fails and the clone is unchanged, even with a stale ref", pull_remote_deleted_fails_unchanged),
	CLAUSE("P-PULL-9", "a remote URL to a path that never existed fails and the clone is unchanged", pull_remote_never_existed_fails_unchanged),
	NET_CLAUSE("P-PULL-9", "a remote URL to a refused loopback port fails and the clone is unchanged", pull_refused_port_fails_unchanged),
	CLAUSE("P-PULL-10", "local changes to files the pull does not touch survive a successful pull", pull_keeps_unrelated_edits),
	CLAUSE("P-PULL-10", "in sync while the remote adds a branch and tags: an unrelated edit survives the pull", pull_equal_keeps_unrelated_edit),
	CLAUSE("P-PULL-11", "a fast-forward over three commits writes exactly one reflog entry, old tip to new tip", pull_writes_one_reflog_entry),
	SERVER_CLAUSE("P-PULL-24", "a remote whose HEAD dangles: the pull fast-forwards feature/x, fsck clean", pull_remote_head_dangling),
	SERVER_CLAUSE("P-PULL-24", "a remote whose HEAD names main: the pull lands on the upstream feature/x", pull_remote_head_other),
	CLAUSE("P-PULL-12", "the pull fetches the branch's remote 'upstream', not a decoy 'origin'", pull_uses_configured_remote),
	CLAUSE("P-PULL-13", "a deleted upstream branch fails although the stale tracking ref is a fast-forward away", pull_upstream_deleted_stale_ahead_fails),
	CLAUSE("P-PULL-13", "an upstream branch deleted on the remote fails although the stale tracking ref equals HEAD", pull_upstream_deleted_stale_equal_fails),
	CLAUSE("P-PULL-14", "a branch whose remote is no longer configured fails and is unchanged", pull_remote_unconfigured_fails_unchanged),
	CLAUSE("P-PULL-15", "an ignored file (info/exclude) in the way of a new tracked file fails, kept", pull_ignored_file_kept),
	CLAUSE("P-PULL-15", "an ignored file (.gitignore) where the pull would create a tracked file fails and is kept", pull_gitignored_file_kept),
	CLAUSE("P-PULL-16", "a held .git/index.lock fails the pull, changes nothing and stays in place", pull_index_lock_fails_locked),
	CLAUSE("P-PULL-17", "a staged change (edited again) to a file the pull changes fails, all kept", pull_staged_change_kept),
	CLAUSE("P-PULL-17", "a staged change whose worktree matches HEAD fails, index kept", pull_staged_only_change_kept),
	CLAUSE("P-PULL-17", "a staged new file where the pull creates one fails, index and file kept", pull_staged_new_file_kept),
	CLAUSE("P-PULL-17", "a staged deletion (git rm) of a file the pull changes fails, all kept", pull_staged_deletion_kept),
	CLAUSE("P-PULL-17", "a staged deletion (git rm --cached) of a file the pull changes fails, all kept", pull_cached_deletion_kept),
	CLAUSE("P-PULL-18", "an upstream on a local branch (remote '.') fails, although git would fast-forward to it", pull_local_upstream_fails),
	CLAUSE("P-PULL-19", "files added and deleted upstream are added and deleted in index and worktree", pull_mirrors_added_and_deleted_files),
	CLAUSE("P-PULL-20", "a clone 300 commits behind lands on the upstream tip in one call", pull_many_commits_in_one_call),
	CLAUSE("P-PULL-21", "a locked branch ref fails the pull: branch, HEAD and reflogs stay, the lock too", pull_ref_lock_fails),
	CLAUSE("P-PULL-22", "a merge in progress (MERGE_HEAD) fails the pull and changes nothing", pull_merge_in_progress_fails),
	CLAUSE("P-PULL-25", "a locked branch ref: the failed pull writes no new file into worktree or index", pull_ref_lock_no_new_worktree),
	CLAUSE("P-PULL-23", "diverged, no upstream, detached, in-the-way and unreachable failures carry their classes", pull_failure_classes),
};

int main(void)
{
	ps_harness_init();
	return PS_RUN("P-PULL", tests);
}
