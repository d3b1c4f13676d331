/*
 * Fetching a remote with prune, in two halves (net_deadline.c says why):
 *  - the child talks to the server: it lists the remote's refs, downloads a
 *    pack only when some advertised tip is missing here, and says which
 *    tracking refs should change; it takes no lock and writes no ref;
 *  - the parent applies those changes under provable locks
 *    (safety_ref_update.c), each only if the ref still has the value the child saw.
 * A stable remote therefore costs one ref listing and writes nothing: no
 * pack, no ref, no reflog.  FETCH_HEAD is not written: nothing in pushseal
 * reads it, and a stable tick must change no file (docs/SPEC.md).
 */
#define _GNU_SOURCE
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Never prompt: an unattended timer must fail fast, not wait for a person.
 * net_https_credentials.c offers what is configured for https (token, opt-in `git
 * credential fill`), each at most once per operation, then fails with class
 * auth.  ssh authenticates by itself, through OpenSSH (net_ssh_transport.c). */
void ps_remote_callbacks_init(git_remote_callbacks *cbs)
{
	git_remote_init_callbacks(cbs, GIT_REMOTE_CALLBACKS_VERSION);
	ps_credentials_reset();
	ps_server_words_reset();
	cbs->sideband_progress = ps_sideband_cb;
	cbs->credentials = ps_credentials_cb;
}

typedef struct fetch_job {
	git_repository *repo;    /* the parent's handle, which the child inherits */
	const char *repo_path;   /* ...or opens again, when it had to start libgit2 afresh */
	const char *remote;
	char url[4096];          /* resolved as git resolves it (net_remote_url.c) */
} fetch_job;

static int advertised(const git_remote_head **heads, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(heads[i]->name, name))
			return 1;
	return 0;
}

/* The fetch refspec of `remote` whose source matches name, if any. */
static const git_refspec *fetch_spec_for(const git_remote *remote, const char *name)
{
	for (size_t i = 0; i < git_remote_refspec_count(remote); i++) {
		const git_refspec *spec = git_remote_get_refspec(remote, i);
		if (git_refspec_direction(spec) == GIT_DIRECTION_FETCH && git_refspec_src_matches(spec, name))
			return spec;
	}
	return NULL;
}

/* Lines for the parent: "update <dst> <old|-> <new>", "delete <dst> <old>". */
static int plan_updates(ps_buf *out, git_repository *repo, git_remote *remote, git_odb *odb,
	const git_remote_head **heads, size_t n, pushseal_error *err)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	int tags = git_remote_autotag(remote) != GIT_REMOTE_DOWNLOAD_TAGS_NONE, rc = 0;

	for (size_t i = 0; i < n; i++) {
		const git_refspec *spec = fetch_spec_for(remote, heads[i]->name);
		git_buf dst = GIT_BUF_INIT;
		git_oid old;
		int has_old;
		if (spec && git_refspec_transform(&dst, spec, heads[i]->name) == 0) {
			if (!git_odb_exists(odb, &heads[i]->oid)) {
				/* never a tracking ref to an object we do not have */
				rc = ps_error_set(err, PUSHSEAL_E_UNREACHABLE,
					"the remote advertised %s at %s but did not send it", heads[i]->name,
					git_oid_tostr_s(&heads[i]->oid));
				git_buf_dispose(&dst);
				return rc;
			}
			has_old = git_reference_name_to_id(&old, repo, dst.ptr) == 0;
			if (!has_old || !git_oid_equal(&old, &heads[i]->oid)) {
				int fast_forward = has_old && git_graph_descendant_of(repo, &heads[i]->oid, &old) == 1;
				if (has_old && !fast_forward && !git_refspec_force(spec)) {
					git_buf_dispose(&dst);
					continue; /* git refuses a non-forced rewind of a tracking ref */
				}
				ps_buf_printf(out, "update %s %s ", dst.ptr, has_old ? git_oid_tostr_s(&old) : "-");
				ps_buf_printf(out, "%s %s\n", git_oid_tostr_s(&heads[i]->oid),
					!has_old ? "storing-head" : fast_forward ? "fast-forward" : "forced-update");
			}
		} else if (tags && !strncmp(heads[i]->name, "refs/tags/", 10) && !strstr(heads[i]->name, "^{}") &&
			   git_odb_exists(odb, &heads[i]->oid) && git_reference_name_to_id(&old, repo, heads[i]->name) != 0) {
			/* a tag that points into what we have: git follows it */
			ps_buf_printf(out, "tag %s %s\n", heads[i]->name, git_oid_tostr_s(&heads[i]->oid));
		}
		git_buf_dispose(&dst);
	}

	/* prune: a tracking ref whose source the remote no longer has */
	if (git_reference_iterator_new(&it, repo) < 0)
		return 0;
	while (git_reference_next(&ref, it) == 0) {
		const char *name = git_reference_name(ref);
		for (size_t i = 0; i < git_remote_refspec_count(remote); i++) {
			const git_refspec *spec = git_remote_get_refspec(remote, i);
			git_buf src = GIT_BUF_INIT;
			if (git_refspec_direction(spec) == GIT_DIRECTION_FETCH && git_refspec_dst_matches(spec, name) &&
			    git_reference_type(ref) == GIT_REFERENCE_DIRECT &&
			    git_refspec_rtransform(&src, spec, name) == 0 && !advertised(heads, n, src.ptr))
				ps_buf_printf(out, "delete %s %s\n", name, git_oid_tostr_s(git_reference_target(ref)));
			git_buf_dispose(&src);
		}
		git_reference_free(ref);
	}
	git_reference_iterator_free(it);
	return 0;
}

