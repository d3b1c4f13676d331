/*
 * The pushseal command: protocol v1 (docs/PROTOCOL.md) over the library.
 * Exit codes: 0 success, 1 the operation failed, 2 usage error.
 */
#include "cli.h"
#include "seconds.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: pushseal COMMAND [OPTIONS] REPO...\n"
	"\n"
	"Keep an automated writer's git repository sealed to its remote.\n"
	"\n"
	"commands (protocol v1):\n"
	"  pull-ff REPO        fast-forward REPO's branch to its upstream (git pull --ff-only)\n"
	"  push-ff REPO        push REPO's branch to its upstream, never forced (git push)\n"
	"  remote-ahead REPO   fetch, then print how many upstream commits HEAD lacks\n"
	"  local-ahead REPO    print how many commits HEAD has that its upstream lacks (no network)\n"
	"  fix REPO [--writeback CMD] [--commit-message MSG] [--lock-wait S] [--command-deadline S]\n"
	"      [--on-diverge=stop|rebase] [--writer-email EMAIL]\n"
	"                      one sealed cycle: C-16 pull, C-17 push the backlog, CMD, push seal\n"
	"  run [--remote] [--check CMD] [--writeback CMD] [--commit-message MSG]\n"
	"      [--all DIR] [--list FILE] [--lock-wait S] [--command-deadline S] [--on-diverge=stop|rebase]\n"
	"      [--writer-email EMAIL] [-j N] [--metrics-file PATH] [--shard I/N|auto] REPO...\n"
	"                      one timer tick: fix each repo that needs action, skip clean ones\n"
	"  status [--remote] [--check CMD] [--command-deadline S] [--all DIR] [--list FILE] [-j N]\n"
	"      [--shard I/N|auto] REPO...\n"
	"                      what a tick would do, writing nothing\n"
	"\n"
	"--shard I/N keeps only the repos that hash to shard I of N (0 <= I < N), by\n"
	"their canonical path and remote URL; N processes with I = 0..N-1 tick every\n"
	"repo exactly once.  --shard auto takes I from JOB_COMPLETION_INDEX (a\n"
	"Kubernetes Indexed Job) and N from PUSHSEAL_SHARD_COUNT.\n"
	"--metrics-file writes Prometheus text metrics atomically (node_exporter).\n"
	"fix, run and status print one JSON line per repo (docs/PROTOCOL.md), in the\n"
	"order given; -j N works on N repos at once (default: the number of cores);\n"
	"--format text prints one short line per repo for people instead.\n"
	"CMD runs as `sh -c CMD` in the repo; its stdout goes to stderr.\n"
	"--command-deadline S kills CMD (its whole process group) after S seconds\n"
	"(default 600); a killed --writeback counts as failed, and its commits are sealed.\n"
	"--on-diverge=rebase replays local commits onto the upstream only when all of\n"
	"them were authored by the writer (EMAIL, default user.email) and apply cleanly.\n"
	"\n"
	"options:\n"
	"  -h, --help          show this help and exit\n"
	"  -V, --version       show the version and the protocol version and exit\n"
	"\n"
	"environment:\n"
	"  PUSHSEAL_DEADLINE_S  seconds allowed for every network operation\n"
	"                       (default: 15 for a fetch, 30 for a pull or push)\n"
	"\n"
	"exit status: 0 done (fix: sealed; run: every repo sealed or clean),\n"
	"             1 failed, 2 usage error.\n";

/* One line on stderr: "pushseal: <what>[ '<arg>']", then a hint. */
int cli_usage_error(const char *what, const char *arg)
{
	if (arg)
		fprintf(stderr, "pushseal: %s '%s'\n", what, arg);
	else
		fprintf(stderr, "pushseal: %s\n", what);
	fputs("Try 'pushseal --help'.\n", stderr);
	return EXIT_USAGE;
}

/* PUSHSEAL_DEADLINE_S, when set, must be what the library will honour (the
 * same parser and bounds: src/util/seconds.h); anything else is a usage
 * error rather than a silent fallback to the defaults. */
static int deadline_env_ok(void)
{
	const char *env = getenv("PUSHSEAL_DEADLINE_S");
	int ms;
	return !env || !*env ||
	       ps_seconds_parse(&ms, env, PS_SECONDS_DEADLINE_MIN_MS, PS_SECONDS_DEADLINE_MAX_MS) == 0;
}

