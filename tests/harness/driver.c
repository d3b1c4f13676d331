/*
 * The driver: the implementation under test.  In-process it is the
 * reference library; with PUSHSEAL_IMPL set it is any command line that
 * speaks protocol v1 (docs/PROTOCOL.md), run as `sh -c 'eval "$IMPL" ...'`.
 */
#define _GNU_SOURCE
#include "harness.h"
#include "pushseal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 32

int drv_is_exec(void)
{
	const char *impl = getenv("PUSHSEAL_IMPL");
	return impl && *impl;
}

#include "families.h"

/* docs/SPEC.md's clauses, generated at build time from its table
 * (src/conformance/clause-table.awk; pushseal-conformance has the same). */
static const struct spec_clause {
	const char *id, *level, *sentence;
} spec_clauses[] = {
#include "clauses.inc"
};

const char *ps_clause_level(const char *id, size_t n)
{
	for (size_t i = 0; i < sizeof(spec_clauses) / sizeof(spec_clauses[0]); i++)
		if (strlen(spec_clauses[i].id) == n && !strncmp(spec_clauses[i].id, id, n))
			return spec_clauses[i].level;
	return NULL;
}

/* Does `token` (an ID or ID prefix) cover `clause`? */
static int covers(const char *token, size_t n, const char *clause)
{
	return n > 0 && strncmp(clause, token, n) == 0 && (clause[n] == '\0' || clause[n] == '-' || clause[n] == ' ');
}

static int token_enables(const char *token, size_t n, const char *clause)
{
	if (n == 3 && !strncmp(token, "all", 3))
		return !ps_reference_only(clause);
	if (n == 9 && !strncmp(token, "reference", 9))
		return ps_reference_only(clause);
	for (size_t f = 0; f < PS_NFAMILIES; f++) {
		const char *p = ps_families[f].prefixes;
		if (strlen(ps_families[f].name) != n || strncmp(ps_families[f].name, token, n))
			continue;
		while (*p) {
			size_t len = strcspn(p, " ");
			if (covers(p, len, clause))
				return 1;
			p += len + (p[len] == ' ');
		}
		return 0;
	}
	return covers(token, n, clause);
}

/* Set by ps_use_reference_cli: the command under test is the reference's own. */
static int reference_cli;

void ps_use_reference_cli(const char *cli)
{
	setenv("PUSHSEAL_IMPL", cli, 1);
	reference_cli = 1;
}

int ps_ext_enabled(const char *clause)
{
	const char *ext = getenv("PUSHSEAL_EXT");
	if (!drv_is_exec() || reference_cli)
		return 1;
	while (ext && *ext) {
		size_t n = strcspn(ext, ",");
		if (token_enables(ext, n, clause ? clause : ""))
			return 1;
		ext += n + (ext[n] == ',');
	}
	return 0;
}

/* Append "text" to the transcript, one line at most `max` bytes, with the
 * sandbox path shortened to $SANDBOX. */
static void transcript_put(ps_ctx *ctx, const char *text, size_t max, int flatten)
{
	size_t root = strlen(ctx->root), cap = sizeof(ctx->transcript) - 1;
	for (size_t i = 0; text[i] && max > 0 && ctx->transcript_len + 9 < cap; max--) {
		if (!strncmp(text + i, ctx->root, root)) {
			memcpy(ctx->transcript + ctx->transcript_len, "$SANDBOX", 8);
			ctx->transcript_len += 8;
			i += root;
			continue;
		}
		ctx->transcript[ctx->transcript_len++] = flatten && text[i] == '\n' ? ' ' : text[i];
		i++;
	}
	ctx->transcript[ctx->transcript_len] = '\0';
}

/* One protocol call in the transcript: the command, its exit code and time,
 * the first stdout line and the first two stderr lines. */
void drv_transcript(ps_ctx *ctx, const char *const *args, int rc, long long ms,
	const char *out, const char *err)
{
	char line[160];
	ctx->calls++;
	if (ctx->transcript_len + 600 >= sizeof(ctx->transcript)) {
		if (ctx->transcript_len + 40 < sizeof(ctx->transcript) && !strstr(ctx->transcript, "| ..."))
			transcript_put(ctx, "  | ... (later calls left out)\n", 64, 0);
		return;
	}
	transcript_put(ctx, "  | $ IMPL", 16, 1);
	for (; *args; args++) {
		transcript_put(ctx, " ", 1, 1);
		transcript_put(ctx, *args, 120, 1);
	}
	snprintf(line, sizeof(line), " -> exit %d in %lld ms\n", rc, ms);
	transcript_put(ctx, line, sizeof(line), 0);
	if (out && *out) {
		transcript_put(ctx, "  |     stdout: ", 20, 1);
		transcript_put(ctx, out, strcspn(out, "\n") < 200 ? strcspn(out, "\n") : 200, 0);
		transcript_put(ctx, "\n", 1, 0);
	}
	for (int k = 0; err && *err && k < 2; k++) {
		size_t n = strcspn(err, "\n");
		transcript_put(ctx, "  |     stderr: ", 20, 1);
		transcript_put(ctx, err, n < 200 ? n : 200, 1);
		transcript_put(ctx, "\n", 1, 0);
		err += n + (err[n] == '\n');
	}
}

