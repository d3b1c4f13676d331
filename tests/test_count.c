/*
 * P-REMOTE and P-LOCAL: remote-ahead is `git fetch` then
 * `git rev-list --count HEAD..@{u}`, local-ahead is
 * `git rev-list --count @{u}..HEAD` without network.  Every count is checked
 * twice: against the number the topology was built to have, and against the
 * git CLI on the repository as it is after the operation.
 */
#include "harness.h"
#include "pushseal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- small helpers -------------------------------------------------------- */

#define GP(expr) GIT_PASS(expr)
#define open_repo fx_open

/* Copy a ring string so that it survives the next eight helper calls. */
typedef struct hex {
	char s[64];
} hex;

static hex keep(const char *s)
{
	hex h;
	snprintf(h.s, sizeof(h.s), "%s", s);
	return h;
}

/* `git fetch` in `repo` with the CLI (the oracle's own fetch, never pushseal's). */
static void git_fetch(ps_ctx *ctx, const char *repo, const char *remote)
{
	const char *out;
	if (or_git(ctx, &out, repo, "fetch", "-q", remote, NULL) != 0)
		fail_msg("oracle: git fetch %s failed in %s", remote, repo);
}

/* Run git in dir with the given arguments; it must succeed. */
#define git_ok(ctx, dir, ...) do { \
		const char *o_; \
		if (or_git((ctx), &o_, (dir), __VA_ARGS__, NULL) != 0) \
			fail_msg("oracle: git %s failed in %s", #__VA_ARGS__, (dir)); \
	} while (0)

/* The implementation's count must equal both the topology's number and
 * `git rev-list --count range` in dir (evaluated now, after the operation). */
#define expect_count(ctx, r, want, dir, range) \
	expect_count_at((ctx), &(r), (want), (dir), (range), __FILE__, __LINE__)
static void expect_count_at(ps_ctx *ctx, const ps_result *r, long want, const char *dir,
	const char *range, const char *file, int line)
{
	long git = or_count(ctx, dir, range);
	if (r->count != want || git != want) {
		print_error("%s:%d: counted %ld; the topology says %ld; git rev-list --count %s in %s says %ld (%s)\n",
			file, line, r->count, want, range, dir, git, r->line);
		_fail(file, line);
	}
}

#define expect_zero(r, what) do { \
		if ((r).count != 0) \
			fail_msg("%s: counted %ld, want 0 (%s)", (what), (r).count, (r).line); \
	} while (0)

/* ---- P-REMOTE ------------------------------------------------------------- */

static void remote_in_sync(ps_ctx *ctx)
{
	fx_pair(ctx, 4);
	ps_result r = drv_remote_ahead(ctx, ps_path(ctx, "local"));
	expect_count(ctx, r, 0, "local", "HEAD..origin/main");
	assert_str(or_rev(ctx, "local", "HEAD").hex, or_rev(ctx, "remote.git", "main").hex);
}

static void remote_behind_fetches(ps_ctx *ctx)
{
	fx_pair(ctx, 3);
	ps_rev before = or_rev(ctx, "local", "refs/remotes/origin/main");
	fx_behind(ctx, "remote.git", 4);
	/* not fetched yet: the stale tracking ref says 0 */
	assert_int_equal(or_count(ctx, "local", "HEAD..origin/main"), 0);
	ps_result r = drv_remote_ahead(ctx, ps_path(ctx, "local"));
	expect_count(ctx, r, 4, "local", "HEAD..origin/main");
	assert_str(or_rev(ctx, "local", "refs/remotes/origin/main").hex, or_rev(ctx, "remote.git", "main").hex);
	/* a count, not a pull */
	assert_str(or_rev(ctx, "local", "HEAD").hex, before.hex);
}

static void remote_only_ahead(ps_ctx *ctx)
{
	fx_pair(ctx, 3);
	fx_ahead(ctx, "local", 2);
	ps_result r = drv_remote_ahead(ctx, ps_path(ctx, "local"));
	/* a symmetric difference or `@{u}..HEAD` would say 2 */
	expect_count(ctx, r, 0, "local", "HEAD..origin/main");
	assert_int_equal(or_count(ctx, "local", "origin/main..HEAD"), 2);
}

static void remote_diverged(ps_ctx *ctx)
{
	fx_pair(ctx, 3);
	fx_ahead(ctx, "local", 2);
	fx_behind(ctx, "remote.git", 5);
	ps_result r = drv_remote_ahead(ctx, ps_path(ctx, "local"));
	expect_count(ctx, r, 5, "local", "HEAD..origin/main");
	assert_int_equal(or_count(ctx, "local", "origin/main..HEAD"), 2);
	assert_str(or_rev(ctx, "local", "refs/remotes/origin/main").hex, or_rev(ctx, "remote.git", "main").hex);
}

static void remote_fetch_fails_stale_count(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_behind(ctx, "remote.git", 2);
	ps_result r = drv_remote_ahead(ctx, ps_path(ctx, "local"));
	expect_count(ctx, r, 2, "local", "HEAD..origin/main");
	ps_rev tracking = or_rev(ctx, "local", "refs/remotes/origin/main");
	assert_str(tracking.hex, or_rev(ctx, "remote.git", "main").hex);

	/* three more upstream commits that can never be fetched */
	for (int k = 0; k < 3; k++)
		fx_commit_bare(ctx, "remote.git", "main", ps_fmt(ctx, "late-%d.txt", k), "late\n");

	/* (a) the URL now names a path that does not exist */
	fx_set_url(ctx, "local", "origin", ps_remote_url(ctx, "no-such-remote.git"));
	r = drv_remote_ahead(ctx, ps_path(ctx, "local"));
	/* 5 would be a count against the remote, 0 a give-up: both wrong */
	expect_count(ctx, r, 2, "local", "HEAD..origin/main");
	if (r.class_known)
		assert_int_equal(r.klass, ps_missing_repo_class());
	assert_str(or_rev(ctx, "local", "refs/remotes/origin/main").hex, tracking.hex);

	/* (b) the URL is right again, but the repository is gone */
	fx_set_url(ctx, "local", "origin", ps_remote_url(ctx, "remote.git"));
	fx_rmrf(ctx, "remote.git");
	assert_int_equal(or_exists(ctx, "remote.git"), 0);
	r = drv_remote_ahead(ctx, ps_path(ctx, "local"));
	expect_count(ctx, r, 2, "local", "HEAD..origin/main");
	if (r.class_known)
		assert_int_equal(r.klass, ps_missing_repo_class());
	assert_str(or_rev(ctx, "local", "refs/remotes/origin/main").hex, tracking.hex);
}

