/* Fetching a remote with prune, in a child process under a deadline. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

/* Never prompt: an unattended timer must fail fast, not wait for a person. */
static int no_credentials(git_credential **out, const char *url, const char *user,
	unsigned int allowed, void *payload)
{
	(void)out; (void)url; (void)user; (void)allowed; (void)payload;
	git_error_set_str(GIT_ERROR_NET, "authentication required, and no credentials are configured");
	return GIT_EAUTH;
}

void ps_remote_callbacks_init(git_remote_callbacks *cbs)
{
	git_remote_init_callbacks(cbs, GIT_REMOTE_CALLBACKS_VERSION);
	cbs->credentials = no_credentials;
}

typedef struct fetch_job {
	const char *repo_path;
	const char *remote;
} fetch_job;

static int fetch_in_child(void *out, void *payload, pushseal_error *err)
{
	fetch_job *job = payload;
	git_repository *repo = NULL;
	git_remote *remote = NULL;
	git_fetch_options fo;
	int rc;
	(void)out;

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
	fetch_job job = { repo_path, remote };
	const char *watch[] = { gitdir, NULL };
	return ps_deadline_run(NULL, 0, fetch_in_child, &job, deadline_ms, "fetch", watch, err);
}
