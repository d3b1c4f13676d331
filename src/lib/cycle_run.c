/*
 * The sealed cycle: the behind guard (C-16), the backlog guard (C-17), the
 * writeback, and the seal push (T04).
 *
 * The guards bound the pile-up: a run writes only when local == remote at
 * its start, and every run that writes pushes before it returns.  So at most
 * one run's worth of commits can ever wait unpushed.
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>

const char *pushseal_skip_name(pushseal_skip skipped)
{
	switch (skipped) {
	case PUSHSEAL_SKIP_BEHIND: return "c16";
	case PUSHSEAL_SKIP_BACKLOG: return "c17";
	case PUSHSEAL_SKIP_CLEAN: return "clean";
	case PUSHSEAL_SKIP_LOCKED: return "locked";
	default: return NULL;
	}
}

/* Keep the first failure: it is the cause, later ones are consequences. */
static int note(pushseal_report *r, int rc, const pushseal_error *e)
{
	if (rc < 0 && r->error.klass == PUSHSEAL_OK)
		r->error = *e;
	return rc;
}

static int skip(pushseal_report *r, pushseal_skip why, int rc, const pushseal_error *e)
{
	r->skipped = why;
	return note(r, rc, e);
}

/* One repository for a whole tick or cycle: opened once by the entry point
 * and passed down to every step, with the branch as last read.  Its config
 * is a snapshot taken once the repository's lock is held (ps_repo_pin_config).
 * A step that changes what the handle has read says so: our own pull moves
 * the branch (has_branch = 0: read it again), a program of the caller's
 * (the check, the writeback) may change anything (after_callers_program). */
typedef struct tick_repo {
	git_repository *repo;  /* NULL when it could not be opened again (gone_*) */
	const char *path;   /* the caller's: the writeback's and the check's argument,
	                       and what a network child opens again when it must */
	ps_branch b;        /* HEAD's branch and its upstream... */
	int has_branch;     /* ...current when set; 0: read it again before use */
	unsigned long long identity; /* ps_repo_identity before the caller's program ran */
	int gone_rc;        /* why the repository could not be opened again */
	pushseal_error gone_err;
} tick_repo;


/* The repository, or why there is none any more (as opening it would say). */
static int repo_now(tick_repo *t, pushseal_error *err)
{
	if (t->repo)
		return 0;
	if (err)
		*err = t->gone_err;
	return t->gone_rc;
}

/* The branch as the next step must see it. */
static int branch_now(tick_repo *t, pushseal_error *err)
{
	int rc;
	if (t->has_branch)
		return 0;
	if ((rc = repo_now(t, err)) < 0)
		return rc;
	if ((rc = ps_branch_resolve(&t->b, t->repo, err)) == 0)
		t->has_branch = 1;
	return rc;
}

/* After a program of the caller's ran in the repository: it may have
 * committed, switched the branch, changed the config or the index, even
 * repacked.  Nothing read before it may be used after it: the handle forgets
 * all it read from the files (ps_repo_refresh: a new config snapshot, the
 * index, the pack list, ...) and the branch is read again.  What libgit2
 * reads only at open (the git directory, core.bare, core.worktree, the
 * format and its extensions) a refresh cannot renew: when the program
 * changed that (ps_repo_identity), or removed the repository, it is opened
 * again from its path, as every step did before, and a failure to open it
 * is what the later steps report. */
static void before_callers_program(tick_repo *t)
{
	t->identity = 0;
	if (t->repo)
		ps_repo_identity(&t->identity, t->repo);
}

static void after_callers_program(tick_repo *t)
{
	unsigned long long now;
	t->has_branch = 0;
	if (!t->repo)
		return; /* already gone: stays so */
	ps_repo_refresh(t->repo);
	if (ps_repo_identity(&now, t->repo) == 0 && now == t->identity)
		return;
	git_repository_free(t->repo);
	t->repo = NULL;
	if ((t->gone_rc = ps_repo_open(&t->repo, t->path, &t->gone_err)) == 0)
		ps_repo_pin_config(t->repo);
}

/* pushseal_count_local_ahead on the open repository: the branch as it is
 * now (read, not remembered), then the count.  0 in *out on any error. */
static int count_local_now(size_t *out, git_repository *repo, pushseal_error *err)
{
	ps_branch b;
	int rc;
	*out = 0;
	if ((rc = ps_branch_resolve(&b, repo, err)) < 0)
		return rc;
	return ps_count_local(out, repo, &b, err);
}