/* Three clones where a naive count would find 3 upstream commits. */
static void no_count_cases(ps_ctx *ctx, int local)
{
	static const char *const names[] = { "noupstream", "detached", "unborn" };
	fx_bare(ctx, "remote.git", 2);
	for (int i = 0; i < 3; i++)
		fx_clone(ctx, "remote.git", names[i]);
	fx_behind(ctx, "remote.git", 3);
	for (int i = 0; i < 3; i++) {
		git_fetch(ctx, names[i], "origin");
		if (local)
			fx_ahead(ctx, names[i], 2);
	}
	fx_unset_upstream(ctx, "noupstream");
	fx_detach(ctx, "detached");
	/* an unborn branch that does have an upstream configured */
	git_ok(ctx, "unborn", "symbolic-ref", "HEAD", "refs/heads/fresh");
	fx_config(ctx, "unborn", "branch.fresh.remote", "origin");
	fx_config(ctx, "unborn", "branch.fresh.merge", "refs/heads/main");

	for (int i = 0; i < 3; i++) {
		ps_rev head = or_rev(ctx, names[i], "HEAD");
		ps_rev tracking = or_rev(ctx, names[i], "refs/remotes/origin/main");
		/* the trap: the tracking ref that a count from the wrong ref would use */
		if (local && i < 2)
			assert_int_equal(or_count(ctx, names[i], "origin/main..HEAD"), 2);
		if (!local)
			assert_int_equal(or_count(ctx, names[i], i == 2 ? "origin/main" : "HEAD..origin/main"),
				i == 2 ? 5 : 3);
		ps_result r = local ? drv_local_ahead(ctx, ps_path(ctx, names[i]))
			: drv_remote_ahead(ctx, ps_path(ctx, names[i]));
		expect_zero(r, names[i]);
		assert_str(or_rev(ctx, names[i], "HEAD").hex, head.hex);
		assert_str(or_rev(ctx, names[i], "refs/remotes/origin/main").hex, tracking.hex);
	}
	assert_str(or_rev(ctx, "unborn", "HEAD").hex, "");
}

static void remote_no_upstream_detached_unborn(ps_ctx *ctx)
{
	no_count_cases(ctx, 0);
}

static void remote_fetches_upstreams_remote(ps_ctx *ctx)
{
	const char *out;
	fx_bare(ctx, "remote.git", 2);
	fx_clone(ctx, "remote.git", "local");
	/* a decoy with the same history, cloned before either moves */
	git_ok(ctx, ".", "clone", "-q", "--bare", "remote.git", "decoy.git");
	fx_rename_remote(ctx, "local", "origin", "upstream");
	if (or_git(ctx, &out, "local", "remote", "add", "origin", ps_remote_url(ctx, "decoy.git"), NULL) != 0)
		fail_msg("oracle: git remote add failed");
	git_fetch(ctx, "local", "origin");
	if (or_git(ctx, &out, "local", "config", "branch.main.remote", NULL) != 0)
		fail_msg("oracle: branch.main.remote is not set");
	assert_str(out, "upstream");

	fx_behind(ctx, "remote.git", 3);      /* the upstream's remote */
	for (int k = 0; k < 5; k++)           /* and the decoy called origin */
		fx_commit_bare(ctx, "decoy.git", "main", ps_fmt(ctx, "decoy-%d.txt", k), "decoy\n");
	ps_rev origin_before = or_rev(ctx, "local", "refs/remotes/origin/main");

	ps_result r = drv_remote_ahead(ctx, ps_path(ctx, "local"));
	expect_count(ctx, r, 3, "local", "HEAD..upstream/main");
	assert_str(or_rev(ctx, "local", "refs/remotes/upstream/main").hex, or_rev(ctx, "remote.git", "main").hex);
	/* origin was neither fetched nor counted */
	assert_str(or_rev(ctx, "local", "refs/remotes/origin/main").hex, origin_before.hex);
	assert_int_equal(or_count(ctx, "decoy.git", "main"), 7);
}

static void remote_changes_nothing(ps_ctx *ctx)
{
	const char *out;
	fx_pair(ctx, 3);
	fx_commit(ctx, "local", "staged.txt", "committed\n");
	fx_behind(ctx, "remote.git", 2);
	/* an unstaged edit, a staged edit and an untracked file */
	fx_write(ctx, "local/log.txt", "my unstaged edit\n");
	fx_write(ctx, "local/staged.txt", "my staged edit\n");
	git_ok(ctx, "local", "add", "staged.txt");
	fx_write(ctx, "local/untracked.txt", "mine\n");

	ps_rev head = or_rev(ctx, "local", "HEAD");
	char status[4096];
	snprintf(status, sizeof(status), "%s", or_status(ctx, "local"));
	char index[4096];
	if (or_git(ctx, &out, "local", "ls-files", "--stage", NULL) != 0)
		fail_msg("oracle: ls-files --stage");
	snprintf(index, sizeof(index), "%s", out);
	if (or_git(ctx, &out, "local", "symbolic-ref", "HEAD", NULL) != 0)
		fail_msg("oracle: symbolic-ref HEAD");
	hex symref = keep(out);
	int reflog = or_reflog(ctx, "local/.git", "refs/heads/main");
	int head_reflog = or_reflog(ctx, "local/.git", "HEAD");

	ps_result r = drv_remote_ahead(ctx, ps_path(ctx, "local"));
	/* the local commit makes the clone diverged 1/2 */
	expect_count(ctx, r, 2, "local", "HEAD..origin/main");

	assert_str(or_rev(ctx, "local", "HEAD").hex, head.hex);
	if (or_git(ctx, &out, "local", "symbolic-ref", "HEAD", NULL) != 0)
		fail_msg("oracle: symbolic-ref HEAD");
	assert_str(out, symref.s);
	if (or_git(ctx, &out, "local", "ls-files", "--stage", NULL) != 0)
		fail_msg("oracle: ls-files --stage");
	assert_str(out, index);
	assert_str(or_status(ctx, "local"), status);
	assert_str(or_file(ctx, "local/log.txt"), "my unstaged edit\n");
	assert_str(or_file(ctx, "local/staged.txt"), "my staged edit\n");
	assert_str(or_file(ctx, "local/untracked.txt"), "mine\n");
	assert_int_equal(or_exists(ctx, "local/remote-0.txt"), 0);
	assert_int_equal(or_reflog(ctx, "local/.git", "refs/heads/main"), reflog);
	assert_int_equal(or_reflog(ctx, "local/.git", "HEAD"), head_reflog);
}

