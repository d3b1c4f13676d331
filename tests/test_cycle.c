/* C-16, C-17, T04, needs-action, the stable state and loop stability (S-*). */
#define _XOPEN_SOURCE 700
#include "harness.h"
#include "pushseal.h"

#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A writeback that a bot would run: count its invocations in a marker file
 * outside the repository, then append a line and commit it with the git CLI.
 * It also chatters on stdout, as scripts do: an implementation must keep that
 * off its own stdout, which belongs to the protocol's JSON lines. */
static const char *wb_commit(ps_ctx *ctx)
{
	return ps_fmt(ctx, "echo writeback-noise && echo run >> '%s/marker' && echo bot >> data.txt && "
		"git add data.txt && git commit -qm 'bot: data'", ctx->root);
}

static const char *wb_noop(ps_ctx *ctx)
{
	return ps_fmt(ctx, "echo run >> '%s/marker'", ctx->root);
}

static int marker_runs(ps_ctx *ctx)
{
	const char *m = or_file(ctx, "marker");
	int n = 0;
	for (; m && *m; m++)
		n += *m == '\n';
	return n;
}

static long merges(ps_ctx *ctx, const char *dir)
{
	const char *out;
	if (or_git(ctx, &out, dir, "rev-list", "--merges", "--count", "HEAD", NULL) != 0)
		fail_msg("oracle: rev-list --merges failed");
	return strtol(out, NULL, 10);
}

/* Assert a tick's exit code, showing the report when it differs. */
#define assert_run(expected, call, r) do { \
	int rc_ = (call); \
	if (rc_ != (expected)) \
		fail_msg("tick exited %d, expected %d: %s", rc_, (expected), (r)[0].json); \
} while (0)

static const char *one(ps_ctx *ctx, const char *rel)
{
	return ps_keep(ctx, rel);
}

/* ---- C-16 ------------------------------------------------------------------- */

static void c16_behind_pulls_then_writes_and_seals(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_behind(ctx, "remote.git", 2);
	ps_rev theirs = or_rev(ctx, "remote.git", "main");
	ps_cycle_result r = drv_fix(ctx, one(ctx, "local"), wb_commit(ctx));
	assert_int_equal(r.exit_code, 0);
	assert_true(r.sealed);
	assert_string_equal(r.skipped, "");
	assert_int_equal(marker_runs(ctx), 1);
	/* our commit sits on top of theirs: pulled first, no merge */
	assert_str(or_rev(ctx, "local", "HEAD~1").hex, theirs.hex);
	assert_str(or_rev(ctx, "remote.git", "main").hex, or_rev(ctx, "local", "HEAD").hex);
	assert_int_equal(merges(ctx, "local"), 0);
}

static void c16_diverged_skips_all_writes(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 1);
	fx_behind(ctx, "remote.git", 1);
	ps_rev remote_before;
	ps_rev local_before;
	local_before = or_rev(ctx, "local", "HEAD");
	remote_before = or_rev(ctx, "remote.git", "main");
	ps_clone_state before;
	or_clone_state(ctx, "local", &before);
	ps_cycle_result r = drv_fix(ctx, one(ctx, "local"), wb_commit(ctx));
	assert_int_equal(r.exit_code, 1);
	assert_str(r.skipped, "c16");
	assert_false(r.wrote);
	assert_false(r.sealed);
	assert_int_equal(marker_runs(ctx), 0);
	/* skipped means nothing moved: tip, index, worktree bytes, reflogs */
	or_assert_clone_unchanged(ctx, "local", &before);
	assert_str(or_rev(ctx, "local", "HEAD").hex, local_before.hex);
	assert_str(or_rev(ctx, "remote.git", "main").hex, remote_before.hex);
}

static void c16_local_change_in_the_way_skips_and_keeps_it(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_commit_bare(ctx, "remote.git", "main", "log.txt", "upstream rewrite\n");
	fx_write(ctx, "local/log.txt", "local edit in progress\n");
	ps_rev remote_before;
	remote_before = or_rev(ctx, "remote.git", "main");
	ps_clone_state before;
	or_clone_state(ctx, "local", &before);
	ps_cycle_result r = drv_fix(ctx, one(ctx, "local"), wb_commit(ctx));
	assert_int_equal(r.exit_code, 1);
	assert_str(r.skipped, "c16");
	assert_int_equal(marker_runs(ctx), 0);
	assert_str(or_file(ctx, "local/log.txt"), "local edit in progress\n");
	/* skipped means nothing moved: the branch is not at the upstream tip
	 * over the old files, the index and reflogs are as they were */
	or_assert_clone_unchanged(ctx, "local", &before);
	assert_str(or_rev(ctx, "remote.git", "main").hex, remote_before.hex);
}

