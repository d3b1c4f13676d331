/*
 * --metrics-file: what a tick saw, in Prometheus text format, for
 * node_exporter's textfile collector.  Written to a temporary file in the
 * same directory and renamed into place, so a scrape never reads half a file.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct repo_line {
	char *repo;
	size_t backlog;
	long long oldest;
} repo_line;

struct cli_metrics {
	size_t seen, clean, sealed, skipped_behind, skipped_backlog, locked, permanent, transient;
	repo_line *repos;
	size_t nrepos, cap;
	time_t now;
};

cli_metrics *cli_metrics_new(size_t nrepos)
{
	cli_metrics *m = calloc(1, sizeof(*m));
	if (m && nrepos && !(m->repos = calloc(nrepos, sizeof(*m->repos)))) {
		free(m);
		return NULL;
	}
	if (m) {
		m->cap = nrepos;
		m->now = time(NULL);
	}
	return m;
}

void cli_metrics_add(cli_metrics *m, const char *repo, const pushseal_report *r)
{
	m->seen++;
	m->clean += r->skipped == PUSHSEAL_SKIP_CLEAN;
	m->sealed += r->sealed != 0;
	m->skipped_behind += r->skipped == PUSHSEAL_SKIP_BEHIND;
	m->skipped_backlog += r->skipped == PUSHSEAL_SKIP_BACKLOG;
	m->locked += r->skipped == PUSHSEAL_SKIP_LOCKED;
	if (report_failed(r, 0)) {
		if (pushseal_class_is_permanent(r->error.klass))
			m->permanent++;
		else
			m->transient++;
	}
	if (m->nrepos < m->cap && (m->repos[m->nrepos].repo = strdup(repo)) != NULL) {
		m->repos[m->nrepos].backlog = r->backlog;
		m->repos[m->nrepos].oldest = r->oldest_unpushed;
		m->nrepos++;
	}
}

/* A label value (X-REPORT-5): backslash, double quote and newline escaped,
 * as the text format wants, and always UTF-8, which it requires.  A byte
 * that is not part of valid UTF-8 becomes the character U+00XX of the same
 * value, as in the JSON's "repo" (\u00XX), so the label equals the decoded
 * JSON string and a dashboard can join the two. */
static void label(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		size_t n;
		if (*p == '\\' || *p == '"') {
			fputc('\\', f), fputc(*p++, f);
		} else if (*p == '\n') {
			fputs("\\n", f), p++;
		} else if ((n = cli_utf8_len(p)) == 0) {
			fputc(0xC0 | (*p >> 6), f), fputc(0x80 | (*p & 0x3F), f); /* U+0080..U+00FF */
			p++;
		} else {
			fwrite(p, 1, n, f);
			p += n;
		}
	}
}

static void counter(FILE *f, const char *name, const char *help, size_t v)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n%s %zu\n", name, help, name, name, v);
}

int cli_metrics_write(const cli_metrics *m, const char *path)
{
	char tmp[4200];
	FILE *f;
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (!(f = fopen(tmp, "w"))) {
		fprintf(stderr, "pushseal: --metrics-file %s: %s\n", path, strerror(errno));
		return -1;
	}
	counter(f, "pushseal_repos_seen", "Repositories in the last tick.", m->seen);
	counter(f, "pushseal_repos_clean", "Repositories skipped as clean (no git writes).", m->clean);
	counter(f, "pushseal_repos_sealed", "Repositories that ended sealed.", m->sealed);
	fputs("# HELP pushseal_repos_skipped Repositories whose writes a guard skipped.\n"
	      "# TYPE pushseal_repos_skipped gauge\n", f);
	fprintf(f, "pushseal_repos_skipped{guard=\"c16\"} %zu\n", m->skipped_behind);
	fprintf(f, "pushseal_repos_skipped{guard=\"c17\"} %zu\n", m->skipped_backlog);
	fprintf(f, "pushseal_repos_skipped{guard=\"locked\"} %zu\n", m->locked);
	fputs("# HELP pushseal_failures Repositories that failed: permanent ones need a person.\n"
	      "# TYPE pushseal_failures gauge\n", f);
	fprintf(f, "pushseal_failures{kind=\"permanent\"} %zu\n", m->permanent);
	fprintf(f, "pushseal_failures{kind=\"transient\"} %zu\n", m->transient);
	fputs("# HELP pushseal_backlog_commits Commits still unpushed after the tick.\n"
	      "# TYPE pushseal_backlog_commits gauge\n", f);
	for (size_t i = 0; i < m->nrepos; i++) {
		fputs("pushseal_backlog_commits{repo=\"", f);
		label(f, m->repos[i].repo);
		fprintf(f, "\"} %zu\n", m->repos[i].backlog);
	}
	fputs("# HELP pushseal_oldest_unpushed_age_seconds Age of the oldest unpushed commit (0: none).\n"
	      "# TYPE pushseal_oldest_unpushed_age_seconds gauge\n", f);
	for (size_t i = 0; i < m->nrepos; i++) {
		long long age = m->repos[i].oldest ? (long long)m->now - m->repos[i].oldest : 0;
		fputs("pushseal_oldest_unpushed_age_seconds{repo=\"", f);
		label(f, m->repos[i].repo);
		fprintf(f, "\"} %lld\n", age < 0 ? 0 : age);
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		fprintf(stderr, "pushseal: --metrics-file %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

void cli_metrics_free(cli_metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nrepos; i++)
		free(m->repos[i].repo);
	free(m->repos);
	free(m);
}