static void remote_branch_deleted(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	/* a main-less remote still has a branch, so it is a real remote */
	fx_commit_bare(ctx, "remote.git", "other", "other.txt", "other\n");
	fx_behind(ctx, "remote.git", 3);
	git_fetch(ctx, "local", "origin");
	/* the stale tracking ref would give 3 */
	assert_int_equal(or_count(ctx, "local", "HEAD..origin/main"), 3);
	fx_delete_branch(ctx, "remote.git", "main");
	ps_result r = drv_remote_ahead(ctx, ps_path(ctx, "local"));
	expect_zero(r, "upstream branch deleted");
	/* pruned, as `git fetch --prune` does */
	assert_str(or_rev(ctx, "local", "refs/remotes/origin/main").hex, "");
	assert_str(or_rev(ctx, "local", "refs/remotes/origin/other").hex, or_rev(ctx, "remote.git", "other").hex);
}

/* P-REMOTE-12: what `git fetch` brings besides the upstream: a new branch,
 * the tags it follows, and later a branch that moves while the upstream
 * stands still (a tick must not take "upstream unchanged" for "nothing"). */
static void remote_fetch_brings_other_refs(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_remote_moves_others(ctx, "remote.git");
	fx_behind(ctx, "remote.git", 1);
	ps_result r = drv_remote_ahead(ctx, ps_path(ctx, "local"));
	assert_int_equal(r.count, 1);
	assert_str(or_rev(ctx, "local", "refs/remotes/origin/feature").hex, or_rev(ctx, "remote.git", "feature").hex);
	assert_str(or_rev(ctx, "local", "refs/tags/v1").hex, or_rev(ctx, "remote.git", "refs/tags/v1").hex);
	assert_str(or_rev(ctx, "local", "refs/tags/v1-lw").hex, or_rev(ctx, "remote.git", "refs/tags/v1-lw").hex);
	/* only feature moves now: the upstream is as last fetched */
	fx_commit_bare(ctx, "remote.git", "feature", "feature.txt", "feature moves on\n");
	r = drv_remote_ahead(ctx, ps_path(ctx, "local"));
	assert_int_equal(r.count, 1);
	assert_str(or_rev(ctx, "local", "refs/remotes/origin/feature").hex, or_rev(ctx, "remote.git", "feature").hex);
}

/* ---- P-LOCAL ------------------------------------------------------------------ */

static void local_in_sync(ps_ctx *ctx)
{
	fx_pair(ctx, 4);
	ps_result r = drv_local_ahead(ctx, ps_path(ctx, "local"));
	expect_count(ctx, r, 0, "local", "origin/main..HEAD");
}

static void local_ahead(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 3);
	ps_result r = drv_local_ahead(ctx, ps_path(ctx, "local"));
	expect_count(ctx, r, 3, "local", "origin/main..HEAD");
}

static void local_only_behind(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_behind(ctx, "remote.git", 4);
	git_fetch(ctx, "local", "origin");
	assert_int_equal(or_count(ctx, "local", "HEAD..origin/main"), 4);
	ps_result r = drv_local_ahead(ctx, ps_path(ctx, "local"));
	expect_count(ctx, r, 0, "local", "origin/main..HEAD");
}

static void local_diverged(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 2);
	fx_behind(ctx, "remote.git", 5);
	git_fetch(ctx, "local", "origin");
	ps_result r = drv_local_ahead(ctx, ps_path(ctx, "local"));
	expect_count(ctx, r, 2, "local", "origin/main..HEAD");
	assert_int_equal(or_count(ctx, "local", "HEAD..origin/main"), 5);
}

static void local_no_network(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 2);
	ps_rev tracking = or_rev(ctx, "local", "refs/remotes/origin/main");
	int tracking_log = or_reflog(ctx, "local/.git", "refs/remotes/origin/main");
	/* The remote receives our two commits behind the clone's back, plus one
	 * more: a fetch would move the tracking ref and make the count 0. */
	git_ok(ctx, "remote.git", "fetch", "-q", ps_path(ctx, "local"), "main:main");
	fx_behind(ctx, "remote.git", 1);
	assert_int_equal(or_count(ctx, "remote.git", ps_fmt(ctx, "%s..main", or_rev(ctx, "local", "HEAD").hex)), 1);

	ps_result r = drv_local_ahead(ctx, ps_path(ctx, "local"));
	expect_count(ctx, r, 2, "local", "origin/main..HEAD");
	assert_str(or_rev(ctx, "local", "refs/remotes/origin/main").hex, tracking.hex);
	assert_int_equal(or_reflog(ctx, "local/.git", "refs/remotes/origin/main"), tracking_log);

	/* and with the remote gone entirely */
	fx_rmrf(ctx, "remote.git");
	assert_int_equal(or_exists(ctx, "remote.git"), 0);
	r = drv_local_ahead(ctx, ps_path(ctx, "local"));
	expect_ok(r);
	if (r.class_known)
		assert_int_equal(r.klass, PUSHSEAL_OK);
	expect_count(ctx, r, 2, "local", "origin/main..HEAD");
	assert_str(or_rev(ctx, "local", "refs/remotes/origin/main").hex, tracking.hex);
}

static void local_no_upstream_detached_unborn(ps_ctx *ctx)
{
	no_count_cases(ctx, 1);
}

/*
 * Writing hundreds of commits as loose objects is slow (a file, a rename and
 * often a directory each).  A bulk writer collects them in memory (libgit2's
 * mempack backend) and writes them as one pack when flushed.  Lookups work
 * before the flush too.  Could move into the harness as fx_bulk_*.
 */
typedef struct bulk {
	git_odb *odb;
	git_odb_backend *mem;
	int pending;
} bulk;

#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>

static void bulk_open(bulk *b, git_repository *repo)
{
	memset(b, 0, sizeof(*b));
	GP(git_repository_odb(&b->odb, repo));
	GP(git_mempack_new(&b->mem));
	/* the highest priority: new objects land here, not as loose files */
	GP(git_odb_add_backend(b->odb, b->mem, 1000));
}

