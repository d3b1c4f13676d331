/*
 * The reference's extended cycle features, through its command line:
 * the divergence policy, --commit-message, the per-repo lock, status,
 * --all and --list.  Runs against PUSHSEAL_IMPL when it opts into extended
 * clauses (PUSHSEAL_EXT=all), else against the built `pushseal`.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>


static int count_lines(const char *s)
{
	int n = 0;
	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

static void field(char *dst, size_t n, const char *json, const char *key)
{
	ps_json_field(dst, n, json, key);
}

static const char *human_race_writeback(ps_ctx *ctx)
{
	return ps_fmt(ctx,
		"echo bot >> data.txt && git add data.txt && git commit -qm 'bot: data' && "
		"git -C '%s/human' commit -q --allow-empty -m 'human work' && git -C '%s/human' push -q origin main",
		ctx->root, ctx->root);
}

/* Make `local` diverge by racing a person's push against our seal. */
static void diverge_by_race(ps_ctx *ctx)
{
	const char *out, *err;
	fx_pair(ctx, 2);
	fx_clone(ctx, "remote.git", "human");
	or_git(ctx, NULL, "human", "config", "user.email", "person@example.invalid", NULL);
	assert_int_equal(drv_exec(ctx, &out, &err, "fix", ps_keep(ctx, "local"), "--writeback",
		human_race_writeback(ctx), NULL), 1);
}

static void rebase_heals_writer_race(ps_ctx *ctx)
{
	const char *out, *err;
	char skipped[16];
	ps_rev human;
	diverge_by_race(ctx);
	human = or_rev(ctx, "remote.git", "main");
	int rc = drv_exec(ctx, &out, &err, "fix", ps_keep(ctx, "local"), "--on-diverge=rebase", NULL);
	if (rc != 0)
		fail_msg("fix --on-diverge=rebase exited %d: %s %s", rc, out, err);
	field(skipped, sizeof(skipped), out, "skipped");
	assert_str(skipped, "null");
	/* healed in one tick: the person's commit kept, ours on top, no merge */
	assert_str(or_rev(ctx, "local", "HEAD").hex, or_rev(ctx, "remote.git", "main").hex);
	assert_str(or_rev(ctx, "local", "HEAD~1").hex, human.hex);
	assert_int_equal(or_count(ctx, "local", "HEAD"), 4);
	const char *m;
	or_git(ctx, &m, "local", "rev-list", "--merges", "--count", "HEAD", NULL);
	assert_str(m, "0");
	assert_str(or_file(ctx, "local/data.txt"), "bot\n");
}

static void rebase_never_moves_a_persons_commit(ps_ctx *ctx)
{
	const char *out, *err;
	char skipped[16];
	ps_rev remote_before;
	ps_rev local_before;
	fx_pair(ctx, 2);
	fx_clone(ctx, "remote.git", "human");
	/* a person committed in the writer's clone; the remote moved meanwhile */
	or_git(ctx, NULL, "local", "-c", "user.email=person@example.invalid", "commit", "-q", "--allow-empty", "-m", "person in bot clone", NULL);
	fx_behind(ctx, "remote.git", 1);
	remote_before = or_rev(ctx, "remote.git", "main");
	local_before = or_rev(ctx, "local", "HEAD");
	int rc = drv_exec(ctx, &out, &err, "fix", ps_keep(ctx, "local"), "--on-diverge=rebase", NULL);
	assert_int_equal(rc, 1);
	field(skipped, sizeof(skipped), out, "skipped");
	assert_str(skipped, "c16");
	assert_non_null(strstr(out, "never rebased"));
	assert_str(or_rev(ctx, "local", "HEAD").hex, local_before.hex);
	assert_str(or_rev(ctx, "remote.git", "main").hex, remote_before.hex);
}

static void rebase_refuses_conflict(ps_ctx *ctx)
{
	const char *out, *err;
	ps_rev local_before;
	fx_pair(ctx, 2);
	fx_commit(ctx, "local", "log.txt", "writer's version\n");
	fx_commit_bare(ctx, "remote.git", "main", "log.txt", "upstream's version\n");
	local_before = or_rev(ctx, "local", "HEAD");
	int rc = drv_exec(ctx, &out, &err, "fix", ps_keep(ctx, "local"), "--on-diverge=rebase",
		"--writer-email", "test@pushseal.invalid", NULL);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "rebase cleanly"));
	assert_str(or_rev(ctx, "local", "HEAD").hex, local_before.hex);
	assert_str(or_file(ctx, "local/log.txt"), "writer's version\n");
}

