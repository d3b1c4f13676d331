/*
 * Internal helpers shared by the primitives.  Never installed.
 * Ownership follows libgit2: a `**out` is owned by the caller and freed with
 * the matching free function.
 */
#ifndef PUSHSEAL_INTERNAL_H
#define PUSHSEAL_INTERNAL_H

#include "pushseal.h"

#include <git2.h>
#include <stdarg.h>

#include "array.h"

#define PS_ATTR_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* core_error.c ------------------------------------------------------------ */

/* Reset err to success.  err may be NULL. */
void ps_error_clear(pushseal_error *err);
/* Fill err (may be NULL) with klass and a formatted, redacted message.
 * Returns klass so callers can `return ps_error_set(...)`. */
int ps_error_set(pushseal_error *err, int klass, const char *fmt, ...) PS_ATTR_PRINTF(3, 4);
/* As ps_error_set, then append ": <libgit2's last message>" when there is one
 * (git_error_last() may be NULL in 1.5). */
int ps_error_git(pushseal_error *err, int klass, const char *fmt, ...) PS_ATTR_PRINTF(3, 4);
/* Copy src into dst (size n), replacing the user:password part of any
 * "scheme://user:pass@host" with "***". */
void ps_redact(char *dst, size_t n, const char *src);
/* net_server_words.c: what the server said, in a network child (sideband text,
 * ssh's stderr), kept for the message; and the class it implies. */
void ps_server_words_reset(void);
void ps_server_words_add(const char *text, size_t len);
int ps_sideband_cb(const char *str, int len, void *payload);
const char *ps_server_words(void);
/* The class of a network failure from libgit2's code and what was said
 * (libgit2's message and the server's words): a refusal of access is
 * auth, a repository the server will not serve is rejected (both
 * permanent); no connection is unreachable (transient).  docs/SPEC.md,
 * "What the server said". */
int ps_class_of_server(int git_code, const char *said);
/* Fill err for a failed network operation: class from what was said, and
 * the server's own words appended to libgit2's message. */
int ps_error_net(pushseal_error *err, int git_code, const char *fmt, ...) PS_ATTR_PRINTF(3, 4);

/* core_options.c: 0 when an options struct is NULL or of the version this
 * library knows (nested structs included), else INVALID with a message that
 * names the struct. */
int ps_options_check(unsigned int version, unsigned int current, const char *type, pushseal_error *err);
int ps_net_options_check(const pushseal_options *o, pushseal_error *err);
int ps_cycle_options_check(const pushseal_cycle_options *o, pushseal_error *err);
int ps_tick_options_check(const pushseal_tick_options *o, pushseal_error *err);

/* core_oidset.c: an open-addressing set of object ids.  Zero-initialise;
 * owned by whoever holds it, freed with ps_oidset_free. */
typedef struct ps_oidset {
	git_oid *slots;
	unsigned char *used;
	size_t cap, len;
} ps_oidset;
/* 1 if added, 0 if present, -1 on allocation failure. */
int ps_oidset_add(ps_oidset *s, const git_oid *id);
int ps_oidset_has(const ps_oidset *s, const git_oid *id);
void ps_oidset_free(ps_oidset *s);
/* The hash of an id (its first bytes), for other tables keyed by id. */
size_t ps_oid_hash(const git_oid *id);

/* core_buf.c: a growable byte buffer, always NUL-terminated.  Owned by
 * whoever holds it; freed with ps_buf_free. */
typedef struct ps_buf {
	char *ptr;
	size_t len, cap;
} ps_buf;
int ps_buf_put(ps_buf *b, const void *data, size_t len);
int ps_buf_printf(ps_buf *b, const char *fmt, ...) PS_ATTR_PRINTF(2, 3);
void ps_buf_free(ps_buf *b);

/* core_repo.c ------------------------------------------------------------- */

/* Open a non-bare repository at exactly `path` (never a parent directory).
 * Classes: NOTREPO, BARE, OWNER, INVALID. */
