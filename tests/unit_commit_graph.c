/*
 * White-box tests of the commit-graph reader (src/commit_graph.c, compiled in
 * here): every commit git lists is found, with git's parents in git's order
 * and the topological level computed from those parents, in a single file
 * and in a three-layer split chain, octopus merges included; damaged or
 * mismatched files are refused, never trusted.  The repositories are made by
 * the git CLI, which also writes the graphs.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "commit_graph.h"

typedef struct sandbox {
	char root[256];
	int passed;
} sandbox;

static void sh(sandbox *s, const char *fmt, ...)
{
	char cmd[4096];
	int n;
	va_list ap;
	va_start(ap, fmt);
	n = snprintf(cmd, sizeof(cmd), "cd '%s' && ", s->root);
	vsnprintf(cmd + n, sizeof(cmd) - (size_t)n, fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

static int setup(void **state)
{
	sandbox *s = calloc(1, sizeof(*s));
	const char *tmp = getenv("TMPDIR");
	snprintf(s->root, sizeof(s->root), "%s/pushseal-cg-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(s->root))
		return -1;
	/* a pinned environment: no user or system config, fixed identity and dates */
	setenv("HOME", s->root, 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("LANG", "C", 1);
	setenv("TZ", "UTC", 1);
	setenv("GIT_AUTHOR_NAME", "T", 1);
	setenv("GIT_AUTHOR_EMAIL", "t@pushseal.invalid", 1);
	setenv("GIT_COMMITTER_NAME", "T", 1);
	setenv("GIT_COMMITTER_EMAIL", "t@pushseal.invalid", 1);
	setenv("GIT_AUTHOR_DATE", "1700000000 +0000", 1);
	setenv("GIT_COMMITTER_DATE", "1700000000 +0000", 1);
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	sandbox *s = *state;
	char cmd[512];
	if (s->passed) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->root);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", s->root);
	} else {
		fprintf(stderr, "sandbox kept for inspection: %s\n", s->root);
	}
	free(s);
	return 0;
}

/*
 * A history with a bit of everything: a linear run, branches merged back,
 * an octopus merge of four parents, a second root, and `batch` in the
 * commit messages so that each call adds new commits.
 */
static void grow(sandbox *s, int batch)
{
	sh(s, "test -d r/.git || git init -q -b main r");
	sh(s, "cd r && for i in 1 2 3 4 5 6 7 8; do git commit -q --allow-empty -m \"b%d lin $i\"; done", batch);
	sh(s, "cd r && base=$(git rev-parse HEAD) && for k in 1 2 3; do "
	      "git checkout -q -b b%d-side$k $base && git commit -q --allow-empty -m \"b%d side $k\" && "
	      "git commit -q --allow-empty -m \"b%d side $k again\"; done && git checkout -q main && "
	      "git merge -q --no-ff -m \"b%d merge\" b%d-side1 && "
	      "t=$(git rev-parse HEAD^{tree}) && "
	      "o=$(git commit-tree $t -p HEAD -p b%d-side2 -p b%d-side3 -p \"$base\" -m \"b%d octopus\") && "
	      "git update-ref refs/heads/main $o && "
	      "r2=$(git commit-tree $t -m \"b%d root\") && git update-ref refs/heads/b%d-root $r2 && "
	      "git commit -q --allow-empty -m \"b%d after\"",
		batch, batch, batch, batch, batch, batch, batch, batch, batch, batch, batch);
}

