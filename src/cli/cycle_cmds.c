/* The sealed-cycle commands: fix, run and status (protocol v1 JSON lines). */
#define _GNU_SOURCE
#include "cli.h"
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

static int shell_writeback(const char *repo, void *payload)
{
	return cli_shell(payload, repo) != 0;
}

static int shell_check(const char *repo, void *payload)
{
	return cli_shell(payload, repo) != 0;
}

/* The options that take a value, with the letter of `allowed` that admits
 * each; the flags (--remote, --on-diverge=) are handled apart. */
static const struct valued {
	const char *name;
	char letter;
} valued[] = {
	{ "--writeback", 'w' }, { "--check", 'c' }, { "--all", 'a' }, { "--list", 'a' },
	{ "-j", 'a' }, { "--jobs", 'a' }, { "--commit-message", 'm' }, { "--lock-wait", 'l' },
	{ "--writer-email", 'd' }, { "--format", 'f' }, { "--metrics-file", 'M' }, { "--shard", 'a' },
	{ "--command-deadline", 'w' }, { "--command-deadline", 'c' },
};

/* Apply one valued option; `val` is never NULL here. */
static int apply(cycle_args *a, const char *opt, const char *val)
{
	char *end = NULL;
	if (!strcmp(opt, "--writeback")) {
		a->writeback = val;
	} else if (!strcmp(opt, "--check")) {
		a->check = val;
	} else if (!strcmp(opt, "--writer-email")) {
		a->writer_email = val;
	} else if (!strcmp(opt, "--metrics-file")) {
		a->metrics_file = val;
	} else if (!strcmp(opt, "--format")) {
		if (strcmp(val, "json") != 0 && strcmp(val, "text") != 0)
			return cli_usage_error("--format takes json or text, not", val);
		a->text = !strcmp(val, "text");
	} else if (!strcmp(opt, "--commit-message")) {
		a->commit_message = *val ? val : NULL;
	} else if (!strcmp(opt, "--shard")) {
		return cli_shard_parse(&a->shard, val);
	} else if (!strcmp(opt, "--all")) {
		int rc = cli_list_find(&a->repos, val);
		if (rc < 0)
			return list_failed(rc);
	} else if (!strcmp(opt, "--list")) {
		int rc = cli_list_read(&a->repos, val);
		if (rc < 0)
			return list_failed(rc);
	} else if (!strcmp(opt, "-j") || !strcmp(opt, "--jobs")) {
		long j = strtol(val, &end, 10);
		if (end == val || *end || j < 1 || j > 256)
			return cli_usage_error("-j takes a number of workers from 1 to 256, not", val);
		a->jobs = (int)j;
	} else if (!strcmp(opt, "--command-deadline")) {
		int ms;
		if (ps_seconds_parse(&ms, val, PS_SECONDS_DEADLINE_MIN_MS, PS_SECONDS_DEADLINE_MAX_MS) < 0)
			return cli_usage_error("--command-deadline takes seconds from 0.001 to 86400, not", val);
		cli_shell_set_deadline(ms);
	} else if (!strcmp(opt, "--lock-wait")) {
		if (ps_seconds_parse(&a->lock_wait_ms, val, 0, 3600 * 1000) < 0)
			return cli_usage_error("--lock-wait takes seconds from 0 to 3600, not", val);
	}
	return 0;
}

/* Parse argv[1..] for a command that allows the option letters in `allowed`
 * ("w" writeback, "c" check, "r" remote, "a" --all/--list/-j, "m" message,
 * "l" lock wait, "d" divergence policy, "f" format, "M" metrics file).  Returns 0, or EXIT_USAGE after
 * printing the error. */
static int parse(cycle_args *a, int argc, char **argv, const char *allowed)
{
	int only_paths = 0;
	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const struct valued *v = NULL;
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
		if (!strcmp(arg, "--remote") && strchr(allowed, 'r')) {
			a->remote = 1;
			continue;
		}
		if (!strncmp(arg, "--on-diverge=", 13) && strchr(allowed, 'd')) {
			if (!strcmp(arg + 13, "rebase"))
				a->on_diverge = PUSHSEAL_DIVERGE_REBASE;
			else if (!strcmp(arg + 13, "stop"))
				a->on_diverge = PUSHSEAL_DIVERGE_STOP;
			else
				return cli_usage_error("--on-diverge takes stop or rebase, not", arg + 13);
			continue;
		}
		for (size_t k = 0; k < sizeof(valued) / sizeof(valued[0]); k++)
			if (!strcmp(arg, valued[k].name) && strchr(allowed, valued[k].letter))
				v = &valued[k];
		if (!v)
			return cli_usage_error("unknown option", arg);
		if (i + 1 >= argc)
			return cli_usage_error("option needs a value:", arg);
		if ((rc = apply(a, v->name, argv[++i])) != 0)
			return rc;
	}
	return 0;
}

