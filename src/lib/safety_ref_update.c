/*
 * Ref updates under lock files we can prove are ours (safety_journal.c), written
 * the way git writes them: the new value in a loose ref file renamed into
 * place, a reflog line appended where git would append one, and
 * packed-refs rewritten only to delete a ref that is packed.
 *
 * libgit2's own ref writers take their locks internally, where a crash
 * leaves a lock nobody can prove is ours; these do not.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ps_ref_lock_take(ps_ref_lock *rl, git_repository *repo, ps_journal *j, const char *refname,
	pushseal_error *err)
{
	char lock[4400];
	int rc;
	memset(rl, 0, sizeof(*rl));
	rl->repo = repo;
	rl->journal = j;
	snprintf(rl->name, sizeof(rl->name), "%s", refname);
	snprintf(rl->loose, sizeof(rl->loose), "%s%s", git_repository_commondir(repo), refname);
	snprintf(lock, sizeof(lock), "%s.lock", rl->loose);
	if ((rc = ps_lockfile_take(&rl->lock, j, lock, err)) < 0)
		return rc;
	/* under the lock, the value cannot change until we commit */
	rl->has_old = git_reference_name_to_id(&rl->old, repo, refname) == 0;
	ps_test_hook_arg("REF_LOCKED", rl->loose); /* test-only: a death holding the lock */
	return 0;
}

void ps_ref_lock_release(ps_ref_lock *rl)
{
	ps_lockfile_release(&rl->lock);
}

/* git's should_autocreate_reflog(), with an existing log always appended to. */
static int should_log(git_repository *repo, const char *refname, const char *logpath)
{
	git_config *cfg = NULL;
	git_buf v = GIT_BUF_INIT;
	int log;
	if (access(logpath, F_OK) == 0)
		return 1;
	log = !git_repository_is_bare(repo);
	if (git_repository_config_snapshot(&cfg, repo) == 0 &&
	    git_config_get_string_buf(&v, cfg, "core.logAllRefUpdates") == 0) {
		if (!strcasecmp(v.ptr, "always"))
			log = 2;
		else
			log = !strcasecmp(v.ptr, "true") || !strcasecmp(v.ptr, "yes") || !strcasecmp(v.ptr, "on") ||
				!strcmp(v.ptr, "1");
	}
	git_buf_dispose(&v);
	git_config_free(cfg);
	if (log == 2)
		return 1;
	return log && (!strncmp(refname, "refs/heads/", 11) || !strncmp(refname, "refs/remotes/", 13) ||
		!strncmp(refname, "refs/notes/", 11) || !strcmp(refname, "HEAD"));
}

/* Append "<old> <new> <name> <email> <time> <tz>\t<msg>" as git does:
 * O_APPEND, no lock (git takes none for reflogs either). */
static void append_reflog(git_repository *repo, const char *dir, const char *refname, const git_oid *old,
	const git_oid *to, const char *msg)
{
	char path[4300], old_hex[GIT_OID_HEXSZ + 1], new_hex[GIT_OID_HEXSZ + 1], clean[512];
	git_signature *sig = NULL;
	ps_buf line = { 0 };
	int fd, off;
	snprintf(path, sizeof(path), "%slogs/%s", dir, refname);
	if (!should_log(repo, refname, path) || ps_signature(&sig, repo) < 0)
		return;
	snprintf(clean, sizeof(clean), "%s", msg);
	for (char *p = clean; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
	if (old)
		git_oid_tostr(old_hex, sizeof(old_hex), old);
	else
		memset(old_hex, '0', sizeof(old_hex) - 1), old_hex[sizeof(old_hex) - 1] = '\0';
	git_oid_tostr(new_hex, sizeof(new_hex), to);
	off = sig->when.offset;
	if (ps_buf_printf(&line, "%s %s %s <%s> %lld %c%02d%02d\t%s\n", old_hex, new_hex, sig->name, sig->email,
		(long long)sig->when.time, off < 0 ? '-' : '+', abs(off) / 60, abs(off) % 60, clean) == 0) {
		char *slash = strrchr(path, '/');
		*slash = '\0';
		ps_mkdir_p(path);
		*slash = '/';
		if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666)) >= 0) {
			if (write(fd, line.ptr, line.len) != (ssize_t)line.len) {
				/* a reflog is history, not state: the ref itself is written */
			}
			close(fd);
		}
	}
	ps_buf_free(&line);
	git_signature_free(sig);
}

