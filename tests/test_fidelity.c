/*
 * G-*: git fidelity.  Where a user's git works, pushseal must work the same
 * way.  Each setup is built twice, by the git CLI, in twin sandboxes a/ and
 * b/ (the harness pins dates and identity, so both twins hold the very same
 * commit ids); the implementation under test runs an operation in a/, git
 * runs its own way of doing it in b/, and the test compares what came out:
 * success or failure, every ref tip of clone and remote, the tracking ref,
 * `git status`, the index and the worktree's bytes.  git is the oracle.
 *
 * Every setup runs every operation: pull-ff, push-ff, remote-ahead,
 * local-ahead, and fix (pull, writeback, seal).
 */
#define _GNU_SOURCE
#include "harness.h"
#include "pushseal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef enum op { OP_PULL, OP_PUSH, OP_REMOTE_AHEAD, OP_LOCAL_AHEAD, OP_FIX, OP_COUNT } op;

static const char *const op_names[OP_COUNT] = { "pull-ff", "push-ff", "remote-ahead", "local-ahead", "fix" };

#define WRITEBACK "echo bot >> bot.txt && git add bot.txt && git commit -qm 'bot: data'"

/* git's own way of doing each operation, run in the repository. */
static const char *const git_way[OP_COUNT] = {
	"git pull -q --ff-only",
	"git push -q",
	"git fetch -q && git rev-list --count HEAD..@{u}",
	/* the set difference, as git status counts it */
	"git rev-list --left-right --count @{u}...HEAD | cut -f2",
	"git pull -q --ff-only && " WRITEBACK " && git push -q",
};

/* One setup: shell scripts run with $T the twin's absolute root. */
typedef struct setup {
	const char *build;    /* makes the remote(s) and the clone */
	const char *repo;     /* REPO, relative to the twin */
	const char *remote;   /* the remote repository to compare, relative */
	const char *upstream; /* moves the upstream on by a commit (a person's push) */
	const char *local;    /* makes one local commit in REPO */
	const char *run_in;   /* where the implementation and git run, relative ("": the twin) */
	int umask_077;        /* both sides run under umask 077 (0: as the test runs) */
} setup;

/* The common start: remote.git with a few files, and its clone `local`. */
#define BASE \
	"git init -q --bare remote.git && git clone -q remote.git seed 2>/dev/null && cd seed && " \
	"mkdir -p a b && echo one > top.txt && echo x > a/x && echo y > b/y && echo z > b/z && " \
	"git add -A && git commit -qm one && git push -q origin main && cd .. && rm -rf seed"
#define CLONE "git clone -q remote.git local"
#define UPSTREAM(path) \
	"git clone -q remote.git up && cd up && echo two >> " path " && git commit -qam two && " \
	"git push -q && cd .. && rm -rf up"
#define LOCAL_COMMIT(dir) "cd " dir " && echo mine >> top.txt && git commit -qam mine"

/* Run script in dir with T=the twin; the fixture must build. */
static void sh_in(ps_ctx *ctx, const char *twin, const char *script)
{
	const char *argv[] = { "/bin/sh", "-c", NULL, NULL };
	const char *out, *err;
	argv[2] = ps_fmt(ctx, "set -e; T='%s'; export T; cd \"$T\"; %s", twin, script);
	if (ps_spawn(ctx, NULL, argv, &out, &err) != 0)
		fail_msg("fixture in %s failed: %s\nstderr: %s", twin, script, err);
}

/* What git says about the twin afterwards: refs, status, index, worktree. */
static const char *fingerprint(ps_ctx *ctx, const char *twin, const setup *s)
{
	const char *argv[] = { "/bin/sh", "-c", NULL, NULL };
	const char *out, *err;
	argv[2] = ps_fmt(ctx,
		"cd '%s/%s' && { echo HEAD $(git rev-parse HEAD); echo UPSTREAM $(git rev-parse @{u} 2>/dev/null); "
		"git status --porcelain=v1 -uall; git ls-files -s -t; "
		"find . -name .git -prune -o \\( -type f -o -type l \\) -print | LC_ALL=C sort | "
		"while IFS= read -r f; do printf '%%s ' \"$f\"; git hash-object --no-filters \"$f\"; done; } 2>&1; "
		"echo REMOTE; git -C '%s/%s' for-each-ref --format='%%(refname) %%(objectname)' refs/heads refs/tags",
		twin, s->repo, twin, s->remote);
	ps_spawn(ctx, NULL, argv, &out, &err);
	return out;
}

