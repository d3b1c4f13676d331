/*
 * T-SSH: ssh as git does it, through the system's OpenSSH and the user's own
 * ssh configuration, against a real sshd on 127.0.0.1 (and a second one as
 * a ProxyJump host) started by the harness (harness/transport.c).
 *
 * Each test writes the sandbox's ~/.ssh/config and known_hosts itself; the
 * harness points OpenSSH's ~ (the passwd entry's home, which ssh reads
 * instead of $HOME) at the sandbox, so a developer's own ~/.ssh never
 * decides an outcome.  Every test runs with stdin /dev/null, no agent unless
 * it starts one, GIT_TERMINAL_PROMPT=0 and PUSHSEAL_DEADLINE_S=20, so that a
 * prompt or a loop shows as a slow `timeout`, never as a pass.
 *
 * Which clauses any implementation can be held to, when ssh is among its
 * transports (they use nothing but git's own ssh configuration): T-SSH-4,
 * -5, -6, -7, -8, -9, -10, -11, -12, -13.  T-SSH-1, -2, -3 and -14 check the
 * reference's own messages and PUSHSEAL_SSH_KEY.  Classes are checked where
 * the implementation reports them.
 */
#define _GNU_SOURCE
#include "harness.h"
#include "pushseal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* A failure must come within this many ms: no loop, no prompt, no deadline. */
#define FAST_MS 8000

static void clean_env(void)
{
	static const char *const vars[] = {
		"PUSHSEAL_SSH_KEY", "PUSHSEAL_SSH_KNOWN_HOSTS", "SSH_AUTH_SOCK", "GIT_SSH_COMMAND", "GIT_SSH",
		"GIT_SSH_VARIANT", "GIT_ASKPASS", "SSH_ASKPASS", "SSH_ASKPASS_REQUIRE", "DISPLAY",
	};
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	setenv("GIT_TERMINAL_PROMPT", "0", 1);
	setenv("PUSHSEAL_DEADLINE_S", "20", 1);
}

/* The sandbox's ~/.ssh as a user would have it: `config` and `known_hosts`
 * (NULL: the test server's host key). */
static void ssh_home(ps_ctx *ctx, const char *config, const char *known_hosts)
{
	char kh[8192], cfg[8192];
	snprintf(cfg, sizeof(cfg), "%s", config); /* both may be ring buffers */
	snprintf(kh, sizeof(kh), "%s", known_hosts ? known_hosts : ps_ssh_known_host(ctx, 0));
	clean_env();
	ps_ssh_home(ctx);
	fx_write(ctx, "home/.ssh/config", cfg);
	fx_write(ctx, "home/.ssh/known_hosts", kh);
}

/* ~/.ssh/config that gives 127.0.0.1 one key of the server's directory. */
static const char *key_for_loopback(ps_ctx *ctx, const char *key)
{
	char k[1200];
	snprintf(k, sizeof(k), "%s", ps_ssh_file(ctx, key));
	return ps_fmt(ctx, "Host 127.0.0.1\n  IdentityFile %s\n  IdentitiesOnly yes\n", k);
}

/* "remote.git" with 3 commits and "local" cloned from it, origin at url. */
static void pair_at(ps_ctx *ctx, const char *url)
{
	char copy[4096];
	snprintf(copy, sizeof(copy), "%s", url);
	fx_bare(ctx, "remote.git", 3);
	fx_clone(ctx, "remote.git", "local");
	fx_set_url(ctx, "local", "origin", copy);
}

/* An scp-style URL of the sandbox's remote.git on `host` (an alias). */
static const char *scp_url(ps_ctx *ctx, const char *host)
{
	char p[2048];
	snprintf(p, sizeof(p), "%s", ps_path(ctx, "remote.git"));
	return ps_fmt(ctx, "%s:%s", host, p);
}

static const char *wb_commit(void)
{
	return "echo bot >> data.txt && git add data.txt && git commit -qm 'bot: data'";
}

static long file_size(const char *file)
{
	struct stat st;
	return stat(file, &st) == 0 ? (long)st.st_size : 0;
}

/* Lines of `file` from byte `from` on that contain a (and b, if given);
 * sshd writes its log line by line, so give it a moment first. */
