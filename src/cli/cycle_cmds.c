/* The sealed-cycle commands: fix, run and status (protocol v1 JSON lines). */
#define _GNU_SOURCE
#include "cli.h"
#include "pool.h"
#include "seconds.h"

#include <signal.h>
#include <sys/prctl.h>

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct cycle_args {
	const char *writeback;
	const char *check;
	const char *commit_message;
	int remote;
	int lock_wait_ms;
	int on_diverge;
	const char *writer_email;
	int jobs;                 /* 0: the number of online cores */
	int text;                 /* --format text */
	const char *metrics_file;
	cli_shard shard;          /* --shard I/N: only this shard's repositories */
	cli_list repos;
} cycle_args;

int cli_out_of_memory(void)
{
	fputs("pushseal: out of memory\n", stderr);
	return 1;
}

/* A repo list that could not be read: a usage error, or out of memory. */
static int list_failed(int rc)
{
	return rc == CLI_ENOMEM ? cli_out_of_memory() : EXIT_USAGE;
}

/* The user's --writeback or --check command: non-zero unless it exits 0. */
static int shell_command(const char *repo, void *payload)
{
	return cli_shell(payload, repo) != 0;
}

/* What each option sets (cli_opt.id). */
enum {
	OPT_REMOTE, OPT_CHECK, OPT_WRITEBACK, OPT_COMMIT_MESSAGE, OPT_ALL, OPT_LIST, OPT_LOCK_WAIT,
	OPT_COMMAND_DEADLINE, OPT_ON_DIVERGE, OPT_WRITER_EMAIL, OPT_JOBS, OPT_METRICS_FILE, OPT_SHARD,
	OPT_FORMAT
};

/* Every option once; each command's table below lists the ones it takes. */
#define O_REMOTE { OPT_REMOTE, CLI_OPT_FLAG, "--remote", NULL, NULL, \
	"fetch first (the behind guard, C-16), then decide what needs action" }
#define O_CHECK { OPT_CHECK, CLI_OPT_VALUE, "--check", NULL, "CMD", \
	"the repo needs action when `sh -c CMD` exits non-zero" }
#define O_WRITEBACK { OPT_WRITEBACK, CLI_OPT_VALUE, "--writeback", NULL, "CMD", \
	"the writer's work: `sh -c CMD` in the repo, under its lock" }
#define O_COMMIT_MESSAGE { OPT_COMMIT_MESSAGE, CLI_OPT_VALUE, "--commit-message", NULL, "MSG", \
	"commit what CMD left uncommitted with MSG (never an empty commit)" }
#define O_ALL { OPT_ALL, CLI_OPT_VALUE, "--all", NULL, "DIR", \
	"every git worktree under DIR (not inside repositories), sorted" }
#define O_LIST { OPT_LIST, CLI_OPT_VALUE, "--list", NULL, "FILE", \
	"repo paths from FILE, one a line ('#' comments, blank lines skipped)" }
#define O_LOCK_WAIT { OPT_LOCK_WAIT, CLI_OPT_VALUE, "--lock-wait", NULL, "S", \
	"wait up to S seconds (0 to 3600; default 0) for the repo lock" }
#define O_COMMAND_DEADLINE { OPT_COMMAND_DEADLINE, CLI_OPT_VALUE, "--command-deadline", NULL, "S", \
	"kill CMD's process group after S seconds (0.001 to 86400; default 600)" }
#define O_ON_DIVERGE { OPT_ON_DIVERGE, CLI_OPT_CHOICE, "--on-diverge", NULL, "stop|rebase", \
	"diverged: stop (default), or rebase the writer's own commits" }
#define O_WRITER_EMAIL { OPT_WRITER_EMAIL, CLI_OPT_VALUE, "--writer-email", NULL, "EMAIL", \
	"whose commits --on-diverge=rebase may move (default: user.email)" }
#define O_JOBS { OPT_JOBS, CLI_OPT_VALUE, "--jobs", "-j", "N", \
	"work on N repos at once (1 to 256; default: the number of cores)" }
#define O_METRICS_FILE { OPT_METRICS_FILE, CLI_OPT_VALUE, "--metrics-file", NULL, "PATH", \
	"write Prometheus text metrics to PATH, atomically (node_exporter)" }
#define O_SHARD { OPT_SHARD, CLI_OPT_VALUE, "--shard", NULL, "I/N|auto", \
	"only the repos of shard I of N (0 <= I < N); auto: from the Job's index" }