static int report_change(const char *verb, int rc, pushseal_change change, const pushseal_error *err)
{
	if (rc < 0) {
		printf("%s failed (%s): %s\n", verb, pushseal_class_name(err->klass), err->message);
		return 1;
	}
	printf("%s: %s\n", verb, change == PUSHSEAL_MOVED ? "done" : "already up to date");
	return 0;
}

typedef int (*change_fn)(pushseal_change *, const char *, const pushseal_options *, pushseal_error *);

static int run_change(const char *verb, change_fn fn, const char *repo)
{
	pushseal_error err;
	pushseal_change change = PUSHSEAL_UP_TO_DATE;
	int rc = fn(&change, repo, NULL, &err);
	return report_change(verb, rc, change, &err);
}

static int cmd_pull(const char *repo)
{
	return run_change("pull-ff", pushseal_pull_ff, repo);
}

static int cmd_push(const char *repo)
{
	return run_change("push-ff", pushseal_push_ff, repo);
}

/* Counts always print a number and exit 0; the reason goes to stderr. */
static int report_count(const char *verb, int rc, size_t n, const pushseal_error *err)
{
	printf("%zu\n", n);
	if (rc < 0)
		fprintf(stderr, "pushseal: %s (%s): %s\n", verb, pushseal_class_name(err->klass), err->message);
	return 0;
}

static int cmd_remote_ahead(const char *repo)
{
	pushseal_error err;
	size_t n;
	int rc = pushseal_count_remote_ahead(&n, repo, NULL, &err);
	return report_count("remote-ahead", rc, n, &err);
}

static int cmd_local_ahead(const char *repo)
{
	pushseal_error err;
	size_t n;
	int rc = pushseal_count_local_ahead(&n, repo, &err);
	return report_count("local-ahead", rc, n, &err);
}

static const struct command {
	const char *name;
	int (*run)(const char *repo);
} commands[] = {
	{ "pull-ff", cmd_pull },
	{ "push-ff", cmd_push },
	{ "remote-ahead", cmd_remote_ahead },
	{ "local-ahead", cmd_local_ahead },
};

int main(int argc, char **argv)
{
	static const struct multi {
		const char *name;
		int (*run)(int argc, char **argv);
	} multi[] = { { "fix", cli_cmd_fix }, { "run", cli_cmd_run }, { "status", cli_cmd_status } };
	const struct command *cmd = NULL;
	const char *repo = NULL;
	int i = 2, rc;

	/* a git:// peer that hangs up must not kill a timer with SIGPIPE */
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2)
		return cli_usage_error("missing command", NULL);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("pushseal %s (protocol v%d)\n", PUSHSEAL_VERSION, PUSHSEAL_PROTOCOL_VERSION);
		return 0;
	}
	for (size_t c = 0; c < sizeof(multi) / sizeof(multi[0]); c++) {
		if (strcmp(argv[1], multi[c].name) != 0)
			continue;
		if (!deadline_env_ok())
			return cli_usage_error("PUSHSEAL_DEADLINE_S is not a number of seconds from 0.001 to 86400:",
				getenv("PUSHSEAL_DEADLINE_S"));
		if (pushseal_init() < 0) {
			fputs("pushseal: cannot initialise libgit2\n", stderr);
			return 1;
		}
		rc = multi[c].run(argc - 1, argv + 1);
		pushseal_shutdown();
		return rc;
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (!strcmp(argv[1], commands[c].name))
			cmd = &commands[c];
	if (!cmd)
		return cli_usage_error("unknown command", argv[1]);
	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	else if (i < argc && argv[i][0] == '-' && argv[i][1] != '\0')
		return cli_usage_error("unknown option", argv[i]);
	if (i >= argc)
		return cli_usage_error("missing REPO for", cmd->name);
	repo = argv[i++];
	if (i < argc)
		return cli_usage_error("unexpected argument", argv[i]);
	if (!*repo)
		return cli_usage_error("REPO is empty", NULL);
	if (!deadline_env_ok())
		return cli_usage_error("PUSHSEAL_DEADLINE_S is not a number of seconds from 0.001 to 86400:",
			getenv("PUSHSEAL_DEADLINE_S"));
	if (pushseal_init() < 0) {
		fputs("pushseal: cannot initialise libgit2\n", stderr);
		return 1;
	}
	rc = cmd->run(repo);
	pushseal_shutdown();
	return rc;
}