int ps_repo_open(git_repository **out, const char *path, pushseal_error *err);
/* Make a snapshot of repo's config its config: from now on no read touches
 * the config files (until ps_repo_refresh).  Take it when what it reads
 * must be current: after the repository's lock is held. */
void ps_repo_pin_config(git_repository *repo);
/* Forget everything the handle has read from the repository's files (config,
 * index, pack list, refs, caches) and take a new config snapshot: after a
 * program of someone else's (the writeback) ran in it.  0, or -1. */
int ps_repo_refresh(git_repository *repo);
/* A fingerprint of what libgit2 reads about a repository only when it opens
 * it: its git directory (which directory, that HEAD is there), core.bare,
 * core.worktree, the format version and extensions.  When a program of
 * the caller's changed it, a refreshed handle is not the repository git
 * would now see there: open it again.  0, or -1 (no git directory). */
int ps_repo_identity(unsigned long long *out, git_repository *repo);
/* Open the repository at exactly dir (a local remote, bare or not), its
 * config pinned (ps_repo_pin_config).  A libgit2 error code. */
int ps_remote_repo_open(git_repository **out, const char *dir);

/* The current branch and its upstream, as configured. */
typedef struct ps_branch {
	char ref[1024];          /* refs/heads/<name> */
	const char *name;        /* points into ref */
	git_oid head;            /* the branch tip */
	char remote[256];        /* branch.<name>.remote */
	char merge[1024];        /* branch.<name>.merge: the ref on the remote */
	char tracking[1024];     /* refs/remotes/<remote>/<b>, via the fetch refspec */
	int has_tracking;        /* the tracking ref exists locally */
	git_oid tracking_oid;
} ps_branch;

/* Resolve HEAD's branch and its upstream.  Classes: DETACHED, UNBORN,
 * NOUPSTREAM (none, ".", or a remote that is not configured). */
int ps_branch_resolve(ps_branch *out, git_repository *repo, pushseal_error *err);
/* Open the repository at repo_path (its config pinned) and resolve its
 * branch, refusing first, when `writable`, as ps_repo_check_writable does.
 * *repo is the caller's (git_repository_free) on success, NULL on failure. */
int ps_branch_open(git_repository **repo, ps_branch *b, const char *repo_path, int writable, pushseal_error *err);
/* The start of every public primitive (pull, push, the counts): clear err,
 * check opts (NULL: defaults), then ps_branch_open.  Same ownership. */
int ps_entry_open(git_repository **repo, ps_branch *b, const char *repo_path, const pushseal_options *opts,
	int writable, pushseal_error *err);
/* Re-read the tracking ref into b (after a fetch). */
int ps_branch_reload_tracking(ps_branch *b, git_repository *repo, pushseal_error *err);

/* net_remote_url.c: the URL git would use for `remote` (fetch, or push with
 * for_push), with insteadOf/pushInsteadOf and pushurl applied, a relative
 * path taken from the worktree's top and file:// turned into a path.  When
 * it names this machine's filesystem, local_dir (may be NULL) gets the
 * absolute path, else "".  Returns 0, or -1 when the remote has no URL. */
int ps_remote_resolve_url(char *url, size_t n, char *local_dir, size_t ln, git_repository *repo, const char *remote,
	int for_push);

/* Refuse while .git/index.lock exists (LOCKED) or an operation such as a
 * merge or rebase is in progress (INPROGRESS). */
int ps_repo_check_writable(git_repository *repo, pushseal_error *err);

/* net_deadline.c ---------------------------------------------------------- */

/* Work run in a child process; what it appends to `out` reaches the parent. */
typedef int (*ps_child_fn)(ps_buf *out, void *payload, pushseal_error *err);