/* Check every commit git lists against the reader; returns how many. */
static long check_all(sandbox *s, const ps_commit_graph *g)
{
	char cmd[512], line[8192];
	/* topological order, parents first: each level follows from its parents' */
	struct lvl { git_oid id; uint32_t level; } *seen = calloc(4096, sizeof(*seen));
	long n = 0, merges = 0, octopus = 0, roots = 0;
	FILE *f;
	assert_non_null(seen);
	snprintf(cmd, sizeof(cmd), "git -C '%s/r' rev-list --all --parents --topo-order --reverse", s->root);
	assert_non_null(f = popen(cmd, "r"));
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *tok = strtok_r(line, " \n", &save);
		git_oid id, pid;
		uint32_t pos, parent, level = 1;
		int i = 0;
		assert_int_equal(git_oid_fromstr(&id, tok), 0);
		if (!ps_commit_graph_find(g, &id, &pos))
			fail_msg("commit %s is not in the graph", tok);
		{
			git_oid back;
			ps_commit_graph_oid(&back, g, pos);
			assert_true(git_oid_equal(&back, &id));
		}
		while ((tok = strtok_r(NULL, " \n", &save)) != NULL) {
			assert_int_equal(git_oid_fromstr(&pid, tok), 0);
			if (ps_commit_graph_parent(g, pos, (uint32_t)i, &parent) != 1)
				fail_msg("commit %s: parent %d missing", git_oid_tostr_s(&id), i);
			git_oid got;
			ps_commit_graph_oid(&got, g, parent);
			if (!git_oid_equal(&got, &pid))
				fail_msg("commit %s: parent %d is %s, git says %s", git_oid_tostr_s(&id), i,
					git_oid_tostr_s(&got), tok);
			for (long k = 0; k < n; k++)
				if (git_oid_equal(&seen[k].id, &pid) && seen[k].level + 1 > level)
					level = seen[k].level + 1;
			i++;
		}
		assert_int_equal(ps_commit_graph_parent(g, pos, (uint32_t)i, &parent), 0);
		merges += i >= 2;
		octopus += i >= 3;
		roots += i == 0;
		assert_int_equal(ps_commit_graph_generation(g, pos), level);
		assert_true(n < 4096);
		seen[n].id = id;
		seen[n].level = level;
		n++;
	}
	assert_int_equal(pclose(f), 0);
	free(seen);
	print_message("%ld commits checked in %u layer(s): %ld merges, %ld octopus, %ld roots\n", n,
		ps_commit_graph_layers(g), merges, octopus, roots);
	assert_true(octopus > 0 && roots > 1);
	/* and one that is not a commit of this history */
	{
		git_oid none;
		uint32_t pos;
		memset(&none, 0xab, sizeof(none));
		assert_int_equal(ps_commit_graph_find(g, &none, &pos), 0);
	}
	return n;
}

static ps_commit_graph *open_ok(sandbox *s, uint32_t layers)
{
	char dir[512], why[512];
	ps_commit_graph *g = NULL;
	snprintf(dir, sizeof(dir), "%s/r/.git/objects", s->root);
	if (ps_commit_graph_open(&g, dir, why, sizeof(why)) != 1)
		fail_msg("graph not opened: %s", why);
	assert_int_equal(ps_commit_graph_layers(g), layers);
	return g;
}

static void open_refused(sandbox *s, const char *expect_why)
{
	char dir[512], why[512];
	ps_commit_graph *g = NULL;
	snprintf(dir, sizeof(dir), "%s/r/.git/objects/", s->root);
	assert_int_equal(ps_commit_graph_open(&g, dir, why, sizeof(why)), 0);
	assert_null(g);
	if (expect_why && !strstr(why, expect_why))
		fail_msg("refused for '%s', expected '%s'", why, expect_why);
}

static void single_file(void **state)
{
	sandbox *s = *state;
	grow(s, 1);
	grow(s, 2);
	open_refused(s, NULL); /* no graph yet: nothing to open, no reason */
	sh(s, "git -C r commit-graph write --reachable");
	ps_commit_graph *g = open_ok(s, 1);
	long n = check_all(s, g);
	assert_true(n > 30);
	assert_int_equal(ps_commit_graph_size(g), (uint32_t)n);
	ps_commit_graph_free(g);
	s->passed = 1;
}

