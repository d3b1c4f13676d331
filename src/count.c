/*
 * Exact commit counting, `git rev-list --count exclude..include`.
 *
 * libgit2 1.5's git_graph_ahead_behind over-counts on histories with merges
 * and clock skew, and date-ordered walks stop early under skew.  These walks
 * use no dates: a bounded walk settles the common cases (a few commits
 * ahead or behind); otherwise every ancestor of `exclude` is marked and the
 * ancestors of `include` outside that set are counted.  Exact either way.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* An open-addressing set of object ids. */
typedef struct oidset {
	git_oid *slots;
	unsigned char *used;
	size_t cap, len;
} oidset;

static size_t oid_hash(const git_oid *id)
{
	size_t h;
	memcpy(&h, id->id, sizeof(h));
	return h;
}

static int oidset_grow(oidset *s)
{
	oidset n = { 0 };
	n.cap = s->cap ? s->cap * 2 : 1024;
	n.slots = malloc(n.cap * sizeof(*n.slots));
	n.used = calloc(n.cap, 1);
	if (!n.slots || !n.used) {
		free(n.slots);
		free(n.used);
		return -1;
	}
	for (size_t i = 0; i < s->cap; i++) {
		if (!s->used[i])
			continue;
		size_t j = oid_hash(&s->slots[i]) & (n.cap - 1);
		while (n.used[j])
			j = (j + 1) & (n.cap - 1);
		n.used[j] = 1;
		n.slots[j] = s->slots[i];
		n.len++;
	}
	free(s->slots);
	free(s->used);
	*s = n;
	return 0;
}

/* 1 if added, 0 if present, -1 on allocation failure. */
static int oidset_add(oidset *s, const git_oid *id)
{
	size_t j;
	if ((s->len + 1) * 2 > s->cap && oidset_grow(s) < 0)
		return -1;
	j = oid_hash(id) & (s->cap - 1);
	while (s->used[j]) {
		if (git_oid_equal(&s->slots[j], id))
			return 0;
		j = (j + 1) & (s->cap - 1);
	}
	s->used[j] = 1;
	s->slots[j] = *id;
	s->len++;
	return 1;
}

static int oidset_has(const oidset *s, const git_oid *id)
{
	size_t j;
	if (!s->cap)
		return 0;
	j = oid_hash(id) & (s->cap - 1);
	while (s->used[j]) {
		if (git_oid_equal(&s->slots[j], id))
			return 1;
		j = (j + 1) & (s->cap - 1);
	}
	return 0;
}

static void oidset_free(oidset *s)
{
	free(s->slots);
	free(s->used);
	memset(s, 0, sizeof(*s));
}

/* A growable stack of ids to visit. */
typedef struct oidstack {
	git_oid *items;
	size_t len, cap;
} oidstack;

static int oidstack_push(oidstack *s, const git_oid *id)
{
	if (s->len == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		git_oid *p = realloc(s->items, cap * sizeof(*p));
		if (!p)
			return -1;
		s->items = p;
		s->cap = cap;
	}
	s->items[s->len++] = *id;
	return 0;
}

/* Add every commit reachable from `start` to `seen`, not entering `stop`
 * (may be NULL).  Returns 0, or a negative class with err set. */
static int walk(oidset *seen, const oidset *stop, git_repository *repo,
	const git_oid *start, pushseal_error *err)
{
	oidstack todo = { 0 };
	int rc = 0;
	if (stop && oidset_has(stop, start))
		return 0;
	if (oidset_add(seen, start) < 0 || oidstack_push(&todo, start) < 0)
		rc = ps_error_set(err, PUSHSEAL_E_INTERNAL, "out of memory");
	while (rc == 0 && todo.len > 0) {
		git_oid id = todo.items[--todo.len];
		git_commit *c = NULL;
		if (git_commit_lookup(&c, repo, &id) < 0) {
			rc = ps_error_git(err, PUSHSEAL_E_INTERNAL, "cannot read commit");
			break;
		}
		for (unsigned int i = 0; i < git_commit_parentcount(c); i++) {
			const git_oid *p = git_commit_parent_id(c, i);
			int added;
			if (stop && oidset_has(stop, p))
				continue;
			added = oidset_add(seen, p);
			if (added < 0 || (added > 0 && oidstack_push(&todo, p) < 0)) {
				rc = ps_error_set(err, PUSHSEAL_E_INTERNAL, "out of memory");
				break;
			}
		}
		git_commit_free(c);
	}
	free(todo.items);
	return rc;
}

/*
 * The common cases are cheap: a few commits ahead of (or behind) a long
 * history.  Walk from `from` without entering `stop`, visiting at most
 * `budget` commits.  If that walk closes -- it never reaches a root commit
 * -- every path from `from` runs into `stop`, so no visited commit is an
 * ancestor of `stop` (its own ancestry would lead to a root past `stop`)
 * and the visited set is exactly from..stop.  Returns 1 when closed, with
 * *n the count; 0 when it reached a root or the budget; <0 on error.
 */
#define FAST_BUDGET 4096

static int bounded_walk(size_t *n, git_repository *repo, const git_oid *from, const git_oid *stop,
	size_t budget, pushseal_error *err)
{
	oidset seen = { 0 };
	oidstack todo = { 0 };
	int rc = 1;
	if (oidset_add(&seen, from) < 0 || oidstack_push(&todo, from) < 0)
		rc = ps_error_set(err, PUSHSEAL_E_INTERNAL, "out of memory");
	while (rc == 1 && todo.len > 0) {
		git_oid id = todo.items[--todo.len];
		git_commit *c = NULL;
		unsigned int parents;
		if (seen.len > budget) {
			rc = 0;
			break;
		}
		if (git_commit_lookup(&c, repo, &id) < 0) {
			rc = ps_error_git(err, PUSHSEAL_E_INTERNAL, "cannot read commit");
			break;
		}
		parents = git_commit_parentcount(c);
		if (parents == 0)
			rc = 0; /* a root: this side is not closed under `stop` */
		for (unsigned int i = 0; rc == 1 && i < parents; i++) {
			const git_oid *p = git_commit_parent_id(c, i);
			int added;
			if (git_oid_equal(p, stop))
				continue;
			added = oidset_add(&seen, p);
			if (added < 0 || (added > 0 && oidstack_push(&todo, p) < 0))
				rc = ps_error_set(err, PUSHSEAL_E_INTERNAL, "out of memory");
		}
		git_commit_free(c);
	}
	*n = seen.len;
	free(todo.items);
	oidset_free(&seen);
	return rc;
}

int ps_count_between(size_t *out, git_repository *repo, const git_oid *include,
	const git_oid *exclude, pushseal_error *err)
{
	oidset hidden = { 0 }, counted = { 0 };
	size_t n;
	int rc;
	*out = 0;
	if (git_oid_equal(include, exclude))
		return 0;
	/* include is a few commits on top of exclude */
	if ((rc = bounded_walk(&n, repo, include, exclude, FAST_BUDGET, err)) != 0) {
		if (rc > 0)
			*out = n;
		return rc > 0 ? 0 : rc;
	}
	/* include is an ancestor of exclude: nothing to count */
	if ((rc = bounded_walk(&n, repo, exclude, include, FAST_BUDGET, err)) != 0)
		return rc > 0 ? 0 : rc;
	/* diverged, or far apart: the exact full walk */
	rc = walk(&hidden, NULL, repo, exclude, err);
	if (rc == 0)
		rc = walk(&counted, &hidden, repo, include, err);
	if (rc == 0)
		*out = counted.len;
	oidset_free(&hidden);
	oidset_free(&counted);
	return rc;
}
