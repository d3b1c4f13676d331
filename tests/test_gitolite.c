/*
 * W-6..W-10: a real gitolite3 forge on 127.0.0.1, and what it says when it
 * refuses.  W-1..W-5 (test_server_says.c) emulate a forge's words with
 * hooks, git daemon and lighttpd; here Debian's gitolite3 itself decides,
 * behind OpenSSH, exactly as a small self-hosted forge runs: `gitolite
 * setup -pk admin.pub`, a gitolite.conf compiled with `gitolite compile`,
 * and the ~/.ssh/authorized_keys that gitolite's own POST_COMPILE trigger
 * writes (`command="/usr/share/gitolite3/gitolite-shell bot",no-pty,...`).
 *
 * Everything lives in the test's sandbox: the gitolite account's HOME
 * (forge/home, with .gitolite.rc, .gitolite/ and repositories/) and an
 * sshd of the test's own on a free loopback port, whose AuthorizedKeysFile
 * is that gitolite-written file and whose sessions get HOME=forge/home
 * (sshd's SetEnv), so gitolite-shell never reads the machine's own home or
 * /var/lib/gitolite3.  The sshd is configured as the harness's
 * (harness/transport.c): per-test host key, key-only login, loopback; it
 * is a separate instance because its HOME and its authorized_keys are the
 * forge's.  It is stopped with its process group in teardown.
 *
 * The rules: the bot may write hub1's main only (`RW main = bot`), read
 * hub2, and nothing on hub3; "nosuch" does not exist.  git is the oracle
 * for every refusal: the same operation through the git CLI fails too, with
 * the same line from gitolite.
 *
 * T-SSH-15 follows contrib/systemd/README.md's deploy-key recipe as written
 * (the shell block is read from the README and run), against a gitolite
 * repository named as in the README (org/repo1), and then the ExecStart= of
 * contrib/systemd/pushseal@.service.
 */
#define _GNU_SOURCE
#include "harness.h"
#include "pushseal.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GL_SHELL "/usr/share/gitolite3/gitolite-shell"
#define SSHD "/usr/sbin/sshd"
/* the forge's sshd lives at most this long, whatever happens to the test */
#define FORGE_LIFETIME_S "180"

/* 1 when `prog` is an executable file in a PATH directory. */
static int in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char dir[4096], full[4200];
	while (path && *path) {
		size_t n = strcspn(path, ":");
		snprintf(dir, sizeof(dir), "%.*s", (int)n, path);
		snprintf(full, sizeof(full), "%s/%s", n ? dir : ".", prog);
		if (access(full, X_OK) == 0)
			return 1;
		path += n + (path[n] == ':');
	}
	return 0;
}

static const char *login_user(void)
{
	struct passwd *pw = getpwuid(getuid());
	if (!pw)
		fail_msg("no passwd entry for uid %u", (unsigned)getuid());
	return pw->pw_name;
}

/* ---- the forge ------------------------------------------------------------- */

typedef struct forge {
	int port;
	char home[1100];      /* the gitolite account's HOME */
	char keys[1100];      /* host, admin and bot keys */
} forge;

static forge fg;

static void run_ok(ps_ctx *ctx, const char *const *argv, const char *what)
{
	const char *out, *err;
	int rc = ps_spawn(ctx, NULL, argv, &out, &err);
	if (rc != 0)
		fail_msg("%s exited %d: %s%s", what, rc, out, err);
}

static void keygen(ps_ctx *ctx, const char *name)
{
	const char *path = ps_fmt(ctx, "%s/%s", fg.keys, name);
	const char *argv[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path, NULL };
	run_ok(ctx, argv, "ssh-keygen");
}

/* `gitolite ARGS...` as the forge's account: HOME is the forge's. */
static void gitolite(ps_ctx *ctx, const char *a1, const char *a2, const char *a3)
{
	const char *argv[] = { "env", ps_fmt(ctx, "HOME=%s", fg.home), "gitolite", a1, a2, a3, NULL };
	run_ok(ctx, argv, ps_fmt(ctx, "gitolite %s", a1));
}

static const char *conf_text =
	"repo gitolite-admin\n"
	"    RW+     =   admin\n"
	"\n"
	"# the bot writes hub1's main and nothing else\n"
	"repo hub1\n"
	"    RW main =   bot\n"
	"    RW+     =   admin\n"
	"\n"
	"repo hub2\n"
	"    R       =   bot\n"
	"    RW+     =   admin\n"
	"\n"
	"repo hub3\n"
	"    RW+     =   admin\n"
	"\n"
	"# contrib/systemd/README.md's repository and its deploy key\n"
	"repo org/repo1\n"
	"    RW main =   repo1-deploy\n"
	"    RW+     =   admin\n";

