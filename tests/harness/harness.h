/*
 * The test harness: one sandbox per test, fixtures built over libgit2, an
 * independent oracle (the git CLI and plain file reads), and a driver that
 * runs the implementation under test either in-process or as a protocol v1
 * command (PUSHSEAL_IMPL).
 *
 * Every helper asserts on failure with libgit2's or git's own message, like
 * clar's cl_git_pass, so a fixture problem never looks like a product bug.
 *
 * How long a helper's result lives, by kind:
 * - By value (ps_rev from or_rev and fx_commit*, ps_result, ps_cycle_result)
 *   or written into the caller's struct or buffer (or_clone_state,
 *   or_worktree_listing, ps_json_field): the caller's, no limit.
 * - ps_keep paths: the whole test, for the last 16 kept.
 * - Everything else that returns `const char *` (ps_fmt, ps_path, or_file,
 *   or_status, or_git_lock, the URL and file helpers, and the *out / *errout
 *   of or_git, ps_spawn and drv_exec) is a ring string: one of 8 slots per
 *   test, overwritten by the 8th slot taken after it.  ps_fmt and ps_path
 *   take 1 slot, or_file 2, ps_spawn 2, or_git and drv_exec 3 or more (they
 *   format their arguments too).  Use a ring string in the statement that
 *   made it, or before the next harness call; to keep it longer, copy it
 *   into your own buffer (or, for a sandbox path, use ps_keep).
 * Pointers into the sandbox's libgit2 objects never leave a helper.
 */
#ifndef PS_HARNESS_H
#define PS_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <cmocka.h>

#include <git2.h>

/* ---- the test context ---------------------------------------------------- */

/* A commit id as hex, returned by value: it lives as long as the variable
 * that holds it ("" when there is none).  Use `.hex` in place, e.g.
 * assert_str(or_rev(ctx, "local", "HEAD").hex, tip.hex), or keep the whole
 * struct (ps_rev tip = or_rev(...)); never keep a pointer to the `.hex` of a
 * temporary, which ends with its statement.  65 bytes: SHA-256's 64 digits. */
typedef struct ps_rev {
	char hex[65];
} ps_rev;

typedef struct ps_ctx ps_ctx;
typedef void (*ps_body_fn)(ps_ctx *ctx);

/* What a CLAUSE test carries into setup through cmocka's initial_state. */
/* Where a test's clause meets a server (docs/PROTOCOL.md, "Transports"). */
enum ps_reach {
	PS_LOCAL = 0,   /* no server involved: runs once, over the base transport */
	PS_SERVER = 1,  /* concerns a server: runs over the base transport (path)
	                   and again over every declared network transport */
	PS_NET = 2,     /* needs a network server: runs over every declared network
	                   transport (standalone over a path run: git://) */
};

typedef struct ps_body {
	ps_body_fn fn;
	const char *clause;     /* the test's clause ID(s), e.g. "P-PULL-15" */
	int reach;              /* enum ps_reach */
} ps_body;

struct ps_ctx {
	char root[1024];        /* the sandbox; removed after a pass, kept after a failure */
	char home[1100];        /* HOME inside the sandbox, with a pinned .gitconfig */
	unsigned int tick;      /* commit dates advance by one tick per commit */
	int passed;             /* set only when the body returned normally */
	ps_body_fn body;
	const char *clause;     /* the test's clause ID(s) */
	char ring[8][65536];    /* scratch strings handed out by helpers (outputs too) */
	int ring_next;
	char kept[16][1024];    /* paths that must outlive the ring (ps_keep) */
	int kept_next;
	pid_t server_pid;       /* a server started by the test, killed in teardown */
	int reach;              /* enum ps_reach of the test */
	char saved_transport[16]; /* PUSHSEAL_TRANSPORT before a PS_NET test moved it */
	char transcript[6144];  /* the protocol calls made (exec), printed on failure */
	size_t transcript_len;
	int calls;
};

/*
 * CLAUSE("P-PULL-6", "an uncommitted edit ... kept byte for byte", fn)
 * declares one cmocka test whose name is the clause ID plus what it proves.
 */