/* Run fn in a fork()ed child and wait at most deadline_ms.  The child must
 * take no lock: it only talks to a server and downloads (see net_deadline.c).
 * It leads its own process group, dies with its parent, enforces the
 * deadline itself too, and inherits no descriptor but 0-2 and its pipe.
 * It starts libgit2 afresh (its own TLS random state) when tls is set (a
 * URL that may speak TLS: ps_url_may_tls) or the parent's libgit2 holds
 * pack files open.  On timeout the group is killed.  *out (may be NULL; owned by the caller) receives fn's output.
 * Returns fn's result, or PUSHSEAL_E_TIMEOUT / PUSHSEAL_E_INTERNAL. */
int ps_deadline_run(ps_buf *out, ps_child_fn fn, void *payload, int deadline_ms, int tls, const char *what,
	pushseal_error *err);
/* Does this process hold pack files open (a descriptor on objects/pack/)? */
int ps_holds_pack_files(void);
/* Before forking a network child: a handle kept open across steps holds
 * the pack files it read objects from, and a child that inherits them must
 * start libgit2 afresh (and open the repository again).  So the handle
 * drops its object database (git_repository__cleanup, its pinned config
 * kept) when this process holds packs: the child then starts cheaply. */
void ps_repo_drop_packs(git_repository *repo);
/* In the child: did it start libgit2 afresh?  Then a git_repository * it
 * inherited from the parent is unusable (its packs point at descriptors
 * the child closed, and libgit2's global state was rebuilt under it): the
 * child opens its own from the path.  Otherwise the parent's handle is
 * clean to use: it holds no pack descriptor, and nothing else of it is a
 * descriptor (config, refs and index are read into memory). */
int ps_deadline_child_fresh(void);
/* Might a connection to url speak TLS (https, or http, which may redirect)? */
int ps_url_may_tls(const char *url);

/* The effective deadline: PUSHSEAL_DEADLINE_S wins, then opts, then dflt. */
int ps_deadline_ms(int requested_ms, int default_ms);
/* Parse PUSHSEAL_DEADLINE_S's seconds ("2", "0.5") into milliseconds, 1 ms
 * to a day (src/util/seconds.h: the bounds the CLI holds it to as well).
 * Returns 0 on success, -1 on anything else. */
int ps_parse_seconds(int *out_ms, const char *text);
/* A monotonic clock, in milliseconds. */
long long ps_now_ms(void);

/* net_fetch.c ------------------------------------------------------------- */

/* Fetch `remote` (with prune) of repo, found at repo_path, under a
 * deadline: the transfer in a child, the ref updates here under provable
 * locks.  Classes: UNREACHABLE, AUTH, TIMEOUT, NOUPSTREAM, LOCKED. */
int ps_fetch(git_repository *repo, const char *repo_path, const char *remote, int deadline_ms,
	pushseal_error *err);

/* Remote callbacks that never prompt: credentials fail fast with AUTH. */
void ps_remote_callbacks_init(git_remote_callbacks *cbs);

/* ancestry_walk.c: *out = 1 when `ancestor` is a strict ancestor of `commit`, also in a shallow clone, whose missing parents end history as in
 * git.  Returns 0, or a libgit2 error. */
int ps_descendant_of(int *out, git_repository *repo, const git_oid *commit, const git_oid *ancestor);
/* ancestry_walk.c: breadth-first from `start` over parents, each commit
 * once, as git walks a shallow clone: a commit missing here (beyond the
 * boundary) ends its line.  visit(id, commit, payload) sees every commit,
 * with commit NULL when it is missing, and says PS_WALK_PARENTS (go on to
 * its parents), PS_WALK_SKIP (not through this one), PS_WALK_STOP (end the
 * walk: 0) or a negative error (returned).  max > 0 bounds the commits seen.
 * Returns 0, or -1 when out of memory, or visit's error. */
#define PS_WALK_PARENTS 0
#define PS_WALK_SKIP 1
#define PS_WALK_STOP 2
typedef int (*ps_walk_fn)(const git_oid *id, const git_commit *commit, void *payload);
int ps_shallow_walk(git_repository *repo, const git_oid *start, size_t max, ps_walk_fn visit, void *payload);