/* Compile the rules and let gitolite write ~/.ssh/authorized_keys from
 * keydir (its POST_COMPILE trigger, as `gitolite setup` runs it). */
static void forge_compile(ps_ctx *ctx)
{
	gitolite(ctx, "compile", NULL, NULL);
	gitolite(ctx, "trigger", "POST_COMPILE", NULL);
}

/* Register a user's public key (the admin's side of "add the .pub as a
 * deploy key") and recompile. */
static void forge_add_key(ps_ctx *ctx, const char *user, const char *pub_abs)
{
	const char *text = or_file(ctx, pub_abs);
	if (!text)
		fail_msg("no public key at %s", pub_abs);
	fx_write(ctx, ps_fmt(ctx, "forge/home/.gitolite/keydir/%s.pub", user), text);
	forge_compile(ctx);
}

/* The bare repository of gitolite repo `name`, sandbox-relative. */
static const char *forge_repo(ps_ctx *ctx, const char *name)
{
	return ps_fmt(ctx, "forge/home/repositories/%s.git", name);
}

/* ssh://USER@127.0.0.1:PORT/NAME, the URL a gitolite user clones. */
static const char *forge_url(ps_ctx *ctx, const char *name)
{
	return ps_fmt(ctx, "ssh://%s@127.0.0.1:%d/%s", login_user(), fg.port, name);
}

/* Set up gitolite in the sandbox, seed its repositories, start its sshd,
 * and give the sandbox user (the bot) its key and the host's key. */
static void forge_start(ps_ctx *ctx)
{
	if (access(GL_SHELL, X_OK) != 0 || !in_path("gitolite"))
		PS_SKIP("gitolite3 is not installed (" GL_SHELL " or the gitolite command is missing; "
			"apt-get install gitolite3, as ci/deps does)");
	if (access(SSHD, X_OK) != 0)
		PS_SKIP("sshd is not installed on this machine (" SSHD ")");
	memset(&fg, 0, sizeof(fg));
	snprintf(fg.home, sizeof(fg.home), "%s", ps_path(ctx, "forge/home"));
	snprintf(fg.keys, sizeof(fg.keys), "%s", ps_path(ctx, "forge/keys"));
	assert_int_equal(mkdir(ps_path(ctx, "forge"), 0700), 0);
	assert_int_equal(mkdir(fg.home, 0700), 0);
	assert_int_equal(mkdir(fg.keys, 0700), 0);
	/* the account's own git config: new repositories start on main */
	fx_write(ctx, "forge/home/.gitconfig", "[init]\n\tdefaultBranch = main\n");
	keygen(ctx, "host_ed25519");
	keygen(ctx, "admin");
	keygen(ctx, "bot");
	gitolite(ctx, "setup", "-pk", ps_fmt(ctx, "%s/admin.pub", fg.keys));
	fx_write(ctx, "forge/home/.gitolite/conf/gitolite.conf", conf_text);
	forge_add_key(ctx, "bot", ps_fmt(ctx, "%s/bot.pub", fg.keys));
	/* gitolite's own line for the bot, as it wrote it */
	{
		const char *ak = or_file(ctx, "forge/home/.ssh/authorized_keys");
		if (!ak || !strstr(ak, "command=\"" GL_SHELL " bot\",") || !strstr(ak, "no-pty"))
			fail_msg("gitolite did not write the bot's authorized_keys line:\n%s", ak ? ak : "(none)");
	}
	/* content, written past gitolite's update hook (a fixture) */
	fx_commit_bare(ctx, forge_repo(ctx, "hub1"), "main", "log.txt", "hub1 1\n");
	fx_commit_bare(ctx, forge_repo(ctx, "hub1"), "other", "log.txt", "hub1 other\n");
	fx_commit_bare(ctx, forge_repo(ctx, "hub2"), "main", "log.txt", "hub2 1\n");
	fx_commit_bare(ctx, forge_repo(ctx, "hub3"), "main", "log.txt", "hub3 1\n");
	fx_commit_bare(ctx, forge_repo(ctx, "org/repo1"), "main", "log.txt", "repo1 1\n");

	if ((fg.port = ps_free_port()) < 0)
		fail_msg("no free loopback port");
	fx_write(ctx, "forge/sshd_config", ps_fmt(ctx,
		"Port %2$d\n"
		"ListenAddress 127.0.0.1\n"
		"HostKey %1$s/host_ed25519\n"
		"PidFile none\n"
		"AuthorizedKeysFile %3$s/.ssh/authorized_keys\n"
		"AllowUsers %4$s\n"
		"PermitRootLogin prohibit-password\n"
		"PubkeyAuthentication yes\n"
		"PubkeyAcceptedAlgorithms ssh-ed25519,rsa-sha2-512,rsa-sha2-256\n"
		"PasswordAuthentication no\n"
		"KbdInteractiveAuthentication no\n"
		"UsePAM no\n"
		"StrictModes no\n"
		"MaxStartups 100\n"
		"LoginGraceTime 60\n"
		"PrintMotd no\n"
		/* gitolite-shell finds .gitolite.rc in HOME: the forge's, never the machine's */
		"SetEnv HOME=%3$s\n"
		"LogLevel VERBOSE\n",
		fg.keys, fg.port, fg.home, login_user()));
	mkdir("/run/sshd", 0755); /* privilege separation directory, as the package's service makes it */
	{
		char conf[1200], log[1200];
		snprintf(conf, sizeof(conf), "%s", ps_path(ctx, "forge/sshd_config"));
		snprintf(log, sizeof(log), "%s", ps_path(ctx, "forge/sshd.log"));
		ctx->server_pid = fork();
		if (ctx->server_pid < 0)
			fail_msg("fork: %s", strerror(errno));
		if (ctx->server_pid == 0) {
			int null = open("/dev/null", O_RDWR);
			setpgid(0, 0); /* teardown kills the group: timeout and sshd */
			unsetenv("LD_PRELOAD"); /* the server is the machine's, never under nss_wrapper */
			unsetenv("NSS_WRAPPER_PASSWD");
			unsetenv("NSS_WRAPPER_GROUP");
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
			execlp("timeout", "timeout", FORGE_LIFETIME_S, SSHD, "-D", "-f", conf, "-E", log, (char *)NULL);
			_exit(127);
		}
		setpgid(ctx->server_pid, ctx->server_pid);
	}
	for (int i = 0; i < 500 && !ps_port_accepting(fg.port); i++) {
		struct timespec ts = { 0, 20 * 1000000L };
		if (waitpid(ctx->server_pid, NULL, WNOHANG) == ctx->server_pid) {
			ctx->server_pid = 0;
			break;
		}
		nanosleep(&ts, NULL);
	}
	if (ctx->server_pid <= 0 || !ps_port_accepting(fg.port))
		fail_msg("the forge's sshd did not start on 127.0.0.1:%d: %s", fg.port,
			or_file(ctx, "forge/sshd.log") ? or_file(ctx, "forge/sshd.log") : "(no log)");
}

