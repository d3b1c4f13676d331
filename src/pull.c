/*
 * pushseal_pull_ff: `git pull --ff-only`, in-process.
 *
 * Order matters for "nothing lost": lock the branch ref first, then check
 * out SAFE (which refuses before writing anything if a file is in the way),
 * and only then move the ref.  Checking out first and finding the ref locked
 * afterwards would leave a new worktree under an old HEAD.
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>

#define PULL_DEFAULT_MS 30000

typedef struct conflict_note {
	char path[200];
	int count;
} conflict_note;

static int note_conflict(git_checkout_notify_t why, const char *path,
	const git_diff_file *baseline, const git_diff_file *target,
	const git_diff_file *workdir, void *payload)
{
	conflict_note *note = payload;
	(void)why; (void)baseline; (void)target; (void)workdir;
	if (note->count++ == 0)
		snprintf(note->path, sizeof(note->path), "%s", path);
	return 0;
}

/* Fast-forward b->ref to `to` with the worktree, under the ref's lock. */
static int fast_forward(git_repository *repo, const ps_branch *b, const git_oid *to,
	pushseal_error *err)
{
	git_transaction *tx = NULL;
	git_commit *target = NULL;
	git_signature *sig = NULL;
	git_checkout_options co;
	conflict_note note = { "", 0 };
	git_oid now;
	int rc;

	if (git_transaction_new(&tx, repo) < 0)
		return ps_error_git(err, PUSHSEAL_E_INTERNAL, "cannot start ref transaction");
	if (git_transaction_lock_ref(tx, b->ref) < 0) {
		rc = ps_error_git(err, PUSHSEAL_E_LOCKED, "cannot lock %s", b->ref);
		goto done;
	}
	/* under the lock: the branch must still be where we measured it */
	if (git_reference_name_to_id(&now, repo, b->ref) < 0 || !git_oid_equal(&now, &b->head)) {
		rc = ps_error_set(err, PUSHSEAL_E_LOCKED, "%s moved while pulling; try again", b->ref);
		goto done;
	}
	/* checkout writes files before it notices a held index lock */
	if ((rc = ps_repo_check_writable(repo, err)) < 0)
		goto done;
	if (git_commit_lookup(&target, repo, to) < 0) {
		rc = ps_error_git(err, PUSHSEAL_E_INTERNAL, "cannot read upstream commit");
		goto done;
	}
	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	co.checkout_strategy = GIT_CHECKOUT_SAFE | GIT_CHECKOUT_DONT_OVERWRITE_IGNORED;
	co.notify_flags = GIT_CHECKOUT_NOTIFY_CONFLICT;
	co.notify_cb = note_conflict;
	co.notify_payload = &note;
	rc = git_checkout_tree(repo, (const git_object *)target, &co);
	if (rc == GIT_ECONFLICT || (rc < 0 && note.count > 0)) {
		rc = ps_error_set(err, PUSHSEAL_E_WOULD_OVERWRITE,
			"pull would overwrite local changes in %d file%s (first: %s); nothing changed",
			note.count, note.count == 1 ? "" : "s", note.path);
		goto done;
	}
	if (rc == GIT_ELOCKED) {
		rc = ps_error_git(err, PUSHSEAL_E_LOCKED, "checkout");
		goto done;
	}
	if (rc < 0) {
		rc = ps_error_git(err, PUSHSEAL_E_INTERNAL, "checkout failed");
		goto done;
	}
	if (ps_signature(&sig, repo) < 0 ||
	    git_transaction_set_target(tx, b->ref, to, sig, "pull --ff-only: Fast-forward") < 0 ||
	    git_transaction_commit(tx) < 0) {
		rc = ps_error_git(err, PUSHSEAL_E_INTERNAL, "worktree updated but %s could not be moved", b->ref);
		goto done;
	}
	rc = 0;
done:
	git_signature_free(sig);
	git_commit_free(target);
	git_transaction_free(tx);
	return rc;
}

int pushseal_pull_ff(pushseal_change *out, const char *repo_path,
	const pushseal_options *opts, pushseal_error *err)
{
	git_repository *repo = NULL;
	ps_branch b;
	git_oid base;
	char gitdir[4096];
	int rc;

	ps_error_clear(err);
	if (out)
		*out = PUSHSEAL_UP_TO_DATE;
	if ((rc = ps_repo_open(&repo, repo_path, err)) < 0)
		return rc;
	if ((rc = ps_repo_check_writable(repo, err)) < 0 ||
	    (rc = ps_branch_resolve(&b, repo, err)) < 0)
		goto done;
	snprintf(gitdir, sizeof(gitdir), "%s", git_repository_path(repo));
	/* the child opens its own handle; ours would not see the new packs */
	git_repository_free(repo);
	repo = NULL;
	rc = ps_fetch(repo_path, gitdir, b.remote,
		ps_deadline_ms(opts ? opts->pull_deadline_ms : 0, PULL_DEFAULT_MS), err);
	if (rc < 0)
		goto done;
	if ((rc = ps_repo_open(&repo, repo_path, err)) < 0)
		goto done;
	ps_branch_reload_tracking(&b, repo, err);
	if (!b.has_tracking) {
		rc = ps_error_set(err, PUSHSEAL_E_NOUPSTREAM,
			"upstream %s of branch %s does not exist on remote '%s'", b.merge, b.name, b.remote);
		goto done;
	}
	if (git_oid_equal(&b.head, &b.tracking_oid))
		goto done;
	if (git_merge_base(&base, repo, &b.head, &b.tracking_oid) < 0) {
		rc = ps_error_set(err, PUSHSEAL_E_DIVERGED,
			"branch %s and %s share no history; not a fast-forward", b.name, b.tracking);
		goto done;
	}
	if (git_oid_equal(&base, &b.tracking_oid))
		goto done; /* local is ahead: git says "Already up to date." */
	if (!git_oid_equal(&base, &b.head)) {
		rc = ps_error_set(err, PUSHSEAL_E_DIVERGED,
			"branch %s has diverged from %s; not a fast-forward", b.name, b.tracking);
		goto done;
	}
	if ((rc = fast_forward(repo, &b, &b.tracking_oid, err)) == 0 && out)
		*out = PUSHSEAL_MOVED;
done:
	git_repository_free(repo);
	return rc;
}
