/*
 * pushseal-conformance: run the clause suites against an implementation.
 *
 *   pushseal-conformance [--impl CMD] [--transports LIST] [--with FAMILIES]
 *                        [--clause IDS] [--xfail FILE] [--keep] [--tap FILE]
 *                        [--junit FILE] [--suites DIR] [--list] [--list-clauses]
 *
 * Without --impl the suites run in-process against the reference library.
 * Each suite runs in passes: a base pass over the first declared local
 * transport (every clause but those that need a network server), then one
 * pass per network transport (git, http, ssh) with only the clauses that
 * concern a server; a pass over an undeclared transport reports its clauses
 * as skipped, saying so.  Results are PASS, FAIL, XFAIL (listed in the
 * expected-failure file and still failing), XPASS (listed, but passed: the
 * file is stale) and SKIP (with its reason).  The run fails on FAIL or
 * XPASS.  Exit: 0 conformant, 1 not, 2 usage error.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
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
/* The protocol version this kit checks (docs/PROTOCOL.md, "Versions"). */
#define PROTOCOL_VERSION "1"

#include "families.h"

/* docs/SPEC.md's clauses, generated at build time (clause-table.awk). */
static const struct clause_row {
	const char *id, *level, *sentence;
} clause_rows[] = {
#include "clauses.inc"
};
#define NCLAUSES (sizeof(clause_rows) / sizeof(clause_rows[0]))

static const struct clause_row *clause_row_of(const char *name)
{
	size_t n = strcspn(name, " ");
	for (size_t i = 0; i < NCLAUSES; i++)
		if (strlen(clause_rows[i].id) == n && !strncmp(clause_rows[i].id, name, n))
			return &clause_rows[i];
	return NULL;
}

/* The transports an implementation may declare, and the network ones. */
static const char *const all_transports[] = { "path", "file", "git", "http", "ssh" };
static const char *const net_transports[] = { "git", "http", "ssh" };
static int declared[5];
static const char *transports_text = "path,file,git,http";

enum status { PASS, FAIL, XFAIL, XPASS, SKIP };
static const char *const status_names[] = { "PASS", "FAIL", "XFAIL", "XPASS", "SKIP" };

