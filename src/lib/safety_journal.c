/*
 * The crash journal, and lock files whose ownership can be proven.
 *
 * The rule: a lock file is removed only by the process that created it, or
 * after that process is proven dead AND proven to be its creator.  Timing
 * never proves anything (a live `git commit` may have taken index.lock a
 * millisecond after our run began), so proof works like this:
 *
 *  - a run writes <commondir>/pushseal-journal.<pid>-<start>.<n>, naming
 *    itself by pid and start time (so a reused pid cannot match);
 *  - to take a lock it creates a private file, records that file's inode
 *    and mtime in the journal, and only then link()s it to the lock's name
 *    (which fails, as O_EXCL does, when someone else holds the lock): the
 *    inode is on record before the lock exists;
 *  - it never writes into the lock file, so inode and mtime stay as
 *    recorded; new content goes to a private temporary file that is renamed
 *    onto the target, and then the lock is unlinked.
 *
 * A later run that finds a journal whose process is dead removes exactly
 * the lock files that still carry a recorded inode and mtime, and its own
 * private temporaries; if the dead run was moving a worktree it undoes the
 * half-written checkout losslessly.  A lock it cannot prove stays, and the
 * operation reports `locked`, as git itself does.
 */
#define _GNU_SOURCE
#include "internal.h"
#include "proc_stat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define JOURNAL_PREFIX "pushseal-journal."

static unsigned long long start_time(pid_t pid)
{
	ps_proc_info info;
	return ps_proc_info_read(&info, pid) == 0 ? info.started : 0;
}

/* Is the process (pid, started) provably dead?  Without /proc, or without
 * a recorded start time, nothing is proven. */
static int proven_dead(pid_t pid, unsigned long long started)
{
	ps_proc_info info;
	if (started == 0)
		return 0;
	if (kill(pid, 0) != 0 && errno == ESRCH)
		return 1;
	if (ps_proc_info_read(&info, pid) != 0)
		return 0;
	if (info.state == 'Z' || info.state == 'X')
		return 1; /* a zombie holds no lock */
	return info.started != started; /* the pid was reused */
}

static unsigned int journal_seq;

int ps_journal_begin(ps_journal *j, const char *dir, const char *move_line)
{
	FILE *f;
	pid_t pid = getpid();
	j->active = 0;
	j->started = start_time(pid);
	j->seq = 0;
	snprintf(j->dir, sizeof(j->dir), "%s", dir);
	j->id = journal_seq++;
	snprintf(j->path, sizeof(j->path), "%s" JOURNAL_PREFIX "%d-%llu.%u", dir, (int)pid, j->started, j->id);
	if (!(f = fopen(j->path, "we")))
		return -1;
	fprintf(f, "pid %d %llu\n", (int)pid, j->started);
	if (move_line)
		fprintf(f, "move %s\n", move_line);
	if (fclose(f) != 0) {
		unlink(j->path);
		return -1;
	}
	j->active = 1;
	return 0;
}

/* Append one line to the journal; -1 when it could not be recorded. */
static int journal_note(ps_journal *j, const char *fmt, ...) PS_ATTR_PRINTF(2, 3);
static int journal_note(ps_journal *j, const char *fmt, ...)
{
	va_list ap;
	FILE *f;
	int bad;
	if (!j->active || !(f = fopen(j->path, "ae")))
		return -1;
	va_start(ap, fmt);
	bad = vfprintf(f, fmt, ap) < 0; /* NOLINT(clang-analyzer-valist.Uninitialized): clang 14 false positive */
	va_end(ap);
	return (fclose(f) != 0 || bad) ? -1 : 0;
}

int ps_journal_tmp(ps_journal *j, char *dst, size_t n)
{
	if (!j->active)
		return -1;
	snprintf(dst, n, "%spushseal-tmp.%d-%llu.%u.%u", j->dir, (int)getpid(), j->started, j->id, j->seq++);
	return journal_note(j, "tmp %s\n", dst);
}

int ps_journal_note_tmp(ps_journal *j, const char *path)
{
	return journal_note(j, "tmp %s\n", path);
}

