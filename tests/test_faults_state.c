/*
 * F-STATE: a repository in the middle of another git operation (merge,
 * rebase, cherry-pick, bisect, a stale index.lock) gets no write.
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

/* ---- F-STATE -------------------------------------------------------------------- */

typedef struct state_row {
	const char *name;
	const char *file;    /* under .git; a trailing '/' makes a directory */
	int klass;
} state_row;

static const state_row state_rows[] = {
	{ "merge", "MERGE_HEAD", PUSHSEAL_E_INPROGRESS },
	{ "rebase-merge", "rebase-merge/", PUSHSEAL_E_INPROGRESS },
	{ "rebase-apply", "rebase-apply/", PUSHSEAL_E_INPROGRESS },
	{ "cherry-pick", "CHERRY_PICK_HEAD", PUSHSEAL_E_INPROGRESS },
	{ "bisect", "BISECT_LOG", PUSHSEAL_E_INPROGRESS },
	{ "index.lock", "index.lock", PUSHSEAL_E_LOCKED },
};

static void state_refuses(ps_ctx *ctx, const state_row *row)
{
	char first[2048];
	ps_rev remote_tip;
	ps_rev head;
	const char *local = ps_keep(ctx, "local");
	const char *wb = ps_fmt(ctx, "echo run >> '%s/marker' && echo bot >> data.txt && git add data.txt && git commit -qm 'bot: data'",
		ctx->root);
	char wbuf[1024];
	int reflog;
	snprintf(wbuf, sizeof(wbuf), "%s", wb);

	fx_pair(ctx, 2);
	fx_behind(ctx, "remote.git", 1); /* there is something to pull, too */
	head = or_rev(ctx, "local", "HEAD");
	remote_tip = or_rev(ctx, "remote.git", "main");
	if (row->file[strlen(row->file) - 1] == '/') {
		char dir[1100];
		snprintf(dir, sizeof(dir), "local/.git/%.*s", (int)strlen(row->file) - 1, row->file);
		fx_write(ctx, ps_fmt(ctx, "%s/head-name", dir), "refs/heads/main\n");
		fx_write(ctx, ps_fmt(ctx, "%s/onto", dir), ps_fmt(ctx, "%s\n", head.hex));
		if (!strcmp(row->name, "rebase-apply"))
			fx_write(ctx, ps_fmt(ctx, "%s/rebasing", dir), "");
	} else {
		fx_write(ctx, ps_fmt(ctx, "local/.git/%s", row->file),
			strcmp(row->file, "index.lock") ? ps_fmt(ctx, "%s\n", head.hex) : "");
	}
	reflog = or_reflog(ctx, "local/.git", "HEAD");

	for (int cmd = 0; cmd < 2; cmd++) {
		for (int t = 0; t < 3; t++) {
			ps_cycle_result r;
			if (cmd == 0) {
				r = drv_fix(ctx, local, wbuf);
			} else {
				const char *repos[] = { local };
				drv_run(ctx, t % 2, "false", wbuf, repos, 1, &r);
			}
			if (r.exit_code != 1 || strcmp(r.skipped, "c16") || r.wrote || r.sealed)
				fail_msg("%s: %s tick %d did not refuse as c16 with exit 1: %s", row->name,
					cmd ? "run" : "fix", t + 1, r.json);
			if (t == 0)
				snprintf(first, sizeof(first), "%s", r.json);
			else if (strcmp(first, r.json))
				fail_msg("%s: %s tick %d reported something else:\n  %s\n  %s", row->name,
					cmd ? "run" : "fix", t + 1, first, r.json);
		}
	}
	if (!drv_is_exec()) {
		pushseal_report rep;
		int rc = lib_fix(&rep, local, wbuf);
		assert_int_equal(rc, row->klass);
		assert_int_equal(rep.error.klass, row->klass);
		rc = lib_tick(&rep, local, 1, "false", wbuf, PUSHSEAL_DIVERGE_STOP);
		assert_int_equal(rep.error.klass, row->klass);
		assert_int_equal(rc, row->klass);
	}
	/* nothing written, the other operation's state kept */
	assert_int_equal(marker_runs(ctx, "marker"), 0);
	assert_str(or_rev(ctx, "local", "HEAD").hex, head.hex);
	assert_str(or_rev(ctx, "remote.git", "main").hex, remote_tip.hex);
	assert_int_equal(or_reflog(ctx, "local/.git", "HEAD"), reflog);
	assert_true(or_exists(ctx, ps_fmt(ctx, "local/.git/%.*s", (int)strcspn(row->file, "/"), row->file)));
}

static void state_merge(ps_ctx *ctx) { state_refuses(ctx, &state_rows[0]); }
static void state_rebase_merge(ps_ctx *ctx) { state_refuses(ctx, &state_rows[1]); }
static void state_rebase_apply(ps_ctx *ctx) { state_refuses(ctx, &state_rows[2]); }
static void state_cherry_pick(ps_ctx *ctx) { state_refuses(ctx, &state_rows[3]); }
static void state_bisect(ps_ctx *ctx) { state_refuses(ctx, &state_rows[4]); }
static void state_index_lock(ps_ctx *ctx) { state_refuses(ctx, &state_rows[5]); }

static const struct CMUnitTest tests[] = {
	CLAUSE("F-STATE-1", "during a merge (MERGE_HEAD) fix and run refuse every write as c16, tick after tick", state_merge),
	CLAUSE("F-STATE-2", "during a rebase (.git/rebase-merge) fix and run refuse every write", state_rebase_merge),
	CLAUSE("F-STATE-3", "during a rebase or am (.git/rebase-apply) fix and run refuse every write", state_rebase_apply),
	CLAUSE("F-STATE-4", "during a cherry-pick (CHERRY_PICK_HEAD) fix and run refuse every write", state_cherry_pick),
	CLAUSE("F-STATE-5", "during a bisect (BISECT_LOG) fix and run refuse every write", state_bisect),
	CLAUSE("F-STATE-6", "a stale .git/index.lock makes fix and run refuse every write (locked) and keep it", state_index_lock),
};

int main(void)
{
	ps_harness_init();
	return PS_RUN("F-STATE", tests);
}