int drv_exec(ps_ctx *ctx, const char **out, const char **errout, ...)
{
	const char *argv[MAX_ARGS + 5];
	int argc = 0;
	va_list ap;
	argv[argc++] = "/bin/sh";
	argv[argc++] = "-c";
	argv[argc++] = "eval \"exec $PUSHSEAL_IMPL \\\"\\$@\\\"\"";
	argv[argc++] = "pushseal-impl";
	va_start(ap, errout);
	for (const char *a; (a = va_arg(ap, const char *)) != NULL && argc < MAX_ARGS;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	/* the working directory is unspecified by the protocol: use the sandbox */
	long long start = ps_mono_ms();
	const char *o = NULL, *e = NULL;
	int rc = ps_spawn(ctx, ctx->root, argv, &o, &e);
	drv_transcript(ctx, argv + 4, rc, ps_mono_ms() - start, o, e);
	if (out)
		*out = o;
	if (errout)
		*errout = e;
	return rc;
}

static void one_line(ps_result *r, const char *out)
{
	size_t n = strcspn(out, "\n");
	snprintf(r->line, sizeof(r->line), "%.*s", (int)n, out);
}

static ps_result exec_change(ps_ctx *ctx, const char *verb, const char *repo)
{
	ps_result r;
	const char *out, *err;
	int rc = drv_exec(ctx, &out, &err, verb, repo, NULL);
	memset(&r, 0, sizeof(r));
	if (rc != 0 && rc != 1)
		fail_msg("protocol: '%s %s' exited %d (only 0 or 1 allowed); stderr: %s", verb, repo, rc, err);
	r.ok = rc == 0;
	one_line(&r, out);
	return r;
}

static ps_result exec_count(ps_ctx *ctx, const char *verb, const char *repo)
{
	ps_result r;
	const char *out, *err;
	char *end;
	int rc = drv_exec(ctx, &out, &err, verb, repo, NULL);
	memset(&r, 0, sizeof(r));
	if (rc != 0)
		fail_msg("protocol: '%s %s' exited %d (must be 0); stderr: %s", verb, repo, rc, err);
	r.count = strtol(out, &end, 10);
	if (end == out || r.count < 0 || (*end && strcmp(end, "\n") != 0))
		fail_msg("protocol: '%s %s' printed '%s', not one decimal integer", verb, repo, out);
	r.ok = 1;
	one_line(&r, out);
	return r;
}

static ps_result from_lib(int rc, int moved, const pushseal_error *err)
{
	ps_result r;
	memset(&r, 0, sizeof(r));
	r.ok = rc == 0;
	r.klass = rc;
	r.class_known = 1;
	r.moved = moved;
	if (rc != err->klass)
		fail_msg("library: returned %d but err->klass is %d", rc, err->klass);
	snprintf(r.line, sizeof(r.line), "%s", err->message);
	return r;
}

ps_result drv_pull(ps_ctx *ctx, const char *repo)
{
	pushseal_error err;
	pushseal_change change = PUSHSEAL_UP_TO_DATE;
	int rc;
	if (drv_is_exec())
		return exec_change(ctx, "pull-ff", repo);
	rc = pushseal_pull_ff(&change, repo, NULL, &err);
	return from_lib(rc, change == PUSHSEAL_MOVED, &err);
}

ps_result drv_push(ps_ctx *ctx, const char *repo)
{
	pushseal_error err;
	pushseal_change change = PUSHSEAL_UP_TO_DATE;
	int rc;
	if (drv_is_exec())
		return exec_change(ctx, "push-ff", repo);
	rc = pushseal_push_ff(&change, repo, NULL, &err);
	return from_lib(rc, change == PUSHSEAL_MOVED, &err);
}

ps_result drv_remote_ahead(ps_ctx *ctx, const char *repo)
{
	pushseal_error err;
	size_t n = 99999;
	ps_result r;
	int rc;
	if (drv_is_exec())
		return exec_count(ctx, "remote-ahead", repo);
	rc = pushseal_count_remote_ahead(&n, repo, NULL, &err);
	r = from_lib(rc, 0, &err);
	r.ok = 1; /* best-effort: a count is always produced */
	r.count = (long)n;
	return r;
}

ps_result drv_local_ahead(ps_ctx *ctx, const char *repo)
{
	pushseal_error err;
	size_t n = 99999;
	ps_result r;
	int rc;
	if (drv_is_exec())
		return exec_count(ctx, "local-ahead", repo);
	rc = pushseal_count_local_ahead(&n, repo, &err);
	r = from_lib(rc, 0, &err);
	r.ok = 1;
	r.count = (long)n;
	return r;
}

void ps_expect_ok(const ps_result *r, const char *file, int line)
{
	if (!r->ok) {
		print_error("%s:%d: expected success, got failure: %s\n", file, line, r->line);
		_fail(file, line);
	}
}

void ps_expect_fail(const ps_result *r, int klass, const char *file, int line)
{
	if (r->ok) {
		print_error("%s:%d: expected failure (%s), got success: %s\n", file, line,
			pushseal_class_name(klass), r->line);
		_fail(file, line);
	}
	if (r->class_known && klass != 0 && r->klass != klass) {
		print_error("%s:%d: expected class %s, got %s: %s\n", file, line,
			pushseal_class_name(klass), pushseal_class_name(r->klass), r->line);
		_fail(file, line);
	}
}

int ps_missing_repo_class(void)
{
	const char *t = ps_transport();
	return (!strcmp(t, "git") || !strcmp(t, "http") || !strcmp(t, "ssh")) ? PUSHSEAL_E_REJECTED
		: PUSHSEAL_E_UNREACHABLE;
}