#define CLAUSE(id, text, fn) \
	{ id " " text, ps_run_body, ps_setup, ps_teardown, (void *)&(ps_body){ fn, id, PS_LOCAL } }
/* A clause that concerns a server: also run over every network transport. */
#define SERVER_CLAUSE(id, text, fn) \
	{ id " " text, ps_run_body, ps_setup, ps_teardown, (void *)&(ps_body){ fn, id, PS_SERVER } }
/* A clause that needs a network server (a hanging one, a refused port). */
#define NET_CLAUSE(id, text, fn) \
	{ id " " text, ps_run_body, ps_setup, ps_teardown, (void *)&(ps_body){ fn, id, PS_NET } }

/* Skip the running test, with the true reason on the output: the kit's
 * runner reports it ("skip reason: ..."). */
#define PS_SKIP(...) do { ps_skip_reason(__VA_ARGS__); ctx->passed = 1; skip(); } while (0)
void ps_skip_reason(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int ps_setup(void **state);
int ps_teardown(void **state);
void ps_run_body(void **state);

/* Mark a directory under TMPDIR as this suite's, so that the suite's
 * watchdog removes it if the suite is killed before its own cleanup. */
void ps_mark_dir(const char *dir);

/* Pin the process environment (LANG, TZ, GIT_CONFIG_NOSYSTEM, ...) and init
 * libgit2.  Call first in main().  Starts the suite's watchdog: when the
 * suite dies without cleaning up, it kills every process the suite started
 * (they carry PUSHSEAL_SUITE_MARK) and removes the directories it marked. */
void ps_harness_init(void);
/* Run a group with cmocka; returns the number of failures. */
int ps_run_group(const char *name, const struct CMUnitTest *tests, size_t n);
#define PS_RUN(name, tests) ps_run_group(name, tests, sizeof(tests) / sizeof(tests[0]))

/* A scratch string: printf into the next ring buffer. */
const char *ps_fmt(ps_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The absolute path of `rel` inside the sandbox. */
const char *ps_path(ps_ctx *ctx, const char *rel);
/* As ps_path, but stable for the whole test (16 slots), e.g. for REPO lists. */
const char *ps_keep(ps_ctx *ctx, const char *rel);

/* ---- fixtures (libgit2, never pushseal's code) ---------------------------- */

/* Like clar's cl_git_pass: a failing libgit2 call fails the test with
 * libgit2's own message. */
#define GIT_PASS(expr) ps_git_pass((expr), #expr, __FILE__, __LINE__)
void ps_git_pass(int rc, const char *what, const char *file, int line);
/* Open the repository at sandbox path `rel` exactly (no upward search). */
git_repository *fx_open(ps_ctx *ctx, const char *rel);

/* A bare repository `name` with `ncommits` commits on main (0: empty).
 * Commit i appends "commit i" to log.txt. */
const char *fx_bare(ps_ctx *ctx, const char *name, int ncommits);
/* Clone bare `remote` (a sandbox-relative name) into `name`; returns its path. */
const char *fx_clone(ps_ctx *ctx, const char *remote, const char *name);
/* The transport under test: "path", "file", "git", "http" or "ssh"
 * (PUSHSEAL_TRANSPORT). */
const char *ps_transport(void);
/* 1 when ps_transport() is a network transport (git, http, ssh). */
int ps_transport_is_network(void);
/* A URL of that transport's scheme to 127.0.0.1:port (for servers a test
 * runs itself: a hanging one, a refused port).  Path transports: git://. */
const char *ps_net_url(ps_ctx *ctx, int port, const char *path);
/* The URL a clone uses for the bare repo `remote_rel` over that transport
 * (starting the suite's git daemon on first use). */
const char *ps_remote_url(ps_ctx *ctx, const char *remote_rel);

/* Server transports (transport.c): set the environment a transport needs
 * (credentials, known_hosts) for pushseal and the git CLI oracle; fill
 * callbacks for the harness's own libgit2 fetches; URLs, secrets and logs of
 * the http and ssh test servers. */
void ps_transport_env(ps_ctx *ctx, const char *transport);
void ps_transport_callbacks(git_remote_callbacks *cbs);
const char *ps_http_url(ps_ctx *ctx, const char *remote_rel, const char *area, const char *userinfo);
const char *ps_http_password(void);
const char *ps_http_access_log(ps_ctx *ctx);
/* Lines of lighttpd's `log`, "access" or "error", holding this sandbox's
 * name and `match` (a status as "\" 401 ", a user as " pushseal [", a
 * refused login as "password doesn't match"), counted once the log, which
 * lighttpd writes in batches, has at least `min` of them and has stopped
 * growing for 1.2 s; at most 5 s. */
int ps_http_log_lines(ps_ctx *ctx, const char *log, const char *match, int min);
/* A loopback listener (ctx->server_pid) that records the first bytes of `n`
 * connections into <sandbox>/hello-<i>, i = 1..n, then closes them; its
 * port.  Bounded: 30 s. */
int ps_hello_listener(ps_ctx *ctx, int n);
/* The 28 random bytes (after the 4-byte time), in hex, of the TLS
 * ClientHello recorded in <sandbox>/hello-<i>; fails when it is none.
 * Ring string. */
const char *ps_client_random(ps_ctx *ctx, int i);
const char *ps_ssh_url(ps_ctx *ctx, const char *remote_rel, const char *user);
const char *ps_ssh_file(ps_ctx *ctx, const char *name);
/* The port of the test sshd (jump = 0) or of the jump host (jump = 1), the
 * jump host's log, the user both accept, and a known_hosts line for one. */
int ps_ssh_port(int jump);
const char *ps_ssh_jump_log(ps_ctx *ctx);
const char *ps_ssh_user(void);
const char *ps_ssh_known_host(ps_ctx *ctx, int jump);
/* OpenSSH's ~ (the passwd entry's home, never $HOME) becomes the sandbox's
 * HOME for the processes the test starts, through nss_wrapper; ~/.ssh is
 * made (empty).  ps_setup undoes it for the next test. */
void ps_ssh_home(ps_ctx *ctx);
void ps_ssh_home_reset(void);

/* The common topology: bare "remote.git" with n commits and clone "local". */
void fx_pair(ps_ctx *ctx, int ncommits);
/* A remote whose HEAD is not the upstream (made with `git init --bare`, its
 * upstream feature/x): other_branch 0 leaves HEAD dangling (main never
 * pushed), 1 makes main another line.  "local" tracks feature/x. */
const char *fx_other_head_pair(ps_ctx *ctx, int other_branch);
/* What "changes nothing" means for a clone (oracle_state.c): read with git
 * and a directory walk into the caller's struct. */
typedef struct ps_clone_state {
	char head[65];        /* HEAD's commit */
	char symref[256];     /* HEAD's branch, "" when detached */
	char branch[65];      /* refs/heads/main */
	char status[4096];    /* git status --porcelain --untracked-files=all */
	char index[4096];     /* git ls-files -s: the staged blobs */
	char worktree[8192];  /* every path, mode and byte hash */
	int reflog;           /* lines in logs/refs/heads/main */
	int head_reflog;      /* lines in logs/HEAD */
} ps_clone_state;
void or_clone_state(ps_ctx *ctx, const char *repo, ps_clone_state *out);
/* Fails the test, naming the first difference, unless repo is as `before`. */
void or_assert_clone_unchanged(ps_ctx *ctx, const char *repo, const ps_clone_state *before);
/* The sorted listing of a worktree (relative to the sandbox) into dst,
 * newline-joined: "dir/" for directories (with_dirs), "path mode hash" for
 * files (with_hash) or "path"; the top-level .git is left out. */
void or_worktree_listing(ps_ctx *ctx, const char *repo, int with_hash, int with_dirs, char *dst, size_t n);
/* `git fsck` is clean in dir (relative to the sandbox). */
void or_fsck_clean(ps_ctx *ctx, const char *dir);

/* Commit `content` as `file` on HEAD of the non-bare repo `repo` (worktree,
 * index and branch).  Returns the new commit (by value). */
ps_rev fx_commit(ps_ctx *ctx, const char *repo, const char *file, const char *content);
/* Commit `content` as `file` on `branch` of the bare repo `bare`; returns
 * the new commit (by value). */
ps_rev fx_commit_bare(ps_ctx *ctx, const char *bare, const char *branch,
	const char *file, const char *content);
/* What a real hub's remote does between two ticks: besides the upstream,
 * other refs move in the same fetch.  With git: a new branch "feature"
 * (one commit past main), an annotated tag "v1" and a lightweight tag "v1-lw"
 * on main, in `bare`.  main itself does not move. */
void fx_remote_moves_others(ps_ctx *ctx, const char *bare);
/* Delete `file` in a new commit on branch of the bare repo; returns it. */
ps_rev fx_delete_bare(ps_ctx *ctx, const char *bare, const char *branch, const char *file);
/* a local commits in `repo` (files local-<k>.txt), b remote commits in `bare`
 * (files remote-<k>.txt). */
void fx_ahead(ps_ctx *ctx, const char *repo, int a);
void fx_behind(ps_ctx *ctx, const char *bare, int b);

/* Write (or overwrite) a file relative to the sandbox. */
void fx_write(ps_ctx *ctx, const char *rel, const char *content);
/* Set a config value in a repository. */
void fx_config(ps_ctx *ctx, const char *repo, const char *key, const char *value);
void fx_config_delete(ps_ctx *ctx, const char *repo, const char *key);
/* Detach HEAD at its current commit. */
void fx_detach(ps_ctx *ctx, const char *repo);
/* Remove the current branch's upstream configuration. */
void fx_unset_upstream(ps_ctx *ctx, const char *repo);
/* Rename remote `from` to `to` (refs and branch config follow). */
void fx_rename_remote(ps_ctx *ctx, const char *repo, const char *from, const char *to);
/* Delete a remote from the configuration. */
void fx_remove_remote(ps_ctx *ctx, const char *repo, const char *name);
/* Point a remote at a new URL. */
void fx_set_url(ps_ctx *ctx, const char *repo, const char *remote, const char *url);
/* Delete refs/heads/<branch> in the bare repo. */
void fx_delete_branch(ps_ctx *ctx, const char *bare, const char *branch);
/* Create refs/heads/<branch>.lock in the bare repo: a held ref lock, even for root. */
void fx_lock_ref(ps_ctx *ctx, const char *repo_gitdir, const char *branch);
/* Remove a path recursively (a remote that vanished). */
void fx_rmrf(ps_ctx *ctx, const char *rel);

/* A TCP port on 127.0.0.1 that was free a moment ago (-1 if none). */
int ps_free_port(void);
/* 1 when something accepts connections on 127.0.0.1:port. */
int ps_port_accepting(int port);

/* /proc/PID/stat's state letter, parent and process group (each may be
 * NULL).  0, or -1 when there is no such process. */
int ps_proc_stat(pid_t pid, char *state, pid_t *ppid, pid_t *pgrp);
/* Call fn for every process in /proc with its state letter, parent and
 * group, until fn returns non-zero; returns that value (0: it never did). */
int ps_proc_each(int (*fn)(pid_t pid, char state, pid_t ppid, pid_t pgrp, void *arg), void *arg);
/* The first child of `parent` found in /proc, or 0. */
pid_t ps_child_of(pid_t parent);
/* Is any process of process group pgid still running (zombies, which have
 * ended, do not count)?  Read from /proc. */
int ps_group_alive(pid_t pgid);

/* fixture_git.c.  Paths are sandbox-relative; every libgit2 object they open
 * is freed before they return; a failure fails the test (GIT_PASS). */
/* `git fetch <remote_name>` in repo with libgit2 (over the transport's
 * callbacks): the tracking refs learn the remote's tips. */
void fx_fetch(ps_ctx *ctx, const char *repo, const char *remote_name);
/* `git add <file>` in the non-bare repo. */
void fx_stage(ps_ctx *ctx, const char *repo, const char *file);
/* `git rm --cached <file>`; keep_file 0 also deletes it from the worktree. */
void fx_unstage_delete(ps_ctx *ctx, const char *repo, const char *file, int keep_file);
/* `git branch <name> <rev>`: HEAD, index and worktree untouched. */
void fx_branch_at(ps_ctx *ctx, const char *repo, const char *name, const char *rev);
/* n commits on main of the bare repo, commit k setting many.txt to
 * "upstream commit k\n", written as one pack (fast for hundreds). */
void fx_behind_packed(ps_ctx *ctx, const char *bare, int n);
/* fx_pair with any names: bare `remote` with n commits and its clone `local`. */
void fx_pair_named(ps_ctx *ctx, const char *remote, const char *local, int n);
/* A commit on top of `parent` (same tree) stored in refs/heads/<branch> with
 * git commit-tree and update-ref: HEAD, index and worktree untouched.
 * Returns it by value. */
ps_rev fx_commit_on_branch(ps_ctx *ctx, const char *repo, const char *branch,
	const char *parent, const char *msg);

/* Run argv (NULL-terminated) in dir (NULL: here), stdin from /dev/null, at
 * most 120 s.  stdout and stderr land in ring buffers (untrimmed).  Returns
 * the exit code, or 128+signal. */
int ps_spawn(ps_ctx *ctx, const char *dir, const char *const *argv, const char **out, const char **errout);
/* A monotonic clock in milliseconds, for bounds on hangs (never speed). */
long long ps_mono_ms(void);

/* ---- the oracle: the git CLI and file reads -------------------------------- */

/* Run git with args (NULL-terminated) in `dir`; returns its exit code and
 * puts its stdout, trimmed of the final newline, in a ring buffer (*out). */
int or_git(ps_ctx *ctx, const char **out, const char *dir, ...) __attribute__((sentinel));
/* The commit `rev` resolves to in `dir` (by value; .hex is "" when it does
 * not resolve), e.g. assert_str(or_rev(ctx, "local", "HEAD").hex, tip.hex). */
ps_rev or_rev(ps_ctx *ctx, const char *dir, const char *rev);
/* 1 when `commit` is an ancestor of (or equal to) `rev` in dir
 * (`git merge-base --is-ancestor`). */
int or_is_ancestor(ps_ctx *ctx, const char *dir, const char *commit, const char *rev);
/* `git rev-list --count RANGE`. */
long or_count(ps_ctx *ctx, const char *dir, const char *range);
/* A file's bytes (relative to the sandbox), or NULL when it does not exist. */
const char *or_file(ps_ctx *ctx, const char *rel);
int or_exists(ps_ctx *ctx, const char *rel);
/* Lines in a reflog file, e.g. or_reflog(ctx, "local/.git", "refs/heads/main"); 0 if absent. */
int or_reflog(ps_ctx *ctx, const char *gitdir, const char *ref);
/* `git status --porcelain` (empty when clean). */
const char *or_status(ps_ctx *ctx, const char *dir);
/* The first of git's own lock files under a git dir (index.lock, HEAD.lock,
 * refs/.../X.lock, packed-refs.lock, config.lock, shallow.lock, ...), or NULL.
 * An implementation's own *.lock (e.g. .git/myimpl.lock) is not git's. */
const char *or_git_lock(ps_ctx *ctx, const char *gitdir);
/* 1 when `rel` (relative to a git dir) names one of git's own lock files. */
int or_is_git_lock(const char *rel);
/* Every ref of a repository and its target, one "refname id" per line
 * (`git for-each-ref`; a ring string). */
const char *or_all_refs(ps_ctx *ctx, const char *dir);
/* 1 when the object `what` names exists in dir (`git cat-file -e`). */
int or_has_object(ps_ctx *ctx, const char *dir, const char *what);
/* A file's inode and mtime as text ("absent" when missing; a ring string):
 * a ref rewritten through a lock file, even to the same value, changes it. */
const char *or_file_stamp(ps_ctx *ctx, const char *rel);
/* The number of objects in a repository (`git count-objects -v`, loose + packed). */
long or_objects(ps_ctx *ctx, const char *dir);

/* ---- the driver: the implementation under test ------------------------------ */

typedef struct ps_result {
	int ok;              /* the operation succeeded (exit 0 for exec) */
	int klass;           /* a pushseal_class, when known */
	int class_known;     /* 1 in-process (the reference reports classes) */
	int moved;           /* in-process only: 1 when something moved */
	long count;          /* for counts */
	char line[1024];     /* the implementation's output line or message */
} ps_result;

/* 1 when running a protocol v1 command (PUSHSEAL_IMPL), 0 in-process. */
int drv_is_exec(void);
/* Extended clauses (docs/SPEC.md level "ext") are gated by the harness, not
 * by the test: before the body runs, ps_run_body looks up each ID of the
 * test's name in docs/SPEC.md's table (built in from clauses.inc) and fails
 * the test when one is not there.  An ext clause always runs in-process and
 * against the reference's own command (ps_use_reference_cli); against any
 * other exec implementation it runs only when PUSHSEAL_EXT opts in: "all",
 * "reference", or a comma-separated list of family names (docs/SPEC.md,
 * "Extended families"), clause IDs or ID prefixes ("X-DIVERGE").  Skipped
 * otherwise, with the reason on the output. */
int ps_ext_enabled(const char *clause);
/* "core" or "ext" for the clause ID id[0..n), NULL when docs/SPEC.md has none. */
const char *ps_clause_level(const char *id, size_t n);
/* Drive `cli`, the reference's own command, as PUSHSEAL_IMPL: every ext
 * clause runs (for suites that test the CLI when no implementation is given). */
void ps_use_reference_cli(const char *cli);
ps_result drv_pull(ps_ctx *ctx, const char *repo);
ps_result drv_push(ps_ctx *ctx, const char *repo);
ps_result drv_remote_ahead(ps_ctx *ctx, const char *repo);
ps_result drv_local_ahead(ps_ctx *ctx, const char *repo);

/* Run the protocol command with argv (NULL-terminated) through the exec
 * driver's IMPL; stdout and stderr in ring buffers.  Returns the exit code. */
int drv_exec(ps_ctx *ctx, const char **out, const char **errout, ...) __attribute__((sentinel));
/* Record one protocol call (args after IMPL) in the test's transcript. */
void drv_transcript(ps_ctx *ctx, const char *const *args, int rc, long long ms,
	const char *out, const char *err);

/* The sealed cycle and the tick.  writeback and check are shell commands run
 * as `sh -c CMD` in the repository (NULL: none), in both drivers. */
typedef struct ps_cycle_result {
	int exit_code;       /* protocol exit code (in-process: derived the same way) */
	char skipped[16];    /* "" for null, else "c16", "c17", "clean", "locked" */
	int wrote;
	int sealed;
	char json[2048];     /* exec: the JSON line; in-process: a summary */
} ps_cycle_result;

ps_cycle_result drv_fix(ps_ctx *ctx, const char *repo, const char *writeback);
/* The raw value of "key" in a one-line JSON object (strings unquoted, not
 * unescaped); fails the test when the key is missing. */
void ps_json_field(char *dst, size_t n, const char *json, const char *key);
/* One tick over n repos; results[i] for repos[i]; returns the exit code. */
int drv_run(ps_ctx *ctx, int remote, const char *check, const char *writeback,
	const char *const *repos, size_t n, ps_cycle_result *results);

/* The class of a repository that does not exist (deleted, never made):
 * over a local path nothing answers (unreachable); over git, http or ssh a
 * server answers that it has no such repository (rejected: a person must
 * act; docs/SPEC.md, "What the server said"). */
int ps_missing_repo_class(void);

/* Assert success / failure; a known class must equal `klass`. */
#define expect_ok(r) ps_expect_ok(&(r), __FILE__, __LINE__)
#define expect_fail(r, klass) ps_expect_fail(&(r), (klass), __FILE__, __LINE__)
void ps_expect_ok(const ps_result *r, const char *file, int line);
void ps_expect_fail(const ps_result *r, int klass, const char *file, int line);

/* Assert two strings are equal, with both printed on failure. */
#define assert_str(a, b) assert_string_equal((a), (b))

#endif
