/* P-PROTO: the command line of protocol v1 (docs/PROTOCOL.md), exec only. */
#include "harness.h"
#include "pushseal.h"

#include <stdlib.h>
#include <string.h>

#define EXIT_USAGE 2

/* This suite speaks to a command; in-process there is nothing to test. */
#define REQUIRE_EXEC() do { if (!drv_is_exec()) \
		PS_SKIP("the command line is tested through --impl only; in-process there is none"); } while (0)

static int has_text(const char *s)
{
	for (; s && *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return 1;
	return 0;
}

/* Exactly one non-empty line: text, then the only newline, at the end. */
static void assert_one_line(const char *out, const char *what)
{
	const char *nl = strchr(out, '\n');
	if (!nl || nl == out || nl[1] != '\0')
		fail_msg("%s: stdout is not exactly one line: \"%s\"", what, out);
}

/* One canonical decimal integer and a newline: "0\n", "17\n". */
static long assert_decimal(const char *out, const char *what)
{
	size_t n = strspn(out, "0123456789");
	if (n == 0 || out[n] != '\n' || out[n + 1] != '\0' || (out[0] == '0' && n > 1))
		fail_msg("%s: stdout is not one decimal integer: \"%s\"", what, out);
	return strtol(out, NULL, 10);
}

/* A usage error: exit 2 and something on stderr. */
static void expect_usage(ps_ctx *ctx, int rc, const char *err, const char *what)
{
	(void)ctx;
	if (rc != EXIT_USAGE)
		fail_msg("%s: exited %d, not %d (usage error); stderr: %s", what, rc, EXIT_USAGE, err);
	if (!has_text(err))
		fail_msg("%s: exited 2 with nothing on stderr", what);
}

/* Bare remote.git (2 commits), clone "local" one commit ahead: any push that
 * slipped through would move the remote. */
static ps_rev ahead_pair(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 1);
	return or_rev(ctx, "remote.git", "main");
}

/* ---- P-PROTO-1..3: usage errors ------------------------------------------- */

static void unknown_command(ps_ctx *ctx)
{
	static const char *const bad[] = {
		"frobnicate", "push", "pull", "PUSH-FF", "push-ff-now", "push_ff", "", "--frobnicate",
	};
	ps_rev tip;
	ps_rev head;
	REQUIRE_EXEC();
	tip = ahead_pair(ctx);
	head = or_rev(ctx, "local", "HEAD");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *out, *err;
		int rc = drv_exec(ctx, &out, &err, bad[i], ps_path(ctx, "local"), NULL);
		expect_usage(ctx, rc, err, ps_fmt(ctx, "command '%s'", bad[i]));
	}
	/* nothing was pushed or pulled by a near-miss command */
	assert_str(or_rev(ctx, "remote.git", "main").hex, tip.hex);
	assert_str(or_rev(ctx, "local", "HEAD").hex, head.hex);
}

static void missing_repo(ps_ctx *ctx)
{
	static const char *const cmds[] = { "pull-ff", "push-ff", "remote-ahead", "local-ahead" };
	const char *out, *err;
	int rc;
	REQUIRE_EXEC();
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		rc = drv_exec(ctx, &out, &err, cmds[i], NULL);
		expect_usage(ctx, rc, err, ps_fmt(ctx, "'%s' without REPO", cmds[i]));
	}
	rc = drv_exec(ctx, &out, &err, NULL);
	expect_usage(ctx, rc, err, "no command at all");
}

static void extra_arguments(ps_ctx *ctx)
{
	ps_rev tip;
	ps_rev head;
	ps_rev behind_head;
	const char *local, *behind, *out, *err;
	int rc;
	REQUIRE_EXEC();
	tip = ahead_pair(ctx);
	/* "behind": a second clone of remote.git, one commit behind it */
	fx_bare(ctx, "other.git", 2);
	fx_clone(ctx, "other.git", "behind");
	fx_behind(ctx, "other.git", 1);
	head = or_rev(ctx, "local", "HEAD");
	behind_head = or_rev(ctx, "behind", "HEAD");
	local = ps_path(ctx, "local");
	behind = ps_path(ctx, "behind");

	rc = drv_exec(ctx, &out, &err, "push-ff", local, "extra", NULL);
	expect_usage(ctx, rc, err, "push-ff REPO extra");
	rc = drv_exec(ctx, &out, &err, "push-ff", local, local, NULL);
	expect_usage(ctx, rc, err, "push-ff REPO REPO");
	rc = drv_exec(ctx, &out, &err, "push-ff", behind, local, NULL);
	expect_usage(ctx, rc, err, "push-ff OTHER REPO");
	rc = drv_exec(ctx, &out, &err, "pull-ff", behind, "extra", NULL);
	expect_usage(ctx, rc, err, "pull-ff REPO extra");
	rc = drv_exec(ctx, &out, &err, "local-ahead", local, "extra", NULL);
	expect_usage(ctx, rc, err, "local-ahead REPO extra");
	rc = drv_exec(ctx, &out, &err, "remote-ahead", behind, "extra", NULL);
	expect_usage(ctx, rc, err, "remote-ahead REPO extra");

	/* none of them acted */
	assert_str(or_rev(ctx, "remote.git", "main").hex, tip.hex);
	assert_str(or_rev(ctx, "local", "HEAD").hex, head.hex);
	assert_str(or_rev(ctx, "behind", "HEAD").hex, behind_head.hex);
	assert_str(or_status(ctx, "behind"), "");
}