static void bulk_flush(bulk *b, git_repository *repo)
{
	git_buf buf = GIT_BUF_INIT;
	git_odb_writepack *wp = NULL;
	git_indexer_progress stats;
	if (!b->pending)
		return;
	memset(&stats, 0, sizeof(stats));
	GP(git_mempack_dump(&buf, repo, b->mem));
	GP(git_odb_write_pack(&wp, b->odb, NULL, NULL));
	GP(wp->append(wp, buf.ptr, buf.size, &stats));
	GP(wp->commit(wp, &stats));
	wp->free(wp);
	git_buf_dispose(&buf);
	GP(git_mempack_reset(b->mem));
	GP(git_odb_refresh(b->odb));
	b->pending = 0;
}

/* Flush, then let go (the odb keeps the empty backend until the repository goes). */
static void bulk_close(bulk *b, git_repository *repo)
{
	bulk_flush(b, repo);
	git_odb_free(b->odb);
	b->odb = NULL;
}

/* n commits on top of HEAD of the clone `rel`, all with HEAD's tree (so the
 * worktree stays clean), written by libgit2 in one go; moves the branch. */
static void backlog(ps_ctx *ctx, const char *rel, int n)
{
	git_repository *repo = open_repo(ctx, rel);
	git_reference *head = NULL, *branch = NULL, *moved = NULL;
	git_commit *parent = NULL;
	git_tree *tree = NULL;
	git_oid id;
	bulk b;
	bulk_open(&b, repo);
	GP(git_repository_head(&head, repo));
	GP(git_commit_lookup(&parent, repo, git_reference_target(head)));
	GP(git_commit_tree(&tree, parent));
	for (int i = 0; i < n; i++) {
		git_signature *sig = NULL;
		char msg[64];
		snprintf(msg, sizeof(msg), "backlog %d\n", i);
		GP(git_signature_new(&sig, "Pushseal Test", "test@pushseal.invalid",
			1700000000 + 60 * (git_time_t)(ctx->tick++), 0));
		GP(git_commit_create(&id, repo, NULL, sig, sig, NULL, msg, tree, 1,
			(const git_commit **)&parent));
		git_signature_free(sig);
		git_commit_free(parent);
		parent = NULL;
		GP(git_commit_lookup(&parent, repo, &id));
		b.pending++;
	}
	bulk_close(&b, repo);
	GP(git_reference_lookup(&branch, repo, git_reference_name(head)));
	GP(git_reference_set_target(&moved, branch, &id, "backlog"));
	git_reference_free(moved);
	git_reference_free(branch);
	git_commit_free(parent);
	git_tree_free(tree);
	git_reference_free(head);
	git_repository_free(repo);
}

static void local_backlog(ps_ctx *ctx)
{
	fx_pair(ctx, 3);
	backlog(ctx, "local", 500);
	assert_str(or_status(ctx, "local"), "");
	ps_result r = drv_local_ahead(ctx, ps_path(ctx, "local"));
	expect_count(ctx, r, 500, "local", "origin/main..HEAD");
	/* and remote-ahead on the same clone walks the 500 to find nothing */
	r = drv_remote_ahead(ctx, ps_path(ctx, "local"));
	expect_count(ctx, r, 0, "local", "HEAD..origin/main");
}

/* ---- random histories with merges and clock skew ---------------------------- */

/*
 * git's own `git rev-list --count A..B` is not exact on such histories:
 * its default walk stops by commit date (limit_list's SLOP), commit-graph or
 * not.  With a commit-graph, `--topo-order` walks by generation number and is
 * exact.  That is the oracle here, cross-checked against a walk over the
 * parent table the test itself generated (no git, no libgit2).
 */

#define SEED 30 /* with it, both git_graph_ahead_behind and plain `git rev-list --count` get some pairs wrong */

/* The shape of the random histories, in percent. */
#define P_RECENT 70   /* the first parent is one of the 3 newest visible nodes */
#define P_MERGE 40    /* a second parent */
#define P_ROOT 3      /* no parent at all */
#define P_BACKWARDS 50 /* dated before the first parent */
#define P_NEWEST 30   /* pairs are picked among the newest 30% of the nodes */

typedef struct rng {
	uint64_t s;
} rng;

static uint32_t rnd(rng *r)
{
	/* xorshift64*: the same sequence on every platform */
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return (uint32_t)((r->s * 0x2545F4914F6CDD1DULL) >> 32);
}

static int below(rng *r, int n)
{
	return (int)(rnd(r) % (uint32_t)n);
}

static void rng_seed(rng *r, const char *what)
{
	const char *env = getenv("PUSHSEAL_TEST_SEED");
	uint64_t seed = env && *env ? strtoull(env, NULL, 0) : SEED;
	r->s = seed ? seed : 1;
	print_message("%s: random seed 0x%" PRIx64 " (set PUSHSEAL_TEST_SEED to change it)\n", what, seed);
}

enum { SHARED = 0, MINE = 1, THEIRS = 2 };

typedef struct node {
	git_oid id;
	git_time_t when;
	int side;       /* SHARED (in both repositories), MINE (clone only), THEIRS (remote only) */
	int np, par[2]; /* parents, as indices into the pool */
} node;

#define POOL_MAX 320

typedef struct pool {
	node v[POOL_MAX];
	int n;
} pool;

typedef struct dag_stats {
	int commits, merges, roots, backwards;
} dag_stats;

static int visible(const node *n, int side)
{
	return n->side == SHARED || n->side == side;
}

/*
 * Add `count` random commits on `side` to the pool, written with libgit2 into
 * every repository in repos[0..nrepos) (the same bytes, so the same id).
 * Parents are visible nodes: a recent one most of the time (long chains), any
 * one otherwise, sometimes a second parent (merges) or none (unrelated
 * roots).  Some commits are dated up to skew_max seconds before their first
 * parent, the rest up to two hours after it (see P_* above).
 */