static void default_policy_stays_stuck(ps_ctx *ctx)
{
	const char *out, *err;
	char skipped[16];
	diverge_by_race(ctx);
	assert_int_equal(drv_exec(ctx, &out, &err, "fix", ps_keep(ctx, "local"), NULL), 1);
	field(skipped, sizeof(skipped), out, "skipped");
	assert_str(skipped, "c16");
	assert_non_null(strstr(out, "diverged"));
}

static void commit_message_commits_leftovers_once(ps_ctx *ctx)
{
	const char *out, *err;
	fx_pair(ctx, 2);
	const char *wb = "echo report > report.txt && echo more >> log.txt";
	assert_int_equal(drv_exec(ctx, &out, &err, "fix", ps_keep(ctx, "local"), "--writeback", wb,
		"--commit-message", "bot: nightly report", NULL), 0);
	assert_int_equal(or_count(ctx, "remote.git", "main"), 3);
	const char *msg;
	or_git(ctx, &msg, "remote.git", "log", "-1", "--format=%s", "main", NULL);
	assert_str(msg, "bot: nightly report");
	assert_str(or_status(ctx, "local"), "");
	/* the same content again: nothing to commit, never an empty commit */
	assert_int_equal(drv_exec(ctx, &out, &err, "fix", ps_keep(ctx, "local"), "--writeback",
		"echo report > report.txt", "--commit-message", "bot: nightly report", NULL), 0);
	assert_int_equal(or_count(ctx, "remote.git", "main"), 3);
}

static void held_lock_skips_then_wait_succeeds(ps_ctx *ctx)
{
	const char *out, *err;
	char skipped[16];
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 1);
	int fd = open(ps_path(ctx, "local/.git/pushseal.lock"), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	assert_int_equal(drv_exec(ctx, &out, &err, "run", ps_keep(ctx, "local"), NULL), 1);
	field(skipped, sizeof(skipped), out, "skipped");
	assert_str(skipped, "locked");
	assert_int_equal(or_count(ctx, "local", "origin/main..HEAD"), 1);
	close(fd); /* released: the next run seals */
	assert_int_equal(drv_exec(ctx, &out, &err, "run", "--lock-wait", "2", ps_keep(ctx, "local"), NULL), 0);
	assert_str(or_rev(ctx, "remote.git", "main").hex, or_rev(ctx, "local", "HEAD").hex);
}

static void status_writes_nothing(ps_ctx *ctx)
{
	const char *out, *err;
	char v[32];
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 2);
	ps_rev before;
	before = or_rev(ctx, "remote.git", "main");
	int reflog = or_reflog(ctx, "local/.git", "refs/heads/main");
	assert_int_equal(drv_exec(ctx, &out, &err, "status", "--check", "false", ps_keep(ctx, "local"), NULL), 0);
	field(v, sizeof(v), out, "ahead");
	assert_str(v, "2");
	field(v, sizeof(v), out, "needs_action");
	assert_str(v, "true");
	assert_non_null(strstr(out, "\"c17\""));
	assert_str(or_rev(ctx, "remote.git", "main").hex, before.hex);
	assert_int_equal(or_reflog(ctx, "local/.git", "refs/heads/main"), reflog);
	assert_int_equal(or_count(ctx, "local", "origin/main..HEAD"), 2);
}

static void all_and_list_cover_a_hub(ps_ctx *ctx)
{
	const char *out, *err;
	fx_bare(ctx, "remotes/a.git", 1);
	fx_bare(ctx, "remotes/b.git", 1);
	fx_clone(ctx, "remotes/a.git", "hub/a");
	fx_clone(ctx, "remotes/b.git", "hub/nested/b");
	fx_ahead(ctx, "hub/nested/b", 1);
	fx_write(ctx, "hub/not-a-repo/readme", "x\n");
	assert_int_equal(drv_exec(ctx, &out, &err, "run", "--all", ps_keep(ctx, "hub"), NULL), 0);
	assert_int_equal(count_lines(out), 2);
	assert_non_null(strstr(out, "hub/a\""));
	assert_non_null(strstr(out, "hub/nested/b\""));
	assert_str(or_rev(ctx, "remotes/b.git", "main").hex, or_rev(ctx, "hub/nested/b", "HEAD").hex);
	fx_write(ctx, "repos.txt", ps_fmt(ctx, "# the hub\n%s/hub/a\n\n%s/hub/nested/b\n", ctx->root, ctx->root));
	assert_int_equal(drv_exec(ctx, &out, &err, "status", "--list", ps_keep(ctx, "repos.txt"), NULL), 0);
	assert_int_equal(count_lines(out), 2);
	assert_int_equal(drv_exec(ctx, &out, &err, "run", "--list", ps_keep(ctx, "missing.txt"), NULL), 2);
	assert_true(strlen(err) > 0);
}

