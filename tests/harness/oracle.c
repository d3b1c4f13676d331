/* The independent oracle: the git CLI and plain file reads. */
#define _GNU_SOURCE
#include "harness.h"
#include <dirent.h>
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ARGS 32

static const char *trim(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

int or_git(ps_ctx *ctx, const char **out, const char *dir, ...)
{
	const char *argv[MAX_ARGS + 4];
	const char *o = NULL, *e = NULL;
	int argc = 0, rc;
	va_list ap;
	argv[argc++] = "git";
	argv[argc++] = "-C";
	argv[argc++] = ps_path(ctx, dir);
	va_start(ap, dir);
	for (const char *a; (a = va_arg(ap, const char *)) != NULL && argc < MAX_ARGS;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	rc = ps_spawn(ctx, NULL, argv, &o, &e);
	if (out)
		*out = trim((char *)o);
	return rc;
}

ps_rev or_rev(ps_ctx *ctx, const char *dir, const char *rev)
{
	ps_rev r = { "" };
	const char *out;
	if (or_git(ctx, &out, dir, "rev-parse", "--verify", "--quiet", ps_fmt(ctx, "%s^{commit}", rev), NULL) == 0)
		snprintf(r.hex, sizeof(r.hex), "%s", out);
	return r;
}

long or_count(ps_ctx *ctx, const char *dir, const char *range)
{
	const char *out;
	if (or_git(ctx, &out, dir, "rev-list", "--count", range, NULL) != 0)
		fail_msg("oracle: git rev-list --count %s failed in %s", range, dir);
	return strtol(out, NULL, 10);
}

const char *or_file(ps_ctx *ctx, const char *rel)
{
	char *buf = ctx->ring[ctx->ring_next++ % 8];
	FILE *f = fopen(ps_path(ctx, rel), "rb");
	size_t n;
	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(ctx->ring[0]) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

int or_exists(ps_ctx *ctx, const char *rel)
{
	return access(ps_path(ctx, rel), F_OK) == 0;
}

int or_reflog(ps_ctx *ctx, const char *gitdir, const char *ref)
{
	FILE *f = fopen(ps_path(ctx, ps_fmt(ctx, "%s/logs/%s", gitdir, ref)), "r");
	int lines = 0, c;
	if (!f)
		return 0;
	while ((c = fgetc(f)) != EOF)
		if (c == '\n')
			lines++;
	fclose(f);
	return lines;
}

const char *or_status(ps_ctx *ctx, const char *dir)
{
	const char *out;
	if (or_git(ctx, &out, dir, "status", "--porcelain", "--untracked-files=all", NULL) != 0)
		fail_msg("oracle: git status failed in %s", dir);
	return out;
}

long or_objects(ps_ctx *ctx, const char *dir)
{
	const char *out;
	long total = 0;
	if (or_git(ctx, &out, dir, "count-objects", "-v", NULL) != 0)
		fail_msg("oracle: git count-objects failed in %s", dir);
	for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (!strncmp(p, "count: ", 7))
			total += strtol(p + 7, NULL, 10);
		else if (!strncmp(p, "in-pack: ", 9))
			total += strtol(p + 9, NULL, 10);
	}
	return total;
}

int or_is_ancestor(ps_ctx *ctx, const char *dir, const char *commit, const char *rev)
{
	return or_git(ctx, NULL, dir, "merge-base", "--is-ancestor", commit, rev, NULL) == 0;
}

/* Is `rel` (relative to a git dir) one of git's own lock files?  git locks
 * a file by creating "<file>.lock" beside it: index, HEAD and the other
 * pseudo-refs at the top, refs/, packed-refs, config, shallow, logs/
 * (reflogs), objects/info/ (alternates, commit-graph) and info/.
 * Any other *.lock (an implementation's own flock file such as
 * .git/pushseal.lock or .git/myimpl.lock) is not git's: git ignores it,
 * and the contract does not judge it (docs/SPEC.md, "Lock files"). */
int or_is_git_lock(const char *rel)
{
	static const char *const top[] = { "index", "HEAD", "ORIG_HEAD", "FETCH_HEAD", "MERGE_HEAD",
		"CHERRY_PICK_HEAD", "REVERT_HEAD", "packed-refs", "config", "shallow", "description", NULL };
	size_t n = strlen(rel);
	char base[4096];
	if (n <= 5 || strcmp(rel + n - 5, ".lock") != 0)
		return 0;
	if (!strncmp(rel, "refs/", 5) || !strncmp(rel, "logs/", 5) || !strncmp(rel, "info/", 5) ||
	    !strncmp(rel, "objects/info/", 13) || !strncmp(rel, "worktrees/", 10))
		return 1;
	snprintf(base, sizeof(base), "%.*s", (int)(n - 5), rel);
	for (int i = 0; top[i]; i++)
		if (!strcmp(base, top[i]))
			return 1;
	return 0;
}

/* git's own lock files under dir (relative names from `base`). */
static int find_git_locks(char *first, size_t n, const char *dir, size_t base, int depth)
{
	DIR *d;
	struct dirent *e;
	int found = 0;
	if (depth > 10 || !(d = opendir(dir)))
		return 0;
	while ((e = readdir(d)) != NULL) {
		char path[4096];
		struct stat st;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || (depth == 0 && !strcmp(e->d_name, "objects")))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			found += find_git_locks(first, n, path, base, depth + 1);
		else if (strlen(path) > base && or_is_git_lock(path + base)) {
			if (!found && first[0] == '\0')
				snprintf(first, n, "%s", path);
			found++;
		}
	}
	closedir(d);
	return found;
}

const char *or_git_lock(ps_ctx *ctx, const char *gitdir)
{
	char *first = ctx->ring[ctx->ring_next++ % 8];
	const char *dir = ps_path(ctx, gitdir);
	first[0] = '\0';
	return find_git_locks(first, sizeof(ctx->ring[0]), dir, strlen(dir) + 1, 0) > 0 ? first : NULL;
}

/* Every ref of a repository with its target, one per line. */
const char *or_all_refs(ps_ctx *ctx, const char *dir)
{
	const char *out;
	if (or_git(ctx, &out, dir, "for-each-ref", "--format=%(refname) %(objectname)", NULL) != 0)
		fail_msg("oracle: git for-each-ref failed in %s", dir);
	return out;
}

/* 1 when the object named by `what` exists in dir. */
int or_has_object(ps_ctx *ctx, const char *dir, const char *what)
{
	return or_git(ctx, NULL, dir, "cat-file", "-e", what, NULL) == 0;
}

/* The inode and mtime of a file: a ref file rewritten (even with the same
 * value) through a lock file gets a new inode. */
const char *or_file_stamp(ps_ctx *ctx, const char *rel)
{
	struct stat st;
	if (stat(ps_path(ctx, rel), &st) != 0)
		return "absent";
	return ps_fmt(ctx, "%lu %ld.%09ld", (unsigned long)st.st_ino,
		(long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec);
}