static void c16_unsyncable_repo_gets_no_writes(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_unset_upstream(ctx, "local");
	ps_clone_state before;
	or_clone_state(ctx, "local", &before);
	ps_cycle_result r = drv_fix(ctx, one(ctx, "local"), wb_commit(ctx));
	assert_int_equal(r.exit_code, 1);
	assert_str(r.skipped, "c16");
	assert_int_equal(marker_runs(ctx), 0);
	or_assert_clone_unchanged(ctx, "local", &before);
}

/* C-16-5: a person pushed, then the remote became unreachable.  Writing on
 * the stale branch would make the next tick find it diverged; the cycle
 * skips every write instead, and converges once the remote is back. */
static void c16_failed_fetch_skips_all_writes(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_behind(ctx, "remote.git", 1);
	const char *url;
	char saved_url[4096];
	ps_rev before;
	or_git(ctx, &url, "local", "config", "remote.origin.url", NULL);
	snprintf(saved_url, sizeof(saved_url), "%s", url);
	before = or_rev(ctx, "local", "HEAD");
	fx_set_url(ctx, "local", "origin", ps_path(ctx, "gone.git"));
	const char *repos[] = { one(ctx, "local") };
	ps_cycle_result rr[1];
	ps_clone_state state_before;
	or_clone_state(ctx, "local", &state_before);
	ps_cycle_result r = drv_fix(ctx, one(ctx, "local"), wb_commit(ctx));
	assert_int_equal(r.exit_code, 1);
	assert_str(r.skipped, "c16");
	assert_false(r.wrote);
	if (!strstr(r.json, "unreachable"))
		fail_msg("the fetch's class is not in the report: %s", r.json);
	assert_run(1, drv_run(ctx, 1, "false", wb_commit(ctx), repos, 1, rr), rr);
	assert_str(rr[0].skipped, "c16");
	assert_false(rr[0].wrote);
	assert_int_equal(marker_runs(ctx), 0);
	assert_str(or_rev(ctx, "local", "HEAD").hex, before.hex);
	or_assert_clone_unchanged(ctx, "local", &state_before);
	/* the remote is back: one tick pulls the person's commit and seals, no divergence */
	fx_set_url(ctx, "local", "origin", saved_url);
	assert_run(0, drv_run(ctx, 1, "false", wb_commit(ctx), repos, 1, rr), rr);
	assert_true(rr[0].sealed);
	assert_str(or_rev(ctx, "remote.git", "main").hex, or_rev(ctx, "local", "HEAD").hex);
	assert_int_equal(merges(ctx, "local"), 0);
	assert_int_equal(or_count(ctx, "local", "HEAD"), 4);
}

/* ---- C-17 ------------------------------------------------------------------- */

static void c17_backlog_pushed_before_writeback(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 3);
	/* the writeback records how far local was ahead when it ran */
	const char *wb = ps_fmt(ctx, "git rev-list --count origin/main..HEAD >> '%s/marker'", ctx->root);
	ps_cycle_result r = drv_fix(ctx, one(ctx, "local"), wb);
	assert_int_equal(r.exit_code, 0);
	assert_true(r.sealed);
	assert_str(or_file(ctx, "marker"), "0\n");
	assert_str(or_rev(ctx, "remote.git", "main").hex, or_rev(ctx, "local", "HEAD").hex);
}

static void c17_failed_retry_skips_all_writes(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 2);
	fx_lock_ref(ctx, "remote.git", "main");
	ps_rev remote_before;
	ps_rev local_before;
	remote_before = or_rev(ctx, "remote.git", "main");
	local_before = or_rev(ctx, "local", "HEAD");
	ps_clone_state before;
	or_clone_state(ctx, "local", &before);
	ps_cycle_result r = drv_fix(ctx, one(ctx, "local"), wb_commit(ctx));
	assert_int_equal(r.exit_code, 1);
	assert_str(r.skipped, "c17");
	or_assert_clone_unchanged(ctx, "local", &before);
	assert_false(r.sealed);
	assert_int_equal(marker_runs(ctx), 0);
	assert_str(or_rev(ctx, "local", "HEAD").hex, local_before.hex);
	assert_str(or_rev(ctx, "remote.git", "main").hex, remote_before.hex);
}

/* ---- T04 -------------------------------------------------------------------- */