static void grow(git_repository **repos, int nrepos, pool *p, int side, rng *r, int count,
	const git_oid *tree_id, git_time_t skew_max, dag_stats *st)
{
	for (int k = 0; k < count && p->n < POOL_MAX; k++) {
		int cand[POOL_MAX], nc = 0;
		node *n = &p->v[p->n];
		git_signature *sig = NULL;
		char msg[64];

		for (int i = 0; i < p->n; i++)
			if (visible(&p->v[i], side))
				cand[nc++] = i;
		n->side = side;
		n->np = 0;
		if (nc > 0 && below(r, 100) >= P_ROOT) {
			n->par[n->np++] = below(r, 100) < P_RECENT ? cand[nc - 1 - below(r, nc < 3 ? nc : 3)]
				: cand[below(r, nc)];
			if (nc > 1 && below(r, 100) < P_MERGE) {
				int q = cand[below(r, nc)];
				if (q != n->par[0])
					n->par[n->np++] = q;
			}
		}
		n->when = n->np ? p->v[n->par[0]].when : 1700000000;
		if (skew_max > 0 && below(r, 100) < P_BACKWARDS) {
			n->when -= 1 + (git_time_t)(rnd(r) % (uint32_t)skew_max);
			st->backwards++;
		} else {
			n->when += 1 + below(r, 7200);
		}
		st->commits++;
		st->merges += n->np == 2;
		st->roots += n->np == 0;
		snprintf(msg, sizeof(msg), "node %d side %d\n", p->n, side);
		GP(git_signature_new(&sig, "Pushseal Test", "test@pushseal.invalid", n->when, 0));
		for (int i = 0; i < nrepos; i++) {
			git_commit *parents[2] = { NULL, NULL };
			git_tree *tree = NULL;
			git_oid got;
			GP(git_tree_lookup(&tree, repos[i], tree_id));
			for (int j = 0; j < n->np; j++)
				GP(git_commit_lookup(&parents[j], repos[i], &p->v[n->par[j]].id));
			GP(git_commit_create(&got, repos[i], NULL, sig, sig, NULL, msg, tree, (size_t)n->np,
				(const git_commit **)parents));
			if (i == 0)
				n->id = got;
			else if (!git_oid_equal(&got, &n->id))
				fail_msg("fixture: the same commit got two ids");
			for (int j = 0; j < n->np; j++)
				git_commit_free(parents[j]);
			git_tree_free(tree);
		}
		git_signature_free(sig);
		p->n++;
	}
}

/* refs/dag/<round>-<i> for every node visible on `side` that no visible node
 * has as a parent: then every such commit is reachable, for
 * `git commit-graph write --reachable`. */
static void tip_refs(ps_ctx *ctx, git_repository *repo, const pool *p, int side, int round)
{
	char parent[POOL_MAX] = { 0 };
	for (int i = 0; i < p->n; i++)
		if (visible(&p->v[i], side))
			for (int j = 0; j < p->v[i].np; j++)
				parent[p->v[i].par[j]] = 1;
	for (int i = 0; i < p->n; i++) {
		git_reference *ref = NULL;
		if (!visible(&p->v[i], side) || parent[i])
			continue;
		GP(git_reference_create(&ref, repo, ps_fmt(ctx, "refs/dag/%d-%d", round, i), &p->v[i].id, 1, NULL));
		git_reference_free(ref);
	}
}

/* The exact answer from the pool's own parent table: |anc(include) - anc(exclude)|. */
static void mark(const pool *p, int i, char *seen)
{
	int stack[POOL_MAX * 2], n = 0;
	if (seen[i])
		return;
	seen[i] = 1;
	stack[n++] = i;
	while (n > 0) {
		const node *c = &p->v[stack[--n]];
		for (int j = 0; j < c->np; j++)
			if (!seen[c->par[j]]) {
				seen[c->par[j]] = 1;
				stack[n++] = c->par[j];
			}
	}
}

static long table_count(const pool *p, int include, int exclude)
{
	char in[POOL_MAX] = { 0 }, out[POOL_MAX] = { 0 };
	long n = 0;
	mark(p, include, in);
	mark(p, exclude, out);
	for (int i = 0; i < p->n; i++)
		n += in[i] && !out[i];
	return n;
}

/* One of the newest P_NEWEST% of the n entries of idx (NULL: 0..n-1). */
static int pick(rng *r, const int *idx, int n)
{
	int i = n - 1 - below(r, n * P_NEWEST / 100 + 1);
	return idx ? idx[i] : i;
}

static void set_ref(git_repository *repo, const char *name, const git_oid *id)
{
	git_reference *ref = NULL;
	GP(git_reference_create(&ref, repo, name, id, 1, "test: move"));
	git_reference_free(ref);
}

/* The first commit of the clone, present in both repositories, and its tree:
 * every random commit reuses the tree, so the worktree stays clean. */
static node first_commit(git_repository *repo, git_oid *tree_id)
{
	node n;
	git_commit *c = NULL;
	memset(&n, 0, sizeof(n));
	GP(git_reference_name_to_id(&n.id, repo, "refs/heads/main"));
	GP(git_commit_lookup(&c, repo, &n.id));
	*tree_id = *git_commit_tree_id(c);
	n.when = git_commit_time(c);
	n.side = SHARED;
	git_commit_free(c);
	return n;
}

static void commit_graph(ps_ctx *ctx, const char *repo)
{
	git_ok(ctx, repo, "commit-graph", "write", "--reachable");
	assert_true(or_exists(ctx, ps_fmt(ctx, "%s/.git/objects/info/commit-graph", repo)) ||
		or_exists(ctx, ps_fmt(ctx, "%s/.git/objects/info/commit-graphs/commit-graph-chain", repo)));
}

/* `git [-c core.commitGraph=false] rev-list --count [--topo-order] range` in dir. */
static long git_count(ps_ctx *ctx, const char *dir, const char *range, int graph, int topo)
{
	const char *out;
	int rc;
	if (topo)
		rc = or_git(ctx, &out, dir, "-c", graph ? "core.commitGraph=true" : "core.commitGraph=false",
			"rev-list", "--count", "--topo-order", range, NULL);
	else
		rc = or_git(ctx, &out, dir, "-c", graph ? "core.commitGraph=true" : "core.commitGraph=false",
			"rev-list", "--count", range, NULL);
	if (rc != 0)
		fail_msg("oracle: git rev-list --count %s failed in %s", range, dir);
	return strtol(out, NULL, 10);
}

/* libgit2's own answer, for the report only: the plausible wrong implementation. */
static int graph_is_wrong(git_repository *repo, const git_oid *include, const git_oid *exclude, long want)
{
	size_t ahead = 0, behind = 0;
	if (git_graph_ahead_behind(&ahead, &behind, repo, include, exclude) < 0)
		return 1;
	return (long)ahead != want;
}