static int log_lines(const char *file, long from, const char *a, const char *b)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	int n = 0;
	usleep(300 * 1000);
	if (!(f = fopen(file, "r")))
		return 0;
	fseek(f, from, SEEK_SET);
	while (getline(&line, &cap, f) >= 0)
		if (strstr(line, a) && (!b || strstr(line, b)))
			n++;
	free(line);
	fclose(f);
	return n;
}

static const char *sshd_log(ps_ctx *ctx)
{
	return ps_ssh_file(ctx, "sshd.log");
}

/* Every primitive and the cycle work over local_rel's origin: remote-ahead
 * counts, pull fast-forwards, push lands, and fix pulls, writes and seals. */
static void all_ops_work(ps_ctx *ctx, const char *local_rel)
{
	const char *local = ps_keep(ctx, local_rel);
	const char *bare = ps_keep(ctx, "remote.git");
	fx_behind(ctx, "remote.git", 1);
	{
		ps_result r = drv_remote_ahead(ctx, local);
		if (r.class_known && r.klass != 0)
			fail_msg("remote-ahead failed: %s", r.line);
		assert_int_equal(r.count, 1);
	}
	{ ps_result r = drv_pull(ctx, local); expect_ok(r); }
	assert_str(or_rev(ctx, local, "HEAD").hex, or_rev(ctx, bare, "main").hex);
	fx_ahead(ctx, local_rel, 1);
	{ ps_result r = drv_push(ctx, local); expect_ok(r); }
	assert_str(or_rev(ctx, bare, "main").hex, or_rev(ctx, local, "HEAD").hex);
	fx_behind(ctx, "remote.git", 1);
	{
		ps_cycle_result c = drv_fix(ctx, local, wb_commit());
		if (c.exit_code != 0 || !c.sealed)
			fail_msg("fix did not seal: %s", c.json);
	}
	assert_str(or_rev(ctx, bare, "main").hex, or_rev(ctx, local, "HEAD").hex);
	assert_int_equal(or_count(ctx, local, "HEAD..origin/main"), 0);
}

/* Run op and assert that it fails with klass (0: any class), within FAST_MS,
 * with `needle` in the message when the implementation is the library. */
static ps_result fails_fast(ps_ctx *ctx, ps_result (*op)(ps_ctx *, const char *), const char *repo, int klass,
	const char *needle)
{
	long long t0 = ps_mono_ms();
	ps_result r = op(ctx, repo);
	long long ms = ps_mono_ms() - t0;
	expect_fail(r, klass);
	if (ms > FAST_MS)
		fail_msg("the failure took %lld ms (bound %d): a loop or a prompt", ms, FAST_MS);
	if (needle && !drv_is_exec() && !strstr(r.line, needle))
		fail_msg("the message lacks '%s': %s", needle, r.line);
	if (strchr(r.line, '\n'))
		fail_msg("the message is not one line: %s", r.line);
	return r;
}

/* Every primitive and the cycle fail over local_rel's origin with klass,
 * each fast and with `needle` in the library's message; nothing moves. */
static void all_ops_fail(ps_ctx *ctx, const char *local_rel, int klass, const char *needle)
{
	const char *local = ps_keep(ctx, local_rel);
	const char *bare = ps_keep(ctx, "remote.git");
	ps_rev remote_tip;
	ps_rev local_tip;
	fx_behind(ctx, "remote.git", 1);
	fx_ahead(ctx, local_rel, 1);
	remote_tip = or_rev(ctx, bare, "main");
	local_tip = or_rev(ctx, local, "HEAD");
	fails_fast(ctx, drv_pull, local, klass, needle);
	fails_fast(ctx, drv_push, local, klass, needle);
	{
		ps_result r = drv_remote_ahead(ctx, local);
		assert_int_equal(r.count, 0);
		if (r.class_known && r.klass != klass)
			fail_msg("remote-ahead: expected class %s: %s", pushseal_class_name(klass), r.line);
	}
	{
		ps_cycle_result c = drv_fix(ctx, local, wb_commit());
		if (c.exit_code != 1 || c.sealed || c.wrote || !c.skipped[0])
			fail_msg("fix must skip its writes: %s", c.json);
	}
	assert_str(or_rev(ctx, bare, "main").hex, remote_tip.hex);
	assert_str(or_rev(ctx, local, "HEAD").hex, local_tip.hex);
}

/* A fetch (remote-ahead) over local's origin works, whatever local holds:
 * the tracking ref reaches the remote's tip. */
