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

/* The named families of extended clauses: a family enables every clause ID
 * that starts with one of its prefixes (docs/SPEC.md lists them). */
static const struct family {
	const char *name;
	const char *prefixes;
} families[] = {
	{ "classes", "P-PULL-23 P-PUSH-17 P-INPUT-7 P-DEADLINE-4 G-UNSUPPORTED N" },
	{ "ignored", "P-PULL-15" },
	{ "lock", "P-PULL-16 P-PULL-21 X-LOCK" },
	{ "in-progress", "P-PULL-22 C-16-4 F-STATE" },
	{ "local-upstream", "P-PULL-18" },
	{ "owner", "P-INPUT-8" },
	{ "paths", "P-PROTO-7 F-PATH" },
	{ "cli", "P-PROTO-6 G-SPARSE-2 X-COMMIT X-STATUS X-HUB X-PAR X-METRICS X-FORMAT" },
	{ "reports", "C-16-5 X-REPORT" },
	{ "divergence", "X-DIVERGE F-CONC-2" },
	{ "crash", "F-CRASH-2 F-CRASH-4 F-CRASH-5 F-LOCK-2 F-LOCK-3 F-LOCK-4 F-STEP" },
	{ "children", "F-CHILD-3 F-CHILD-4" },
	{ "redact", "F-REDACT" },
	{ "race", "P-PUSH-18 G-URL-7" },
	{ "transport", "T-HTTP T-SSH T-CRED" },
	{ "hostile", "SEC" },
	{ "shard", "X-SHARD" },
};

/* Does `token` (an ID or ID prefix) cover `clause`? */
static int covers(const char *token, size_t n, const char *clause)
{
	return n > 0 && strncmp(clause, token, n) == 0 && (clause[n] == '\0' || clause[n] == '-' || clause[n] == ' ');
}

static int token_enables(const char *token, size_t n, const char *clause)
{
	if (n == 3 && !strncmp(token, "all", 3))
		return 1;
	for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
		const char *p = families[f].prefixes;
		if (strlen(families[f].name) != n || strncmp(families[f].name, token, n))
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

int ps_ext_enabled(const char *clause)
{
	const char *ext = getenv("PUSHSEAL_EXT");
	if (!drv_is_exec())
		return 1;
	while (ext && *ext) {
		size_t n = strcspn(ext, ",");
		if (token_enables(ext, n, clause ? clause : ""))
			return 1;
		ext += n + (ext[n] == ',');
	}
	return 0;
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
	return ps_spawn(ctx, ctx->root, argv, out, errout);
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