void ps_journal_end(ps_journal *j)
{
	if (j->active)
		unlink(j->path);
	j->active = 0;
}

/* lock files ------------------------------------------------------------- */

/* mkdir -p of path's parent directory. */
static void make_parents(const char *path)
{
	char dir[4300];
	char *slash;
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
		ps_mkdir_p(dir);
	}
}

int ps_lockfile_take(ps_lockfile *l, ps_journal *j, const char *path, pushseal_error *err)
{
	char tmp[4300];
	struct stat st;
	int fd, rc;

	memset(l, 0, sizeof(*l));
	snprintf(l->path, sizeof(l->path), "%s", path);
	if (ps_journal_tmp(j, tmp, sizeof(tmp)) < 0)
		return ps_error_set(err, PUSHSEAL_E_INTERNAL, "cannot write the crash journal in %s", j->dir);
	fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666);
	if (fd < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		return ps_error_set(err, PUSHSEAL_E_INTERNAL, "cannot create %s: %s", tmp, strerror(errno));
	}
	close(fd);
	l->ino = (unsigned long long)st.st_ino;
	l->mtime_sec = (long long)st.st_mtim.tv_sec;
	l->mtime_nsec = st.st_mtim.tv_nsec;
	/* on record before the lock exists: a later run can prove it ours */
	if (journal_note(j, "lock %llu %lld %ld %s\n", l->ino, l->mtime_sec, l->mtime_nsec, path) < 0) {
		unlink(tmp);
		return ps_error_set(err, PUSHSEAL_E_INTERNAL, "cannot write the crash journal in %s", j->dir);
	}
	rc = link(tmp, path);
	if (rc != 0 && errno == ENOENT) {
		make_parents(path);
		rc = link(tmp, path);
	}
	if (rc != 0) {
		int e = errno;
		unlink(tmp);
		if (e == EEXIST)
			return ps_error_set(err, PUSHSEAL_E_LOCKED,
				"%s exists: another git process is running, or one crashed", path);
		return ps_error_set(err, PUSHSEAL_E_INTERNAL, "cannot create %s: %s", path, strerror(e));
	}
	unlink(tmp);
	l->held = 1;
	return 0;
}

/* Does the file at path still carry the inode and mtime on record? */
static int is_recorded(const char *path, unsigned long long ino, long long sec, long nsec)
{
	struct stat st;
	return lstat(path, &st) == 0 && (unsigned long long)st.st_ino == ino &&
		(long long)st.st_mtim.tv_sec == sec && st.st_mtim.tv_nsec == nsec;
}

void ps_lockfile_release(ps_lockfile *l)
{
	if (l->held && is_recorded(l->path, l->ino, l->mtime_sec, l->mtime_nsec))
		unlink(l->path);
	l->held = 0;
}

int ps_lockfile_commit(ps_lockfile *l, ps_journal *j, const char *target, const void *data, size_t len,
	pushseal_error *err)
{
	char tmp[4300];
	FILE *f;
	int bad;
	if (!l->held)
		return ps_error_set(err, PUSHSEAL_E_INTERNAL, "%s is not locked", target);
	if (ps_journal_tmp(j, tmp, sizeof(tmp)) < 0 || !(f = fopen(tmp, "we")))
		return ps_error_set(err, PUSHSEAL_E_INTERNAL, "cannot write a temporary file for %s", target);
	bad = fwrite(data, 1, len, f) != len;
	if (fclose(f) != 0 || bad || rename(tmp, target) != 0) {
		int e = errno;
		unlink(tmp);
		return ps_error_set(err, PUSHSEAL_E_INTERNAL, "cannot write %s: %s", target, strerror(e));
	}
	ps_test_hook_arg("REF_RENAMED", target); /* test-only: a death before the lock is dropped */
	ps_lockfile_release(l);
	return 0;
}

/* recovery --------------------------------------------------------------- */

/* Is the file at `path` a strict prefix of the blob `id`?  That is the file
 * the dead checkout was writing when it was killed. */
