/*
 * What the fault suites (test_faults_*.c) share: the kill-point machinery and
 * a few oracle shortcuts, compiled into each of them (tests/faults_common.c).
 *
 * Kill points are chosen from outside, so they work against any protocol v1
 * command: the process running the cycle leads its own process group, and
 * the test watches the repositories (and the process's children in /proc),
 * freezes the whole group with SIGSTOP the moment the step is seen, records
 * where it stopped, then SIGKILLs the group.  A row whose step was not caught
 * in a run (the step was too quick) still checks every invariant; the hit
 * count is printed.
 *
 * Strings these return are ring strings (harness.h); paths are sandbox-relative.
 */
#ifndef PS_FAULTS_COMMON_H
#define PS_FAULTS_COMMON_H

#include "harness.h"
#include "pushseal.h"

#include <sys/types.h>

typedef enum crash_point {
	AFTER_FETCH,      /* the fetch's worker has finished; nothing after it ran */
	DURING_CHECKOUT,  /* the pull has written some of the upstream's files */
	AFTER_COMMIT,     /* the writeback committed, then killed its parent */
	DURING_PUSH,      /* the seal push has begun writing into the remote */
	AT_RANDOM,        /* a seeded random delay into the cycle */
} crash_point;

#define BIG_FILES 3000

/* Sleep `ms` milliseconds. */
void sleep_ms(long ms);
/* Newlines in s (0 for NULL). */
int count_lines(const char *s);
/* How many times a writeback ran: lines in its marker file `rel`. */
int marker_runs(ps_ctx *ctx, const char *rel);
/* Merge commits reachable from rev in dir (`git rev-list --merges --count`). */
long merges(ps_ctx *ctx, const char *dir, const char *rev);
/* Fail unless `git fsck` is clean in dir. */
void assert_fsck_clean(ps_ctx *ctx, const char *dir);
/* Fail when one of git's lock files is left under gitdir. */
void assert_no_locks(ps_ctx *ctx, const char *gitdir);
/* Number of directory entries (0 when it does not exist). */
int dir_entries(const char *path);
/* Objects and packs in a repository's object store, by directory entries. */
int object_entries(ps_ctx *ctx, const char *gitdir);
/* Freeze the whole group and wait until its leader is really stopped. */
void freeze(pid_t leader);
/* Wait for pid; returns its waitpid status. */
int reap(pid_t pid);
/* SIGKILL the process running the cycle (group != 0: its whole process
 * group), let the survivors of a frozen group go on, and wait (bounded)
 * until every process the cycle started has ended, in its group or not
 * (start_cycle makes the suite a subreaper to see the latter). */
void kill_cycle(pid_t leader, int group);
/* A tick of one repo through the library, with a check and a writeback. */
int lib_tick(pushseal_report *rep, const char *repo, int remote, const char *check,
	const char *wb, int on_diverge);
/* A fix (the sealed cycle) of one repo through the library, with a writeback. */
int lib_fix(pushseal_report *rep, const char *repo, const char *wb);
/* Start `fix REPO --writeback WB` (run=0) or `run --remote REPO
 * --check false --writeback WB` (run=1), in-process in a forked child or as
 * the protocol command.  Its output goes to /dev/null. */
pid_t start_cycle(ps_ctx *ctx, const char *repo, const char *wb, int run);
/* The writeback for a kill point under prefix p/: commits data.txt, records
 * its run in p/marker and its commit in p/commits (a ring string). */
const char *crash_writeback(ps_ctx *ctx, const char *p, crash_point point);
/* Wait (bounded) for the step, freeze the group and tell whether it was hit. */
int crash_hit(ps_ctx *ctx, const char *p, crash_point point, pid_t leader,
	const char *old_head, int objects_before, long delay_ms);

#endif
