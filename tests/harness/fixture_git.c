/* Fixtures over libgit2 (and git plumbing where libgit2 has no call): fetch,
 * stage, branch, and many commits as one pack.  Declared in harness.h. */
#define _GNU_SOURCE
#include "harness.h"

#include <git2/sys/mempack.h>

#include <string.h>
#include <unistd.h>

/* `git fetch <remote>` with libgit2: the tracking ref learns the remote tip
 * before the test breaks something, so a pull that trusts a stale tracking
 * ref would visibly move. */
void fx_fetch(ps_ctx *ctx, const char *repo_rel, const char *remote_name)
{
	git_repository *repo = fx_open(ctx, repo_rel);
	git_remote *remote = NULL;
	git_fetch_options fo;
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	ps_transport_callbacks(&fo.callbacks); /* a server transport's key and host key */
	GIT_PASS(git_remote_lookup(&remote, repo, remote_name));
	GIT_PASS(git_remote_fetch(remote, NULL, &fo, NULL));
	git_remote_free(remote);
	git_repository_free(repo);
}

/* `git add <file>` with libgit2. */
void fx_stage(ps_ctx *ctx, const char *repo_rel, const char *file)
{
	git_repository *repo = fx_open(ctx, repo_rel);
	git_index *index = NULL;
	GIT_PASS(git_repository_index(&index, repo));
	GIT_PASS(git_index_add_bypath(index, file));
	GIT_PASS(git_index_write(index));
	git_index_free(index);
	git_repository_free(repo);
}

/* `git rm [--cached] <file>` with libgit2. */
void fx_unstage_delete(ps_ctx *ctx, const char *repo_rel, const char *file, int keep_file)
{
	git_repository *repo = fx_open(ctx, repo_rel);
	git_index *index = NULL;
	GIT_PASS(git_repository_index(&index, repo));
	GIT_PASS(git_index_remove_bypath(index, file));
	GIT_PASS(git_index_write(index));
	git_index_free(index);
	git_repository_free(repo);
	if (!keep_file && unlink(ps_path(ctx, ps_fmt(ctx, "%s/%s", repo_rel, file))) != 0)
		fail_msg("fixture: cannot remove %s/%s", repo_rel, file);
}

/* `git branch <name> <rev>` with libgit2. */
void fx_branch_at(ps_ctx *ctx, const char *repo_rel, const char *name, const char *rev)
{
	git_repository *repo = fx_open(ctx, repo_rel);
	git_object *obj = NULL;
	git_reference *ref = NULL;
	GIT_PASS(git_revparse_single(&obj, repo, rev));
	GIT_PASS(git_reference_create(&ref, repo, ps_fmt(ctx, "refs/heads/%s", name), git_object_id(obj), 0,
		"branch: created"));
	git_reference_free(ref);
	git_object_free(obj);
	git_repository_free(repo);
}

/* n commits on main of the bare repo `bare`, commit k setting many.txt to
 * "upstream commit k\n", written as one pack: hundreds of loose objects cost
 * seconds on a slow filesystem, one pack costs milliseconds. */
void fx_behind_packed(ps_ctx *ctx, const char *bare, int n)
{
	git_repository *repo = fx_open(ctx, bare);
	git_odb *odb = NULL;
	git_odb_backend *mempack = NULL;
	git_odb_writepack *wp = NULL;
	git_indexer_progress stats;
	git_buf pack = GIT_BUF_INIT;
	git_reference *ref = NULL;
	git_oid tip;
	GIT_PASS(git_reference_name_to_id(&tip, repo, "refs/heads/main"));
	GIT_PASS(git_repository_odb(&odb, repo));
	GIT_PASS(git_mempack_new(&mempack));
	GIT_PASS(git_odb_add_backend(odb, mempack, 999));
	for (int k = 0; k < n; k++) {
		git_commit *parent = NULL;
		git_tree *base = NULL, *tree = NULL;
		git_treebuilder *tb = NULL;
		git_signature *sig = NULL;
		git_oid blob, tree_id;
		const char *text = ps_fmt(ctx, "upstream commit %d\n", k);
		GIT_PASS(git_commit_lookup(&parent, repo, &tip));
		GIT_PASS(git_commit_tree(&base, parent));
		GIT_PASS(git_blob_create_from_buffer(&blob, repo, text, strlen(text)));
		GIT_PASS(git_treebuilder_new(&tb, repo, base));
		GIT_PASS(git_treebuilder_insert(NULL, tb, "many.txt", &blob, GIT_FILEMODE_BLOB));
		GIT_PASS(git_treebuilder_write(&tree_id, tb));
		GIT_PASS(git_tree_lookup(&tree, repo, &tree_id));
		GIT_PASS(git_signature_new(&sig, "Pushseal Test", "test@pushseal.invalid",
			1700000000 + 60 * (git_time_t)ctx->tick++, 0));
		GIT_PASS(git_commit_create(&tip, repo, NULL, sig, sig, NULL, "upstream commit\n", tree,
			1, (const git_commit **)&parent));
		git_signature_free(sig);
		git_tree_free(tree);
		git_treebuilder_free(tb);
		git_tree_free(base);
		git_commit_free(parent);
	}
	GIT_PASS(git_mempack_dump(&pack, repo, mempack));
	GIT_PASS(git_odb_write_pack(&wp, odb, NULL, NULL));
	memset(&stats, 0, sizeof(stats));
	GIT_PASS(wp->append(wp, pack.ptr, pack.size, &stats));
	GIT_PASS(wp->commit(wp, &stats));
	wp->free(wp);
	GIT_PASS(git_mempack_reset(mempack));
	GIT_PASS(git_reference_create(&ref, repo, "refs/heads/main", &tip, 1,
		"fixture: packed commits"));
	git_reference_free(ref);
	git_buf_dispose(&pack);
	git_odb_free(odb);
	git_repository_free(repo);
}

/* A bare remote `remote` with n commits and its clone `local` (fx_pair, any names). */
void fx_pair_named(ps_ctx *ctx, const char *remote, const char *local, int n)
{
	fx_bare(ctx, remote, n);
	fx_clone(ctx, remote, local);
}

/* A commit on top of `parent` in `repo` (same tree), stored in refs/heads/<branch>
 * without touching HEAD, index or worktree. */
ps_rev fx_commit_on_branch(ps_ctx *ctx, const char *repo, const char *branch,
	const char *parent, const char *msg)
{
	const char *out;
	ps_rev id;
	if (or_git(ctx, &out, repo, "commit-tree", ps_fmt(ctx, "%s^{tree}", parent), "-p", parent, "-m", msg, NULL) != 0)
		fail_msg("fixture: git commit-tree failed in %s", repo);
	snprintf(id.hex, sizeof(id.hex), "%s", out);
	if (or_git(ctx, NULL, repo, "update-ref", ps_fmt(ctx, "refs/heads/%s", branch), id.hex, NULL) != 0)
		fail_msg("fixture: git update-ref failed in %s", repo);
	return id;
}
