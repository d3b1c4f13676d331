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

#define PS_ATTR_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* error.c ---------------------------------------------------------------- */

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
/* Map a libgit2 network error code to a class: auth, timeout or unreachable. */
int ps_class_of_net_error(int git_code);

/* repo.c ----------------------------------------------------------------- */

/* Open a non-bare repository at exactly `path` (never a parent directory).
 * Classes: NOTREPO, BARE, OWNER, INVALID. */
int ps_repo_open(git_repository **out, const char *path, pushseal_error *err);

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
/* Re-read the tracking ref into b (after a fetch). */
int ps_branch_reload_tracking(ps_branch *b, git_repository *repo, pushseal_error *err);

/* A remote's push URL (pushurl, else url) from plain config, without
 * git_remote_lookup (which leaks in libgit2 1.5.1).  Returns 0 or -1. */
int ps_config_remote_url(char *dst, size_t n, git_repository *repo, const char *remote, int for_push);

/* Refuse while .git/index.lock exists (LOCKED) or an operation such as a
 * merge or rebase is in progress (INPROGRESS). */
int ps_repo_check_writable(git_repository *repo, pushseal_error *err);

/* deadline.c ------------------------------------------------------------- */

/* Work run in a child process.  It may write up to the `out_size` bytes at
 * `out`, which are copied back to the parent. */
typedef int (*ps_child_fn)(void *out, void *payload, pushseal_error *err);

/* Run fn in a fork()ed child and wait at most deadline_ms.  On timeout the
 * child is killed and any *.lock file that appeared under the directories in
 * `watch` (NULL-terminated, may be NULL) is removed.
 * Returns fn's result, or PUSHSEAL_E_TIMEOUT / PUSHSEAL_E_INTERNAL. */
int ps_deadline_run(void *out, size_t out_size, ps_child_fn fn, void *payload,
	int deadline_ms, const char *what, const char *const *watch, pushseal_error *err);

/* In a deadline child about to speak TLS or ssh: re-initialise libgit2 so
 * no random state is shared with the parent or other children.  Call before
 * opening any repository in the child.  A no-op outside a child. */
void ps_child_fresh_libgit2(void);
/* Does a remote URL need that (anything but a local path, file:// or git://)? */
int ps_url_needs_fresh(const char *url);

/* The effective deadline: PUSHSEAL_DEADLINE_S wins, then opts, then dflt. */
int ps_deadline_ms(int requested_ms, int default_ms);
/* Parse a positive number of seconds ("2", "0.5") into milliseconds.
 * Returns 0 on success, -1 on anything else. */
int ps_parse_seconds(int *out_ms, const char *text);

/* fetch.c ---------------------------------------------------------------- */

/* Fetch `remote` of the repository at repo_path with prune, under a deadline.
 * gitdir is its .git directory, watched for stale locks after a timeout.
 * Classes: UNREACHABLE, AUTH, TIMEOUT, NOUPSTREAM (remote not configured). */
int ps_fetch(const char *repo_path, const char *gitdir, const char *remote,
	int deadline_ms, pushseal_error *err);

/* Remote callbacks that never prompt: credentials fail fast with AUTH. */
void ps_remote_callbacks_init(git_remote_callbacks *cbs);

/* count.c ---------------------------------------------------------------- */

/* Exactly `git rev-list --count exclude..include`. */
int ps_count_between(size_t *out, git_repository *repo, const git_oid *include,
	const git_oid *exclude, pushseal_error *err);

/* journal.c -------------------------------------------------------------- */

typedef struct ps_journal {
	char path[4200];
	char gitdir[4096];
	int active;
	int index_noted;
} ps_journal;

/* Start a crash journal in gitdir (which ends in '/'), before taking locks;
 * move_line ("<ref> <from-hex> <to-hex>", may be NULL) marks a worktree move. */
int ps_journal_begin(ps_journal *j, const char *gitdir, const char *move_line);
/* Record a lock file (relative to gitdir) just taken, by inode and mtime. */
void ps_journal_lock(ps_journal *j, const char *lock_rel);
/* Record a path (file or directory, relative to gitdir) where libgit2 may
 * take cache locks internally; a dead run's locks there made after its
 * journal began are removed.  Only for caches: FETCH_HEAD, tracking refs. */
void ps_journal_maybe(ps_journal *j, const char *rel);
/* Begin a journal for work that updates only caches of `remote`:
 * FETCH_HEAD and refs/remotes/<remote>/ (a fetch, a push's tracking ref). */
