/*
 * Is one commit an ancestor of another, also in a shallow clone.
 *
 * libgit2 1.5 does not read .git/shallow: its walks fail at the first
 * parent a shallow clone does not have, and a depth-1 clone one commit
 * behind would look diverged.  git treats a missing parent at the shallow
 * boundary as the end of history; so does the fallback walk here.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define PS_SHALLOW_WALK_MAX 1000000

static int seen_before(git_oid **seen, size_t *n, size_t *cap, const git_oid *id)
{
	for (size_t i = 0; i < *n; i++)
		if (git_oid_equal(&(*seen)[i], id))
			return 1;
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		git_oid *p = realloc(*seen, c * sizeof(*p));
		if (!p)
			return -1;
		*seen = p;
		*cap = c;
	}
	git_oid_cpy(&(*seen)[(*n)++], id);
	return 0;
}

/* Breadth-first from `commit`, treating a missing parent as the boundary. */
static int walk_to(int *found, git_repository *repo, const git_oid *commit, const git_oid *ancestor)
{
	git_oid *queue = NULL, *seen = NULL;
	size_t head = 0, tail = 0, qcap = 0, nseen = 0, scap = 0;
	int rc = 0;
	*found = 0;
	if (seen_before(&seen, &nseen, &scap, commit) < 0 || !(queue = malloc(64 * sizeof(*queue)))) {
		free(seen);
		return -1;
	}
	qcap = 64;
	git_oid_cpy(&queue[tail++], commit);
	while (head < tail && !*found && nseen < PS_SHALLOW_WALK_MAX) {
		git_commit *c = NULL;
		git_oid id;
		git_oid_cpy(&id, &queue[head++]);
		if (git_commit_lookup(&c, repo, &id) < 0)
			continue; /* beyond the shallow boundary */
		for (unsigned int p = 0; p < git_commit_parentcount(c); p++) {
			const git_oid *pid = git_commit_parent_id(c, p);
			int s;
			if (git_oid_equal(pid, ancestor)) {
				*found = 1;
				break;
			}
			if ((s = seen_before(&seen, &nseen, &scap, pid)) != 0) {
				if (s < 0)
					rc = -1;
				continue;
			}
			if (tail == qcap) {
				git_oid *q = realloc(queue, qcap * 2 * sizeof(*q));
				if (!q) {
					rc = -1;
					break;
				}
				queue = q;
				qcap *= 2;
			}
			git_oid_cpy(&queue[tail++], pid);
		}
		git_commit_free(c);
		if (rc < 0)
			break;
	}
	free(queue);
	free(seen);
	return rc;
}

int ps_descendant_of(int *out, git_repository *repo, const git_oid *commit, const git_oid *ancestor)
{
	int rc;
	*out = 0;
	if (git_oid_equal(commit, ancestor))
		return 0;
	/* in a shallow clone, libgit2's walk fails at the boundary, and leaks on
	 * that error path (LeakSanitizer: git_graph_reachable_from_any): never
	 * ask it there */
	if (git_repository_is_shallow(repo))
		return walk_to(out, repo, commit, ancestor);
	if ((rc = git_graph_descendant_of(repo, commit, ancestor)) < 0)
		return rc;
	*out = rc;
	return 0;
}
