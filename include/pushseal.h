/*
 * pushseal: keep an automated writer's git repository sealed to its remote.
 *
 * Every function here is best-effort: it never aborts the process, never
 * prompts for credentials, never waits past its deadline and never forces
 * anything.  Failures come back as a negative PUSHSEAL_E_* class, and the
 * human reason in a caller-supplied pushseal_error.
 *
 * Ownership: every `const char *` argument is borrowed for the duration of
 * the call only.  Options structs are the caller's (on its stack, usually):
 * the library reads them during the call and keeps no pointer into them;
 * their strings and payloads are borrowed the same way.  No function returns memory that the caller must free;
 * results are written into caller-owned out-parameters.  No libgit2 type
 * appears in this header.
 *
 * Threads: call pushseal_init() once before any other function.  Network
 * operations run in a short-lived child process (see net_deadline.c), so a
 * program that uses several threads must not hold locks that a fork()ed
 * child would need.
 */
#ifndef PUSHSEAL_H
#define PUSHSEAL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Only the functions declared here are exported from the shared library. */
#if defined(__GNUC__) && defined(PUSHSEAL_BUILDING)
#define PUSHSEAL_EXTERN __attribute__((visibility("default")))
#else
#define PUSHSEAL_EXTERN
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
	PUSHSEAL_E_INTERNAL = -16,       /* anything else (out of memory, I/O error, libgit2 bug) */
	PUSHSEAL_E_WRITEBACK = -17,      /* the caller's writeback or check failed */
	PUSHSEAL_E_UNSUPPORTED = -18     /* a git feature libgit2 1.5 cannot handle (split index, worktreeConfig) */
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

/*
 * Versioned options.  Each options struct starts with `version`; initialise
 * it with its _INIT macro or its _init() function, then set the fields you
 * want.  Every function that takes one checks the version on entry (nested
 * structs too): a struct of another version, or a zeroed one (version 0,
 * never initialised), makes the call fail with PUSHSEAL_E_INVALID and a
 * message naming the struct, before anything else is done.  NULL options
 * always mean the defaults.
 */
#define PUSHSEAL_OPTIONS_VERSION 1
#define PUSHSEAL_OPTIONS_INIT { PUSHSEAL_OPTIONS_VERSION, 0, 0, 0 }

/** Fill *opts with the defaults of `version` (PUSHSEAL_OPTIONS_VERSION),
 *  like PUSHSEAL_OPTIONS_INIT.  @return 0, or PUSHSEAL_E_INVALID for a NULL
 *  opts or a version this library does not know (opts untouched). */
PUSHSEAL_EXTERN int pushseal_options_init(pushseal_options *opts, unsigned int version);

/** What a pull or push did when it succeeded. */
typedef enum pushseal_change {
	PUSHSEAL_UP_TO_DATE = 0, /* nothing to do */
	PUSHSEAL_MOVED = 1       /* the branch (pull) or the remote branch (push) moved */
} pushseal_change;

/**
 * Initialise the library (and libgit2).  Call once, before anything else.
 * Honours the environment variable PUSHSEAL_DEADLINE_S (docs/PROTOCOL.md).
 * It registers, for the whole process, a libgit2 transport for ssh://,
 * ssh+git://, git+ssh:// and scp-style URLs that runs the system's OpenSSH
 * as git does (pushseal_shutdown() removes it).
 * @return 0, or PUSHSEAL_E_INTERNAL.
 */
PUSHSEAL_EXTERN int pushseal_init(void);

/** Release what pushseal_init() acquired.  Safe to call once per init. */
PUSHSEAL_EXTERN void pushseal_shutdown(void);

/**
 * The stable lower-case name of an error class ("diverged", "timeout", ...),
 * as used in the CLI and its JSON.  Returns a static string; never NULL.
 */