typedef struct result {
	char *suite;
	char *name;     /* "<CLAUSE-ID> <sentence>" */
	char *transport; /* "" in the base pass, else the network transport */
	char *detail;   /* failure text, the skip reason, or the xfail reason */
	char *transcript; /* the protocol calls of a failing test */
	char *sandbox;  /* a kept sandbox, or "" */
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

/* The xfail entry covering a test: its ID equals the name's first word
 * ("P-PUSH-5": over every transport), or that word and the transport
 * ("P-PUSH-5@git": over git:// only). */
static xfail *xfail_for(const char *name, const char *transport)
{
	size_t n = strcspn(name, " ");
	for (size_t i = 0; i < nxfails; i++) {
		const char *id = xfails[i].id, *at = strchr(id, '@');
		size_t idn = at ? (size_t)(at - id) : strlen(id);
		if (idn != n || strncmp(id, name, n) != 0)
			continue;
		if (at && strcmp(at + 1, *transport ? transport : "path") != 0)
			continue;
		return &xfails[i];
	}
	return NULL;
}

/* ---- running one suite --------------------------------------------------------- */

static void add_result(const char *suite, const char *transport, const char *name, enum status st,
	const char *detail, const char *transcript, const char *sandbox)
{
	if (nresults == capresults) {
		capresults = capresults ? capresults * 2 : 256;
		results = xrealloc(results, capresults * sizeof(*results));
	}
	results[nresults].suite = xstrdup(suite);
	results[nresults].name = xstrdup(name);
	results[nresults].transport = xstrdup(transport);
	results[nresults].detail = xstrdup(detail);
	results[nresults].transcript = xstrdup(transcript);
	results[nresults].sandbox = xstrdup(sandbox);
	results[nresults].status = st;
	nresults++;
}

static void append_line(char *buf, size_t cap, const char *line)
{
	size_t used = strlen(buf);
	if (used + strlen(line) + 2 < cap)
		snprintf(buf + used, cap - used, "%s%s", used ? "\n" : "", line);
}

/* Parse cmocka's standard output: "[ RUN      ] name", then detail lines,
 * then "[       OK ] name" / "[  FAILED  ] name" / "[  SKIPPED ] name" /
 * "[  ERROR   ] name" (setup or teardown failed).  Detail lines are the
 * failed assertion, "skip reason: ...", "transcript: ..." with "  | "
 * lines, and "sandbox kept for inspection: PATH".  Returns the number of
 * failing tests it found. */
static size_t parse_output(const char *suite, const char *transport, char *out)
{
	char *current = NULL, detail[4096] = "", calls[8192] = "", reason[600] = "", sandbox[1100] = "";
	char *save = NULL;
	size_t failed = 0;
	for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "[ RUN      ] ", 13)) {
			if (current) { /* a RUN without its end: the test never finished */
				add_result(suite, transport, current, FAIL, detail[0] ? detail : "the test never finished",
					calls, sandbox);
				failed++;
			}
			current = line + 13;
			detail[0] = calls[0] = reason[0] = sandbox[0] = '\0';
		} else if (current && !strncmp(line, "[       OK ] ", 13)) {
			add_result(suite, transport, line + 13, PASS, "", "", "");
			current = NULL;
		} else if (current && !strncmp(line, "[  ERROR   ] --- ", 17)) {
			/* cmocka's "where": "[  ERROR   ] --- [   LINE   ] --- file:N: error: Failure!" */
			const char *where = strstr(line, "[   LINE   ] --- ");
			char at[600];
			if (where)
				snprintf(at, sizeof(at), "at %s", where + 17);
			else /* an assertion's text, e.g. "0 != 0x1" */
				snprintf(at, sizeof(at), "%s", line + 17);
			append_line(detail, sizeof(detail), at);
		} else if (current && !strncmp(line, "[   LINE   ] --- ", 17)) {
			char at[600];
			snprintf(at, sizeof(at), "at %s", line + 17);
			append_line(detail, sizeof(detail), at);
		} else if (current && (!strncmp(line, "[  FAILED  ] ", 13) || !strncmp(line, "[  ERROR   ] ", 13))) {
			if (line[3] == 'E')
				append_line(detail, sizeof(detail), "(the test's setup or teardown failed)");
			add_result(suite, transport, line + 13, FAIL, detail[0] ? detail : "failed without a message",
				calls, sandbox);
			failed++;
			current = NULL;
		} else if (current && !strncmp(line, "[  SKIPPED ] ", 13)) {
			add_result(suite, transport, line + 13, SKIP, reason[0] ? reason : "skipped by the suite (no reason given)",
				"", "");
			current = NULL;
		} else if (current && !strncmp(line, "skip reason: ", 13)) {
			snprintf(reason, sizeof(reason), "%s", line + 13);
		} else if (current && !strncmp(line, "sandbox kept for inspection: ", 29)) {
			snprintf(sandbox, sizeof(sandbox), "%s", line + 29);
		} else if (current && (!strncmp(line, "  | ", 4) || !strncmp(line, "transcript: ", 12))) {
			if (line[0] == ' ')
				append_line(calls, sizeof(calls), line);
		} else if (current) {
			append_line(detail, sizeof(detail), line);
		}
	}
	if (current) {
		add_result(suite, transport, current, FAIL, detail[0] ? detail : "the suite died during this test",
			calls, sandbox);
		failed++;
	}
	return failed;
}

/* Expected failures are per clause: when any test of a listed clause fails
 * (over the transport the entry names, or any), its failing tests are
 * XFAIL; when every test of it passed, the clause is XPASS (the entry is
 * stale), reported on its first test. */
static void apply_xfails(void)
{
	for (size_t k = 0; k < nxfails; k++) {
		size_t failed = 0, first_pass = nresults;
		for (size_t i = 0; i < nresults; i++) {
			if (xfail_for(results[i].name, results[i].transport) != &xfails[k])
				continue;
			xfails[k].used = 1;
			if (results[i].status == FAIL)
				failed++;
			else if (results[i].status == PASS && first_pass == nresults)
				first_pass = i;
		}
		for (size_t i = 0; i < nresults; i++) {
			if (xfail_for(results[i].name, results[i].transport) != &xfails[k])
				continue;
			if (failed && results[i].status == FAIL) {
				results[i].status = XFAIL;
				free(results[i].detail);
				results[i].detail = xstrdup(xfails[k].reason);
			} else if (!failed && i == first_pass) {
				results[i].status = XPASS;
				free(results[i].detail);
				results[i].detail = xstrdup("listed as an expected failure, but every test of it passed: "
					"remove it from the xfail file");
			}
		}
	}
}

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One run of a suite program: the base pass or a network transport's. */
typedef struct job {
	const char *suite;
	const char *transport;   /* the transport of the pass */
	int net;                 /* 0: base pass; 1: a network transport's pass */
	const char *skip_reason; /* set: every test of the pass is skipped, so */
} job;