#define O_FORMAT { OPT_FORMAT, CLI_OPT_VALUE, "--format", NULL, "json|text", \
	"one JSON line per repo (default, docs/PROTOCOL.md), or a short line for people" }

static const cli_opt fix_opts[] = {
	O_WRITEBACK, O_COMMIT_MESSAGE, O_LOCK_WAIT, O_COMMAND_DEADLINE, O_ON_DIVERGE, O_WRITER_EMAIL, O_FORMAT,
};
static const cli_opt run_opts[] = {
	O_REMOTE, O_CHECK, O_WRITEBACK, O_COMMIT_MESSAGE, O_ALL, O_LIST, O_LOCK_WAIT, O_COMMAND_DEADLINE,
	O_ON_DIVERGE, O_WRITER_EMAIL, O_JOBS, O_METRICS_FILE, O_SHARD, O_FORMAT,
};
static const cli_opt status_opts[] = {
	O_REMOTE, O_CHECK, O_COMMAND_DEADLINE, O_ALL, O_LIST, O_JOBS, O_SHARD, O_FORMAT,
};

#define CMD_NOTES \
	"CMD runs as `sh -c CMD` in the repo; its stdout goes to stderr.  A killed\n" \
	"--writeback counts as failed, and its commits are sealed.\n"
#define TICK_NOTES CMD_NOTES \
	"REPO..., --all and --list add up.  The JSON lines come in the order given,\n" \
	"whatever -j.  --shard I/N keeps the repos that hash (canonical path and remote\n" \
	"URL) to shard I of N: N processes with I = 0..N-1 tick every repo once.\n" \
	"--shard auto takes I from JOB_COMPLETION_INDEX and N from PUSHSEAL_SHARD_COUNT.\n"

const cli_command cli_fix_command = {
	"fix", "REPO", "one sealed cycle: C-16 pull, C-17 push the backlog, CMD, push seal",
	fix_opts, sizeof(fix_opts) / sizeof(fix_opts[0]), CMD_NOTES, cli_cmd_fix, NULL,
};
const cli_command cli_run_command = {
	"run", "REPO...", "one timer tick: fix each repo that needs action, skip clean ones",
	run_opts, sizeof(run_opts) / sizeof(run_opts[0]), TICK_NOTES, cli_cmd_run, NULL,
};
const cli_command cli_status_command = {
	"status", "REPO...", "what a tick would do, writing nothing",
	status_opts, sizeof(status_opts) / sizeof(status_opts[0]), TICK_NOTES, cli_cmd_status, NULL,
};

/* Apply one option; `val` is its value (NULL for a flag). */
static int apply(cycle_args *a, int id, const char *val)
{
	char *end = NULL;
	int rc;
	switch (id) {
	case OPT_REMOTE:
		a->remote = 1;
		break;
	case OPT_ON_DIVERGE:
		if (!strcmp(val, "rebase"))
			a->on_diverge = PUSHSEAL_DIVERGE_REBASE;
		else if (!strcmp(val, "stop"))
			a->on_diverge = PUSHSEAL_DIVERGE_STOP;
		else
			return cli_usage_error("--on-diverge takes stop or rebase, not", val);
		break;
	case OPT_WRITEBACK:
		a->writeback = val;
		break;
	case OPT_CHECK:
		a->check = val;
		break;
	case OPT_WRITER_EMAIL:
		a->writer_email = val;
		break;
	case OPT_METRICS_FILE:
		a->metrics_file = val;
		break;
	case OPT_FORMAT:
		if (strcmp(val, "json") != 0 && strcmp(val, "text") != 0)
			return cli_usage_error("--format takes json or text, not", val);
		a->text = !strcmp(val, "text");
		break;
	case OPT_COMMIT_MESSAGE:
		a->commit_message = *val ? val : NULL;
		break;
	case OPT_SHARD:
		return cli_shard_parse(&a->shard, val);
	case OPT_ALL:
	case OPT_LIST:
		rc = id == OPT_ALL ? cli_list_find(&a->repos, val) : cli_list_read(&a->repos, val);
		if (rc < 0)
			return list_failed(rc);
		break;
	case OPT_JOBS: {
		long j = strtol(val, &end, 10);
		if (end == val || *end || j < 1 || j > 256)
			return cli_usage_error("-j takes a number of workers from 1 to 256, not", val);
		a->jobs = (int)j;
		break;
	}
	case OPT_COMMAND_DEADLINE: {
		int ms;
		if (ps_seconds_parse(&ms, val, PS_SECONDS_DEADLINE_MIN_MS, PS_SECONDS_DEADLINE_MAX_MS) < 0)
			return cli_usage_error("--command-deadline takes seconds from 0.001 to 86400, not", val);
		cli_shell_set_deadline(ms);
		break;
	}
	case OPT_LOCK_WAIT:
		if (ps_seconds_parse(&a->lock_wait_ms, val, 0, 3600 * 1000) < 0)
			return cli_usage_error("--lock-wait takes seconds from 0 to 3600, not", val);
		break;
	default:
		break;
	}
	return 0;
}

