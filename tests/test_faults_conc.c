/*
 * F-CONC: concurrent ticks (two runs on one repo, four clones, a person
 * pushing mid-seal) lose no commit.
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

/* ---- F-CONC --------------------------------------------------------------------- */

/* One tick in this process (in-process or the command) with the rebase
 * policy; returns the exit code, and 10 when skipped as locked. */
static int conc_tick(ps_ctx *ctx, const char *repo, const char *wb, int rebase)
{
	if (drv_is_exec()) {
		const char *out, *err;
		int rc = rebase
			? drv_exec(ctx, &out, &err, "run", "--remote", "--on-diverge=rebase", "--check", "false", "--writeback", wb, repo, NULL)
			: drv_exec(ctx, &out, &err, "run", "--remote", "--check", "false", "--writeback", wb, repo, NULL);
		if (strstr(out, "\"skipped\":\"locked\""))
			return 10;
		return rc;
	} else {
		pushseal_report rep;
		int rc = lib_tick(&rep, repo, 1, "false", wb, rebase ? PUSHSEAL_DIVERGE_REBASE : PUSHSEAL_DIVERGE_STOP);
		if (rep.skipped == PUSHSEAL_SKIP_LOCKED)
			return 10;
		return rc == 0 && rep.sealed ? 0 : 1;
	}
}

static void wait_for_file(ps_ctx *ctx, const char *rel)
{
	for (int i = 0; i < 3000 && !or_exists(ctx, rel); i++)
		sleep_ms(2);
}