/* safety_sparse.c: a worktree's sparse checkout (cone mode's patterns). */
typedef struct ps_sparse {
	int active, cone;
	char **recursive;     /* directories included with everything below */
	size_t nrecursive;
	char **parents;       /* directories whose own files only are included */
	size_t nparents;
} ps_sparse;
/* Read core.sparseCheckout(Cone) and info/sparse-checkout.  Returns 0. */
int ps_sparse_load(ps_sparse *s, git_repository *repo);
/* Is path inside the cone (always, when not sparse or not cone mode)? */
int ps_sparse_includes(const ps_sparse *s, const char *path);
void ps_sparse_free(ps_sparse *s);

/* safety_shared_perm.c: core.sharedRepository.  ps_shared_perm gives git's value
 * (0: umask only, 0660 group, 0664 all, -MODE exact); ps_adjust_shared_perm
 * widens a file or directory pushseal wrote, as git does. */
int ps_shared_perm(git_repository *repo);
void ps_adjust_shared_perm(int perm, const char *path);

/* count_walk.c ------------------------------------------------------------ */

/* Exactly `git rev-list --count exclude..include`. */
int ps_count_between(size_t *out, git_repository *repo, const git_oid *include,
	const git_oid *exclude, pushseal_error *err);

/* safety_journal.c: the crash journal and provable lock files ------------- */

typedef struct ps_journal {
	char path[4300];
	char dir[4200];              /* where it lives (a commondir), ends in '/' */
	unsigned long long started;  /* our start time, with the pid our identity */
	unsigned int id, seq;
	int active;
} ps_journal;

/* Start a journal in dir (ends in '/': the repository's commondir) before
 * taking any lock.  move_line ("<ref> <from-hex> <to-hex> <workdir>", may be
 * NULL) marks a worktree move that recovery may have to undo. */
int ps_journal_begin(ps_journal *j, const char *dir, const char *move_line);
/* A private temporary path in the journal's dir, recorded first so that a
 * later run removes it if we die.  Returns 0 or -1. */
int ps_journal_tmp(ps_journal *j, char *dst, size_t n);
/* Record a private path (a directory) made outside the journal's dir. */
int ps_journal_note_tmp(ps_journal *j, const char *path);
/* Done: every lock is released; forget the journal. */
void ps_journal_end(ps_journal *j);
/* Clean up after provably dead runs journaled in dir: their provable
 * locks, their temporaries, their half checkouts. */
void ps_journal_recover(const char *dir);

/* A git lock file (path ends in .lock) taken so that ownership is provable:
 * its inode is journaled before the lock exists, and it is never written. */
typedef struct ps_lockfile {
	char path[4400];
	unsigned long long ino;
	long long mtime_sec;
	long mtime_nsec;
	int held;
} ps_lockfile;
/* Class LOCKED when the lock exists already (never removed here). */
int ps_lockfile_take(ps_lockfile *l, ps_journal *j, const char *path, pushseal_error *err);
/* Replace `target` with data (via a private file and rename), then drop the lock. */
int ps_lockfile_commit(ps_lockfile *l, ps_journal *j, const char *target, const void *data, size_t len,
	pushseal_error *err);
/* Remove the lock if it is still the one we took. */
void ps_lockfile_release(ps_lockfile *l);

/* safety_ref_update.c: refs written under provable locks ------------------ */

typedef struct ps_ref_lock {
	ps_lockfile lock;
	git_repository *repo;
	ps_journal *journal;
	char name[1024];
	char loose[4300];    /* the loose ref file */
	git_oid old;         /* the value under the lock */
	int has_old;
} ps_ref_lock;
/* Lock refname (in the commondir) and read its value under the lock. */
int ps_ref_lock_take(ps_ref_lock *rl, git_repository *repo, ps_journal *j, const char *refname,
	pushseal_error *err);
