/* One sandbox per test, a pinned environment, and the CLAUSE runner. */
#define _GNU_SOURCE
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char suite_mark[64];
static pid_t suite_owner;
static pid_t watchdog_pid;
static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw);

void ps_mark_dir(const char *dir)
{
	char path[1200];
	FILE *f;
	snprintf(path, sizeof(path), "%s/.pushseal-suite", dir);
	if ((f = fopen(path, "we")) != NULL) {
		fputs(suite_mark, f);
		fclose(f);
	}
}

/* The watchdog's cleanup, after the suite died without its own (a crash,
 * SIGKILL from ctest's timeout or from a killed kit): every process that
 * carries the suite's mark, and every directory under TMPDIR it marked. */
static void remove_marked_dirs(void)
{
	const char *tmp = getenv("TMPDIR");
	char base[1100];
	DIR *d;
	struct dirent *e;
	snprintf(base, sizeof(base), "%s", tmp && *tmp ? tmp : "/tmp");
	if (!(d = opendir(base)))
		return;
	while ((e = readdir(d)) != NULL) {
		char dir[2400], path[2500], mark[64] = "";
		FILE *f;
		if (strncmp(e->d_name, "pushseal-", 9) != 0)
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", base, e->d_name);
		snprintf(path, sizeof(path), "%s/.pushseal-suite", dir);
		if (!(f = fopen(path, "re")))
			continue;
		if (!fgets(mark, sizeof(mark), f))
			mark[0] = '\0';
		fclose(f);
		if (!strcmp(mark, suite_mark))
			nftw(dir, rm_entry, 32, FTW_DEPTH | FTW_PHYS);
	}
	closedir(d);
}

static int marked_left(char *list, size_t n, int kill_them);

static void watchdog_fire(int sig)
{
	char list[64];
	(void)sig;
	for (int i = 0; i < 30 && marked_left(list, sizeof(list), 1) > 0; i++) {
		struct timespec ts = { 0, 100 * 1000000L };
		nanosleep(&ts, NULL);
	}
	remove_marked_dirs();
	_exit(0);
}

/* A process that outlives the suite only to clean up after it: it asks the
 * kernel for a signal when the suite dies, and is killed at a normal exit. */
static void start_watchdog(void)
{
	pid_t suite = getpid();
	fflush(NULL);
	watchdog_pid = fork();
	if (watchdog_pid == 0) {
		struct sigaction sa;
		int null = open("/dev/null", O_RDWR);
		watchdog_pid = getpid();
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = watchdog_fire;
		sigaction(SIGTERM, &sa, NULL);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		close_range(3, ~0U, 0);
		setsid(); /* not in the suite's group: ctest's kill of it must not reach us */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != suite)
			watchdog_fire(0);
		for (;;)
			pause();
	}
}

/* Live processes (not us, not zombies) whose environment carries the
 * suite's mark; the first few are described in `list`. */
static int marked_left(char *list, size_t n, int kill_them)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	char want[128];
	int count = 0;
	size_t used = 0;
	snprintf(want, sizeof(want), "PUSHSEAL_SUITE_MARK=%s", suite_mark);
	list[0] = '\0';
	while (d && (e = readdir(d)) != NULL) {
		char path[300], buf[65536], line[512];
		size_t got;
		FILE *f;
		int pid = atoi(e->d_name);
		if (pid <= 0 || pid == (int)getpid() || pid == (int)watchdog_pid)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		if (!(f = fopen(path, "r")))
			continue;
		{
			char *p = fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL;
			fclose(f);
			if (!p || p[1] != ' ' || p[2] == 'Z')
				continue;
		}
		snprintf(path, sizeof(path), "/proc/%d/environ", pid);
		if (!(f = fopen(path, "r")))
			continue;
		got = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[got] = '\0';
		for (size_t off = 0; off < got; off += strlen(buf + off) + 1) {
			if (strcmp(buf + off, want) != 0)
				continue;
			if (count++ < 5 && used < n) {
				char cmd[200] = "";
				snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
				if ((f = fopen(path, "r")) != NULL) {
					size_t c = fread(cmd, 1, sizeof(cmd) - 1, f);
					fclose(f);
					for (size_t k = 0; k < c; k++)
						cmd[k] = cmd[k] ? cmd[k] : ' ';
					cmd[c] = '\0';
				}
				used += (size_t)snprintf(list + used, n - used, " [%d %s]", pid, cmd);
			}
			if (kill_them)
				kill(pid, SIGKILL); /* leave the machine as we found it */
			break;
		}
	}
	if (d)
		closedir(d);
	return count;
}

/* atexit: a suite that leaves a process behind fails, whatever its tests said. */
static void no_process_left(void)
{
	char list[2048];
	int left = 0;
	if (getpid() != suite_owner)
		return; /* a forked helper exiting is not the suite */
	if (watchdog_pid > 0) {
		kill(watchdog_pid, SIGKILL); /* a normal exit: teardown cleaned up */
		waitpid(watchdog_pid, NULL, 0);
		watchdog_pid = 0;
	}
	for (int i = 0; i < 40 && (left = marked_left(list, sizeof(list), 0)) > 0; i++) {
		struct timespec ts = { 0, 50 * 1000000L };
		nanosleep(&ts, NULL); /* a process killed just now may still be exiting */
	}
	if (left > 0 && (left = marked_left(list, sizeof(list), 1)) > 0) {
		fprintf(stderr, "[  ERROR   ] the suite left %d process(es) behind (now killed):%s\n", left, list);
		fflush(stderr);
		_exit(1);
	}
}

