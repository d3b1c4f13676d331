/* Opening a repository and finding the current branch's upstream. */
#include "internal.h"

#include <git2/sys/repository.h>

#include <dirent.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* libgit2 1.5 reports a foreign owner as "config value 'safe.directory' was
 * not found" on some paths; find the real owner so the message is true. */
static int owner_error(pushseal_error *err, const char *path)
{
	char gitdir[4096];
	struct stat st;
	snprintf(gitdir, sizeof(gitdir), "%s/.git", path);
	if (stat(gitdir, &st) != 0 && stat(path, &st) != 0)
		return ps_error_set(err, PUSHSEAL_E_OWNER, "%s: repository owned by another user", path);
	return ps_error_set(err, PUSHSEAL_E_OWNER,
		"%s: repository is owned by uid %ld, not by the current user (uid %ld); "
		"git refuses it too unless it is listed in safe.directory",
		path, (long)st.st_uid, (long)geteuid());
}

/* A live libgit2 config re-stats every config file on every get: a stable
 * tick stat()ed ~/.gitconfig 83 times.  A snapshot, made the repository's
 * own config, serves every read (ours, and libgit2's: user.email, core.*,
 * remote lookups) from memory.  A config that cannot be read stays live,
 * so that the step that reads it reports it as before. */
void ps_repo_pin_config(git_repository *repo)
{
	git_config *snap = NULL;
	if (git_repository_config_snapshot(&snap, repo) == 0)
		git_repository_set_config(repo, snap);
	git_config_free(snap);
}

