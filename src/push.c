/*
 * pushseal_push_ff: plain `git push` (push.default=simple), never forced.
 *
 * libgit2 1.5 reports a remote's refusal of a ref (a hook, a locked ref)
 * only through the push_update_reference callback; git_remote_push still
 * returns 0.  Missing that is how silent push failures happen, so every
 * non-NULL status there is a failure here.
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PUSH_DEFAULT_MS 30000

typedef struct push_job {
	const char *repo_path;
	const char *remote;
	char refspec[2100];
	const char *dst;          /* the remote ref we update */
	const char *branch_ref;   /* refs/heads/<b>, the local side */
	const char *remote_dir;   /* non-empty: a remote on a local path (push_local.c) */
	int fresh;                /* the child must re-initialise libgit2 (TLS, ssh) */
} push_job;

typedef struct push_seen {
	const push_job *job;
	int negotiated;           /* our ref appeared in the negotiation */
	int up_to_date;           /* ...with the remote already at our commit */
	int reported;             /* the remote reported on our ref */
	char rejected[200];       /* the remote's reason, when it refused */
} push_seen;

static int on_negotiation(const git_push_update **updates, size_t len, void *payload)
{
	push_seen *seen = payload;
	ps_test_hook("AFTER_LOCK"); /* test-only: the race window of a network push */
	for (size_t i = 0; i < len; i++) {
		if (strcmp(updates[i]->dst_refname, seen->job->dst) != 0)
			continue;
		seen->negotiated = 1;
		seen->up_to_date = git_oid_equal(&updates[i]->src, &updates[i]->dst);
	}
	return 0;
}

static int on_update_reference(const char *refname, const char *status, void *payload)
{
	push_seen *seen = payload;
	if (strcmp(refname, seen->job->dst) == 0)
		seen->reported = 1;
	if (status && !seen->rejected[0])
		snprintf(seen->rejected, sizeof(seen->rejected), "%s: %s", refname, status);
	return 0;
}

static int push_in_child(void *out, void *payload, pushseal_error *err)
{
	push_job *job = payload;
	git_repository *repo = NULL;
	git_remote *remote = NULL;
	git_push_options po;
	push_seen seen;
	char *specs[] = { job->refspec };
	git_strarray arr = { specs, 1 };
	int rc;

	if (job->remote_dir[0])
		return ps_push_local(out, job->repo_path, job->branch_ref, job->remote_dir, job->dst, err);
	if (job->fresh)
		ps_child_fresh_libgit2();
	memset(&seen, 0, sizeof(seen));
	seen.job = job;
	if ((rc = ps_repo_open(&repo, job->repo_path, err)) < 0)
		return rc;
	if (git_remote_lookup(&remote, repo, job->remote) < 0) {
		rc = ps_error_set(err, PUSHSEAL_E_NOUPSTREAM, "remote '%s' is not configured", job->remote);
		goto done;
	}
	git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
	ps_remote_callbacks_init(&po.callbacks);
	po.callbacks.push_negotiation = on_negotiation;
	po.callbacks.push_update_reference = on_update_reference;
	po.callbacks.payload = &seen;
	{
		/* the push updates the tracking ref (update_tips) under its lock */
		ps_journal journal;
		memset(&journal, 0, sizeof(journal));
		ps_journal_begin_caches(&journal, git_repository_path(repo), job->remote);
		rc = git_remote_push(remote, &arr, &po);
		ps_journal_end(&journal);
	}
	if (seen.rejected[0])
		rc = ps_error_set(err, PUSHSEAL_E_REJECTED, "remote '%s' rejected %s", job->remote, seen.rejected);
	else if (rc == GIT_ENONFASTFORWARD)
		rc = ps_error_git(err, PUSHSEAL_E_DIVERGED,
			"push to '%s' rejected: not a fast-forward (pull first)", job->remote);
	else if (rc < 0)
		rc = ps_error_git(err, ps_class_of_net_error(rc), "push to '%s' failed", job->remote);
	else
		*(int *)out = seen.up_to_date ? PUSHSEAL_UP_TO_DATE : PUSHSEAL_MOVED;
done:
	git_remote_free(remote);
	git_repository_free(repo);
	return rc;
}

/* For a remote on a local path, the directory whose lock files a killed
 * push might leave behind. */