static void t04_writeback_commit_is_sealed(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	ps_cycle_result r = drv_fix(ctx, one(ctx, "local"), wb_commit(ctx));
	assert_int_equal(r.exit_code, 0);
	assert_true(r.wrote);
	assert_true(r.sealed);
	assert_int_equal(or_count(ctx, "remote.git", "main"), 3);
	assert_str(or_rev(ctx, "remote.git", "main").hex, or_rev(ctx, "local", "HEAD").hex);
	assert_str(or_rev(ctx, "local", "origin/main").hex, or_rev(ctx, "local", "HEAD").hex);
}

static void t04_no_commit_still_seals(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	ps_rev before;
	before = or_rev(ctx, "remote.git", "main");
	ps_cycle_result r = drv_fix(ctx, one(ctx, "local"), wb_noop(ctx));
	assert_int_equal(r.exit_code, 0);
	assert_true(r.wrote);
	assert_true(r.sealed);
	assert_int_equal(marker_runs(ctx), 1);
	assert_str(or_rev(ctx, "remote.git", "main").hex, before.hex);
}

static void t04_failed_writeback_commits_are_sealed(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	const char *wb = ps_fmt(ctx, "%s && exit 3", wb_commit(ctx));
	ps_cycle_result r = drv_fix(ctx, one(ctx, "local"), wb);
	assert_int_equal(r.exit_code, 1);
	assert_true(r.wrote);
	assert_true(r.sealed);
	assert_str(or_rev(ctx, "remote.git", "main").hex, or_rev(ctx, "local", "HEAD").hex);
	assert_int_equal(or_count(ctx, "remote.git", "main"), 3);
}

static void t04_failed_seal_reported_and_commit_kept(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	/* the writeback commits, then the remote ref becomes locked */
	const char *wb = ps_fmt(ctx, "%s && : > '%s/remote.git/refs/heads/main.lock'", wb_commit(ctx), ctx->root);
	ps_rev remote_before;
	remote_before = or_rev(ctx, "remote.git", "main");
	ps_cycle_result r = drv_fix(ctx, one(ctx, "local"), wb);
	assert_int_equal(r.exit_code, 1);
	assert_false(r.sealed);
	assert_str(or_rev(ctx, "remote.git", "main").hex, remote_before.hex);
	assert_int_equal(or_count(ctx, "local", "origin/main..HEAD"), 1);
}

/* ---- needs-action (the tick) ---------------------------------------------------- */

static void n_clean_repo_is_skipped(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	const char *repos[] = { one(ctx, "local") };
	ps_cycle_result r[1];
	ps_clone_state before;
	or_clone_state(ctx, "local", &before);
	int rc = drv_run(ctx, 0, NULL, wb_commit(ctx), repos, 1, r);
	assert_int_equal(rc, 0);
	assert_str(r[0].skipped, "clean");
	assert_false(r[0].wrote);
	assert_int_equal(marker_runs(ctx), 0);
	or_assert_clone_unchanged(ctx, "local", &before);
	assert_int_equal(or_count(ctx, "local", "HEAD"), 2);
}

static void n_backlog_is_never_clean(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 4);
	const char *repos[] = { one(ctx, "local") };
	ps_cycle_result r[1];
	int rc = drv_run(ctx, 0, ps_fmt(ctx, "true"), NULL, repos, 1, r);
	assert_int_equal(rc, 0);
	assert_str(r[0].skipped, "");
	assert_true(r[0].sealed);
	assert_str(or_rev(ctx, "remote.git", "main").hex, or_rev(ctx, "local", "HEAD").hex);
}

static void n_failing_check_runs_fix(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	const char *repos[] = { one(ctx, "local") };
	ps_cycle_result r[1];
	int rc = drv_run(ctx, 0, "echo check-noise; false", wb_commit(ctx), repos, 1, r);
	assert_int_equal(rc, 0);
	assert_true(r[0].wrote);
	assert_true(r[0].sealed);
	assert_int_equal(marker_runs(ctx), 1);
	assert_int_equal(or_count(ctx, "remote.git", "main"), 3);
}

static void n_passing_check_is_clean(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	const char *repos[] = { one(ctx, "local") };
	ps_cycle_result r[1];
	ps_clone_state before;
	or_clone_state(ctx, "local", &before);
	int rc = drv_run(ctx, 0, "true", wb_commit(ctx), repos, 1, r);
	assert_int_equal(rc, 0);
	assert_str(r[0].skipped, "clean");
	assert_int_equal(marker_runs(ctx), 0);
	or_assert_clone_unchanged(ctx, "local", &before);
}