PUSHSEAL_EXTERN const char *pushseal_class_name(int klass);

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
PUSHSEAL_EXTERN int pushseal_pull_ff(pushseal_change *out, const char *repo_path,
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
PUSHSEAL_EXTERN int pushseal_push_ff(pushseal_change *out, const char *repo_path,
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
PUSHSEAL_EXTERN int pushseal_count_remote_ahead(size_t *out, const char *repo_path,
	const pushseal_options *opts, pushseal_error *err);

/**
 * Count the commits in HEAD that are not in its upstream's tracking ref
 * (`git rev-list --count @{u}..HEAD`).  No network.
 *
 * @param out   [out] the count; 0 on any error
 * @return 0, or a negative class (then *out = 0).
 */
PUSHSEAL_EXTERN int pushseal_count_local_ahead(size_t *out, const char *repo_path,
	pushseal_error *err);

/* ------------------------------------------------------------------------
 * The sealed cycle (`fix`) and the tick (`run`).
 * ------------------------------------------------------------------------ */

/**
 * The caller's own work.  Runs with the repository's lock held; it may edit
 * files and create commits on the current branch.
 * @param repo_path  the repository being fixed (borrowed)
 * @param payload    the options' writeback_payload
 * @return 0 on success, anything else on failure (the run is then reported
 *         as failed, but its commits are still sealed).
 */
typedef int (*pushseal_writeback_fn)(const char *repo_path, void *payload);

/*
 * The incident IDs of the spec (docs/SPEC.md) and the names used here:
 *   C-16  the behind guard:  fetch, and when behind pull fast-forward before
 *         any write (PUSHSEAL_SKIP_BEHIND, PUSHSEAL_GUARD_BEHIND, wire "c16")
 *   C-17  the backlog guard: push an unpushed backlog before any write
 *         (PUSHSEAL_SKIP_BACKLOG, PUSHSEAL_GUARD_BACKLOG, wire "c17")
 *   T04   the seal: the push at the end of every cycle (PUSHSEAL_ACT_SEAL)
 * The wire strings (JSON, metrics, pushseal_skip_name) keep the IDs.
 */

/** Why a repository was not written to. */
typedef enum pushseal_skip {
	PUSHSEAL_SKIP_NONE = 0,    /* not skipped: the cycle ran */
	PUSHSEAL_SKIP_BEHIND = 1,  /* behind (or not provably even), and the fetch or the
	                              fast-forward pull failed */
	PUSHSEAL_SKIP_BACKLOG = 2, /* an unpushed backlog, and its push failed */
	PUSHSEAL_SKIP_CLEAN = 3,   /* the tick found nothing to do */
	PUSHSEAL_SKIP_LOCKED = 4   /* another pushseal run holds the repository */
} pushseal_skip;

/* Deprecated: the incident-ID names of 0.1.0; use the names above. */
#define PUSHSEAL_SKIP_C16 PUSHSEAL_SKIP_BEHIND  /* deprecated: PUSHSEAL_SKIP_BEHIND */
#define PUSHSEAL_SKIP_C17 PUSHSEAL_SKIP_BACKLOG /* deprecated: PUSHSEAL_SKIP_BACKLOG */

/* Guards, as bits of pushseal_report.guards: set when that guard fired (had
 * something to do), whether or not it then skipped.  The values are those of
 * 0.1.0 (1u << PUSHSEAL_SKIP_C16, 1u << PUSHSEAL_SKIP_C17). */
#define PUSHSEAL_GUARD_BEHIND  0x02u  /* the upstream had commits HEAD lacked */
#define PUSHSEAL_GUARD_BACKLOG 0x04u  /* HEAD had commits the upstream lacked */

/** Options of one cycle.  Initialise with PUSHSEAL_CYCLE_OPTIONS_INIT. */
typedef struct pushseal_cycle_options {
	unsigned int version;
	pushseal_options net;               /* deadlines */
	pushseal_writeback_fn writeback;    /* NULL: no writeback (only sync and seal) */
	void *writeback_payload;
	const char *commit_message;         /* non-NULL: commit what the writeback left
	                                       uncommitted (never an empty commit) */
	int lock_wait_ms;                   /* wait this long for the repo lock; 0: skip at once */
	int on_diverge;                     /* PUSHSEAL_DIVERGE_STOP (default) or _REBASE */
	const char *writer_email;           /* whose commits the rebase policy may move;
	                                       NULL: the repository's user.email */
} pushseal_cycle_options;

/* What the behind guard does when the branch has diverged from its upstream. */
#define PUSHSEAL_DIVERGE_STOP 0   /* skip every write and report it, every tick, until a person acts */
#define PUSHSEAL_DIVERGE_REBASE 1 /* rebase the writer's own local commits onto the upstream,
                                     if they all are the writer's and apply cleanly; else stop */

#define PUSHSEAL_CYCLE_OPTIONS_VERSION 1
#define PUSHSEAL_CYCLE_OPTIONS_INIT { PUSHSEAL_CYCLE_OPTIONS_VERSION, PUSHSEAL_OPTIONS_INIT, NULL, NULL, NULL, 0, \
	PUSHSEAL_DIVERGE_STOP, NULL }

/** Like PUSHSEAL_CYCLE_OPTIONS_INIT (version PUSHSEAL_CYCLE_OPTIONS_VERSION).
 *  @return 0, or PUSHSEAL_E_INVALID (opts untouched). */
PUSHSEAL_EXTERN int pushseal_cycle_options_init(pushseal_cycle_options *opts, unsigned int version);

/* Actions, as bits of pushseal_report.actions. */
#define PUSHSEAL_ACT_FETCH      0x01u  /* fetched to measure behind */
#define PUSHSEAL_ACT_PULL       0x02u  /* the behind guard fast-forwarded */
#define PUSHSEAL_ACT_PUSH_RETRY 0x04u  /* the backlog guard pushed the backlog */
#define PUSHSEAL_ACT_WRITEBACK  0x08u  /* the writeback ran */
#define PUSHSEAL_ACT_COMMIT     0x10u  /* leftover changes were committed */
#define PUSHSEAL_ACT_SEAL       0x20u  /* the seal push ran */
#define PUSHSEAL_ACT_REBASE     0x40u  /* the behind guard rebased the writer's commits (opt-in policy) */

/** What one cycle (or one repository of a tick) did.  Caller-owned. */
typedef struct pushseal_report {
	size_t behind;          /* upstream commits HEAD lacked at the start */
	size_t ahead;           /* local commits the upstream lacked at the start
	                           (the backlog guard's count); valid only when ahead_measured */
	int needs_action;       /* tick/status: the check failed or ahead > 0 */
	pushseal_skip skipped;
	unsigned int guards;    /* PUSHSEAL_GUARD_* bits: the guards that fired */
	unsigned int actions;   /* PUSHSEAL_ACT_* bits */
	int wrote;              /* the writeback ran */
	int writeback_failed;   /* ...and reported failure */
	int sealed;             /* the final push succeeded and local == upstream */
	pushseal_error error;   /* the first failure, klass PUSHSEAL_OK when none */
	size_t backlog;         /* commits still unpushed when the run (fix or tick) ended */
	long long oldest_unpushed; /* commit time (Unix s) of the oldest of them; 0 when none */
	int ahead_measured;     /* `ahead` was counted (also on a skip); 0: it could not
	                           be (no repository, no upstream, ...) and means nothing */
} pushseal_report;

/** Does a failure need a person (1), or may the next tick succeed by itself
 *  (0: unreachable, timeout, locked)?  For alerting: page on permanent ones. */
PUSHSEAL_EXTERN int pushseal_class_is_permanent(int klass);

/**
 * One sealed cycle on one repository (`pushseal fix`):
 *  behind guard: fetch and count; when the fetch fails (unreachable,
 *        timeout, auth) skip every write (skipped = BEHIND, error = the
 *        fetch's class): a run writes only when local == remote at its
 *        start.  When behind, pull fast-forward; if that fails, skip every
 *        write (skipped = BEHIND).
 *  backlog guard: when local is ahead (an earlier push failed or a run died
 *        between commit and push), push first; if that fails, skip every
 *        write (skipped = BACKLOG).
 *  writeback, then (with commit_message) a commit of what it left;
 *  seal: push unconditionally, even when the writeback failed.
 * The repository is locked for the whole cycle (flock on .git/pushseal.lock,
 * released by the kernel if the process dies).
 *
 * @param out   [out] the report; always filled
 * @param opts  [optional] NULL for the defaults (no writeback)
 * @return 0 when sealed; otherwise out->error.klass (PUSHSEAL_E_WRITEBACK
 *         when only the writeback failed; PUSHSEAL_E_LOCKED when skipped as
 *         locked).
 */
PUSHSEAL_EXTERN int pushseal_cycle_run(pushseal_report *out, const char *repo_path,
	const pushseal_cycle_options *opts);

/** Options of a tick.  Initialise with PUSHSEAL_TICK_OPTIONS_INIT. */
typedef struct pushseal_tick_options {
	unsigned int version;
	pushseal_cycle_options cycle;
	int remote;                    /* run the behind guard before deciding needs-action */
	/* needs-action check: return non-zero when the repo needs the writeback.
	 * NULL: never (only an unpushed backlog makes a repo need action). */
	int (*check)(const char *repo_path, void *payload);
	void *check_payload;
	int dry_run;                   /* status: measure and decide, write nothing */
} pushseal_tick_options;

#define PUSHSEAL_TICK_OPTIONS_VERSION 1
#define PUSHSEAL_TICK_OPTIONS_INIT { PUSHSEAL_TICK_OPTIONS_VERSION, PUSHSEAL_CYCLE_OPTIONS_INIT, 0, NULL, NULL, 0 }

/** Like PUSHSEAL_TICK_OPTIONS_INIT (version PUSHSEAL_TICK_OPTIONS_VERSION).
 *  @return 0, or PUSHSEAL_E_INVALID (opts untouched). */
PUSHSEAL_EXTERN int pushseal_tick_options_init(pushseal_tick_options *opts, unsigned int version);

/**
 * One repository of a tick (`pushseal run`).  A repo that needs no action is
 * skipped with no git writes at all (no commit, push, ref or reflog change):
 * skipped = CLEAN.  A repo with an unpushed backlog always needs action.
 * With dry_run, only measures and decides (`pushseal status`).
 * @return 0 when sealed or clean; otherwise out->error.klass.
 */
PUSHSEAL_EXTERN int pushseal_tick_repo(pushseal_report *out, const char *repo_path,
	const pushseal_tick_options *opts);

/** The stable (wire) name of a skip reason: "c16" (BEHIND), "c17" (BACKLOG),
 *  "clean", "locked", or NULL for none. */
PUSHSEAL_EXTERN const char *pushseal_skip_name(pushseal_skip skipped);

#ifdef __cplusplus
}
#endif

#endif