/* Start one suite with its output going to a temporary file. */
static pid_t start_suite(const char *dir, const job *jb, int out_fd)
{
	char path[PATH_MAX + 320];
	pid_t pid;
	snprintf(path, sizeof(path), "%s/%s", dir, jb->suite);
	pid_t kit = getpid();
	fflush(NULL);
	if ((pid = fork()) == 0) {
		/* a suite never outlives the kit (its watchdog then cleans up) */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != kit)
			_exit(127);
		dup2(out_fd, 1);
		dup2(out_fd, 2);
		setenv("CMOCKA_MESSAGE_OUTPUT", "STDOUT", 1);
		setenv("PUSHSEAL_TRANSPORT", jb->transport, 1);
		setenv("PUSHSEAL_PASS", jb->net ? "net" : "base", 1);
		if (jb->skip_reason)
			setenv("PUSHSEAL_SKIP_REASON", jb->skip_reason, 1);
		else
			unsetenv("PUSHSEAL_SKIP_REASON");
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
static int run_suites(const char *dir, const job *names, size_t n, int jobs)
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
			if ((pids[next] = start_suite(dir, &names[next], fds[next])) < 0) {
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
		char *out = slurp(fds[i]), tail[1200];
		const char *t = names[i].net ? names[i].transport : "";
		size_t len = strlen(out), failed;
		/* the last lines, for a suite that ends badly without a failing test */
		snprintf(tail, sizeof(tail), "%s", len > 1000 ? out + len - 1000 : out);
		close(fds[i]);
		failed = parse_output(names[i].suite, t, out);
		free(out);
		if (WIFSIGNALED(status[i]))
			add_result(names[i].suite, t, "SUITE crashed or timed out", FAIL, strsignal(WTERMSIG(status[i])), "", "");
		else if (WIFEXITED(status[i]) && WEXITSTATUS(status[i]) == 127)
			add_result(names[i].suite, t, "SUITE could not be started", FAIL, names[i].suite, "", "");
		else if (WIFEXITED(status[i]) && WEXITSTATUS(status[i]) != 0 && failed == 0)
			add_result(names[i].suite, t, "SUITE exited non-zero without a failing test", FAIL, tail, "", "");
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
		char path[PATH_MAX + 320];
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

/* A result's name as shown: "P-PUSH-5 [git] sentence" in a network pass. */
static const char *shown_name(const result *r, char *buf, size_t n)
{
	size_t id = strcspn(r->name, " ");
	if (!r->transport[0])
		return r->name;
	snprintf(buf, n, "%.*s [%s]%s", (int)id, r->name, r->transport, r->name + id);
	return buf;
}

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
			char shown[1200];
			fputs("\" name=\"", f);
			xml_escaped(f, shown_name(r, shown, sizeof(shown)));
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
		char name[1300], shown[1200];
		/* a '#' in a name would start a directive */
		snprintf(name, sizeof(name), "%s", shown_name(r, shown, sizeof(shown)));
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

/* Quote one argument for sh, for the re-run line. */
static void put_quoted(const char *a)
{
	if (a[strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-,=:@")] == '\0' && *a) {
		fputs(a, stdout);
		return;
	}
	putchar('\'');
	for (; *a; a++) {
		if (*a == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*a);
	}
	putchar('\'');
}

/* Print up to max lines of text, each indented by `indent`. */
static void put_lines(const char *text, const char *first_prefix, const char *indent, int max)
{
	int k = 0;
	while (*text && k < max) {
		size_t n = strcspn(text, "\n");
		printf("%s%.*s\n", k ? indent : first_prefix, (int)(n > 400 ? 400 : n), text);
		text += n + (text[n] == '\n');
		k++;
	}
	if (*text)
		printf("%s...\n", indent);
}

static void summary(const char *impl, const char *with, const char *self, size_t counts[5])
{
	char fams[64][32];
	size_t nfams = 0;
	printf("pushseal-conformance %s, checking protocol v%s: %s; transports: %s; extended: %s\n",
		PUSHSEAL_VERSION_TEXT, PROTOCOL_VERSION, impl ? impl : "the in-process reference", transports_text,
		impl ? (with ? with : "none") : "all");
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
		for (int st = 0; st < 5; st++)
			if (c[st] && st != PASS)
				printf("  %s %zu", status_names[st], c[st]);
		putchar('\n');
	}
	/* why clauses were skipped, once per reason */
	{
		const char *seen[32];
		size_t nseen = 0;
		for (size_t i = 0; i < nresults; i++) {
			size_t m, n = 0;
			if (results[i].status != SKIP)
				continue;
			for (m = 0; m < nseen && strcmp(seen[m], results[i].detail) != 0; m++)
				;
			if (m < nseen || nseen == 32)
				continue;
			seen[nseen++] = results[i].detail;
			for (size_t j = i; j < nresults; j++)
				n += results[j].status == SKIP && !strcmp(results[j].detail, results[i].detail);
			printf("  skipped %3zu: %s\n", n, results[i].detail);
		}
	}
	for (size_t i = 0; i < nresults; i++) {
		const result *r = &results[i];
		char shown[1200];
		counts[r->status]++;
		if (r->status != FAIL && r->status != XPASS && r->status != XFAIL)
			continue;
		printf("%-5s %s  [%s]\n", status_names[r->status], shown_name(r, shown, sizeof(shown)), r->suite);
		if (r->status == XFAIL) {
			printf("      expected: %s\n", r->detail);
			continue;
		}
		const struct clause_row *row = clause_row_of(r->name);
		if (row)
			printf("      clause:   %s (%s) %s\n", row->id, row->level, row->sentence);
		if (r->detail[0])
			put_lines(r->detail, "      failed:   ", "                ", 12);
		if (r->transcript[0]) {
			printf("      calls:\n");
			put_lines(r->transcript, "      ", "      ", 16);
		}
		if (r->sandbox[0])
			printf("      sandbox:  %s\n", r->sandbox);
		if (r->status == FAIL && row) {
			printf("      re-run:   ");
			put_quoted(self);
			if (impl) {
				fputs(" --impl ", stdout);
				put_quoted(impl);
			}
			printf(" --transports %s --clause %s", r->transport[0] ? r->transport : transports_text, row->id);
			if (with) {
				fputs(" --with ", stdout);
				put_quoted(with);
			}
			fputs(" --keep\n", stdout);
		}
	}
	for (size_t i = 0; i < nxfails; i++)
		if (!xfails[i].used)
			printf("note: xfail entry %s matches no test\n", xfails[i].id);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	remove(path);
	return 0;
}

/* Sandboxes: an expected failure never keeps one; --keep lists the rest. */
static void settle_sandboxes(int keep)
{
	for (size_t i = 0; i < nresults; i++) {
		result *r = &results[i];
		if (!r->sandbox[0] || !strstr(r->sandbox, "/pushseal-test-"))
			continue;
		if (r->status == XFAIL || !keep) {
			nftw(r->sandbox, rm_entry, 32, FTW_DEPTH | FTW_PHYS);
			r->sandbox[0] = '\0';
		}
	}
}

/* --list-clauses: ID, level, family and sentence, tab-separated. */
static void list_clauses(void)
{
	for (size_t i = 0; i < NCLAUSES; i++) {
		char fam[32], ext[64] = "";
		family_of(fam, sizeof(fam), clause_rows[i].id);
		for (size_t f = 0; f < PS_NFAMILIES; f++) {
			const char *p = ps_families[f].prefixes;
			while (*p) {
				size_t len = strcspn(p, " ");
				if (!strncmp(clause_rows[i].id, p, len) &&
				    (clause_rows[i].id[len] == '\0' || clause_rows[i].id[len] == '-'))
					snprintf(ext, sizeof(ext), " (--with %s)", ps_families[f].name);
				p += len + (p[len] == ' ');
			}
		}
		printf("%s\t%s\t%s%s\t%s%s\n", clause_rows[i].id, clause_rows[i].level, fam,
			!strcmp(clause_rows[i].level, "ext") ? ext : "", clause_rows[i].sentence,
			ps_reference_only(clause_rows[i].id) ? "\treference-only" : "");
	}
}

/* Parse --transports: a comma-separated subset of path,file,git,http,ssh. */
static void parse_transports(const char *list)
{
	const char *p = list;
	memset(declared, 0, sizeof(declared));
	while (*p) {
		size_t n = strcspn(p, ","), t;
		for (t = 0; t < 5; t++)
			if (strlen(all_transports[t]) == n && !strncmp(all_transports[t], p, n))
				break;
		if (t == 5)
			die_usage("--transports takes a list of path, file, git, http, ssh, not", list);
		declared[t] = 1;
		p += n + (p[n] == ',');
	}
	if (!(declared[0] | declared[1] | declared[2] | declared[3] | declared[4]))
		die_usage("--transports needs at least one transport:", list);
	transports_text = list;
}

static const char help[] =
	"usage: pushseal-conformance [--impl CMD] [--transports LIST] [--with FAMILIES]\n"
	"                            [--clause IDS] [--xfail FILE] [--keep] [--tap FILE]\n"
	"                            [--junit FILE] [--suites DIR] [--only SUITE] [-j N]\n"
	"                            [--list] [--list-clauses]\n"
	"\n"
	"Run the push-seal clause suites (docs/SPEC.md) against an implementation of\n"
	"protocol v" PROTOCOL_VERSION " (docs/PROTOCOL.md).\n"
	"\n"
	"  --impl CMD         a command line speaking protocol v" PROTOCOL_VERSION ";\n"
	"                     default: the in-process reference library\n"
	"  --transports LIST  the URL schemes the implementation speaks, from\n"
	"                     path,file,git,http,ssh (default path,file,git,http).\n"
	"                     Most clauses run once, over a local path (file:// when\n"
	"                     path is not declared).  Every clause that concerns a\n"
	"                     server (a refusing hook, a locked ref, a hanging server,\n"
	"                     an unreachable one, a competing push) runs again over\n"
	"                     each declared network transport, against servers the\n"
	"                     kit starts on 127.0.0.1: git daemon (git://), git\n"
	"                     http-backend behind lighttpd (http://, anonymous push),\n"
	"                     sshd (ssh://, where installed).  A clause over an\n"
	"                     undeclared transport is skipped, and says so.\n"
	"  --with LIST        opt into extended clauses: a comma-separated list of\n"
	"                     'all' (every one that applies to a protocol v1 command),\n"
	"                     'reference' (the reference's own: they need its\n"
	"                     in-process API, credential variables or test hooks),\n"
	"                     families (classes, ignored, lock, in-progress,\n"
	"                     local-upstream, owner, paths, cli, reports, divergence,\n"
	"                     crash, children, redact, race, prune, fetch-all, transport,\n"
	"                     hostile, shard), clause IDs or ID prefixes; core clauses\n"
	"                     always run\n"
	"  --clause IDS       run only these clauses: comma-separated IDs or ID\n"
	"                     prefixes (P-PUSH-5, F-HOOK); selecting an extended\n"
	"                     clause opts into it\n"
	"  --xfail FILE       expected failures: '<CLAUSE-ID>[@TRANSPORT] <reason>' per line\n"
	"  --keep             keep the sandbox of every failing clause and print its path\n"
	"                     (also PUSHSEAL_KEEP=1); by default the kit keeps nothing\n"
	"  --tap FILE         write TAP version 13\n"
	"  --junit FILE       write JUnit XML\n"
	"  --suites DIR       where the test_* suite programs are\n"
	"  -j, --jobs N       run N suite programs at once (default 2)\n"
	"  --only SUITE       run one suite (see --list), e.g. test_pull\n"
	"  --list             list the suites and exit\n"
	"  --list-clauses     list the clauses: ID, level, family, sentence (tab-separated),\n"
	"                     and 'reference-only' in a fifth column for the reference's own\n"
	"\n"
	"For each failing clause the summary shows its sentence, the failed assertion,\n"
	"the protocol calls made (command, exit code, stdout, first stderr lines) and\n"
	"the command that re-runs only that clause and keeps its sandbox.\n"
	"\n"
	"exit status: 0 conformant (no FAIL, no XPASS), 1 not, 2 usage error.\n";

/* Append the clause tokens to PUSHSEAL_EXT: selecting an ext clause opts in. */
static void opt_into(const char *with, const char *clauses)
{
	static char buf[4096];
	if (!clauses) {
		if (with)
			setenv("PUSHSEAL_EXT", with, 1);
		else
			unsetenv("PUSHSEAL_EXT");
		return;
	}
	snprintf(buf, sizeof(buf), "%s%s%s", with ? with : "", with ? "," : "", clauses);
	setenv("PUSHSEAL_EXT", buf, 1);
}

int main(int argc, char **argv)
{
	const char *impl = NULL, *with = NULL, *tap = NULL, *junit = NULL, *suites_dir = NULL;
	const char *jobs_text = NULL, *only = NULL, *transports = NULL, *clauses = NULL;
	int list_only = 0, jobs = 2, keep = 0;
	size_t nsuites, counts[5] = { 0 };
	char **suites;
	char self[PATH_MAX + 32];

	{
		const char *k = getenv("PUSHSEAL_KEEP");
		keep = k && *k && strcmp(k, "0") != 0;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **slot = NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(help, stdout);
			return 0;
		}
		if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("pushseal-conformance %s (protocol v%s)\n", PUSHSEAL_VERSION_TEXT, PROTOCOL_VERSION);
			return 0;
		}
		if (!strcmp(a, "--list")) {
			list_only = 1;
			continue;
		}
		if (!strcmp(a, "--list-clauses")) {
			list_clauses();
			return 0;
		}
		if (!strcmp(a, "--keep")) {
			keep = 1;
			continue;
		}
		if (!strcmp(a, "--impl")) slot = &impl;
		else if (!strcmp(a, "--with")) slot = &with;
		else if (!strcmp(a, "--tap")) slot = &tap;
		else if (!strcmp(a, "--junit")) slot = &junit;
		else if (!strcmp(a, "--suites")) slot = &suites_dir;
		else if (!strcmp(a, "-j") || !strcmp(a, "--jobs")) slot = &jobs_text;
		else if (!strcmp(a, "--only")) slot = &only;
		else if (!strcmp(a, "--transports")) slot = &transports;
		else if (!strcmp(a, "--clause")) slot = &clauses;
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
	parse_transports(transports ? transports : transports_text);
	if (clauses) {
		/* every token must name a clause or a prefix of one */
		const char *p = clauses;
		while (*p) {
			size_t n = strcspn(p, ","), i;
			for (i = 0; i < NCLAUSES; i++)
				if (n && !strncmp(clause_rows[i].id, p, n) &&
				    (clause_rows[i].id[n] == '\0' || clause_rows[i].id[n] == '-'))
					break;
			if (i == NCLAUSES)
				die_usage("--clause: no clause of docs/SPEC.md is or starts with", p);
			p += n + (p[n] == ',');
		}
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
	opt_into(with, clauses);
	if (clauses)
		setenv("PUSHSEAL_CLAUSES", clauses, 1);
	else
		unsetenv("PUSHSEAL_CLAUSES");
	if (keep) {
		unsetenv("PUSHSEAL_KEEP_NONE");
		setenv("PUSHSEAL_KEEP", "1", 1);
	} else {
		setenv("PUSHSEAL_KEEP_NONE", "1", 1);
	}
	unsetenv("PUSHSEAL_LIST_TESTS");
	reference_cli();
	{
		char dir[PATH_MAX];
		if (self_dir(dir, sizeof(dir)) == 0)
			snprintf(self, sizeof(self), "%s/pushseal-conformance", dir);
		else
			snprintf(self, sizeof(self), "pushseal-conformance");
	}
	{
		/* the jobs: every suite's base pass, then its network passes */
		static char reasons[3][300];
		job *jl = xrealloc(NULL, nsuites * 4 * sizeof(*jl));
		size_t nj = 0;
		const char *base = NULL;
		for (int t = 0; t < 5 && !base; t++)
			if (declared[t])
				base = all_transports[t];
		for (size_t i = 0; i < nsuites; i++)
			jl[nj++] = (job){ suites[i], base, 0, NULL };
		for (int t = 0; t < 3; t++) {
			int on = declared[2 + t];
			snprintf(reasons[t], sizeof(reasons[t]), "transport %s not declared (--transports %s)",
				net_transports[t], transports_text);
			for (size_t i = 0; i < nsuites; i++)
				jl[nj++] = (job){ suites[i], net_transports[t], 1, on ? NULL : reasons[t] };
		}
		int ran = run_suites(suites_dir, jl, nj, jobs);
		int saved = errno;
		free(jl);
		if (ran < 0) {
			fprintf(stderr, "pushseal-conformance: cannot run the suites: %s\n", strerror(saved));
			return 1;
		}
	}
	apply_xfails();
	settle_sandboxes(keep);
	summary(impl, with, self, counts);
	if (tap)
		write_tap(tap);
	if (junit)
		write_junit(junit, impl);
	printf("conformance: %zu passed, %zu failed, %zu skipped\n", counts[PASS] + counts[XFAIL],
		counts[FAIL] + counts[XPASS], counts[SKIP]);
	for (size_t i = 0; i < nsuites; i++)
		free(suites[i]);
	free(suites);
	return counts[FAIL] || counts[XPASS] ? 1 : 0;
}