static void n_many_repos_in_order_and_exit_code(ps_ctx *ctx)
{
	fx_bare(ctx, "a.git", 1);
	fx_bare(ctx, "b.git", 1);
	fx_bare(ctx, "c.git", 1);
	fx_clone(ctx, "a.git", "a");
	fx_clone(ctx, "b.git", "b");
	fx_clone(ctx, "c.git", "c");
	fx_ahead(ctx, "b", 1);          /* b needs action and seals */
	fx_ahead(ctx, "c", 1);
	fx_lock_ref(ctx, "c.git", "main"); /* c cannot be sealed */
	const char *repos[] = { one(ctx, "a"), one(ctx, "b"), one(ctx, "c") };
	ps_cycle_result r[3];
	/* b's writeback prints on stdout: the report stays one JSON line a repo */
	int rc = drv_run(ctx, 0, NULL, wb_commit(ctx), repos, 3, r);
	/* only this clause's requirement: one line per repo, in order, and exit
	 * 1 because c did not end sealed or clean (b's seal is T04-1's) */
	assert_int_equal(rc, 1);
	for (int i = 0; i < 3 && drv_is_exec(); i++) {
		char want[16];
		snprintf(want, sizeof(want), "/%c\"", "abc"[i]);
		if (!strstr(r[i].json, want))
			fail_msg("line %d is not repo %c's: %s", i + 1, "abc"[i], r[i].json);
	}
	assert_str(r[0].skipped, "clean");
	assert_str(r[1].skipped, "");
	assert_str(r[2].skipped, "c17");
	assert_false(r[2].sealed);
}

static void n_remote_tick_pulls_first(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_behind(ctx, "remote.git", 2);
	const char *repos[] = { one(ctx, "local") };
	ps_cycle_result r[1];
	int rc = drv_run(ctx, 1, NULL, NULL, repos, 1, r);
	assert_int_equal(rc, 0);
	assert_str(r[0].skipped, "clean");
	assert_str(or_rev(ctx, "local", "HEAD").hex, or_rev(ctx, "remote.git", "main").hex);
}

/* ---- the stable state --------------------------------------------------------- */

typedef struct world {
	ps_rev remote_main;
	int remote_reflog, local_reflog, head_reflog;
	long local_objects, remote_objects;
} world;

static world observe(ps_ctx *ctx)
{
	world w;
	w.remote_main = or_rev(ctx, "remote.git", "main");
	w.remote_reflog = or_reflog(ctx, "remote.git", "refs/heads/main");
	w.local_reflog = or_reflog(ctx, "local/.git", "refs/heads/main");
	w.head_reflog = or_reflog(ctx, "local/.git", "HEAD");
	w.local_objects = or_objects(ctx, "local");
	w.remote_objects = or_objects(ctx, "remote.git");
	return w;
}

static void assert_same_world(const world *a, const world *b)
{
	assert_str(a->remote_main.hex, b->remote_main.hex);
	assert_int_equal(a->remote_reflog, b->remote_reflog);
	assert_int_equal(a->local_reflog, b->local_reflog);
	assert_int_equal(a->head_reflog, b->head_reflog);
	assert_int_equal(a->local_objects, b->local_objects);
	assert_int_equal(a->remote_objects, b->remote_objects);
}

static void stable_ten_ticks_touch_nothing(ps_ctx *ctx)
{
	fx_pair(ctx, 3);
	or_git(ctx, NULL, "remote.git", "config", "core.logAllRefUpdates", "always", NULL);
	world before = observe(ctx);
	const char *repos[] = { one(ctx, "local") };
	for (int i = 0; i < 10; i++) {
		ps_cycle_result r[1];
		assert_run(0, drv_run(ctx, i % 2, "true", wb_commit(ctx), repos, 1, r), r);
		assert_str(r[0].skipped, "clean");
	}
	world after = observe(ctx);
	assert_same_world(&before, &after);
	assert_int_equal(marker_runs(ctx), 0);
}

/* ---- loop stability ------------------------------------------------------------ */

/* Every entry under a git directory, as lstat sees it: path, inode, size and
 * mtime (ns).  A file rewritten in place, replaced by rename, created or
 * deleted shows up; so does a lock file created and removed again, through
 * its directory's mtime. */
#define FS_MAX 4096
typedef struct fs_entry {
	char path[512];
	unsigned long long ino;
	long long size, mtime_ns;
	int is_dir;
} fs_entry;

