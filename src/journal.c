/*
 * A crash journal, so that a run killed while it held git lock files (a
 * branch ref during a pull, index.lock during its checkout, a remote's ref
 * during a local push) does not block every later run for ever.
 *
 * Before locking, pushseal writes <gitdir>/pushseal-journal.<pid>; after
 * taking each lock it records the lock file's inode and mtime there; when
 * done it deletes the journal.  A later run that finds a journal whose
 * process is dead removes exactly the lock files recorded in it that still
 * have the recorded inode and mtime -- provably the dead run's own, never a
 * live process's -- and, if the dead run was moving the worktree, undoes
 * the half-written checkout losslessly (every file it wrote is a blob of the
 * target commit), so the next pull starts from the old, consistent state.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define JOURNAL_PREFIX "pushseal-journal."

/* A process's state letter (field 3 of /proc/PID/stat) and start time
 * (field 22), which with the pid identifies it even after pid reuse.
 * Returns 0, or -1 when the process (or /proc) is not there. */
static int proc_stat(pid_t pid, char *state, unsigned long long *started)
{
	char path[64], buf[1024];
	FILE *f;
	int rc = -1;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	if (fgets(buf, sizeof(buf), f)) {
		/* after "pid (comm)", whose comm may hold spaces */
		char *p = strrchr(buf, ')');
		if (p && p[1] == ' ') {
			*state = p[2];
			for (int field = 2; p && field < 22; field++)
				p = strchr(p + 1, ' ');
			*started = p ? strtoull(p + 1, NULL, 10) : 0;
			rc = 0;
		}
	}
	fclose(f);
	return rc;
}

static unsigned long long start_time(pid_t pid)
{
	char state;
	unsigned long long started = 0;
	return proc_stat(pid, &state, &started) == 0 ? started : 0;
}

static int alive(pid_t pid, unsigned long long started)
{
	char state = 0;
	unsigned long long now_started = 0;
	if (kill(pid, 0) != 0 && errno == ESRCH)
		return 0;
	if (proc_stat(pid, &state, &now_started) != 0)
		return 1; /* no /proc: trust kill() */
	/* a zombie holds no lock: it is dead, only not yet reaped */
	if (state == 'Z' || state == 'X')
		return 0;
	/* the pid exists: the same process only if it started at the same time */
	return started == 0 || now_started == started;
}

int ps_journal_begin(ps_journal *j, const char *gitdir, const char *move_line)
{
	FILE *f;
	j->active = 0;
	snprintf(j->path, sizeof(j->path), "%s" JOURNAL_PREFIX "%d", gitdir, (int)getpid());
	snprintf(j->gitdir, sizeof(j->gitdir), "%s", gitdir);
	if (!(f = fopen(j->path, "w")))
		return -1;
	{
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		fprintf(f, "pid %d %llu\nsince %lld %ld\n", (int)getpid(), start_time(getpid()),
			(long long)now.tv_sec, now.tv_nsec);
	}
	if (move_line)
		fprintf(f, "move %s\n", move_line);
	if (fclose(f) != 0)
		return -1;
	j->active = 1;
	return 0;
}

void ps_journal_lock(ps_journal *j, const char *lock_rel)
{
	char path[4200];
	struct stat st;
	FILE *f;
	if (!j->active)
		return;
	snprintf(path, sizeof(path), "%s%s", j->gitdir, lock_rel);
	if (stat(path, &st) != 0 || !(f = fopen(j->path, "a")))
		return;
	fprintf(f, "lock %llu %lld %ld %s\n", (unsigned long long)st.st_ino, (long long)st.st_mtim.tv_sec,
		st.st_mtim.tv_nsec, lock_rel);
	fclose(f);
}

void ps_journal_maybe(ps_journal *j, const char *rel)
{
	FILE *f;
	if (!j->active || !(f = fopen(j->path, "a")))
		return;
	fprintf(f, "maybe %s\n", rel);
	fclose(f);
}

int ps_journal_begin_caches(ps_journal *j, const char *gitdir, const char *remote)
{
	char tracking[600];
	if (ps_journal_begin(j, gitdir, NULL) < 0)
		return -1;
	snprintf(tracking, sizeof(tracking), "refs/remotes/%s", remote);
	ps_journal_maybe(j, "FETCH_HEAD.lock");
	ps_journal_maybe(j, tracking);
	return 0;
}