/* Is some advertised tip that we would store missing here? */
static int need_download(git_remote *remote, git_odb *odb, const git_remote_head **heads, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((fetch_spec_for(remote, heads[i]->name) ||
		     (git_remote_autotag(remote) == GIT_REMOTE_DOWNLOAD_TAGS_ALL && !strncmp(heads[i]->name, "refs/tags/", 10))) &&
		    !git_odb_exists(odb, &heads[i]->oid))
			return 1;
	return 0;
}

/* The child's private pack directory, made on the first download (fetch_in_child). */
typedef struct pack_dir {
	int ready;
	ps_journal journal;
} pack_dir;

/* Download into our own directory (journaled under our pid and start time),
 * first in line for writes: a kill leaves nothing in objects/pack that
 * anyone could mistake for theirs, and the parent publishes it.  specs NULL:
 * the remote's fetch refspecs. */
static int download(pack_dir *pd, ps_buf *out, git_repository *repo, git_remote *remote, git_odb *odb,
	const git_remote_callbacks *cbs, const git_strarray *specs, const char *name, pushseal_error *err)
{
	git_fetch_options fo;
	int rc;
	if (!pd->ready) {
		git_odb_backend *mine = NULL;
		char objects[4400], pack[4500];
		if (ps_journal_begin(&pd->journal, git_repository_commondir(repo), NULL) < 0)
			return ps_error_set(err, PUSHSEAL_E_INTERNAL, "cannot write the crash journal");
		pd->ready = 1;
		snprintf(objects, sizeof(objects), "%sobjects/pushseal-tmp.%d-%llu.%u.%u", git_repository_commondir(repo),
			(int)getpid(), pd->journal.started, pd->journal.id, pd->journal.seq++);
		snprintf(pack, sizeof(pack), "%s/pack", objects);
		if (ps_journal_note_tmp(&pd->journal, pack) < 0 || ps_journal_note_tmp(&pd->journal, objects) < 0 ||
		    mkdir(objects, 0777) != 0 || mkdir(pack, 0777) != 0 || git_odb_backend_pack(&mine, objects) < 0 ||
		    git_odb_add_backend(odb, mine, 100) < 0)
			return ps_error_git(err, PUSHSEAL_E_INTERNAL, "cannot prepare the fetch's pack directory");
		/* the names only: the parent knows the directory (paths may hold anything) */
		ps_buf_printf(out, "pack %s %s\n", strrchr(objects, '/') + 1, strrchr(pd->journal.path, '/') + 1);
	}
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	fo.callbacks = *cbs;
	if ((rc = git_remote_download(remote, specs, &fo)) < 0)
		return ps_error_net(err, rc, "fetch from '%s' failed", name);
	git_odb_refresh(odb);
	return 0;
}