/* Make set `set` of n repos: every 3rd ahead by one, every 7th with its
 * remote ref locked (cannot seal), the rest clean. */
static void make_set(ps_ctx *ctx, const char *set, int n)
{
	for (int i = 0; i < n; i++) {
		const char *bare = ps_fmt(ctx, "%s/r%02d.git", set, i);
		char clone[256];
		snprintf(clone, sizeof(clone), "%s/c%02d", set, i);
		fx_bare(ctx, bare, 1);
		fx_clone(ctx, ps_fmt(ctx, "%s/r%02d.git", set, i), clone);
		if (i % 3 == 0)
			fx_ahead(ctx, clone, 1);
		if (i % 7 == 0) {
			fx_ahead(ctx, clone, 1);
			fx_lock_ref(ctx, ps_fmt(ctx, "%s/r%02d.git", set, i), "main");
		}
	}
}

static const char *run_set(ps_ctx *ctx, const char *set, const char *jobs, int *rc)
{
	fx_write(ctx, ps_fmt(ctx, "%s.list", set), "");
	char list[65536] = "";
	for (int i = 0; i < 50; i++) {
		size_t used = strlen(list);
		snprintf(list + used, sizeof(list) - used, "%s/%s/c%02d\n", ctx->root, set, i);
	}
	fx_write(ctx, ps_fmt(ctx, "%s.list", set), list);
	const char *out, *err;
	*rc = drv_exec(ctx, &out, &err, "run", "-j", jobs, "--list", ps_keep(ctx, ps_fmt(ctx, "%s.list", set)), NULL);
	return out;
}

static void parallel_tick_same_as_sequential(ps_ctx *ctx)
{
	int rc_seq, rc_par;
	char seq[65536];
	make_set(ctx, "seq", 50);
	make_set(ctx, "par", 50);
	snprintf(seq, sizeof(seq), "%s", run_set(ctx, "seq", "1", &rc_seq));
	const char *par = run_set(ctx, "par", "4", &rc_par);
	assert_int_equal(rc_seq, 1); /* the locked repos cannot seal */
	assert_int_equal(rc_par, rc_seq);
	/* the same lines in the same order, but for the set's name in paths */
	const char *a = seq, *b = par;
	int lines = 0;
	while (*a || *b) {
		size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
		char x[4096], y[4096], *p;
		snprintf(x, sizeof(x), "%.*s", (int)la, a);
		snprintf(y, sizeof(y), "%.*s", (int)lb, b);
		while ((p = strstr(x, "/seq/")))
			memcpy(p, "/par/", 5);
		while ((p = strstr(x, "/seq.git")))
			memcpy(p, "/par.git", 8);
		if (strcmp(x, y) != 0)
			fail_msg("line %d differs between -j 1 and -j 4:\n  %s\n  %s", lines + 1, x, y);
		lines++;
		a += la + (a[la] == '\n');
		b += lb + (b[lb] == '\n');
	}
	assert_int_equal(lines, 50);
}

/* X-PAR-2: a worker killed mid-repository (its writeback kills it, as an OOM
 * kill would) costs that repository alone: one line saying so, the others
 * ticked and reported, exit 1, and no worker left behind. */
