/* One sandbox per test, a pinned environment, and the CLAUSE runner. */
#define _GNU_SOURCE
#include "harness.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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
	git_libgit2_init();
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
	snprintf(ctx->root, sizeof(ctx->root), "%s/pushseal-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(ctx->root)) {
		free(ctx);
		return -1;
	}
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
	if (ctx->passed || getenv("PUSHSEAL_KEEP_NONE"))
		nftw(ctx->root, rm_entry, 32, FTW_DEPTH | FTW_PHYS);
	else
		print_message("sandbox kept for inspection: %s\n", ctx->root);
	free(ctx);
	return 0;
}

void ps_run_body(void **state)
{
	ps_ctx *ctx = *state;
	ctx->body(ctx);
	ctx->passed = 1;
}

int ps_run_group(const char *name, const struct CMUnitTest *tests, size_t n)
{
	return _cmocka_run_group_tests(name, tests, n, NULL, NULL);
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