typedef struct fs_snap {
	fs_entry *e;
	size_t n;
	size_t skip_len; /* strip the sandbox prefix from paths */
} fs_snap;

static fs_snap *fs_collecting;

static int fs_visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	fs_snap *s = fs_collecting;
	const char *rel = path + s->skip_len;
	(void)ftw;
	if (type == FTW_NS || type == FTW_DNR)
		return -1;
	/* the per-repo lock file's existence is the one allowed change */
	if (strlen(rel) >= 14 && !strcmp(rel + strlen(rel) - 14, "/pushseal.lock"))
		return 0;
	if (s->n == FS_MAX)
		return -1;
	fs_entry *e = &s->e[s->n++];
	snprintf(e->path, sizeof(e->path), "%s", rel);
	e->ino = (unsigned long long)st->st_ino;
	e->size = (long long)st->st_size;
	e->mtime_ns = (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
	e->is_dir = S_ISDIR(st->st_mode);
	return 0;
}

static int fs_cmp(const void *a, const void *b)
{
	return strcmp(((const fs_entry *)a)->path, ((const fs_entry *)b)->path);
}

/* Snapshot the git directories of the clone and the remote, sorted by path. */
static fs_snap fs_snapshot(ps_ctx *ctx)
{
	fs_snap s = { calloc(FS_MAX, sizeof(fs_entry)), 0, strlen(ctx->root) + 1 };
	const char *dirs[] = { "local/.git", "remote.git" };
	assert_non_null(s.e);
	fs_collecting = &s;
	for (size_t i = 0; i < 2; i++)
		if (nftw(ps_path(ctx, dirs[i]), fs_visit, 16, FTW_PHYS) != 0)
			fail_msg("cannot walk %s (or more than %d entries)", dirs[i], FS_MAX);
	fs_collecting = NULL;
	qsort(s.e, s.n, sizeof(*s.e), fs_cmp);
	return s;
}

/* Fail with every difference listed: what appeared, vanished or changed. */
static void fs_assert_same(const fs_snap *a, const fs_snap *b)
{
	size_t i = 0, j = 0, diffs = 0;
	while (i < a->n || j < b->n) {
		int c = i == a->n ? 1 : j == b->n ? -1 : strcmp(a->e[i].path, b->e[j].path);
		if (c < 0) {
			print_message("  vanished: %s\n", a->e[i++].path);
			diffs++;
		} else if (c > 0) {
			print_message("  appeared: %s\n", b->e[j++].path);
			diffs++;
		} else {
			const fs_entry *x = &a->e[i++], *y = &b->e[j++];
			if (x->ino != y->ino || x->size != y->size || x->mtime_ns != y->mtime_ns) {
				print_message("  changed:  %s%s (inode %llu -> %llu, size %lld -> %lld, mtime %lld -> %lld)\n",
					x->path, x->is_dir ? "/" : "", x->ino, y->ino, x->size, y->size, x->mtime_ns, y->mtime_ns);
				diffs++;
			}
		}
	}
	if (diffs)
		fail_msg("%zu entries under the git directories changed during stable ticks", diffs);
}

static void s9_stable_ticks_write_no_file(ps_ctx *ctx)
{
	fx_pair(ctx, 3);
	or_git(ctx, NULL, "remote.git", "config", "core.logAllRefUpdates", "always", NULL);
	/* a person's `git fetch` left a FETCH_HEAD: ticks must not rewrite it */
	or_git(ctx, NULL, "local", "fetch", "-q", NULL);
	const char *repos[] = { one(ctx, "local") };
	ps_cycle_result r[1];
	/* the first tick may create the per-repo lock file, and nothing else matters */
	assert_run(0, drv_run(ctx, 1, NULL, NULL, repos, 1, r), r);
	assert_str(r[0].skipped, "clean");
	/* mtimes are compared to the nanosecond, but a coarse clock could hide a
	 * rewrite within one tick: let it move on first */
	struct timespec pause = { 0, 20 * 1000000L };
	nanosleep(&pause, NULL);
	fs_snap before = fs_snapshot(ctx);
	assert_true(before.n > 10);
	for (int i = 0; i < 10; i++) {
		assert_run(0, drv_run(ctx, 1, NULL, NULL, repos, 1, r), r);
		assert_str(r[0].skipped, "clean");
		nanosleep(&pause, NULL);
	}
	fs_snap after = fs_snapshot(ctx);
	/* the person's FETCH_HEAD is still there, and (below) not rewritten */
	assert_true(or_exists(ctx, "local/.git/FETCH_HEAD"));
	fs_assert_same(&before, &after);
	free(before.e);
	free(after.e);
}