static void parallel_worker_death_costs_one_repo(ps_ctx *ctx)
{
	int rc;
	const char *out, *err;
	char list[8192] = "", wb[1600];
	for (int i = 0; i < 8; i++) {
		char bare[64], clone[64];
		size_t used = strlen(list);
		snprintf(bare, sizeof(bare), "w/r%d.git", i);
		snprintf(clone, sizeof(clone), "w/c%d", i);
		fx_bare(ctx, bare, 1);
		fx_clone(ctx, bare, clone);
		fx_ahead(ctx, clone, 1); /* every repo needs a cycle, so each runs the writeback */
		snprintf(list + used, sizeof(list) - used, "%s/%s\n", ctx->root, clone);
	}
	fx_write(ctx, "w.list", list);
	/* the writeback's parent is the worker ticking that repo; its child, in
	 * its process group, would stay (bounded: 20 s) */
	snprintf(wb, sizeof(wb), "case \"$PWD\" in */c3) sleep 20 >/dev/null 2>&1 & echo $$ > '%s/orphan.pid'; kill -9 $PPID; wait;; esac; "
		"echo bot >> data.txt && git add data.txt && git commit -qm 'bot: data'", ctx->root);
	rc = drv_exec(ctx, &out, &err, "run", "-j", "3", "--writeback", wb, "--list", ps_keep(ctx, "w.list"), NULL);
	assert_int_equal(rc, 1);
	assert_int_equal(count_lines(out), 8);
	for (int i = 0; i < 8; i++) {
		char line[4096], want[64];
		const char *p = out;
		for (int k = 0; k < i; k++)
			p = strchr(p, '\n') + 1;
		snprintf(line, sizeof(line), "%.*s", (int)strcspn(p, "\n"), p);
		snprintf(want, sizeof(want), "/w/c%d\"", i);
		if (!strstr(line, want))
			fail_msg("line %d is not c%d's: %s", i + 1, i, line);
		if (i == 3) {
			if (!strstr(line, "\"class\":\"internal\"") || !strstr(line, "killed (signal 9)"))
				fail_msg("the killed worker's repo is not reported as such: %s", line);
		} else if (!strstr(line, "\"sealed\":true")) {
			fail_msg("c%d was not ticked to the end after another worker died: %s", i, line);
		}
	}
	/* the other repos' commits are on their remotes */
	assert_str(or_rev(ctx, "w/r5.git", "main").hex, or_rev(ctx, "w/c5", "HEAD").hex);
	/* and the dead worker's writeback (its whole group) did not outlive it */
	{
		const char *pid_text = or_file(ctx, "orphan.pid");
		long pgid = pid_text ? strtol(pid_text, NULL, 10) : 0;
		if (pgid <= 1)
			fail_msg("the writeback for c3 never ran");
		if (ps_group_alive((pid_t)pgid))
			fail_msg("the killed worker's writeback (process group %ld) still runs after the tick", pgid);
	}
}

/* The value of one metric line `name` (with its labels) in a Prometheus
 * text file, after checking that every line of the file is well formed. */
static long metric(const char *text, const char *name)
{
	char want[512];
	long value = -1;
	snprintf(want, sizeof(want), "%s ", name);
	for (const char *line = text; *line;) {
		size_t n = strcspn(line, "\n");
		char buf[1024];
		snprintf(buf, sizeof(buf), "%.*s", (int)n, line);
		if (buf[0] != '#') {
			/* name{label="value",...} integer */
			const char *sp = strrchr(buf, ' ');
			char *end = NULL;
			if (!sp || strspn(buf, "abcdefghijklmnopqrstuvwxyz_") == 0)
				fail_msg("metrics: malformed line '%s'", buf);
			strtol(sp + 1, &end, 10);
			if (*end)
				fail_msg("metrics: value is not an integer in '%s'", buf);
			if (!strncmp(buf, want, strlen(want)))
				value = strtol(buf + strlen(want), NULL, 10);
		} else if (strncmp(buf, "# HELP ", 7) != 0 && strncmp(buf, "# TYPE ", 7) != 0) {
			fail_msg("metrics: unknown comment '%s'", buf);
		}
		line += n + (line[n] == '\n');
	}
	if (value < 0)
		fail_msg("metrics: no line for %s in:\n%s", name, text);
	return value;
}

