/*
 * Exact commit counting, `git rev-list --count exclude..include`.
 *
 * libgit2 1.5's git_graph_ahead_behind over-counts on histories with merges
 * and clock skew, and date-ordered walks stop early under skew.  These walks
 * use no dates.  With a commit-graph (commit_graph.c), one walk in
 * generation order reads parents straight from the file and stops as soon as
 * nothing only `include` reaches is left.  Without one, a bounded walk settles
 * the common cases (a few commits ahead or behind); otherwise every ancestor
 * of `exclude` is marked and the ancestors of `include` outside that set are
 * counted.  Exact either way.
 */
#include "internal.h"
#include "commit_graph.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A growable stack of ids to visit. */
typedef struct oidstack {
	git_oid *items;
	size_t len, cap;
} oidstack;

static int oidstack_push(oidstack *s, const git_oid *id)
{
	git_oid *p = ps_array_grow(s->items, &s->cap, s->len + 1, sizeof(*p), 256);
	if (!p)
		return -1;
	s->items = p;
	s->items[s->len++] = *id;
	return 0;
}

/* Add every commit reachable from `start` to `seen`, not entering `stop`
 * (may be NULL).  Returns 0, or a negative class with err set. */
static int walk(ps_oidset *seen, const ps_oidset *stop, git_repository *repo,
	const git_oid *start, pushseal_error *err)
{
	oidstack todo = { 0 };
	int rc = 0;
	if (stop && ps_oidset_has(stop, start))
		return 0;
	if (ps_oidset_add(seen, start) < 0 || oidstack_push(&todo, start) < 0)
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
			if (stop && ps_oidset_has(stop, p))
				continue;
			added = ps_oidset_add(seen, p);
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
	ps_oidset seen = { 0 };
	oidstack todo = { 0 };
	int rc = 1;
	if (ps_oidset_add(&seen, from) < 0 || oidstack_push(&todo, from) < 0)
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
			added = ps_oidset_add(&seen, p);
			if (added < 0 || (added > 0 && oidstack_push(&todo, p) < 0))
				rc = ps_error_set(err, PUSHSEAL_E_INTERNAL, "out of memory");
		}
		git_commit_free(c);
	}
	*n = seen.len;
	free(todo.items);
	ps_oidset_free(&seen);
	return rc;
}

/* ---- counting over a commit-graph ---------------------------------------------
 *
 * Nodes are graph positions (0..n-1) or, for commits the graph does not hold
 * yet (made after it was written), n + an index into `ex`, with a generation
 * computed here as one more than their parents' highest.  A max-heap pops
 * nodes by generation, so a node is popped only after every descendant that
 * reaches it from either tip: its LEFT (reached from include) and RIGHT
 * (reached from exclude) flags are final then.  A node popped LEFT-only is in
 * include..exclude.  Once no LEFT-only node is queued, nothing else can be.
 * Generations that do not decrease along a parent edge make the graph
 * unusable for this count (the plain walk answers instead).
 */
#define F_LEFT 1u
#define F_RIGHT 2u
#define F_QUEUED 4u
#define F_DONE 8u
#define F_SIDES (F_LEFT | F_RIGHT)

typedef struct extra {
	git_oid id;
	uint64_t gen;      /* 0 until known */
	uint32_t *parents; /* node ids */
	uint32_t np;
	int loaded;
	unsigned char flags;
} extra;

typedef struct hent {
	uint64_t gen;
	uint32_t node;
} hent;

typedef struct gwalk {
	git_repository *repo;
	const ps_commit_graph *g;
	uint32_t n;
	unsigned char *flags; /* per graph position */
	extra *ex;
	size_t nex, excap;
	git_oid *mkey; /* id -> index into ex, open addressing */
	uint32_t *mval;
	unsigned char *mused;
	size_t mcap, mlen;
	hent *heap;
	size_t hlen, hcap;
} gwalk;

/* Results of the helpers below: 0 fine, GW_UNUSABLE (fall back), or a
 * negative class. */
