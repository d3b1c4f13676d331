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
	git_repository *repo;     /* the parent's handle, which the child inherits */
	git_repository *remote_repo; /* ...and, for a local remote, the remote's */
	const char *repo_path;    /* to open them again in a child that started libgit2 afresh */
	const char *remote;
	char refspec[2100];
	const char *dst;          /* the remote ref we update */
	const char *branch_ref;   /* refs/heads/<b>, the local side */
	const char *remote_dir;   /* non-empty: a remote on a local path (net_push_local.c) */
	char pack_dir[4600];      /* ...and the parent's private directory for its pack */
	char url[4096];           /* the push URL, resolved as git resolves it */
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

/* The child's half: upload the pack and hear the remote's verdict.  It
 * takes no lock and updates no ref of ours (no update_tips): the parent
 * moves the tracking ref once the child has exited cleanly. */
static int push_in_child(ps_buf *out, void *payload, pushseal_error *err)
{
	push_job *job = payload;
	git_repository *own = NULL, *repo = job->repo;
	git_remote *remote = NULL;
	git_push_options po;
	push_seen seen;
	char *specs[] = { job->refspec };
	git_strarray arr = { specs, 1 };
	int rc;

	if (job->remote_dir[0])
		return ps_push_local_objects(out, job->repo, job->remote_repo, job->repo_path, job->branch_ref,
			job->remote_dir, job->dst, job->pack_dir, err);
	memset(&seen, 0, sizeof(seen));
	seen.job = job;
	if (ps_deadline_child_fresh()) {
		if ((rc = ps_repo_open(&own, job->repo_path, err)) < 0)
			return rc;
		ps_repo_pin_config(own);
		repo = own;
	}
	git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
	ps_remote_callbacks_init(&po.callbacks);
	if (git_remote_lookup(&remote, repo, job->remote) < 0 || ps_remote_set_url(remote, job->url, 1) < 0) {
		rc = ps_error_set(err, PUSHSEAL_E_NOUPSTREAM, "remote '%s' is not configured", job->remote);
		goto done;
	}
	po.callbacks.push_negotiation = on_negotiation;
	po.callbacks.push_update_reference = on_update_reference;
	po.callbacks.payload = &seen;
	rc = git_remote_upload(remote, &arr, &po);
	if (seen.rejected[0])
		rc = ps_error_set(err, PUSHSEAL_E_REJECTED, "remote '%s' rejected %s%s%s", job->remote, seen.rejected,
			*ps_server_words() ? "; remote: " : "", ps_server_words());
	else if (rc == GIT_ENONFASTFORWARD)
		rc = ps_error_git(err, PUSHSEAL_E_DIVERGED,
			"push to '%s' rejected: not a fast-forward (pull first)", job->remote);
	else if (rc < 0)
		rc = ps_error_net(err, rc, "push to '%s' failed", job->remote);
	else
		ps_buf_printf(out, "%s", seen.up_to_date ? "up-to-date" : "moved");
done:
	if (remote)
		git_remote_disconnect(remote);
	git_remote_free(remote);
	git_repository_free(own);
	return rc;
}

/* libgit2's local transport never runs the remote's hooks, so a push to a
 * path would bypass a pre-receive or update hook that `git push` obeys.
 * Never report success past a remote's policy: refuse instead. */
