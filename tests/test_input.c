/* P-INPUT: bad input gets a clean failure (pull/push) or a 0 (counts), never a crash. */
#define _GNU_SOURCE
#include "harness.h"
#include "pushseal.h"

#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Run all four primitives on `rel`; pull and push must fail, counts give 0.
 * With klass != 0, a known class must equal it. */
static void all_four_refuse(ps_ctx *ctx, const char *rel, int klass)
{
	const char *path = ps_keep(ctx, rel);
	ps_result r = drv_pull(ctx, path);
	if (r.ok)
		fail_msg("pull-ff on %s succeeded: %s", rel, r.line);
	if (klass)
		expect_fail(r, klass);
	r = drv_push(ctx, path);
	if (r.ok)
		fail_msg("push-ff on %s succeeded: %s", rel, r.line);
	if (klass)
		expect_fail(r, klass);
	r = drv_remote_ahead(ctx, path);
	if (r.count != 0)
		fail_msg("remote-ahead on %s gave %ld, not 0", rel, r.count);
	if (klass && r.class_known)
		assert_int_equal(r.klass, klass);
	r = drv_local_ahead(ctx, path);
	if (r.count != 0)
		fail_msg("local-ahead on %s gave %ld, not 0", rel, r.count);
	if (klass && r.class_known)
		assert_int_equal(r.klass, klass);
}

static void missing_path(ps_ctx *ctx)
{
	all_four_refuse(ctx, "does/not/exist", 0);
	assert_false(or_exists(ctx, "does"));
}

static void plain_file(ps_ctx *ctx)
{
	fx_write(ctx, "file.txt", "not a repository\n");
	all_four_refuse(ctx, "file.txt", 0);
	assert_str(or_file(ctx, "file.txt"), "not a repository\n");
}

static void not_a_repository(ps_ctx *ctx)
{
	fx_write(ctx, "plain/readme", "hello\n");
	all_four_refuse(ctx, "plain", 0);
	assert_false(or_exists(ctx, "plain/.git"));
}

/* ---- P-INPUT-9: bad input never crashes ---------------------------------- */

/* What a crash leaves on stderr, in the languages implementations are
 * written in: a C signal, a Python traceback, a Rust or Go panic, a Java or
 * JavaScript stack. */
static const char *crash_sign(const char *err)
{
	static const char *const signs[] = { "Traceback (most recent call last)", "panicked at", "panic: ",
		"goroutine ", "stack backtrace", "Segmentation fault", "core dumped", "Exception in thread",
		"    at ", "AddressSanitizer" };
	for (size_t i = 0; i < sizeof(signs) / sizeof(signs[0]); i++)
		if (err && strstr(err, signs[i]))
			return signs[i];
	return NULL;
}

/* Lines in text ("a\nb\n" is 2, "a" is 1, "" is 0). */
static int lines_of(const char *text)
{
	int n = 0;
	for (const char *p = text; p && *p; p++)
		if (*p == '\n' || p[1] == '\0')
			n++;
	return n;
}

/* All four on `path`: pull and push exit 1 with one line on stdout, counts
 * exit 0 and print 0; never a signal, never a crash's stack on stderr. */
static void never_crashes(ps_ctx *ctx, const char *path, const char *what)
{
	static const char *const verbs[] = { "pull-ff", "push-ff", "remote-ahead", "local-ahead" };
	if (!drv_is_exec()) {
		all_four_refuse(ctx, path, 0); /* in-process: a crash fails the test by itself */
		return;
	}
	for (size_t v = 0; v < 4; v++) {
		const char *out, *err, *sign;
		int rc = drv_exec(ctx, &out, &err, verbs[v], path, NULL), counts = v >= 2;
		char err_copy[512];
		snprintf(err_copy, sizeof(err_copy), "%s", err ? err : "");
		if ((sign = crash_sign(err)) != NULL)
			fail_msg("%s on %s crashed ('%s' on stderr): %s", verbs[v], what, sign, err_copy);
		if (counts ? rc != 0 : rc != 1)
			fail_msg("%s on %s exited %d, not %d; stderr: %s", verbs[v], what, rc, counts ? 0 : 1, err_copy);
		if (counts ? strcmp(out, "0\n") != 0 && strcmp(out, "0") != 0 : lines_of(out) != 1)
			fail_msg("%s on %s printed '%s': %s", verbs[v], what, out,
				counts ? "the count must be 0" : "exactly one line is due");
	}
}

static void bad_paths_never_crash(ps_ctx *ctx)
{
	char long_path[5000];
	size_t n = 0;
	/* a symlink loop, and a path through it */
	if (symlink("loop", ps_path(ctx, "loop")) != 0)
		fail_msg("fixture: cannot make the symlink loop");
	never_crashes(ctx, ps_keep(ctx, "loop"), "a symlink loop");
	never_crashes(ctx, ps_keep(ctx, "loop/inside"), "a path through a symlink loop");
	/* a path longer than PATH_MAX (4096 bytes) */
	n = (size_t)snprintf(long_path, sizeof(long_path), "%s", ctx->root);
	while (n + 9 < sizeof(long_path) - 1)
		n += (size_t)snprintf(long_path + n, sizeof(long_path) - n, "/aaaaaaa");
	never_crashes(ctx, long_path, "a path of 4990 bytes");
	/* a path with a newline (an empty one is a usage error: exit 2, P-PROTO) */
	never_crashes(ctx, ps_keep(ctx, "two\nlines"), "a path with a newline");
}

