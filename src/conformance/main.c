/*
 * pushseal-conformance: run the clause suites against an implementation.
 *
 *   pushseal-conformance [--impl CMD] [--with FAMILIES] [--xfail FILE]
 *                        [--tap FILE] [--junit FILE] [--suites DIR] [--list]
 *
 * Without --impl the suites run in-process against the reference library.
 * Results are PASS, FAIL, XFAIL (listed in the expected-failure file and
 * still failing), XPASS (listed, but passed: the file is stale) and SKIP (an
 * extended clause the implementation did not opt into).  The run fails on
 * FAIL or XPASS.  Exit: 0 conformant, 1 not, 2 usage error.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef PUSHSEAL_SUITES_DIR
#define PUSHSEAL_SUITES_DIR ""
#endif
#ifndef PUSHSEAL_VERSION_TEXT
#define PUSHSEAL_VERSION_TEXT "0"
#endif
#define SUITE_LIMIT_S 600

enum status { PASS, FAIL, XFAIL, XPASS, SKIP };
static const char *const status_names[] = { "PASS", "FAIL", "XFAIL", "XPASS", "SKIP" };

typedef struct result {
	char *suite;
	char *name;     /* "<CLAUSE-ID> <sentence>" */
	char *detail;   /* failure text, or the xfail reason */
	enum status status;
} result;

typedef struct xfail {
	char *id;
	char *reason;
	int used;
} xfail;

static result *results;
static size_t nresults, capresults;
static xfail *xfails;
static size_t nxfails;

static void die_usage(const char *what, const char *arg)
{
	fprintf(stderr, "pushseal-conformance: %s%s%s\nTry 'pushseal-conformance --help'.\n",
		what, arg ? " " : "", arg ? arg : "");
	exit(2);
}

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q) {
		fputs("pushseal-conformance: out of memory\n", stderr);
		exit(1);
	}
	return q;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");
	if (!d) {
		fputs("pushseal-conformance: out of memory\n", stderr);
		exit(1);
	}
	return d;
}

/* ---- the expected-failure file ------------------------------------------------ */

