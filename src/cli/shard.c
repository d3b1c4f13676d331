/*
 * --shard I/N: tick only the repositories that hash to shard I of N, so that
 * the schedulers people already run (a Kubernetes Indexed Job, a systemd
 * timer on each of N hosts) split one hub with no coordinator.
 *
 * The key of a repository is its canonical path (realpath) and the URL of
 * the remote it is sealed to (branch.<HEAD>.remote, else origin; as
 * configured, before insteadOf), joined by a newline.  It is hashed with
 * 64-bit FNV-1a and a splitmix64 finaliser, and placed by jump consistent
 * hashing (Lamping and Veach, 2014): shard sizes are balanced, and going
 * from N to N+1 shards moves only the repositories that land on the new
 * shard, about 1/(N+1) of them.  The arithmetic is fixed-width, so every
 * host computes the same shard for the same key.  A repository that cannot
 * be opened is still placed (by its path alone), so exactly one shard
 * reports its error.
 */
#define _GNU_SOURCE
#include "cli.h"

#include <git2.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fnv1a64(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Jump consistent hash: a bucket in [0, n) for key. */
static uint32_t jump_hash(uint64_t key, uint32_t n)
{
	int64_t b = -1, j = 0;
	while (j < (int64_t)n) {
		b = j;
		key = key * 2862933555777941757ULL + 1;
		j = (int64_t)((double)(b + 1) * ((double)(1LL << 31) / (double)((key >> 33) + 1)));
	}
	return (uint32_t)b;
}

uint32_t cli_shard_of(const char *canonical_path, const char *remote_url, uint32_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	h = fnv1a64(h, canonical_path);
	h = fnv1a64(h, "\n");
	h = fnv1a64(h, remote_url ? remote_url : "");
	return jump_hash(splitmix64(h), n);
}

static int parse_uint(uint32_t *out, const char *s, const char *end)
{
	unsigned long v = 0;
	if (s == end || end - s > 6)
		return -1;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	*out = (uint32_t)v;
	return 0;
}

int cli_shard_parse(cli_shard *out, const char *spec)
{
	const char *slash;
	char buf[64];
	memset(out, 0, sizeof(*out));
	if (!strcmp(spec, "auto")) {
		const char *idx = getenv("JOB_COMPLETION_INDEX"), *cnt = getenv("PUSHSEAL_SHARD_COUNT");
		if (!idx || !*idx)
			return cli_usage_error("--shard auto: JOB_COMPLETION_INDEX is not set "
				"(set by a Kubernetes Indexed Job)", NULL);
		if (!cnt || !*cnt)
			return cli_usage_error("--shard auto: PUSHSEAL_SHARD_COUNT is not set "
				"(the Job's completions)", NULL);
		snprintf(buf, sizeof(buf), "%.30s/%.30s", idx, cnt);
		spec = buf;
	}
	slash = strchr(spec, '/');
	if (!slash || parse_uint(&out->index, spec, slash) < 0 ||
		parse_uint(&out->count, slash + 1, slash + strlen(slash)) < 0 ||
		out->count < 1 || out->count > 65536 || out->index >= out->count)
		return cli_usage_error("--shard takes I/N with 0 <= I < N <= 65536, or auto; not", spec);
	out->enabled = 1;
	return 0;
}

/* The configured URL of the remote HEAD's branch is sealed to (else
 * origin's), into dst; "" when there is none. */
static void remote_url(char *dst, size_t n, git_repository *repo)
{
	git_config *cfg = NULL;
	git_reference *head = NULL;
	git_buf remote = GIT_BUF_INIT;
	const char *name = "origin", *url = NULL;
	char key[1200];
	dst[0] = '\0';
	if (git_repository_config_snapshot(&cfg, repo) < 0)
		return;
	if (git_reference_lookup(&head, repo, "HEAD") == 0 && git_reference_type(head) == GIT_REFERENCE_SYMBOLIC &&
		!strncmp(git_reference_symbolic_target(head), "refs/heads/", 11)) {
		snprintf(key, sizeof(key), "branch.%s.remote", git_reference_symbolic_target(head) + 11);
		if (git_config_get_string_buf(&remote, cfg, key) == 0 && remote.ptr && *remote.ptr &&
			strcmp(remote.ptr, ".") != 0)
			name = remote.ptr;
	}
	snprintf(key, sizeof(key), "remote.%s.url", name);
	if (git_config_get_string(&url, cfg, key) == 0 && url)
		snprintf(dst, n, "%s", url);
	git_buf_dispose(&remote);
	git_reference_free(head);
	git_config_free(cfg);
}

int cli_shard_filter(cli_list *repos, const cli_shard *s)
{
	size_t kept = 0;
	if (!s->enabled)
		return 0;
	for (size_t i = 0; i < repos->len; i++) {
		char *canon = realpath(repos->items[i], NULL);
		char url[4096] = "";
		git_repository *repo = NULL;
		if (git_repository_open_ext(&repo, repos->items[i], GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) == 0)
			remote_url(url, sizeof(url), repo);
		git_repository_free(repo);
		if (cli_shard_of(canon ? canon : repos->items[i], url, s->count) == s->index)
			repos->items[kept++] = repos->items[i];
		else
			free(repos->items[i]);
		free(canon);
	}
	repos->len = kept;
	return 0;
}
