/* Fetching a remote with prune, in a child process under a deadline. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

/* Never prompt: an unattended timer must fail fast, not wait for a person.
 * credentials.c offers what is configured (ssh agent, key file, token,
 * opt-in `git credential fill`), each at most once per operation, then fails
 * with class auth; ssh host keys must be in known_hosts. */
void ps_remote_callbacks_init(git_remote_callbacks *cbs)
{
	git_remote_init_callbacks(cbs, GIT_REMOTE_CALLBACKS_VERSION);
	ps_credentials_reset();
	cbs->credentials = ps_credentials_cb;
	cbs->certificate_check = ps_certificate_check_cb;
	cbs->remote_ready = ps_remote_ready_cb;
}

typedef struct fetch_job {
	const char *repo_path;
	const char *remote;
	int fresh;                /* the URL speaks TLS or ssh: re-seed libgit2 in the child */
} fetch_job;

static int fetch_in_child(void *out, void *payload, pushseal_error *err)
{
	fetch_job *job = payload;
	git_repository *repo = NULL;
	git_remote *remote = NULL;
	git_fetch_options fo;
	int rc;
	(void)out;

	if (job->fresh)
		ps_child_fresh_libgit2();
	if ((rc = ps_repo_open(&repo, job->repo_path, err)) < 0)
		return rc;
	if (git_remote_lookup(&remote, repo, job->remote) < 0) {
		rc = ps_error_set(err, PUSHSEAL_E_NOUPSTREAM, "remote '%s' is not configured", job->remote);
		goto done;
	}
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	ps_remote_callbacks_init(&fo.callbacks);
	fo.prune = GIT_FETCH_PRUNE;
	{
		/* if this process is killed mid-fetch, a later run clears its locks */
		ps_journal journal;
		char tracking[600];
		memset(&journal, 0, sizeof(journal));
		ps_journal_recover(git_repository_path(repo), NULL);
		if (ps_journal_begin(&journal, git_repository_path(repo), NULL) == 0) {
			snprintf(tracking, sizeof(tracking), "refs/remotes/%s", job->remote);
			ps_journal_maybe(&journal, "FETCH_HEAD.lock");
			ps_journal_maybe(&journal, tracking);
		}
		rc = git_remote_fetch(remote, NULL, &fo, NULL);
		ps_journal_end(&journal);
	}
	if (rc < 0)
		rc = ps_error_git(err, ps_class_of_net_error(rc), "fetch from '%s' failed", job->remote);
done:
	git_remote_free(remote);
	git_repository_free(repo);
	return rc;
}

int ps_fetch(const char *repo_path, const char *gitdir, const char *remote,
	int deadline_ms, pushseal_error *err)
{
	/* every child that may open a connection gets fresh TLS state: the raw
	 * url says nothing once insteadOf has rewritten it (SEC-TLS-1) */
	fetch_job job = { repo_path, remote, 1 };
	const char *watch[] = { gitdir, NULL };
	return ps_deadline_run(NULL, 0, fetch_in_child, &job, deadline_ms, "fetch", watch, err);
}