static void fetch_works(ps_ctx *ctx, const char *local_rel)
{
	const char *local = ps_keep(ctx, local_rel);
	fx_behind(ctx, "remote.git", 1);
	{
		ps_result r = drv_remote_ahead(ctx, local);
		if (r.class_known && r.klass != 0)
			fail_msg("remote-ahead failed: %s", r.line);
		assert_true(r.count >= 1);
	}
	assert_str(or_rev(ctx, local, "origin/main").hex, or_rev(ctx, ps_path(ctx, "remote.git"), "main").hex);
}

/* ---- the reference's own (PUSHSEAL_SSH_KEY, messages) ------------------------------ */

/* T-SSH-1: no key anywhere (no agent, no IdentityFile, no ~/.ssh/id_*), or
 * only a passphrase-protected one: every operation fails fast as auth with
 * ssh's own words, and no askpass program ever runs. */
static void ssh_no_key_never_prompts(ps_ctx *ctx)
{
	ssh_home(ctx, "", NULL);
	pair_at(ctx, ps_ssh_url(ctx, "remote.git", NULL));
	all_ops_fail(ctx, "local", PUSHSEAL_E_AUTH, "Permission denied (publickey)");
	/* a default identity with a passphrase, and an askpass that would answer */
	{
		const char *key = ps_keep(ctx, "home/.ssh/id_ed25519");
		const char *argv[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "secret-pass", "-f", key, NULL };
		assert_int_equal(ps_spawn(ctx, NULL, argv, NULL, NULL), 0);
	}
	fx_write(ctx, "askpass.sh", ps_fmt(ctx, "#!/bin/sh\necho ran >> '%s'\necho secret-pass\n",
		ps_path(ctx, "askpass-ran")));
	chmod(ps_path(ctx, "askpass.sh"), 0755);
	setenv("SSH_ASKPASS", ps_path(ctx, "askpass.sh"), 1);
	setenv("SSH_ASKPASS_REQUIRE", "force", 1);
	setenv("DISPLAY", ":0", 1);
	fails_fast(ctx, drv_pull, ps_path(ctx, "local"), PUSHSEAL_E_AUTH, "Permission denied");
	fails_fast(ctx, drv_push, ps_path(ctx, "local"), PUSHSEAL_E_AUTH, "Permission denied");
	assert_false(or_exists(ctx, "askpass-ran"));
}

/* T-SSH-2: a key the server refuses, from PUSHSEAL_SSH_KEY, fails as auth,
 * offered once per operation (it becomes -i KEY -o IdentitiesOnly=yes). */
static void ssh_refused_key_once(ps_ctx *ctx)
{
	long from;
	ssh_home(ctx, "", NULL);
	setenv("PUSHSEAL_SSH_KEY", ps_ssh_file(ctx, "other_ed25519"), 1);
	pair_at(ctx, ps_ssh_url(ctx, "remote.git", NULL));
	from = file_size(sshd_log(ctx));
	fails_fast(ctx, drv_pull, ps_path(ctx, "local"), PUSHSEAL_E_AUTH, "Permission denied");
	assert_int_equal(log_lines(sshd_log(ctx), from, "Failed publickey", NULL), 1);
	fx_ahead(ctx, "local", 1);
	fails_fast(ctx, drv_push, ps_path(ctx, "local"), PUSHSEAL_E_AUTH, "Permission denied");
	assert_int_equal(log_lines(sshd_log(ctx), from, "Failed publickey", NULL), 2);
	assert_int_equal(log_lines(sshd_log(ctx), from, "Accepted publickey", NULL), 0);
	/* an unreadable key file is named, and never reaches ssh */
	setenv("PUSHSEAL_SSH_KEY", ps_path(ctx, "no-such-key"), 1);
	fails_fast(ctx, drv_pull, ps_path(ctx, "local"), PUSHSEAL_E_AUTH, "PUSHSEAL_SSH_KEY");
}

/* T-SSH-3: the right ed25519 key from PUSHSEAL_SSH_KEY works for every
 * operation, also with no user in the URL, and beside a ~/.ssh/config whose
 * IdentityFile the server refuses. */
static void ssh_pushseal_key(ps_ctx *ctx)
{
	ssh_home(ctx, key_for_loopback(ctx, "other_ed25519"), NULL);
	setenv("PUSHSEAL_SSH_KEY", ps_ssh_file(ctx, "client_ed25519"), 1);
	pair_at(ctx, ps_ssh_url(ctx, "remote.git", ""));
	all_ops_work(ctx, "local");
}