void ps_harness_init(void)
{
	static const char *const unset[] = {
		"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
		"GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_CEILING_DIRECTORIES", "GIT_NAMESPACE",
		"GIT_CONFIG", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_SSH", "GIT_SSH_COMMAND",
		"GIT_ASKPASS", "SSH_ASKPASS", "GIT_TRACE", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL",
		"GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL", "PUSHSEAL_DEADLINE_S",
	};
	for (size_t i = 0; i < sizeof(unset) / sizeof(unset[0]); i++)
		unsetenv(unset[i]);
	setenv("LANG", "C", 1);
	setenv("LC_ALL", "C", 1);
	setenv("TZ", "UTC", 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_TERMINAL_PROMPT", "0", 1);
	setenv("GIT_AUTHOR_DATE", "@1700000000 +0000", 1);
	setenv("GIT_COMMITTER_DATE", "@1700000000 +0000", 1);
	signal(SIGPIPE, SIG_IGN);
	/* cmocka writes results to stdout and messages to stderr: unbuffered,
	 * a failure's reason stays next to its test in a shared log */
	setvbuf(stdout, NULL, _IONBF, 0);
	git_libgit2_init();
	/* every process this suite starts, however far down, carries the mark;
	 * at exit (after the servers are stopped) none may be left */
	snprintf(suite_mark, sizeof(suite_mark), "%d-%lld", (int)getpid(), ps_mono_ms());
	setenv("PUSHSEAL_SUITE_MARK", suite_mark, 1);
	suite_owner = getpid();
	start_watchdog();
	atexit(no_process_left);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	remove(path);
	return 0;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		fail_msg("cannot write %s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
}

int ps_setup(void **state)
{
	const ps_body *body = *state;
	ps_ctx *ctx = calloc(1, sizeof(*ctx));
	const char *tmp = getenv("TMPDIR");
	char gitconfig[1200];

	if (!ctx)
		return -1;
	ctx->body = body->fn;
	ctx->clause = body->clause;
	ctx->reach = body->reach;
	/* a test that needs a network server, in a run over a local path: git:// */
	if (ctx->reach == PS_NET && !ps_transport_is_network()) {
		snprintf(ctx->saved_transport, sizeof(ctx->saved_transport), "%s", ps_transport());
		setenv("PUSHSEAL_TRANSPORT", "git", 1);
	}
	snprintf(ctx->root, sizeof(ctx->root), "%s/pushseal-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(ctx->root)) {
		free(ctx);
		return -1;
	}
	ps_mark_dir(ctx->root); /* so the watchdog can remove it if we are killed */
	snprintf(ctx->home, sizeof(ctx->home), "%s/home", ctx->root);
	mkdir(ctx->home, 0700);
	snprintf(gitconfig, sizeof(gitconfig), "%s/.gitconfig", ctx->home);
	write_text(gitconfig,
		"[user]\n\tname = Pushseal Test\n\temail = test@pushseal.invalid\n"
		"[init]\n\tdefaultBranch = main\n"
		"[gc]\n\tauto = 0\n"
		"[maintenance]\n\tauto = false\n"
		"[advice]\n\tdetachedHead = false\n"
		"[protocol \"file\"]\n\tallow = always\n");
	setenv("HOME", ctx->home, 1);
	setenv("XDG_CONFIG_HOME", ctx->home, 1);
	/* libgit2 must read the sandbox's config, never the developer's */
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_GLOBAL, ctx->home);
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_XDG, ctx->home);
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_SYSTEM, ctx->home);
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_PROGRAMDATA, ctx->home);
	unsetenv("PUSHSEAL_DEADLINE_S");
	ps_ssh_home_reset(); /* no earlier test's ssh home */
	unsetenv("PUSHSEAL_TEST_HOOK_BEFORE_LOCK");
	unsetenv("PUSHSEAL_TEST_HOOK_AFTER_LOCK");
	*state = ctx;
	return 0;
}

int ps_teardown(void **state)
{
	ps_ctx *ctx = *state;
	if (!ctx)
		return 0;
	if (ctx->server_pid > 0) {
		/* its whole group: `timeout` leads one, and what it runs is in it */
		kill(-ctx->server_pid, SIGKILL);
		kill(ctx->server_pid, SIGKILL);
		waitpid(ctx->server_pid, NULL, 0);
	}
	if (ctx->saved_transport[0])
		setenv("PUSHSEAL_TRANSPORT", ctx->saved_transport, 1);
	if (!ctx->passed && ctx->transcript_len) {
		print_message("transcript: %d protocol call(s)\n", ctx->calls);
		print_message("%s", ctx->transcript);
	}
	/* keep nothing unless asked (PUSHSEAL_KEEP=1; the kit's --keep sets it) */
	if (ctx->passed || getenv("PUSHSEAL_KEEP_NONE") || !getenv("PUSHSEAL_KEEP") || strcmp(getenv("PUSHSEAL_KEEP"), "1"))
		nftw(ctx->root, rm_entry, 32, FTW_DEPTH | FTW_PHYS);
	else
		print_message("sandbox kept for inspection: %s\n", ctx->root);
	if (!ctx->passed && (!getenv("PUSHSEAL_KEEP") || strcmp(getenv("PUSHSEAL_KEEP"), "1")))
		print_message("sandbox removed (PUSHSEAL_KEEP=1 keeps a failing test's sandbox)\n");
	free(ctx);
	return 0;
}

