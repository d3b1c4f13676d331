/*
 * F-CRASH: a fix killed with SIGKILL at each step of the cycle (after the
 * fetch, mid-checkout, after the commit, mid-push, at random) converges on
 * the next tick, losing nothing.
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

/* ---- F-CRASH ---------------------------------------------------------------------- */

typedef struct crash_row {
	const char *name;
	crash_point point;
	int runs;
} crash_row;

/* The scenario every row starts from, under prefix P/: remote.git with 2
 * commits, clone local, and then per point:
 *  - fetch/checkout: the remote gained BIG_FILES files (a slow checkout);
 *  - random: the remote gained one commit (pull, writeback, seal);
 *  - commit/push: nothing upstream, the writeback commits. */
static void crash_setup(ps_ctx *ctx, const char *p, crash_point point)
{
	fx_bare(ctx, ps_fmt(ctx, "%s/remote.git", p), 2);
	fx_clone(ctx, ps_fmt(ctx, "%s/remote.git", p), ps_fmt(ctx, "%s/local", p));
	if (point == AT_RANDOM)
		fx_behind(ctx, ps_fmt(ctx, "%s/remote.git", p), 1);
	if (point == AFTER_FETCH || point == DURING_CHECKOUT) {
		const char *cmd = ps_fmt(ctx,
			"set -e; cd '%s/%s' && git clone -q remote.git helper && cd helper && mkdir big && "
			"i=0; while [ $i -lt %d ]; do echo \"file $i\" > big/f$i; i=$((i+1)); done; "
			"git add big && git commit -qm 'human: big' && git push -q origin main",
			ctx->root, p, BIG_FILES);
		if (system(cmd) != 0)
			fail_msg("fixture: cannot build the big upstream commit");
	}
}

/* After the kill, one tick with no check must converge and lose nothing. */
static void crash_converges(ps_ctx *ctx, const char *p, const char *before_remote, const char *before_local)
{
	char local[1100], remote[1100], gitdir[1200];
	const char *repos[1];
	ps_cycle_result r[1];
	int rc;
	snprintf(local, sizeof(local), "%s/local", p);
	snprintf(remote, sizeof(remote), "%s/remote.git", p);
	snprintf(gitdir, sizeof(gitdir), "%s/local/.git", p);
	repos[0] = ps_keep(ctx, local);

	rc = drv_run(ctx, 1, NULL, NULL, repos, 1, r);
	if (rc != 0)
		fail_msg("%s: the tick after the kill exited %d: %s", p, rc, r[0].json);
	/* no lost commit: everything made before or during the killed run */
	if (!or_is_ancestor(ctx, remote, before_remote, "main"))
		fail_msg("%s: the remote lost its old tip %s", p, before_remote);
	if (!or_is_ancestor(ctx, remote, before_local, "main"))
		fail_msg("%s: the local tip %s before the kill is not on the remote", p, before_local);
	{
		char commits[4096];
		const char *c = or_file(ctx, ps_fmt(ctx, "%s/commits", p));
		snprintf(commits, sizeof(commits), "%s", c ? c : "");
		for (char *line = strtok(commits, "\n"); line; line = strtok(NULL, "\n"))
			if (!or_is_ancestor(ctx, remote, line, "main"))
				fail_msg("%s: the writeback's commit %s was lost", p, line);
	}
	/* converged: local == tracking == remote, the worktree is HEAD's tree */
	{
		ps_rev tip;
		tip = or_rev(ctx, remote, "main");
		assert_str(or_rev(ctx, local, "HEAD").hex, tip.hex);
		assert_str(or_rev(ctx, local, "origin/main").hex, tip.hex);
	}
	{
		/* a kill inside the writeback itself may leave the writeback's own
		 * half-made edit (data.txt): that is the caller's, never pushseal's */
		const char *status = or_status(ctx, local);
		if (*status && (strchr(status, '\n') || strlen(status) < 3 || strcmp(status + 3, "data.txt") != 0))
			fail_msg("%s: the worktree is neither the old tree nor the new one: %s", p, status);
	}
	assert_int_equal(merges(ctx, local, "HEAD"), 0);
	assert_fsck_clean(ctx, local);
	assert_fsck_clean(ctx, remote);
	assert_no_locks(ctx, gitdir);
	assert_no_locks(ctx, remote);
}

static unsigned int lcg(unsigned int *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) & 0x7fff;
}

