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

static const char usage_head[] =
	"usage: pushseal COMMAND [OPTIONS] REPO...\n"
	"       pushseal help COMMAND     one command's options (or: COMMAND --help)\n"
	"\n"
	"Keep an automated writer's git repository sealed to its remote.\n"
	"\n"
	"commands (protocol v1):\n";

static const char usage_tail[] =
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
	"(default 600); a killed --writeback counts as failed; its commits are sealed.\n"
	"--on-diverge=rebase replays local commits onto the upstream only when all of\n"
	"them were authored by the writer (EMAIL, default user.email) and apply cleanly.\n"
	"\n"
	"options:\n"
	"  -h, --help          show this help and exit\n"
	"  -V, --version       show the version and the protocol version and exit\n"
	"\n"
	"environment:\n"
	"  PUSHSEAL_DEADLINE_S  seconds allowed for every network operation, 0.001 to\n"
	"                       86400 (default: 15 for a fetch, 30 for a pull or push)\n"
	"  pushseal never prompts: without credentials a remote that wants them fails\n"
	"  with class auth.  Credentials, by transport:\n"
	"  https  PUSHSEAL_HTTPS_TOKEN, or the first line of PUSHSEAL_HTTPS_TOKEN_FILE:\n"
	"         a token, sent with the URL's user or x-access-token (over plain http\n"
	"         only to loopback); then, with PUSHSEAL_CREDENTIAL_HELPER=1,\n"
	"         `git credential fill` (git's credential.helper), prompts disabled;\n"
	"         last, the URL's user with an empty password (https://TOKEN@host/).\n"
	"         Each is tried once per operation.\n"
	"  ssh    the system's OpenSSH, as git runs it: GIT_SSH_COMMAND, then\n"
	"         core.sshCommand, then GIT_SSH, then ssh (GIT_SSH_VARIANT and\n"
	"         ssh.variant as in git), with BatchMode=yes.  OpenSSH itself reads\n"
	"         ~/.ssh (config, keys, known_hosts) and the agent at SSH_AUTH_SOCK.\n"
	"         PUSHSEAL_SSH_KEY=FILE adds -i FILE -o IdentitiesOnly=yes;\n"
	"         PUSHSEAL_SSH_KNOWN_HOSTS=FILE adds -o UserKnownHostsFile=FILE.\n"
	"  file, git://  none.\n"
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

/* The library around a command, in one place: PUSHSEAL_DEADLINE_S checked
 * (a usage error), then pushseal_init().  Returns 0, or the exit code. */
static int library_start(void)
{
	if (!deadline_env_ok())
		return cli_usage_error("PUSHSEAL_DEADLINE_S is not a number of seconds from 0.001 to 86400:",
			getenv("PUSHSEAL_DEADLINE_S"));
	if (pushseal_init() < 0) {
		fputs("pushseal: cannot initialise libgit2\n", stderr);
		return 1;
	}
	return 0;
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

static const cli_command pull_command = {
	"pull-ff", "REPO", "fast-forward REPO's branch to its upstream (git pull --ff-only)",
	NULL, 0, NULL, NULL, cmd_pull,
};
static const cli_command push_command = {
	"push-ff", "REPO", "push REPO's branch to its upstream, never forced (git push)",
	NULL, 0, NULL, NULL, cmd_push,
};
static const cli_command remote_ahead_command = {
	"remote-ahead", "REPO", "fetch, then print how many upstream commits HEAD lacks",
	NULL, 0, NULL, NULL, cmd_remote_ahead,
};
static const cli_command local_ahead_command = {
	"local-ahead", "REPO", "print how many commits HEAD has that its upstream lacks (no network)",
	NULL, 0, NULL, NULL, cmd_local_ahead,
};

/* Every command, in --help order. */
static const cli_command *const commands[] = {
	&pull_command, &push_command, &remote_ahead_command, &local_ahead_command,
	&cli_fix_command, &cli_run_command, &cli_status_command,
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* The one-REPO commands check their arguments before the environment. */
static int run_one(int argc, char **argv, int (*fn)(const char *repo))
{
	const char *repo;
	int i = 1, rc;
	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	else if (i < argc && argv[i][0] == '-' && argv[i][1] != '\0')
		return cli_usage_error("unknown option", argv[i]);
	if (i >= argc)
		return cli_usage_error("missing REPO for", argv[0]);
	repo = argv[i++];
	if (i < argc)
		return cli_usage_error("unexpected argument", argv[i]);
	if (!*repo)
		return cli_usage_error("REPO is empty", NULL);
	if ((rc = library_start()) != 0)
		return rc;
	rc = fn(repo);
	pushseal_shutdown();
	return rc;
}

static const cli_command *find_command(const char *name)
{
	for (size_t c = 0; c < NCOMMANDS; c++)
		if (!strcmp(name, commands[c]->name))
			return commands[c];
	return NULL;
}

static void usage(FILE *out)
{
	fputs(usage_head, out);
	for (size_t c = 0; c < NCOMMANDS; c++) {
		const cli_command *cmd = commands[c];
		if (cmd->nopts == 0 && strlen(cmd->name) + strlen(cmd->args) + 1 < 19) {
			char left[64];
			snprintf(left, sizeof(left), "%s %s", cmd->name, cmd->args);
			fprintf(out, "  %-19s %s\n", left, cmd->summary);
		} else {
			cli_command_synopsis(out, "  ", cmd);
			fprintf(out, "%22s%s\n", "", cmd->summary);
		}
	}
	fputs(usage_tail, out);
}

int main(int argc, char **argv)
{
	const cli_command *cmd;
	int rc;

	/* a git:// peer that hangs up must not kill a timer with SIGPIPE */
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2)
		return cli_usage_error("missing command", NULL);
	if (cli_opt_is_help(argv[1])) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("pushseal %s (protocol v%d)\n", PUSHSEAL_VERSION, PUSHSEAL_PROTOCOL_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "help")) {
		if (argc < 3) {
			usage(stdout);
			return 0;
		}
		if (argc > 3)
			return cli_usage_error("unexpected argument", argv[3]);
		if (!(cmd = find_command(argv[2])))
			return cli_usage_error("unknown command", argv[2]);
		cli_command_help(stdout, cmd);
		return 0;
	}
	if (!(cmd = find_command(argv[1])))
		return cli_usage_error("unknown command", argv[1]);
	if (argc > 2 && cli_opt_is_help(argv[2])) {
		cli_command_help(stdout, cmd);
		return 0;
	}
	if (cmd->run_repo)
		return run_one(argc - 1, argv + 1, cmd->run_repo); /* its arguments first, then the library */
	if ((rc = library_start()) != 0)
		return rc;
	rc = cmd->run(argc - 1, argv + 1);
	pushseal_shutdown();
	return rc;
}