/* Every ref of a repository, and HEAD, as one string. */
static void refs_of(ps_ctx *ctx, const char *repo, char *buf, size_t n)
{
	const char *out, *head;
	if (or_git(ctx, &out, repo, "for-each-ref", "--format=%(refname) %(objectname)", NULL) != 0)
		fail_msg("oracle: for-each-ref failed in %s", repo);
	snprintf(buf, n, "%s", out);
	if (or_git(ctx, &head, repo, "symbolic-ref", "HEAD", NULL) != 0)
		fail_msg("oracle: symbolic-ref HEAD failed in %s", repo);
	snprintf(buf + strlen(buf), n - strlen(buf), "\nHEAD %s", head);
}

static void bare_repository(ps_ctx *ctx)
{
	const char *out;
	char bare_before[4096], remote_before[4096], now[4096];
	/* A bare repository set up like a clone, so that a naive pull, push or
	 * count would have work to do: its main is 2 ahead of its upstream and
	 * its tracking ref is 1 behind the remote's main. */
	fx_bare(ctx, "remote.git", 3);
	if (or_git(ctx, &out, ".", "clone", "-q", "--bare", "remote.git", "bare.git", NULL) != 0)
		fail_msg("oracle: git clone --bare failed");
	fx_config(ctx, "bare.git", "remote.origin.url", ps_remote_url(ctx, "remote.git"));
	fx_config(ctx, "bare.git", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*");
	fx_config(ctx, "bare.git", "branch.main.remote", "origin");
	fx_config(ctx, "bare.git", "branch.main.merge", "refs/heads/main");
	if (or_git(ctx, &out, "bare.git", "update-ref", "refs/remotes/origin/main", "main~1", NULL) != 0)
		fail_msg("oracle: update-ref failed");
	fx_commit_bare(ctx, "bare.git", "main", "bare-1.txt", "1\n");
	fx_commit_bare(ctx, "bare.git", "main", "bare-2.txt", "2\n");
	assert_int_equal(or_count(ctx, "bare.git", "origin/main..main"), 3);
	long objects = or_objects(ctx, "bare.git");
	refs_of(ctx, "bare.git", bare_before, sizeof(bare_before));
	refs_of(ctx, "remote.git", remote_before, sizeof(remote_before));

	all_four_refuse(ctx, "bare.git", 0);

	refs_of(ctx, "bare.git", now, sizeof(now));
	assert_str(now, bare_before);
	refs_of(ctx, "remote.git", now, sizeof(now));
	assert_str(now, remote_before);
	assert_int_equal(or_objects(ctx, "bare.git"), objects);
	assert_false(or_exists(ctx, "bare.git/index"));
}

static void empty_repository(ps_ctx *ctx)
{
	const char *out;
	/* a clone of an empty remote ... */
	fx_bare(ctx, "empty.git", 0);
	fx_clone(ctx, "empty.git", "local");
	all_four_refuse(ctx, "local", 0);
	assert_str(or_rev(ctx, "empty.git", "refs/heads/main").hex, "");
	assert_str(or_rev(ctx, "local", "HEAD").hex, "");
	/* ... and a fresh `git init` with no remote at all */
	if (or_git(ctx, &out, ".", "init", "-q", "fresh", NULL) != 0)
		fail_msg("oracle: git init failed");
	all_four_refuse(ctx, "fresh", 0);
	assert_str(or_rev(ctx, "fresh", "HEAD").hex, "");
}

static void subdirectory_is_not_a_repo(ps_ctx *ctx)
{
	/* Two clones with a tracked sub/: "behind" is only behind (a pull from
	 * its parent would succeed, remote-ahead would say 2), "ahead" is only
	 * ahead (a push from its parent would succeed, local-ahead would say 2). */
	fx_bare(ctx, "remote.git", 2);
	fx_commit_bare(ctx, "remote.git", "main", "sub/file.txt", "in a subdirectory\n");
	fx_clone(ctx, "remote.git", "behind");
	fx_behind(ctx, "remote.git", 2);
	fx_clone(ctx, "remote.git", "ahead");
	fx_ahead(ctx, "ahead", 2);
	ps_rev tracking;
	ps_rev remote_main;
	ps_rev behind_head;
	behind_head = or_rev(ctx, "behind", "HEAD");
	tracking = or_rev(ctx, "behind", "refs/remotes/origin/main");
	remote_main = or_rev(ctx, "remote.git", "main");
	assert_str(or_file(ctx, "behind/sub/file.txt"), "in a subdirectory\n");
	assert_int_equal(or_count(ctx, "ahead", "origin/main..HEAD"), 2);

	all_four_refuse(ctx, "behind/sub", 0);
	all_four_refuse(ctx, "ahead/sub", 0);

	/* nothing was pulled, fetched or pushed through the parents */
	assert_str(or_rev(ctx, "behind", "HEAD").hex, behind_head.hex);
	assert_str(or_rev(ctx, "behind", "refs/remotes/origin/main").hex, tracking.hex);
	assert_str(or_rev(ctx, "remote.git", "main").hex, remote_main.hex);
	assert_int_equal(or_count(ctx, "ahead", "origin/main..HEAD"), 2);
	assert_str(or_status(ctx, "behind"), "");
}

static void classes_for_bad_input(ps_ctx *ctx)
{
	fx_write(ctx, "file.txt", "x\n");
	fx_write(ctx, "plain/readme", "x\n");
	all_four_refuse(ctx, "nowhere", PUSHSEAL_E_NOTREPO);
	all_four_refuse(ctx, "file.txt", PUSHSEAL_E_NOTREPO);
	all_four_refuse(ctx, "plain", PUSHSEAL_E_NOTREPO);
	fx_bare(ctx, "bare.git", 1);
	all_four_refuse(ctx, "bare.git", PUSHSEAL_E_BARE);
	fx_bare(ctx, "empty.git", 0);
	fx_clone(ctx, "empty.git", "unborn");
	all_four_refuse(ctx, "unborn", PUSHSEAL_E_UNBORN);
}

static uid_t chown_to;
static int chown_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return lchown(path, chown_to, (gid_t)-1);
}