/* The client side as a bot's account has it: OpenSSH's ~ is the sandbox's
 * HOME (nss_wrapper), its config gives the forge the bot's key, and
 * known_hosts pins the forge's host key.  No agent, no prompt. */
static void bot_ssh_home(ps_ctx *ctx)
{
	static const char *const vars[] = { "PUSHSEAL_SSH_KEY", "PUSHSEAL_SSH_KNOWN_HOSTS", "SSH_AUTH_SOCK",
		"GIT_SSH_COMMAND", "GIT_SSH", "GIT_SSH_VARIANT", "GIT_ASKPASS", "SSH_ASKPASS", "DISPLAY" };
	char host_pub[2048];
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	setenv("GIT_TERMINAL_PROMPT", "0", 1);
	setenv("PUSHSEAL_DEADLINE_S", "20", 1);
	ps_ssh_home(ctx);
	snprintf(host_pub, sizeof(host_pub), "%s", or_file(ctx, ps_fmt(ctx, "%s/host_ed25519.pub", fg.keys)));
	fx_write(ctx, "home/.ssh/config", ps_fmt(ctx, "Host 127.0.0.1\n  IdentityFile %s/bot\n  IdentitiesOnly yes\n",
		fg.keys));
	fx_write(ctx, "home/.ssh/known_hosts", ps_fmt(ctx, "[127.0.0.1]:%d %s", fg.port, host_pub));
}

/* A clone `name` of gitolite repo `repo` (cloned from disk, a fixture),
 * whose origin is then the forge over ssh; on `branch`, tracking it. */
static const char *bot_clone(ps_ctx *ctx, const char *repo, const char *name, const char *branch)
{
	char url[1200];
	snprintf(url, sizeof(url), "%s", forge_url(ctx, repo));
	fx_clone(ctx, forge_repo(ctx, repo), name);
	fx_set_url(ctx, name, "origin", url);
	if (strcmp(branch, "main") != 0) {
		const char *out;
		if (or_git(ctx, &out, name, "checkout", "-q", "-b", branch, "--track", ps_fmt(ctx, "origin/%s", branch),
			NULL) != 0)
			fail_msg("fixture: checkout %s: %s", branch, out);
	}
	return ps_keep(ctx, name);
}

/* ---- what the forge said --------------------------------------------------- */

