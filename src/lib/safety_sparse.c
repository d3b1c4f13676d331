/*
 * A sparse checkout (`git sparse-checkout set DIR...`), which libgit2 1.5
 * knows nothing about.  A path outside the cone is marked skip-worktree in
 * the index and is absent from the worktree on purpose: a pull must move
 * its index entry without writing it, and a commit must not stage it as
 * deleted.  Cone mode's patterns (.git/info/sparse-checkout) are read to
 * place paths that a pull adds; in non-cone mode, new paths are written
 * (README, "Limits": git would match its gitignore-style patterns).
 */
#define _GNU_SOURCE
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add(char ***list, size_t *n, const char *s, size_t len)
{
	char **p = realloc(*list, (*n + 1) * sizeof(*p));
	if (!p)
		return -1;
	*list = p;
	if (!(p[*n] = strndup(s, len)))
		return -1;
	(*n)++;
	return 0;
}

static int has(char **list, size_t n, const char *s, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(list[i]) == len && !strncmp(list[i], s, len))
			return 1;
	return 0;
}

static int config_bool(git_config *cfg, const char *key)
{
	int v = 0;
	return git_config_get_bool(&v, cfg, key) == 0 && v;
}

int ps_sparse_load(ps_sparse *s, git_repository *repo)
{
	git_config *cfg = NULL;
	char path[4300], line[4200];
	char **positive = NULL, **negative = NULL;
	size_t npos = 0, nneg = 0;
	FILE *f;
	memset(s, 0, sizeof(*s));
	if (git_repository_config_snapshot(&cfg, repo) < 0)
		return 0;
	s->active = config_bool(cfg, "core.sparseCheckout");
	s->cone = config_bool(cfg, "core.sparseCheckoutCone");
	git_config_free(cfg);
	/* `git sparse-checkout` writes these to config.worktree
	 * (extensions.worktreeConfig), which libgit2 1.5 does not read */
	snprintf(path, sizeof(path), "%sconfig.worktree", git_repository_path(repo));
	if (!s->active && git_config_open_ondisk(&cfg, path) == 0) {
		s->active = config_bool(cfg, "core.sparseCheckout");
		s->cone = config_bool(cfg, "core.sparseCheckoutCone");
		git_config_free(cfg);
	}
	if (!s->active || !s->cone)
		return 0;
	snprintf(path, sizeof(path), "%sinfo/sparse-checkout", git_repository_path(repo));
	if (!(f = fopen(path, "re"))) {
		s->cone = 0;
		return 0;
	}
	/* a line "/dir/" includes dir; a line "!/dir/" + "*" + "/" then limits it to its own files */
	while (fgets(line, sizeof(line), f)) {
		size_t len = strcspn(line, "\r\n");
		line[len] = '\0';
		if (len > 2 && line[0] == '/' && line[len - 1] == '/' && strcmp(line, "/*") != 0)
			add(&positive, &npos, line + 1, len - 2);
		else if (len > 5 && !strncmp(line, "!/", 2) && !strcmp(line + len - 3, "/*/"))
			add(&negative, &nneg, line + 2, len - 5);
	}
	fclose(f);
	for (size_t i = 0; i < npos; i++) {
		if (has(negative, nneg, positive[i], strlen(positive[i])))
			add(&s->parents, &s->nparents, positive[i], strlen(positive[i]));
		else
			add(&s->recursive, &s->nrecursive, positive[i], strlen(positive[i]));
	}
	for (size_t i = 0; i < npos; i++)
		free(positive[i]);
	for (size_t i = 0; i < nneg; i++)
		free(negative[i]);
	free(positive);
	free(negative);
	return 0;
}

int ps_sparse_includes(const ps_sparse *s, const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!s->active || !s->cone || !slash)
		return 1; /* not sparse, non-cone, or a file at the top: in */
	for (size_t i = 0; i < s->nrecursive; i++) {
		size_t n = strlen(s->recursive[i]);
		if (!strncmp(path, s->recursive[i], n) && path[n] == '/')
			return 1;
	}
	return has(s->parents, s->nparents, path, (size_t)(slash - path));
}

void ps_sparse_free(ps_sparse *s)
{
	for (size_t i = 0; i < s->nrecursive; i++)
		free(s->recursive[i]);
	for (size_t i = 0; i < s->nparents; i++)
		free(s->parents[i]);
	free(s->recursive);
	free(s->parents);
	memset(s, 0, sizeof(*s));
}