static void s1_first_tick_fixes_then_quiet(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	/* the check fails until the writeback has produced fixed.txt */
	const char *check = "test -f fixed.txt";
	const char *wb = ps_fmt(ctx, "echo run >> '%s/marker' && echo ok > fixed.txt && git add fixed.txt && git commit -qm 'bot: fix'", ctx->root);
	const char *repos[] = { one(ctx, "local") };
	ps_cycle_result r[1];
	assert_run(0, drv_run(ctx, 1, check, wb, repos, 1, r), r);
	assert_true(r[0].sealed);
	world after_first = observe(ctx);
	for (int i = 2; i <= 6; i++) {
		assert_run(0, drv_run(ctx, 1, check, wb, repos, 1, r), r);
		assert_str(r[0].skipped, "clean");
	}
	world later = observe(ctx);
	assert_same_world(&after_first, &later);
	assert_int_equal(marker_runs(ctx), 1);
}

static void s2_backlog_of_501_drains_in_one_tick(ps_ctx *ctx)
{
	fx_pair(ctx, 1);
	for (int i = 0; i < 501; i++)
		fx_commit(ctx, "local", "timer.txt", ps_fmt(ctx, "tick %d\n", i));
	assert_int_equal(or_count(ctx, "local", "origin/main..HEAD"), 501);
	const char *repos[] = { one(ctx, "local") };
	ps_cycle_result r[1];
	assert_run(0, drv_run(ctx, 1, NULL, NULL, repos, 1, r), r);
	assert_true(r[0].sealed);
	assert_str(or_rev(ctx, "remote.git", "main").hex, or_rev(ctx, "local", "HEAD").hex);
	assert_int_equal(or_count(ctx, "remote.git", "main"), 502);
}

static void s3_unreachable_remote_bounds_backlog_then_converges(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_lock_ref(ctx, "remote.git", "main");
	const char *repos[] = { one(ctx, "local") };
	ps_cycle_result r[1];
	for (int i = 0; i < 5; i++) {
		drv_run(ctx, 1, "false", wb_commit(ctx), repos, 1, r);
		assert_false(r[0].sealed);
		/* at most one run's worth of commits waits unpushed */
		assert_true(or_count(ctx, "local", "origin/main..HEAD") <= 1);
	}
	assert_int_equal(marker_runs(ctx), 1);
	unlink(ps_path(ctx, "remote.git/refs/heads/main.lock"));
	assert_run(0, drv_run(ctx, 1, "false", wb_commit(ctx), repos, 1, r), r);
	assert_true(r[0].sealed);
	assert_str(or_rev(ctx, "remote.git", "main").hex, or_rev(ctx, "local", "HEAD").hex);
}

static void s4_upstream_development_between_ticks(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	const char *repos[] = { one(ctx, "local") };
	ps_cycle_result r[1];
	for (int i = 0; i < 4; i++) {
		fx_commit_bare(ctx, "remote.git", "main", ps_fmt(ctx, "human-%d.txt", i), "real work\n");
		assert_run(0, drv_run(ctx, 1, "false", wb_commit(ctx), repos, 1, r), r);
		assert_true(r[0].sealed);
		assert_str(or_rev(ctx, "remote.git", "main").hex, or_rev(ctx, "local", "HEAD").hex);
		assert_true(or_exists(ctx, ps_fmt(ctx, "local/human-%d.txt", i)));
	}
	assert_int_equal(merges(ctx, "local"), 0);
	assert_int_equal(or_count(ctx, "remote.git", "main"), 2 + 4 + 4);
}

static void s5_race_default_is_stuck_bounded_and_reported(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_clone(ctx, "remote.git", "human");
	/* between our commit and our push, a person pushes */
	const char *wb = ps_fmt(ctx, "%s && git -C '%s/human' commit -q --allow-empty -m human && git -C '%s/human' push -q origin main",
		wb_commit(ctx), ctx->root, ctx->root);
	ps_cycle_result r = drv_fix(ctx, one(ctx, "local"), wb);
	assert_int_equal(r.exit_code, 1);
	assert_false(r.sealed);
	ps_rev human;
	human = or_rev(ctx, "human", "HEAD");
	assert_str(or_rev(ctx, "remote.git", "main").hex, human.hex);
	/* later ticks stay stuck at C-16: no new commits, the person's commit kept */
	for (int i = 0; i < 3; i++) {
		r = drv_fix(ctx, one(ctx, "local"), wb_commit(ctx));
		assert_int_equal(r.exit_code, 1);
		assert_str(r.skipped, "c16");
	}
	assert_int_equal(marker_runs(ctx), 1);
	assert_int_equal(or_count(ctx, "local", "origin/main..HEAD"), 1);
	assert_str(or_rev(ctx, "remote.git", "main").hex, human.hex);
}