/* T-SSH-14: a refused connection and a host name that does not resolve fail
 * as unreachable (transient), with ssh's words in a one-line message. */
static void ssh_unreachable(ps_ctx *ctx)
{
	int port;
	ssh_home(ctx, ps_fmt(ctx, "Host nowhere\n  HostName nonexistent.invalid\n"), NULL);
	{
		/* a port nobody listens on: bind, note, close */
		struct sockaddr_in a;
		socklen_t len = sizeof(a);
		int s = socket(AF_INET, SOCK_STREAM, 0);
		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 ||
		    getsockname(s, (struct sockaddr *)&a, &len) != 0)
			fail_msg("no free port: %s", strerror(errno));
		port = ntohs(a.sin_port);
		close(s);
	}
	pair_at(ctx, ps_fmt(ctx, "ssh://127.0.0.1:%d%s", port, ps_path(ctx, "remote.git")));
	{
		ps_result r = fails_fast(ctx, drv_pull, ps_path(ctx, "local"), PUSHSEAL_E_UNREACHABLE, "Connection refused");
		assert_false(pushseal_class_is_permanent(r.klass));
	}
	fx_ahead(ctx, "local", 1);
	fails_fast(ctx, drv_push, ps_path(ctx, "local"), PUSHSEAL_E_UNREACHABLE, "Connection refused");
	fx_set_url(ctx, "local", "origin", scp_url(ctx, "nowhere"));
	fails_fast(ctx, drv_pull, ps_path(ctx, "local"), PUSHSEAL_E_UNREACHABLE, "Could not resolve hostname");
}

/* ---- what any implementation that runs ssh as git does must meet ------------------ */

/* T-SSH-4: an unknown host key fails as auth before any key is offered,
 * never prompting; a changed key fails too; a hashed entry is accepted, and
 * so is an unknown key when the user's config says accept-new. */
static void ssh_host_keys(ps_ctx *ctx)
{
	const char *local = ps_keep(ctx, "local");
	long from;
	ssh_home(ctx, key_for_loopback(ctx, "client_ed25519"), "# nothing known\n");
	pair_at(ctx, ps_ssh_url(ctx, "remote.git", NULL));
	from = file_size(sshd_log(ctx));
	all_ops_fail(ctx, "local", PUSHSEAL_E_AUTH, "Host key verification failed");
	assert_int_equal(log_lines(sshd_log(ctx), from, "publickey", NULL), 0);
	/* a changed host key */
	fx_write(ctx, "home/.ssh/known_hosts", or_file(ctx, ps_ssh_file(ctx, "known_hosts_changed")));
	fails_fast(ctx, drv_pull, local, PUSHSEAL_E_AUTH, "Host key verification failed");
	fails_fast(ctx, drv_push, local, PUSHSEAL_E_AUTH, "Host key verification failed");
	assert_int_equal(log_lines(sshd_log(ctx), from, "publickey", NULL), 0);
	/* the right key, hashed as `ssh-keygen -H` writes it */
	{
		const char *kh = ps_keep(ctx, "home/.ssh/known_hosts");
		const char *argv[] = { "ssh-keygen", "-q", "-H", "-f", kh, NULL };
		fx_write(ctx, "home/.ssh/known_hosts", ps_ssh_known_host(ctx, 0));
		assert_int_equal(ps_spawn(ctx, NULL, argv, NULL, NULL), 0);
		assert_non_null(strstr(or_file(ctx, "home/.ssh/known_hosts"), "|1|"));
		fetch_works(ctx, "local");
	}
	/* the user's own choice: StrictHostKeyChecking accept-new */
	fx_write(ctx, "home/.ssh/known_hosts", "");
	fx_write(ctx, "home/.ssh/config", ps_fmt(ctx, "%s  StrictHostKeyChecking accept-new\n",
		key_for_loopback(ctx, "client_ed25519")));
	fetch_works(ctx, "local");
	assert_non_null(strstr(or_file(ctx, "home/.ssh/known_hosts"), "ssh-ed25519"));
}

/* T-SSH-5: an RSA key (signing rsa-sha2-256/512: the server accepts no
 * ssh-rsa) and an ed25519 key each work for every operation. */