static void conc_two_runs_one_repo(ps_ctx *ctx)
{
	pid_t pids[2];
	int codes[2], ran;
	fx_pair(ctx, 2);
	const char *repo = ps_keep(ctx, "local");
	static char wb[1200];
	snprintf(wb, sizeof(wb),
		"echo run >> '%s/marker' && echo bot >> data.txt && git add data.txt && git commit -qm 'bot: data' && sleep 0.5",
		ctx->root);
	for (int i = 0; i < 2; i++) {
		fflush(NULL);
		if ((pids[i] = fork()) == 0) {
			wait_for_file(ctx, "go");
			_exit(conc_tick(ctx, repo, wb, 0));
		}
	}
	fx_write(ctx, "go", "");
	for (int i = 0; i < 2; i++) {
		int st = reap(pids[i]);
		codes[i] = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
	/* one sealed; the other locked out, or serialised after it and sealed too */
	ran = (codes[0] == 0) + (codes[1] == 0);
	if (!((codes[0] == 0 || codes[0] == 10) && (codes[1] == 0 || codes[1] == 10) && ran >= 1))
		fail_msg("two runs ended %d and %d (0 sealed, 10 locked)", codes[0], codes[1]);
	assert_int_equal(marker_runs(ctx, "marker"), ran);
	assert_int_equal(or_count(ctx, "remote.git", "main"), 2 + ran);
	assert_str(or_rev(ctx, "remote.git", "main").hex, or_rev(ctx, "local", "HEAD").hex);
	assert_int_equal(merges(ctx, "local", "HEAD"), 0);
	assert_str(or_status(ctx, "local"), "");
	assert_fsck_clean(ctx, "local");
	assert_no_locks(ctx, "local/.git");
}

#define CONC_CLONES 4
#define CONC_TICKS 5

/* N clones of one remote tick concurrently; every writeback commit has a
 * unique subject, logged once made.  At the end: nothing lost, no merge,
 * every clone == remote. */
static void conc_clones(ps_ctx *ctx, int rebase)
{
	pid_t pids[CONC_CLONES];
	fx_bare(ctx, "remote.git", 2);
	for (int c = 0; c < CONC_CLONES; c++)
		fx_clone(ctx, "remote.git", ps_fmt(ctx, "c%d", c));
	for (int c = 0; c < CONC_CLONES; c++) {
		fflush(NULL);
		if ((pids[c] = fork()) == 0) {
			const char *repo = ps_keep(ctx, ps_fmt(ctx, "c%d", c));
			wait_for_file(ctx, "go");
			for (int t = 0; t < CONC_TICKS; t++) {
				const char *wb = ps_fmt(ctx,
					"echo %d-%d > c%d-t%d.txt && git add c%d-t%d.txt && git commit -qm 'bot: c%d t%d' && "
					"echo 'bot: c%d t%d' >> '%s/made'", c, t, c, t, c, t, c, t, c, t, ctx->root);
				int rc = conc_tick(ctx, repo, wb, rebase);
				(void)rc;
			}
			_exit(0);
		}
	}
	fx_write(ctx, "go", "");
	for (int c = 0; c < CONC_CLONES; c++)
		reap(pids[c]);
	/* a final converging tick per clone, twice round so each sees the others' last push */
	for (int round = 0; round < 2; round++)
		for (int c = 0; c < CONC_CLONES; c++)
			if (conc_tick(ctx, ps_keep(ctx, ps_fmt(ctx, "c%d", c)), "true", rebase) != 0)
				fail_msg("clone c%d did not converge in round %d", c, round + 1);
	{
		char made[4096], subjects[4096 * 4];
		ps_rev tip;
		const char *log;
		tip = or_rev(ctx, "remote.git", "main");
		for (int c = 0; c < CONC_CLONES; c++) {
			const char *clone = ps_fmt(ctx, "c%d", c);
			assert_str(or_rev(ctx, clone, "HEAD").hex, tip.hex);
			assert_str(or_status(ctx, clone), "");
			assert_no_locks(ctx, ps_fmt(ctx, "c%d/.git", c));
		}
		assert_int_equal(merges(ctx, "remote.git", "main"), 0);
		assert_fsck_clean(ctx, "remote.git");
		or_git(ctx, &log, "remote.git", "log", "--format=%s", "main", NULL);
		snprintf(subjects, sizeof(subjects), "\n%s\n", log);
		log = or_file(ctx, "made");
		snprintf(made, sizeof(made), "%s", log ? log : "");
		int n_made = 0;
		for (char *line = strtok(made, "\n"); line; line = strtok(NULL, "\n")) {
			char needle[128];
			char *hit;
			snprintf(needle, sizeof(needle), "\n%s\n", line);
			n_made++;
			if (!(hit = strstr(subjects, needle)))
				fail_msg("the commit '%s' was lost: it is not on the remote", line);
			if (strstr(hit + 1, needle))
				fail_msg("the commit '%s' is on the remote twice", line);
		}
		assert_true(n_made >= 1);
		print_message("F-CONC: %d writeback commits from %d clones x %d ticks, all on the remote\n",
			n_made, CONC_CLONES, CONC_TICKS);
	}
}

static void conc_four_clones(ps_ctx *ctx)
{
	conc_clones(ctx, 1);
}

/* A person pushes while our seal push is frozen after it read the remote's
 * refs and began writing objects: git's receive-pack updates the ref only if
 * it still has the old value, so one of the two pushes must fail and the
 * person's commit must stay on the remote. */
static void conc_push_race_drops_nothing(ps_ctx *ctx)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		char p[32], remote[64], human[64];
		ps_rev person;
		ps_rev base;
		const char *wb;
		pid_t leader;
		int objects, st;
		snprintf(p, sizeof(p), "race-%d", attempt);
		snprintf(remote, sizeof(remote), "%s/remote.git", p);
		snprintf(human, sizeof(human), "%s/human", p);
		fx_bare(ctx, remote, 2);
		fx_clone(ctx, remote, ps_fmt(ctx, "%s/local", p));
		fx_clone(ctx, remote, human);
		base = or_rev(ctx, remote, "main");
		objects = object_entries(ctx, remote);
		wb = crash_writeback(ctx, p, DURING_PUSH);
		leader = start_cycle(ctx, ps_keep(ctx, ps_fmt(ctx, "%s/local", p)), wb, 0);
		if (!crash_hit(ctx, p, DURING_PUSH, leader, base.hex, objects, 0)) {
			kill_cycle(leader, 1);
			continue; /* the push finished before it could be frozen: again */
		}
		/* frozen mid-push: the person commits and pushes with git.  Either
		 * their push fails visibly (the remote ref is locked) and their commit
		 * stays theirs, or it lands and ours must not overwrite it. */
		int person_pushed = system(ps_fmt(ctx, "cd '%s/%s' && git commit -q --allow-empty -m 'human: work' && git push -q origin main 2>/dev/null",
			ctx->root, human)) == 0;
		person = or_rev(ctx, human, "HEAD");
		kill(-leader, SIGCONT);
		st = reap(leader);
		kill_cycle(leader, 1);
		if (person_pushed && !or_is_ancestor(ctx, remote, person.hex, "main"))
			fail_msg("the person's commit %s was dropped from the remote by a racing push (fix exited %d; remote main is %s, base %s)",
				person.hex, WIFEXITED(st) ? WEXITSTATUS(st) : -1, or_rev(ctx, remote, "main").hex, base.hex);
		if (!person_pushed && strcmp(or_rev(ctx, human, "HEAD").hex, person.hex) != 0)
			fail_msg("the person's refused push lost their commit");
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
		    !or_is_ancestor(ctx, remote, or_rev(ctx, ps_fmt(ctx, "%s/local", p), "HEAD").hex, "main"))
			fail_msg("fix reported sealed but its commit is not on the remote");
		return;
	}
	/* nothing was checked: say so, rather than pass */
	PS_SKIP("the push was never caught mid-way in 3 attempts (it finished too fast to race)");
}

static const struct CMUnitTest tests[] = {
	CLAUSE("F-CONC-1", "two runs on one repo at once lose and merge no commit, and one of them seals", conc_two_runs_one_repo),
	CLAUSE("F-CONC-2", "four clones ticking at once (rebase policy) lose no commit and converge", conc_four_clones),
	SERVER_CLAUSE("F-CONC-3", "a person's push landing while our seal push is in flight is never overwritten", conc_push_race_drops_nothing),
};

int main(void)
{
	ps_harness_init();
	return PS_RUN("F-CONC", tests);
}