/* A skip still says how far local was ahead when the run started: a local
 * count, no network, read-only.  It stays unmeasured ("ahead": null) only
 * when it cannot be counted (no repository, no upstream, ...). */
static void measure_ahead(pushseal_report *r, git_repository *repo)
{
	pushseal_error ignored;
	if (!r->ahead_measured && count_local_now(&r->ahead, repo, &ignored) == 0)
		r->ahead_measured = 1;
}

static int skip_behind(pushseal_report *r, git_repository *repo, int rc, const pushseal_error *e)
{
	measure_ahead(r, repo);
	return skip(r, PUSHSEAL_SKIP_BEHIND, rc, e);
}

/* Can this repository be synced and sealed at all?  A repo that cannot
 * (detached, no upstream, a merge in progress, ...) must get no writes: its
 * commits could never be pushed. */
static int check_sealable(tick_repo *t, pushseal_error *err)
{
	int rc;
	t->has_branch = 0;
	if ((rc = ps_repo_check_writable(t->repo, err)) < 0 || (rc = branch_now(t, err)) < 0)
		return rc;
	return ps_push_check(t->repo, &t->b, err); /* a seal that would be refused: write nothing */
}

/* The behind guard (C-16) alone: fetch, count, pull when behind (or rebase,
 * by policy).  Fills r; returns 0, or the class that made it skip
 * (r->skipped = PUSHSEAL_SKIP_BEHIND). */
static int ps_cycle_catch_up(pushseal_report *r, tick_repo *t, const pushseal_cycle_options *o, int dry_run)
{
	pushseal_error e;
	int rc;
	if ((rc = check_sealable(t, &e)) < 0)
		return skip_behind(r, t->repo, rc, &e);
	/* C-16-5: a failed fetch (unreachable, timeout, auth) leaves local ==
	 * remote unproven, so every write is skipped: writing on a possibly
	 * stale branch turns a network blip into a divergence when someone
	 * pushed meanwhile.  (behind is still the count against the
	 * last-fetched ref, best-effort, as remote-ahead prints it.)  status
	 * (dry_run) reports the same skip a tick would make. */
	ps_error_clear(&e);
	rc = ps_count_remote(&r->behind, t->repo, t->path, &t->b, &o->net, &e);
	r->actions |= PUSHSEAL_ACT_FETCH;
	if (rc < 0)
		return skip_behind(r, t->repo, rc, &e);
	if (r->behind == 0 || dry_run) {
		if (r->behind > 0)
			r->guards |= PUSHSEAL_GUARD_BEHIND;
		return 0;
	}
	r->guards |= PUSHSEAL_GUARD_BEHIND;
	/* the count just fetched: fast-forward to what it saw, without a second
	 * fetch; whatever happens, the branch may have moved: read it again */
	t->has_branch = 0;
	rc = ps_pull_fetched(NULL, t->repo, &e);
	if (rc == PUSHSEAL_E_DIVERGED && o->on_diverge == PUSHSEAL_DIVERGE_REBASE) {
		if ((rc = ps_rebase_writer(t->repo, o->writer_email, &e)) == 0)
			r->actions |= PUSHSEAL_ACT_REBASE;
		if (rc < 0)
			return skip_behind(r, t->repo, rc, &e);
		return 0;
	}
	if (rc < 0)
		return skip_behind(r, t->repo, rc, &e);
	r->actions |= PUSHSEAL_ACT_PULL;
	return 0;
}

/* Sealed: the branch equals its remote-tracking ref after a good push,
 * both read again from the files. */
static int is_sealed(tick_repo *t)
{
	git_oid head, tracking;
	return git_reference_name_to_id(&head, t->repo, t->b.ref) == 0 &&
		git_reference_name_to_id(&tracking, t->repo, t->b.tracking) == 0 && git_oid_equal(&head, &tracking);
}

/* The cycle without taking the lock (the caller holds it).  With
 * caught_up, the behind guard already ran and filled r->behind. */
