/*
 * Moving the current branch and its worktree to another commit, as a pull's
 * fast-forward (or a writer-only rebase) does.
 *
 * Order matters for "nothing lost": lock the branch ref first, then check
 * out SAFE (which refuses before writing anything if a file is in the way),
 * and only then move the ref.  Checking out first and finding the ref locked
 * afterwards would leave a new worktree under an old HEAD.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct conflict_note {
	char path[200];
	int count;
} conflict_note;

static int note_conflict(git_checkout_notify_t why, const char *path,
	const git_diff_file *baseline, const git_diff_file *target,
	const git_diff_file *workdir, void *payload)
{
	conflict_note *note = payload;
	(void)why; (void)baseline; (void)target; (void)workdir;
	if (note->count++ == 0)
		snprintf(note->path, sizeof(note->path), "%s", path);
	return 0;
}

/* The entry at `path` in `tree`, as (mode, id); mode 0 when there is none. */
static unsigned int tree_entry_at(git_oid *id, git_tree *tree, const char *path)
{
	git_tree_entry *e = NULL;
	unsigned int mode = 0;
	if (git_tree_entry_bypath(&e, tree, path) == 0) {
		mode = (unsigned int)git_tree_entry_filemode(e);
		git_oid_cpy(id, git_tree_entry_id(e));
		git_tree_entry_free(e);
	}
	return mode;
}

static int same_entry(unsigned int mode_a, const git_oid *a, unsigned int mode_b, const git_oid *b)
{
	return mode_a == mode_b && (mode_a == 0 || git_oid_equal(a, b));
}

/*
 * libgit2's SAFE checkout compares the worktree with the baseline and the
 * target, not the index: a staged change whose worktree file still matches
 * HEAD, or a staged deletion (`git rm --cached`), would be silently replaced
 * by the upstream version.  git refuses (unpack-trees' twoway_merge): every
 * path the pull changes must be unstaged, or staged exactly as upstream has
 * it.  Returns 1 and notes the path(s) when something staged is in the way.
 */
static int staged_in_the_way(conflict_note *note, git_repository *repo,
	git_tree *from, git_tree *to, pushseal_error *err)
{
	git_index *index = NULL;
	git_diff *staged = NULL;
	int rc = 0;

	if (git_repository_index(&index, repo) < 0 || git_index_read(index, 0) < 0) {
		rc = ps_error_git(err, PUSHSEAL_E_INTERNAL, "cannot read the index");
		goto done;
	}
	if (git_index_has_conflicts(index)) {
		rc = 1;
		note->count++;
		snprintf(note->path, sizeof(note->path), "%s", "(unmerged index entries)");
		goto done;
	}
	if (git_diff_tree_to_index(&staged, repo, from, index, NULL) < 0) {
		rc = ps_error_git(err, PUSHSEAL_E_INTERNAL, "cannot compare the index with HEAD");
		goto done;
	}
	for (size_t i = 0; i < git_diff_num_deltas(staged); i++) {
		const git_diff_delta *d = git_diff_get_delta(staged, i);
		const char *path = d->new_file.path ? d->new_file.path : d->old_file.path;
		const git_index_entry *ie = git_index_get_bypath(index, path, 0);
		git_oid old_id, new_id;
		unsigned int old_mode = tree_entry_at(&old_id, from, path);
		unsigned int new_mode = tree_entry_at(&new_id, to, path);
		if (same_entry(old_mode, &old_id, new_mode, &new_id))
			continue; /* the pull leaves this path alone */
		if (ie ? same_entry(ie->mode, &ie->id, new_mode, &new_id) : new_mode == 0)
			continue; /* staged exactly as upstream has it */
		if (note->count++ == 0)
			snprintf(note->path, sizeof(note->path), "%s", path);
		rc = 1;
	}
done:
	git_diff_free(staged);
	git_index_free(index);
	return rc;
}

/* Write the index that checkout updated in memory (it could not write it:
 * we hold index.lock) through a private file renamed into place, then
 * drop our index.lock. */
static int write_index(git_repository *repo, ps_journal *j, ps_lockfile *index_lock, pushseal_error *err)
{
	git_index *mem = NULL, *out = NULL;
	char tmp[4300], path[4300];
	int rc = 0;
	snprintf(path, sizeof(path), "%sindex", git_repository_path(repo));
	if (ps_journal_tmp(j, tmp, sizeof(tmp)) < 0 || git_repository_index(&mem, repo) < 0 ||
	    git_index_open(&out, tmp) < 0)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < git_index_entrycount(mem); i++)
		rc = git_index_add(out, git_index_get_byindex(mem, i));
	if (rc < 0 || git_index_write(out) < 0 || rename(tmp, path) != 0) {
		rc = ps_error_git(err, PUSHSEAL_E_INTERNAL, "worktree updated but the index could not be written");
		unlink(tmp);
	}
	git_index_free(out);
	git_index_free(mem);
	ps_lockfile_release(index_lock);
	return rc;
}