/* One cell: the operation on both twins, then the same outcome. */
/* The twins of an operation: pull-ff runs on the twins remote-ahead left
 * (both fetched, then both pull), push-ff on local-ahead's (a count
 * changes nothing); fix gets its own.  Fewer fixtures, same comparisons. */
static const char *const scenario[OP_COUNT] = { "behind", "ahead", "behind", "ahead", "fix" };

static void cell(ps_ctx *ctx, const char *name, const setup *s, op o, int build)
{
	char a[1100], b[1100], repo_a[2300], got[65536];
	const char *argv[] = { "/bin/sh", "-c", NULL, NULL };
	const char *out, *err;
	long git_count = -1;
	int git_ok, ours_ok;
	ps_result r;

	snprintf(a, sizeof(a), "%s", ps_path(ctx, ps_fmt(ctx, "%s-%s/a", name, scenario[o])));
	snprintf(b, sizeof(b), "%s", ps_path(ctx, ps_fmt(ctx, "%s-%s/b", name, scenario[o])));
	for (int t = 0; build && t < 2; t++) {
		const char *twin = t ? b : a;
		sh_in(ctx, ctx->root, ps_fmt(ctx, "mkdir -p '%s'", twin));
		sh_in(ctx, twin, s->build);
		if (o == OP_PULL || o == OP_REMOTE_AHEAD || o == OP_FIX)
			sh_in(ctx, twin, s->upstream);
		if (o == OP_PUSH || o == OP_LOCAL_AHEAD)
			sh_in(ctx, twin, s->local);
	}
	snprintf(repo_a, sizeof(repo_a), "%s/%s", a, s->repo);

	/* git's way in b/ */
	argv[2] = ps_fmt(ctx, "%scd '%s/%s' && %s", s->umask_077 ? "umask 077 && " : "", b, s->repo, git_way[o]);
	git_ok = ps_spawn(ctx, NULL, argv, &out, &err) == 0;
	mode_t old_mask = umask(022);
	umask(s->umask_077 ? 077 : old_mask);
	if (o == OP_REMOTE_AHEAD || o == OP_LOCAL_AHEAD)
		git_count = git_ok ? atol(out) : 0;

	/* the implementation's in a/ */
	switch (o) {
	case OP_PULL: r = drv_pull(ctx, repo_a); break;
	case OP_PUSH: r = drv_push(ctx, repo_a); break;
	case OP_REMOTE_AHEAD: r = drv_remote_ahead(ctx, repo_a); break;
	case OP_LOCAL_AHEAD: r = drv_local_ahead(ctx, repo_a); break;
	default: {
		ps_cycle_result c = drv_fix(ctx, repo_a, WRITEBACK);
		memset(&r, 0, sizeof(r));
		r.ok = c.exit_code == 0 && c.sealed;
		snprintf(r.line, sizeof(r.line), "%.1000s", c.json);
	}
	}
	umask(old_mask);
	ours_ok = r.ok;
	if (o == OP_REMOTE_AHEAD || o == OP_LOCAL_AHEAD) {
		if (r.count != git_count)
			fail_msg("%s, %s: counted %ld where git counts %ld (%s)", name, op_names[o], r.count, git_count, r.line);
	} else if (o == OP_FIX && !git_ok && !ours_ok) {
		/* git's way pulled and committed before its push was refused; an
		 * implementation may refuse before writing (the reference does:
		 * SPEC C-16-4).  The remote is what must agree. */
		const char *ours = strstr(fingerprint(ctx, a, s), "\nREMOTE\n");
		snprintf(got, sizeof(got), "%s", ours ? ours : "");
		ours = strstr(fingerprint(ctx, b, s), "\nREMOTE\n");
		if (strcmp(got, ours ? ours : "") != 0)
			fail_msg("%s, fix: the remote differs from git's.\n--- pushseal:%s\n--- git:%s", name, got, ours);
		return;
	} else if (ours_ok != git_ok) {
		fail_msg("%s, %s: %s where git %s: %s; git said: %s", name, op_names[o], ours_ok ? "succeeded" : "failed",
			git_ok ? "succeeded" : "failed", r.line, err);
	}
	snprintf(got, sizeof(got), "%s", fingerprint(ctx, a, s));
	if (strcmp(got, fingerprint(ctx, b, s)) != 0)
		fail_msg("%s, %s: the result differs from git's.\n--- pushseal (a/):\n%s\n--- git (b/):\n%s", name,
			op_names[o], got, fingerprint(ctx, b, s));
}