/* Parse argv[1..] by the table of cmd.  Returns 0; EXIT_USAGE after printing
 * the error; CLI_HELP_SHOWN after printing cmd's help (-h, --help); or 1
 * when out of memory. */
static int parse(cycle_args *a, int argc, char **argv, const cli_command *cmd)
{
	int only_paths = 0;
	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *val = NULL;
		const cli_opt *o;
		int rc;
		if (only_paths || arg[0] != '-' || arg[1] == '\0') {
			if (!*arg)
				return cli_usage_error("empty REPO path", NULL);
			if (cli_list_add(&a->repos, arg) < 0)
				return cli_out_of_memory();
			continue;
		}
		if (!strcmp(arg, "--")) {
			only_paths = 1;
			continue;
		}
		if (cli_opt_is_help(arg)) {
			cli_command_help(stdout, cmd);
			return CLI_HELP_SHOWN;
		}
		if (!(o = cli_opt_find(cmd, arg, &val)))
			return cli_usage_error("unknown option", arg);
		if (o->kind == CLI_OPT_VALUE) {
			if (i + 1 >= argc)
				return cli_usage_error("option needs a value:", arg);
			val = argv[++i];
		}
		if ((rc = apply(a, o->id, val)) != 0)
			return rc;
	}
	return 0;
}

static void cycle_options(pushseal_cycle_options *o, cycle_args *a)
{
	pushseal_cycle_options init = PUSHSEAL_CYCLE_OPTIONS_INIT;
	*o = init;
	if (a->writeback) {
		o->writeback = shell_command;
		o->writeback_payload = (void *)a->writeback;
	}
	o->commit_message = a->commit_message;
	o->lock_wait_ms = a->lock_wait_ms;
	o->on_diverge = a->on_diverge;
	o->writer_email = a->writer_email;
}

static void print_report(FILE *out, const cycle_args *a, const char *repo, const pushseal_report *r, int status_mode)
{
	if (a->text)
		cli_text_report(out, repo, r, status_mode);
	else
		cli_json_report(out, repo, r, status_mode);
}

int cli_cmd_fix(int argc, char **argv)
{
	cycle_args a;
	pushseal_cycle_options o;
	pushseal_report r;
	int rc = parse(&a, argc, argv, &cli_fix_command);
	if (rc)
		goto done;
	if (a.repos.len != 1) {
		rc = cli_usage_error(a.repos.len ? "fix takes one REPO; extra:" : "fix: missing REPO",
			a.repos.len ? a.repos.items[1] : NULL);
		goto done;
	}
	cycle_options(&o, &a);
	(void)pushseal_cycle_run(&r, a.repos.items[0], &o);
	print_report(stdout, &a, a.repos.items[0], &r, 0);
	rc = report_failed(&r, 0); /* the same rule as the JSON's "failure" */
done:
	cli_list_free(&a.repos);
	return rc == CLI_HELP_SHOWN ? 0 : rc;
}


/* Did this repo end as the protocol wants (sealed or clean; for status,
 * measured)? */
static int repo_ok(int rc, const pushseal_report *r, int dry_run)
{
	if (dry_run)
		return !(rc < 0 && r->skipped == PUSHSEAL_SKIP_NONE);
	return !report_failed(r, 0); /* the same rule as the JSON's "failure" and the metrics */
}

/* What a pool worker needs to tick one repository. */
typedef struct tick_job {
	cycle_args *a;
	const pushseal_tick_options *o;
	int dry_run;
} tick_job;

static int tick_one(pushseal_report *r, FILE *line, size_t i, void *payload)
{
	tick_job *job = payload;
	int one = pushseal_tick_repo(r, job->a->repos.items[i], job->o);
	print_report(line, job->a, job->a->repos.items[i], r, job->dry_run);
	return !repo_ok(one, r, job->dry_run);
}

