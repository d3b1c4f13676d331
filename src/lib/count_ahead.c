/* The two counting primitives: how far the remote is ahead, and how far we are. */
#include "internal.h"

#include <stdio.h>

#define FETCH_DEFAULT_MS 15000

static int no_tracking(const ps_branch *b, pushseal_error *err)
{
	return ps_error_set(err, PUSHSEAL_E_NOUPSTREAM,
		"no tracking ref %s for branch %s (never fetched, or the upstream is gone)", b->tracking, b->name);
}

int ps_count_local(size_t *out, git_repository *repo, const ps_branch *b, pushseal_error *err)
{
	int rc;
	*out = 0;
	if (!b->has_tracking)
		return no_tracking(b, err);
	if ((rc = ps_count_between(out, repo, &b->head, &b->tracking_oid, err)) < 0)
		*out = 0;
	return rc;
}

int ps_count_remote(size_t *out, git_repository *repo, const char *repo_path, ps_branch *b,
	const pushseal_options *opts, pushseal_error *err)
{
	pushseal_error fetch_err;
	int fetch_rc, rc;

	ps_error_clear(&fetch_err);
	*out = 0;
	fetch_rc = ps_fetch(repo, repo_path, b->remote,
		ps_deadline_ms(opts ? opts->fetch_deadline_ms : 0, FETCH_DEFAULT_MS), &fetch_err);
	/* the fetch may have moved (or pruned) the tracking ref: read it again */
	ps_branch_reload_tracking(b, repo, err);
	if (!b->has_tracking)
		rc = fetch_rc < 0 ? fetch_rc : no_tracking(b, err);
	else
		rc = ps_count_between(out, repo, &b->tracking_oid, &b->head, err);
	if (rc < 0)
		*out = 0;
	else if (fetch_rc < 0)
		rc = fetch_rc; /* counted, but against the last-fetched ref */
	if (fetch_rc < 0 && err && (rc == fetch_rc))
		*err = fetch_err;
	return rc;
}

int pushseal_count_local_ahead(size_t *out, const char *repo_path, pushseal_error *err)
{
	git_repository *repo = NULL;
	ps_branch b;
	int rc;

	*out = 0;
	if ((rc = ps_entry_open(&repo, &b, repo_path, NULL, 0, err)) != 0)
		return rc;
	rc = ps_count_local(out, repo, &b, err);
	git_repository_free(repo);
	return rc;
}

int pushseal_count_remote_ahead(size_t *out, const char *repo_path,
	const pushseal_options *opts, pushseal_error *err)
{
	git_repository *repo = NULL;
	ps_branch b;
	int rc;

	*out = 0;
	if ((rc = ps_entry_open(&repo, &b, repo_path, opts, 0, err)) != 0)
		return rc;
	rc = ps_count_remote(out, repo, repo_path, &b, opts, err);
	git_repository_free(repo);
	return rc;
}