static int refuse_local_hooks(git_repository *r, const char *remote, pushseal_error *err)
{
	static const char *const blocking[] = { "pre-receive", "update", "proc-receive" };
	git_config *cfg = NULL;
	git_buf hooks_path = GIT_BUF_INIT;
	char dir[4200], path[4400];
	int rc = 0;
	/* a run of ours killed between moving a ref here and dropping its lock
	 * left the lock: clear it on every later tick, push or not */
	ps_journal_recover(git_repository_commondir(r));
	/* the hooks git would run: core.hooksPath (relative to where hooks
	 * run: the worktree's top, or the git directory of a bare remote) */
	if (git_repository_config_snapshot(&cfg, r) == 0 &&
	    git_config_get_path(&hooks_path, cfg, "core.hooksPath") == 0 && hooks_path.ptr[0]) {
		const char *base = git_repository_workdir(r) ? git_repository_workdir(r) : git_repository_path(r);
		if (hooks_path.ptr[0] == '/')
			snprintf(dir, sizeof(dir), "%s", hooks_path.ptr);
		else
			snprintf(dir, sizeof(dir), "%s%s", base, hooks_path.ptr);
	} else {
		snprintf(dir, sizeof(dir), "%shooks", git_repository_commondir(r));
	}
	for (size_t h = 0; h < sizeof(blocking) / sizeof(blocking[0]) && rc == 0; h++) {
		snprintf(path, sizeof(path), "%s/%s", dir, blocking[h]);
		if (access(path, X_OK) == 0)
			rc = ps_error_set(err, PUSHSEAL_E_REJECTED,
				"remote '%s' is a local path with a %s hook, which libgit2's local transport "
				"cannot run; serve it over git://, ssh or https, or remove the hook",
				remote, blocking[h]);
	}
	git_buf_dispose(&hooks_path);
	git_config_free(cfg);
	return rc;
}

/* push.default=simple's name rule, and the URL git would push to (into
 * url), with local_dir the remote's path when it is on this machine. */
static int push_target(char *url, size_t n, char *local_dir, size_t ln, git_repository *repo, const ps_branch *b,
	pushseal_error *err)
{
	local_dir[0] = '\0';
	if (strncmp(b->merge, "refs/heads/", 11) != 0 || strcmp(b->merge + 11, b->name) != 0)
		return ps_error_set(err, PUSHSEAL_E_NOUPSTREAM,
			"upstream %s does not match branch %s; push.default=simple refuses", b->merge, b->name);
	if (ps_remote_resolve_url(url, n, local_dir, ln, repo, b->remote, 1) < 0)
		return ps_error_set(err, PUSHSEAL_E_NOUPSTREAM, "remote '%s' has no URL", b->remote);
	return 0;
}

int ps_push_check(git_repository *repo, const ps_branch *b, pushseal_error *err)
{
	git_repository *r = NULL;
	char url[4096], remote_dir[4096];
	int rc = push_target(url, sizeof(url), remote_dir, sizeof(remote_dir), repo, b, err);
	if (rc < 0 || !remote_dir[0])
		return rc;
	if (ps_remote_repo_open(&r, remote_dir) < 0)
		return 0; /* not a repository: the push itself says so */
	rc = refuse_local_hooks(r, b->remote, err);
	git_repository_free(r);
	return rc;
}

/* git updates refs/remotes/<r>/<b> after a successful push. */
static int update_tracking(git_repository *repo, ps_branch *b, pushseal_error *err)
{
	ps_journal journal;
	int rc;
	ps_branch_reload_tracking(b, repo, err);
	if (b->has_tracking && git_oid_equal(&b->tracking_oid, &b->head))
		return 0;
	if (ps_journal_begin(&journal, git_repository_commondir(repo), NULL) < 0)
		return ps_error_set(err, PUSHSEAL_E_INTERNAL, "pushed, but the crash journal cannot be written in %s",
			git_repository_commondir(repo));
	rc = ps_ref_set(repo, &journal, b->tracking, NULL, 0, &b->head, "update by push", err);
	ps_journal_end(&journal);
	return rc;
}

/* One try of a push into a local remote: the child packs into our private
 * directory in the remote, we publish the pack, then lock and move the ref. */
static int push_local_attempt(int *moved, push_job *job, ps_buf *said, git_repository *repo, const ps_branch *b,
	int deadline_ms, pushseal_error *err)
{
	ps_journal journal;
	int rc;
	memset(&journal, 0, sizeof(journal));
	if ((rc = ps_push_local_pack_dir(job->pack_dir, sizeof(job->pack_dir), &journal, job->remote_repo, err)) == 0) {
		ps_repo_drop_packs(repo);
		rc = ps_deadline_run(said, push_in_child, job, deadline_ms, 0, "push", err);
		ps_test_hook("PACK_WRITTEN"); /* test-only: a death with the pack not yet published */
		ps_push_local_pack_publish(job->remote_repo, job->pack_dir, rc == 0);
	}
	ps_journal_end(&journal);
	if (rc < 0)
		return rc;
	return ps_push_local_update(moved, repo, &b->head, job->remote_repo, job->remote_dir, b->merge,
		said->ptr ? said->ptr : "", err);
}

