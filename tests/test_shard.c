/*
 * X-SHARD: `--shard I/N` splits one hub over N schedulers with no
 * coordinator (a Kubernetes Indexed Job, a systemd timer per host).  A
 * simulation, since no cluster exists here: N real `pushseal run` processes
 * over one hub of 1000 real clones, in sync with their tracking refs so a
 * tick needs no network (each is skipped as clean after being looked at).
 * Drives the built `pushseal`, or PUSHSEAL_IMPL when it opts in.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define HUB_REPOS 1000



/* The hub: HUB_REPOS clones of one template (a commit, origin/main equal to
 * it, upstream configured), each with its own remote URL.  Built once per
 * process in its own temporary directory (removed at exit) and shared by
 * the tests, which only read it: a tick of a clean repo writes nothing. */
static char hub_root[1100], hub[1200];

static void remove_hub(void)
{
	pid_t pid;
	if (!hub_root[0])
		return;
	pid = fork();
	if (pid == 0) {
		execlp("rm", "rm", "-rf", hub_root, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	hub_root[0] = '\0';
}

static void make_hub(ps_ctx *ctx)
{
	const char *out, *err, *tmp = getenv("TMPDIR");
	char *cfg_text;
	if (hub[0])
		return;
	fx_pair(ctx, 1);
	snprintf(hub_root, sizeof(hub_root), "%s/pushseal-shardhub-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(hub_root))
		fail_msg("mkdtemp %s", hub_root);
	atexit(remove_hub);
	snprintf(hub, sizeof(hub), "%s/hub", hub_root);
	{
		const char *argv[] = { "/bin/sh", "-c",
			"mkdir \"$1\" && i=0; while [ $i -lt $2 ]; do cp -a \"$0\" \"$1/r$i\" || exit 1; i=$((i+1)); done",
			ps_path(ctx, "local"), hub, ps_fmt(ctx, "%d", HUB_REPOS), NULL };
		if (ps_spawn(ctx, NULL, argv, &out, &err) != 0)
			fail_msg("making the hub: %s", err);
	}
	/* each clone's remote URL differs (the hash covers it); no tick fetches */
	cfg_text = strdup(or_file(ctx, "local/.git/config"));
	for (int i = 0; i < HUB_REPOS; i++) {
		const char *url = strstr(cfg_text, "\turl = ");
		FILE *f = fopen(ps_fmt(ctx, "%s/r%d/.git/config", hub, i), "w");
		if (!f || !url)
			fail_msg("cannot rewrite the config of hub/r%d", i);
		fprintf(f, "%.*s\turl = https://git.example/bots/repo-%d.git%s", (int)(url - cfg_text), cfg_text, i,
			strchr(url, '\n'));
		fclose(f);
	}
	free(cfg_text);
}

/* Run the implementation with argv (NULL-terminated), stdout to
 * <sandbox>/<outname>; returns the exit code. */
static int run_to_file(ps_ctx *ctx, const char *outname, const char *const *args)
{
	const char *argv[16];
	int n = 0;
	argv[n++] = "/bin/sh";
	argv[n++] = "-c";
	argv[n++] = "out=$1; shift; eval \"exec $PUSHSEAL_IMPL \\\"\\$@\\\"\" > \"$out\"";
	argv[n++] = "pushseal-impl";
	argv[n++] = ps_path(ctx, outname);
	for (; *args && n < 15; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	{
		const char *out, *err;
		int rc = ps_spawn(ctx, NULL, argv, &out, &err);
		if (rc != 0)
			fail_msg("%s exited %d: %s", args[-1], rc, err);
		return rc;
	}
}

/* shard_of[i] = the shard that ticked hub/r<i> (-1: none); fails on a repo
 * ticked twice, or a line that is not clean. */
static void read_shard(ps_ctx *ctx, const char *outname, int shard, int *shard_of, int *size)
{
	FILE *f = fopen(ps_path(ctx, outname), "r");
	char *line = NULL;
	size_t cap = 0;
	*size = 0;
	if (!f)
		fail_msg("no output %s", outname);
	while (getline(&line, &cap, f) >= 0) {
		const char *r = strstr(line, "/hub/r");
		int i;
		if (!r || sscanf(r, "/hub/r%d\"", &i) != 1 || i < 0 || i >= HUB_REPOS)
			fail_msg("not a hub repo: %s", line);
		if (!strstr(line, "\"skipped\":\"clean\""))
			fail_msg("shard %d: not clean: %s", shard, line);
		if (shard_of[i] != -1)
			fail_msg("hub/r%d ticked by shards %d and %d", i, shard_of[i], shard);
		shard_of[i] = shard;
		(*size)++;
	}
	free(line);
	fclose(f);
}

/* A round of n shard processes: every repo ticked exactly once; sizes. */
static void round_of(ps_ctx *ctx, const char *cmd, int n, int *shard_of, int *sizes)
{
	for (int i = 0; i < HUB_REPOS; i++)
		shard_of[i] = -1;
	for (int s = 0; s < n; s++) {
		const char *spec = ps_fmt(ctx, "%d/%d", s, n);
		const char *outname = ps_fmt(ctx, "%s-%d-of-%d.out", cmd, s, n);
		const char *args[] = { cmd, "--all", hub, "--shard", spec, "-j", "2", NULL };
		run_to_file(ctx, outname, args);
		read_shard(ctx, outname, s, shard_of, &sizes[s]);
	}
	for (int i = 0; i < HUB_REPOS; i++)
		if (shard_of[i] < 0)
			fail_msg("hub/r%d was ticked by no shard of %d", i, n);
}

/* X-SHARD-1: four `run --shard I/4` processes over one hub of 1000 clones
 * tick every repository exactly once, and each shard holds within 20% of
 * the mean (250). */
static void shards_cover_the_hub_once(ps_ctx *ctx)
{
	static int shard_of[HUB_REPOS];
	int sizes[4];
	make_hub(ctx);
	round_of(ctx, "run", 4, shard_of, sizes);
	for (int s = 0; s < 4; s++)
		if (sizes[s] < 200 || sizes[s] > 300)
			fail_msg("shard %d/4 has %d repos: not within 20%% of 250 (%d %d %d %d)", s, sizes[s], sizes[0],
				sizes[1], sizes[2], sizes[3]);
	/* the dry `status --shard` selects exactly what `run --shard` ticks */
	{
		static int status_of[HUB_REPOS];
		int ssizes[4];
		round_of(ctx, "status", 4, status_of, ssizes);
		for (int i = 0; i < HUB_REPOS; i++)
			if (status_of[i] != shard_of[i])
				fail_msg("hub/r%d: status says shard %d, run ticked it in %d", i, status_of[i], shard_of[i]);
	}
}

/* X-SHARD-2: going from 4 to 5 shards moves at most 25% of the
 * repositories (about 20% expected), and every one that moves goes to the
 * new shard 4: the others keep theirs. */
static void growing_moves_few(ps_ctx *ctx)
{
	static int four[HUB_REPOS], five[HUB_REPOS];
	int sizes[5], moved = 0;
	make_hub(ctx);
	round_of(ctx, "status", 4, four, sizes);
	round_of(ctx, "status", 5, five, sizes);
	for (int i = 0; i < HUB_REPOS; i++) {
		if (four[i] == five[i])
			continue;
		moved++;
		if (five[i] != 4)
			fail_msg("hub/r%d moved from shard %d to %d, not to the new shard 4", i, four[i], five[i]);
	}
	if (moved > HUB_REPOS / 4 || moved == 0)
		fail_msg("4 -> 5 shards moved %d of %d repositories (at most 25%%, and some must move)", moved, HUB_REPOS);
	print_message("4 -> 5 shards: %d of %d repositories moved\n", moved, HUB_REPOS);
}

/* X-SHARD-3: --shard auto reads JOB_COMPLETION_INDEX and
 * PUSHSEAL_SHARD_COUNT and selects what --shard I/N selects; without them,
 * or with a bad I/N, it is a usage error (exit 2). */
static void shard_auto_and_usage(ps_ctx *ctx)
{
	const char *out, *err;
	make_hub(ctx);
	{
		const char *args[] = { "status", "--all", hub, "--shard", "2/3", NULL };
		run_to_file(ctx, "manual.out", args);
	}
	setenv("JOB_COMPLETION_INDEX", "2", 1);
	setenv("PUSHSEAL_SHARD_COUNT", "3", 1);
	{
		const char *args[] = { "status", "--all", hub, "--shard", "auto", NULL };
		run_to_file(ctx, "auto.out", args);
	}
	assert_str(or_file(ctx, "auto.out"), or_file(ctx, "manual.out"));
	assert_true(strlen(or_file(ctx, "auto.out")) > 0);
	unsetenv("PUSHSEAL_SHARD_COUNT");
	assert_int_equal(drv_exec(ctx, &out, &err, "status", "--all", hub, "--shard", "auto", NULL), 2);
	assert_non_null(strstr(err, "PUSHSEAL_SHARD_COUNT"));
	unsetenv("JOB_COMPLETION_INDEX");
	{
		const char *bad[] = { "4/4", "-1/4", "1/0", "1", "a/b", "1/4x", "", NULL };
		for (int i = 0; bad[i]; i++)
			if (drv_exec(ctx, &out, &err, "run", "--all", hub, "--shard", bad[i], NULL) != 2)
				fail_msg("--shard '%s' was not a usage error", bad[i]);
	}
}

/* X-SHARD-4: contrib/kubernetes/pushseal-shards.yaml, parsed as YAML: a
 * CronJob with concurrencyPolicy Forbid whose Job is Indexed with
 * parallelism = completions = PUSHSEAL_SHARD_COUNT, runs `pushseal run
 * --shard auto` over the hub on a volume and writes one metrics file per
 * shard; contrib/systemd has the pushseal-shard@.service/.timer pair. */
static void manifests_are_sound(ps_ctx *ctx)
{
	const char *out, *err;
	const char *argv[] = { "python3", PUSHSEAL_SOURCE_DIR "/ci/k8s-check",
		PUSHSEAL_SOURCE_DIR "/contrib/kubernetes/pushseal-shards.yaml", NULL };
	if (ps_spawn(ctx, NULL, argv, &out, &err) != 0)
		fail_msg("ci/k8s-check: %s%s", out, err);
	{
		struct stat st;
		assert_int_equal(stat(PUSHSEAL_SOURCE_DIR "/contrib/systemd/pushseal-shard@.service", &st), 0);
		assert_int_equal(stat(PUSHSEAL_SOURCE_DIR "/contrib/systemd/pushseal-shard@.timer", &st), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		CLAUSE("X-SHARD-1", "four --shard I/4 runs over 1000 clones tick each repo once, each shard near the mean", shards_cover_the_hub_once),
		CLAUSE("X-SHARD-2", "going from 4 to 5 shards moves at most 25% of the repositories, each to the new shard", growing_moves_few),
		CLAUSE("X-SHARD-3", "--shard auto reads JOB_COMPLETION_INDEX and PUSHSEAL_SHARD_COUNT", shard_auto_and_usage),
		CLAUSE("X-SHARD-4", "the shard CronJob parses as YAML with sound settings, and the systemd shard units exist", manifests_are_sound),
	};
	int failed;
	ps_harness_init();
	if (!drv_is_exec())
		ps_use_reference_cli(PUSHSEAL_CLI_PATH);
	failed = PS_RUN("shard", tests);
	return failed ? 1 : 0;
}