/* Write `to`, append the reflog (and HEAD's, with log_head), release. */
int ps_ref_lock_commit(ps_ref_lock *rl, const git_oid *to, const char *msg, int log_head, pushseal_error *err);
void ps_ref_lock_release(ps_ref_lock *rl);
/* Set refname to `to` unless it moved from what the caller saw: `expected`
 * (NULL: any value) or, with must_not_exist, no value.  A ref that moved
 * meanwhile is left alone (returns 0). */
int ps_ref_set(git_repository *repo, ps_journal *j, const char *refname, const git_oid *expected,
	int must_not_exist, const git_oid *to, const char *msg, pushseal_error *err);
/* Delete refname (loose, packed, reflog) if it still is `expected` (NULL: any). */
int ps_ref_delete(git_repository *repo, ps_journal *j, const char *refname, const git_oid *expected,
	pushseal_error *err);
/* mkdir -p */
void ps_mkdir_p(const char *dir);

/* safety_branch_move.c / pull_ff.c ---------------------------------------- */

/* Move branch b (checked out) and its worktree to `to`: lock the ref, check
 * out SAFE (refusing to drop any local, staged, untracked or ignored file),
 * then set the ref with reflog_msg.  Classes: WOULD_OVERWRITE, LOCKED. */
int ps_branch_move(git_repository *repo, const ps_branch *b, const git_oid *to,
	const char *reflog_msg, pushseal_error *err);
/* pull_ff's second half, after a fetch: fast-forward to the tracking ref
 * (the branch read again first: the fetch took time). */
int ps_pull_fetched(pushseal_change *out, git_repository *repo, pushseal_error *err);

/* count_ahead.c: the counts on an open repository and its resolved branch.
 * ps_count_remote fetches b's remote first and reloads b's tracking ref;
 * results and classes as pushseal_count_remote_ahead / _local_ahead. */
int ps_count_local(size_t *out, git_repository *repo, const ps_branch *b, pushseal_error *err);
int ps_count_remote(size_t *out, git_repository *repo, const char *repo_path, ps_branch *b,
	const pushseal_options *opts, pushseal_error *err);

/* push_ff.c: pushseal_push_ff on an open repository and its resolved
 * branch b (whose tracking ref it moves on success, as git does).
 * repo_path is for a network child that must open the repository again. */
int ps_push(pushseal_change *out, git_repository *repo, const char *repo_path, ps_branch *b,
	const pushseal_options *opts, pushseal_error *err);

/* net_push_local.c -------------------------------------------------------- */

/* A push into a remote on a local path, without libgit2's local transport
 * (which overwrites the remote ref unchecked), in two halves:
 *  - in the deadline child: check, and copy the objects the remote lacks;
 *    says "up-to-date" or "based <old-hex|->" in out (no lock taken);
 *  - in the parent: lock the remote ref (provably), require it still to be
 *    the based-on value, then move it.  Returns PS_PUSH_AGAIN when the ref
 *    moved since the copy but the push is still a fast-forward.
 * Classes: DIVERGED, REJECTED (locked, checked out), UNREACHABLE. */
#define PS_PUSH_AGAIN 1
/* push_ff.c: every reason known before any transfer that the push of branch b
 * would be refused (push.default=simple's name rule, a local remote's
 * blocking hook), so that a cycle can refuse to write first. */
int ps_push_check(git_repository *repo, const ps_branch *b, pushseal_error *err);
int ps_push_local_objects(ps_buf *out, git_repository *local, git_repository *remote, const char *repo_path,
	const char *branch_ref, const char *remote_dir, const char *dst, const char *pack_dir, pushseal_error *err);
/* In the parent, before the child: a private directory for the child's
 * pack inside the remote's objects/pack, journaled (j stays open until
 * ps_journal_end) so that a later run removes it if we die. */
int ps_push_local_pack_dir(char *dir, size_t n, ps_journal *j, git_repository *remote, pushseal_error *err);
/* After the child: move its pack (.pack, then .idx) into objects/pack when
 * publish, remove whatever else it left, and the directory. */