static void ssh_rsa_and_ed25519(ps_ctx *ctx)
{
	long from;
	ssh_home(ctx, key_for_loopback(ctx, "client_rsa"), NULL);
	pair_at(ctx, ps_ssh_url(ctx, "remote.git", NULL));
	from = file_size(sshd_log(ctx));
	all_ops_work(ctx, "local");
	assert_true(log_lines(sshd_log(ctx), from, "Accepted publickey", ": RSA SHA256:") >= 4);
	fx_write(ctx, "home/.ssh/config", key_for_loopback(ctx, "client_ed25519"));
	from = file_size(sshd_log(ctx));
	all_ops_work(ctx, "local");
	assert_true(log_lines(sshd_log(ctx), from, "Accepted publickey", ": ED25519 SHA256:") >= 4);
	assert_int_equal(log_lines(sshd_log(ctx), from, "Accepted publickey", ": RSA "), 0);
}

/* Start `ssh-agent -D` on a socket in the sandbox (killed in teardown) and
 * add `key` to it. */
static void start_agent(ps_ctx *ctx, const char *key)
{
	const char *sock = ps_keep(ctx, "agent.sock");
	struct stat st;
	ctx->server_pid = fork();
	if (ctx->server_pid == 0) {
		int null = open("/dev/null", O_RDWR);
		setpgid(0, 0); /* teardown kills the group: timeout and the agent */
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execlp("timeout", "timeout", "120", "ssh-agent", "-D", "-a", sock, (char *)NULL);
		_exit(127);
	}
	setpgid(ctx->server_pid, ctx->server_pid);
	for (int i = 0; i < 250 && stat(sock, &st) != 0; i++)
		usleep(20 * 1000);
	setenv("SSH_AUTH_SOCK", sock, 1);
	{
		const char *argv[] = { "ssh-add", "-q", ps_ssh_file(ctx, key), NULL };
		assert_int_equal(ps_spawn(ctx, NULL, argv, NULL, NULL), 0);
	}
}

/* T-SSH-6: the user's ssh agent (SSH_AUTH_SOCK) alone authenticates every
 * operation, with no key file anywhere. */
static void ssh_agent(ps_ctx *ctx)
{
	long from;
	ssh_home(ctx, "", NULL);
	start_agent(ctx, "client_ed25519");
	pair_at(ctx, ps_ssh_url(ctx, "remote.git", NULL));
	from = file_size(sshd_log(ctx));
	all_ops_work(ctx, "local");
	assert_true(log_lines(sshd_log(ctx), from, "Accepted publickey", NULL) >= 4);
}

/* T-SSH-7: a Host alias in ~/.ssh/config, with its own HostName, Port,
 * User, IdentityFile and IdentitiesOnly, serves scp-style and ssh:// URLs
 * for every operation; another alias to the same server with another key
 * is refused: the key is chosen per alias (a deploy key per repository). */
static void ssh_host_alias(ps_ctx *ctx)
{
	char good[1200], bad[1200];
	snprintf(good, sizeof(good), "%s", ps_ssh_file(ctx, "client_ed25519"));
	snprintf(bad, sizeof(bad), "%s", ps_ssh_file(ctx, "other_ed25519"));
	ssh_home(ctx, ps_fmt(ctx,
		"Host repo1-deploy\n  HostName 127.0.0.1\n  Port %1$d\n  User %2$s\n  IdentityFile %3$s\n  IdentitiesOnly yes\n"
		"Host repo2-deploy\n  HostName 127.0.0.1\n  Port %1$d\n  User %2$s\n  IdentityFile %4$s\n  IdentitiesOnly yes\n",
		ps_ssh_port(0), ps_ssh_user(), good, bad), NULL);
	fx_bare(ctx, "remote.git", 3);
	fx_clone(ctx, "remote.git", "local");
	fx_set_url(ctx, "local", "origin", scp_url(ctx, "repo1-deploy"));
	all_ops_work(ctx, "local");
	fx_set_url(ctx, "local", "origin", ps_fmt(ctx, "ssh://repo1-deploy%s", ps_path(ctx, "remote.git")));
	all_ops_work(ctx, "local");
	fx_clone(ctx, "remote.git", "other");
	fx_set_url(ctx, "other", "origin", scp_url(ctx, "repo2-deploy"));
	fails_fast(ctx, drv_pull, ps_keep(ctx, "other"), PUSHSEAL_E_AUTH, "Permission denied");
}