#define GW_UNUSABLE 1

static int map_grow(gwalk *w)
{
	size_t cap = w->mcap ? w->mcap * 2 : 256;
	git_oid *key = malloc(cap * sizeof(*key));
	uint32_t *val = malloc(cap * sizeof(*val));
	unsigned char *used = calloc(cap, 1);
	if (!key || !val || !used) {
		free(key);
		free(val);
		free(used);
		return -1;
	}
	for (size_t i = 0; i < w->mcap; i++) {
		size_t j;
		if (!w->mused[i])
			continue;
		j = ps_oid_hash(&w->mkey[i]) & (cap - 1);
		while (used[j])
			j = (j + 1) & (cap - 1);
		used[j] = 1;
		key[j] = w->mkey[i];
		val[j] = w->mval[i];
	}
	free(w->mkey);
	free(w->mval);
	free(w->mused);
	w->mkey = key;
	w->mval = val;
	w->mused = used;
	w->mcap = cap;
	return 0;
}

/* The slot of id in the map (used or the free one where it would go). */
static size_t map_slot(const gwalk *w, const git_oid *id)
{
	size_t j = ps_oid_hash(id) & (w->mcap - 1);
	while (w->mused[j] && !git_oid_equal(&w->mkey[j], id))
		j = (j + 1) & (w->mcap - 1);
	return j;
}

/* A new, unloaded extra node for id; its index, or -1 when out of memory. */
static long extra_new(gwalk *w, const git_oid *id)
{
	size_t j;
	if (((w->mlen + 1) * 2 > w->mcap && map_grow(w) < 0) || w->nex >= UINT32_MAX - w->n)
		return -1;
	{
		extra *p = ps_array_grow(w->ex, &w->excap, w->nex + 1, sizeof(*p), 64);
		if (!p)
			return -1;
		w->ex = p;
	}
	memset(&w->ex[w->nex], 0, sizeof(w->ex[w->nex]));
	w->ex[w->nex].id = *id;
	j = map_slot(w, id);
	w->mused[j] = 1;
	w->mkey[j] = *id;
	w->mval[j] = (uint32_t)w->nex;
	w->mlen++;
	return (long)w->nex++;
}

static uint64_t node_gen(const gwalk *w, uint32_t node)
{
	return node < w->n ? ps_commit_graph_generation(w->g, node) : w->ex[node - w->n].gen;
}

static unsigned char *node_flags(gwalk *w, uint32_t node)
{
	return node < w->n ? &w->flags[node] : &w->ex[node - w->n].flags;
}

/* Read extra k's parents from the object database, creating extras for
 * parents the graph does not hold; new ones go on `todo`. */
static int extra_load(gwalk *w, size_t k, oidstack *todo, pushseal_error *err)
{
	git_commit *c = NULL;
	unsigned int np;
	uint32_t *parents;
	if (git_commit_lookup(&c, w->repo, &w->ex[k].id) < 0)
		return ps_error_git(err, PUSHSEAL_E_INTERNAL, "cannot read commit");
	np = git_commit_parentcount(c);
	if (!(parents = calloc(np ? np : 1, sizeof(*parents)))) {
		git_commit_free(c);
		return ps_error_set(err, PUSHSEAL_E_INTERNAL, "out of memory");
	}
	for (unsigned int i = 0; i < np; i++) {
		const git_oid *p = git_commit_parent_id(c, i);
		uint32_t pos;
		size_t j;
		long e;
		if (ps_commit_graph_find(w->g, p, &pos)) {
			parents[i] = pos;
			continue;
		}
		j = map_slot(w, p);
		if (w->mused[j]) {
			parents[i] = w->n + w->mval[j];
			continue;
		}
		if ((e = extra_new(w, p)) < 0 || oidstack_push(todo, p) < 0) {
			free(parents);
			git_commit_free(c);
			return ps_error_set(err, PUSHSEAL_E_INTERNAL, "out of memory");
		}
		parents[i] = w->n + (uint32_t)e;
	}
	git_commit_free(c);
	w->ex[k].parents = parents;
	w->ex[k].np = np;
	w->ex[k].loaded = 1;
	return 0;
}

