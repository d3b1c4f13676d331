/*
 * F-PATH: hostile paths (symlink loops, dangling links, 4096+ bytes, odd
 * bytes in names) get clean failures, or work.
 * Kill points and shared helpers: faults_common.h.
 */
#define _GNU_SOURCE
#include "faults_common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- F-PATH ----------------------------------------------------------------------- */

/* Every command on a path that is not a usable repository: pull, push, fix
 * and run fail with exit 1, counts print 0 with exit 0, nothing crashes. */
static void all_commands_refuse(ps_ctx *ctx, const char *path, const char *what)
{
	const char *wb = ps_fmt(ctx, "echo run >> '%s/marker'", ctx->root);
	char wbuf[1024];
	snprintf(wbuf, sizeof(wbuf), "%s", wb);
	ps_result r = drv_pull(ctx, path);
	if (r.ok)
		fail_msg("%s: pull-ff succeeded", what);
	r = drv_push(ctx, path);
	if (r.ok)
		fail_msg("%s: push-ff succeeded", what);
	r = drv_remote_ahead(ctx, path);
	assert_int_equal(r.count, 0);
	r = drv_local_ahead(ctx, path);
	assert_int_equal(r.count, 0);
	if (drv_is_exec() && strlen(path) > 3000) {
		/* the harness's JSON reader holds 4 KiB: read the exit code and the line's start */
		const char *out, *err;
		int rc = drv_exec(ctx, &out, &err, "fix", path, "--writeback", wbuf, NULL);
		if (rc != 1 || strncmp(out, "{", 1))
			fail_msg("%s: fix exited %d: %.200s %.200s", what, rc, out, err);
		rc = drv_exec(ctx, &out, &err, "run", "--check", "false", "--writeback", wbuf, path, NULL);
		if (rc != 1 || strncmp(out, "{", 1))
			fail_msg("%s: run exited %d: %.200s %.200s", what, rc, out, err);
	} else {
		const char *repos[] = { path };
		ps_cycle_result c = drv_fix(ctx, path, wbuf);
		if (c.exit_code != 1 || c.sealed || c.wrote)
			fail_msg("%s: fix did not fail cleanly: %s", what, c.json);
		if (drv_run(ctx, 1, "false", wbuf, repos, 1, &c) != 1 || c.sealed || c.wrote)
			fail_msg("%s: run did not fail cleanly: %s", what, c.json);
	}
	assert_int_equal(marker_runs(ctx, "marker"), 0);
	if (!drv_is_exec()) {
		pushseal_error e;
		size_t n = 7;
		int rc = pushseal_count_local_ahead(&n, path, &e);
		if (rc != PUSHSEAL_E_NOTREPO && rc != PUSHSEAL_E_INVALID)
			fail_msg("%s: class %s, not not-a-repo or invalid: %s", what, pushseal_class_name(rc), e.message);
	}
}

static void path_symlink_loop(ps_ctx *ctx)
{
	assert_int_equal(symlink("loop-b", ps_path(ctx, "loop-a")), 0);
	assert_int_equal(symlink("loop-a", ps_path(ctx, "loop-b")), 0);
	all_commands_refuse(ctx, ps_keep(ctx, "loop-a"), "symlink loop");
	all_commands_refuse(ctx, ps_keep(ctx, "loop-a/sub"), "path through a symlink loop");
}

static void path_dangling_symlink(ps_ctx *ctx)
{
	assert_int_equal(symlink("nowhere", ps_path(ctx, "dangling")), 0);
	all_commands_refuse(ctx, ps_keep(ctx, "dangling"), "dangling symlink");
	assert_false(or_exists(ctx, "nowhere"));
}

static void path_too_long(ps_ctx *ctx)
{
	static char longpath[4300];
	fx_pair(ctx, 1);
	/* a real repository at the start of the path: nothing may resolve to it */
	int n = snprintf(longpath, sizeof(longpath), "%s/local", ctx->root);
	while (n < 4200)
		n += snprintf(longpath + n, sizeof(longpath) - (size_t)n, "/%s", "d123456789");
	all_commands_refuse(ctx, longpath, "a 4200-byte path");
	snprintf(longpath, sizeof(longpath), "%s/", ctx->root);
	memset(longpath + strlen(longpath), 'x', 4150);
	all_commands_refuse(ctx, longpath, "a 4150-byte file name");
	assert_int_equal(or_count(ctx, "remote.git", "main"), 1);
}

static void path_odd_names_work(ps_ctx *ctx)
{
	static const char *const names[] = { "with space", "new\nline", "bad\xff" "byte\xc3", " lead and trail " };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char bare[32];
		ps_rev tip;
		const char *repo;
		ps_cycle_result r;
		snprintf(bare, sizeof(bare), "p%zu.git", i);
		fx_bare(ctx, bare, 2);
		fx_clone(ctx, bare, names[i]);
		repo = ps_keep(ctx, names[i]);
		fx_ahead(ctx, names[i], 1);
		/* fix seals the backlog and the writeback's commit */
		r = drv_fix(ctx, repo, ps_fmt(ctx, "echo x >> data.txt && git add data.txt && git commit -qm 'bot: %zu'", i));
		if (r.exit_code != 0 || !r.sealed)
			fail_msg("fix on %s did not seal: %s", names[i], r.json);
		tip = or_rev(ctx, names[i], "HEAD");
		assert_str(or_rev(ctx, bare, "main").hex, tip.hex);
		assert_int_equal(or_count(ctx, bare, "main"), 4);
		/* a tick pulls what landed upstream, then writes and seals */
		fx_behind(ctx, bare, 1);
		{
			const char *repos[] = { repo };
			ps_cycle_result t[1];
			if (drv_run(ctx, 1, "false", "echo y >> data.txt && git commit -qam 'bot: tick'", repos, 1, t) != 0 || !t[0].sealed)
				fail_msg("run on %s did not seal: %s", names[i], t[0].json);
		}
		tip = or_rev(ctx, names[i], "HEAD");
		assert_str(or_rev(ctx, bare, "main").hex, tip.hex);
		assert_int_equal(or_count(ctx, bare, "main"), 6);
		assert_str(or_status(ctx, names[i]), "");
		assert_int_equal(drv_local_ahead(ctx, repo).count, 0);
		assert_int_equal(drv_remote_ahead(ctx, repo).count, 0);
	}
}

static const struct CMUnitTest tests[] = {
	CLAUSE("F-PATH-1", "a symlink loop, or a path through one, fails cleanly in every command", path_symlink_loop),
	CLAUSE("F-PATH-2", "a dangling symlink gets a clean failure from every command and creates nothing", path_dangling_symlink),
	CLAUSE("F-PATH-3", "paths of 4096+ bytes fail cleanly and never resolve to a repo on their prefix", path_too_long),
	CLAUSE("F-PATH-4", "repos whose paths hold spaces, newlines or non-UTF-8 bytes are fixed and counted", path_odd_names_work),
};

int main(void)
{
	ps_harness_init();
	return PS_RUN("F-PATH", tests);
}