static void metrics_file_parses(ps_ctx *ctx)
{
	const char *out, *err;
	fx_bare(ctx, "a.git", 1);
	fx_bare(ctx, "b.git", 1);
	fx_bare(ctx, "c.git", 1);
	fx_clone(ctx, "a.git", "a");
	fx_clone(ctx, "b.git", "b");
	fx_clone(ctx, "c.git", "c");
	fx_ahead(ctx, "b", 2);             /* b: a backlog to seal */
	fx_ahead(ctx, "c", 1);
	fx_lock_ref(ctx, "c.git", "main"); /* c: refused, stays one commit behind */
	int rc = drv_exec(ctx, &out, &err, "run", "-j", "2", "--metrics-file", ps_keep(ctx, "tick.prom"),
		ps_keep(ctx, "a"), ps_keep(ctx, "b"), ps_keep(ctx, "c"), NULL);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "\"failure\":\"permanent\""));
	const char *text = or_file(ctx, "tick.prom");
	assert_non_null(text);
	char copy[65536];
	snprintf(copy, sizeof(copy), "%s", text);
	assert_int_equal(metric(copy, "pushseal_repos_seen"), 3);
	assert_int_equal(metric(copy, "pushseal_repos_clean"), 1);
	assert_int_equal(metric(copy, "pushseal_repos_sealed"), 1);
	assert_int_equal(metric(copy, "pushseal_repos_skipped{guard=\"c17\"}"), 1);
	assert_int_equal(metric(copy, "pushseal_failures{kind=\"permanent\"}"), 1);
	assert_int_equal(metric(copy, "pushseal_failures{kind=\"transient\"}"), 0);
	assert_int_equal(metric(copy, ps_fmt(ctx, "pushseal_backlog_commits{repo=\"%s/c\"}", ctx->root)), 1);
	assert_int_equal(metric(copy, ps_fmt(ctx, "pushseal_backlog_commits{repo=\"%s/b\"}", ctx->root)), 0);
	assert_true(metric(copy, ps_fmt(ctx, "pushseal_oldest_unpushed_age_seconds{repo=\"%s/c\"}", ctx->root)) > 0);
	/* written atomically: no temporary file is left beside it */
	assert_int_equal(system(ps_fmt(ctx, "ls '%s' | grep -q 'tick.prom.tmp'", ctx->root)) == 0, 0);
}

static void text_format_for_people(ps_ctx *ctx)
{
	const char *out, *err;
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 1);
	assert_int_equal(drv_exec(ctx, &out, &err, "run", "--format", "text", ps_keep(ctx, "local"), NULL), 0);
	assert_null(strchr(out, '{'));
	assert_non_null(strstr(out, "sealed, backlog pushed"));
	assert_int_equal(drv_exec(ctx, &out, &err, "run", "--format", "yaml", ps_keep(ctx, "local"), NULL), 2);
}

static const struct CMUnitTest tests[] = {
	CLAUSE("X-DIVERGE-1", "--on-diverge=rebase heals a writer's race in one tick, keeping the person's commit", rebase_heals_writer_race),
	CLAUSE("X-DIVERGE-2", "the rebase policy never moves a person's commit: it stops at c16 and both tips stay", rebase_never_moves_a_persons_commit),
	CLAUSE("X-DIVERGE-3", "the rebase policy stops, worktree kept, when the writer's commit conflicts", rebase_refuses_conflict),
	CLAUSE("X-DIVERGE-4", "by default a diverged repo stays skipped at c16 with the reason in the report", default_policy_stays_stuck),
	CLAUSE("X-COMMIT-1", "--commit-message commits what the writeback left, once, and never makes an empty commit", commit_message_commits_leftovers_once),
	CLAUSE("X-LOCK-1", "a held repo lock skips the tick as locked, and --lock-wait then seals", held_lock_skips_then_wait_succeeds),
	CLAUSE("X-STATUS-1", "status reports ahead, needs-action and the c17 guard, and writes nothing", status_writes_nothing),
	CLAUSE("X-PAR-2", "a worker killed mid-repo costs that repo alone: one line for it, the others sealed, exit 1", parallel_worker_death_costs_one_repo),
	CLAUSE("X-PAR-1", "run -j 4 over 50 repos prints what run -j 1 prints, in the same order", parallel_tick_same_as_sequential),
	CLAUSE("X-METRICS-1", "--metrics-file writes well-formed Prometheus text atomically, with every counter", metrics_file_parses),
	CLAUSE("X-FORMAT-1", "--format text prints one human line per repo and an unknown format is refused", text_format_for_people),
	CLAUSE("X-HUB-1", "--all finds every worktree under a hub and --list reads a repo list", all_and_list_cover_a_hub),
};

int main(void)
{
	ps_harness_init();
	if (!drv_is_exec()) {
		const char *cli = getenv("PUSHSEAL_REFERENCE_CLI");
		ps_use_reference_cli(cli && *cli ? cli : PUSHSEAL_CLI_PATH);
	}
	return PS_RUN("extended cycle", tests);
}