/* The failure of an operation: it failed; in-process, with a permanent
 * class that is k1 or k2; the forge's words in its message (for a count,
 * call it only in-process: through a command its stdout is the count). */
static void expect_refused(const ps_result *r, int k1, int k2, const char *words, const char *what)
{
	if (r->class_known ? r->klass == 0 : r->ok)
		fail_msg("%s succeeded where the forge refuses: %s", what, r->line);
	if (r->class_known) {
		if (r->klass != k1 && r->klass != k2)
			fail_msg("%s: class %s, expected %s or %s: %s", what, pushseal_class_name(r->klass),
				pushseal_class_name(k1), pushseal_class_name(k2), r->line);
		if (!pushseal_class_is_permanent(r->klass))
			fail_msg("%s: class %s is not a permanent failure: %s", what, pushseal_class_name(r->klass), r->line);
	}
	if (words && !strstr(r->line, words))
		fail_msg("%s: the forge's words \"%s\" are not in the message: %s", what, words, r->line);
}

/* git itself, on the same repository: `git ARGS` fails and says `words`. */
static void git_also_refuses(ps_ctx *ctx, const char *repo, const char *verb, const char *words)
{
	const char *argv[] = { "git", "-C", repo, verb, NULL };
	const char *out, *err;
	int rc = ps_spawn(ctx, NULL, argv, &out, &err);
	if (rc == 0)
		fail_msg("the oracle: git %s succeeded where the forge refuses: %s", verb, err);
	if (!strstr(err, words))
		fail_msg("the oracle: git %s does not print \"%s\":\n%s", verb, words, err);
}

/* One `run --remote --metrics-file` tick over repo: exit `want_rc`; the
 * line's "failure" is `failure` ("null" for none), its error.class one of
 * the names k1, k2 and its error.message carries `words`; the metrics count
 * the failure.  Returns the JSON line. */
static const char *tick(ps_ctx *ctx, const char *repo, int want_rc, const char *failure, int k1, int k2,
	const char *words)
{
	const char *metrics = ps_keep(ctx, "tick.prom");
	const char *argv[] = { PUSHSEAL_CLI_PATH, "run", "--remote", "--metrics-file", metrics, repo, NULL };
	const char *out, *err, *prom;
	char field[256], line[4096];
	int rc;
	unlink(metrics);
	if (drv_is_exec())
		rc = drv_exec(ctx, &out, &err, "run", "--remote", "--metrics-file", metrics, repo, NULL);
	else
		rc = ps_spawn(ctx, ctx->root, argv, &out, &err);
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(out, "\n"), out);
	if (rc != want_rc)
		fail_msg("the tick exited %d, expected %d: %s %s", rc, want_rc, line, err);
	ps_json_field(field, sizeof(field), line, "failure");
	if (strcmp(field, failure) != 0)
		fail_msg("the tick reports \"failure\":%s, expected %s: %s", field, failure, line);
	prom = or_file(ctx, "tick.prom");
	if (!prom)
		fail_msg("the tick wrote no metrics file");
	if (!strcmp(failure, "null")) {
		if (!strstr(prom, "pushseal_failures{kind=\"permanent\"} 0") ||
		    !strstr(prom, "pushseal_failures{kind=\"transient\"} 0"))
			fail_msg("the metrics count a failure:\n%s", prom);
		return ps_fmt(ctx, "%s", line);
	}
	if (!strstr(prom, ps_fmt(ctx, "pushseal_failures{kind=\"%s\"} 1", failure)))
		fail_msg("the metrics do not count the %s failure:\n%s", failure, prom);
	/* "error" is the reference's field (docs/PROTOCOL.md): checked where printed */
	if (strstr(line, "\"error\":{")) {
		ps_json_field(field, sizeof(field), strstr(line, "\"error\":{"), "class");
		if (strcmp(field, pushseal_class_name(k1)) != 0 && strcmp(field, pushseal_class_name(k2)) != 0)
			fail_msg("the tick's error.class is %s, expected %s or %s: %s", field, pushseal_class_name(k1),
				pushseal_class_name(k2), line);
		if (words && !strstr(strstr(line, "\"error\":{"), words))
			fail_msg("the tick's error.message lacks the forge's words \"%s\": %s", words, line);
	} else if (!drv_is_exec()) {
		fail_msg("the reference's line has no error object: %s", line);
	}
	return ps_fmt(ctx, "%s", line);
}

static const char *wb_commit(void)
{
	return "echo bot >> data.txt && git add data.txt && git commit -qm 'bot: data'";
}

/* W-6: the control.  The bot's own branch on hub1: remote-ahead counts,
 * push lands, fix seals, a tick seals; nothing fails. */