/* The annotated tags git would follow that we lack: advertised refs/tags/X
 * whose tag object is missing here while what it points to (the peeled
 * "refs/tags/X^{}" entry) is here, and refs/tags/X does not exist.  git
 * follows them (include-tag, or a second round); libgit2 1.5's download
 * sends no include-tag, so a tag object on a commit just fetched over
 * git://, http or ssh would be missing.  Returns how many went into specs. */
/* The index of heads[i]'s peeled entry ("NAME^{}"), or n.  A server sends
 * it right after NAME, so that is looked at first: a hub with thousands of
 * new tags stays linear. */
static size_t peeled_entry(const git_remote_head **heads, size_t n, size_t i)
{
	const char *name = heads[i]->name;
	size_t len = strlen(name);
	for (size_t step = 0; step < n; step++) {
		size_t k = (i + 1 + step) % n;
		if (strlen(heads[k]->name) == len + 3 && strncmp(heads[k]->name, name, len) == 0 &&
		    strcmp(heads[k]->name + len, "^{}") == 0)
			return k;
	}
	return n;
}

static size_t tags_to_follow(git_strarray *specs, git_repository *repo, git_remote *remote, git_odb *odb,
	const git_remote_head **heads, size_t n)
{
	size_t count = 0;
	specs->strings = NULL;
	specs->count = 0;
	if (git_remote_autotag(remote) == GIT_REMOTE_DOWNLOAD_TAGS_NONE)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const char *name = heads[i]->name;
		size_t len = strlen(name);
		git_oid have;
		char **grown;
		size_t k;
		if (strncmp(name, "refs/tags/", 10) != 0 || (len > 3 && !strcmp(name + len - 3, "^{}")) ||
		    git_odb_exists(odb, &heads[i]->oid) || git_reference_name_to_id(&have, repo, name) == 0)
			continue;
		if ((k = peeled_entry(heads, n, i)) == n || !git_odb_exists(odb, &heads[k]->oid))
			continue;
		if (!(grown = realloc(specs->strings, (count + 1) * sizeof(*grown))))
			return count;
		specs->strings = grown;
		if (asprintf(&specs->strings[count], "%s:%s", name, name) < 0)
			return count;
		specs->count = ++count;
	}
	return count;
}

static void strarray_free(git_strarray *a)
{
	for (size_t i = 0; i < a->count; i++)
		free(a->strings[i]);
	free(a->strings);
	a->strings = NULL;
	a->count = 0;
}