/*
 * `-j N`: N worker processes (pool.c) tick the repositories; the lines are
 * printed in the order the repos were given, so the output and the exit
 * code are exactly those of a sequential tick.  Processes rather than
 * threads: every network call already forks (net_deadline.c), and a worker
 * cannot corrupt the supervisor's state.
 */
static int tick_parallel(cycle_args *a, const pushseal_tick_options *o, int dry_run, int jobs, cli_metrics *metrics)
{
	size_t n = a->repos.len;
	tick_job job = { a, o, dry_run };
	cli_pool_result *results = calloc(n, sizeof(*results));
	int failed = 0;
	if (!results)
		return cli_out_of_memory();
	fflush(stdout);
	if (cli_pool_run(results, n, jobs, tick_one, &job) < 0) {
		perror("pushseal: cannot start a worker");
		cli_pool_results_free(results, n);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!results[i].have) {
			/* still one line for the repo: its worker died (an OOM kill, a
			 * crash); the kernel dropped its repo lock, and its crash journal
			 * lets the next tick recover whatever it left half done */
			pushseal_report *r = &results[i].report;
			memset(r, 0, sizeof(*r));
			r->error.klass = PUSHSEAL_E_INTERNAL;
			if (results[i].died_signal)
				snprintf(r->error.message, sizeof(r->error.message),
					"the worker ticking this repository was killed (signal %d) before it reported; "
					"the next tick recovers", results[i].died_signal);
			else
				snprintf(r->error.message, sizeof(r->error.message),
					"the worker ticking this repository died before it reported; the next tick recovers");
			fprintf(stderr, "pushseal: %s: %s\n", a->repos.items[i], r->error.message);
			print_report(stdout, a, a->repos.items[i], r, dry_run);
			if (metrics)
				cli_metrics_add(metrics, a->repos.items[i], r);
			failed = 1;
			continue;
		}
		if (results[i].failed)
			failed = 1;
		if (metrics)
			cli_metrics_add(metrics, a->repos.items[i], &results[i].report);
		fputs(results[i].line, stdout);
	}
	fflush(stdout);
	cli_pool_results_free(results, n);
	return failed;
}

static int tick(int argc, char **argv, int dry_run)
{
	cycle_args a;
	pushseal_tick_options o = PUSHSEAL_TICK_OPTIONS_INIT;
	cli_metrics *metrics = NULL;
	int rc = parse(&a, argc, argv, dry_run ? &cli_status_command : &cli_run_command), failed = 0;
	if (rc)
		goto done;
	if (a.repos.len == 0) {
		rc = cli_usage_error("no repositories: give REPO..., --all DIR or --list FILE", NULL);
		goto done;
	}
	cli_shard_filter(&a.repos, &a.shard); /* an empty shard is a tick with nothing to do */
	cycle_options(&o.cycle, &a);
	o.remote = a.remote;
	o.dry_run = dry_run;
	if (a.check) {
		o.check = shell_command;
		o.check_payload = (void *)a.check;
	}
	{
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		int jobs = a.jobs ? a.jobs : (cores > 0 ? (int)cores : 1);
		if (a.metrics_file && !(metrics = cli_metrics_new(a.repos.len))) {
			rc = cli_out_of_memory();
			goto done;
		}
		if (jobs > 1 && a.repos.len > 1) {
			failed = tick_parallel(&a, &o, dry_run, jobs, metrics);
		} else {
			for (size_t i = 0; i < a.repos.len; i++) {
				pushseal_report r;
				int one = pushseal_tick_repo(&r, a.repos.items[i], &o);
				print_report(stdout, &a, a.repos.items[i], &r, dry_run);
				if (metrics)
					cli_metrics_add(metrics, a.repos.items[i], &r);
				if (!repo_ok(one, &r, dry_run))
					failed = 1;
			}
		}
	}
	if (metrics && cli_metrics_write(metrics, a.metrics_file) < 0)
		failed = 1;
	rc = failed;
done:
	cli_metrics_free(metrics);
	cli_list_free(&a.repos);
	return rc == CLI_HELP_SHOWN ? 0 : rc;
}

int cli_cmd_run(int argc, char **argv)
{
	return tick(argc, argv, 0);
}

int cli_cmd_status(int argc, char **argv)
{
	return tick(argc, argv, 1);
}