/* The node of commit `id`, with its generation known. */
static int node_of(uint32_t *node, gwalk *w, const git_oid *id, pushseal_error *err)
{
	oidstack todo = { 0 };
	uint32_t pos;
	size_t j;
	long k;
	int rc = 0;
	if (ps_commit_graph_find(w->g, id, &pos)) {
		*node = pos;
		return ps_commit_graph_generation(w->g, pos) ? 0 : GW_UNUSABLE;
	}
	if (w->mcap && w->mused[j = map_slot(w, id)] && w->ex[w->mval[j]].gen) {
		*node = w->n + w->mval[j];
		return 0;
	}
	/* a commit newer than the graph: its generation needs its parents' */
	if ((k = extra_new(w, id)) < 0 || oidstack_push(&todo, id) < 0)
		rc = ps_error_set(err, PUSHSEAL_E_INTERNAL, "out of memory");
	*node = w->n + (uint32_t)k;
	while (rc == 0 && todo.len > 0) {
		size_t e = w->mval[map_slot(w, &todo.items[todo.len - 1])];
		uint64_t gen = 0;
		if (w->ex[e].gen) {
			todo.len--;
			continue;
		}
		if (!w->ex[e].loaded) {
			rc = extra_load(w, e, &todo, err);
			continue;
		}
		for (uint32_t i = 0; i < w->ex[e].np; i++) {
			uint64_t pg = node_gen(w, w->ex[e].parents[i]);
			if (pg == 0) {
				/* a parent neither known nor above us: the graph's
				 * generation is missing, or the history has a cycle */
				rc = GW_UNUSABLE;
				break;
			}
			if (pg > gen)
				gen = pg;
		}
		w->ex[e].gen = gen + 1;
		todo.len--;
	}
	free(todo.items);
	return rc;
}