static int prefix_of_blob(git_repository *repo, const char *path, const git_oid *id)
{
	git_blob *blob = NULL;
	FILE *f = fopen(path, "rbe");
	int prefix = 0;
	if (f && git_blob_lookup(&blob, repo, id) == 0) {
		const unsigned char *want = git_blob_rawcontent(blob);
		size_t size = (size_t)git_blob_rawsize(blob), got = 0;
		unsigned char buf[8192];
		size_t r;
		prefix = 1;
		while (prefix && (r = fread(buf, 1, sizeof(buf), f)) > 0) {
			if (got + r >= size || memcmp(buf, want + got, r) != 0)
				prefix = 0;
			got += r;
		}
	}
	git_blob_free(blob);
	if (f)
		fclose(f);
	return prefix;
}

/* Put back HEAD's version of every path the dead move changed whose
 * worktree bytes are exactly the target's: nothing is lost, since those
 * bytes are a blob of the target commit. */
static void undo_half_checkout(git_repository *repo, const char *from_hex, const char *to_hex)
{
	git_oid from_id, to_id;
	git_commit *from = NULL, *to = NULL;
	git_tree *from_tree = NULL, *to_tree = NULL;
	git_diff *diff = NULL;
	const char *workdir = git_repository_workdir(repo);

	if (!workdir || git_oid_fromstr(&from_id, from_hex) < 0 || git_oid_fromstr(&to_id, to_hex) < 0 ||
	    git_commit_lookup(&from, repo, &from_id) < 0 || git_commit_lookup(&to, repo, &to_id) < 0 ||
	    git_commit_tree(&from_tree, from) < 0 || git_commit_tree(&to_tree, to) < 0 ||
	    git_diff_tree_to_tree(&diff, repo, from_tree, to_tree, NULL) < 0)
		goto done;
	for (size_t i = 0; i < git_diff_num_deltas(diff); i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		char path[4200];
		git_oid on_disk;
		if (d->status != GIT_DELTA_ADDED && d->status != GIT_DELTA_MODIFIED)
			continue;
		snprintf(path, sizeof(path), "%s%s", workdir, d->new_file.path);
		if (git_odb_hashfile(&on_disk, path, GIT_OBJECT_BLOB) < 0)
			continue;
		if (!git_oid_equal(&on_disk, &d->new_file.id) && !prefix_of_blob(repo, path, &d->new_file.id))
			continue; /* not what the dead checkout wrote: leave it alone */
		if (d->status == GIT_DELTA_ADDED) {
			unlink(path);
		} else {
			git_blob *old = NULL;
			FILE *f;
			if (git_blob_lookup(&old, repo, &d->old_file.id) == 0 && (f = fopen(path, "wbe"))) {
				fwrite(git_blob_rawcontent(old), 1, (size_t)git_blob_rawsize(old), f);
				fclose(f);
			}
			git_blob_free(old);
		}
	}
done:
	git_diff_free(diff);
	git_tree_free(to_tree);
	git_tree_free(from_tree);
	git_commit_free(to);
	git_commit_free(from);
}

/* Does the index hold exactly the tree of commit `to_hex`? */
static int index_is(git_repository *repo, const char *to_hex)
{
	git_index *index = NULL;
	git_commit *to = NULL;
	git_oid to_id, tree;
	int same = 0;
	if (git_oid_fromstr(&to_id, to_hex) == 0 && git_commit_lookup(&to, repo, &to_id) == 0 &&
	    git_repository_index(&index, repo) == 0 && git_index_read(index, 1) == 0 &&
	    !git_index_has_conflicts(index) && git_index_write_tree(&tree, index) == 0)
		same = git_oid_equal(&tree, git_commit_tree_id(to));
	git_index_free(index);
	git_commit_free(to);
	return same;
}

/* The dead run was moving a worktree and the branch never moved:
 *  - its checkout finished and its index was written (the index holds the
 *    target's tree): only the branch update is missing, so finish it, a
 *    fast-forward the dead run had checked under its lock;
 *  - otherwise the worktree may hold part of the target and the index is
 *    the old one: put the old files back. */
