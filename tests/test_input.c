/* P-INPUT: bad input gets a clean failure (pull/push) or a 0 (counts), never a crash. */
#define _GNU_SOURCE
#include "harness.h"
#include "pushseal.h"

#include <ftw.h>
#include <stdlib.h>
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

static void bare_repository(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_behind(ctx, "remote.git", 1);
	const char *before;
	or_git(ctx, &before, "remote.git", "for-each-ref", NULL);
	char refs[4096];
	snprintf(refs, sizeof(refs), "%s", before);
	all_four_refuse(ctx, "remote.git", 0);
	const char *after;
	or_git(ctx, &after, "remote.git", "for-each-ref", NULL);
	assert_str(after, refs);
}

static void empty_repository(ps_ctx *ctx)
{
	fx_bare(ctx, "empty.git", 0);
	fx_clone(ctx, "empty.git", "local");
	all_four_refuse(ctx, "local", 0);
	assert_str(or_rev(ctx, "empty.git", "refs/heads/main"), "");
}

static void subdirectory_is_not_a_repo(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_commit(ctx, "local", "sub/file.txt", "in a subdirectory\n");
	fx_behind(ctx, "remote.git", 1);
	/* the parent repo is both ahead and behind: any upward search would show */
	all_four_refuse(ctx, "local/sub", 0);
	assert_int_equal(or_count(ctx, "local", "origin/main..HEAD"), 1);
	assert_int_equal(or_count(ctx, "remote.git", "main"), 3);
}

static void classes_for_bad_input(ps_ctx *ctx)
{
	PS_REQUIRE_EXT();
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
	PS_REQUIRE_EXT();
	if (geteuid() != 0)
		skip(); /* only root can give a repository away */
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 1);
	chown_to = 65534;
	assert_int_equal(nftw(ps_path(ctx, "local"), chown_entry, 32, FTW_PHYS), 0);
	ps_result r = drv_push(ctx, ps_keep(ctx, "local"));
	chown_to = 0;
	nftw(ps_path(ctx, "local"), chown_entry, 32, FTW_PHYS);
	expect_fail(r, PUSHSEAL_E_OWNER);
	assert_non_null(strstr(r.line, "65534"));
	assert_null(strstr(r.line, "config value 'safe.directory' was not found"));
	assert_int_equal(or_count(ctx, "remote.git", "main"), 2);
}

static const struct CMUnitTest tests[] = {
	CLAUSE("P-INPUT-1", "a path that does not exist: pull and push fail, counts give 0, nothing is created", missing_path),
	CLAUSE("P-INPUT-2", "a plain file: pull and push fail, counts give 0, the file is untouched", plain_file),
	CLAUSE("P-INPUT-3", "a directory that is not a repository: pull and push fail, counts give 0, no .git appears", not_a_repository),
	CLAUSE("P-INPUT-4", "a bare repository: pull and push fail, counts give 0, its refs are unchanged", bare_repository),
	CLAUSE("P-INPUT-5", "an empty repository with an unborn branch: pull and push fail, counts give 0", empty_repository),
	CLAUSE("P-INPUT-6", "a subdirectory of a worktree never resolves to the parent repository", subdirectory_is_not_a_repo),
	CLAUSE("P-INPUT-7", "bad input carries the classes not-a-repo, bare and unborn", classes_for_bad_input),
	CLAUSE("P-INPUT-8", "a repository owned by another user is refused with class owner and a message naming the owner", foreign_owner_refused),
};

int main(void)
{
	ps_harness_init();
	return PS_RUN("P-INPUT", tests);
}
