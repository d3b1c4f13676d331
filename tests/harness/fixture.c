/* Fixture topologies, built in-process with libgit2 (fast), never with pushseal. */
#define _GNU_SOURCE
#include "harness.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FX_EPOCH 1700000000

void ps_git_pass(int rc, const char *what, const char *file, int line)
{
	const git_error *e;
	if (rc >= 0)
		return;
	e = git_error_last();
	print_error("%s:%d: fixture: %s failed (%d): %s\n", file, line, what, rc,
		e && e->message ? e->message : "no message");
	_fail(file, line);
}

git_repository *fx_open(ps_ctx *ctx, const char *rel)
{
	git_repository *repo = NULL;
	GIT_PASS(git_repository_open_ext(&repo, ps_path(ctx, rel), GIT_REPOSITORY_OPEN_NO_SEARCH, NULL));
	return repo;
}

static git_signature *next_signature(ps_ctx *ctx)
{
	git_signature *sig = NULL;
	GIT_PASS(git_signature_new(&sig, "Pushseal Test", "test@pushseal.invalid",
		FX_EPOCH + 60 * (git_time_t)ctx->tick++, 0));
	return sig;
}

static void mkdirs_for(const char *path)
{
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(buf, 0755);
		*p = '/';
	}
}

void fx_write(ps_ctx *ctx, const char *rel, const char *content)
{
	const char *path = ps_path(ctx, rel);
	FILE *f;
	mkdirs_for(path);
	if (!(f = fopen(path, "wb")))
		fail_msg("fixture: cannot write %s: %s", path, strerror(errno));
	fputs(content, f);
	fclose(f);
}

static ps_rev rev_of(const git_oid *id)
{
	ps_rev r;
	git_oid_tostr(r.hex, sizeof(r.hex), id);
	return r;
}

/* Create a commit on `refname` whose tree is the parent's with `file` set to
 * `content` (NULL deletes it; append != 0 appends to the old content). */
static ps_rev commit_file(ps_ctx *ctx, git_repository *repo, const char *refname,
	const char *file, const char *content, int append, const char *update_ref)
{
	git_oid parent_id, blob_id, tree_id, commit_id;
	git_commit *parent = NULL;
	git_tree *base = NULL, *tree = NULL;
	git_signature *sig = next_signature(ctx);
	git_tree_update upd;
	char *data = NULL, msg[256];
	int has_parent = git_reference_name_to_id(&parent_id, repo, refname) == 0;

	if (has_parent) {
		GIT_PASS(git_commit_lookup(&parent, repo, &parent_id));
		GIT_PASS(git_commit_tree(&base, parent));
	}
	if (content && append && base) {
		git_tree_entry *e = NULL;
		if (git_tree_entry_bypath(&e, base, file) == 0) {
			git_blob *old = NULL;
			GIT_PASS(git_blob_lookup(&old, repo, git_tree_entry_id(e)));
			size_t n = (size_t)git_blob_rawsize(old);
			data = malloc(n + strlen(content) + 1);
			memcpy(data, git_blob_rawcontent(old), n);
			strcpy(data + n, content);
			git_blob_free(old);
			git_tree_entry_free(e);
		}
	}
	memset(&upd, 0, sizeof(upd));
	upd.path = file;
	if (content) {
		const char *bytes = data ? data : content;
		GIT_PASS(git_blob_create_from_buffer(&blob_id, repo, bytes, strlen(bytes)));
		upd.action = GIT_TREE_UPDATE_UPSERT;
		upd.id = blob_id;
		upd.filemode = GIT_FILEMODE_BLOB;
	} else {
		upd.action = GIT_TREE_UPDATE_REMOVE;
	}
	if (base) {
		GIT_PASS(git_tree_create_updated(&tree_id, repo, base, 1, &upd));
	} else {
		git_treebuilder *tb = NULL;
		GIT_PASS(git_treebuilder_new(&tb, repo, NULL));
		if (content)
			GIT_PASS(git_treebuilder_insert(NULL, tb, file, &blob_id, GIT_FILEMODE_BLOB));
		GIT_PASS(git_treebuilder_write(&tree_id, tb));
		git_treebuilder_free(tb);
	}
	GIT_PASS(git_tree_lookup(&tree, repo, &tree_id));
	snprintf(msg, sizeof(msg), "%s %s\n", content ? "write" : "delete", file);
	GIT_PASS(git_commit_create(&commit_id, repo, update_ref, sig, sig, NULL, msg, tree,
		has_parent ? 1 : 0, has_parent ? (const git_commit **)&parent : NULL));
	free(data);
	git_tree_free(tree);
	git_tree_free(base);
	git_commit_free(parent);
	git_signature_free(sig);
	return rev_of(&commit_id);
}

