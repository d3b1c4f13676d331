/*
 * A read-only view of git's commit-graph: objects/info/commit-graph, or the
 * split chain objects/info/commit-graphs/commit-graph-chain (git's
 * Documentation/gitformat-commit-graph.txt, version 1, SHA-1).  libgit2 1.5
 * cannot read it; counting uses it for parents and generation numbers
 * without inflating a single commit object.
 *
 * Self-contained (libc, POSIX and libgit2's git_oid only), so that a
 * white-box test can compile it on its own.  Every offset is checked against
 * the file's size when the graph is opened, and every parent position when
 * it is read: a damaged file is refused or reported, never trusted blindly.
 */
#ifndef PUSHSEAL_COMMIT_GRAPH_H
#define PUSHSEAL_COMMIT_GRAPH_H

#include <git2.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ps_commit_graph ps_commit_graph;

/*
 * Open the commit-graph of the object directory `objects_dir` (a path
 * ending in "objects", with or without a trailing slash): the single file
 * when there is one (as git prefers it), else the chain.
 * Returns 1 with *out set (free it with ps_commit_graph_free), 0 when there
 * is no usable graph (none, another version or hash, damaged, a chain whose
 * layers do not match), or -1 when out of memory.  `why` (optional, n bytes)
 * says why a graph that exists was not used.
 */
int ps_commit_graph_open(ps_commit_graph **out, const char *objects_dir, char *why, size_t n);
void ps_commit_graph_free(ps_commit_graph *g);

/* How many commits the graph holds (every layer). */
uint32_t ps_commit_graph_size(const ps_commit_graph *g);
/* How many layers (1 for a single file). */
uint32_t ps_commit_graph_layers(const ps_commit_graph *g);

/* The position of `id` in the graph: 1 and *pos when found, 0 when absent. */
int ps_commit_graph_find(const ps_commit_graph *g, const git_oid *id, uint32_t *pos);
/* The object id at position pos (< size). */
void ps_commit_graph_oid(git_oid *out, const ps_commit_graph *g, uint32_t pos);
/* The topological level git stores (1 for a root; 0 means "not computed"). */
uint32_t ps_commit_graph_generation(const ps_commit_graph *g, uint32_t pos);

/*
 * Parents of the commit at pos, in order: call with i = 0, 1, ... until it
 * returns 0.  Returns 1 with *parent set, 0 when there is no parent i, or
 * -1 when the file is damaged (a position out of range, an unterminated
 * octopus list).
 */
int ps_commit_graph_parent(const ps_commit_graph *g, uint32_t pos, uint32_t i, uint32_t *parent);

#endif