/* Why a count differs from the set difference, when it equals what the
 * date-limited `git rev-list --count A..B` prints. */
static const char *skew_note(long counted, long plain, long want)
{
	if (counted != want && counted == plain)
		return " -- this is the overcount of `git rev-list --count A..B` on skewed dates: count the set "
			"difference, as `git status` and `git rev-list --left-right --count A...B` do";
	return "";
}

/* Even rounds skew dates by up to 5 days, odd rounds by up to 10 minutes. */
#define BIG_SKEW (5 * 86400)
#define SMALL_SKEW 600
#define LROUNDS 4
#define LPAIRS 9

static void local_random_histories(ps_ctx *ctx)
{
	rng r;
	dag_stats st = { 0 };
	int pairs = 0, lg2_wrong = 0, plain_wrong = 0, nograph = 0, nonzero = 0;
	git_oid tree_id;
	fx_pair(ctx, 1);
	rng_seed(&r, "P-LOCAL-8");
	git_repository *repo = open_repo(ctx, "local");
	node c0 = first_commit(repo, &tree_id);
	bulk b;
	bulk_open(&b, repo);
	for (int round = 0; round < LROUNDS; round++) {
		static pool p;
		int up[LPAIRS], head[LPAIRS];
		git_time_t skew = round % 2 == 0 ? BIG_SKEW : SMALL_SKEW;
		p.n = 1;
		p.v[0] = c0;
		grow(&repo, 1, &p, SHARED, &r, 20 + below(&r, 61), &tree_id, skew, &st);
		b.pending = 1;
		bulk_flush(&b, repo);
		tip_refs(ctx, repo, &p, SHARED, round);
		for (int k = 0; k < LPAIRS; k++) {
			up[k] = pick(&r, NULL, p.n);
			head[k] = pick(&r, NULL, p.n);
		}
		/* Small skews, before this round's commits are in a graph: plain
		 * `git rev-list --count` (no commit-graph) must agree too, wherever
		 * its date-limited walk is right, which it almost always is here;
		 * where it is not (other seeds), the exact table decides. */
		if (skew == SMALL_SKEW) {
			for (int k = 0; k < LPAIRS; k++) {
				set_ref(repo, "refs/remotes/origin/main", &p.v[up[k]].id);
				set_ref(repo, "refs/heads/main", &p.v[head[k]].id);
				ps_result res = drv_local_ahead(ctx, ps_path(ctx, "local"));
				long git = git_count(ctx, "local", "origin/main..HEAD", 0, 0);
				long want = table_count(&p, head[k], up[k]);
				if (res.count != want || (git == want && res.count != git))
					fail_msg("round %d pair %d (skew up to %ds, no commit-graph): counted %ld; the set "
						"difference (what git status reports as ahead) is %ld; git rev-list --count "
						"origin/main..HEAD says %ld; HEAD %s upstream %s%s", round, k, SMALL_SKEW, res.count,
						want, git, or_rev(ctx, "local", "HEAD").hex, or_rev(ctx, "local", "origin/main").hex,
						skew_note(res.count, git, want));
				if (git == want)
					nograph++;
				else
					print_message("note: round %d pair %d: git without a commit-graph says %ld, "
						"exactly it is %ld (git's date-limited walk)\n", round, k, git, want);
			}
		}
		commit_graph(ctx, "local");
		for (int k = 0; k < LPAIRS; k++) {
			set_ref(repo, "refs/remotes/origin/main", &p.v[up[k]].id);
			set_ref(repo, "refs/heads/main", &p.v[head[k]].id);
			ps_result res = drv_local_ahead(ctx, ps_path(ctx, "local"));
			long git = git_count(ctx, "local", "origin/main..HEAD", 1, 1);
			long want = table_count(&p, head[k], up[k]);
			if (res.count != want || git != want)
				fail_msg("round %d pair %d (skew up to %lds): counted %ld; the set difference (what git "
					"status reports as ahead) is %ld; git rev-list --count --topo-order origin/main..HEAD "
					"(commit-graph) says %ld; HEAD %s upstream %s%s", round, k, (long)skew, res.count, want,
					git, or_rev(ctx, "local", "HEAD").hex, or_rev(ctx, "local", "origin/main").hex,
					skew_note(res.count, git_count(ctx, "local", "origin/main..HEAD", 1, 0), want));
			plain_wrong += git_count(ctx, "local", "origin/main..HEAD", 1, 0) != want;
			lg2_wrong += graph_is_wrong(repo, &p.v[head[k]].id, &p.v[up[k]].id, want);
			nonzero += want > 0;
			pairs++;
		}
	}
	bulk_close(&b, repo);
	git_repository_free(repo);
	print_message("P-LOCAL-8: %d pairs exact (%d non-zero; %d more equal to git without a commit-graph) over %d commits, "
		"%d merges, %d roots, %d dated before their parent; wrong on them: git_graph_ahead_behind %d, "
		"plain git rev-list --count %d\n", pairs, nonzero, nograph, st.commits, st.merges, st.roots,
		st.backwards, lg2_wrong, plain_wrong);
	assert_true(pairs >= 30);
	assert_true(nonzero > 0 && st.merges > 0 && st.backwards > 0);
}

#define RROUNDS 4
#define RPAIRS 8