void ps_push_local_pack_publish(git_repository *remote, const char *dir, int publish);
int ps_push_local_update(int *moved, git_repository *local, const git_oid *head, git_repository *remote,
	const char *remote_dir, const char *dst, const char *based, pushseal_error *err);
/* core_test_hook.c: test-only injection point: runs
 * $PUSHSEAL_TEST_HOOK_<point> if set, with PUSHSEAL_TEST_HOOK_ARG=arg in its
 * environment. */
void ps_test_hook(const char *point);
void ps_test_hook_arg(const char *point, const char *arg);

/* cycle_rebase.c ---------------------------------------------------------- */

/* Replay the local-only commits onto the tracking ref when all are the
 * writer's (author email; NULL: user.email), none is a merge, and each
 * applies cleanly; then move the branch (ps_branch_move).  Class DIVERGED
 * when it refuses, with the reason. */
int ps_rebase_writer(git_repository *repo, const char *writer_email, pushseal_error *err);

/* safety_repo_lock.c ------------------------------------------------------ */

/* Take the per-repo lock (flock on <gitdir>pushseal.lock), waiting at most
 * wait_ms.  Class LOCKED when another run holds it. */
int ps_lock_acquire(int *fd_out, const char *gitdir, int wait_ms, pushseal_error *err);
void ps_lock_release(int fd);

/* cycle_commit.c ---------------------------------------------------------- */

/* Stage everything (add -A, ignores respected) and commit it on HEAD with
 * `message`, unless the tree would not change.  *committed says which.
 * Runs after the writeback: repo must have been ps_repo_refresh()ed, so
 * that the index it stages into is the one on disk. */
int ps_commit_leftovers(int *committed, git_repository *repo, const char *message, pushseal_error *err);

/* core_repo.c: reflog identity -------------------------------------------- */

/* The current identity for reflog entries, falling back to "pushseal". */
int ps_signature(git_signature **out, git_repository *repo);

/* net_https_credentials.c (https credentials; owned with net_fetch.c) ----- */

/* Start a fresh record of the credentials tried: once per network operation
 * (ps_remote_callbacks_init calls it). */
void ps_credentials_reset(void);
/* git_credential_acquire_cb for http(s): PUSHSEAL_HTTPS_TOKEN(_FILE), opt-in
 * `git credential fill`; each at most once, then GIT_EAUTH.  Never prompts.
 * ssh never asks: OpenSSH authenticates by itself (net_ssh_transport.c). */
int ps_credentials_cb(git_credential **out, const char *url, const char *user_from_url,
	unsigned int allowed, void *payload);
/* net_credential_helper.c: `git credential fill` for url, never prompting,
 * bounded to 10 s; fills user and pass.  0, or -1 (no password). */
int ps_credential_fill(char *user, size_t un, char *pass, size_t pn, const char *url, const char *user_from_url);

/* net_https_credentials.c: make `url` remote's URL for this operation (its
 * push URL when push), after ps_remote_callbacks_init.  An http(s) URL's
 * user without a password is taken out of what libgit2 sees and offered
 * by the credentials callback instead, as git sends it.  0 or libgit2's
 * error. */
int ps_remote_set_url(git_remote *remote, const char *url, int push);

/* net_ssh_transport.c: ssh through the system's OpenSSH ------------------- */

/* Serve ssh://, ssh+git://, git+ssh:// and scp-style URLs with OpenSSH (or
 * GIT_SSH_COMMAND, core.sshCommand, GIT_SSH), as git does, and TCP through
 * net_socket.c.  Call after every git_libgit2_init(): pushseal_init and
 * each network child.  0 or -1. */
int ps_transports_register(void);
void ps_transports_unregister(void);

/* net_socket.c: the plain TCP stream under git:// and http(s), libgit2's
 * own with TCP_NODELAY.  Registered and unregistered with the transports. */
int ps_socket_register(void);
void ps_socket_unregister(void);

#endif