static void foreign_owner_refused(ps_ctx *ctx)
{
	if (geteuid() != 0)
		PS_SKIP("only root can give a repository to another user (the kit runs as uid %u)", (unsigned)geteuid());
	/* diverged 1/1 once fetched: every primitive would have something to do */
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 1);
	fx_behind(ctx, "remote.git", 1);
	const char *path = ps_keep(ctx, "local");
	ps_result r[4];
	static const char *const names[4] = { "pull-ff", "push-ff", "remote-ahead", "local-ahead" };
	chown_to = 65534;
	assert_int_equal(nftw(ps_path(ctx, "local"), chown_entry, 32, FTW_PHYS), 0);
	r[0] = drv_pull(ctx, path);
	r[1] = drv_push(ctx, path);
	r[2] = drv_remote_ahead(ctx, path);
	r[3] = drv_local_ahead(ctx, path);
	/* give it back before any assertion, so that teardown can remove it */
	chown_to = 0;
	assert_int_equal(nftw(ps_path(ctx, "local"), chown_entry, 32, FTW_PHYS), 0);
	for (int i = 0; i < 4; i++) {
		if (i < 2 && r[i].ok)
			fail_msg("%s on a foreign repository succeeded: %s", names[i], r[i].line);
		if (i >= 2 && r[i].count != 0)
			fail_msg("%s on a foreign repository gave %ld, not 0", names[i], r[i].count);
		if (r[i].class_known && r[i].klass != PUSHSEAL_E_OWNER)
			fail_msg("%s: class %s, not owner: %s", names[i], pushseal_class_name(r[i].klass), r[i].line);
		/* counts print their reason on stderr, which the exec driver does not keep */
		if (i >= 2 && !r[i].class_known)
			continue;
		if (!strstr(r[i].line, "65534"))
			fail_msg("%s: the message does not name uid 65534: %s", names[i], r[i].line);
		if (strstr(r[i].line, "was not found"))
			fail_msg("%s: libgit2's misleading safe.directory text: %s", names[i], r[i].line);
	}
	assert_int_equal(or_count(ctx, "remote.git", "main"), 3);
	assert_int_equal(or_count(ctx, "local", "HEAD"), 3);
	assert_int_equal(or_count(ctx, "local", "origin/main"), 2);
}

static const struct CMUnitTest tests[] = {
	CLAUSE("P-INPUT-1", "a path that does not exist: pull and push fail, counts give 0, nothing is created", missing_path),
	CLAUSE("P-INPUT-2", "a plain file: pull and push fail, counts give 0, the file is untouched", plain_file),
	CLAUSE("P-INPUT-3", "a directory that is not a repository: pull and push fail, counts give 0, no .git appears", not_a_repository),
	CLAUSE("P-INPUT-4", "a bare repository: pull and push fail, counts give 0, its refs are unchanged", bare_repository),
	CLAUSE("P-INPUT-5", "an empty repository with an unborn branch: pull and push fail, counts give 0", empty_repository),
	CLAUSE("P-INPUT-6", "a subdirectory of a worktree never resolves to the parent repository", subdirectory_is_not_a_repo),
	CLAUSE("P-INPUT-9", "a symlink loop, a path over 4096 bytes or with a newline: no crash, exit 1 or a count of 0", bad_paths_never_crash),
	CLAUSE("P-INPUT-7", "bad input carries the classes not-a-repo, bare and unborn", classes_for_bad_input),
	CLAUSE("P-INPUT-8", "a repository owned by another user is refused as owner, naming the owner", foreign_owner_refused),
};

int main(void)
{
	ps_harness_init();
	return PS_RUN("P-INPUT", tests);
}