/* ---- P-PROTO-4: one line from pull-ff and push-ff -------------------------- */

static void one_line_change(ps_ctx *ctx, const char *verb, const char *repo, int want_rc, const char *what)
{
	const char *out, *err;
	int rc = drv_exec(ctx, &out, &err, verb, repo, NULL);
	if (rc != want_rc)
		fail_msg("%s: '%s' exited %d, expected %d; stdout: %s; stderr: %s", what, verb, rc, want_rc, out, err);
	assert_one_line(out, what);
}

static void change_one_line(ps_ctx *ctx)
{
	REQUIRE_EXEC();
	fx_pair(ctx, 2);
	fx_clone(ctx, "remote.git", "peer");
	fx_ahead(ctx, "peer", 1);
	/* push: success (moves), success (up to date) */
	one_line_change(ctx, "push-ff", ps_path(ctx, "peer"), 0, "push that moves");
	assert_str(or_rev(ctx, "remote.git", "main").hex, or_rev(ctx, "peer", "HEAD").hex);
	one_line_change(ctx, "push-ff", ps_path(ctx, "peer"), 0, "push already up to date");
	/* pull: success (moves), success (up to date) */
	one_line_change(ctx, "pull-ff", ps_path(ctx, "local"), 0, "pull that moves");
	assert_str(or_rev(ctx, "local", "HEAD").hex, or_rev(ctx, "remote.git", "main").hex);
	one_line_change(ctx, "pull-ff", ps_path(ctx, "local"), 0, "pull already up to date");
	/* diverge: both fail */
	fx_ahead(ctx, "local", 1);
	fx_behind(ctx, "remote.git", 1);
	one_line_change(ctx, "pull-ff", ps_path(ctx, "local"), 1, "diverged pull");
	one_line_change(ctx, "push-ff", ps_path(ctx, "local"), 1, "diverged push");
	/* bad input: both fail */
	one_line_change(ctx, "pull-ff", ps_path(ctx, "no-such-repo"), 1, "pull of a missing path");
	one_line_change(ctx, "push-ff", ps_path(ctx, "no-such-repo"), 1, "push of a missing path");
}

static void failure_naming_newline_path_one_line(ps_ctx *ctx)
{
	REQUIRE_EXEC();
	/* a failure message that quotes REPO must not split the line */
	one_line_change(ctx, "pull-ff", ps_path(ctx, "no such\nrepo\n"), 1, "pull of a missing path with newlines");
	one_line_change(ctx, "push-ff", ps_path(ctx, "no such\nrepo\n"), 1, "push of a missing path with newlines");
	/* the same when the path exists but is not a repository */
	fx_write(ctx, "not\na repo/file.txt", "x\n");
	one_line_change(ctx, "pull-ff", ps_path(ctx, "not\na repo"), 1, "pull of a non-repository with a newline");
	one_line_change(ctx, "push-ff", ps_path(ctx, "not\na repo"), 1, "push of a non-repository with a newline");
}

/* ---- P-PROTO-5: counts always print one integer and exit 0 ---------------- */

static long count_of(ps_ctx *ctx, const char *verb, const char *repo, const char *what)
{
	const char *out, *err;
	int rc = drv_exec(ctx, &out, &err, verb, repo, NULL);
	if (rc != 0)
		fail_msg("%s: '%s' exited %d, not 0; stdout: %s; stderr: %s", what, verb, rc, out, err);
	return assert_decimal(out, what);
}