int ps_push(pushseal_change *out, git_repository *repo, const char *repo_path, ps_branch *b,
	const pushseal_options *opts, pushseal_error *err)
{
	push_job job;
	char remote_dir[4096];
	ps_buf said = { 0 };
	int moved = PUSHSEAL_UP_TO_DATE, rc;

	ps_error_clear(err);
	if (out)
		*out = PUSHSEAL_UP_TO_DATE;
	memset(&job, 0, sizeof(job));
	/* the URL git would push to: a local path however it is written (a
	 * relative path, file://, file://localhost, or through insteadOf)
	 * gets the race-safe local push */
	if ((rc = push_target(job.url, sizeof(job.url), remote_dir, sizeof(remote_dir), repo, b, err)) < 0)
		return rc;
	job.repo = repo;
	job.repo_path = repo_path;
	job.remote = b->remote;
	job.dst = b->merge;
	job.branch_ref = b->ref;
	job.remote_dir = remote_dir;
	snprintf(job.refspec, sizeof(job.refspec), "%s:%s", b->ref, b->merge);
	/* a local remote is opened once for the whole push: its hooks, our pack
	 * directory in it, the child's copy (inherited), the locked ref update */
	if (remote_dir[0] && ps_remote_repo_open(&job.remote_repo, remote_dir) < 0) {
		rc = ps_error_git(err, PUSHSEAL_E_UNREACHABLE, "cannot open the remote repository %s", remote_dir);
		goto done;
	}
	if (job.remote_repo && (rc = refuse_local_hooks(job.remote_repo, b->remote, err)) < 0)
		goto done;

	/* a local remote whose ref moves between the child's copy and our lock
	 * is tried again from its new value, a few times */
	for (int attempt = 0;; attempt++) {
		if (!remote_dir[0]) {
			ps_repo_drop_packs(repo);
			rc = ps_deadline_run(&said, push_in_child, &job,
				ps_deadline_ms(opts ? opts->push_deadline_ms : 0, PUSH_DEFAULT_MS), ps_url_may_tls(job.url),
				"push", err);
			if (rc == 0)
				moved = said.ptr && !strcmp(said.ptr, "moved") ? PUSHSEAL_MOVED : PUSHSEAL_UP_TO_DATE;
			break;
		}
		rc = push_local_attempt(&moved, &job, &said, repo, b,
			ps_deadline_ms(opts ? opts->push_deadline_ms : 0, PUSH_DEFAULT_MS), err);
		if (rc != PS_PUSH_AGAIN)
			break;
		if (attempt == 2) {
			rc = ps_error_set(err, PUSHSEAL_E_LOCKED, "%s in %s keeps moving during the push; try again",
				b->merge, remote_dir);
			break;
		}
	}
	if (rc < 0)
		goto done;
	ps_test_hook("PUSH_TRACKING"); /* test-only: a death before the tracking ref moves */
	if ((rc = update_tracking(repo, b, err)) < 0)
		goto done;
	if (out)
		*out = moved;
done:
	ps_buf_free(&said);
	git_repository_free(job.remote_repo);
	return rc;
}

int pushseal_push_ff(pushseal_change *out, const char *repo_path,
	const pushseal_options *opts, pushseal_error *err)
{
	git_repository *repo = NULL;
	ps_branch b;
	int rc;

	if (out)
		*out = PUSHSEAL_UP_TO_DATE;
	if ((rc = ps_entry_open(&repo, &b, repo_path, opts, 0, err)) < 0)
		return rc;
	rc = ps_push(out, repo, repo_path, &b, opts, err);
	git_repository_free(repo);
	return rc;
}