static int heap_push(gwalk *w, uint32_t node)
{
	hent *p = ps_array_grow(w->heap, &w->hcap, w->hlen + 1, sizeof(*p), 256);
	size_t i;
	if (!p)
		return -1;
	w->heap = p;
	i = w->hlen++;
	w->heap[i].gen = node_gen(w, node);
	w->heap[i].node = node;
	while (i > 0 && w->heap[(i - 1) / 2].gen < w->heap[i].gen) {
		hent t = w->heap[i];
		w->heap[i] = w->heap[(i - 1) / 2];
		w->heap[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
	return 0;
}

static uint32_t heap_pop(gwalk *w)
{
	uint32_t top = w->heap[0].node;
	size_t i = 0;
	w->heap[0] = w->heap[--w->hlen];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		hent t;
		if (l < w->hlen && w->heap[l].gen > w->heap[m].gen)
			m = l;
		if (r < w->hlen && w->heap[r].gen > w->heap[m].gen)
			m = r;
		if (m == i)
			break;
		t = w->heap[i];
		w->heap[i] = w->heap[m];
		w->heap[m] = t;
		i = m;
	}
	return top;
}

/* Queue node with `sides`, or add sides to it if queued; keeps *left_only. */
static int reach(gwalk *w, uint32_t node, unsigned char sides, size_t *left_only)
{
	unsigned char *f = node_flags(w, node);
	unsigned char old = *f;
	if (old & F_DONE)
		return GW_UNUSABLE; /* popped before a descendant: generations lie */
	if ((old & F_SIDES) == F_LEFT)
		(*left_only)--;
	*f = (unsigned char)(old | sides | F_QUEUED);
	if ((*f & F_SIDES) == F_LEFT)
		(*left_only)++;
	if (!(old & F_QUEUED) && heap_push(w, node) < 0)
		return -1;
	return 0;
}

static void gwalk_free(gwalk *w)
{
	for (size_t i = 0; i < w->nex; i++)
		free(w->ex[i].parents);
	free(w->ex);
	free(w->flags);
	free(w->mkey);
	free(w->mval);
	free(w->mused);
	free(w->heap);
}

/* 1 when counted into *out, 0 when the graph cannot answer, <0 on error. */
static int graph_count(size_t *out, git_repository *repo, const ps_commit_graph *g,
	const git_oid *include, const git_oid *exclude, pushseal_error *err)
{
	gwalk w;
	uint32_t left, right;
	size_t left_only = 0, counted = 0;
	int rc;
	memset(&w, 0, sizeof(w));
	w.repo = repo;
	w.g = g;
	w.n = ps_commit_graph_size(g);
	if (!(w.flags = calloc(w.n, 1)))
		return ps_error_set(err, PUSHSEAL_E_INTERNAL, "out of memory");
	if ((rc = node_of(&left, &w, include, err)) == 0 && (rc = node_of(&right, &w, exclude, err)) == 0 &&
	    (rc = reach(&w, left, F_LEFT, &left_only)) == 0)
		rc = reach(&w, right, F_RIGHT, &left_only);
	while (rc == 0 && left_only > 0 && w.hlen > 0) {
		uint32_t node = heap_pop(&w), parent;
		unsigned char *f = node_flags(&w, node), sides = *f & F_SIDES;
		uint64_t gen = node_gen(&w, node);
		if (sides == F_LEFT) {
			left_only--;
			counted++;
		}
		*f |= F_DONE;
		if (node < w.n) {
			int got;
			for (uint32_t i = 0; rc == 0 && (got = ps_commit_graph_parent(g, node, i, &parent)) != 0; i++) {
				if (got < 0 || ps_commit_graph_generation(g, parent) >= gen ||
				    ps_commit_graph_generation(g, parent) == 0)
					rc = GW_UNUSABLE;
				else
					rc = reach(&w, parent, sides, &left_only);
			}
		} else {
			const extra *e = &w.ex[node - w.n];
			for (uint32_t i = 0; rc == 0 && i < e->np; i++)
				rc = node_gen(&w, e->parents[i]) >= gen ? GW_UNUSABLE
					: reach(&w, e->parents[i], sides, &left_only);
		}
	}
	gwalk_free(&w);
	if (rc < 0 && rc != PUSHSEAL_E_INTERNAL)
		rc = ps_error_set(err, PUSHSEAL_E_INTERNAL, "out of memory");
	if (rc == GW_UNUSABLE)
		return 0;
	if (rc < 0)
		return rc;
	*out = counted;
	return 1;
}

/* The repository's commit-graph, when git itself would use one: not in a
 * shallow clone or under grafts, which git's walks honour and libgit2's do not. */
static int open_graph(ps_commit_graph **g, git_repository *repo)
{
	char path[4200];
	struct stat st;
	const char *common = git_repository_commondir(repo);
	*g = NULL;
	if (snprintf(path, sizeof(path), "%sshallow", common) >= (int)sizeof(path) || stat(path, &st) == 0)
		return 0;
	if (snprintf(path, sizeof(path), "%sinfo/grafts", common) >= (int)sizeof(path) || stat(path, &st) == 0)
		return 0;
	if (snprintf(path, sizeof(path), "%sobjects", common) >= (int)sizeof(path))
		return 0;
	return ps_commit_graph_open(g, path, NULL, 0);
}

int ps_count_between(size_t *out, git_repository *repo, const git_oid *include,
	const git_oid *exclude, pushseal_error *err)
{
	ps_commit_graph *g = NULL;
	ps_oidset hidden = { 0 }, counted = { 0 };
	size_t n = 0;
	int rc;
	*out = 0;
	if (git_oid_equal(include, exclude))
		return 0;
	if (open_graph(&g, repo) > 0) {
		rc = graph_count(&n, repo, g, include, exclude, err);
		ps_commit_graph_free(g);
		if (rc != 0) {
			if (rc > 0)
				*out = n;
			return rc > 0 ? 0 : rc;
		}
	}
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
	ps_oidset_free(&hidden);
	ps_oidset_free(&counted);
	return rc;
}
