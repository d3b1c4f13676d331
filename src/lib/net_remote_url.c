/*
 * A remote's URL, resolved exactly as git resolves it (remote.c's
 * alias_all_urls and transport.c's local-path rules):
 *  - fetching: remote.<r>.url rewritten by url.<base>.insteadOf;
 *  - pushing: remote.<r>.pushurl rewritten by insteadOf; without a pushurl,
 *    the url rewritten by url.<base>.pushInsteadOf, or else by insteadOf;
 *  - the longest matching prefix wins;
 *  - a relative local path is taken from the top of the worktree (git
 *    runs there), or from the git directory of a bare repository;
 *  - file:///path and file://localhost/path are the path /path.
 * Read from plain config with no regular expression: libgit2 1.5.1 leaks
 * PCRE2 match data on every git_remote_lookup and config regex.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The value of the first `key` in cfg, into dst; -1 when it is not set. */
static int first_string(char *dst, size_t n, git_config *cfg, const char *key)
{
	git_config_entry *e = NULL;
	if (git_config_get_entry(&e, cfg, key) < 0 || !e || !e->value) {
		git_config_entry_free(e);
		return -1;
	}
	snprintf(dst, n, "%s", e->value);
	git_config_entry_free(e);
	return 0;
}

/* Rewrite url in place by the longest url.<base>.<kind> prefix that
 * matches it (kind: "insteadof" or "pushinsteadof").  1 when rewritten. */
static int rewrite(char *url, size_t n, git_config *cfg, const char *kind)
{
	git_config_iterator *it = NULL;
	git_config_entry *e;
	char best_base[2048] = "";
	size_t best_len = 0, klen = strlen(kind);
	if (git_config_iterator_new(&it, cfg) < 0)
		return 0;
	while (git_config_next(&e, it) == 0) {
		size_t len = strlen(e->name), vlen;
		if (!e->value || len < 4 + 1 + klen || strncasecmp(e->name, "url.", 4) != 0 ||
		    strcasecmp(e->name + len - klen, kind) != 0 || e->name[len - klen - 1] != '.')
			continue;
		vlen = strlen(e->value);
		if (vlen == 0 || vlen <= best_len || strncmp(url, e->value, vlen) != 0)
			continue;
		best_len = vlen;
		snprintf(best_base, sizeof(best_base), "%.*s", (int)(len - klen - 1 - 4), e->name + 4);
	}
	git_config_iterator_free(it);
	if (!best_len)
		return 0;
	{
		char out[4096];
		snprintf(out, sizeof(out), "%s%s", best_base, url + best_len);
		snprintf(url, n, "%s", out);
	}
	return 1;
}

/* git's is_url(): "<scheme>://" with a scheme of letters, digits, +.- */
static int has_scheme(const char *url)
{
	const char *p = url;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
	       *p == '+' || *p == '-' || *p == '.')
		p++;
	return p > url && !strncmp(p, "://", 3);
}

/* git's scp-like syntax: a ':' before any '/', as in host:path. */
static int scp_like(const char *url)
{
	const char *colon = strchr(url, ':'), *slash = strchr(url, '/');
	return colon && (!slash || colon < slash);
}

int ps_remote_resolve_url(char *url, size_t n, char *local_dir, size_t ln, git_repository *repo, const char *remote,
	int for_push)
{
	git_config *cfg = NULL;
	char key[600];
	int rc = -1;

	url[0] = '\0';
	if (local_dir && ln)
		local_dir[0] = '\0';
	if (git_repository_config_snapshot(&cfg, repo) < 0)
		return -1;
	if (for_push) {
		snprintf(key, sizeof(key), "remote.%s.pushurl", remote);
		if (first_string(url, n, cfg, key) == 0) {
			rewrite(url, n, cfg, "insteadof");
			rc = 0;
		}
	}
	if (rc < 0) {
		snprintf(key, sizeof(key), "remote.%s.url", remote);
		if (first_string(url, n, cfg, key) == 0) {
			if (!for_push || !rewrite(url, n, cfg, "pushinsteadof"))
				rewrite(url, n, cfg, "insteadof");
			rc = 0;
		}
	}
	git_config_free(cfg);
	if (rc < 0)
		return -1;

	/* a path on this machine: absolute, from the worktree's top */
	{
		char path[4096] = "";
		if (!strncmp(url, "file://", 7)) {
			const char *p = url + 7;
			if (!strncmp(p, "localhost/", 10))
				p += 9;
			if (*p == '/')
				snprintf(path, sizeof(path), "%s", p);
		} else if (!has_scheme(url) && !scp_like(url) && url[0]) {
			if (url[0] == '/') {
				snprintf(path, sizeof(path), "%s", url);
			} else {
				const char *base = git_repository_workdir(repo);
				if (!base)
					base = git_repository_path(repo);
				snprintf(path, sizeof(path), "%s%s%s", base, base[strlen(base) - 1] == '/' ? "" : "/", url);
			}
		}
		if (path[0]) {
			char *real = realpath(path, NULL);
			snprintf(url, n, "%s", real ? real : path);
			free(real);
			if (local_dir && ln)
				snprintf(local_dir, ln, "%s", url);
		}
	}
	return 0;
}

int ps_url_may_tls(const char *url)
{
	return !strncasecmp(url, "https://", 8) || !strncasecmp(url, "http://", 7);
}