static void forge_push_allowed(ps_ctx *ctx)
{
	const char *local, *bare;
	forge_start(ctx);
	bot_ssh_home(ctx);
	local = bot_clone(ctx, "hub1", "local", "main");
	bare = ps_keep(ctx, forge_repo(ctx, "hub1"));
	fx_commit_bare(ctx, forge_repo(ctx, "hub1"), "main", "log.txt", "hub1 2\n");
	{
		ps_result r = drv_remote_ahead(ctx, local);
		if (r.class_known && r.klass != 0)
			fail_msg("remote-ahead failed: %s", r.line);
		assert_int_equal(r.count, 1);
	}
	{ ps_result r = drv_pull(ctx, local); expect_ok(r); }
	fx_ahead(ctx, "local", 1);
	{ ps_result r = drv_push(ctx, local); expect_ok(r); }
	assert_str(or_rev(ctx, bare, "main").hex, or_rev(ctx, local, "HEAD").hex);
	{
		ps_cycle_result c = drv_fix(ctx, local, wb_commit());
		if (c.exit_code != 0 || !c.sealed)
			fail_msg("fix did not seal through gitolite: %s", c.json);
	}
	assert_str(or_rev(ctx, bare, "main").hex, or_rev(ctx, local, "HEAD").hex);
	fx_ahead(ctx, "local", 1);
	{
		const char *line = tick(ctx, local, 0, "null", 0, 0, NULL);
		if (!strstr(line, "\"sealed\":true"))
			fail_msg("the tick did not seal: %s", line);
	}
	assert_str(or_rev(ctx, bare, "main").hex, or_rev(ctx, local, "HEAD").hex);
	or_fsck_clean(ctx, forge_repo(ctx, "hub1"));
}

/* W-7: a branch the bot may not write: gitolite's update hook refuses it. */
static void forge_branch_denied(ps_ctx *ctx)
{
	const char *words = "FATAL: W refs/heads/other hub1 bot DENIED by fallthru";
	const char *local, *bare;
	ps_rev tip;
	forge_start(ctx);
	bot_ssh_home(ctx);
	local = bot_clone(ctx, "hub1", "local", "other");
	bare = ps_keep(ctx, forge_repo(ctx, "hub1"));
	tip = or_rev(ctx, bare, "other");
	fx_ahead(ctx, "local", 1);
	{
		ps_result r = drv_push(ctx, local);
		expect_refused(&r, PUSHSEAL_E_REJECTED, PUSHSEAL_E_REJECTED, words, "push to other");
	}
	/* reading is allowed: the refusal is the ref's, not the repository's */
	{ ps_result r = drv_pull(ctx, local); expect_ok(r); }
	tick(ctx, local, 1, "permanent", PUSHSEAL_E_REJECTED, PUSHSEAL_E_REJECTED, words);
	git_also_refuses(ctx, local, "push", words);
	assert_str(or_rev(ctx, bare, "other").hex, tip.hex);
}

/* W-8: hub2 is read-only for the bot: gitolite refuses the push at the
 * repository before git-receive-pack runs. */
static void forge_read_only_repo(ps_ctx *ctx)
{
	const char *words = "FATAL: W any hub2 bot DENIED by fallthru";
	const char *local, *bare;
	ps_rev tip;
	forge_start(ctx);
	bot_ssh_home(ctx);
	local = bot_clone(ctx, "hub2", "local", "main");
	bare = ps_keep(ctx, forge_repo(ctx, "hub2"));
	fx_commit_bare(ctx, forge_repo(ctx, "hub2"), "main", "log.txt", "hub2 2\n");
	{
		ps_result r = drv_remote_ahead(ctx, local);
		if (r.class_known && r.klass != 0)
			fail_msg("remote-ahead of a readable repository failed: %s", r.line);
		assert_int_equal(r.count, 1);
	}
	{ ps_result r = drv_pull(ctx, local); expect_ok(r); }
	tip = or_rev(ctx, bare, "main");
	fx_ahead(ctx, "local", 1);
	{
		ps_result r = drv_push(ctx, local);
		expect_refused(&r, PUSHSEAL_E_AUTH, PUSHSEAL_E_REJECTED, words, "push to hub2");
	}
	tick(ctx, local, 1, "permanent", PUSHSEAL_E_AUTH, PUSHSEAL_E_REJECTED, words);
	git_also_refuses(ctx, local, "push", words);
	assert_str(or_rev(ctx, bare, "main").hex, tip.hex);
}

/* W-9 and W-10: no access to hub3, and a repository that does not exist:
 * gitolite answers both alike (it never tells which), at the repository. */