/* T-SSH-8: GIT_SSH_COMMAND runs through the shell with its own options (a
 * quoted key path with a space) for every operation, and wins over
 * core.sshCommand; a command with another name is probed (`-G`) as git
 * does; GIT_SSH names a program run without a shell. */
static void ssh_git_ssh_command(ps_ctx *ctx)
{
	const char *local = ps_keep(ctx, "local");
	char key[1200];
	ssh_home(ctx, "", NULL);
	mkdir(ps_path(ctx, "deploy keys"), 0700);
	fx_write(ctx, "deploy keys/repo 1", or_file(ctx, ps_ssh_file(ctx, "client_ed25519")));
	snprintf(key, sizeof(key), "%s", ps_path(ctx, "deploy keys/repo 1"));
	chmod(key, 0600);
	pair_at(ctx, ps_ssh_url(ctx, "remote.git", NULL));
	/* core.sshCommand with a refused key: GIT_SSH_COMMAND must win */
	fx_config(ctx, "local", "core.sshCommand",
		ps_fmt(ctx, "ssh -o IdentitiesOnly=yes -i '%s'", ps_ssh_file(ctx, "other_ed25519")));
	setenv("GIT_SSH_COMMAND", ps_fmt(ctx, "ssh -o IdentitiesOnly=yes -i '%s' -o ServerAliveInterval=5 "
		"-o ConnectTimeout=10", key), 1);
	all_ops_work(ctx, "local");
	/* a command not named ssh: git's `-G` probe finds OpenSSH behind it
	 * (a link to the real one), so the URL's port is passed */
	assert_int_equal(symlink("/usr/bin/ssh", ps_path(ctx, "deploy keys/my-ssh")), 0);
	setenv("GIT_SSH_COMMAND", ps_fmt(ctx, "'%s' -o IdentitiesOnly=yes -i '%s'",
		ps_path(ctx, "deploy keys/my-ssh"), key), 1);
	fx_behind(ctx, "remote.git", 1);
	{ ps_result r = drv_pull(ctx, local); expect_ok(r); }
	unsetenv("GIT_SSH_COMMAND");
	fx_config_delete(ctx, "local", "core.sshCommand");
	/* GIT_SSH: a program, never a shell command line */
	setenv("GIT_SSH", ps_path(ctx, "no-such-dir/ssh"), 1);
	fails_fast(ctx, drv_pull, local, 0, "no-such-dir/ssh");
	fx_write(ctx, "home/.ssh/config", key_for_loopback(ctx, "client_ed25519"));
	setenv("GIT_SSH", "/usr/bin/ssh", 1);
	fx_behind(ctx, "remote.git", 1);
	{ ps_result r = drv_pull(ctx, local); expect_ok(r); }
	assert_str(or_rev(ctx, local, "HEAD").hex, or_rev(ctx, ps_path(ctx, "remote.git"), "main").hex);
}

/* T-SSH-9: core.sshCommand set per repository: two clones of one remote,
 * each with its own deploy key; each uses its own. */
static void ssh_core_ssh_command(ps_ctx *ctx)
{
	ssh_home(ctx, "", NULL);
	pair_at(ctx, ps_ssh_url(ctx, "remote.git", NULL));
	fx_clone(ctx, "remote.git", "second");
	fx_set_url(ctx, "second", "origin", ps_ssh_url(ctx, "remote.git", NULL));
	fx_config(ctx, "local", "core.sshCommand",
		ps_fmt(ctx, "ssh -o IdentitiesOnly=yes -i '%s'", ps_ssh_file(ctx, "client_ed25519")));
	fx_config(ctx, "second", "core.sshCommand",
		ps_fmt(ctx, "ssh -o IdentitiesOnly=yes -i '%s'", ps_ssh_file(ctx, "other_ed25519")));
	all_ops_work(ctx, "local");
	all_ops_fail(ctx, "second", PUSHSEAL_E_AUTH, "Permission denied");
	fx_config(ctx, "second", "core.sshCommand",
		ps_fmt(ctx, "ssh -o IdentitiesOnly=yes -i '%s'", ps_ssh_file(ctx, "client_rsa")));
	fetch_works(ctx, "second");
}

/* T-SSH-10: ProxyJump through a second sshd: every operation works, and
 * each one logged in at the jump host. */