static int ps_cycle_locked(pushseal_report *r, tick_repo *t, const pushseal_cycle_options *o, int caught_up)
{
	pushseal_error e;
	int rc;

	/* the behind guard (C-16): never write on top of a stale branch */
	if (!caught_up && (rc = ps_cycle_catch_up(r, t, o, 0)) < 0)
		return rc;
	if (r->skipped != PUSHSEAL_SKIP_NONE)
		return r->error.klass;

	/* the backlog guard (C-17): never write on top of an unpushed backlog */
	r->ahead = 0;
	if ((rc = branch_now(t, &e)) < 0 || (rc = ps_count_local(&r->ahead, t->repo, &t->b, &e)) < 0)
		return skip(r, PUSHSEAL_SKIP_BACKLOG, rc, &e);
	r->ahead_measured = 1;
	if (r->ahead > 0) {
		r->guards |= PUSHSEAL_GUARD_BACKLOG;
		if ((rc = ps_push(NULL, t->repo, t->path, &t->b, &o->net, &e)) < 0)
			return skip(r, PUSHSEAL_SKIP_BACKLOG, rc, &e);
		r->actions |= PUSHSEAL_ACT_PUSH_RETRY;
	}

	if (o->writeback) {
		int failed;
		r->wrote = 1;
		r->actions |= PUSHSEAL_ACT_WRITEBACK;
		before_callers_program(t);
		failed = o->writeback(t->path, o->writeback_payload) != 0;
		after_callers_program(t);
		if (failed) {
			r->writeback_failed = 1;
			ps_error_set(&e, PUSHSEAL_E_WRITEBACK, "the writeback failed; its commits are sealed anyway");
			note(r, PUSHSEAL_E_WRITEBACK, &e);
		} else if (o->commit_message) {
			int committed = 0;
			if ((rc = repo_now(t, &e)) < 0 ||
			    (rc = ps_commit_leftovers(&committed, t->repo, o->commit_message, &e)) < 0)
				note(r, rc, &e);
			if (committed)
				r->actions |= PUSHSEAL_ACT_COMMIT;
		}
	}

	/* the seal push (T04): unconditional, whatever happened above */
	r->actions |= PUSHSEAL_ACT_SEAL;
	if ((rc = branch_now(t, &e)) == 0)
		rc = ps_push(NULL, t->repo, t->path, &t->b, &o->net, &e);
	if (rc < 0) {
		/* the seal's failure is what the caller must act on */
		r->error = e;
		return rc;
	}
	r->sealed = is_sealed(t);
	if (!r->sealed) {
		ps_error_set(&e, PUSHSEAL_E_INTERNAL, "pushed, but the branch does not equal its upstream");
		r->error = e;
		return PUSHSEAL_E_INTERNAL;
	}
	/* any failure noted above (the writeback, its commit) stays reported */
	return r->error.klass;
}

/* What is still unpushed after a tick, and since when: for the metrics a
 * timer exports (the backlog must never grow past one run's worth).  The
 * branch is read again: this runs after everything else. */
static void ps_measure_backlog(pushseal_report *r, git_repository *repo)
{
	git_revwalk *walk = NULL;
	pushseal_error e;
	ps_branch b;
	git_oid id;
	r->backlog = 0;
	r->oldest_unpushed = 0;
	if (repo && ps_branch_resolve(&b, repo, &e) == 0 && b.has_tracking && !git_oid_equal(&b.head, &b.tracking_oid) &&
	    ps_count_between(&r->backlog, repo, &b.head, &b.tracking_oid, &e) == 0 && r->backlog > 0 &&
	    git_revwalk_new(&walk, repo) == 0 && git_revwalk_push(walk, &b.head) == 0 &&
	    git_revwalk_hide(walk, &b.tracking_oid) == 0) {
		while (git_revwalk_next(&id, walk) == 0) {
			git_commit *c = NULL;
			if (git_commit_lookup(&c, repo, &id) == 0) {
				long long t = (long long)git_commit_time(c);
				if (r->oldest_unpushed == 0 || t < r->oldest_unpushed)
					r->oldest_unpushed = t;
				git_commit_free(c);
			}
		}
	}
	git_revwalk_free(walk);
}

static void report_init(pushseal_report *r)
{
	memset(r, 0, sizeof(*r));
	ps_error_clear(&r->error);
}

/* Take the repository's lock, or report the skip (LOCKED when another run
 * holds it) with what waits unpushed all the same (read-only).  Once it is
 * held, the config is read (pinned): the run that held the lock before us
 * may have changed it while we waited. */
static int lock_or_skip(int *fd, pushseal_report *out, tick_repo *t, int wait_ms)
{
	pushseal_error e;
	int rc = ps_lock_acquire(fd, git_repository_path(t->repo), wait_ms, &e);
	if (rc < 0) {
		skip(out, rc == PUSHSEAL_E_LOCKED ? PUSHSEAL_SKIP_LOCKED : PUSHSEAL_SKIP_BEHIND, rc, &e);
		measure_ahead(out, t->repo);
		ps_measure_backlog(out, t->repo);
		return rc;
	}
	ps_repo_pin_config(t->repo);
	return 0;
}

