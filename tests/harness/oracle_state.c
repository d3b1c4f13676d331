/*
 * The oracle's picture of a clone, taken with git and a plain directory
 * walk (never with the code under test): HEAD, its branch, the branch tip,
 * status, the staged blobs, every worktree path with its mode and bytes'
 * hash, and both reflogs' lengths.  "Unchanged" compares two pictures.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <dirent.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>


typedef struct entry_list {
	char **v;
	size_t n, cap;
} entry_list;

static void list_push(entry_list *l, char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		assert_non_null(l->v);
	}
	l->v[l->n++] = s;
}

static void list_free(entry_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static unsigned long long fnv1a_file(const char *path)
{
	unsigned long long h = 1469598103934665603ULL;
	FILE *f = fopen(path, "rb");
	int c;
	if (!f)
		fail_msg("worktree: cannot read %s", path);
	while ((c = fgetc(f)) != EOF) {
		h ^= (unsigned char)c;
		h *= 1099511628211ULL;
	}
	fclose(f);
	return h;
}

/* Every entry under abs/rel except the top-level .git: "dir/" for a
 * directory, "path <hash>" for a file (with_hash) or "path". */
static void walk(const char *abs, const char *rel, int with_hash, int with_dirs, entry_list *out)
{
	char full[8200], sub[4096];
	struct dirent *de;
	struct stat st;
	DIR *d;
	snprintf(full, sizeof(full), "%s%s%s", abs, *rel ? "/" : "", rel);
	if (!(d = opendir(full)))
		fail_msg("worktree: cannot list %s", full);
	while ((de = readdir(d)) != NULL) {
		char *s = NULL;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!*rel && !strcmp(de->d_name, ".git"))
			continue;
		snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", de->d_name);
		snprintf(full, sizeof(full), "%s/%s", abs, sub);
		if (lstat(full, &st) != 0)
			fail_msg("worktree: cannot stat %s", full);
		if (S_ISDIR(st.st_mode)) {
			if (with_dirs && asprintf(&s, "%s/", sub) < 0)
				fail_msg("out of memory");
			if (s)
				list_push(out, s);
			walk(abs, sub, with_hash, with_dirs, out);
			continue;
		}
		if (with_hash ? asprintf(&s, "%s %o %016llx", sub, (unsigned)st.st_mode,
				S_ISREG(st.st_mode) ? fnv1a_file(full) : 0ULL) < 0
			: asprintf(&s, "%s", sub) < 0)
			fail_msg("out of memory");
		list_push(out, s);
	}
	closedir(d);
}

/* The sorted listing of a worktree, newline-joined, into dst. */
void or_worktree_listing(ps_ctx *ctx, const char *repo_rel, int with_hash, int with_dirs,
	char *dst, size_t n)
{
	entry_list l = { NULL, 0, 0 };
	size_t used = 0;
	char abs[2048];
	snprintf(abs, sizeof(abs), "%s", ps_path(ctx, repo_rel));
	walk(abs, "", with_hash, with_dirs, &l);
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), cmp_str);
	dst[0] = '\0';
	for (size_t i = 0; i < l.n; i++) {
		int w = snprintf(dst + used, n - used, "%s%s", i ? "\n" : "", l.v[i]);
		if (w < 0 || (size_t)w >= n - used)
			fail_msg("worktree listing of %s too large for the snapshot", repo_rel);
		used += (size_t)w;
	}
	list_free(&l);
}

/* ---- "unchanged": branch tip, HEAD, status, reflogs, index, worktree bytes ---- */

void or_clone_state(ps_ctx *ctx, const char *repo, ps_clone_state *s)
{
	const char *out;
	snprintf(s->head, sizeof(s->head), "%s", or_rev(ctx, repo, "HEAD").hex);
	if (or_git(ctx, &out, repo, "symbolic-ref", "-q", "HEAD", NULL) != 0)
		out = "";
	snprintf(s->symref, sizeof(s->symref), "%s", out);
	snprintf(s->branch, sizeof(s->branch), "%s", or_rev(ctx, repo, "refs/heads/main").hex);
	snprintf(s->status, sizeof(s->status), "%s", or_status(ctx, repo));
	if (or_git(ctx, &out, repo, "ls-files", "-s", NULL) != 0)
		fail_msg("oracle: git ls-files -s failed in %s", repo);
	snprintf(s->index, sizeof(s->index), "%s", out);
	or_worktree_listing(ctx, repo, 1, 1, s->worktree, sizeof(s->worktree));
	s->reflog = or_reflog(ctx, ps_fmt(ctx, "%s/.git", repo), "refs/heads/main");
	s->head_reflog = or_reflog(ctx, ps_fmt(ctx, "%s/.git", repo), "HEAD");
}


void or_assert_clone_unchanged(ps_ctx *ctx, const char *repo, const ps_clone_state *before)
{
	ps_clone_state now;
	static const struct {
		const char *what;
		size_t at;
	} texts[] = {
		{ "HEAD", offsetof(ps_clone_state, head) },
		{ "HEAD's branch", offsetof(ps_clone_state, symref) },
		{ "the tip of refs/heads/main", offsetof(ps_clone_state, branch) },
		{ "git status", offsetof(ps_clone_state, status) },
		{ "the index (git ls-files -s)", offsetof(ps_clone_state, index) },
		{ "the worktree's paths, modes and bytes", offsetof(ps_clone_state, worktree) },
	};
	or_clone_state(ctx, repo, &now);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		const char *was = (const char *)before + texts[i].at, *is = (const char *)&now + texts[i].at;
		if (strcmp(was, is) != 0)
			fail_msg("%s changed in %s:\n  before: %s\n  now:    %s", texts[i].what, repo, was, is);
	}
	if (now.reflog != before->reflog)
		fail_msg("the reflog of refs/heads/main in %s grew from %d to %d entries", repo, before->reflog, now.reflog);
	if (now.head_reflog != before->head_reflog)
		fail_msg("HEAD's reflog in %s grew from %d to %d entries", repo, before->head_reflog, now.head_reflog);
}