static void fetch_refused(ps_ctx *ctx, const char *repo_url_name, const char *words)
{
	const char *local = ps_keep(ctx, "local");
	fx_set_url(ctx, "local", "origin", forge_url(ctx, repo_url_name));
	fx_ahead(ctx, "local", 1);
	{
		ps_result r = drv_remote_ahead(ctx, local);
		assert_int_equal(r.count, 0);
		if (r.class_known)
			expect_refused(&r, PUSHSEAL_E_AUTH, PUSHSEAL_E_REJECTED, words, "remote-ahead");
	}
	{
		ps_result r = drv_pull(ctx, local);
		expect_refused(&r, PUSHSEAL_E_AUTH, PUSHSEAL_E_REJECTED, words, "pull");
	}
	{
		ps_result r = drv_push(ctx, local);
		expect_refused(&r, PUSHSEAL_E_AUTH, PUSHSEAL_E_REJECTED,
			ps_fmt(ctx, "FATAL: W any %s bot DENIED by fallthru", repo_url_name), "push");
	}
	{
		const char *line = tick(ctx, local, 1, "permanent", PUSHSEAL_E_AUTH, PUSHSEAL_E_REJECTED, words);
		if (!strstr(line, "\"skipped\":\"c16\""))
			fail_msg("a refused fetch must stop the tick at c16: %s", line);
	}
	git_also_refuses(ctx, local, "fetch", words);
}

static void forge_no_access(ps_ctx *ctx)
{
	forge_start(ctx);
	bot_ssh_home(ctx);
	bot_clone(ctx, "hub3", "local", "main");
	fetch_refused(ctx, "hub3", "FATAL: R any hub3 bot DENIED by fallthru");
}

static void forge_missing_repo(ps_ctx *ctx)
{
	forge_start(ctx);
	bot_ssh_home(ctx);
	bot_clone(ctx, "hub1", "local", "main");
	fetch_refused(ctx, "nosuch", "FATAL: R any nosuch bot DENIED by fallthru");
	assert_false(or_exists(ctx, forge_repo(ctx, "nosuch")));
}

/* ---- T-SSH-15: contrib/systemd/README.md, as written -------------------------- */

#ifdef PUSHSEAL_SOURCE_DIR
#define README PUSHSEAL_SOURCE_DIR "/contrib/systemd/README.md"
#define UNIT PUSHSEAL_SOURCE_DIR "/contrib/systemd/pushseal@.service"
#else
#define README ""
#define UNIT ""
#endif

/* Replace every `from` in `s` by `to`, into the ring. */
static const char *replace_all(ps_ctx *ctx, const char *s, const char *from, const char *to)
{
	char *out = ctx->ring[ctx->ring_next++ % 8];
	size_t o = 0, fl = strlen(from), cap = sizeof(ctx->ring[0]);
	char copy[32768];
	const char *p;
	snprintf(copy, sizeof(copy), "%s", s);
	for (p = copy; *p && o + 1 < cap;) {
		if (!strncmp(p, from, fl)) {
			o += (size_t)snprintf(out + o, cap - o, "%s", to);
			p += fl;
		} else {
			out[o++] = *p++;
		}
	}
	out[o < cap ? o : cap - 1] = '\0';
	return out;
}

/* The README's "Deploy keys over ssh" shell block: from `d=` to the line
 * that runs pushseal, or NULL. */
static const char *readme_block(ps_ctx *ctx, const char *readme)
{
	const char *start = strstr(readme, "\nd=/var/lib/pushseal/.ssh\n"), *end;
	if (!start)
		return NULL;
	start++;
	end = strstr(start, "\n```");
	if (!end)
		return NULL;
	return ps_fmt(ctx, "%.*s\n", (int)(end - start), start);
}

/* Read a whole file of the source tree into buf; 0 when it is not there. */
static int read_source(const char *path, char *buf, size_t n)
{
	FILE *f = path[0] ? fopen(path, "r") : NULL;
	size_t got;
	if (!f)
		return 0;
	got = fread(buf, 1, n - 1, f);
	buf[got] = '\0';
	fclose(f);
	return 1;
}

/* In `script`, replace every `from` by `to` (in place, bounded). */
static void edit(ps_ctx *ctx, char *script, size_t n, const char *from, const char *to)
{
	char copy[16384];
	snprintf(copy, sizeof(copy), "%s", to);
	snprintf(script, n, "%s", replace_all(ctx, script, from, copy));
}

/* One tick as ExecStart= (the text after /usr/bin/pushseal) runs it, %f
 * being the hub: it exits 0, with no failure and "sealed" as given. */