const char *fx_bare(ps_ctx *ctx, const char *name, int ncommits)
{
	git_repository *repo = NULL;
	git_repository_init_options io;
	const char *path = ps_path(ctx, name);
	git_repository_init_options_init(&io, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	io.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH;
	io.initial_head = "main";
	GIT_PASS(git_repository_init_ext(&repo, path, &io));
	for (int i = 0; i < ncommits; i++)
		commit_file(ctx, repo, "refs/heads/main", "log.txt", ps_fmt(ctx, "commit %d\n", i), 1,
			"refs/heads/main");
	git_repository_free(repo);
	return ps_path(ctx, name);
}

/* A clone made the way users make one: `git clone`, which stores the
 * remote-tracking refs in packed-refs (libgit2's clone writes loose refs,
 * and an implementation that only copes with those must not pass). */
const char *fx_clone(ps_ctx *ctx, const char *remote_arg, const char *name_arg)
{
	/* the arguments may live in the ring, which or_git reuses: copy them */
	char remote[1100], name[1100], url[4096], dest[4096];
	const char *out;
	snprintf(remote, sizeof(remote), "%s", remote_arg);
	snprintf(name, sizeof(name), "%s", name_arg);
	snprintf(url, sizeof(url), "%s", ps_path(ctx, remote));
	snprintf(dest, sizeof(dest), "%s", ps_path(ctx, name));
	if (or_git(ctx, &out, ctx->root, "clone", "-q", "--no-local", url, dest, NULL) != 0)
		fail_msg("fixture: git clone %s %s failed: %s", url, dest, out);
	if (strcmp(ps_transport(), "path") != 0) {
		git_repository *repo = fx_open(ctx, name);
		GIT_PASS(git_remote_set_url(repo, "origin", ps_remote_url(ctx, remote)));
		git_repository_free(repo);
	}
	return ps_path(ctx, name);
}

void fx_pair(ps_ctx *ctx, int ncommits)
{
	fx_bare(ctx, "remote.git", ncommits);
	fx_clone(ctx, "remote.git", "local");
}

ps_rev fx_commit(ps_ctx *ctx, const char *repo_rel, const char *file, const char *content)
{
	git_repository *repo = fx_open(ctx, repo_rel);
	git_index *index = NULL;
	git_oid tree_id, commit_id, head_id;
	git_tree *tree = NULL;
	git_commit *parent = NULL;
	git_signature *sig = next_signature(ctx);
	int has_parent = git_reference_name_to_id(&head_id, repo, "HEAD") == 0;
	char msg[256];

	fx_write(ctx, ps_fmt(ctx, "%s/%s", repo_rel, file), content);
	GIT_PASS(git_repository_index(&index, repo));
	GIT_PASS(git_index_add_bypath(index, file));
	GIT_PASS(git_index_write(index));
	GIT_PASS(git_index_write_tree(&tree_id, index));
	GIT_PASS(git_tree_lookup(&tree, repo, &tree_id));
	if (has_parent)
		GIT_PASS(git_commit_lookup(&parent, repo, &head_id));
	snprintf(msg, sizeof(msg), "write %s\n", file);
	GIT_PASS(git_commit_create(&commit_id, repo, "HEAD", sig, sig, NULL, msg, tree,
		has_parent ? 1 : 0, has_parent ? (const git_commit **)&parent : NULL));
	git_commit_free(parent);
	git_tree_free(tree);
	git_index_free(index);
	git_signature_free(sig);
	git_repository_free(repo);
	return rev_of(&commit_id);
}

ps_rev fx_commit_bare(ps_ctx *ctx, const char *bare, const char *branch,
	const char *file, const char *content)
{
	git_repository *repo = fx_open(ctx, bare);
	char ref[512];
	ps_rev id;
	snprintf(ref, sizeof(ref), "refs/heads/%s", branch);
	id = commit_file(ctx, repo, ref, file, content, 0, ref);
	git_repository_free(repo);
	return id;
}

void fx_remote_moves_others(ps_ctx *ctx, const char *bare)
{
	if (or_git(ctx, NULL, bare, "branch", "feature", "main", NULL) != 0 ||
	    or_git(ctx, NULL, bare, "tag", "-a", "-m", "release 1", "v1", "main", NULL) != 0 ||
	    or_git(ctx, NULL, bare, "tag", "v1-lw", "main", NULL) != 0)
		fail_msg("fixture: git could not add a branch and tags to %s", bare);
	fx_commit_bare(ctx, bare, "feature", "feature.txt", "on another branch\n");
}

ps_rev fx_delete_bare(ps_ctx *ctx, const char *bare, const char *branch, const char *file)
{
	git_repository *repo = fx_open(ctx, bare);
	char ref[512];
	ps_rev id;
	snprintf(ref, sizeof(ref), "refs/heads/%s", branch);
	id = commit_file(ctx, repo, ref, file, NULL, 0, ref);
	git_repository_free(repo);
	return id;
}

void fx_ahead(ps_ctx *ctx, const char *repo, int a)
{
	for (int k = 0; k < a; k++)
		fx_commit(ctx, repo, ps_fmt(ctx, "local-%d.txt", k), ps_fmt(ctx, "local %d\n", k));
}

void fx_behind(ps_ctx *ctx, const char *bare, int b)
{
	for (int k = 0; k < b; k++)
		fx_commit_bare(ctx, bare, "main", ps_fmt(ctx, "remote-%d.txt", k), ps_fmt(ctx, "remote %d\n", k));
}

void fx_config(ps_ctx *ctx, const char *repo_rel, const char *key, const char *value)
{
	git_repository *repo = fx_open(ctx, repo_rel);
	git_config *cfg = NULL;
	GIT_PASS(git_repository_config(&cfg, repo));
	GIT_PASS(git_config_set_string(cfg, key, value));
	git_config_free(cfg);
	git_repository_free(repo);
}

void fx_config_delete(ps_ctx *ctx, const char *repo_rel, const char *key)
{
	git_repository *repo = fx_open(ctx, repo_rel);
	git_config *cfg = NULL;
	GIT_PASS(git_repository_config(&cfg, repo));
	git_config_delete_multivar(cfg, key, ".*");
	git_config_free(cfg);
	git_repository_free(repo);
}

void fx_detach(ps_ctx *ctx, const char *repo_rel)
{
	git_repository *repo = fx_open(ctx, repo_rel);
	GIT_PASS(git_repository_detach_head(repo));
	git_repository_free(repo);
}

void fx_unset_upstream(ps_ctx *ctx, const char *repo_rel)
{
	git_repository *repo = fx_open(ctx, repo_rel);
	git_reference *head = NULL;
	GIT_PASS(git_repository_head(&head, repo));
	GIT_PASS(git_branch_set_upstream(head, NULL));
	git_reference_free(head);
	git_repository_free(repo);
}

void fx_rename_remote(ps_ctx *ctx, const char *repo_rel, const char *from, const char *to)
{
	git_repository *repo = fx_open(ctx, repo_rel);
	git_strarray problems = { 0 };
	GIT_PASS(git_remote_rename(&problems, repo, from, to));
	git_strarray_dispose(&problems);
	git_repository_free(repo);
}

void fx_remove_remote(ps_ctx *ctx, const char *repo_rel, const char *name)
{
	/* only the remote's own section: branch.<b>.remote keeps naming it */
	fx_config_delete(ctx, repo_rel, ps_fmt(ctx, "remote.%s.url", name));
	fx_config_delete(ctx, repo_rel, ps_fmt(ctx, "remote.%s.fetch", name));
}

void fx_set_url(ps_ctx *ctx, const char *repo_rel, const char *remote, const char *url)
{
	git_repository *repo = fx_open(ctx, repo_rel);
	GIT_PASS(git_remote_set_url(repo, remote, url));
	git_repository_free(repo);
}

void fx_delete_branch(ps_ctx *ctx, const char *bare, const char *branch)
{
	git_repository *repo = fx_open(ctx, bare);
	git_reference *ref = NULL;
	GIT_PASS(git_reference_lookup(&ref, repo, ps_fmt(ctx, "refs/heads/%s", branch)));
	GIT_PASS(git_reference_delete(ref));
	git_reference_free(ref);
	git_repository_free(repo);
}

void fx_lock_ref(ps_ctx *ctx, const char *repo_gitdir, const char *branch)
{
	fx_write(ctx, ps_fmt(ctx, "%s/refs/heads/%s.lock", repo_gitdir, branch), "");
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	remove(path);
	return 0;
}

void fx_rmrf(ps_ctx *ctx, const char *rel)
{
	nftw(ps_path(ctx, rel), rm_entry, 32, FTW_DEPTH | FTW_PHYS);
}

/* A remote whose HEAD is not the upstream: bare "remote.git" made with
 * `git init --bare` (HEAD names refs/heads/main), with 2 commits on
 * feature/x.  other_branch = 0: main never exists, HEAD dangles; 1: main
 * is a separate line of 2 commits.  "local" is `git clone -b feature/x`,
 * its origin over the transport under test.  Returns the local path. */
const char *fx_other_head_pair(ps_ctx *ctx, int other_branch)
{
	const char *out;
	if (or_git(ctx, &out, ".", "init", "-q", "--bare", "remote.git", NULL) != 0)
		fail_msg("fixture: git init --bare remote.git failed");
	fx_commit_bare(ctx, "remote.git", "feature/x", "x.txt", "x 1\n");
	fx_commit_bare(ctx, "remote.git", "feature/x", "x.txt", "x 2\n");
	if (other_branch) {
		fx_commit_bare(ctx, "remote.git", "main", "main.txt", "main 1\n");
		fx_commit_bare(ctx, "remote.git", "main", "main.txt", "main 2\n");
	}
	if (or_git(ctx, &out, ".", "clone", "-q", "-b", "feature/x", ps_path(ctx, "remote.git"), "local", NULL) != 0)
		fail_msg("fixture: git clone -b feature/x remote.git local failed");
	if (strcmp(ps_transport(), "path") != 0 &&
	    or_git(ctx, &out, "local", "remote", "set-url", "origin", ps_remote_url(ctx, "remote.git"), NULL) != 0)
		fail_msg("fixture: git remote set-url failed");
	return ps_path(ctx, "local");
}

/* `git fsck` of a repository is clean (no invalid pointer, no missing object). */
void or_fsck_clean(ps_ctx *ctx, const char *dir)
{
	const char *out, *err;
	const char *argv[] = { "git", "-C", ps_path(ctx, dir), "fsck", "--no-progress", "--no-dangling", NULL };
	int rc = ps_spawn(ctx, NULL, argv, &out, &err);
	if (rc != 0 || strstr(err, "error") || strstr(out, "error") || strstr(err, "invalid") || strstr(err, "missing"))
		fail_msg("git fsck in %s exited %d: %s%s", dir, rc, out, err);
}