int ps_journal_begin_caches(ps_journal *j, const char *gitdir, const char *remote);
/* Done: the locks are released; forget them. */
void ps_journal_end(ps_journal *j);
/* Clean up after dead runs: their recorded locks, their half checkouts. */
void ps_journal_recover(const char *gitdir, git_repository *repo);

/* move.c / pull.c -------------------------------------------------------- */

/* Move branch b (checked out) and its worktree to `to`: lock the ref, check
 * out SAFE (refusing to drop any local, staged, untracked or ignored file),
 * then set the ref with reflog_msg.  Classes: WOULD_OVERWRITE, LOCKED. */
int ps_branch_move(git_repository *repo, const ps_branch *b, const git_oid *to,
	const char *reflog_msg, pushseal_error *err);
/* pull_ff's second half, after a fetch: fast-forward to the tracking ref. */
int ps_pull_fetched(pushseal_change *out, const char *repo_path, pushseal_error *err);

/* push_local.c ----------------------------------------------------------- */

/* Push branch_ref to dst of the repository at remote_dir (a local path):
 * lock, read the old value, fast-forward check, copy objects, update.
 * Classes: DIVERGED, REJECTED (locked, checked out), UNREACHABLE. */
int ps_push_local(int *moved, const char *repo_path, const char *branch_ref, const char *remote_dir,
	const char *dst, pushseal_error *err);
/* Test-only injection point: runs $PUSHSEAL_TEST_HOOK_<point> if set. */
void ps_test_hook(const char *point);

/* rebase.c --------------------------------------------------------------- */

/* Replay the local-only commits onto the tracking ref when all are the
 * writer's (author email; NULL: user.email), none is a merge, and each
 * applies cleanly; then move the branch (ps_branch_move).  Class DIVERGED
 * when it refuses, with the reason. */
int ps_rebase_writer(const char *repo_path, const char *writer_email, pushseal_error *err);

/* lock.c ----------------------------------------------------------------- */

/* Take the per-repo lock (flock on <gitdir>pushseal.lock), waiting at most
 * wait_ms.  Class LOCKED when another run holds it. */
int ps_lock_acquire(int *fd_out, const char *gitdir, int wait_ms, pushseal_error *err);
void ps_lock_release(int fd);

/* commit.c --------------------------------------------------------------- */

/* Stage everything (add -A, ignores respected) and commit it on HEAD with
 * `message`, unless the tree would not change.  *committed says which. */
int ps_commit_leftovers(int *committed, const char *repo_path, const char *message, pushseal_error *err);

/* cycle.c ---------------------------------------------------------------- */

/* The cycle without taking the lock (the caller holds it).  With
 * c16_done, the C-16 step already ran and filled r->behind. */
int ps_cycle_locked(pushseal_report *r, const char *repo_path,
	const pushseal_cycle_options *o, int c16_done);
/* The C-16 step alone: fetch, count, pull when behind.  Fills r; returns
 * 0, or the class that made it skip (r->skipped = C16). */
int ps_cycle_c16(pushseal_report *r, const char *repo_path, const pushseal_cycle_options *o, int dry_run);
/* Fill r->backlog and r->oldest_unpushed from the repository as it is now. */
void ps_measure_backlog(pushseal_report *r, const char *repo_path);
/* Open the repo just long enough to find its .git directory. */
int ps_repo_gitdir(char *dst, size_t n, const char *repo_path, pushseal_error *err);

/* The current identity for reflog entries, falling back to "pushseal". */
int ps_signature(git_signature **out, git_repository *repo);

/* credentials.c (transport credentials; owned with fetch.c) ------------- */

/* Start a fresh record of the credentials tried: once per network operation
 * (ps_remote_callbacks_init calls it). */
void ps_credentials_reset(void);
/* git_credential_acquire_cb: ssh agent, PUSHSEAL_SSH_KEY, PUSHSEAL_HTTPS_TOKEN(_FILE),
 * opt-in `git credential fill`; each at most once, then GIT_EAUTH.  Never prompts. */
int ps_credentials_cb(git_credential **out, const char *url, const char *user_from_url,
	unsigned int allowed, void *payload);
/* git_transport_certificate_check_cb: an ssh host key must be in known_hosts
 * (PUSHSEAL_SSH_KNOWN_HOSTS, default ~/.ssh/known_hosts); TLS is left to libgit2. */
int ps_certificate_check_cb(git_cert *cert, int valid, const char *host, void *payload);
/* git_remote_ready_cb: notes the remote's port for the known_hosts lookup. */
int ps_remote_ready_cb(git_remote *remote, int direction, void *payload);

#endif