static void remote_random_histories(ps_ctx *ctx)
{
	rng r;
	dag_stats st = { 0 };
	int pairs = 0, lg2_wrong = 0, nonzero = 0;
	git_oid tree_id;
	fx_pair(ctx, 1);
	rng_seed(&r, "P-REMOTE-10");
	git_repository *both[2] = { open_repo(ctx, "local"), open_repo(ctx, "remote.git") };
	node c0 = first_commit(both[0], &tree_id);
	bulk b[2];
	bulk_open(&b[0], both[0]);
	bulk_open(&b[1], both[1]);
	for (int round = 0; round < RROUNDS; round++) {
		static pool p;
		int mine[POOL_MAX], theirs[POOL_MAX], nm = 0, nt = 0;
		git_time_t skew = round % 2 == 0 ? BIG_SKEW : SMALL_SKEW;
		p.n = 1;
		p.v[0] = c0;
		/* shared history in both repositories, then each side's own, mixed */
		grow(both, 2, &p, SHARED, &r, 10 + below(&r, 31), &tree_id, skew, &st);
		for (int part = 0; part < 3; part++) {
			grow(&both[0], 1, &p, MINE, &r, 2 + below(&r, 8), &tree_id, skew, &st);
			grow(&both[1], 1, &p, THEIRS, &r, 2 + below(&r, 8), &tree_id, skew, &st);
		}
		for (int i = 0; i < 2; i++) {
			b[i].pending = 1;
			bulk_flush(&b[i], both[i]);
		}
		tip_refs(ctx, both[0], &p, MINE, round);
		for (int i = 0; i < p.n; i++) {
			if (visible(&p.v[i], MINE))
				mine[nm++] = i;
			if (visible(&p.v[i], THEIRS))
				theirs[nt++] = i;
		}
		for (int k = 0; k < RPAIRS; k++) {
			int up = pick(&r, theirs, nt), head = pick(&r, mine, nm);
			set_ref(both[1], "refs/heads/main", &p.v[up].id);
			set_ref(both[0], "refs/heads/main", &p.v[head].id);
			ps_result res = drv_remote_ahead(ctx, ps_path(ctx, "local"));
			/* the fetch brought the remote's tip */
			git_oid tracking;
			GP(git_reference_name_to_id(&tracking, both[0], "refs/remotes/origin/main"));
			if (!git_oid_equal(&tracking, &p.v[up].id))
				fail_msg("round %d pair %d: tracking ref is %s after the fetch, the remote has %s",
					round, k, git_oid_tostr_s(&tracking), or_rev(ctx, "remote.git", "main").hex);
			git_ok(ctx, "local", "commit-graph", "write", "--reachable");
			long git = git_count(ctx, "local", "HEAD..origin/main", 1, 1);
			long want = table_count(&p, up, head);
			if (res.count != want || git != want)
				fail_msg("round %d pair %d (skew up to %lds): counted %ld; the set difference (what git "
					"status reports as behind) is %ld; git rev-list --count --topo-order HEAD..origin/main "
					"(commit-graph) says %ld; HEAD %s upstream %s%s", round, k, (long)skew, res.count, want,
					git, or_rev(ctx, "local", "HEAD").hex, git_oid_tostr_s(&p.v[up].id),
					skew_note(res.count, git_count(ctx, "local", "HEAD..origin/main", 1, 0), want));
			lg2_wrong += graph_is_wrong(both[0], &p.v[up].id, &p.v[head].id, want);
			nonzero += want > 0;
			pairs++;
		}
	}
	for (int i = 0; i < 2; i++) {
		bulk_close(&b[i], both[i]);
		git_repository_free(both[i]);
	}
	print_message("P-REMOTE-10: %d pairs exact (%d non-zero) over %d commits, %d merges, %d roots, "
		"%d dated before their parent; git_graph_ahead_behind got %d of them wrong\n",
		pairs, nonzero, st.commits, st.merges, st.roots, st.backwards, lg2_wrong);
	assert_true(pairs >= 30);
	assert_true(nonzero > 0 && st.merges > 0 && st.backwards > 0);
}

/* ---- P-REMOTE-11: a remote whose HEAD dangles ------------------------------ */

static void remote_head_dangles(ps_ctx *ctx, int other_branch)
{
	fx_other_head_pair(ctx, other_branch);
	ps_rev want = fx_commit_bare(ctx, "remote.git", "feature/x", "x.txt", "x 3\n");
	ps_result r = drv_remote_ahead(ctx, ps_path(ctx, "local"));
	if (r.count != 1)
		fail_msg("remote-ahead printed %ld; the remote's feature/x is 1 commit ahead (its HEAD %s)", r.count,
			other_branch ? "names another branch, main" : "dangles: main was never pushed");
	assert_str(or_rev(ctx, "local", "refs/remotes/origin/feature/x").hex, want.hex);
	/* every ref the fetch wrote points at an object it downloaded */
	if (system(ps_fmt(ctx, "cd '%s/local' && git cat-file -e %s^{commit} 2>/dev/null", ctx->root, want.hex)) != 0)
		fail_msg("refs/remotes/origin/feature/x points at %s, which the clone does not have", want.hex);
	or_fsck_clean(ctx, "local");
	assert_str(or_rev(ctx, "local", "HEAD").hex, or_rev(ctx, "remote.git", "feature/x~1").hex);
}

static void remote_head_dangling(ps_ctx *ctx) { remote_head_dangles(ctx, 0); }
static void remote_head_other(ps_ctx *ctx) { remote_head_dangles(ctx, 1); }
/*
 * P-LOCAL-9: whatever commit-graph the clone carries -- none, a split chain
 * of one to three layers, one that lacks the newest commits, a single file,
 * a damaged file -- counts stay exact.  Dates only move forward here, so
 * plain `git rev-list --left-right --count` is exact too and is the oracle,
 * with and without its own use of the graph, beside the parent table.
 */
#define CG_PAIRS 6

static void cg_check(ps_ctx *ctx, git_repository *repo, const pool *p, rng *r, const char *state,
	int git_oracle, int *checked)
{
	for (int k = 0; k < CG_PAIRS; k++) {
		int a = pick(r, NULL, p->n), b = pick(r, NULL, p->n);
		if (k == 0)
			a = 0; /* the root against a tip: the longest walk */
		for (int dir = 0; dir < 2; dir++) {
			int head = dir ? b : a, up = dir ? a : b;
			set_ref(repo, "refs/remotes/origin/main", &p->v[up].id);
			set_ref(repo, "refs/heads/main", &p->v[head].id);
			ps_result res = drv_local_ahead(ctx, ps_path(ctx, "local"));
			long want = table_count(p, head, up);
			if (res.count != want)
				fail_msg("%s, pair %d: counted %ld, the parent table says %ld; HEAD %s upstream %s (%s)",
					state, k, res.count, want, or_rev(ctx, "local", "HEAD").hex,
					or_rev(ctx, "local", "origin/main").hex, res.line);
			for (int graph = 0; git_oracle && graph < 2; graph++) {
				const char *out;
				long behind = -1, ahead = -1;
				if (or_git(ctx, &out, "local", "-c", graph ? "core.commitGraph=true" : "core.commitGraph=false",
					"rev-list", "--left-right", "--count", "origin/main...HEAD", NULL) != 0 ||
				    sscanf(out, "%ld %ld", &behind, &ahead) != 2)
					fail_msg("oracle: git rev-list --left-right --count failed (%s)", state);
				if (ahead != want || behind != table_count(p, up, head))
					fail_msg("%s, pair %d: git rev-list --left-right --count (commitGraph=%d) says "
						"%ld %ld, the parent table %ld %ld", state, k, graph, behind, ahead,
						table_count(p, up, head), want);
			}
			(*checked)++;
		}
	}
}