static void cycle_options(pushseal_cycle_options *o, cycle_args *a)
{
	pushseal_cycle_options init = PUSHSEAL_CYCLE_OPTIONS_INIT;
	*o = init;
	if (a->writeback) {
		o->writeback = shell_writeback;
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
	int rc = parse(&a, argc, argv, "wmldf");
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
	return rc;
}


/* Did this repo end as the protocol wants (sealed or clean; for status,
 * measured)? */
static int repo_ok(int rc, const pushseal_report *r, int dry_run)
{
	if (dry_run)
		return !(rc < 0 && r->skipped == PUSHSEAL_SKIP_NONE);
	return !report_failed(r, 0); /* the same rule as the JSON's "failure" and the metrics */
}

/*
 * `-j N`: one worker process per repo, at most N at a time.  Each writes its
 * JSON line to its own temporary file; the lines are printed in the order
 * the repos were given, so the output and the exit code are exactly those
 * of a sequential tick.  Processes rather than threads: every network call
 * already forks (net_deadline.c), and a worker cannot corrupt another's state.
 */
static int tick_parallel(cycle_args *a, const pushseal_tick_options *o, int dry_run, int jobs, cli_metrics *metrics)
{
	size_t n = a->repos.len, next = 0, running = 0, done = 0;
	pid_t parent = getpid();
	pid_t *pids = calloc(n, sizeof(*pids));
	FILE **outs = calloc(n, sizeof(FILE *));
	int failed = 0;

	if (!pids || !outs) {
		free(pids);
		free(outs);
		return cli_out_of_memory();
	}
	while (done < n) {
		int status;
		pid_t pid;
		while (running < (size_t)jobs && next < n) {
			size_t i = next++;
			if (!(outs[i] = tmpfile())) {
				perror("pushseal: tmpfile");
				failed = 1;
				done++;
				continue;
			}
			fflush(NULL);
			pid = fork();
			if (pid == 0) {
				pushseal_report r;
				int one;
				/* a worker never outlives the tick that started it */
				if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
					_exit(1);
				one = pushseal_tick_repo(&r, a->repos.items[i], o);
				/* the report for the parent's metrics, then the line it prints */
				fwrite(&r, sizeof(r), 1, outs[i]);
				print_report(outs[i], a, a->repos.items[i], &r, dry_run);
				fflush(outs[i]);
				_exit(repo_ok(one, &r, dry_run) ? 0 : 1);
			}
			if (pid < 0) {
				perror("pushseal: fork");
				failed = 1;
				done++;
				continue;
			}
			pids[i] = pid;
			running++;
		}
		if (running == 0)
			continue;
		pid = wait(&status);
		if (pid < 0)
			break;
		for (size_t i = 0; i < n; i++) {
			if (pids[i] != pid)
				continue;
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
				failed = 1;
			pids[i] = -1;
			running--;
			done++;
		}
	}
	for (size_t i = 0; i < n; i++) {
		char buf[4096];
		size_t got;
		pushseal_report r;
		if (!outs[i])
			continue;
		rewind(outs[i]);
		if (fread(&r, sizeof(r), 1, outs[i]) != 1) {
			fprintf(stderr, "pushseal: the worker for %s died without a report\n", a->repos.items[i]);
			failed = 1;
			fclose(outs[i]);
			continue;
		}
		if (metrics)
			cli_metrics_add(metrics, a->repos.items[i], &r);
		while ((got = fread(buf, 1, sizeof(buf), outs[i])) > 0)
			fwrite(buf, 1, got, stdout);
		fclose(outs[i]);
	}
	fflush(stdout);
	free(pids);
	free(outs);
	return failed;
}

static int tick(int argc, char **argv, int dry_run)
{
	cycle_args a;
	pushseal_tick_options o = PUSHSEAL_TICK_OPTIONS_INIT;
	cli_metrics *metrics = NULL;
	int rc = parse(&a, argc, argv, dry_run ? "rcaf" : "rcwamldfM"), failed = 0;
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
		o.check = shell_check;
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
	return rc;
}

int cli_cmd_run(int argc, char **argv)
{
	return tick(argc, argv, 0);
}

int cli_cmd_status(int argc, char **argv)
{
	return tick(argc, argv, 1);
}