static void ssh_proxy_jump(ps_ctx *ctx)
{
	char key[1200], known[8192];
	long from;
	snprintf(key, sizeof(key), "%s", ps_ssh_file(ctx, "client_ed25519"));
	snprintf(known, sizeof(known), "%s", ps_ssh_known_host(ctx, 1));
	snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s", ps_ssh_known_host(ctx, 0));
	ssh_home(ctx, ps_fmt(ctx,
		"Host jump\n  HostName 127.0.0.1\n  Port %1$d\n  User %3$s\n  IdentityFile %4$s\n  IdentitiesOnly yes\n"
		"Host behind\n  HostName 127.0.0.1\n  Port %2$d\n  User %3$s\n  IdentityFile %4$s\n  IdentitiesOnly yes\n"
		"  ProxyJump jump\n",
		ps_ssh_port(1), ps_ssh_port(0), ps_ssh_user(), key), known);
	pair_at(ctx, scp_url(ctx, "behind"));
	from = file_size(ps_ssh_jump_log(ctx));
	all_ops_work(ctx, "local");
	/* remote-ahead, pull, push, and the cycle's fetch and push */
	assert_true(log_lines(ps_ssh_jump_log(ctx), from, "Accepted publickey", NULL) >= 5);
}

/* T-SSH-11: a revoked key (sshd's RevokedKeys; still in authorized_keys)
 * fails every operation as auth, a permanent failure. */
static void ssh_revoked_key(ps_ctx *ctx)
{
	long from;
	ssh_home(ctx, key_for_loopback(ctx, "revoked_ed25519"), NULL);
	pair_at(ctx, ps_ssh_url(ctx, "remote.git", NULL));
	from = file_size(sshd_log(ctx));
	all_ops_fail(ctx, "local", PUSHSEAL_E_AUTH, "Permission denied");
	if (!drv_is_exec()) {
		ps_result r = drv_pull(ctx, ps_keep(ctx, "local"));
		assert_true(pushseal_class_is_permanent(r.klass));
	}
	assert_true(log_lines(sshd_log(ctx), from, "revoked", NULL) >= 1);
	assert_int_equal(log_lines(sshd_log(ctx), from, "Accepted publickey", NULL), 0);
}

/* A loopback server that accepts and never says a word, for 30 s at most. */
static int silent_server(ps_ctx *ctx)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(s, 16) != 0 ||
	    getsockname(s, (struct sockaddr *)&a, &len) != 0)
		fail_msg("listener: %s", strerror(errno));
	ctx->server_pid = fork();
	if (ctx->server_pid == 0) {
		alarm(30);
		for (;;)
			if (accept(s, NULL, NULL) < 0 && errno != EINTR)
				_exit(0);
	}
	close(s);
	return ntohs(a.sin_port);
}

/* Is a process whose command line names this sandbox's remote still there
 * a second later (SIGKILL takes a moment to land on a loaded machine)? */
static int ssh_left(ps_ctx *ctx)
{
	char pattern[1200];
	long long t0 = ps_mono_ms();
	snprintf(pattern, sizeof(pattern), "^ssh .*%s", ps_path(ctx, "remote.git"));
	while (ps_mono_ms() - t0 < 1000) {
		const char *argv[] = { "pgrep", "-f", pattern, NULL };
		if (ps_spawn(ctx, NULL, argv, NULL, NULL) != 0)
			return 0;
		usleep(50 * 1000);
	}
	return 1;
}

/* T-SSH-12: a server that accepts and never answers: every operation ends
 * at its deadline (class timeout), and no ssh process is left. */
static void ssh_silent_server(ps_ctx *ctx)
{
	const char *local = ps_keep(ctx, "local");
	int port;
	ssh_home(ctx, key_for_loopback(ctx, "client_ed25519"), NULL);
	port = silent_server(ctx);
	pair_at(ctx, ps_fmt(ctx, "ssh://127.0.0.1:%d%s", port, ps_path(ctx, "remote.git")));
	fx_ahead(ctx, "local", 1);
	setenv("PUSHSEAL_DEADLINE_S", "2", 1);
	{
		ps_result (*const ops[])(ps_ctx *, const char *) = { drv_pull, drv_push, drv_remote_ahead };
		for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
			long long t0 = ps_mono_ms(), ms;
			ps_result r = ops[i](ctx, local);
			ms = ps_mono_ms() - t0;
			if (ops[i] == drv_remote_ahead)
				assert_int_equal(r.count, 0);
			else
				expect_fail(r, PUSHSEAL_E_TIMEOUT);
			if (r.class_known && r.klass != PUSHSEAL_E_TIMEOUT)
				fail_msg("expected timeout: %s", r.line);
			if (ms < 1500 || ms > 6000)
				fail_msg("operation %zu took %lld ms; the deadline is 2 s", i, ms);
			if (ssh_left(ctx))
				fail_msg("an ssh process outlived the deadline of operation %zu", i);
		}
	}
	{
		ps_cycle_result c = drv_fix(ctx, local, wb_commit());
		if (c.exit_code != 1 || c.sealed || c.wrote)
			fail_msg("fix must fail without writing: %s", c.json);
	}
	assert_false(ssh_left(ctx));
}

