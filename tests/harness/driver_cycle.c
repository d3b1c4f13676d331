/* The driver for fix and run: in-process through pushseal_cycle_run and
 * pushseal_tick_repo, or through protocol v1's JSON lines. */
#define _GNU_SOURCE
#include "harness.h"
#include "pushseal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* `sh -c cmd` in repo, like the protocol's --writeback and --check. */
static int shell_in(const char *cmd, const char *repo)
{
	int status;
	pid_t pid = fork();
	if (pid == 0) {
		if (chdir(repo) != 0)
			_exit(126);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return 127;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int shell_cb(const char *repo, void *payload)
{
	return shell_in(payload, repo) != 0;
}

/* Read the value of "key" in a one-line JSON object: true/false/null or a
 * short string.  Enough for the fields the protocol requires. */
void ps_json_field(char *dst, size_t n, const char *json, const char *key)
{
	char pat[64];
	const char *p;
	size_t len;
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	dst[0] = '\0';
	if (!(p = strstr(json, pat)))
		fail_msg("protocol: no \"%s\" field in: %s", key, json);
	p += strlen(pat);
	while (*p == ' ')
		p++;
	if (*p == '"') {
		p++;
		len = strcspn(p, "\"");
	} else {
		len = strcspn(p, ",} ");
	}
	snprintf(dst, n, "%.*s", (int)len, p);
}

static int json_bool(const char *json, const char *key)
{
	char v[16];
	ps_json_field(v, sizeof(v), json, key);
	if (!strcmp(v, "true"))
		return 1;
	if (!strcmp(v, "false"))
		return 0;
	fail_msg("protocol: \"%s\" is not a boolean in: %s", key, json);
	return 0;
}

static void from_json(ps_cycle_result *r, const char *line)
{
	snprintf(r->json, sizeof(r->json), "%s", line);
	ps_json_field(r->skipped, sizeof(r->skipped), line, "skipped");
	if (!strcmp(r->skipped, "null"))
		r->skipped[0] = '\0';
	r->wrote = json_bool(line, "wrote");
	r->sealed = json_bool(line, "sealed");
}

static void from_report(ps_cycle_result *r, const pushseal_report *rep)
{
	const char *skipped = pushseal_skip_name(rep->skipped);
	snprintf(r->skipped, sizeof(r->skipped), "%s", skipped ? skipped : "");
	r->wrote = rep->wrote;
	r->sealed = rep->sealed;
	snprintf(r->json, sizeof(r->json), "skipped=%s wrote=%d sealed=%d behind=%zu ahead=%zu error=%s: %s",
		skipped ? skipped : "null", rep->wrote, rep->sealed, rep->behind, rep->ahead,
		pushseal_class_name(rep->error.klass), rep->error.message);
}

ps_cycle_result drv_fix(ps_ctx *ctx, const char *repo, const char *writeback)
{
	ps_cycle_result r;
	memset(&r, 0, sizeof(r));
	if (drv_is_exec()) {
		const char *out, *err;
		if (writeback)
			r.exit_code = drv_exec(ctx, &out, &err, "fix", repo, "--writeback", writeback, NULL);
		else
			r.exit_code = drv_exec(ctx, &out, &err, "fix", repo, NULL);
		if (r.exit_code != 0 && r.exit_code != 1)
			fail_msg("protocol: fix exited %d; stderr: %s", r.exit_code, err);
		if (strchr(out, '\n') != strrchr(out, '\n'))
			fail_msg("protocol: fix printed more than one line: %s", out);
		from_json(&r, out);
	} else {
		pushseal_cycle_options o = PUSHSEAL_CYCLE_OPTIONS_INIT;
		pushseal_report rep;
		int rc;
		if (writeback) {
			o.writeback = shell_cb;
			o.writeback_payload = (void *)writeback;
		}
		rc = pushseal_cycle_run(&rep, repo, &o);
		from_report(&r, &rep);
		r.exit_code = (rc == 0 && rep.sealed) ? 0 : 1;
	}
	return r;
}

int drv_run(ps_ctx *ctx, int remote, const char *check, const char *writeback,
	const char *const *repos, size_t n, ps_cycle_result *results)
{
	memset(results, 0, n * sizeof(*results));
	if (drv_is_exec()) {
		const char *argv[64];
		size_t argc = 0;
		const char *out, *err, *line;
		int rc;
		argv[argc++] = "/bin/sh";
		argv[argc++] = "-c";
		argv[argc++] = "eval \"exec $PUSHSEAL_IMPL \\\"\\$@\\\"\"";
		argv[argc++] = "pushseal-impl";
		argv[argc++] = "run";
		if (remote)
			argv[argc++] = "--remote";
		if (check)
			argv[argc++] = "--check", argv[argc++] = check;
		if (writeback)
			argv[argc++] = "--writeback", argv[argc++] = writeback;
		for (size_t i = 0; i < n && argc < 62; i++)
			argv[argc++] = repos[i];
		argv[argc] = NULL;
		long long start = ps_mono_ms();
		rc = ps_spawn(ctx, ctx->root, argv, &out, &err);
		drv_transcript(ctx, argv + 4, rc, ps_mono_ms() - start, out, err);
		if (rc != 0 && rc != 1)
			fail_msg("protocol: run exited %d; stderr: %s", rc, err);
		line = out;
		for (size_t i = 0; i < n; i++) {
			const char *nl = strchr(line, '\n');
			char buf[2048];
			if (!nl)
				fail_msg("protocol: run printed %zu lines for %zu repos: %s", i, n, out);
			snprintf(buf, sizeof(buf), "%.*s", (int)(nl - line), line);
			from_json(&results[i], buf);
			results[i].exit_code = rc;
			line = nl + 1;
		}
		return rc;
	} else {
		pushseal_tick_options o = PUSHSEAL_TICK_OPTIONS_INIT;
		int failed = 0;
		o.remote = remote;
		if (check) {
			o.check = shell_cb;
			o.check_payload = (void *)check;
		}
		if (writeback) {
			o.cycle.writeback = shell_cb;
			o.cycle.writeback_payload = (void *)writeback;
		}
		for (size_t i = 0; i < n; i++) {
			pushseal_report rep;
			int rc = pushseal_tick_repo(&rep, repos[i], &o);
			from_report(&results[i], &rep);
			if (!(rc == 0 && (rep.sealed || rep.skipped == PUSHSEAL_SKIP_CLEAN)))
				failed = 1;
		}
		for (size_t i = 0; i < n; i++)
			results[i].exit_code = failed;
		return failed;
	}
}