static void all_ops(ps_ctx *ctx, const char *name, const setup *s)
{
	if (strcmp(ps_transport(), "path") != 0)
		PS_SKIP("the git-fidelity setups are local-path remotes; transport path not declared");
	cell(ctx, name, s, OP_REMOTE_AHEAD, 1);
	cell(ctx, name, s, OP_PULL, 0);
	cell(ctx, name, s, OP_LOCAL_AHEAD, 1);
	cell(ctx, name, s, OP_PUSH, 0);
	cell(ctx, name, s, OP_FIX, 1);
}

/* ---- the setups ----------------------------------------------------------- */

static void plain(ps_ctx *ctx)
{
	static const setup s = { BASE " && " CLONE, "local", "remote.git", UPSTREAM("top.txt"),
		LOCAL_COMMIT("local"), "", 0 };
	all_ops(ctx, "plain", &s);
}

static void sparse(ps_ctx *ctx)
{
	/* a cone of a/; upstream changes b/ (outside it) and top.txt */
	static const setup s = { BASE " && " CLONE " && git -C local sparse-checkout set a", "local", "remote.git",
		"git clone -q remote.git up && cd up && echo two >> b/y && echo two >> top.txt && git commit -qam two && "
		"git push -q && cd .. && rm -rf up",
		"cd local && echo mine >> a/x && git commit -qam mine", "", 0 };
	all_ops(ctx, "sparse", &s);
}

static void shallow(ps_ctx *ctx)
{
	static const setup s = { BASE " && " UPSTREAM("top.txt") " && git clone -q --depth 1 \"file://$T/remote.git\" local",
		"local", "remote.git", UPSTREAM("a/x"), LOCAL_COMMIT("local"), "", 0 };
	all_ops(ctx, "shallow", &s);
}

static void linked_worktree(ps_ctx *ctx)
{
	static const setup s = { BASE " && " CLONE " && git -C local checkout -q -b parking && "
		"git -C local worktree add -q \"$T/wt\" main",
		"wt", "remote.git", UPSTREAM("top.txt"), LOCAL_COMMIT("wt"), "", 0 };
	all_ops(ctx, "worktree", &s);
}

static void insteadof(ps_ctx *ctx)
{
	static const setup s = { BASE " && " CLONE " && git -C local remote set-url origin forge:remote.git && "
		"git -C local config url.\"$T/\".insteadOf forge:",
		"local", "remote.git", UPSTREAM("top.txt"), LOCAL_COMMIT("local"), "", 0 };
	all_ops(ctx, "insteadof", &s);
}

static void pushinsteadof(ps_ctx *ctx)
{
	/* fetch from a mirror, push to the real remote */
	static const setup s = { BASE " && git clone -q --bare remote.git mirror.git && " CLONE
		" && git -C local remote set-url origin \"$T/mirror.git\" && "
		"git -C local config url.\"$T/remote.git\".pushInsteadOf \"$T/mirror.git\"",
		"local", "remote.git", UPSTREAM("top.txt") " && git -C mirror.git fetch -q \"$T/remote.git\" main:main",
		LOCAL_COMMIT("local"), "", 0 };
	all_ops(ctx, "pushinsteadof", &s);
}

static void pushurl(ps_ctx *ctx)
{
	static const setup s = { BASE " && git clone -q --bare remote.git mirror.git && " CLONE
		" && git -C local remote set-url origin \"$T/mirror.git\" && "
		"git -C local remote set-url --push origin \"$T/remote.git\"",
		"local", "remote.git", UPSTREAM("top.txt") " && git -C mirror.git fetch -q \"$T/remote.git\" main:main",
		LOCAL_COMMIT("local"), "", 0 };
	all_ops(ctx, "pushurl", &s);
}

static void file_url(ps_ctx *ctx)
{
	static const setup s = { BASE " && " CLONE " && git -C local remote set-url origin \"file://$T/remote.git\"",
		"local", "remote.git", UPSTREAM("top.txt"), LOCAL_COMMIT("local"), "", 0 };
	all_ops(ctx, "file-url", &s);
}

static void file_localhost_url(ps_ctx *ctx)
{
	static const setup s = { BASE " && " CLONE " && git -C local remote set-url origin \"file://localhost$T/remote.git\"",
		"local", "remote.git", UPSTREAM("top.txt"), LOCAL_COMMIT("local"), "", 0 };
	all_ops(ctx, "file-localhost", &s);
}