void ps_journal_end(ps_journal *j)
{
	if (j->active)
		unlink(j->path);
	j->active = 0;
}

/* Is the file at `path` a strict prefix of the blob `id`?  That is the file
 * the dead checkout was writing when it was killed. */
static int prefix_of_blob(git_repository *repo, const char *path, const git_oid *id)
{
	git_blob *blob = NULL;
	FILE *f = fopen(path, "rb");
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
			if (git_blob_lookup(&old, repo, &d->old_file.id) == 0 && (f = fopen(path, "wb"))) {
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

static int newer(const struct stat *st, long long sec, long nsec)
{
	return (long long)st->st_mtim.tv_sec > sec ||
		((long long)st->st_mtim.tv_sec == sec && st->st_mtim.tv_nsec >= nsec);
}

/* Remove *.lock files at or under `path` made since (sec, nsec). */
static void remove_new_locks_under(const char *path, long long sec, long nsec, int depth)
{
	struct stat st;
	size_t n = strlen(path);
	if (depth > 16 || lstat(path, &st) != 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *e;
		if (!d)
			return;
		while ((e = readdir(d)) != NULL) {
			char sub[4400];
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
			remove_new_locks_under(sub, sec, nsec, depth + 1);
		}
		closedir(d);
	} else if (S_ISREG(st.st_mode) && n > 5 && !strcmp(path + n - 5, ".lock") && newer(&st, sec, nsec)) {
		unlink(path);
	}
}

static void recover_one(const char *gitdir, const char *journal, git_repository *repo)
{
	char line[4400], ref[1100] = "", from[64] = "", to[64] = "";
	int pid = 0, locks_left = 0, moving = 0;
	unsigned long long started = 0;
	FILE *f = fopen(journal, "r");
	if (!f)
		return;
	/* NOLINTNEXTLINE(cert-err34-c): our own file; a malformed line just fails to match */
	if (!fgets(line, sizeof(line), f) || sscanf(line, "pid %d %llu", &pid, &started) < 1 ||
	    alive((pid_t)pid, started)) {
		fclose(f);
		return;
	}
	long long since_sec = 0;
	long since_nsec = 0;
	int has_since = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long ino;
		long long sec;
		long nsec;
		int off = 0;
		line[strcspn(line, "\n")] = '\0';
		/* NOLINTBEGIN(cert-err34-c): our own file; a malformed line matches nothing */
		if (sscanf(line, "since %lld %ld", &since_sec, &since_nsec) == 2) {
			has_since = 1;
		} else if (!strncmp(line, "maybe ", 6) && has_since && !strstr(line, "..")) {
			/* locks libgit2 takes internally (fetch): any made after the dead
			 * run began; only caches (FETCH_HEAD, tracking refs) live there */
			char path[4400];
			snprintf(path, sizeof(path), "%s%s", gitdir, line + 6);
			remove_new_locks_under(path, since_sec, since_nsec, 0);
		} else if (sscanf(line, "move %1023s %63s %63s", ref, from, to) == 3) {
			moving = 1;
		} else if (sscanf(line, "lock %llu %lld %ld %n", &ino, &sec, &nsec, &off) == 3 && off > 0) {
			/* NOLINTEND(cert-err34-c) */
			char path[4400];
			struct stat st;
			snprintf(path, sizeof(path), "%s%s", gitdir, line + off);
			if (stat(path, &st) == 0 && (unsigned long long)st.st_ino == ino &&
			    (long long)st.st_mtim.tv_sec == sec && st.st_mtim.tv_nsec == nsec) {
				if (unlink(path) != 0)
					locks_left++;
			}
		}
	}
	fclose(f);
	if (moving && repo) {
		git_oid now;
		/* the ref never moved: the worktree may hold part of the target */
		if (git_reference_name_to_id(&now, repo, ref) == 0 && !strcmp(git_oid_tostr_s(&now), from))
			undo_half_checkout(repo, from, to);
	}
	if (locks_left == 0)
		unlink(journal);
}

void ps_journal_recover(const char *gitdir, git_repository *repo)
{
	DIR *d = opendir(gitdir);
	struct dirent *e;
	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		char path[4400];
		if (strncmp(e->d_name, JOURNAL_PREFIX, strlen(JOURNAL_PREFIX)) != 0)
			continue;
		snprintf(path, sizeof(path), "%s%s", gitdir, e->d_name);
		recover_one(gitdir, path, repo);
	}
	closedir(d);
}
