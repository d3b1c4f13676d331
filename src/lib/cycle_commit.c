/* Committing what a writeback left uncommitted: `git add -A && git commit`,
 * but never an empty commit. */
#include "internal.h"

#include <string.h>

/* A sparse checkout marks the paths outside its cone skip-worktree: they
 * are absent from the worktree on purpose, and `git add -A` leaves them
 * alone.  libgit2 1.5's add_all/update_all do not, and would stage every
 * one of them as deleted: skip them here (> 0 skips a path). */
static int not_skip_worktree(const char *path, const char *matched, void *payload)
{
	git_index *index = payload;
	const git_index_entry *e = git_index_get_bypath(index, path, 0);
	(void)matched;
	return e && (e->flags_extended & GIT_INDEX_ENTRY_SKIP_WORKTREE) ? 1 : 0;
}

int ps_commit_leftovers(int *committed, git_repository *repo, const char *message, pushseal_error *err)
{
	git_index *index = NULL;
	git_commit *parent = NULL;
	git_tree *tree = NULL;
	git_signature *sig = NULL;
	git_oid tree_id, commit_id;
	ps_branch b;
	int rc;

	*committed = 0;
	if ((rc = ps_repo_check_writable(repo, err)) < 0 || (rc = ps_branch_resolve(&b, repo, err)) < 0)
		goto done;
	if (git_repository_index(&index, repo) < 0) {
		rc = ps_error_git(err, PUSHSEAL_E_INTERNAL, "cannot read the index");
		goto done;
	}
	/* What cannot be staged (an untracked nested repository, a path git
	 * refuses) is the writeback's doing, and it stays uncommitted on every
	 * tick: a failure of class writeback, never silent (X-REPORT-2). */
	if (git_index_add_all(index, NULL, GIT_INDEX_ADD_DEFAULT, not_skip_worktree, index) < 0 ||
	    git_index_update_all(index, NULL, not_skip_worktree, index) < 0) {
		rc = ps_error_git(err, PUSHSEAL_E_WRITEBACK,
			"the writeback left changes that cannot be staged, so nothing it left was committed");
		goto done;
	}
	if (git_index_write_tree(&tree_id, index) < 0 ||
	    git_commit_lookup(&parent, repo, &b.head) < 0) {
		rc = ps_error_git(err, PUSHSEAL_E_INTERNAL, "cannot stage the writeback's changes");
		goto done;
	}
	if (git_oid_equal(&tree_id, git_commit_tree_id(parent))) {
		rc = 0; /* nothing to commit; the index is left as it was on disk */
		goto done;
	}
	if (git_index_write(index) < 0 || git_tree_lookup(&tree, repo, &tree_id) < 0 ||
	    ps_signature(&sig, repo) < 0 ||
	    git_commit_create(&commit_id, repo, "HEAD", sig, sig, NULL, message, tree, 1,
		(const git_commit **)&parent) < 0) {
		rc = ps_error_git(err, PUSHSEAL_E_INTERNAL, "cannot commit the writeback's changes");
		goto done;
	}
	*committed = 1;
	rc = 0;
done:
	git_signature_free(sig);
	git_tree_free(tree);
	git_commit_free(parent);
	git_index_free(index);
	return rc;
}