/* T-SSH-13: a pre-receive hook that refuses, over ssh: push fails as
 * rejected and the cycle's seal fails; the remote never moves; pulls still
 * work. */
static void ssh_refusing_hook(ps_ctx *ctx)
{
	const char *local = ps_keep(ctx, "local");
	const char *bare = ps_keep(ctx, "remote.git");
	ps_rev tip;
	ssh_home(ctx, key_for_loopback(ctx, "client_ed25519"), NULL);
	pair_at(ctx, ps_ssh_url(ctx, "remote.git", NULL));
	fx_write(ctx, "remote.git/hooks/pre-receive", "#!/bin/sh\necho 'denied by policy' >&2\nexit 1\n");
	chmod(ps_path(ctx, "remote.git/hooks/pre-receive"), 0755);
	fx_behind(ctx, "remote.git", 1);
	{ ps_result r = drv_pull(ctx, local); expect_ok(r); }
	fx_ahead(ctx, "local", 1);
	tip = or_rev(ctx, bare, "main");
	{
		ps_result r = drv_push(ctx, local);
		expect_fail(r, PUSHSEAL_E_REJECTED);
	}
	assert_str(or_rev(ctx, bare, "main").hex, tip.hex);
	{
		ps_cycle_result c = drv_fix(ctx, local, wb_commit());
		if (c.exit_code != 1 || c.sealed)
			fail_msg("fix must report the refused seal: %s", c.json);
	}
	assert_str(or_rev(ctx, bare, "main").hex, tip.hex);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		CLAUSE("T-SSH-1", "with no usable key every ssh operation fails fast as auth and runs no askpass", ssh_no_key_never_prompts),
		CLAUSE("T-SSH-2", "a refused PUSHSEAL_SSH_KEY fails as auth after one offer, and an unreadable one is named", ssh_refused_key_once),
		CLAUSE("T-SSH-3", "the right ed25519 key from PUSHSEAL_SSH_KEY works for every operation and the cycle", ssh_pushseal_key),
		CLAUSE("T-SSH-4", "an unknown or changed host key fails as auth before any key is offered", ssh_host_keys),
		CLAUSE("T-SSH-5", "an RSA key (rsa-sha2 only) and an ed25519 key each work for every operation", ssh_rsa_and_ed25519),
		CLAUSE("T-SSH-6", "the user's ssh agent alone authenticates every operation and the cycle", ssh_agent),
		CLAUSE("T-SSH-7", "a Host alias in ~/.ssh/config serves scp-style and ssh:// URLs with its own key", ssh_host_alias),
		CLAUSE("T-SSH-8", "GIT_SSH_COMMAND, core.sshCommand and GIT_SSH are honoured with git's precedence", ssh_git_ssh_command),
		CLAUSE("T-SSH-9", "core.sshCommand set per repository: two clones of one remote each use their own deploy key", ssh_core_ssh_command),
		CLAUSE("T-SSH-10", "ProxyJump through a second sshd works for every operation and the cycle", ssh_proxy_jump),
		CLAUSE("T-SSH-11", "a revoked key fails every operation with class auth, a permanent failure", ssh_revoked_key),
		CLAUSE("T-SSH-12", "a silent ssh server ends every operation at its deadline as timeout", ssh_silent_server),
		CLAUSE("T-SSH-13", "a pre-receive hook refusing over ssh fails the push as rejected, remote unmoved", ssh_refusing_hook),
		CLAUSE("T-SSH-14", "a refused or unresolvable ssh host fails as unreachable with ssh's words", ssh_unreachable),
	};
	ps_harness_init();
	return PS_RUN("ssh", tests) ? 1 : 0;
}