static void read_xfail(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	if (!f) {
		fprintf(stderr, "pushseal-conformance: --xfail %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while (getline(&line, &cap, f) >= 0) {
		char *p = line, *id, *reason;
		line[strcspn(line, "\r\n")] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		id = p;
		p += strcspn(p, " \t");
		if (*p)
			*p++ = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		reason = p;
		if (!*reason) {
			fprintf(stderr, "pushseal-conformance: %s: entry %s has no reason; every expected failure must say why\n", path, id);
			exit(2);
		}
		xfails = xrealloc(xfails, (nxfails + 1) * sizeof(*xfails));
		xfails[nxfails].id = xstrdup(id);
		xfails[nxfails].reason = xstrdup(reason);
		xfails[nxfails].used = 0;
		nxfails++;
	}
	free(line);
	fclose(f);
}

/* The xfail entry covering a test name: its ID equals the name's first word. */
static xfail *xfail_for(const char *name)
{
	size_t n = strcspn(name, " ");
	for (size_t i = 0; i < nxfails; i++)
		if (strlen(xfails[i].id) == n && !strncmp(xfails[i].id, name, n))
			return &xfails[i];
	return NULL;
}

/* ---- running one suite --------------------------------------------------------- */

static void add_result(const char *suite, const char *name, enum status st, const char *detail)
{
	xfail *x = xfail_for(name);
	if (x) {
		x->used = 1;
		if (st == FAIL) {
			st = XFAIL;
			detail = x->reason;
		} else if (st == PASS) {
			st = XPASS;
			detail = "listed as an expected failure, but passed: remove it from the xfail file";
		}
	}
	if (nresults == capresults) {
		capresults = capresults ? capresults * 2 : 256;
		results = xrealloc(results, capresults * sizeof(*results));
	}
	results[nresults].suite = xstrdup(suite);
	results[nresults].name = xstrdup(name);
	results[nresults].detail = xstrdup(detail);
	results[nresults].status = st;
	nresults++;
}

/* Parse cmocka's standard output: "[ RUN      ] name", then detail lines,
 * then "[       OK ] name" / "[  FAILED  ] name" / "[  SKIPPED ] name". */
static void parse_output(const char *suite, char *out)
{
	char *current = NULL, detail[4096] = "", *save = NULL;
	for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "[ RUN      ] ", 13)) {
			current = line + 13;
			detail[0] = '\0';
		} else if (current && !strncmp(line, "[       OK ] ", 13)) {
			add_result(suite, line + 13, PASS, "");
			current = NULL;
		} else if (current && !strncmp(line, "[  FAILED  ] ", 13)) {
			add_result(suite, line + 13, FAIL, detail);
			current = NULL;
		} else if (current && !strncmp(line, "[  SKIPPED ] ", 13)) {
			add_result(suite, line + 13, SKIP, "extended clause not opted into");
			current = NULL;
		} else if (current) {
			size_t used = strlen(detail);
			if (used + strlen(line) + 2 < sizeof(detail))
				snprintf(detail + used, sizeof(detail) - used, "%s%s", used ? "\n" : "", line);
		}
	}
	if (current)
		add_result(suite, current, FAIL, detail[0] ? detail : "the suite died during this test");
}

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Start one suite with its output going to a temporary file. */
static pid_t start_suite(const char *dir, const char *name, int out_fd)
{
	char path[PATH_MAX];
	pid_t pid;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fflush(NULL);
	if ((pid = fork()) == 0) {
		dup2(out_fd, 1);
		dup2(out_fd, 2);
		setenv("CMOCKA_MESSAGE_OUTPUT", "STDOUT", 1);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static char *slurp(int fd)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	if (fstat(fd, &st) != 0)
		return xstrdup("");
	buf = xrealloc(NULL, (size_t)st.st_size + 1);
	lseek(fd, 0, SEEK_SET);
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	return buf;
}

/* Run every suite, `jobs` at a time, each bounded by SUITE_LIMIT_S; parse
 * the outputs in suite order so the report does not depend on timing. */
static int run_suites(const char *dir, char **names, size_t n, int jobs)
{
	pid_t *pids = xrealloc(NULL, n * sizeof(*pids));
	int *fds = xrealloc(NULL, n * sizeof(*fds));
	int *status = xrealloc(NULL, n * sizeof(*status));
	long long *deadline = xrealloc(NULL, n * sizeof(*deadline));
	size_t next = 0, running = 0, done = 0;
	const char *tmp = getenv("TMPDIR");

	for (size_t i = 0; i < n; i++) {
		char tpl[PATH_MAX];
		snprintf(tpl, sizeof(tpl), "%s/pushseal-conformance-XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if ((fds[i] = mkstemp(tpl)) < 0) {
			while (i > 0)
				close(fds[--i]);
			free(pids);
			free(fds);
			free(status);
			free(deadline);
			return -1;
		}
		unlink(tpl);
		pids[i] = 0;
		status[i] = 0;
	}
	while (done < n) {
		while (running < (size_t)jobs && next < n) {
			if ((pids[next] = start_suite(dir, names[next], fds[next])) < 0) {
				status[next] = 127 << 8; /* reported below as "could not be started" */
				pids[next] = -1;
				next++;
				done++;
				continue;
			}
			deadline[next] = mono_ms() + SUITE_LIMIT_S * 1000LL;
			next++;
			running++;
		}
		int st;
		pid_t pid = waitpid(-1, &st, WNOHANG);
		if (pid <= 0) {
			struct timespec ts = { 0, 20 * 1000000L };
			for (size_t i = 0; i < next; i++)
				if (pids[i] > 0 && mono_ms() > deadline[i])
					kill(pids[i], SIGKILL);
			nanosleep(&ts, NULL);
			continue;
		}
		for (size_t i = 0; i < next; i++)
			if (pids[i] == pid) {
				status[i] = st;
				pids[i] = -1;
				running--;
				done++;
			}
	}
	for (size_t i = 0; i < n; i++) {
		char *out = slurp(fds[i]);
		close(fds[i]);
		parse_output(names[i], out);
		free(out);
		if (WIFSIGNALED(status[i]))
			add_result(names[i], "SUITE crashed or timed out", FAIL, strsignal(WTERMSIG(status[i])));
		else if (WIFEXITED(status[i]) && WEXITSTATUS(status[i]) == 127)
			add_result(names[i], "SUITE could not be started", FAIL, names[i]);
	}
	free(pids);
	free(fds);
	free(status);
	free(deadline);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every executable test_* in dir, sorted. */
static char **list_suites(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	*n = 0;
	if (!d)
		return NULL;
	while ((e = readdir(d)) != NULL) {
		char path[PATH_MAX];
		struct stat st;
		if (strncmp(e->d_name, "test_", 5) != 0 || strchr(e->d_name, '.'))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || access(path, X_OK) != 0)
			continue;
		names = xrealloc(names, (*n + 1) * sizeof(*names));
		names[(*n)++] = xstrdup(e->d_name);
	}
	closedir(d);
	if (*n > 1)
		qsort(names, *n, sizeof(*names), cmp_str);
	return names;
}

/* The directory this program runs from, or -1 when it cannot be known. */
static int self_dir(char *dst, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", dst, size - 1);
	char *slash;
	if (n <= 0)
		return -1;
	dst[n] = '\0';
	if ((slash = strrchr(dst, '/')) == NULL)
		return -1;
	*slash = '\0';
	return 0;
}

/* Where the suites live: --suites, $PUSHSEAL_SUITES, beside the installed
 * binary (../libexec/pushseal/conformance), or the build tree. */
static const char *find_suites(const char *given)
{
	static char buf[PATH_MAX + 64];
	char self[PATH_MAX];
	const char *env = getenv("PUSHSEAL_SUITES");
	if (given)
		return given;
	if (env && *env)
		return env;
	if (self_dir(self, sizeof(self)) == 0) {
		snprintf(buf, sizeof(buf), "%s/../libexec/pushseal/conformance", self);
		if (access(buf, X_OK) == 0)
			return buf;
	}
	return PUSHSEAL_SUITES_DIR;
}

/* The reference `pushseal` beside this program, for the suites that drive
 * the reference CLI's extended options when no --impl is given. */
static void reference_cli(void)
{
	char self[PATH_MAX], cli[PATH_MAX + 16];
	if (getenv("PUSHSEAL_REFERENCE_CLI") || self_dir(self, sizeof(self)) != 0)
		return;
	snprintf(cli, sizeof(cli), "%s/pushseal", self);
	if (access(cli, X_OK) == 0)
		setenv("PUSHSEAL_REFERENCE_CLI", cli, 1);
}

/* ---- reports -------------------------------------------------------------------- */

static void xml_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\n': fputs("&#10;", f); break;
		default:
			if (c < 0x20 && c != '\t')
				fprintf(f, "&#%u;", 0x2400u + c); /* control pictures: always valid XML */
			else
				fputc(c, f);
		}
	}
}