static int fetch_in_child(ps_buf *out, void *payload, pushseal_error *err)
{
	fetch_job *job = payload;
	git_repository *own = NULL, *repo = job->repo;
	git_remote *remote = NULL;
	git_odb *odb = NULL;
	git_remote_callbacks cbs;
	const git_remote_head **heads = NULL;
	git_strarray tags = { NULL, 0 };
	pack_dir pd;
	size_t n = 0;
	int rc;

	memset(&pd, 0, sizeof(pd));
	if (ps_deadline_child_fresh()) {
		if ((rc = ps_repo_open(&own, job->repo_path, err)) < 0)
			return rc;
		ps_repo_pin_config(own);
		repo = own;
	}
	ps_remote_callbacks_init(&cbs);
	if (git_remote_lookup(&remote, repo, job->remote) < 0 || ps_remote_set_url(remote, job->url, 0) < 0) {
		rc = ps_error_set(err, PUSHSEAL_E_NOUPSTREAM, "remote '%s' is not configured", job->remote);
		goto done;
	}
	if ((rc = git_remote_connect(remote, GIT_DIRECTION_FETCH, &cbs, NULL, NULL)) < 0 ||
	    (rc = git_remote_ls(&heads, &n, remote)) < 0 || (rc = git_repository_odb(&odb, repo)) < 0) {
		rc = ps_error_net(err, rc, "fetch from '%s' failed", job->remote);
		goto done;
	}
	if (need_download(remote, odb, heads, n)) {
		if ((rc = download(&pd, out, repo, remote, odb, &cbs, NULL, job->remote, err)) < 0)
			goto done;
		if (git_remote_ls(&heads, &n, remote) < 0) {
			rc = ps_error_git(err, PUSHSEAL_E_UNREACHABLE, "fetch from '%s' failed", job->remote);
			goto done;
		}
	}
	/* git's second round: the annotated tags on what we now have */
	if (tags_to_follow(&tags, repo, remote, odb, heads, n) > 0) {
		/* a stateful connection (git://, ssh) is spent after one download */
		if (pd.ready) {
			git_remote_disconnect(remote);
			if ((rc = git_remote_connect(remote, GIT_DIRECTION_FETCH, &cbs, NULL, NULL)) < 0) {
				rc = ps_error_net(err, rc, "fetch from '%s' failed", job->remote);
				goto done;
			}
		}
		if ((rc = download(&pd, out, repo, remote, odb, &cbs, &tags, job->remote, err)) < 0)
			goto done;
		if (git_remote_ls(&heads, &n, remote) < 0) {
			rc = ps_error_git(err, PUSHSEAL_E_UNREACHABLE, "fetch from '%s' failed", job->remote);
			goto done;
		}
	}
	rc = plan_updates(out, repo, remote, odb, heads, n, err);
done:
	strarray_free(&tags);
	/* pd's journal stays: the parent unlinks it once it published the pack */
	git_odb_free(odb);
	if (remote)
		git_remote_disconnect(remote);
	git_remote_free(remote);
	git_repository_free(own);
	return rc;
}

/* The pack just published: let the parent's handle see it. */
static void refresh_odb(git_repository *repo)
{
	git_odb *odb = NULL;
	if (git_repository_odb(&odb, repo) == 0)
		git_odb_refresh(odb);
	git_odb_free(odb);
}

/* Apply the child's plan, each ref only if it still is what the child saw. */
static int apply_plan(git_repository *repo, const char *remote, char *plan, pushseal_error *err)
{
	ps_journal journal;
	int rc = 0;
	char *save = NULL;
	if (!*plan)
		return 0; /* a stable remote: nothing to write */
	ps_journal_recover(git_repository_commondir(repo));
	if (ps_journal_begin(&journal, git_repository_commondir(repo), NULL) < 0)
		return ps_error_set(err, PUSHSEAL_E_INTERNAL, "cannot write the crash journal in %s",
			git_repository_commondir(repo));
	for (char *line = strtok_r(plan, "\n", &save); line && rc == 0; line = strtok_r(NULL, "\n", &save)) {
		char name[1100], old_hex[64], new_hex[64], how[32], msg[300];
		git_oid old, to;
		/* NOLINTBEGIN(cert-err34-c): our own child's lines */
		if (sscanf(line, "update %1099s %63s %63s %31s", name, old_hex, new_hex, how) == 4 &&
		    git_oid_fromstr(&to, new_hex) == 0) {
			int none = !strcmp(old_hex, "-");
			if (!none && git_oid_fromstr(&old, old_hex) < 0)
				continue;
			snprintf(msg, sizeof(msg), "fetch %s: %s", remote, !strcmp(how, "storing-head") ? "storing head"
				: !strcmp(how, "fast-forward") ? "fast-forward" : "forced-update");
			rc = ps_ref_set(repo, &journal, name, none ? NULL : &old, none, &to, msg, err);
		} else if (sscanf(line, "tag %1099s %63s", name, new_hex) == 2 && git_oid_fromstr(&to, new_hex) == 0) {
			snprintf(msg, sizeof(msg), "fetch %s: storing head", remote);
			rc = ps_ref_set(repo, &journal, name, NULL, 1, &to, msg, err);
		} else if (sscanf(line, "delete %1099s %63s", name, old_hex) == 2 && git_oid_fromstr(&old, old_hex) == 0) {
			rc = ps_ref_delete(repo, &journal, name, &old, err);
		}
		/* NOLINTEND(cert-err34-c) */
	}
	ps_journal_end(&journal);
	return rc;
}