static const crash_row crash_rows[] = {
	{ "after-fetch", AFTER_FETCH, 1 },
	{ "during-checkout", DURING_CHECKOUT, 1 },
	{ "after-commit", AFTER_COMMIT, 1 },
	{ "during-push", DURING_PUSH, 1 },
	{ "random", AT_RANDOM, 6 },
};

/* One row of the table: `runs` kills, each in a fresh pair under ROW-K/. */
static void crash_row_run(ps_ctx *ctx, const crash_row *row)
{
	unsigned int seed = 0xF417u;
	long span_ms = 0;
	int hits = 0;
	for (int k = 0; k < row->runs; k++) {
		char p[64];
		ps_rev before_remote;
		ps_rev before_local;
		long delay = 0;
		pid_t leader;
		int objects;
		snprintf(p, sizeof(p), "%s-%d", row->name, k);
		crash_setup(ctx, p, row->point);
		before_remote = or_rev(ctx, ps_fmt(ctx, "%s/remote.git", p), "main");
		before_local = or_rev(ctx, ps_fmt(ctx, "%s/local", p), "HEAD");
		objects = object_entries(ctx, ps_fmt(ctx, "%s/remote.git", p));
		if (row->point == AT_RANDOM) {
			if (span_ms == 0) {
				/* calibrate: how long one whole cycle takes here */
				long long t0;
				crash_setup(ctx, "calibrate", AT_RANDOM);
				t0 = ps_mono_ms();
				leader = start_cycle(ctx, ps_keep(ctx, "calibrate/local"),
					crash_writeback(ctx, "calibrate", AT_RANDOM), 0);
				reap(leader);
				span_ms = (long)(ps_mono_ms() - t0) + 1;
			}
			delay = (long)(lcg(&seed) % (unsigned int)span_ms);
		}
		leader = start_cycle(ctx, ps_keep(ctx, ps_fmt(ctx, "%s/local", p)),
			crash_writeback(ctx, p, row->point), 0);
		hits += crash_hit(ctx, p, row->point, leader, row->point == DURING_PUSH ? before_remote.hex : before_local.hex,
			objects, delay);
		/* the process running fix dies; what it started runs on, as after an
		 * OOM kill.  During the push its whole group dies, or the push (in a
		 * child process, in the reference) would simply finish. */
		kill_cycle(leader, row->point == DURING_PUSH);
		crash_converges(ctx, p, before_remote.hex, before_local.hex);
	}
	print_message("F-CRASH %s: step hit in %d of %d run(s)%s\n", row->name, hits, row->runs,
		row->point == AT_RANDOM ? ps_fmt(ctx, " (delays in [0, %ld) ms, seed 0xF417)", span_ms) : "");
}

static void crash_after_fetch(ps_ctx *ctx) { crash_row_run(ctx, &crash_rows[0]); }
/* A SIGKILL during the checkout leaves the branch ref lock, index.lock and a
 * half-written worktree; the next run's crash-journal recovery must clear
 * exactly those and complete the pull (src/journal.c). */
static void crash_during_checkout(ps_ctx *ctx) { crash_row_run(ctx, &crash_rows[1]); }
static void crash_after_commit(ps_ctx *ctx) { crash_row_run(ctx, &crash_rows[2]); }
/* Killed while the push holds the REMOTE's ref lock (for a path remote the
 * client does the server's work): the next push must clear that lock. */
static void crash_during_push(ps_ctx *ctx) { crash_row_run(ctx, &crash_rows[3]); }
/* Killed at seeded random points of a whole cycle (any of the above). */
static void crash_at_random(ps_ctx *ctx) { crash_row_run(ctx, &crash_rows[4]); }

static const struct CMUnitTest tests[] = {
	CLAUSE("F-CRASH-1", "a fix killed right after its fetch converges next tick with nothing lost and no lock", crash_after_fetch),
	CLAUSE("F-CRASH-2", "a fix killed mid checkout converges next tick: no stale lock, worktree done, nothing lost", crash_during_checkout),
	CLAUSE("F-CRASH-3", "a fix killed right after the writeback's commit converges: sealed, fsck clean, no lock", crash_after_commit),
	CLAUSE("F-CRASH-4", "a fix killed (whole group) mid seal push converges next tick: sealed, fsck clean, no lock", crash_during_push),
	CLAUSE("F-CRASH-5", "fixes killed at 6 seeded random points each converge next tick, losing nothing", crash_at_random),
};

int main(void)
{
	ps_harness_init();
	return PS_RUN("F-CRASH", tests);
}