static void recover_move(const char *ref, const char *from, const char *to, const char *workdir)
{
	git_repository *repo = NULL;
	git_oid now, from_id, to_id;
	if (git_repository_open_ext(&repo, workdir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
		return;
	if (git_reference_name_to_id(&now, repo, ref) == 0 && !strcmp(git_oid_tostr_s(&now), from)) {
		if (index_is(repo, to) && git_oid_fromstr(&from_id, from) == 0 && git_oid_fromstr(&to_id, to) == 0) {
			ps_journal j;
			ps_ref_lock rl;
			if (ps_journal_begin(&j, git_repository_commondir(repo), NULL) == 0) {
				if (ps_ref_lock_take(&rl, repo, &j, ref, NULL) == 0) {
					if (rl.has_old && git_oid_equal(&rl.old, &from_id))
						ps_ref_lock_commit(&rl, &to_id, "pull --ff-only: Fast-forward (finished after a crash)",
							1, NULL);
					ps_ref_lock_release(&rl);
				}
				ps_journal_end(&j);
			}
		} else {
			undo_half_checkout(repo, from, to);
		}
	}
	git_repository_free(repo);
}

/* A dead run's private file, or its private directory (a push's pack
 * directory: temporary packs, their .lock, a finished pack not yet moved)
 * and what is directly in it.  Named with the dead run's pid and start. */
static void remove_private(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	if (!d) {
		unlink(path);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		char sub[8800];
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		unlink(sub);
	}
	closedir(d);
	rmdir(path);
}

static void recover_one(const char *journal)
{
	char line[8400], ref[1100] = "", from[64] = "", to[64] = "", workdir[4200] = "";
	int pid = 0, locks_left = 0, moving = 0;
	unsigned long long started = 0;
	FILE *f = fopen(journal, "re");
	if (!f)
		return;
	/* NOLINTNEXTLINE(cert-err34-c): our own file; a malformed line just fails to match */
	if (!fgets(line, sizeof(line), f) || sscanf(line, "pid %d %llu", &pid, &started) != 2) {
		/* killed before its first line was written: the name says who it
		 * was ("pushseal-journal.PID-START.N"), and it recorded nothing */
		const char *base = strrchr(journal, '/');
		fclose(f);
		/* NOLINTNEXTLINE(cert-err34-c): our own name; a malformed one matches nothing */
		if (base && sscanf(base + 1, JOURNAL_PREFIX "%d-%llu.", &pid, &started) == 2 &&
		    proven_dead((pid_t)pid, started))
			unlink(journal);
		return;
	}
	if (!proven_dead((pid_t)pid, started)) {
		fclose(f);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long long ino;
		long long sec;
		long nsec;
		int off = 0;
		line[strcspn(line, "\n")] = '\0';
		/* NOLINTBEGIN(cert-err34-c): our own file; a malformed line matches nothing */
		if (sscanf(line, "move %1099s %63s %63s %n", ref, from, to, &off) == 3 && off > 0) {
			snprintf(workdir, sizeof(workdir), "%s", line + off);
			moving = 1;
		} else if (!strncmp(line, "tmp ", 4) && strstr(line + 4, "/pushseal-tmp.")) {
			char lock[8500];
			remove_private(line + 4); /* the dead run's private file or directory */
			snprintf(lock, sizeof(lock), "%s.lock", line + 4);
			unlink(lock); /* and libgit2's lock on it, when it wrote one there */
		} else if (sscanf(line, "lock %llu %lld %ld %n", &ino, &sec, &nsec, &off) == 3 && off > 0) {
			/* NOLINTEND(cert-err34-c) */
			if (is_recorded(line + off, ino, sec, nsec) && unlink(line + off) != 0)
				locks_left++;
		}
	}
	fclose(f);
	if (moving && workdir[0])
		recover_move(ref, from, to, workdir);
	if (locks_left == 0)
		unlink(journal);
}

void ps_journal_recover(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		char path[4400];
		if (strncmp(e->d_name, JOURNAL_PREFIX, strlen(JOURNAL_PREFIX)) != 0)
			continue;
		snprintf(path, sizeof(path), "%s%s", dir, e->d_name);
		recover_one(path);
	}
	closedir(d);
}
