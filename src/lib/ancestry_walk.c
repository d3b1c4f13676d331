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

int ps_shallow_walk(git_repository *repo, const git_oid *start, size_t max, ps_walk_fn visit, void *payload)
{
	ps_oidset seen = { 0 };
	git_oid *queue = NULL;
	size_t head = 0, tail = 0, cap = 0;
	int rc = 0;
	if (ps_oidset_add(&seen, start) < 0 || !(queue = ps_array_grow(NULL, &cap, 1, sizeof(*queue), 64))) {
		ps_oidset_free(&seen);
		return -1;
	}
	git_oid_cpy(&queue[tail++], start);
	while (head < tail && rc == 0 && (!max || seen.len < max)) {
		git_commit *c = NULL;
		git_oid id;
		git_oid_cpy(&id, &queue[head++]);
		if (git_commit_lookup(&c, repo, &id) < 0)
			c = NULL; /* beyond the shallow boundary: its line ends here */
		rc = visit(&id, c, payload);
		for (unsigned int p = 0; rc == PS_WALK_PARENTS && c && p < git_commit_parentcount(c); p++) {
			const git_oid *pid = git_commit_parent_id(c, p);
			git_oid *q;
			int added = ps_oidset_add(&seen, pid);
			if (added <= 0) {
				rc = added; /* 0: seen already; -1: out of memory */
				continue;
			}
			if (!(q = ps_array_grow(queue, &cap, tail + 1, sizeof(*q), 64))) {
				rc = -1;
				break;
			}
			queue = q;
			git_oid_cpy(&queue[tail++], pid);
		}
		git_commit_free(c);
		if (rc == PS_WALK_SKIP || rc == PS_WALK_PARENTS)
			rc = 0;
	}
	free(queue);
	ps_oidset_free(&seen);
	return rc == PS_WALK_STOP ? 0 : rc;
}

/* ps_descendant_of's walk: stop at `ancestor`. */
typedef struct ancestor_search {
	const git_oid *ancestor;
	int found;
} ancestor_search;

static int find_ancestor(const git_oid *id, const git_commit *c, void *payload)
{
	ancestor_search *f = payload;
	(void)c;
	if (git_oid_equal(id, f->ancestor)) {
		f->found = 1;
		return PS_WALK_STOP;
	}
	return PS_WALK_PARENTS;
}

static int walk_to(int *found, git_repository *repo, const git_oid *commit, const git_oid *ancestor)
{
	ancestor_search f = { ancestor, 0 };
	int rc = ps_shallow_walk(repo, commit, PS_SHALLOW_WALK_MAX, find_ancestor, &f);
	*found = f.found;
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