static void counts_always_integer(ps_ctx *ctx)
{
	static const char *const verbs[] = { "remote-ahead", "local-ahead" };
	REQUIRE_EXEC();
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 3);
	fx_behind(ctx, "remote.git", 2);
	/* real counts first: the same integer git gives */
	assert_int_equal(count_of(ctx, "local-ahead", ps_path(ctx, "local"), "local-ahead, diverged 3/2"),
		or_count(ctx, "local", "@{u}..HEAD"));
	assert_int_equal(count_of(ctx, "remote-ahead", ps_path(ctx, "local"), "remote-ahead, diverged 3/2"), 2);
	/* errors: still one integer, 0, exit 0 */
	fx_write(ctx, "plain-file", "not a repo\n");
	fx_write(ctx, "plain-dir/file.txt", "not a repo\n");
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(count_of(ctx, verbs[i], ps_path(ctx, "no-such-repo"), "a missing path"), 0);
		assert_int_equal(count_of(ctx, verbs[i], ps_path(ctx, "plain-file"), "a plain file"), 0);
		assert_int_equal(count_of(ctx, verbs[i], ps_path(ctx, "plain-dir"), "a directory that is no repository"), 0);
		assert_int_equal(count_of(ctx, verbs[i], ps_path(ctx, "remote.git"), "a bare repository"), 0);
		assert_int_equal(count_of(ctx, verbs[i], ps_path(ctx, "no such\nrepo"), "a missing path with a newline"), 0);
	}
	/* the remote vanishes: remote-ahead still prints an integer (best effort) */
	fx_rmrf(ctx, "remote.git");
	count_of(ctx, "remote-ahead", ps_path(ctx, "local"), "remote-ahead with the remote gone");
	assert_int_equal(count_of(ctx, "local-ahead", ps_path(ctx, "local"), "local-ahead with the remote gone"), 3);
}

/* ---- P-PROTO-6 (ext): --help and --version ------------------------------- */

static void help_and_version(ps_ctx *ctx)
{
	static const char *const cmds[] = { "pull-ff", "push-ff", "remote-ahead", "local-ahead" };
	static const char *const help[] = { "--help", "-h" };
	const char *out, *err;
	int rc;
	REQUIRE_EXEC();
	for (size_t h = 0; h < 2; h++) {
		rc = drv_exec(ctx, &out, &err, help[h], NULL);
		if (rc != 0)
			fail_msg("'%s' exited %d; stderr: %s", help[h], rc, err);
		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			if (!strstr(out, cmds[i]))
				fail_msg("'%s' does not name the command %s:\n%s", help[h], cmds[i], out);
	}
	rc = drv_exec(ctx, &out, &err, "--version", NULL);
	if (rc != 0)
		fail_msg("'--version' exited %d; stderr: %s", rc, err);
	if (!strstr(out, ps_fmt(ctx, "protocol v%d", PUSHSEAL_PROTOCOL_VERSION)))
		fail_msg("'--version' does not print 'protocol v%d': %s", PUSHSEAL_PROTOCOL_VERSION, out);
}

/* ---- P-PROTO-7 (ext): odd bytes in paths ---------------------------------- */

static void odd_paths(ps_ctx *ctx)
{
	static const char *const names[] = {
		"with space",
		"new\nline",
		"bad\xff" "byte",
		"it's \"$HOME\" *.txt \\t; $(false)",
	};
	REQUIRE_EXEC();
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *name = names[i];
		char bare[64];
		ps_rev tip;
		ps_result r;
		snprintf(bare, sizeof(bare), "r%zu.git", i);
		fx_bare(ctx, bare, 2);
		fx_clone(ctx, bare, name);
		fx_ahead(ctx, name, 2);
		r = drv_local_ahead(ctx, ps_path(ctx, name));
		assert_int_equal(r.count, 2);
		r = drv_push(ctx, ps_path(ctx, name));
		expect_ok(r);
		tip = or_rev(ctx, name, "HEAD");
		assert_str(or_rev(ctx, bare, "main").hex, tip.hex);
		r = drv_local_ahead(ctx, ps_path(ctx, name));
		assert_int_equal(r.count, 0);
		/* and the other way round */
		fx_behind(ctx, bare, 1);
		r = drv_remote_ahead(ctx, ps_path(ctx, name));
		assert_int_equal(r.count, 1);
		r = drv_pull(ctx, ps_path(ctx, name));
		expect_ok(r);
		assert_str(or_rev(ctx, name, "HEAD").hex, or_rev(ctx, bare, "main").hex);
		assert_str(or_status(ctx, name), "");
	}
}

static const struct CMUnitTest tests[] = {
	CLAUSE("P-PROTO-1", "an unknown command exits 2 with a message on stderr and acts on nothing", unknown_command),
	CLAUSE("P-PROTO-2", "each command without REPO, and no command at all, exits 2 with a message on stderr", missing_repo),
	CLAUSE("P-PROTO-3", "extra arguments after REPO exit 2 for every command, and nothing is pulled or pushed", extra_arguments),
	CLAUSE("P-PROTO-4", "pull-ff and push-ff print exactly one line on stdout, whatever happens", change_one_line),
	CLAUSE("P-PROTO-4", "a failure on a REPO whose path contains newlines still prints exactly one line on stdout", failure_naming_newline_path_one_line),
	CLAUSE("P-PROTO-5", "remote-ahead and local-ahead print one integer and exit 0, even on bad input", counts_always_integer),
	CLAUSE("P-PROTO-6", "--help and -h exit 0 naming every command, and --version prints the protocol version", help_and_version),
	CLAUSE("P-PROTO-7", "clones whose paths hold odd bytes or shell metacharacters push, pull and count", odd_paths),
};

int main(void)
{
	ps_harness_init();
	return PS_RUN("P-PROTO", tests);
}