/* The paths a move changes, split by a sparse checkout: `inside` are
 * checked out; `outside` (skip-worktree in the index, or new and outside
 * the cone) only have their index entries moved, as git does. */
typedef struct sparse_split {
	git_strarray inside;
	char **outside;
	size_t noutside;
	int sparse;
} sparse_split;

static int split_sparse(sparse_split *sp, git_repository *repo, git_tree *from, git_tree *to)
{
	ps_sparse cone;
	git_index *index = NULL;
	git_diff *diff = NULL;
	int rc = 0;
	memset(sp, 0, sizeof(*sp));
	ps_sparse_load(&cone, repo);
	if (!cone.active)
		return 0;
	sp->sparse = 1;
	if (git_repository_index(&index, repo) < 0 || git_diff_tree_to_tree(&diff, repo, from, to, NULL) < 0) {
		rc = -1;
		goto done;
	}
	sp->inside.strings = calloc(git_diff_num_deltas(diff) + 1, sizeof(char *));
	sp->outside = calloc(git_diff_num_deltas(diff) + 1, sizeof(char *));
	if (!sp->inside.strings || !sp->outside) {
		rc = -1;
		goto done;
	}
	for (size_t i = 0; i < git_diff_num_deltas(diff); i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		const char *path = d->new_file.path ? d->new_file.path : d->old_file.path;
		const git_index_entry *e = git_index_get_bypath(index, path, 0);
		int out = e ? (e->flags_extended & GIT_INDEX_ENTRY_SKIP_WORKTREE) != 0 : !ps_sparse_includes(&cone, path);
		if (out)
			sp->outside[sp->noutside++] = strdup(path);
		else
			sp->inside.strings[sp->inside.count++] = strdup(path);
	}
done:
	git_diff_free(diff);
	git_index_free(index);
	ps_sparse_free(&cone);
	return rc;
}

/* Move the index entries of the paths outside the cone to `to`, keeping
 * them skip-worktree: the worktree never sees them. */
static int move_outside(const sparse_split *sp, git_repository *repo, git_tree *to)
{
	git_index *index = NULL;
	int rc = 0;
	if (!sp->noutside)
		return 0;
	if (git_repository_index(&index, repo) < 0)
		return -1;
	for (size_t i = 0; i < sp->noutside && rc == 0; i++) {
		git_tree_entry *te = NULL;
		if (git_tree_entry_bypath(&te, to, sp->outside[i]) == 0) {
			git_index_entry e;
			memset(&e, 0, sizeof(e));
			e.path = sp->outside[i];
			e.mode = (uint32_t)git_tree_entry_filemode(te);
			git_oid_cpy(&e.id, git_tree_entry_id(te));
			e.flags_extended = GIT_INDEX_ENTRY_SKIP_WORKTREE;
			rc = git_index_add(index, &e);
			git_tree_entry_free(te);
		} else {
			rc = git_index_remove_bypath(index, sp->outside[i]);
		}
	}
	git_index_free(index);
	return rc;
}

static void split_free(sparse_split *sp)
{
	for (size_t i = 0; i < sp->inside.count; i++)
		free(sp->inside.strings[i]);
	for (size_t i = 0; i < sp->noutside; i++)
		free(sp->outside[i]);
	free(sp->inside.strings);
	free(sp->outside);
	memset(sp, 0, sizeof(*sp));
}

