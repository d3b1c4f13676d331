/*
 * Pushing to a remote on a local path (or file://) without libgit2's local
 * transport, which overwrites the remote ref without checking its old value:
 * a client pushing during our negotiation would lose its commit.  Here the
 * remote ref is locked first, its value read under the lock, the push
 * checked to be a fast-forward from exactly that value, the objects copied,
 * and only then the ref moved.  Another pusher either finished before our
 * lock (we see its commit and refuse a non-fast-forward) or finds the ref
 * locked and fails visibly.  Nothing is lost either way.
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct pack_sink {
	git_indexer *idx;
	git_indexer_progress stats;
} pack_sink;

static int to_pack_dir(void *buf, size_t size, void *payload)
{
	pack_sink *sink = payload;
	return git_indexer_append(sink->idx, buf, size, &sink->stats);
}

/* A shallow clone's history ends at parents it does not have, where
 * libgit2 1.5's revwalk fails: walk it by hand (ps_shallow_walk), from head
 * down to what the remote has (or the shallow boundary), and pack those
 * commits. */
typedef struct shallow_pack {
	git_packbuilder *pb;
	git_odb *remote_odb;
} shallow_pack;

static int pack_unless_remote_has(const git_oid *id, const git_commit *c, void *payload)
{
	shallow_pack *sp = payload;
	if (!c || git_odb_exists(sp->remote_odb, id))
		return PS_WALK_SKIP; /* beyond our boundary, or the remote has it */
	return git_packbuilder_insert_commit(sp->pb, id) < 0 ? -1 : PS_WALK_PARENTS;
}

static int insert_shallow(git_packbuilder *pb, git_repository *local, git_odb *remote_odb, const git_oid *head)
{
	shallow_pack sp = { pb, remote_odb };
	return ps_shallow_walk(local, head, 0, pack_unless_remote_has, &sp);
}

/* Write what `head` needs and `old` (may be NULL) lacks, as a pack, into
 * pack_dir: the parent's private directory inside the remote's
 * objects/pack (ps_push_local_pack_dir), never the pack directory itself,
 * so that a kill here leaves nothing anyone else could mistake. */
static int copy_objects(git_repository *local, git_repository *remote, const git_oid *head,
	const git_oid *old, const char *pack_dir, pushseal_error *err)
{
	git_packbuilder *pb = NULL;
	git_revwalk *walk = NULL;
	git_odb *odb = NULL;
	git_indexer_options io;
	pack_sink sink;
	int rc = 0;

	memset(&sink, 0, sizeof(sink));
	if (git_repository_odb(&odb, remote) < 0 || git_packbuilder_new(&pb, local) < 0) {
		rc = ps_error_git(err, PUSHSEAL_E_INTERNAL, "cannot collect the objects to push");
		goto done;
	}
	if (git_repository_is_shallow(local) ? insert_shallow(pb, local, odb, head) < 0
	    : (git_revwalk_new(&walk, local) < 0 || git_revwalk_push(walk, head) < 0 ||
	       (old && git_revwalk_hide(walk, old) < 0) || git_packbuilder_insert_walk(pb, walk) < 0)) {
		rc = ps_error_git(err, PUSHSEAL_E_INTERNAL, "cannot collect the objects to push");
		goto done;
	}
	if (git_packbuilder_object_count(pb) == 0)
		goto done;
	git_indexer_options_init(&io, GIT_INDEXER_OPTIONS_VERSION);
	if (git_indexer_new(&sink.idx, pack_dir, 0, NULL, &io) < 0 ||
	    git_packbuilder_foreach(pb, to_pack_dir, &sink) < 0 || git_indexer_commit(sink.idx, &sink.stats) < 0)
		rc = ps_error_git(err, PUSHSEAL_E_REJECTED, "cannot write the objects for the remote");
	git_indexer_free(sink.idx);
done:
	git_odb_free(odb);
	git_revwalk_free(walk);
	git_packbuilder_free(pb);
	return rc;
}