/* ---- a local-path remote that has not moved: no child at all ------------- */

/* The fetch refspecs of remote `name`, parsed from plain config keys (no
 * git_remote_lookup: libgit2 1.5.1 leaks PCRE2 match data on each one). */
typedef struct spec_list {
	git_refspec *v[16];
	size_t n;
	int usable;  /* 0: a refspec this check does not model (too many, not under refs/) */
} spec_list;

static int add_spec(const git_config_entry *entry, void *payload)
{
	spec_list *l = payload;
	git_refspec *spec = NULL;
	if (l->n == sizeof(l->v) / sizeof(l->v[0]) || git_refspec_parse(&spec, entry->value, 1) < 0 ||
	    strncmp(git_refspec_src(spec), "refs/", 5) != 0 || strncmp(git_refspec_dst(spec), "refs/", 5) != 0) {
		git_refspec_free(spec);
		l->usable = 0;
		return 0;
	}
	l->v[l->n++] = spec;
	return 0;
}

static const git_refspec *spec_for_src(const spec_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (git_refspec_src_matches(l->v[i], name))
			return l->v[i];
	return NULL;
}

/* Would a fetch from the local repository at remote_dir change nothing
 * (no object to download, no tracking ref to add, move or prune, no tag to
 * follow)?  Then the tick needs no child: a stable hub of local remotes is
 * ticked without a fork per repository (bench/README.md).  Reading another
 * repository's refs on this machine is what opening our own repository
 * already does; anything to transfer or write still goes through the child
 * under the deadline.  Any doubt (an error, a refspec not modelled here,
 * --tags) answers 0, and the child decides as before. */
static int local_remote_unchanged(git_repository *repo, const char *name, const char *remote_dir)
{
	git_config *cfg = NULL;
	git_repository *remote = NULL;
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	git_odb *odb = NULL;
	git_buf tag_opt = GIT_BUF_INIT;
	spec_list specs = { { NULL }, 0, 1 };
	size_t remote_refs = 0, tracked = 0;
	int unchanged = 0, follow_tags = 1;
	char key[600];

	if (git_repository_config_snapshot(&cfg, repo) < 0)
		goto done;
	snprintf(key, sizeof(key), "remote.%s.fetch", name);
	git_config_get_multivar_foreach(cfg, key, NULL, add_spec, &specs);
	snprintf(key, sizeof(key), "remote.%s.tagopt", name);
	if (git_config_get_string_buf(&tag_opt, cfg, key) == 0) {
		if (!strcmp(tag_opt.ptr, "--tags"))
			goto done; /* every tag, wanted or not: leave it to the child */
		follow_tags = strcmp(tag_opt.ptr, "--no-tags") != 0;
	}
	if (!specs.usable || specs.n == 0 || git_repository_odb(&odb, repo) < 0 ||
	    ps_remote_repo_open(&remote, remote_dir) < 0 || git_reference_iterator_new(&it, remote) < 0)
		goto done;
	/* every ref the remote would advertise: its tracking ref is already
	 * there with that value, and a tag we could follow is already here */
	unchanged = 1;
	while (unchanged && git_reference_next(&ref, it) == 0) {
		const char *rname = git_reference_name(ref);
		const git_refspec *spec = spec_for_src(&specs, rname);
		git_reference *resolved = NULL;
		git_oid have;
		if (git_reference_resolve(&resolved, ref) < 0) {
			git_reference_free(ref);
			ref = NULL;
			continue; /* dangling: the transport would not advertise it either */
		}
		if (spec) {
			git_buf dst = GIT_BUF_INIT;
			remote_refs++;
			unchanged = git_refspec_transform(&dst, spec, rname) == 0 &&
				    git_reference_name_to_id(&have, repo, dst.ptr) == 0 &&
				    git_oid_equal(&have, git_reference_target(resolved));
			git_buf_dispose(&dst);
		} else if (follow_tags && !strncmp(rname, "refs/tags/", 10) &&
			   git_reference_name_to_id(&have, repo, rname) != 0) {
			/* a tag we lack, on our history (an annotated one peeled):
			 * git would follow it */
			git_object *peeled = NULL;
			if (git_odb_exists(odb, git_reference_target(resolved)) ||
			    (git_reference_peel(&peeled, resolved, GIT_OBJECT_ANY) == 0 &&
			     git_odb_exists(odb, git_object_id(peeled))))
				unchanged = 0;
			git_object_free(peeled);
		}
		git_reference_free(resolved);
		git_reference_free(ref);
		ref = NULL;
	}
	git_reference_iterator_free(it);
	it = NULL;
	/* ...and no tracking ref is left whose source is gone (prune): the
	 * tracking refs number exactly the remote refs they map */
	if (unchanged && git_reference_iterator_new(&it, repo) == 0) {
		while (git_reference_next(&ref, it) == 0) {
			/* direct refs only: origin/HEAD, a symbolic ref, is never pruned */
			for (size_t i = 0; i < specs.n && git_reference_type(ref) == GIT_REFERENCE_DIRECT; i++)
				if (git_refspec_dst_matches(specs.v[i], git_reference_name(ref))) {
					tracked++;
					break;
				}
			git_reference_free(ref);
			ref = NULL;
		}
		unchanged = tracked == remote_refs;
	} else {
		unchanged = 0;
	}
done:
	git_reference_iterator_free(it);
	git_repository_free(remote);
	git_odb_free(odb);
	git_buf_dispose(&tag_opt);
	git_config_free(cfg);
	for (size_t i = 0; i < specs.n; i++)
		git_refspec_free(specs.v[i]);
	git_error_clear();
	return unchanged;
}