/* The one open of a tick or a cycle (as fix reports it: a repo that cannot
 * even be opened is a c16 skip). */
static int tick_open(tick_repo *t, const char *repo_path, pushseal_error *err)
{
	memset(t, 0, sizeof(*t));
	t->path = repo_path;
	return ps_repo_open(&t->repo, repo_path, err);
}

int pushseal_cycle_run(pushseal_report *out, const char *repo_path,
	const pushseal_cycle_options *opts)
{
	pushseal_cycle_options dflt = PUSHSEAL_CYCLE_OPTIONS_INIT;
	const pushseal_cycle_options *o = opts ? opts : &dflt;
	tick_repo t;
	pushseal_error e;
	int fd, rc;

	report_init(out);
	if ((rc = ps_cycle_options_check(opts, &e)) < 0)
		return note(out, rc, &e);
	if ((rc = tick_open(&t, repo_path, &e)) < 0)
		return skip(out, PUSHSEAL_SKIP_BEHIND, rc, &e);
	if ((rc = lock_or_skip(&fd, out, &t, o->lock_wait_ms)) == 0) {
		rc = ps_cycle_locked(out, &t, o, 0);
		ps_measure_backlog(out, t.repo);
		ps_lock_release(fd);
	}
	git_repository_free(t.repo);
	return rc;
}

int pushseal_tick_repo(pushseal_report *out, const char *repo_path,
	const pushseal_tick_options *opts)
{
	pushseal_tick_options dflt = PUSHSEAL_TICK_OPTIONS_INIT;
	const pushseal_tick_options *o = opts ? opts : &dflt;
	tick_repo t;
	pushseal_error e;
	int fd = -1, rc;

	report_init(out);
	if ((rc = ps_tick_options_check(opts, &e)) < 0)
		return note(out, rc, &e);
	/* as fix reports them: a repo that cannot even be opened is a c16 skip */
	if ((rc = tick_open(&t, repo_path, &e)) < 0)
		return skip(out, o->dry_run ? PUSHSEAL_SKIP_NONE : PUSHSEAL_SKIP_BEHIND, rc, &e);
	if (o->dry_run)
		ps_repo_pin_config(t.repo); /* status takes no lock */
	else if ((rc = lock_or_skip(&fd, out, &t, o->cycle.lock_wait_ms)) < 0) {
		git_repository_free(t.repo);
		return rc;
	}

	if (o->remote && (rc = ps_cycle_catch_up(out, &t, &o->cycle, o->dry_run)) < 0)
		goto done;
	/* needs-action: the check says so, or there is an unpushed backlog.  The
	 * backlog alone must count: a repo with unpushed commits is never clean. */
	out->ahead = 0;
	if ((rc = branch_now(&t, &e)) < 0 || (rc = ps_count_local(&out->ahead, t.repo, &t.b, &e)) < 0) {
		/* it cannot be synced either (unborn, detached, no upstream): the
		 * cycle's C-16 would skip it, so report it as fix does */
		skip(out, o->dry_run ? PUSHSEAL_SKIP_NONE : PUSHSEAL_SKIP_BEHIND, rc, &e);
		goto done;
	}
	out->ahead_measured = 1;
	out->needs_action = out->ahead > 0;
	if (!out->needs_action && o->check) {
		before_callers_program(&t);
		if (o->check(repo_path, o->check_payload) != 0) {
			out->needs_action = 1;
			after_callers_program(&t); /* the cycle follows: nothing read before the check */
		}
	}
	if (out->ahead > 0)
		out->guards |= PUSHSEAL_GUARD_BACKLOG;
	if (!out->needs_action) {
		/* clean: the C-16 fetch (with --remote) succeeded, or a status
		 * measured best-effort, with its failure kept in out->error */
		out->skipped = PUSHSEAL_SKIP_CLEAN;
		rc = 0;
		goto done;
	}
	if (o->dry_run) {
		rc = 0;
		goto done;
	}
	out->guards &= ~PUSHSEAL_GUARD_BACKLOG; /* the cycle measures it again */
	rc = ps_cycle_locked(out, &t, &o->cycle, o->remote);
done:
	/* a clean repo has no backlog by definition: nothing more to read */
	if (!o->dry_run && out->skipped != PUSHSEAL_SKIP_CLEAN)
		ps_measure_backlog(out, t.repo);
	ps_lock_release(fd);
	git_repository_free(t.repo);
	return rc;
}