int ps_branch_move(git_repository *repo, const ps_branch *b, const git_oid *to,
	const char *reflog_msg, pushseal_error *err)
{
	ps_journal journal;
	ps_ref_lock rl;
	ps_lockfile index_lock;
	char move_line[5400], lock_path[4300], from_hex[GIT_OID_HEXSZ + 1], to_hex[GIT_OID_HEXSZ + 1];
	git_commit *target = NULL, *current = NULL;
	git_tree *from_tree = NULL, *to_tree = NULL;
	git_checkout_options co;
	conflict_note note = { "", 0 };
	sparse_split split;
	int rc, ref_locked = 0;

	memset(&journal, 0, sizeof(journal));
	memset(&index_lock, 0, sizeof(index_lock));
	memset(&split, 0, sizeof(split));
	ps_journal_recover(git_repository_commondir(repo));
	git_oid_tostr(from_hex, sizeof(from_hex), &b->head);
	git_oid_tostr(to_hex, sizeof(to_hex), to);
	snprintf(move_line, sizeof(move_line), "%s %s %s %s", b->ref, from_hex, to_hex, git_repository_workdir(repo));
	if (ps_journal_begin(&journal, git_repository_commondir(repo), move_line) < 0) {
		rc = ps_error_set(err, PUSHSEAL_E_INTERNAL, "cannot write the crash journal in %s",
			git_repository_commondir(repo));
		goto done;
	}
	ps_test_hook("MOVE_JOURNALED"); /* test-only: a death before any lock */
	if ((rc = ps_ref_lock_take(&rl, repo, &journal, b->ref, err)) < 0)
		goto done;
	ref_locked = 1;
	/* under the lock: the branch must still be where we measured it */
	if (!rl.has_old || !git_oid_equal(&rl.old, &b->head)) {
		rc = ps_error_set(err, PUSHSEAL_E_LOCKED, "%s moved meanwhile; try again", b->ref);
		goto done;
	}
	if ((rc = ps_repo_check_writable(repo, err)) < 0)
		goto done;
	/* our own index.lock: no other git writes the index while we check out */
	snprintf(lock_path, sizeof(lock_path), "%sindex.lock", git_repository_path(repo));
	if ((rc = ps_lockfile_take(&index_lock, &journal, lock_path, err)) < 0)
		goto done;
	if (git_commit_lookup(&target, repo, to) < 0 || git_commit_tree(&to_tree, target) < 0 ||
	    git_commit_lookup(&current, repo, &b->head) < 0 || git_commit_tree(&from_tree, current) < 0) {
		rc = ps_error_git(err, PUSHSEAL_E_INTERNAL, "cannot read the commits to move between");
		goto done;
	}
	if ((rc = staged_in_the_way(&note, repo, from_tree, to_tree, err)) != 0) {
		if (rc > 0)
			rc = ps_error_set(err, PUSHSEAL_E_WOULD_OVERWRITE,
				"pull would overwrite staged changes in %d file%s (first: %s); nothing changed",
				note.count, note.count == 1 ? "" : "s", note.path);
		goto done;
	}
	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	co.checkout_strategy = GIT_CHECKOUT_SAFE | GIT_CHECKOUT_DONT_OVERWRITE_IGNORED | GIT_CHECKOUT_DONT_WRITE_INDEX;
	co.notify_flags = GIT_CHECKOUT_NOTIFY_CONFLICT;
	co.notify_cb = note_conflict;
	co.notify_payload = &note;
	if (split_sparse(&split, repo, from_tree, to_tree) < 0) {
		rc = ps_error_git(err, PUSHSEAL_E_INTERNAL, "cannot read the sparse checkout");
		goto done;
	}
	if (split.sparse) {
		/* only the paths inside the cone touch the worktree */
		co.paths = split.inside;
		co.checkout_strategy |= GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH;
	}
	rc = (split.sparse && split.inside.count == 0) ? 0 : git_checkout_tree(repo, (const git_object *)target, &co);
	if (rc == 0 && move_outside(&split, repo, to_tree) < 0)
		rc = -1;
	if (rc == GIT_ECONFLICT || (rc < 0 && note.count > 0)) {
		rc = ps_error_set(err, PUSHSEAL_E_WOULD_OVERWRITE,
			"pull would overwrite local changes in %d file%s (first: %s); nothing changed",
			note.count, note.count == 1 ? "" : "s", note.path);
		goto done;
	}
	if (rc == GIT_ELOCKED) {
		rc = ps_error_git(err, PUSHSEAL_E_LOCKED, "checkout");
		goto done;
	}
	if (rc < 0) {
		rc = ps_error_git(err, PUSHSEAL_E_INTERNAL, "checkout failed");
		goto done;
	}
	ps_test_hook("MOVE_CHECKED_OUT"); /* test-only: a death holding both locks */
	if ((rc = write_index(repo, &journal, &index_lock, err)) < 0)
		goto done;
	ps_test_hook("MOVE_INDEX_WRITTEN"); /* test-only: a death before the branch moves */
	rc = ps_ref_lock_commit(&rl, to, reflog_msg, 1, err);
done:
	split_free(&split);
	git_tree_free(to_tree);
	git_tree_free(from_tree);
	git_commit_free(current);
	git_commit_free(target);
	ps_lockfile_release(&index_lock);
	if (ref_locked)
		ps_ref_lock_release(&rl);
	ps_journal_end(&journal); /* every lock is released by now */
	return rc;
}