static void relative_url(ps_ctx *ctx)
{
	/* ../remote.git from the worktree; the implementation runs elsewhere */
	static const setup s = { BASE " && " CLONE " && git -C local remote set-url origin ../remote.git",
		"local", "remote.git", UPSTREAM("top.txt"), LOCAL_COMMIT("local"), "", 0 };
	all_ops(ctx, "relative", &s);
}

static void remote_not_origin(ps_ctx *ctx)
{
	static const setup s = { BASE " && git clone -q -o upstream remote.git local",
		"local", "remote.git", UPSTREAM("top.txt"), LOCAL_COMMIT("local"), "", 0 };
	all_ops(ctx, "not-origin", &s);
}

static void branch_with_slashes(ps_ctx *ctx)
{
	static const setup s = { BASE " && git clone -q remote.git seed2 && cd seed2 && git checkout -q -b team/bot/x && "
		"echo b > team.txt && git add team.txt && git commit -qm team && git push -q origin team/bot/x && cd .. && "
		"rm -rf seed2 && git clone -q -b team/bot/x remote.git local",
		"local", "remote.git",
		"git clone -q -b team/bot/x remote.git up && cd up && echo two >> team.txt && git commit -qam two && "
		"git push -q && cd .. && rm -rf up",
		LOCAL_COMMIT("local"), "", 0 };
	all_ops(ctx, "slashes", &s);
}

static void upstream_other_name(ps_ctx *ctx)
{
	/* branch work tracks origin/main: git pulls, and git push (simple) refuses */
	static const setup s = { BASE " && " CLONE " && git -C local checkout -q -b work --track origin/main",
		"local", "remote.git", UPSTREAM("top.txt"), LOCAL_COMMIT("local"), "", 0 };
	all_ops(ctx, "other-name", &s);
}

static void hooks_path(ps_ctx *ctx)
{
	/* the remote's core.hooksPath names a pre-receive hook that refuses */
	static const setup s = { BASE " && " CLONE " && mkdir -p remote-hooks && "
		"printf '#!/bin/sh\\necho refused >&2\\nexit 1\\n' > remote-hooks/pre-receive && chmod +x remote-hooks/pre-receive && "
		"git -C remote.git config core.hooksPath \"$T/remote-hooks\"",
		"local", "remote.git",
		"git -C remote.git config --unset core.hooksPath && " UPSTREAM("top.txt") " && "
		"git -C remote.git config core.hooksPath \"$T/remote-hooks\"",
		LOCAL_COMMIT("local"), "", 0 };
	all_ops(ctx, "hookspath", &s);
}

static void shared_repository(ps_ctx *ctx)
{
	static const setup s = { "umask 077 && git init -q --bare --shared=group remote.git && "
		"git clone -q remote.git seed 2>/dev/null && cd seed && mkdir -p a b && echo one > top.txt && "
		"git add -A && git commit -qm one && git push -q origin main && cd .. && rm -rf seed && " CLONE,
		"local", "remote.git", UPSTREAM("top.txt"), LOCAL_COMMIT("local"), "", 1 };
	all_ops(ctx, "shared", &s);
	/* what a teammate needs: every ref and object the pushes wrote is
	 * group-readable, as git makes them under core.sharedRepository=group */
	{
		const char *argv[] = { "/bin/sh", "-c", NULL, NULL };
		const char *out, *err;
		argv[2] = ps_fmt(ctx, "cd '%s' && find shared-*/a/remote.git/refs shared-*/a/remote.git/objects "
			"shared-*/a/remote.git/logs -type f ! -perm -g+r 2>/dev/null", ctx->root);
		ps_spawn(ctx, NULL, argv, &out, &err);
		if (*out)
			fail_msg("files a group member cannot read in a shared remote:\n%s", out);
	}
}

static void odd_path(ps_ctx *ctx)
{
	static const setup s = { "mkdir -p 'odd dir #1?' && cd 'odd dir #1?' && " BASE " && " CLONE,
		"odd dir #1?/local", "odd dir #1?/remote.git", "cd 'odd dir #1?' && " UPSTREAM("top.txt"),
		LOCAL_COMMIT("'odd dir #1?/local'"), "", 0 };
	all_ops(ctx, "odd-path", &s);
}