static void write_junit(const char *path, const char *impl)
{
	FILE *f = fopen(path, "w");
	size_t i = 0;
	if (!f) {
		fprintf(stderr, "pushseal-conformance: --junit %s: %s\n", path, strerror(errno));
		exit(2);
	}
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"pushseal-conformance\">\n", f);
	while (i < nresults) {
		size_t j = i, fails = 0, skips = 0;
		while (j < nresults && !strcmp(results[j].suite, results[i].suite)) {
			fails += results[j].status == FAIL || results[j].status == XPASS;
			skips += results[j].status == SKIP || results[j].status == XFAIL;
			j++;
		}
		fputs("  <testsuite name=\"", f);
		xml_escaped(f, results[i].suite);
		fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\">\n", j - i, fails, skips);
		fputs("    <properties><property name=\"impl\" value=\"", f);
		xml_escaped(f, impl ? impl : "in-process reference");
		fputs("\"/></properties>\n", f);
		for (; i < j; i++) {
			const result *r = &results[i];
			fputs("    <testcase classname=\"", f);
			xml_escaped(f, r->suite);
			fputs("\" name=\"", f);
			xml_escaped(f, r->name);
			fputs("\"", f);
			if (r->status == PASS) {
				fputs("/>\n", f);
				continue;
			}
			fputs(">\n      ", f);
			if (r->status == FAIL || r->status == XPASS) {
				fputs(r->status == FAIL ? "<failure message=\"FAIL\">" : "<failure message=\"XPASS\">", f);
				xml_escaped(f, r->detail);
				fputs("</failure>\n", f);
			} else {
				fputs(r->status == XFAIL ? "<skipped message=\"XFAIL: " : "<skipped message=\"SKIP: ", f);
				xml_escaped(f, r->detail);
				fputs("\"/>\n", f);
			}
			fputs("    </testcase>\n", f);
		}
		fputs("  </testsuite>\n", f);
	}
	fputs("</testsuites>\n", f);
	fclose(f);
}

static void tap_comment(FILE *f, const char *text)
{
	fputs("  # ", f);
	for (; *text; text++) {
		fputc(*text, f);
		if (*text == '\n')
			fputs("  # ", f);
	}
	fputc('\n', f);
}