int ps_push_local_pack_dir(char *dir, size_t n, ps_journal *j, git_repository *remote, pushseal_error *err)
{
	if (ps_journal_begin(j, git_repository_commondir(remote), NULL) < 0)
		return ps_error_set(err, PUSHSEAL_E_INTERNAL, "cannot write the crash journal in %s",
			git_repository_commondir(remote));
	snprintf(dir, n, "%sobjects/pack/pushseal-tmp.%d-%llu.%u.%u", git_repository_commondir(remote), (int)getpid(),
		j->started, j->id, j->seq++);
	if (ps_journal_note_tmp(j, dir) < 0 || mkdir(dir, 0777) != 0)
		return ps_error_set(err, PUSHSEAL_E_INTERNAL, "cannot make %s: %s", dir, strerror(errno));
	ps_adjust_shared_perm(ps_shared_perm(remote), dir);
	return 0;
}

void ps_push_local_pack_publish(git_repository *remote, const char *dir, int publish)
{
	char from[4600], to[4600];
	DIR *d = opendir(dir);
	struct dirent *e;
	/* the .pack before its .idx: a pack is visible once its index is */
	for (int pass = 0; d && pass < 3; pass++) {
		rewinddir(d);
		while ((e = readdir(d)) != NULL) {
			size_t len = strlen(e->d_name);
			int is_pack = len > 5 && !strcmp(e->d_name + len - 5, ".pack");
			int is_idx = len > 4 && !strcmp(e->d_name + len - 4, ".idx");
			if (e->d_name[0] == '.')
				continue;
			snprintf(from, sizeof(from), "%s/%s", dir, e->d_name);
			if (publish && ((pass == 0 && is_pack) || (pass == 1 && is_idx))) {
				snprintf(to, sizeof(to), "%sobjects/pack/%s", git_repository_commondir(remote), e->d_name);
				if (rename(from, to) == 0)
					ps_adjust_shared_perm(ps_shared_perm(remote), to);
			} else if (pass == 2) {
				unlink(from); /* our own leftovers: temporary files of a killed writer */
			}
		}
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

/* A push from `old` (NULL: none) to head must be a fast-forward, with old
 * known here: class DIVERGED otherwise. */
static int ff_check(git_repository *local, const git_oid *head, const git_oid *old, const char *dst,
	const char *branch_ref, pushseal_error *err)
{
	git_odb *odb = NULL;
	int known, ff = 0;
	if (!old)
		return 0;
	known = git_repository_odb(&odb, local) == 0 && git_odb_exists(odb, old);
	git_odb_free(odb);
	if (!known || ps_descendant_of(&ff, local, head, old) < 0 || !ff)
		return ps_error_set(err, PUSHSEAL_E_DIVERGED,
			"push rejected: %s has commits that %s does not (not a fast-forward; pull first)", dst, branch_ref);
	return 0;
}

/* git refuses to update the branch checked out in a non-bare remote
 * (receive.denyCurrentBranch=refuse, the default). */
static int checked_out_in_remote(git_repository *remote, const char *dst)
{
	git_reference *head = NULL;
	git_config *cfg = NULL;
	git_buf deny = GIT_BUF_INIT;
	int refused = 0;
	if (git_repository_is_bare(remote) || git_reference_lookup(&head, remote, "HEAD") < 0)
		return 0;
	if (git_reference_type(head) == GIT_REFERENCE_SYMBOLIC &&
	    strcmp(git_reference_symbolic_target(head), dst) == 0) {
		refused = 1;
		if (git_repository_config_snapshot(&cfg, remote) == 0 &&
		    git_config_get_string_buf(&deny, cfg, "receive.denyCurrentBranch") == 0 &&
		    (!strcmp(deny.ptr, "ignore") || !strcmp(deny.ptr, "warn") || !strcmp(deny.ptr, "false")))
			refused = 0;
	}
	git_buf_dispose(&deny);
	git_config_free(cfg);
	git_reference_free(head);
	return refused;
}

/* The child's half: check, then copy what the remote lacks into its object
 * store (a new pack: no lock is taken).  Says "up-to-date", or the remote
 * value it based the copy on ("based <hex>" or "based -"). */
int ps_push_local_objects(ps_buf *out, git_repository *local, git_repository *remote, const char *repo_path,
	const char *branch_ref, const char *remote_dir, const char *dst, const char *pack_dir, pushseal_error *err)
{
	git_repository *own_local = NULL, *own_remote = NULL;
	git_oid head, old;
	int has_old, rc = 0;

	if (ps_deadline_child_fresh()) {
		/* the parent's handles are unusable here (ps_deadline_child_fresh) */
		if ((rc = ps_repo_open(&own_local, repo_path, err)) < 0)
			return rc;
		ps_repo_pin_config(own_local);
		local = own_local;
	}
	if (git_reference_name_to_id(&head, local, branch_ref) < 0) {
		rc = ps_error_git(err, PUSHSEAL_E_INTERNAL, "cannot read %s", branch_ref);
		goto done;
	}
	if (ps_deadline_child_fresh()) {
		if (ps_remote_repo_open(&own_remote, remote_dir) < 0) {
			rc = ps_error_git(err, PUSHSEAL_E_UNREACHABLE, "cannot open the remote repository %s", remote_dir);
			goto done;
		}
		remote = own_remote;
	}
	if (checked_out_in_remote(remote, dst)) {
		rc = ps_error_set(err, PUSHSEAL_E_REJECTED,
			"%s is checked out in the non-bare remote %s; git refuses to update it", dst, remote_dir);
		goto done;
	}
	has_old = git_reference_name_to_id(&old, remote, dst) == 0;
	if (has_old && git_oid_equal(&old, &head)) {
		ps_buf_printf(out, "up-to-date");
		goto done;
	}
	if ((rc = ff_check(local, &head, has_old ? &old : NULL, dst, branch_ref, err)) < 0)
		goto done;
	if ((rc = copy_objects(local, remote, &head, has_old ? &old : NULL, pack_dir, err)) < 0)
		goto done;
	ps_buf_printf(out, "based %s", has_old ? git_oid_tostr_s(&old) : "-");
done:
	git_repository_free(own_remote);
	git_repository_free(own_local);
	return rc;
}

int ps_push_local_update(int *moved, git_repository *local, const git_oid *head, git_repository *remote,
	const char *remote_dir, const char *dst, const char *based, pushseal_error *err)
{
	ps_journal journal;
	ps_ref_lock rl;
	git_oid based_oid;
	int rc, based_none = !strcmp(based, "based -"), locked = 0;

	*moved = PUSHSEAL_UP_TO_DATE;
	if (!strcmp(based, "up-to-date"))
		return 0;
	if (!based_none && (strncmp(based, "based ", 6) != 0 || git_oid_fromstr(&based_oid, based + 6) < 0))
		return ps_error_set(err, PUSHSEAL_E_INTERNAL, "push worker said '%s'", based);
	memset(&journal, 0, sizeof(journal));
	/* a push of ours killed while it held this remote ref must not block it */
	ps_journal_recover(git_repository_commondir(remote));
	ps_test_hook("BEFORE_LOCK");
	if (ps_journal_begin(&journal, git_repository_commondir(remote), NULL) < 0) {
		rc = ps_error_set(err, PUSHSEAL_E_INTERNAL, "cannot write the crash journal in %s", remote_dir);
		goto done;
	}
	if ((rc = ps_ref_lock_take(&rl, remote, &journal, dst, err)) < 0) {
		if (rc == PUSHSEAL_E_LOCKED)
			rc = ps_error_set(err, PUSHSEAL_E_REJECTED, "remote rejected %s: cannot lock it (another push?)", dst);
		goto done;
	}
	locked = 1;
	ps_test_hook("AFTER_LOCK");
	/* under the lock, the remote's value cannot change until we commit */
	if (rl.has_old && git_oid_equal(&rl.old, head)) {
		rc = 0;
		goto done;
	}
	if (based_none ? rl.has_old : (!rl.has_old || !git_oid_equal(&rl.old, &based_oid))) {
		/* it moved since the copy: diverged now, or copy again from there */
		rc = ff_check(local, head, rl.has_old ? &rl.old : NULL, dst, "the pushed branch", err);
		if (rc == 0)
			rc = PS_PUSH_AGAIN;
		goto done;
	}
	if ((rc = ps_ref_lock_commit(&rl, head, "push", 0, err)) < 0) {
		rc = ps_error_set(err, PUSHSEAL_E_REJECTED, "remote rejected %s: failed to update ref", dst);
		goto done;
	}
	*moved = PUSHSEAL_MOVED;
done:
	if (locked)
		ps_ref_lock_release(&rl);
	ps_journal_end(&journal);
	return rc;
}