static void local_commit_graph_kinds(ps_ctx *ctx)
{
	static pool p;
	rng r;
	dag_stats st = { 0 };
	git_oid tree_id;
	int checked = 0, round = 0;
	const char *graph = "local/.git/objects/info/commit-graph";
	const char *chain = "local/.git/objects/info/commit-graphs/commit-graph-chain";
	fx_pair(ctx, 1);
	rng_seed(&r, "P-LOCAL-9");
	git_repository *repo = open_repo(ctx, "local");
	bulk b;
	bulk_open(&b, repo);
	p.n = 1;
	p.v[0] = first_commit(repo, &tree_id);
#define CG_GROW() do { \
		grow(&repo, 1, &p, SHARED, &r, 50, &tree_id, 0, &st); \
		b.pending = 1; \
		bulk_flush(&b, repo); \
		tip_refs(ctx, repo, &p, SHARED, round++); \
	} while (0)
#define CG_SPLIT() git_ok(ctx, "local", "commit-graph", "write", "--reachable", "--split=no-merge")

	CG_GROW();
	assert_false(or_exists(ctx, graph) || or_exists(ctx, chain));
	cg_check(ctx, repo, &p, &r, "no commit-graph", 1, &checked);
	CG_SPLIT();
	cg_check(ctx, repo, &p, &r, "a chain of one layer", 1, &checked);
	CG_GROW();
	cg_check(ctx, repo, &p, &r, "a chain of one layer lacking the newest 50 commits", 1, &checked);
	CG_SPLIT();
	CG_GROW();
	CG_SPLIT();
	assert_false(or_exists(ctx, graph));
	{
		const char *c = or_file(ctx, chain);
		int lines = 0;
		for (; c && *c; c++)
			lines += *c == '\n';
		assert_int_equal(lines, 3);
	}
	cg_check(ctx, repo, &p, &r, "a chain of three layers", 1, &checked);
	CG_GROW();
	git_ok(ctx, "local", "commit-graph", "write", "--reachable");
	assert_true(or_exists(ctx, graph));
	cg_check(ctx, repo, &p, &r, "a single file", 1, &checked);
	/* damaged: cut short in its chunks.  git warns and walks without it;
	 * only the parent table judges here */
	{
		const char *path = ps_path(ctx, graph);
		struct stat sb;
		assert_int_equal(stat(path, &sb), 0);
		assert_int_equal(chmod(path, 0644), 0);
		assert_int_equal(truncate(path, sb.st_size / 2), 0);
	}
	cg_check(ctx, repo, &p, &r, "a damaged single file", 0, &checked);
#undef CG_GROW
#undef CG_SPLIT
	bulk_close(&b, repo);
	git_repository_free(repo);
	print_message("P-LOCAL-9: %d counts exact over %d commits (%d merges, %d roots) in 6 commit-graph states\n",
		checked, st.commits, st.merges, st.roots);
}

static const struct CMUnitTest tests[] = {
	CLAUSE("P-REMOTE-1", "a clone in sync with its upstream counts 0", remote_in_sync),
	CLAUSE("P-REMOTE-2", "a clone 4 unfetched commits behind fetches, counts 4 and moves its tracking ref", remote_behind_fetches),
	CLAUSE("P-REMOTE-3", "a clone only ahead counts 0, not its own commits", remote_only_ahead),
	CLAUSE("P-REMOTE-4", "a diverged clone (2 ahead, 5 behind) counts the 5 upstream commits", remote_diverged),
	SERVER_CLAUSE("P-REMOTE-5", "when the fetch fails the count is against the last-fetched tracking ref", remote_fetch_fails_stale_count),
	CLAUSE("P-REMOTE-6", "no upstream, a detached HEAD or an unborn branch count 0 although origin/main is ahead", remote_no_upstream_detached_unborn),
	CLAUSE("P-REMOTE-7", "the branch's remote 'upstream' is fetched and counted, not the remote called origin", remote_fetches_upstreams_remote),
	CLAUSE("P-REMOTE-8", "counting changes neither branch, HEAD, index, worktree, untracked files nor reflogs", remote_changes_nothing),
	CLAUSE("P-REMOTE-9", "a deleted upstream counts 0 and its stale tracking ref is pruned", remote_branch_deleted),
	CLAUSE("P-REMOTE-12", "the fetch brings a new branch and followed tags, and a moved branch beside a still upstream", remote_fetch_brings_other_refs),
	CLAUSE("P-REMOTE-10", "random histories with merges and skewed dates count the exact set difference", remote_random_histories),
	SERVER_CLAUSE("P-REMOTE-11", "a remote whose HEAD dangles counts 1 against feature/x, with its objects fetched", remote_head_dangling),
	SERVER_CLAUSE("P-REMOTE-11", "a remote whose HEAD names main counts the upstream feature/x exactly", remote_head_other),
	CLAUSE("P-LOCAL-1", "a clone in sync with its upstream counts 0", local_in_sync),
	CLAUSE("P-LOCAL-2", "a clone 3 commits ahead counts 3", local_ahead),
	CLAUSE("P-LOCAL-3", "a clone only behind its fetched upstream counts 0", local_only_behind),
	CLAUSE("P-LOCAL-4", "a diverged clone (2 ahead, 5 behind) counts its own 2", local_diverged),
	CLAUSE("P-LOCAL-5", "local-ahead never fetches and still counts with the remote deleted", local_no_network),
	CLAUSE("P-LOCAL-6", "no upstream, a detached HEAD or an unborn branch count 0", local_no_upstream_detached_unborn),
	CLAUSE("P-LOCAL-7", "a backlog of 500 local commits is counted exactly", local_backlog),
	CLAUSE("P-LOCAL-8", "random histories with merges and skewed dates count the exact set difference", local_random_histories),
	CLAUSE("P-LOCAL-9", "counts equal git's with no commit-graph or with split, stale, single or damaged graphs", local_commit_graph_kinds),
};

int main(void)
{
	ps_harness_init();
	return PS_RUN("P-COUNT", tests);
}