static void dangling_remote_head(ps_ctx *ctx)
{
	/* a bare remote that only ever received feature/x: its HEAD names main */
	static const setup s = { "git init -q --bare remote.git && git init -q seed && cd seed && "
		"git checkout -q -b feature/x && echo one > top.txt && git add -A && git commit -qm one && "
		"git push -q ../remote.git feature/x && cd .. && rm -rf seed && "
		"git clone -q -b feature/x remote.git local",
		"local", "remote.git",
		"git clone -q -b feature/x remote.git up && cd up && echo two >> top.txt && git commit -qam two && "
		"git push -q && cd .. && rm -rf up",
		LOCAL_COMMIT("local"), "", 0 };
	all_ops(ctx, "dangling-head", &s);
}

static void remote_head_elsewhere(ps_ctx *ctx)
{
	/* the remote's HEAD names another branch than the one we track */
	static const setup s = { BASE " && git -C remote.git branch other main && "
		"git -C remote.git symbolic-ref HEAD refs/heads/other && git clone -q -b main remote.git local",
		"local", "remote.git", UPSTREAM("top.txt"), LOCAL_COMMIT("local"), "", 0 };
	all_ops(ctx, "head-elsewhere", &s);
}

static void submodule(ps_ctx *ctx)
{
	static const setup s = { "git init -q --bare sub.git && git clone -q sub.git subseed 2>/dev/null && cd subseed && "
		"echo s > s.txt && git add s.txt && git commit -qm s && git push -q origin main && cd .. && " BASE " && "
		"git clone -q remote.git seed && cd seed && git -c protocol.file.allow=always submodule -q add ../sub.git sub && "
		"git commit -qm sub && git push -q && cd .. && rm -rf seed && "
		"git clone -q remote.git local && git -C local -c protocol.file.allow=always submodule -q update --init",
		"local", "remote.git",
		"cd subseed && echo t >> s.txt && git commit -qam t && git push -q && cd .. && "
		"git clone -q remote.git up && cd up && git -c protocol.file.allow=always submodule -q update --init && "
		"git -C sub fetch -q && git -C sub checkout -q origin/main && git add sub && git commit -qm bump && git push -q && cd .. && rm -rf up",
		LOCAL_COMMIT("local"), "", 0 };
	all_ops(ctx, "submodule", &s);
}

static void autocrlf(ps_ctx *ctx)
{
	static const setup s = { BASE " && git clone -q -c core.autocrlf=true remote.git local",
		"local", "remote.git", UPSTREAM("top.txt"), LOCAL_COMMIT("local"), "", 0 };
	all_ops(ctx, "autocrlf", &s);
}

static void symlinked_dir(ps_ctx *ctx)
{
	/* REPO is given through a symlink to the worktree's parent */
	static const setup s = { "mkdir real && cd real && " BASE " && " CLONE " && cd .. && ln -s real link",
		"link/local", "real/remote.git", "cd real && " UPSTREAM("top.txt"), LOCAL_COMMIT("link/local"), "", 0 };
	all_ops(ctx, "symlink", &s);
}

/* ---- single cases ---------------------------------------------------------- */

/* Run fn with the implementation as a command: the shell commands of the
 * cycle (writeback, check) belong to the command line, and in-process the
 * library's writeback is the caller's own C function. */
#define NEED_PATH() do { if (strcmp(ps_transport(), "path") != 0) \
	PS_SKIP("a local-path setup; transport path not declared"); } while (0)

static ps_cycle_result fix_as_command(ps_ctx *ctx, const char *repo, const char *writeback)
{
	const char *impl = getenv("PUSHSEAL_IMPL");
	int was_exec = impl && *impl;
	ps_cycle_result r;
	if (!was_exec)
		setenv("PUSHSEAL_IMPL", PUSHSEAL_CLI_PATH, 1);
	r = drv_fix(ctx, repo, writeback);
	if (!was_exec)
		unsetenv("PUSHSEAL_IMPL");
	return r;
}

/* G-ENV-1: git exports GIT_DIR, GIT_WORK_TREE and GIT_INDEX_FILE to hooks;
 * a tick started from one must still write into REPO, and only there. */
