/* JSON output: protocol v1 lines for fix, run and status. */
#include "cli.h"

#include <string.h>

size_t cli_utf8_len(const unsigned char *p)
{
	size_t n;
	unsigned int cp;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		n = 2, cp = p[0] & 0x1F;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		n = 3, cp = p[0] & 0x0F;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

void cli_json_string(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	fputc('"', out);
	while (*p) {
		size_t n;
		if (*p == '"' || *p == '\\') {
			fputc('\\', out);
			fputc(*p++, out);
		} else if (*p == '\n') {
			fputs("\\n", out), p++;
		} else if (*p == '\t') {
			fputs("\\t", out), p++;
		} else if (*p < 0x20 || *p == 0x7F || (n = cli_utf8_len(p)) == 0) {
			/* a control character, or a byte that is not UTF-8: keep its value visible */
			fprintf(out, "\\u%04x", *p++);
		} else {
			fwrite(p, 1, n, out);
			p += n;
		}
	}
	fputc('"', out);
}

static void json_bool(FILE *out, const char *key, int v)
{
	fprintf(out, ",\"%s\":%s", key, v ? "true" : "false");
}

/* One rule for the "failure" field, the exit code and the metrics (X-REPORT-7):
 * fix and run fail when the repo did not end sealed or clean, or when any
 * failure was recorded, even beside "sealed": true (a failed writeback, a
 * leftover that could not be committed).  status, which predicts a tick,
 * shows the failure the tick would report (its exit code stays its own). */
int report_failed(const pushseal_report *r, int status_mode)
{
	if (status_mode)
		return r->error.klass != PUSHSEAL_OK;
	return !(r->sealed || r->skipped == PUSHSEAL_SKIP_CLEAN) || r->error.klass != PUSHSEAL_OK;
}

void cli_text_report(FILE *out, const char *repo, const pushseal_report *r, int status_mode)
{
	const char *skipped = pushseal_skip_name(r->skipped);
	fprintf(out, "%s: ", repo);
	if (status_mode) {
		fprintf(out, "%s (behind %zu, ahead ", r->needs_action ? "needs action" : "clean", r->behind);
		if (r->ahead_measured)
			fprintf(out, "%zu)", r->ahead);
		else
			fputs("unknown)", out);
	} else if (skipped && r->skipped == PUSHSEAL_SKIP_CLEAN) {
		fputs("clean, nothing to do", out);
	} else if (skipped) {
		fprintf(out, "skipped at %s, nothing written", skipped);
	} else {
		fprintf(out, "%s%s%s", r->sealed ? "sealed" : "NOT sealed",
			(r->actions & PUSHSEAL_ACT_PUSH_RETRY) ? ", backlog pushed" : "",
			r->wrote ? (r->writeback_failed ? ", writeback FAILED" : ", writeback ran") : "");
	}
	if (r->error.klass != PUSHSEAL_OK)
		fprintf(out, " -- %s (%s): %s", pushseal_class_is_permanent(r->error.klass) ? "permanent" : "transient",
			pushseal_class_name(r->error.klass), r->error.message);
	fputc('\n', out);
	fflush(out);
}

void cli_json_report(FILE *out, const char *repo, const pushseal_report *r, int status_mode)
{
	static const struct { unsigned int bit; const char *name; } acts[] = {
		{ PUSHSEAL_ACT_FETCH, "fetch" }, { PUSHSEAL_ACT_PULL, "pull" }, { PUSHSEAL_ACT_REBASE, "rebase" },
		{ PUSHSEAL_ACT_PUSH_RETRY, "push-backlog" }, { PUSHSEAL_ACT_WRITEBACK, "writeback" },
		{ PUSHSEAL_ACT_COMMIT, "commit" }, { PUSHSEAL_ACT_SEAL, "push-seal" },
	};
	const char *skipped = pushseal_skip_name(r->skipped);
	int first = 1;

	fputs("{\"repo\":", out);
	cli_json_string(out, repo);
	fputs(",\"skipped\":", out);
	if (skipped)
		fprintf(out, "\"%s\"", skipped);
	else
		fputs("null", out);
	json_bool(out, "wrote", r->wrote);
	json_bool(out, "sealed", r->sealed);
	fprintf(out, ",\"behind\":%zu", r->behind);
	/* null when it could not be counted (no upstream, ...): never a made-up 0 */
	if (r->ahead_measured)
		fprintf(out, ",\"ahead\":%zu", r->ahead);
	else
		fputs(",\"ahead\":null", out);
	json_bool(out, "needs_action", r->needs_action || r->skipped != PUSHSEAL_SKIP_CLEAN);
	fputs(",\"guards\":[", out);
	if (r->guards & PUSHSEAL_GUARD_BEHIND)
		fputs("\"c16\"", out), first = 0;
	if (r->guards & PUSHSEAL_GUARD_BACKLOG)
		fputs(first ? "\"c17\"" : ",\"c17\"", out);
	fputs("],\"actions\":[", out);
	first = 1;
	for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
		if (!(r->actions & acts[i].bit))
			continue;
		fprintf(out, "%s\"%s\"", first ? "" : ",", acts[i].name);
		first = 0;
	}
	fputc(']', out);
	if (!status_mode)
		json_bool(out, "writeback_failed", r->writeback_failed);
	fputs(",\"error\":", out);
	if (r->error.klass == PUSHSEAL_OK) {
		fputs("null", out);
	} else {
		fprintf(out, "{\"class\":\"%s\",\"message\":", pushseal_class_name(r->error.klass));
		cli_json_string(out, r->error.message);
		fputc('}', out);
	}
	/* for alerting: a permanent failure needs a person, a transient one
	 * (unreachable, timeout, locked) may clear by itself */
	fputs(",\"failure\":", out);
	if (!report_failed(r, status_mode))
		fputs("null", out);
	else
		fputs(pushseal_class_is_permanent(r->error.klass) ? "\"permanent\"" : "\"transient\"", out);
	if (!status_mode)
		fprintf(out, ",\"backlog\":%zu", r->backlog);
	fputs("}\n", out);
	fflush(out);
}
