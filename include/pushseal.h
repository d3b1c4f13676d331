/*
 * pushseal: keep an automated writer's git repository sealed to its remote.
 *
 * Every function here is best-effort: it never aborts the process, never
 * prompts for credentials, never waits past its deadline and never forces
 * anything.  Failures come back as a negative PUSHSEAL_E_* class, and the
 * human reason in a caller-supplied pushseal_error.
 *
 * Ownership: every `const char *` argument is borrowed for the duration of
 * the call only.  No function returns memory that the caller must free;
 * results are written into caller-owned out-parameters.  No libgit2 type
 * appears in this header.
 *
 * Threads: call pushseal_init() once before any other function.  Network
 * operations run in a short-lived child process (see deadline.c), so a
 * program that uses several threads must not hold locks that a fork()ed
 * child would need.
 */
#ifndef PUSHSEAL_H
#define PUSHSEAL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PUSHSEAL_VERSION "0.1.0"
/** The protocol version spoken by the `pushseal` command (docs/PROTOCOL.md). */
#define PUSHSEAL_PROTOCOL_VERSION 1

/** Error classes.  0 is success; every failure is one of these. */
typedef enum pushseal_class {
	PUSHSEAL_OK = 0,
	PUSHSEAL_E_NOTREPO = -1,         /* path missing, not a directory, not a repository */
	PUSHSEAL_E_BARE = -2,            /* a bare repository has no worktree to sync */
	PUSHSEAL_E_UNBORN = -3,          /* empty repository or unborn branch */
	PUSHSEAL_E_DETACHED = -4,        /* HEAD is not on a branch */
	PUSHSEAL_E_NOUPSTREAM = -5,      /* no upstream, a local (".") upstream, or the upstream branch is gone */
	PUSHSEAL_E_DIVERGED = -6,        /* local and upstream each have commits the other lacks, or a push is not a fast-forward */
	PUSHSEAL_E_REJECTED = -7,        /* the remote refused the update (hook, locked ref, ...) */
	PUSHSEAL_E_UNREACHABLE = -8,     /* the remote could not be contacted or read */
	PUSHSEAL_E_WOULD_OVERWRITE = -9, /* a local change, untracked or ignored file is in the way */
	PUSHSEAL_E_LOCKED = -10,         /* a lock file (index.lock, ref .lock) is held */
	PUSHSEAL_E_TIMEOUT = -11,        /* a network deadline passed */
	PUSHSEAL_E_AUTH = -12,           /* the remote wants credentials we do not have */
	PUSHSEAL_E_OWNER = -13,          /* the repository belongs to another user (safe.directory) */
	PUSHSEAL_E_INPROGRESS = -14,     /* a merge, rebase, cherry-pick, revert or bisect is in progress */
	PUSHSEAL_E_INVALID = -15,        /* bad argument */
	PUSHSEAL_E_INTERNAL = -16        /* anything else (out of memory, I/O error, libgit2 bug) */
} pushseal_class;

/** Why a call failed.  Caller-owned; pass NULL when the reason is not wanted. */
typedef struct pushseal_error {
	int klass;          /* a pushseal_class; PUSHSEAL_OK after success */
	char message[256];  /* one line of human text, credentials redacted */
} pushseal_error;

/** Network deadlines.  Versioned so that new fields never break callers. */
typedef struct pushseal_options {
	unsigned int version;
	int fetch_deadline_ms; /* fetch for counting; <= 0 means the default, 15000 */
	int pull_deadline_ms;  /* fetch for a pull; <= 0 means the default, 30000 */
	int push_deadline_ms;  /* <= 0 means the default, 30000 */
} pushseal_options;

#define PUSHSEAL_OPTIONS_VERSION 1
#define PUSHSEAL_OPTIONS_INIT { PUSHSEAL_OPTIONS_VERSION, 0, 0, 0 }

/** What a pull or push did when it succeeded. */
typedef enum pushseal_change {
	PUSHSEAL_UP_TO_DATE = 0, /* nothing to do */
	PUSHSEAL_MOVED = 1       /* the branch (pull) or the remote branch (push) moved */
} pushseal_change;

/**
 * Initialise the library (and libgit2).  Call once, before anything else.
 * Honours the environment variable PUSHSEAL_DEADLINE_S (docs/PROTOCOL.md).
 * @return 0, or PUSHSEAL_E_INTERNAL.
 */
int pushseal_init(void);

/** Release what pushseal_init() acquired.  Safe to call once per init. */
void pushseal_shutdown(void);

/**
 * The stable lower-case name of an error class ("diverged", "timeout", ...),
 * as used in the CLI and its JSON.  Returns a static string; never NULL.
 */
const char *pushseal_class_name(int klass);

/**
 * Fast-forward the current branch, its index and its worktree to its
 * upstream, like `git pull --ff-only`.  Fetches the upstream's remote (with
 * prune) first.
 *
 * Stricter than git: refuses to overwrite ignored files too, and refuses to
 * start while .git/index.lock exists.
 *
 * @param out        [out, optional] PUSHSEAL_MOVED or PUSHSEAL_UP_TO_DATE
 * @param repo_path  worktree (or .git directory) of a non-bare repository
 * @param opts       [optional] deadlines; NULL for the defaults
 * @param err        [out, optional] why it failed
 * @return 0 when pulled or already up to date (also when local is ahead),
 *         or a negative PUSHSEAL_E_* class.  On failure the branch, index and
 *         worktree are exactly as they were; only remote-tracking refs may
 *         have been updated by the fetch, as with git.
 */
int pushseal_pull_ff(pushseal_change *out, const char *repo_path,
	const pushseal_options *opts, pushseal_error *err);

/**
 * Push the current branch to its upstream branch, like `git push` with
 * push.default=simple.  Never forced: a non-fast-forward is
 * PUSHSEAL_E_DIVERGED, any refusal by the remote is PUSHSEAL_E_REJECTED.
 * On success the remote-tracking ref is updated, as git does.
 *
 * @param out        [out, optional] PUSHSEAL_MOVED or PUSHSEAL_UP_TO_DATE
 * @param repo_path  worktree (or .git directory) of a non-bare repository
 * @param opts       [optional] deadlines; NULL for the defaults
 * @param err        [out, optional] why it failed
 * @return 0 when pushed or already up to date, or a negative class.
 */
int pushseal_push_ff(pushseal_change *out, const char *repo_path,
	const pushseal_options *opts, pushseal_error *err);

/**
 * Fetch the remote of the current branch's upstream, then count the commits
 * in the upstream that are not in HEAD (`git rev-list --count HEAD..@{u}`).
 *
 * @param out   [out] the count; 0 whenever nothing could be counted
 * @return 0 when counted after a successful fetch.  When the fetch fails
 *         (PUSHSEAL_E_UNREACHABLE, _TIMEOUT, _AUTH) *out is still counted
 *         against the last-fetched tracking ref, best-effort, and that
 *         class is returned so the caller knows the count may be stale.
 *         Any other negative class leaves *out = 0.
 */
int pushseal_count_remote_ahead(size_t *out, const char *repo_path,
	const pushseal_options *opts, pushseal_error *err);

/**
 * Count the commits in HEAD that are not in its upstream's tracking ref
 * (`git rev-list --count @{u}..HEAD`).  No network.
 *
 * @param out   [out] the count; 0 on any error
 * @return 0, or a negative class (then *out = 0).
 */
int pushseal_count_local_ahead(size_t *out, const char *repo_path,
	pushseal_error *err);

#ifdef __cplusplus
}
#endif

#endif