static void git_env_does_not_redirect(ps_ctx *ctx)
{
	const char *local, *other;
	ps_rev other_head;
	ps_cycle_result r;
	NEED_PATH();
	sh_in(ctx, ctx->root, BASE " && " CLONE " && git clone -q remote.git other");
	local = ps_keep(ctx, "local");
	other = ps_keep(ctx, "other");
	other_head = or_rev(ctx, other, "HEAD");
	setenv("GIT_DIR", ps_fmt(ctx, "%s/.git", other), 1);
	setenv("GIT_WORK_TREE", other, 1);
	setenv("GIT_INDEX_FILE", ps_fmt(ctx, "%s/.git/index", other), 1);
	r = fix_as_command(ctx, local, WRITEBACK);
	unsetenv("GIT_DIR");
	unsetenv("GIT_WORK_TREE");
	unsetenv("GIT_INDEX_FILE");
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(r.sealed, 1);
	assert_str(or_file(ctx, "local/bot.txt"), "bot\n");
	assert_str(or_rev(ctx, "remote.git", "main").hex, or_rev(ctx, local, "HEAD").hex);
	assert_str(or_rev(ctx, other, "HEAD").hex, other_head.hex);
	assert_false(or_exists(ctx, "other/bot.txt"));
	assert_str(or_status(ctx, other), "");
}

/* G-ENV-2: started from a bare repository's post-receive hook (GIT_DIR=.,
 * the working directory the bare remote). */
static void bare_hook_env(ps_ctx *ctx)
{
	const char *local;
	ps_cycle_result r;
	char cwd[4096];
	NEED_PATH();
	sh_in(ctx, ctx->root, BASE " && " CLONE);
	local = ps_keep(ctx, "local");
	if (!getcwd(cwd, sizeof(cwd)))
		fail_msg("getcwd");
	setenv("GIT_DIR", ".", 1);
	if (chdir(ps_path(ctx, "remote.git")) != 0)
		fail_msg("chdir");
	r = fix_as_command(ctx, local, WRITEBACK);
	if (chdir(cwd) != 0)
		fail_msg("chdir back");
	unsetenv("GIT_DIR");
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(r.sealed, 1);
	assert_str(or_rev(ctx, "remote.git", "main").hex, or_rev(ctx, local, "HEAD").hex);
}

/* G-SPARSE-2: --commit-message commits what `git add -A` would: the real
 * change, never the absence of the paths outside the cone. */
static void sparse_commit_message(ps_ctx *ctx)
{
	const char *local;
	const char *argv[] = { PUSHSEAL_CLI_PATH, "fix", NULL, "--writeback", "echo more >> a/x",
		"--commit-message", "bot: more", NULL };
	const char *out, *err;
	sh_in(ctx, ctx->root, BASE " && " CLONE " && git -C local sparse-checkout set a");
	local = ps_keep(ctx, "local");
	argv[2] = local;
	assert_int_equal(ps_spawn(ctx, ctx->root, argv, &out, &err), 0);
	{
		const char *show[] = { "git", "-C", local, "show", "--name-status", "--format=%s", "HEAD", NULL };
		assert_int_equal(ps_spawn(ctx, NULL, show, &out, &err), 0);
		assert_str(out, "bot: more\n\nM\ta/x\n");
	}
	assert_str(or_rev(ctx, "remote.git", "main").hex, or_rev(ctx, local, "HEAD").hex);
}

/* G-URL-7: a person's push that lands while ours, through an insteadOf
 * URL to a local remote, holds the ref, is refused visibly or kept; never
 * overwritten.  The reference's test hook opens the window. */
static void insteadof_competing_push(ps_ctx *ctx)
{
	const char *local, *person;
	ps_rev theirs;
	ps_result r;
	sh_in(ctx, ctx->root, BASE " && " CLONE " && git clone -q remote.git person && "
		"git -C local remote set-url origin forge:remote.git && git -C local config url.\"$T/\".insteadOf forge: && "
		"cd person && echo theirs >> top.txt && git commit -qam theirs");
	local = ps_keep(ctx, "local");
	person = ps_keep(ctx, "person");
	theirs = or_rev(ctx, person, "HEAD");
	sh_in(ctx, ctx->root, LOCAL_COMMIT("local"));
	setenv("PUSHSEAL_TEST_HOOK_BEFORE_LOCK", ps_fmt(ctx, "git -C '%s' push -q origin main", person), 1);
	r = drv_push(ctx, local);
	unsetenv("PUSHSEAL_TEST_HOOK_BEFORE_LOCK");
	/* the person's push landed first: ours must be refused, theirs kept */
	assert_false(r.ok);
	assert_str(or_rev(ctx, "remote.git", "main").hex, theirs.hex);
}