int ps_ref_lock_commit(ps_ref_lock *rl, const git_oid *to, const char *msg, int log_head, pushseal_error *err)
{
	char content[GIT_OID_HEXSZ + 2];
	const size_t hex = sizeof(content) - 2;
	int rc;
	git_oid_tostr(content, hex + 1, to);
	content[hex] = '\n';
	content[hex + 1] = '\0';
	if ((rc = ps_lockfile_commit(&rl->lock, rl->journal, rl->loose, content, hex + 1, err)) < 0)
		return rc;
	append_reflog(rl->repo, git_repository_commondir(rl->repo), rl->name, rl->has_old ? &rl->old : NULL, to, msg);
	if (log_head)
		append_reflog(rl->repo, git_repository_path(rl->repo), "HEAD", rl->has_old ? &rl->old : NULL, to, msg);
	{
		/* a shared repository stays usable by the group: the ref, its
		 * reflog and any directory made for them */
		int perm = ps_shared_perm(rl->repo);
		if (perm) {
			char path[4400];
			const char *dirs[] = { git_repository_commondir(rl->repo), NULL };
			snprintf(path, sizeof(path), "%slogs/%s", dirs[0], rl->name);
			ps_adjust_shared_perm(perm, rl->loose);
			ps_adjust_shared_perm(perm, path);
			for (int k = 0; k < 2; k++) {
				char *slash;
				snprintf(path, sizeof(path), "%s%s%s", dirs[0], k ? "logs/" : "", rl->name);
				while ((slash = strrchr(path, '/')) && (size_t)(slash - path) > strlen(dirs[0])) {
					*slash = '\0';
					ps_adjust_shared_perm(perm, path);
				}
			}
		}
	}
	return 0;
}

/* Rewrite packed-refs without `refname` (and its peeled line). */
static int unpack_ref(git_repository *repo, ps_journal *j, const char *refname, pushseal_error *err)
{
	char path[4300], lockpath[4400];
	ps_lockfile lock;
	ps_buf out = { 0 };
	const size_t nlen = strlen(refname), hex = GIT_OID_HEXSZ;
	int found = 0, rc, skip_peel = 0;
	char *line = NULL;
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%spacked-refs", git_repository_commondir(repo));
	if (access(path, F_OK) != 0)
		return 0;
	snprintf(lockpath, sizeof(lockpath), "%s.lock", path);
	if ((rc = ps_lockfile_take(&lock, j, lockpath, err)) < 0)
		return rc;
	if (!(f = fopen(path, "re"))) {
		ps_lockfile_release(&lock);
		return 0;
	}
	while (getline(&line, &cap, f) > 0) {
		size_t len = strlen(line);
		if (skip_peel && line[0] == '^')
			continue;
		skip_peel = 0;
		if (len > hex + 1 + nlen && line[hex] == ' ' && !strncmp(line + hex + 1, refname, nlen) &&
		    (line[hex + 1 + nlen] == '\n' || line[hex + 1 + nlen] == '\0')) {
			found = skip_peel = 1;
			continue;
		}
		if (ps_buf_put(&out, line, len) < 0) {
			rc = ps_error_set(err, PUSHSEAL_E_INTERNAL, "out of memory");
			break;
		}
	}
	free(line);
	fclose(f);
	if (rc == 0 && found)
		rc = ps_lockfile_commit(&lock, j, path, out.ptr ? out.ptr : "", out.len, err);
	ps_lockfile_release(&lock);
	ps_buf_free(&out);
	return rc;
}

int ps_ref_delete(git_repository *repo, ps_journal *j, const char *refname, const git_oid *expected,
	pushseal_error *err)
{
	ps_ref_lock rl;
	char log[4300];
	int rc;
	if ((rc = ps_ref_lock_take(&rl, repo, j, refname, err)) < 0)
		return rc;
	if (!rl.has_old || (expected && !git_oid_equal(&rl.old, expected)))
		goto done; /* gone or moved meanwhile: not ours to delete */
	if ((rc = unpack_ref(repo, j, refname, err)) < 0)
		goto done;
	if (unlink(rl.loose) != 0 && errno != ENOENT) {
		rc = ps_error_set(err, PUSHSEAL_E_INTERNAL, "cannot delete %s: %s", rl.loose, strerror(errno));
		goto done;
	}
	snprintf(log, sizeof(log), "%slogs/%s", git_repository_commondir(repo), refname);
	unlink(log);
done:
	ps_ref_lock_release(&rl);
	return rc;
}

int ps_ref_set(git_repository *repo, ps_journal *j, const char *refname, const git_oid *expected,
	int must_not_exist, const git_oid *to, const char *msg, pushseal_error *err)
{
	ps_ref_lock rl;
	int rc;
	if ((rc = ps_ref_lock_take(&rl, repo, j, refname, err)) < 0)
		return rc;
	if ((must_not_exist && rl.has_old) || (expected && (!rl.has_old || !git_oid_equal(&rl.old, expected))) ||
	    (rl.has_old && git_oid_equal(&rl.old, to))) {
		ps_ref_lock_release(&rl);
		return 0; /* moved meanwhile, or already there */
	}
	rc = ps_ref_lock_commit(&rl, to, msg, 0, err);
	ps_ref_lock_release(&rl);
	return rc;
}

void ps_mkdir_p(const char *dir)
{
	char path[4300];
	size_t n = (size_t)snprintf(path, sizeof(path), "%s/", dir);
	if (n >= sizeof(path))
		return;
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(path, 0777);
		*p = '/';
	}
}