static void local_remote_dir(char *dst, size_t n, const char *url)
{
	dst[0] = '\0';
	if (strncmp(url, "file://", 7) == 0)
		url += 7;
	if (*url && strstr(url, "://") == NULL && access(url, F_OK) == 0)
		snprintf(dst, n, "%s", url);
}

/* libgit2's local transport never runs the remote's hooks, so a push to a
 * path would bypass a pre-receive or update hook that `git push` obeys.
 * Never report success past a remote's policy: refuse instead. */
static int refuse_local_hooks(const char *remote_dir, const char *remote, pushseal_error *err)
{
	static const char *const blocking[] = { "pre-receive", "update", "proc-receive" };
	static const char *const dirs[] = { "hooks", ".git/hooks" };
	char path[4200];
	for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++)
		for (size_t h = 0; h < sizeof(blocking) / sizeof(blocking[0]); h++) {
			snprintf(path, sizeof(path), "%s/%s/%s", remote_dir, dirs[d], blocking[h]);
			if (access(path, X_OK) == 0)
				return ps_error_set(err, PUSHSEAL_E_REJECTED,
					"remote '%s' is a local path with a %s hook, which libgit2's local transport "
					"cannot run; serve it over git://, ssh or https, or remove the hook",
					remote, blocking[h]);
		}
	return 0;
}

/* git updates refs/remotes/<r>/<b> after a successful push; make sure. */
static int update_tracking(git_repository *repo, ps_branch *b, pushseal_error *err)
{
	git_reference *ref = NULL;
	ps_journal journal;
	int rc = 0;
	ps_branch_reload_tracking(b, repo, err);
	if (b->has_tracking && git_oid_equal(&b->tracking_oid, &b->head))
		return 0;
	memset(&journal, 0, sizeof(journal));
	ps_journal_begin_caches(&journal, git_repository_path(repo), b->remote);
	if (git_reference_create(&ref, repo, b->tracking, &b->head, 1, "update by push") < 0)
		rc = ps_error_git(err, PUSHSEAL_E_INTERNAL, "pushed, but %s could not be updated", b->tracking);
	git_reference_free(ref);
	ps_journal_end(&journal);
	return rc;
}

int pushseal_push_ff(pushseal_change *out, const char *repo_path,
	const pushseal_options *opts, pushseal_error *err)
{
	git_repository *repo = NULL;
	push_job job;
	ps_branch b;
	char gitdir[4096], remote_dir[4096];
	const char *watch[] = { gitdir, remote_dir, NULL };
	int moved = PUSHSEAL_UP_TO_DATE, rc;

	ps_error_clear(err);
	if (out)
		*out = PUSHSEAL_UP_TO_DATE;
	if ((rc = ps_repo_open(&repo, repo_path, err)) < 0)
		return rc;
	if ((rc = ps_branch_resolve(&b, repo, err)) < 0)
		goto done;
	if (strncmp(b.merge, "refs/heads/", 11) != 0 || strcmp(b.merge + 11, b.name) != 0) {
		rc = ps_error_set(err, PUSHSEAL_E_NOUPSTREAM,
			"upstream %s does not match branch %s; push.default=simple refuses", b.merge, b.name);
		goto done;
	}
	memset(&job, 0, sizeof(job));
	job.repo_path = repo_path;
	job.remote = b.remote;
	job.dst = b.merge;
	job.branch_ref = b.ref;
	job.remote_dir = remote_dir;
	snprintf(job.refspec, sizeof(job.refspec), "%s:%s", b.ref, b.merge);
	snprintf(gitdir, sizeof(gitdir), "%s", git_repository_path(repo));
	{
		char url[4096] = "";
		ps_config_remote_url(url, sizeof(url), repo, b.remote, 1);
		local_remote_dir(remote_dir, sizeof(remote_dir), url);
		job.fresh = 1; /* whatever the raw url says: pushurl, insteadOf (SEC-TLS-1) */
	}
	if (!remote_dir[0])
		watch[1] = NULL;
	else if ((rc = refuse_local_hooks(remote_dir, b.remote, err)) < 0)
		goto done;

	rc = ps_deadline_run(&moved, sizeof(moved), push_in_child, &job,
		ps_deadline_ms(opts ? opts->push_deadline_ms : 0, PUSH_DEFAULT_MS), "push", watch, err);
	if (rc < 0)
		goto done;
	if ((rc = update_tracking(repo, &b, err)) < 0)
		goto done;
	if (out)
		*out = moved;
done:
	git_repository_free(repo);
	return rc;
}
