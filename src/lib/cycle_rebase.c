/*
 * The opt-in divergence policy: when the remote moved between our commit and
 * our push, the repo diverges and every tick would stop at C-16.  With
 * PUSHSEAL_DIVERGE_REBASE, pushseal replays the local-only commits onto the
 * upstream, but only when every one of them is the writer's own (author
 * email), none is a merge, and each applies cleanly.  A person's commit is
 * never rebased.  The old commits stay reachable from the reflog.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REBASE 10000

static int writer_identity(char *dst, size_t n, git_repository *repo, const char *given, pushseal_error *err)
{
	git_config *cfg = NULL;
	git_buf buf = GIT_BUF_INIT;
	int rc = 0;
	if (given && *given) {
		snprintf(dst, n, "%s", given);
		return 0;
	}
	if (git_repository_config_snapshot(&cfg, repo) < 0 ||
	    git_config_get_string_buf(&buf, cfg, "user.email") < 0 || buf.size == 0)
		rc = ps_error_set(err, PUSHSEAL_E_INVALID,
			"the rebase policy needs the writer's identity: set user.email or pass a writer email");
	else
		snprintf(dst, n, "%s", buf.ptr);
	git_buf_dispose(&buf);
	git_config_free(cfg);
	return rc;
}

/* The local-only commits, oldest first, if all are the writer's plain commits. */
static int writer_commits(git_oid **out, size_t *count, git_repository *repo, const ps_branch *b,
	const char *writer, pushseal_error *err)
{
	git_oid base, id = b->head;
	git_oid *list = NULL;
	size_t n = 0;
	int rc = 0;

	if (git_merge_base(&base, repo, &b->head, &b->tracking_oid) < 0)
		return ps_error_set(err, PUSHSEAL_E_DIVERGED, "%s and %s share no history; not rebasing", b->name, b->tracking);
	if (!(list = malloc(MAX_REBASE * sizeof(*list))))
		return ps_error_set(err, PUSHSEAL_E_INTERNAL, "out of memory");
	while (rc == 0 && !git_oid_equal(&id, &base)) {
		git_commit *c = NULL;
		const git_signature *author;
		if (n == MAX_REBASE) {
			rc = ps_error_set(err, PUSHSEAL_E_DIVERGED, "more than %d local commits; not rebasing", MAX_REBASE);
			break;
		}
		if (git_commit_lookup(&c, repo, &id) < 0) {
			rc = ps_error_git(err, PUSHSEAL_E_INTERNAL, "cannot read a local commit");
			break;
		}
		author = git_commit_author(c);
		if (git_commit_parentcount(c) != 1)
			rc = ps_error_set(err, PUSHSEAL_E_DIVERGED, "local commit %.12s is a merge; not rebasing",
				git_oid_tostr_s(&id));
		else if (strcmp(author->email, writer) != 0)
			rc = ps_error_set(err, PUSHSEAL_E_DIVERGED,
				"local commit %.12s is by <%s>, not the writer <%s>; a person's commit is never rebased",
				git_oid_tostr_s(&id), author->email, writer);
		else {
			list[n++] = id;
			git_oid_cpy(&id, git_commit_parent_id(c, 0));
		}
		git_commit_free(c);
	}
	if (rc < 0) {
		free(list);
		return rc;
	}
	for (size_t i = 0; i < n / 2; i++) {
		git_oid t = list[i];
		list[i] = list[n - 1 - i];
		list[n - 1 - i] = t;
	}
	*out = list;
	*count = n;
	return 0;
}

/* Replay `commits` onto b's tracking ref in memory; *tip is the new tip. */
static int replay(git_oid *tip, git_repository *repo, const ps_branch *b, const git_oid *commits, size_t n,
	pushseal_error *err)
{
	git_signature *now = NULL;
	git_commit *base = NULL;
	int rc = 0;

	if (ps_signature(&now, repo) < 0 || git_commit_lookup(&base, repo, &b->tracking_oid) < 0) {
		git_signature_free(now);
		return ps_error_git(err, PUSHSEAL_E_INTERNAL, "cannot prepare the rebase");
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		git_commit *c = NULL, *next = NULL;
		git_index *index = NULL;
		git_tree *tree = NULL;
		git_oid tree_id, id;
		if (git_commit_lookup(&c, repo, &commits[i]) < 0 ||
		    git_cherrypick_commit(&index, repo, c, base, 0, NULL) < 0) {
			rc = ps_error_git(err, PUSHSEAL_E_INTERNAL, "cannot replay commit %.12s", git_oid_tostr_s(&commits[i]));
		} else if (git_index_has_conflicts(index)) {
			rc = ps_error_set(err, PUSHSEAL_E_DIVERGED,
				"writer commit %.12s does not rebase cleanly onto %s; not rebasing",
				git_oid_tostr_s(&commits[i]), b->tracking);
		} else if (git_index_write_tree_to(&tree_id, index, repo) < 0 ||
		           git_tree_lookup(&tree, repo, &tree_id) < 0) {
			rc = ps_error_git(err, PUSHSEAL_E_INTERNAL, "cannot write a rebased tree");
		} else if (git_oid_equal(&tree_id, git_commit_tree_id(base))) {
			/* already upstream: drop it, as git rebase does */
		} else if (git_commit_create(&id, repo, NULL, git_commit_author(c), now, NULL,
		               git_commit_message(c), tree, 1, (const git_commit **)&base) < 0 ||
		           git_commit_lookup(&next, repo, &id) < 0) {
			rc = ps_error_git(err, PUSHSEAL_E_INTERNAL, "cannot write a rebased commit");
		} else {
			git_commit_free(base);
			base = next;
		}
		git_tree_free(tree);
		git_index_free(index);
		git_commit_free(c);
	}
	if (rc == 0)
		git_oid_cpy(tip, git_commit_id(base));
	git_commit_free(base);
	git_signature_free(now);
	return rc;
}

int ps_rebase_writer(git_repository *repo, const char *writer_email, pushseal_error *err)
{
	git_oid *commits = NULL, tip;
	size_t n = 0;
	char writer[256], msg[1200];
	ps_branch b;
	int rc;

	/* the branch as it is now: the fetch and the pull attempt before us took time */
	if ((rc = ps_repo_check_writable(repo, err)) < 0 || (rc = ps_branch_resolve(&b, repo, err)) < 0 ||
	    (rc = writer_identity(writer, sizeof(writer), repo, writer_email, err)) < 0)
		goto done;
	if (!b.has_tracking) {
		rc = ps_error_set(err, PUSHSEAL_E_NOUPSTREAM, "no tracking ref %s", b.tracking);
		goto done;
	}
	if ((rc = writer_commits(&commits, &n, repo, &b, writer, err)) < 0 ||
	    (rc = replay(&tip, repo, &b, commits, n, err)) < 0)
		goto done;
	snprintf(msg, sizeof(msg), "pushseal: rebase %zu writer commit%s onto %s", n, n == 1 ? "" : "s", b.tracking);
	rc = ps_branch_move(repo, &b, &tip, msg, err);
done:
	free(commits);
	return rc;
}