static void split_chain(void **state)
{
	sandbox *s = *state;
	for (int b = 1; b <= 3; b++) {
		grow(s, b);
		sh(s, "git -C r commit-graph write --reachable --split=no-merge");
	}
	sh(s, "test ! -e r/.git/objects/info/commit-graph && test $(wc -l < r/.git/objects/info/commit-graphs/commit-graph-chain) = 3");
	ps_commit_graph *g = open_ok(s, 3);
	long n = check_all(s, g);
	assert_int_equal(ps_commit_graph_size(g), (uint32_t)n);
	ps_commit_graph_free(g);

	grow(s, 4);
	sh(s, "git -C r commit-graph write --reachable --split=no-merge");
	g = open_ok(s, 4);
	assert_int_equal(check_all(s, g), (long)ps_commit_graph_size(g));
	ps_commit_graph_free(g);

	/* a chain whose layers are out of order, or name a missing file, is refused */
	sh(s, "cd r/.git/objects/info/commit-graphs && chmod u+w commit-graph-chain && cp commit-graph-chain chain.good && "
	      "{ sed -n 2p chain.good; sed -n 1p chain.good; sed -n '3,$p' chain.good; } > commit-graph-chain");
	open_refused(s, "base layers");
	sh(s, "cd r/.git/objects/info/commit-graphs && { cat chain.good; echo 0123456789012345678901234567890123456789; } > commit-graph-chain");
	open_refused(s, "graph-0123456789012345678901234567890123456789.graph");
	sh(s, "cd r/.git/objects/info/commit-graphs && { echo nothex; } > commit-graph-chain");
	open_refused(s, "not a SHA-1");
	sh(s, "cd r/.git/objects/info/commit-graphs && cp chain.good commit-graph-chain");
	g = open_ok(s, 4);
	ps_commit_graph_free(g);

	/* a single file wins over the chain, as in git */
	sh(s, "git -C r commit-graph write --reachable && test -e r/.git/objects/info/commit-graph");
	g = open_ok(s, 1);
	assert_int_equal(check_all(s, g), (long)ps_commit_graph_size(g));
	ps_commit_graph_free(g);
	s->passed = 1;
}

static void damaged_files_are_refused(void **state)
{
	sandbox *s = *state;
	const char *f = "r/.git/objects/info/commit-graph";
	grow(s, 1);
	sh(s, "git -C r commit-graph write --reachable && chmod u+w %s && cp %s good", f, f);
	ps_commit_graph_free(open_ok(s, 1));
	/* truncated to its header */
	sh(s, "head -c 50 good > %s", f);
	open_refused(s, "truncated");
	/* bad signature */
	sh(s, "{ printf XGPH; tail -c +5 good; } > %s", f);
	open_refused(s, "bad signature");
	/* another hash (SHA-256) */
	sh(s, "{ head -c 5 good; printf '\\002'; tail -c +7 good; } > %s", f);
	open_refused(s, "SHA-1");
	/* cut short: the chunks run past the end */
	sh(s, "head -c $(( $(wc -c < good) - 200 )) good > %s", f);
	open_refused(s, "out of bounds");
	/* an empty file */
	sh(s, ": > %s", f);
	open_refused(s, "too small");
	/* a first parent pointing past the commits: found when read */
	sh(s, "cp good %s", f);
	{
		ps_commit_graph *g = open_ok(s, 1);
		uint32_t n = ps_commit_graph_size(g), p;
		ps_commit_graph_free(g);
		/* CDAT follows OIDF and OIDL in git's files: overwrite parent 1 of
		 * the first commit with n (one past the last position) */
		sh(s, "python3 - %s <<'EOF'\n"
		      "import struct, sys\n"
		      "p = sys.argv[1]; b = bytearray(open(p, 'rb').read())\n"
		      "c = b[6]\n"
		      "for i in range(c):\n"
		      "    cid, off = struct.unpack('>4sQ', b[8 + 12 * i: 20 + 12 * i])\n"
		      "    if cid == b'CDAT': b[off + 20: off + 24] = struct.pack('>I', %u)\n"
		      "open(p, 'wb').write(b)\n"
		      "EOF", f, n);
		g = open_ok(s, 1);
		assert_int_equal(ps_commit_graph_parent(g, 0, 0, &p), -1);
		ps_commit_graph_free(g);
	}
	s->passed = 1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(single_file, setup, teardown),
		cmocka_unit_test_setup_teardown(split_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(damaged_files_are_refused, setup, teardown),
	};
	git_libgit2_init();
	int rc = cmocka_run_group_tests_name("commit_graph", tests, NULL, NULL);
	git_libgit2_shutdown();
	return rc;
}