static void unit_tick(ps_ctx *ctx, const char *exec_start, const char *hub, const char *sealed_want)
{
	char args[512], sealed[16], *save = NULL, *tok;
	const char *argv[32];
	const char *out, *err;
	int argc = 0, rc;
	snprintf(args, sizeof(args), "%.*s", (int)strcspn(exec_start, "\n"), exec_start);
	argv[argc++] = PUSHSEAL_CLI_PATH;
	for (tok = strtok_r(args, " ", &save); tok && argc < 30; tok = strtok_r(NULL, " ", &save))
		argv[argc++] = !strcmp(tok, "%f") ? hub : tok;
	argv[argc] = NULL;
	rc = ps_spawn(ctx, "/", argv, &out, &err);
	if (rc != 0)
		fail_msg("the unit's tick exited %d: %s%s", rc, out, err);
	ps_json_field(sealed, sizeof(sealed), out, "sealed");
	if (strcmp(sealed, sealed_want) != 0 || !strstr(out, "\"failure\":null"))
		fail_msg("the unit's tick: \"sealed\":%s, expected %s: %s", sealed, sealed_want, out);
}

/* T-SSH-15 */
static void systemd_deploy_key_recipe(ps_ctx *ctx)
{
	static char readme[32768], unit[8192], script[16384];
	const char *hub, *repo, *bare, *block, *exec_start;
	char register_key[1200], bin[1200];
	if (drv_is_exec())
		PS_SKIP("the reference's own systemd unit and README: run by the in-process suite");
	if (!read_source(README, readme, sizeof(readme)) || !read_source(UNIT, unit, sizeof(unit)))
		PS_SKIP("contrib/systemd is not on this machine (the installed kit has no source tree)");
	block = readme_block(ctx, readme);
	if (!block)
		fail_msg("contrib/systemd/README.md has no deploy-key block starting with d=/var/lib/pushseal/.ssh");
	snprintf(script, sizeof(script), "%s", block);
	forge_start(ctx);
	/* the service user's account: OpenSSH's ~ is the sandbox's HOME, with
	 * an empty ~/.ssh (the README's `install -d ... -m700 .../.ssh`) */
	bot_ssh_home(ctx);
	unlink(ps_path(ctx, "home/.ssh/config"));
	unlink(ps_path(ctx, "home/.ssh/known_hosts"));
	unsetenv("PUSHSEAL_DEADLINE_S"); /* the unit sets none */
	/* the hub, with the bot's worktree (the service user owns both) */
	assert_int_equal(mkdir(ps_path(ctx, "srv"), 0755), 0);
	assert_int_equal(mkdir(ps_path(ctx, "srv/bots"), 0755), 0);
	hub = ps_keep(ctx, "srv/bots");
	fx_clone(ctx, forge_repo(ctx, "org/repo1"), "srv/bots/repo1");
	repo = ps_keep(ctx, "srv/bots/repo1");
	bare = ps_keep(ctx, forge_repo(ctx, "org/repo1"));

	/* What differs from a real host, and only that: the service user is
	 * the one running the test (no runuser), its home and the hub are the
	 * sandbox's, the git host is the forge on 127.0.0.1 at its port, and
	 * the forge's account is the test's login user (gitolite runs under
	 * any account; the README's is `git`). */
	edit(ctx, script, sizeof(script), "runuser -u pushseal -- ", "");
	edit(ctx, script, sizeof(script), "/var/lib/pushseal", ctx->home);
	edit(ctx, script, sizeof(script), "/srv/bots", hub);
	edit(ctx, script, sizeof(script), "HostName git.example.org", ps_fmt(ctx, "HostName 127.0.0.1\n    Port %d", fg.port));
	edit(ctx, script, sizeof(script), "ssh-keyscan -t ed25519 git.example.org",
		ps_fmt(ctx, "ssh-keyscan -t ed25519 -p %d 127.0.0.1", fg.port));
	edit(ctx, script, sizeof(script), "    User git\n", ps_fmt(ctx, "    User %s\n", login_user()));
	if (strstr(script, "example.org"))
		fail_msg("the recipe names a host the test cannot stand in for:\n%s", script);
	/* the forge's admin adds the new key as a deploy key right after
	 * ssh-keygen made it ("add each .pub as a deploy key ... on its repository") */
	snprintf(register_key, sizeof(register_key), "%s", ps_path(ctx, "register-key"));
	fx_write(ctx, "register-key", ps_fmt(ctx,
		"#!/bin/sh\nset -e\ncp \"$1\" '%1$s/.gitolite/keydir/repo1-deploy.pub'\n"
		"HOME='%1$s' gitolite compile\nHOME='%1$s' gitolite trigger POST_COMPILE\n", fg.home));
	assert_int_equal(chmod(register_key, 0755), 0);
	{
		char *keygen_line = strstr(script, "ssh-keygen -q -t ed25519");
		char *eol = keygen_line ? strchr(keygen_line, '\n') : NULL;
		char tail[16384];
		if (!eol)
			fail_msg("the recipe makes no ed25519 deploy key:\n%s", script);
		snprintf(tail, sizeof(tail), "%s", eol + 1);
		snprintf(eol + 1, sizeof(script) - (size_t)(eol + 1 - script), "'%s' \"$d/repo1-deploy.pub\"\n%s",
			register_key, tail);
	}
	/* `pushseal` on the service's PATH is the one under test */
	snprintf(bin, sizeof(bin), "%s", ps_path(ctx, "bin"));
	assert_int_equal(mkdir(bin, 0755), 0);
	assert_int_equal(symlink(PUSHSEAL_CLI_PATH, ps_path(ctx, "bin/pushseal")), 0);
	/* one commit on the forge that the bot lacks: remote-ahead must count it */
	fx_commit_bare(ctx, forge_repo(ctx, "org/repo1"), "main", "log.txt", "repo1 2\n");
	fx_write(ctx, "recipe.sh", ps_fmt(ctx, "PATH='%s':\"$PATH\"\n%s", bin, script));
	{
		const char *argv[] = { "sh", "-eu", ps_path(ctx, "recipe.sh"), NULL };
		const char *out, *err, *last;
		size_t n;
		int rc = ps_spawn(ctx, ctx->root, argv, &out, &err);
		/* the last line is remote-ahead's count (tee echoes known_hosts before it) */
		n = strlen(out);
		last = out + n;
		if (last > out && last[-1] == '\n')
			last--;
		while (last > out && last[-1] != '\n')
			last--;
		if (rc != 0 || strcmp(last, "1\n") != 0 || strstr(err, "pushseal:"))
			fail_msg("the README's recipe, run as written, exits %d and its remote-ahead prints '%s', not 1:\n"
				"%s\n--- the recipe ---\n%s", rc, last, err, or_file(ctx, "recipe.sh"));
	}
	/* the deploy key where the README puts it; known_hosts pins the forge */
	assert_true(or_exists(ctx, "home/.ssh/repo1-deploy"));
	if (!strstr(or_file(ctx, "home/.ssh/known_hosts"), ps_fmt(ctx, "[127.0.0.1]:%d ssh-ed25519 ", fg.port)))
		fail_msg("known_hosts does not pin the forge: %s", or_file(ctx, "home/.ssh/known_hosts"));
	/* ticks exactly as the unit's ExecStart= runs them: the first pulls
	 * the forge's commit, the second seals the bot's work */
	exec_start = strstr(unit, "\nExecStart=/usr/bin/pushseal ");
	if (!exec_start)
		fail_msg("pushseal@.service has no ExecStart=/usr/bin/pushseal line");
	exec_start += strlen("\nExecStart=/usr/bin/pushseal ");
	unit_tick(ctx, exec_start, hub, "false");
	assert_str(or_rev(ctx, repo, "HEAD").hex, or_rev(ctx, bare, "main").hex);
	fx_ahead(ctx, "srv/bots/repo1", 2);
	unit_tick(ctx, exec_start, hub, "true");
	assert_str(or_rev(ctx, bare, "main").hex, or_rev(ctx, repo, "HEAD").hex);
	assert_int_equal(or_count(ctx, repo, "origin/main..HEAD"), 0);
	or_fsck_clean(ctx, forge_repo(ctx, "org/repo1"));
	/* the README's ControlMaster is still there (one connection per host
	 * for a tick): stop it, as the end of the oneshot service's cgroup
	 * would (ControlPersist would keep it 60 s) */
	{
		const char *argv[] = { "ssh", "-O", "exit", "repo1-deploy", NULL };
		const char *out, *err;
		if (ps_spawn(ctx, NULL, argv, &out, &err) != 0)
			fail_msg("no ControlMaster outlived the tick, as the README says one does: %s", err);
	}
}

static const struct CMUnitTest tests[] = {
	CLAUSE("W-6", "on a real gitolite forge the bot's own branch counts, pulls, pushes and seals", forge_push_allowed),
	CLAUSE("W-7", "gitolite refusing a branch is rejected and permanent, with its FATAL line", forge_branch_denied),
	CLAUSE("W-8", "a read-only gitolite repo refuses the push as auth, permanent, in its words", forge_read_only_repo),
	CLAUSE("W-9", "a gitolite repo without access fails permanent in gitolite's words", forge_no_access),
	CLAUSE("W-10", "a repository gitolite does not have reads as no access: permanent, gitolite's words, counted", forge_missing_repo),
	CLAUSE("T-SSH-15", "contrib/systemd's deploy-key recipe, run as written against gitolite, seals", systemd_deploy_key_recipe),
};

int main(void)
{
	ps_harness_init();
	return PS_RUN("gitolite", tests);
}