void ps_skip_reason(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	print_message("skip reason: %s\n", buf);
}

void ps_run_body(void **state)
{
	ps_ctx *ctx = *state;
	const char *undeclared = getenv("PUSHSEAL_SKIP_REASON");
	const char *t = ps_transport();
	int ext = 0;
	/* the level is the spec's: each ID the test names must be a clause of
	 * docs/SPEC.md, and an ext one runs only where ps_ext_enabled opts in */
	for (const char *id = ctx->clause; *id; ) {
		size_t n = strcspn(id, " ");
		const char *level = ps_clause_level(id, n);
		if (!level)
			fail_msg("%.*s is not a clause of docs/SPEC.md: a test's name starts with its clause ID",
				(int)n, id);
		ext |= !strcmp(level, "ext");
		id += n + (id[n] == ' ');
	}
	if (undeclared && *undeclared)
		PS_SKIP("%s", undeclared);
	if (!strcmp(t, "ssh") && access("/usr/sbin/sshd", X_OK) != 0)
		PS_SKIP("transport ssh: sshd is not installed on this machine (/usr/sbin/sshd)");
	if (!strcmp(t, "http") && access("/usr/sbin/lighttpd", X_OK) != 0)
		PS_SKIP("transport http: lighttpd is not installed on this machine");
	if (ext && !ps_ext_enabled(ctx->clause))
		PS_SKIP("extended clause not opted into (--with FAMILY or ID; see --list-clauses)");
	ctx->body(ctx);
	ctx->passed = 1;
}

/* Does the ID or ID prefix token[0..n) cover one of the clause's IDs? */
static int token_covers(const char *token, size_t n, const char *clauses)
{
	while (*clauses) {
		size_t len = strcspn(clauses, " ");
		if (n > 0 && n <= len && !strncmp(clauses, token, n) &&
		    (n == len || clauses[n] == '-'))
			return 1;
		clauses += len + (clauses[len] == ' ');
	}
	return 0;
}

/* Is this test in the run?  PUSHSEAL_PASS ("base": every test but those
 * that need a network server; "net": only those that concern a server) and
 * PUSHSEAL_CLAUSES (IDs or ID prefixes, comma-separated) select; the kit's
 * runner sets them.  Unset, every test runs. */
static int selected(const ps_body *b)
{
	const char *pass = getenv("PUSHSEAL_PASS"), *sel = getenv("PUSHSEAL_CLAUSES");
	if (pass && !strcmp(pass, "base") && b->reach == PS_NET)
		return 0;
	if (pass && !strcmp(pass, "net") && b->reach == PS_LOCAL)
		return 0;
	if (!sel || !*sel)
		return 1;
	while (*sel) {
		size_t n = strcspn(sel, ",");
		if (token_covers(sel, n, b->clause))
			return 1;
		sel += n + (sel[n] == ',');
	}
	return 0;
}

int ps_run_group(const char *name, const struct CMUnitTest *tests, size_t n)
{
	struct CMUnitTest *picked = calloc(n ? n : 1, sizeof(*picked));
	size_t k = 0;
	int rc;
	if (!picked)
		return 1;
	for (size_t i = 0; i < n; i++) {
		const ps_body *b = tests[i].initial_state;
		if (getenv("PUSHSEAL_LIST_TESTS")) {
			static const char *const reach[] = { "local", "server", "net" };
			printf("%s\t%s\n", reach[b->reach], tests[i].name);
			continue;
		}
		if (selected(b))
			picked[k++] = tests[i];
	}
	rc = k ? _cmocka_run_group_tests(name, picked, k, NULL, NULL) : 0;
	free(picked);
	return rc;
}

const char *ps_fmt(ps_ctx *ctx, const char *fmt, ...)
{
	char *buf = ctx->ring[ctx->ring_next++ % 8];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(ctx->ring[0]), fmt, ap);
	va_end(ap);
	return buf;
}

const char *ps_path(ps_ctx *ctx, const char *rel)
{
	if (rel[0] == '/')
		return ps_fmt(ctx, "%s", rel);
	return ps_fmt(ctx, "%s/%s", ctx->root, rel);
}

const char *ps_keep(ps_ctx *ctx, const char *rel)
{
	char *buf = ctx->kept[ctx->kept_next++ % 16];
	snprintf(buf, sizeof(ctx->kept[0]), "%s", ps_path(ctx, rel));
	return buf;
}