static void write_tap(const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "pushseal-conformance: --tap %s: %s\n", path, strerror(errno));
		exit(2);
	}
	fprintf(f, "TAP version 13\n1..%zu\n", nresults);
	for (size_t i = 0; i < nresults; i++) {
		const result *r = &results[i];
		char name[1024];
		/* a '#' in a name would start a directive */
		snprintf(name, sizeof(name), "%s", r->name);
		for (char *p = name; *p; p++)
			if (*p == '#')
				*p = '_';
		switch (r->status) {
		case PASS: fprintf(f, "ok %zu - %s\n", i + 1, name); break;
		case SKIP: fprintf(f, "ok %zu - %s # SKIP %s\n", i + 1, name, r->detail); break;
		case XFAIL: fprintf(f, "not ok %zu - %s # TODO expected failure: %s\n", i + 1, name, r->detail); break;
		case FAIL:
			fprintf(f, "not ok %zu - %s\n", i + 1, name);
			tap_comment(f, r->detail);
			break;
		case XPASS: fprintf(f, "not ok %zu - %s\n  # XPASS: %s\n", i + 1, name, r->detail); break;
		}
	}
	fclose(f);
}

/* The family of a clause ID: all but its last "-N" part ("P-PULL-6" -> "P-PULL"). */
static void family_of(char *dst, size_t n, const char *name)
{
	size_t len = strcspn(name, " ");
	const char *dash;
	snprintf(dst, n, "%.*s", (int)len, name);
	dash = strrchr(dst, '-');
	if (dash && dash != dst && strspn(dash + 1, "0123456789") == strlen(dash + 1) && dash[1])
		dst[dash - dst] = '\0';
}

static void summary(const char *impl, const char *with, size_t counts[5])
{
	char fams[64][32];
	size_t nfams = 0;
	printf("pushseal-conformance %s: %s; extended: %s\n", PUSHSEAL_VERSION_TEXT,
		impl ? impl : "the in-process reference", impl ? (with ? with : "none") : "all");
	for (size_t i = 0; i < nresults; i++) {
		char fam[32];
		size_t k;
		family_of(fam, sizeof(fam), results[i].name);
		for (k = 0; k < nfams && strcmp(fams[k], fam) != 0; k++)
			;
		if (k == nfams && nfams < 64)
			snprintf(fams[nfams++], sizeof(fams[0]), "%s", fam);
	}
	for (size_t k = 0; k < nfams; k++) {
		size_t c[5] = { 0 };
		char ids[64][32];
		size_t nids = 0;
		for (size_t i = 0; i < nresults; i++) {
			char fam[32], id[32];
			family_of(fam, sizeof(fam), results[i].name);
			if (strcmp(fam, fams[k]) != 0)
				continue;
			c[results[i].status]++;
			snprintf(id, sizeof(id), "%.*s", (int)strcspn(results[i].name, " "), results[i].name);
			size_t m;
			for (m = 0; m < nids && strcmp(ids[m], id) != 0; m++)
				;
			if (m == nids && nids < 64)
				snprintf(ids[nids++], sizeof(ids[0]), "%s", id);
		}
		printf("  %-12s %3zu clauses %4zu tests  %s", fams[k], nids, c[0] + c[1] + c[2] + c[3] + c[4],
			c[FAIL] || c[XPASS] ? "NOT OK" : "ok");
		for (int s = 0; s < 5; s++)
			if (c[s] && s != PASS)
				printf("  %s %zu", status_names[s], c[s]);
		putchar('\n');
	}
	for (size_t i = 0; i < nresults; i++) {
		const result *r = &results[i];
		counts[r->status]++;
		if (r->status == FAIL || r->status == XPASS || r->status == XFAIL) {
			printf("%-5s %s  [%s]\n", status_names[r->status], r->name, r->suite);
			if (r->status != XFAIL && r->detail[0]) {
				char first[300];
				snprintf(first, sizeof(first), "%.*s", (int)strcspn(r->detail, "\n"), r->detail);
				printf("      %s\n", first);
			}
		}
	}
	for (size_t i = 0; i < nxfails; i++)
		if (!xfails[i].used)
			printf("note: xfail entry %s matches no test\n", xfails[i].id);
}