int ps_repo_open(git_repository **out, const char *path, pushseal_error *err)
{
	struct stat st;
	int rc;
	*out = NULL;
	if (!path || !*path)
		return ps_error_set(err, PUSHSEAL_E_INVALID, "empty repository path");
	if (strlen(path) >= 4000)
		return ps_error_set(err, PUSHSEAL_E_INVALID, "repository path too long (%zu bytes)", strlen(path));
	if (stat(path, &st) != 0)
		return ps_error_set(err, PUSHSEAL_E_NOTREPO, "%s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return ps_error_set(err, PUSHSEAL_E_NOTREPO, "%s: not a directory", path);

	rc = git_repository_open_ext(out, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	if (rc == GIT_EOWNER) {
		*out = NULL;
		return owner_error(err, path);
	}
	if (rc < 0) {
		const git_error *last = git_error_last();
		*out = NULL;
		if (last && last->message && strstr(last->message, "safe.directory"))
			return owner_error(err, path);
		if (rc == GIT_ENOTFOUND)
			return ps_error_set(err, PUSHSEAL_E_NOTREPO, "%s: not a git repository", path);
		if (last && last->message && strstr(last->message, "unsupported extension"))
			return ps_error_set(err, PUSHSEAL_E_UNSUPPORTED, "libgit2 1.5 cannot open this repository: %s (%s)",
				last->message, path);
		return ps_error_git(err, PUSHSEAL_E_NOTREPO, "%s: cannot open repository", path);
	}
	if (git_repository_is_bare(*out)) {
		git_repository_free(*out);
		*out = NULL;
		return ps_error_set(err, PUSHSEAL_E_BARE, "%s: bare repository has no worktree", path);
	}
	return 0;
}

int ps_remote_repo_open(git_repository **out, const char *dir)
{
	int rc = git_repository_open_ext(out, dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	if (rc < 0)
		*out = NULL;
	else
		ps_repo_pin_config(*out);
	return rc;
}

static void fnv1a(unsigned long long *h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++)
		*h = (*h ^ p[i]) * 1099511628211ULL;
}

int ps_repo_identity(unsigned long long *out, git_repository *repo)
{
	char head[4200];
	struct stat gitdir, head_st;
	git_config *cfg = NULL;
	git_config_iterator *it = NULL;
	git_config_entry *e;
	unsigned long long h = 14695981039346656037ULL;
	*out = 0;
	/* the git directory itself (replaced, removed, turned into a gitlink)
	 * and its HEAD, without which git sees no repository there */
	snprintf(head, sizeof(head), "%sHEAD", git_repository_path(repo));
	if (stat(git_repository_path(repo), &gitdir) != 0 || stat(head, &head_st) != 0)
		return -1;
	fnv1a(&h, &gitdir.st_dev, sizeof(gitdir.st_dev));
	fnv1a(&h, &gitdir.st_ino, sizeof(gitdir.st_ino));
	/* what opening reads from the config; a plain iteration (no regex:
	 * libgit2 1.5.1 leaks PCRE2 match data on config regexes) */
	if (git_repository_config_snapshot(&cfg, repo) < 0 || git_config_iterator_new(&it, cfg) < 0) {
		git_config_free(cfg);
		return -1;
	}
	while (git_config_next(&e, it) == 0) {
		if (strncasecmp(e->name, "extensions.", 11) != 0 && strcasecmp(e->name, "core.bare") != 0 &&
		    strcasecmp(e->name, "core.worktree") != 0 && strcasecmp(e->name, "core.repositoryformatversion") != 0)
			continue;
		fnv1a(&h, e->name, strlen(e->name) + 1);
		fnv1a(&h, e->value ? e->value : "", e->value ? strlen(e->value) + 1 : 1);
	}
	git_config_iterator_free(it);
	git_config_free(cfg);
	*out = h;
	return 0;
}

int ps_repo_refresh(git_repository *repo)
{
	/* drops the config (and the core.* values libgit2 derived from it), the
	 * index, the object database (its pack list and pack descriptors), the
	 * ref database and the object and attribute caches; each is read again
	 * from the files when next used */
	if (git_repository__cleanup(repo) < 0)
		return -1;
	ps_repo_pin_config(repo);
	return 0;
}

static int config_string(char *dst, size_t n, git_config *cfg, const char *key)
{
	git_buf buf = GIT_BUF_INIT;
	int rc = git_config_get_string_buf(&buf, cfg, key);
	if (rc == 0) {
		if (buf.size >= n)
			rc = -1;
		else
			memcpy(dst, buf.ptr, buf.size + 1);
	}
	git_buf_dispose(&buf);
	return rc;
}

int ps_branch_open(git_repository **repo, ps_branch *b, const char *repo_path, int writable, pushseal_error *err)
{
	int rc = ps_repo_open(repo, repo_path, err);
	if (rc == 0)
		ps_repo_pin_config(*repo);
	if (rc == 0 && ((writable && (rc = ps_repo_check_writable(*repo, err)) < 0) ||
	                (rc = ps_branch_resolve(b, *repo, err)) < 0)) {
		git_repository_free(*repo);
		*repo = NULL;
	}
	return rc;
}

int ps_entry_open(git_repository **repo, ps_branch *b, const char *repo_path, const pushseal_options *opts,
	int writable, pushseal_error *err)
{
	int rc;
	*repo = NULL;
	ps_error_clear(err);
	if ((rc = ps_net_options_check(opts, err)) < 0)
		return rc;
	return ps_branch_open(repo, b, repo_path, writable, err);
}

int ps_branch_reload_tracking(ps_branch *b, git_repository *repo, pushseal_error *err)
{
	(void)err;
	/* one read of the ref (lookup, then resolve, read a direct ref twice) */
	b->has_tracking = git_reference_name_to_id(&b->tracking_oid, repo, b->tracking) == 0;
	return 0;
}

/* Map merge through the remote's fetch refspecs, as git_branch_upstream_name
 * does, but reading only plain config keys: libgit2 1.5.1's remote lookup
 * runs config regexes that leak PCRE2 match data on every call (fixed
 * upstream later), which a timer ticking thousands of repos cannot afford. */
typedef struct refspec_match {
	ps_branch *b;
	int found;
} refspec_match;

static int match_refspec(const git_config_entry *entry, void *payload)
{
	refspec_match *m = payload;
	git_refspec *spec = NULL;
	git_buf out = GIT_BUF_INIT;
	if (m->found || git_refspec_parse(&spec, entry->value, 1) < 0)
		return 0;
	if (git_refspec_src_matches(spec, m->b->merge) && git_refspec_transform(&out, spec, m->b->merge) == 0 &&
	    out.size < sizeof(m->b->tracking)) {
		memcpy(m->b->tracking, out.ptr, out.size + 1);
		m->found = 1;
	}
	git_buf_dispose(&out);
	git_refspec_free(spec);
	return 0;
}

static int tracking_ref(ps_branch *b, git_repository *repo, pushseal_error *err)
{
	git_config *cfg = NULL;
	git_buf url = GIT_BUF_INIT;
	refspec_match m = { b, 0 };
	char key[400];
	int has_url;

	if (git_repository_config_snapshot(&cfg, repo) < 0)
		return ps_error_git(err, PUSHSEAL_E_INTERNAL, "cannot read config");
	snprintf(key, sizeof(key), "remote.%s.url", b->remote);
	has_url = git_config_get_string_buf(&url, cfg, key) == 0;
	git_buf_dispose(&url);
	if (has_url) {
		snprintf(key, sizeof(key), "remote.%s.fetch", b->remote);
		git_config_get_multivar_foreach(cfg, key, NULL, match_refspec, &m);
	}
	git_config_free(cfg);
	if (!has_url)
		return ps_error_set(err, PUSHSEAL_E_NOUPSTREAM,
			"branch %s tracks remote '%s', which is not configured", b->name, b->remote);
	if (!m.found)
		return ps_error_set(err, PUSHSEAL_E_NOUPSTREAM,
			"no fetch refspec of remote '%s' maps %s", b->remote, b->merge);
	return 0;
}

int ps_branch_resolve(ps_branch *b, git_repository *repo, pushseal_error *err)
{
	git_reference *head = NULL;
	git_config *cfg = NULL;
	char key[1200];
	const char *target;
	int rc;

	memset(b, 0, sizeof(*b));
	rc = git_reference_lookup(&head, repo, "HEAD");
	if (rc < 0)
		return ps_error_git(err, PUSHSEAL_E_INTERNAL, "cannot read HEAD");
	if (git_reference_type(head) != GIT_REFERENCE_SYMBOLIC) {
		git_reference_free(head);
		return ps_error_set(err, PUSHSEAL_E_DETACHED, "HEAD is detached; not on a branch");
	}
	target = git_reference_symbolic_target(head);
	if (strncmp(target, "refs/heads/", 11) != 0 || strlen(target) >= sizeof(b->ref)) {
		git_reference_free(head);
		return ps_error_set(err, PUSHSEAL_E_DETACHED, "HEAD points at %s, not a branch", target);
	}
	snprintf(b->ref, sizeof(b->ref), "%s", target);
	b->name = b->ref + 11;
	git_reference_free(head);

	if (git_reference_name_to_id(&b->head, repo, b->ref) < 0)
		return ps_error_set(err, PUSHSEAL_E_UNBORN, "branch %s has no commits yet", b->name);

	if (git_repository_config_snapshot(&cfg, repo) < 0)
		return ps_error_git(err, PUSHSEAL_E_INTERNAL, "cannot read config");
	snprintf(key, sizeof(key), "branch.%s.remote", b->name);
	rc = config_string(b->remote, sizeof(b->remote), cfg, key);
	snprintf(key, sizeof(key), "branch.%s.merge", b->name);
	if (rc == 0)
		rc = config_string(b->merge, sizeof(b->merge), cfg, key);
	git_config_free(cfg);
	if (rc < 0)
		return ps_error_set(err, PUSHSEAL_E_NOUPSTREAM, "branch %s has no upstream branch", b->name);
	if (strcmp(b->remote, ".") == 0)
		return ps_error_set(err, PUSHSEAL_E_NOUPSTREAM,
			"branch %s tracks local branch %s, not a remote", b->name, b->merge);
	if ((rc = tracking_ref(b, repo, err)) < 0)
		return rc;
	return ps_branch_reload_tracking(b, repo, err);
}

/* A split index: core.splitIndex, or the shared index files git leaves. */
static int uses_split_index(git_repository *repo)
{
	git_config *cfg = NULL;
	DIR *d;
	struct dirent *e;
	int split = 0;
	if (git_repository_config_snapshot(&cfg, repo) == 0 && git_config_get_bool(&split, cfg, "core.splitIndex") < 0)
		split = 0;
	git_config_free(cfg);
	if (!split && (d = opendir(git_repository_path(repo))) != NULL) {
		while (!split && (e = readdir(d)) != NULL)
			split = !strncmp(e->d_name, "sharedindex.", 12);
		closedir(d);
	}
	return split;
}

int ps_repo_check_writable(git_repository *repo, pushseal_error *err)
{
	char lock[4096];
	int state;
	/* a run killed while holding locks must not block this one for ever */
	ps_journal_recover(git_repository_commondir(repo));
	if (uses_split_index(repo))
		return ps_error_set(err, PUSHSEAL_E_UNSUPPORTED,
			"%s uses a split index (core.splitIndex), which libgit2 1.5 cannot read; "
			"`git update-index --no-split-index` turns it off", git_repository_path(repo));
	snprintf(lock, sizeof(lock), "%sindex.lock", git_repository_path(repo));
	if (access(lock, F_OK) == 0)
		return ps_error_set(err, PUSHSEAL_E_LOCKED,
			"%s exists: another git process is running, or one crashed", lock);
	state = git_repository_state(repo);
	if (state != GIT_REPOSITORY_STATE_NONE) {
		static const char *const names[] = {
			"none", "merge", "revert", "revert sequence", "cherry-pick",
			"cherry-pick sequence", "bisect", "rebase", "interactive rebase",
			"rebase merge", "apply mailbox", "apply mailbox or rebase",
		};
		const char *name = (state > 0 && (size_t)state < sizeof(names) / sizeof(names[0]))
			? names[state] : "operation";
		return ps_error_set(err, PUSHSEAL_E_INPROGRESS, "a %s is in progress; finish or abort it first", name);
	}
	return 0;
}

int ps_signature(git_signature **out, git_repository *repo)
{
	if (git_signature_default(out, repo) == 0)
		return 0;
	return git_signature_now(out, "pushseal", "pushseal@localhost");
}