int ps_fetch(git_repository *repo, const char *repo_path, const char *remote, int deadline_ms,
	pushseal_error *err)
{
	fetch_job job = { repo, repo_path, remote, "" };
	ps_buf plan = { 0 };
	char *body;
	int rc;
	char local_dir[4096];
	if (ps_remote_resolve_url(job.url, sizeof(job.url), local_dir, sizeof(local_dir), repo, remote, 0) < 0)
		return ps_error_set(err, PUSHSEAL_E_NOUPSTREAM, "remote '%s' is not configured", remote);
	if (local_dir[0] && local_remote_unchanged(repo, remote, local_dir)) {
		ps_test_hook("FETCH_TRANSFERRED"); /* test-only: as after a transfer of nothing */
		return 0;
	}
	ps_repo_drop_packs(repo);
	rc = ps_deadline_run(&plan, fetch_in_child, &job, deadline_ms, ps_url_may_tls(job.url), "fetch", err);
	ps_test_hook("FETCH_TRANSFERRED"); /* test-only: a death after the transfer */
	body = plan.ptr ? plan.ptr : (char *)"";
	if (!strncmp(body, "pack ", 5)) {
		/* "pack <objects dir> <journal>": publish the child's pack, then
		 * its directory and journal are done with */
		char objects[4600], journal[4600], pack[4700], oname[200], jname[200];
		char *nl = strchr(body, '\n');
		/* NOLINTNEXTLINE(cert-err34-c): our own child's line */
		if (nl && sscanf(body, "pack %199s %199s", oname, jname) == 2 && !strncmp(oname, "pushseal-tmp.", 13) &&
		    !strncmp(jname, "pushseal-journal.", 17)) {
			snprintf(objects, sizeof(objects), "%sobjects/%s", git_repository_commondir(repo), oname);
			snprintf(journal, sizeof(journal), "%s%s", git_repository_commondir(repo), jname);
			snprintf(pack, sizeof(pack), "%s/pack", objects);
			ps_push_local_pack_publish(repo, pack, rc == 0);
			rmdir(objects);
			unlink(journal);
			refresh_odb(repo);
		}
		body = nl ? nl + 1 : body + strlen(body);
	} else if (rc < 0) {
		/* a child killed mid-download leaves its journaled directory */
		ps_journal_recover(git_repository_commondir(repo));
	}
	if (rc == 0)
		rc = apply_plan(repo, remote, body, err);
	ps_buf_free(&plan);
	return rc;
}