static const char help[] =
	"usage: pushseal-conformance [--impl CMD] [--with FAMILIES] [--xfail FILE]\n"
	"                            [--tap FILE] [--junit FILE] [--suites DIR] [--only SUITE]\n"
	"                            [-j N] [--list]\n"
	"\n"
	"Run the push-seal clause suites (docs/SPEC.md) against an implementation.\n"
	"\n"
	"  --impl CMD       a command line speaking protocol v1 (docs/PROTOCOL.md);\n"
	"                   default: the in-process reference library\n"
	"  --with LIST      opt into extended clauses: 'all', or a comma-separated list\n"
	"                   of families (classes, ignored, lock, in-progress,\n"
	"                   local-upstream, owner, paths, cli, reports, divergence, redact),\n"
	"                   clause IDs or ID prefixes; core clauses always run\n"
	"  --xfail FILE     expected failures: '<CLAUSE-ID> <reason>' per line\n"
	"  --tap FILE       write TAP version 13\n"
	"  --junit FILE     write JUnit XML\n"
	"  --suites DIR     where the test_* suite programs are\n"
	"  -j, --jobs N     run N suites at once (default 2)\n"
	"  --only SUITE     run one suite (see --list), e.g. test_pull\n"
	"  --list           list the suites and exit\n"
	"\n"
	"exit status: 0 conformant (no FAIL, no XPASS), 1 not, 2 usage error.\n";

int main(int argc, char **argv)
{
	const char *impl = NULL, *with = NULL, *tap = NULL, *junit = NULL, *suites_dir = NULL;
	const char *jobs_text = NULL, *only = NULL;
	int list_only = 0, jobs = 2;
	size_t nsuites, counts[5] = { 0 };
	char **suites;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **slot = NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(help, stdout);
			return 0;
		}
		if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("pushseal-conformance %s (protocol v1)\n", PUSHSEAL_VERSION_TEXT);
			return 0;
		}
		if (!strcmp(a, "--list")) {
			list_only = 1;
			continue;
		}
		if (!strcmp(a, "--impl")) slot = &impl;
		else if (!strcmp(a, "--with")) slot = &with;
		else if (!strcmp(a, "--tap")) slot = &tap;
		else if (!strcmp(a, "--junit")) slot = &junit;
		else if (!strcmp(a, "--suites")) slot = &suites_dir;
		else if (!strcmp(a, "-j") || !strcmp(a, "--jobs")) slot = &jobs_text;
		else if (!strcmp(a, "--only")) slot = &only;
		else if (!strcmp(a, "--xfail")) {
			if (i + 1 >= argc)
				die_usage("option needs a value:", a);
			read_xfail(argv[++i]);
			continue;
		} else
			die_usage("unknown argument", a);
		if (i + 1 >= argc || !argv[i + 1][0])
			die_usage("option needs a value:", a);
		*slot = argv[++i];
	}
	if (jobs_text) {
		char *end = NULL;
		long j = strtol(jobs_text, &end, 10);
		if (*end || j < 1 || j > 64)
			die_usage("--jobs takes a number from 1 to 64, not", jobs_text);
		jobs = (int)j;
	}
	suites_dir = find_suites(suites_dir);
	suites = list_suites(suites_dir, &nsuites);
	if (!suites || nsuites == 0) {
		fprintf(stderr, "pushseal-conformance: no test_* suites in '%s' (use --suites DIR)\n", suites_dir);
		return 2;
	}
	if (only) {
		size_t kept = 0;
		for (size_t i = 0; i < nsuites; i++) {
			if (!strcmp(suites[i], only))
				suites[kept++] = suites[i];
			else
				free(suites[i]);
		}
		nsuites = kept;
		if (!nsuites)
			die_usage("no such suite:", only);
	}
	if (list_only) {
		for (size_t i = 0; i < nsuites; i++)
			printf("%s/%s\n", suites_dir, suites[i]);
		return 0;
	}
	if (impl)
		setenv("PUSHSEAL_IMPL", impl, 1);
	else
		unsetenv("PUSHSEAL_IMPL");
	if (with)
		setenv("PUSHSEAL_EXT", with, 1);
	else
		unsetenv("PUSHSEAL_EXT");
	reference_cli();
	{
		int ran = run_suites(suites_dir, suites, nsuites, jobs);
		int saved = errno;
		for (size_t i = 0; i < nsuites; i++)
			free(suites[i]);
		free(suites);
		if (ran < 0) {
			fprintf(stderr, "pushseal-conformance: cannot run the suites: %s\n", strerror(saved));
			return 1;
		}
	}
	summary(impl, with, counts);
	if (tap)
		write_tap(tap);
	if (junit)
		write_junit(junit, impl);
	printf("conformance: %zu passed, %zu failed, %zu skipped\n", counts[PASS] + counts[XFAIL],
		counts[FAIL] + counts[XPASS], counts[SKIP]);
	return counts[FAIL] || counts[XPASS] ? 1 : 0;
}
