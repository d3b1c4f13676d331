/*
 * pushseal_pull_ff: `git pull --ff-only`, in-process: fetch with prune, then
 * fast-forward under the branch's lock (safety_branch_move.c).
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>

#define PULL_DEFAULT_MS 30000

int pushseal_pull_ff(pushseal_change *out, const char *repo_path,
	const pushseal_options *opts, pushseal_error *err)
{
	git_repository *repo = NULL;
	ps_branch b;
	int rc;

	if (out)
		*out = PUSHSEAL_UP_TO_DATE;
	if ((rc = ps_entry_open(&repo, &b, repo_path, opts, 1, err)) != 0)
		return rc;
	rc = ps_fetch(repo, repo_path, b.remote,
		ps_deadline_ms(opts ? opts->pull_deadline_ms : 0, PULL_DEFAULT_MS), err);
	if (rc < 0)
		goto done;
	rc = ps_pull_fetched(out, repo, err);
done:
	git_repository_free(repo);
	return rc;
}

int ps_pull_fetched(pushseal_change *out, git_repository *repo, pushseal_error *err)
{
	ps_branch b;
	int rc, ff = 0, ahead = 0;

	if (out)
		*out = PUSHSEAL_UP_TO_DATE;
	/* a fetch takes time, and git may run meanwhile: check again and read
	 * the branch and its tracking ref as they are now, not as before the
	 * fetch (the config is the handle's snapshot: no file is re-read) */
	if ((rc = ps_repo_check_writable(repo, err)) < 0 || (rc = ps_branch_resolve(&b, repo, err)) < 0)
		return rc;
	if (!b.has_tracking) {
		rc = ps_error_set(err, PUSHSEAL_E_NOUPSTREAM,
			"upstream %s of branch %s does not exist on remote '%s'", b.merge, b.name, b.remote);
		goto done;
	}
	if (git_oid_equal(&b.head, &b.tracking_oid))
		goto done;
	/* fast-forward when HEAD is an ancestor of the tracking ref; already up
	 * to date when the tracking ref is an ancestor of HEAD (git: "Already
	 * up to date."); diverged otherwise.  Shallow clones too (ancestry_walk.c). */
	if (ps_descendant_of(&ff, repo, &b.tracking_oid, &b.head) < 0 ||
	    (!ff && ps_descendant_of(&ahead, repo, &b.head, &b.tracking_oid) < 0)) {
		rc = ps_error_git(err, PUSHSEAL_E_INTERNAL, "cannot compare %s with %s", b.name, b.tracking);
		goto done;
	}
	if (ahead)
		goto done;
	if (!ff) {
		rc = ps_error_set(err, PUSHSEAL_E_DIVERGED,
			"branch %s has diverged from %s; not a fast-forward", b.name, b.tracking);
		goto done;
	}
	if ((rc = ps_branch_move(repo, &b, &b.tracking_oid, "pull --ff-only: Fast-forward", err)) == 0 && out)
		*out = PUSHSEAL_MOVED;
done:
	return rc;
}
