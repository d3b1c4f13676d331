/*
 * The option parser of `pushseal fix|run|status` (the static parse() in
 * src/cli/cycle_cmds.c, compiled into this file) on arbitrary argv vectors.
 * Nothing touches the network or the file system: --all and --list go to
 * stubs that record the value, and usage errors are counted, not printed.
 * Input: byte 0 picks the command, the rest is argv[1..], NUL-separated.
 * Properties: parse returns 0, EXIT_USAGE or CLI_HELP_SHOWN (-h, --help);
 * on 0 every value is within its
 * documented range (--lock-wait 0..3600 s, --on-diverge stop|rebase), every
 * option set is one the command's table holds, every REPO is a non-empty argument,
 * and a usage error was reported exactly when it returned EXIT_USAGE.
 */
#define cli_list_find fuzz_list_find
#define cli_list_read fuzz_list_read
#include "../src/cli/cycle_cmds.c"
#undef cli_list_find
#undef cli_list_read

#include "fuzz.h"

static int usage_errors;

int cli_usage_error(const char *what, const char *arg)
{
	(void)what;
	(void)arg;
	usage_errors++;
	return EXIT_USAGE;
}

/* --all DIR / --list FILE: the value itself stands for the repos found;
 * a value starting with '!' stands for an unreadable one. */
int fuzz_list_find(cli_list *l, const char *dir)
{
	if (dir[0] == '!') {
		usage_errors++;
		return -1;
	}
	return *dir ? cli_list_add(l, dir) : 0;
}

int fuzz_list_read(cli_list *l, const char *file)
{
	return fuzz_list_find(l, file);
}

#define MAX_ARGS 64

/* Does cmd's option table hold the option called name? */
static int takes(const cli_command *cmd, const char *name)
{
	for (size_t i = 0; i < cmd->nopts; i++)
		if (!strcmp(cmd->opts[i].name, name))
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const cli_command *const cmds[] = { &cli_fix_command, &cli_run_command, &cli_status_command };
	char *buf, *argv[MAX_ARGS + 2];
	int argc = 1, rc;
	const cli_command *cmd;
	cycle_args a;
	pushseal_cycle_options o;

	if (size < 1)
		return 0;
	cmd = cmds[data[0] % 3];
	argv[0] = (char *)cmd->name;
	buf = malloc(size); /* data[1..] plus a final NUL */
	FUZZ_CHECK(buf != NULL, "malloc");
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	for (char *p = buf; p < buf + size && argc <= MAX_ARGS; p += strlen(p) + 1) {
		if (p == buf + size - 1 && argc > 1)
			break; /* the terminating NUL is not an empty argument */
		argv[argc++] = p;
	}
	argv[argc] = NULL;

	usage_errors = 0;
	rc = parse(&a, argc, argv, cmd);
	FUZZ_CHECK(rc == 0 || rc == EXIT_USAGE || rc == CLI_HELP_SHOWN, "parse returned %d", rc);
	FUZZ_CHECK((rc == EXIT_USAGE) == (usage_errors > 0), "rc %d after %d usage errors", rc, usage_errors);
	if (rc == 0) {
		FUZZ_CHECK(a.lock_wait_ms >= 0 && a.lock_wait_ms <= 3600 * 1000, "--lock-wait gave %d ms",
			a.lock_wait_ms);
		FUZZ_CHECK(a.on_diverge == 0 || a.on_diverge == PUSHSEAL_DIVERGE_STOP ||
		           a.on_diverge == PUSHSEAL_DIVERGE_REBASE, "on_diverge %d", a.on_diverge);
		FUZZ_CHECK(!a.writeback || takes(cmd, "--writeback"), "%s took --writeback", argv[0]);
		FUZZ_CHECK(!a.check || takes(cmd, "--check"), "%s took --check", argv[0]);
		FUZZ_CHECK(!a.remote || takes(cmd, "--remote"), "%s took --remote", argv[0]);
		FUZZ_CHECK(!a.commit_message || takes(cmd, "--commit-message"), "%s took --commit-message", argv[0]);
		FUZZ_CHECK(!a.lock_wait_ms || takes(cmd, "--lock-wait"), "%s took --lock-wait", argv[0]);
		FUZZ_CHECK(!a.on_diverge || takes(cmd, "--on-diverge"), "%s took --on-diverge", argv[0]);
		for (size_t i = 0; i < a.repos.len; i++) {
			int found = 0;
			FUZZ_CHECK(a.repos.items[i][0] != '\0', "an empty REPO");
			for (int k = 1; k < argc && !found; k++)
				found = strcmp(argv[k], a.repos.items[i]) == 0;
			FUZZ_CHECK(found, "REPO '%s' is no argument", a.repos.items[i]);
		}
		cycle_options(&o, &a);
		FUZZ_CHECK(o.lock_wait_ms == a.lock_wait_ms && o.commit_message == a.commit_message,
			"cycle_options");
	}
	cli_list_free(&a.repos);
	free(buf);
	return 0;
}