static void s6_two_writers_converge(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_clone(ctx, "remote.git", "other");
	const char *a[] = { one(ctx, "local") };
	const char *b[] = { one(ctx, "other") };
	ps_cycle_result r[1];
	for (int i = 0; i < 4; i++) {
		assert_run(0, drv_run(ctx, 1, "false", wb_commit(ctx), a, 1, r), r);
		assert_run(0, drv_run(ctx, 1, "false", wb_commit(ctx), b, 1, r), r);
		assert_int_equal(or_count(ctx, "local", "origin/main..HEAD"), 0);
		assert_int_equal(or_count(ctx, "other", "origin/main..HEAD"), 0);
	}
	assert_run(0, drv_run(ctx, 1, NULL, NULL, a, 1, r), r);
	assert_str(or_rev(ctx, "local", "HEAD").hex, or_rev(ctx, "remote.git", "main").hex);
	assert_str(or_rev(ctx, "other", "HEAD").hex, or_rev(ctx, "remote.git", "main").hex);
	assert_int_equal(or_count(ctx, "remote.git", "main"), 2 + 8);
	assert_int_equal(merges(ctx, "local"), 0);
}

/* Run one fix whose writeback kills the process running the cycle. */
static void fix_and_die(ps_ctx *ctx, const char *repo, const char *wb)
{
	if (drv_is_exec()) {
		const char *out, *err;
		int rc = drv_exec(ctx, &out, &err, "fix", repo, "--writeback", wb, NULL);
		assert_int_equal(rc, 128 + SIGKILL);
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		ps_cycle_result r = drv_fix(ctx, repo, wb);
		(void)r;
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

static void s7_crash_between_commit_and_push_is_sealed_next_tick(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fix_and_die(ctx, one(ctx, "local"), ps_fmt(ctx, "%s && kill -9 $PPID", wb_commit(ctx)));
	assert_int_equal(or_count(ctx, "local", "origin/main..HEAD"), 1);
	const char *repos[] = { one(ctx, "local") };
	ps_cycle_result r[1];
	assert_run(0, drv_run(ctx, 0, NULL, NULL, repos, 1, r), r);
	assert_true(r[0].sealed);
	assert_str(or_rev(ctx, "remote.git", "main").hex, or_rev(ctx, "local", "HEAD").hex);
}

static void s8_overlapping_runs_do_not_interleave(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	/* each writeback brackets its work in a shared log; the first one holds
	 * the repo for a while inside its bracket.  Interleaved runs would show
	 * two "start" lines in a row. */
	char bracket_first[4096], bracket_second[4096];
	snprintf(bracket_second, sizeof(bracket_second), "echo start >> '%s/brackets' && %s && echo end >> '%s/brackets'",
		ctx->root, wb_commit(ctx), ctx->root);
	snprintf(bracket_first, sizeof(bracket_first),
		"echo start >> '%s/brackets' && %s && : > '%s/started' && sleep 1 && echo end >> '%s/brackets'",
		ctx->root, wb_commit(ctx), ctx->root, ctx->root);
	const char *slow = bracket_first;
	pid_t pid = fork();
	if (pid == 0) {
		ps_cycle_result r = drv_fix(ctx, ps_path(ctx, "local"), slow);
		_exit(r.exit_code);
	}
	for (int i = 0; i < 200 && !or_exists(ctx, "started"); i++) {
		struct timespec ts = { 0, 20 * 1000000L };
		nanosleep(&ts, NULL);
	}
	assert_true(or_exists(ctx, "started"));
	ps_cycle_result second = drv_fix(ctx, one(ctx, "local"), bracket_second);
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	const char *log = or_file(ctx, "brackets");
	assert_non_null(log);
	if (strstr(log, "start\nstart"))
		fail_msg("two writebacks ran at once on one repo: %s", log);
	/* skipped as locked, or waited and then ran after the first */
	if (strcmp(second.skipped, "locked") == 0)
		assert_int_equal(marker_runs(ctx), 1);
	else
		assert_int_equal(marker_runs(ctx), 2);
	assert_int_equal(merges(ctx, "local"), 0);
	assert_str(or_rev(ctx, "remote.git", "main").hex, or_rev(ctx, "local", "HEAD").hex);
	assert_str(or_status(ctx, "local"), "");
	assert_int_equal(system(ps_fmt(ctx, "git -C '%s/local' fsck --no-progress >/dev/null 2>&1", ctx->root)), 0);
}

static const struct CMUnitTest tests[] = {
	CLAUSE("C-16-1", "behind the remote, fix pulls fast-forward first, then writes on top and seals, with no merge", c16_behind_pulls_then_writes_and_seals),
	CLAUSE("C-16-2", "behind and diverged, fix skips every write: the writeback never runs, both tips unchanged", c16_diverged_skips_all_writes),
	CLAUSE("C-16-3", "behind with a local change in the way, fix skips every write and keeps the change", c16_local_change_in_the_way_skips_and_keeps_it),
	CLAUSE("C-16-4", "a repo that cannot be synced (no upstream) is skipped as c16 before any write", c16_unsyncable_repo_gets_no_writes),
	CLAUSE("C-16-5", "a failed C-16 fetch skips every write with its class, and one tick converges later", c16_failed_fetch_skips_all_writes),
	CLAUSE("C-17-1", "an unpushed backlog is pushed before the writeback runs", c17_backlog_pushed_before_writeback),
	CLAUSE("C-17-2", "a backlog whose push still fails skips every write and keeps both tips", c17_failed_retry_skips_all_writes),
	CLAUSE("T04-1", "the writeback's commit is pushed at the end: remote, tracking ref and HEAD agree", t04_writeback_commit_is_sealed),
	CLAUSE("T04-2", "a writeback that commits nothing still ends sealed and leaves the remote unchanged", t04_no_commit_still_seals),
	CLAUSE("T04-3", "a failed writeback still gets its commits sealed, and the run reports failure", t04_failed_writeback_commits_are_sealed),
	CLAUSE("T04-4", "a seal push that fails is reported (exit 1, not sealed) and the commit is kept locally", t04_failed_seal_reported_and_commit_kept),
	CLAUSE("N-1", "a clean, in-sync repo without a check is skipped as clean and the writeback never runs", n_clean_repo_is_skipped),
	CLAUSE("N-2", "a repo with an unpushed backlog is never clean: the tick seals it even when the check passes", n_backlog_is_never_clean),
	CLAUSE("N-3", "a failing check makes the tick run fix: the writeback runs once and is sealed", n_failing_check_runs_fix),
	CLAUSE("N-4", "a passing check and no backlog is clean", n_passing_check_is_clean),
	CLAUSE("N-5", "a tick reports repos in the order given and exits 1 when one of them did not end sealed or clean", n_many_repos_in_order_and_exit_code),
	CLAUSE("N-6", "with --remote the tick pulls a repo that is behind before deciding it is clean", n_remote_tick_pulls_first),
	CLAUSE("STABLE-1", "ten ticks on a clean in-sync repo leave remote refs, reflogs and object counts untouched", stable_ten_ticks_touch_nothing),
	CLAUSE("S-1", "the first tick fixes and seals, and later ticks change nothing", s1_first_tick_fixes_then_quiet),
	CLAUSE("S-2", "a backlog of 501 unpushed commits drains in one tick", s2_backlog_of_501_drains_in_one_tick),
	CLAUSE("S-3", "while pushes are refused the backlog stays one run's worth, then converges", s3_unreachable_remote_bounds_backlog_then_converges),
	CLAUSE("S-4", "real development landing between ticks is pulled fast-forward each tick: no merge, no divergence", s4_upstream_development_between_ticks),
	CLAUSE("S-5", "a race that diverges the remote is stuck, reported and bounded by default", s5_race_default_is_stuck_bounded_and_reported),
	CLAUSE("S-6", "two writers on one remote ticking alternately converge with no pile-up and no merge", s6_two_writers_converge),
	CLAUSE("S-7", "a run killed between commit and push is sealed by the next tick's C-17 retry", s7_crash_between_commit_and_push_is_sealed_next_tick),
	CLAUSE("S-8", "an overlapping run on the same repo is skipped as locked or serialised, and nothing is corrupted", s8_overlapping_runs_do_not_interleave),
	CLAUSE("S-9", "ten stable ticks change no file under either git directory, FETCH_HEAD included", s9_stable_ticks_write_no_file),
};

int main(void)
{
	ps_harness_init();
	return PS_RUN("cycle", tests);
}