/* G-UNSUPPORTED-1: what libgit2 1.5 cannot read fails with a class that
 * says so, and a message that names the feature. */
static void unsupported_features(ps_ctx *ctx)
{
	ps_result r;
	sh_in(ctx, ctx->root, BASE " && " CLONE " && git clone -q remote.git split && "
		"cd split && git config core.splitIndex true && git update-index --split-index && "
		"echo more >> top.txt && git add top.txt && cd .. && git clone -q remote.git wtc && "
		"git -C wtc config core.repositoryformatversion 1 && git -C wtc config extensions.worktreeConfig true");
	r = drv_pull(ctx, ps_path(ctx, "split"));
	expect_fail(r, PUSHSEAL_E_UNSUPPORTED);
	assert_non_null(strstr(r.line, "split index"));
	r = drv_pull(ctx, ps_path(ctx, "wtc"));
	expect_fail(r, PUSHSEAL_E_UNSUPPORTED);
	assert_non_null(strstr(r.line, "worktreeconfig"));
}

static const struct CMUnitTest tests[] = {
	CLAUSE("G-PLAIN-1", "a plain clone: every operation ends exactly as git's does", plain),
	CLAUSE("G-SPARSE-1", "a sparse checkout pushes no deletion outside the cone", sparse),
	CLAUSE("G-SHALLOW-1", "a shallow clone is fast-forwarded and pushed as git does, never called diverged", shallow),
	CLAUSE("G-WORKTREE-1", "a linked worktree: every operation ends exactly as git's does", linked_worktree),
	CLAUSE("G-URL-1", "a remote URL rewritten by url.<base>.insteadOf is used as git uses it", insteadof),
	CLAUSE("G-URL-2", "pushInsteadOf sends the push where git sends it, fetches from the url", pushinsteadof),
	CLAUSE("G-URL-3", "remote.<r>.pushurl sends the push where git sends it", pushurl),
	CLAUSE("G-URL-4", "a file:// URL works as git's does", file_url),
	CLAUSE("G-URL-5", "a file://localhost/ URL works as git's does", file_localhost_url),
	CLAUSE("G-URL-6", "a relative remote URL is taken from the worktree, as git does, wherever we run", relative_url),
	CLAUSE("G-REMOTE-1", "a remote not named origin works as git's does", remote_not_origin),
	CLAUSE("G-BRANCH-1", "a branch whose name holds slashes works as git's does", branch_with_slashes),
	CLAUSE("G-BRANCH-2", "a branch tracking an upstream of another name pulls as git does", upstream_other_name),
	CLAUSE("G-HOOKS-1", "a remote whose core.hooksPath names a refusing pre-receive hook refuses the push", hooks_path),
	CLAUSE("G-SHARED-1", "a remote with core.sharedRepository=group stays readable by the group", shared_repository),
	CLAUSE("G-PATH-1", "paths holding spaces, # and ? work as git's do", odd_path),
	CLAUSE("G-HEAD-1", "a remote whose HEAD dangles (it only ever received feature/x) works as git's does", dangling_remote_head),
	CLAUSE("G-HEAD-2", "a remote whose HEAD names another branch works as git's does", remote_head_elsewhere),
	CLAUSE("G-SUBMODULE-1", "a clone with a submodule pulls and pushes as git does", submodule),
	CLAUSE("G-CRLF-1", "core.autocrlf=true: the worktree's bytes after a pull are git's", autocrlf),
	CLAUSE("G-SYMLINK-1", "a REPO path through a symlinked directory works as git's does", symlinked_dir),
	CLAUSE("G-ENV-1", "GIT_DIR, GIT_WORK_TREE and GIT_INDEX_FILE in the environment never redirect a tick", git_env_does_not_redirect),
	CLAUSE("G-ENV-2", "a tick started from a bare repository's hook (GIT_DIR=.) writes into REPO and seals", bare_hook_env),
	CLAUSE("G-SPARSE-2", "fix --commit-message in a sparse checkout commits the real change only", sparse_commit_message),
	CLAUSE("G-URL-7", "a person's push that lands first is kept, through an insteadOf URL to a local remote", insteadof_competing_push),
	CLAUSE("G-UNSUPPORTED-1", "a split index and extensions.worktreeConfig fail with class unsupported, naming them", unsupported_features),
};

int main(void)
{
	ps_harness_init();
	return PS_RUN("G", tests);
}
