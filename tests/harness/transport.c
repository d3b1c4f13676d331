/*
 * The transport a suite runs over: PUSHSEAL_TRANSPORT=path (default), file
 * (file:// URLs), git (a real `git daemon` on 127.0.0.1), http (smart HTTP:
 * `git http-backend` as CGI behind lighttpd, basic auth required for push)
 * or ssh (sshd with a per-run host key, key-only login for the current
 * user).  Each server is started once per suite process on a free loopback
 * port, bounded in lifetime (timeout 900) and killed at exit.  The local path
 * transport runs no hooks on the remote; the servers do, as servers do.
 *
 * Over http the suite's pushes authenticate with PUSHSEAL_HTTPS_TOKEN (the
 * library's own credential support, src/credentials.c).  Over ssh they go
 * through OpenSSH with the sandbox's own ~/.ssh/config and known_hosts, as a
 * user sets them up (ps_ssh_home: nss_wrapper points the passwd entry's home,
 * which is where ssh looks, at the sandbox), so any implementation that runs
 * ssh as git does works unchanged.  A second sshd serves as a jump host.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pwd.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DAEMON_LIFETIME_S "900"

static pid_t daemon_pid;
static int daemon_port;

const char *ps_transport(void)
{
	const char *t = getenv("PUSHSEAL_TRANSPORT");
	return t && *t ? t : "path";
}

int ps_transport_is_network(void)
{
	const char *t = ps_transport();
	return !strcmp(t, "git") || !strcmp(t, "http") || !strcmp(t, "ssh");
}

const char *ps_net_url(ps_ctx *ctx, int port, const char *path)
{
	const char *t = ps_transport_is_network() ? ps_transport() : "git";
	if (!strcmp(t, "http"))
		return ps_fmt(ctx, "http://127.0.0.1:%d/%s", port, path);
	if (!strcmp(t, "ssh"))
		return ps_fmt(ctx, "ssh://127.0.0.1:%d/%s", port, path);
	return ps_fmt(ctx, "git://127.0.0.1:%d/%s", port, path);
}

static void stop_daemon(void)
{
	if (daemon_pid > 0 && getpid() != daemon_pid) {
		kill(daemon_pid, SIGTERM);
		waitpid(daemon_pid, NULL, 0);
		daemon_pid = 0;
	}
}

int ps_free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), port = -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(s, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (s >= 0)
		close(s);
	return port;
}

int ps_port_accepting(int port)
{
	struct sockaddr_in a;
	int s = socket(AF_INET, SOCK_STREAM, 0), ok;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = s >= 0 && connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (s >= 0)
		close(s);
	return ok;
}

/* Start `git daemon` serving every repository under the sandboxes' parent. */
static void start_daemon(void)
{
	const char *tmp = getenv("TMPDIR");
	char port_arg[32], base[1100];
	pid_t owner = getpid();
	if (daemon_pid > 0)
		return;
	if ((daemon_port = ps_free_port()) < 0)
		fail_msg("transport: no free loopback port");
	snprintf(port_arg, sizeof(port_arg), "--port=%d", daemon_port);
	snprintf(base, sizeof(base), "%s", tmp && *tmp ? tmp : "/tmp");
	daemon_pid = fork();
	if (daemon_pid < 0)
		fail_msg("transport: fork: %s", strerror(errno));
	if (daemon_pid == 0) {
		int null = open("/dev/null", O_RDWR);
		setpgid(0, 0);
		/* its children's complaints are not the test's output */
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		execlp("timeout", "timeout", DAEMON_LIFETIME_S, "git", "daemon", "--export-all",
			"--enable=receive-pack", "--reuseaddr", "--informative-errors", "--listen=127.0.0.1",
			port_arg, base, (char *)NULL);
		_exit(127);
	}
	if (getpid() == owner)
		atexit(stop_daemon);
	for (int i = 0; i < 250 && !ps_port_accepting(daemon_port); i++) {
		struct timespec ts = { 0, 20 * 1000000L };
		nanosleep(&ts, NULL);
	}
	if (!ps_port_accepting(daemon_port))
		fail_msg("transport: git daemon did not start on 127.0.0.1:%d", daemon_port);
}

/* ---- shared helpers for the http and ssh servers --------------------------- */

typedef struct server {
	pid_t pid;
	int port;
	char dir[1100];        /* the server's temp dir: config, keys, logs */
} server;

static server http_srv, ssh_srv, jump_srv;
static pid_t servers_owner;
static char http_password[64];

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	remove(path);
	return 0;
}

static void stop_server(server *s)
{
	if (s->pid > 0) {
		kill(-s->pid, SIGTERM);
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
		kill(-s->pid, SIGKILL);
		s->pid = 0;
	}
	if (s->dir[0] && !getenv("PUSHSEAL_KEEP_SERVERS"))
		nftw(s->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	s->dir[0] = '\0';
}

static void stop_servers(void)
{
	if (getpid() != servers_owner)
		return;
	stop_server(&http_srv);
	stop_server(&jump_srv);
	stop_server(&ssh_srv);
}

static void server_dir(server *s, const char *kind)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(s->dir, sizeof(s->dir), "%s/pushseal-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", kind);
	if (!mkdtemp(s->dir))
		fail_msg("transport: mkdtemp %s: %s", s->dir, strerror(errno));
	ps_mark_dir(s->dir);
	if (!servers_owner) {
		servers_owner = getpid();
		atexit(stop_servers);
	}
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	size_t n = strlen(text);
	if (fd < 0 || write(fd, text, n) != (ssize_t)n)
		fail_msg("transport: cannot write %s: %s", path, strerror(errno));
	close(fd);
}

static const char *read_small(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	size_t got;
	if (!f)
		fail_msg("transport: cannot read %s: %s", path, strerror(errno));
	got = fread(buf, 1, n - 1, f);
	buf[got] = '\0';
	fclose(f);
	return buf;
}

/* Run argv quietly (stdin /dev/null); fail the test unless it exits 0. */
static void run_quiet(const char *const *argv)
{
	int status;
	pid_t pid = fork();
	if (pid < 0)
		fail_msg("transport: fork: %s", strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("transport: %s failed (status %d)", argv[0], status);
}

/* Start `timeout LIFETIME argv...` in its own process group, with stdout and
 * stderr to log, and wait until it accepts on s->port. */
static void spawn_server(server *s, const char *what, const char *log, const char *const *argv)
{
	const char *full[24];
	size_t n = 0;
	full[n++] = "timeout";
	full[n++] = DAEMON_LIFETIME_S;
	for (; *argv && n < 23; argv++)
		full[n++] = *argv;
	full[n] = NULL;
	s->pid = fork();
	if (s->pid < 0)
		fail_msg("transport: fork: %s", strerror(errno));
	if (s->pid == 0) {
		int null = open("/dev/null", O_RDONLY), out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		setpgid(0, 0);
		/* a server is the machine's, never under a test's ssh home (ps_ssh_home) */
		unsetenv("LD_PRELOAD");
		unsetenv("NSS_WRAPPER_PASSWD");
		unsetenv("NSS_WRAPPER_GROUP");
		dup2(null, 0);
		if (out >= 0) {
			dup2(out, 1);
			dup2(out, 2);
		}
		execvp(full[0], (char *const *)full);
		_exit(127);
	}
	setpgid(s->pid, s->pid);
	for (int i = 0; i < 500 && !ps_port_accepting(s->port); i++) {
		struct timespec ts = { 0, 20 * 1000000L };
		if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
			s->pid = 0;
			break;
		}
		nanosleep(&ts, NULL);
	}
	if (s->pid <= 0 || !ps_port_accepting(s->port)) {
		char buf[2048];
		FILE *f = fopen(log, "r");
		size_t got = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
		buf[got] = '\0';
		if (f)
			fclose(f);
		fail_msg("transport: %s did not start on 127.0.0.1:%d: %s", what, s->port, buf);
	}
}

/* The sandboxes' parent: the root every server serves. */
static const char *served_root(void)
{
	const char *tmp = getenv("TMPDIR");
	return tmp && *tmp ? tmp : "/tmp";
}

/* abs relative to the served root, %-encoded for a URL path ("/a/b.git"). */
static void url_path(char *dst, size_t n, const char *abs, int strip_root)
{
	const char *root = served_root();
	size_t rl = strlen(root), o = 0;
	if (strip_root) {
		if (strncmp(abs, root, rl) != 0 || abs[rl] != '/')
			fail_msg("transport: %s is not under %s", abs, root);
		abs += rl;
	}
	for (; *abs && o + 4 < n; abs++) {
		unsigned char c = (unsigned char)*abs;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			strchr("/-._~", c))
			dst[o++] = (char)c;
		else
			o += (size_t)snprintf(dst + o, n - o, "%%%02X", c);
	}
	dst[o] = '\0';
}

/* ---- http: git http-backend behind lighttpd --------------------------------- */

/* Start lighttpd: /git/ serves every repository under the served root
 * (anonymous fetch, basic auth for receive-pack), /private/ the same with
 * basic auth for everything, /forbidden/ answers 403.  One user, "pushseal", with a random password. */
static void start_http(void)
{
	char conf[8192], path[1300], buf[64];
	unsigned char rnd[12];
	int fd;
	if (http_srv.pid > 0)
		return;
	server_dir(&http_srv, "http");
	if ((http_srv.port = ps_free_port()) < 0)
		fail_msg("transport: no free loopback port");
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, rnd, sizeof(rnd)) != (ssize_t)sizeof(rnd))
		fail_msg("transport: /dev/urandom: %s", strerror(errno));
	close(fd);
	snprintf(http_password, sizeof(http_password), "pw-");
	for (size_t i = 0; i < sizeof(rnd); i++) {
		snprintf(buf, sizeof(buf), "%02x", rnd[i]);
		strcat(http_password, buf);
	}
	snprintf(path, sizeof(path), "%s/users", http_srv.dir);
	/* "tok": an account whose name is its token (an empty password), as
	 * with https://TOKEN@forge/... (T-HTTP-6) */
	snprintf(conf, sizeof(conf), "pushseal:%s\ntok:\n", http_password);
	write_file(path, conf, 0600);
	snprintf(path, sizeof(path), "%s/www", http_srv.dir);
	mkdir(path, 0755);
	snprintf(conf, sizeof(conf),
		"server.document-root = \"%1$s/www\"\n"
		"server.bind = \"127.0.0.1\"\n"
		"server.port = %2$d\n"
		/* a Host of 127.1 or 2130706433 reaches the server (glibc reads them
		 * as 127.0.0.1): let it answer, so a test sees what the client sends */
		"server.http-parseopts = ( \"host-strict\" => \"disable\", \"host-normalize\" => \"disable\" )\n"
		"server.errorlog = \"%1$s/error.log\"\n"
		"server.modules = ( \"mod_access\", \"mod_alias\", \"mod_setenv\", \"mod_auth\", \"mod_authn_file\", \"mod_cgi\", \"mod_accesslog\" )\n"
		"accesslog.filename = \"%1$s/access.log\"\n"
		"auth.backend = \"plain\"\n"
		"auth.backend.plain.userfile = \"%1$s/users\"\n"
		"alias.url = ( \"/git\" => \"/usr/lib/git-core/git-http-backend\",\n"
		"              \"/open\" => \"/usr/lib/git-core/git-http-backend\",\n"
		"              \"/private\" => \"/usr/lib/git-core/git-http-backend\" )\n"
		"setenv.add-environment = ( \"GIT_PROJECT_ROOT\" => \"%3$s\", \"GIT_HTTP_EXPORT_ALL\" => \"1\" )\n"
		"$HTTP[\"url\"] =~ \"^/open/\" {\n"
		"  setenv.add-environment = ( \"GIT_PROJECT_ROOT\" => \"%3$s\", \"GIT_HTTP_EXPORT_ALL\" => \"1\",\n"
		"    \"GIT_CONFIG_COUNT\" => \"1\", \"GIT_CONFIG_KEY_0\" => \"http.receivepack\", \"GIT_CONFIG_VALUE_0\" => \"true\" )\n"
		"}\n"
		"cgi.assign = ( \"\" => \"\" )\n"
		/* /forbidden/ answers 403 to everyone, as a forge does to a bot
		 * without access to the repository */
		"$HTTP[\"url\"] =~ \"^/forbidden/\" {\n"
		"  url.access-deny = ( \"\" )\n"
		"}\n"
		"$HTTP[\"url\"] =~ \"^/private/\" {\n"
		"  auth.require = ( \"/\" => ( \"method\" => \"basic\", \"realm\" => \"pushseal\", \"require\" => \"valid-user\" ) )\n"
		"}\n"
		"$HTTP[\"url\"] =~ \"^/(git|private)/\" {\n"
		"$HTTP[\"querystring\"] =~ \"service=git-receive-pack\" {\n"
		"  auth.require = ( \"/\" => ( \"method\" => \"basic\", \"realm\" => \"pushseal\", \"require\" => \"valid-user\" ) )\n"
		"}\n"
		"$HTTP[\"url\"] =~ \"/git-receive-pack$\" {\n"
		"  auth.require = ( \"/\" => ( \"method\" => \"basic\", \"realm\" => \"pushseal\", \"require\" => \"valid-user\" ) )\n"
		"}\n"
		"}\n",
		http_srv.dir, http_srv.port, served_root());
	snprintf(path, sizeof(path), "%s/lighttpd.conf", http_srv.dir);
	write_file(path, conf, 0600);
	{
		char log[1300];
		const char *argv[] = { "lighttpd", "-D", "-f", path, NULL };
		snprintf(log, sizeof(log), "%s/stderr.log", http_srv.dir);
		spawn_server(&http_srv, "lighttpd", log, argv);
	}
}

const char *ps_http_url(ps_ctx *ctx, const char *remote_rel, const char *area, const char *userinfo)
{
	char p[3000];
	start_http();
	url_path(p, sizeof(p), ps_path(ctx, remote_rel), 1);
	return ps_fmt(ctx, "http://%s%s127.0.0.1:%d/%s%s", userinfo ? userinfo : "", userinfo ? "@" : "",
		http_srv.port, area, p);
}

const char *ps_http_password(void)
{
	start_http();
	return http_password;
}

const char *ps_http_access_log(ps_ctx *ctx)
{
	start_http();
	return ps_fmt(ctx, "%s/access.log", http_srv.dir);
}

/* Lines of lighttpd's `log` ("access" or "error") holding this sandbox's
 * name and `match`. */
static int http_log_count(ps_ctx *ctx, const char *log, const char *match)
{
	FILE *f;
	start_http();
	f = fopen(ps_fmt(ctx, "%s/%s.log", http_srv.dir, log), "r");
	const char *name = strrchr(ctx->root, '/') + 1;
	char *line = NULL;
	size_t cap = 0;
	int n = 0;
	while (f && getline(&line, &cap, f) >= 0)
		n += strstr(line, name) && strstr(line, match);
	free(line);
	if (f)
		fclose(f);
	return n;
}

int ps_http_log_lines(ps_ctx *ctx, const char *log, const char *match, int min)
{
	int n = -1, stable = 0;
	for (int i = 0; i < 50 && stable < 12; i++) {
		int m = http_log_count(ctx, log, match);
		stable = (m == n && m >= min) ? stable + 1 : 0;
		n = m;
		usleep(100 * 1000);
	}
	return n;
}

/* ---- TLS: a listener that records ClientHellos ------------------------------ */

int ps_hello_listener(ps_ctx *ctx, int n)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	const char *dir = ps_keep(ctx, ".");
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
		bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(s, 4) != 0 ||
		getsockname(s, (struct sockaddr *)&a, &len) != 0)
		fail_msg("listener: %s", strerror(errno));
	ctx->server_pid = fork();
	if (ctx->server_pid == 0) {
		alarm(30);
		for (int i = 1; i <= n; i++) {
			int c = accept(s, NULL, NULL), f;
			unsigned char buf[512];
			size_t got = 0;
			char path[1200];
			if (c < 0)
				_exit(1);
			while (got < 64) {
				struct pollfd p = { c, POLLIN, 0 };
				ssize_t r;
				if (poll(&p, 1, 5000) <= 0 || (r = read(c, buf + got, sizeof(buf) - got)) <= 0)
					break;
				got += (size_t)r;
			}
			snprintf(path, sizeof(path), "%s/hello-%d", dir, i);
			f = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
			if (f < 0 || write(f, buf, got) < 0)
				_exit(2);
			close(f);
			close(c);
		}
		_exit(0);
	}
	close(s);
	return ntohs(a.sin_port);
}

const char *ps_client_random(ps_ctx *ctx, int i)
{
	const char *p = ps_path(ctx, ps_fmt(ctx, "hello-%d", i));
	unsigned char b[64];
	char hex[80];
	FILE *f = fopen(p, "rb");
	size_t n = f ? fread(b, 1, sizeof(b), f) : 0;
	if (f)
		fclose(f);
	if (n < 43 || b[0] != 0x16 || b[5] != 0x01)
		fail_msg("%s is not a TLS ClientHello (%zu bytes)", p, n);
	for (int k = 0; k < 28; k++)
		snprintf(hex + 2 * k, 3, "%02x", b[15 + k]);
	return ps_fmt(ctx, "%s", hex);
}

/* ---- ssh: sshd with a per-run host key --------------------------------------- */

static const char *current_user(void)
{
	struct passwd *pw = getpwuid(getuid());
	if (!pw)
		fail_msg("transport: no passwd entry for uid %u", (unsigned)getuid());
	return pw->pw_name;
}

static void keygen(const char *dir, const char *name, const char *type)
{
	char path[1300];
	const char *argv[] = { "ssh-keygen", "-q", "-t", type, "-N", "", "-C", name, "-f", path, NULL,
		NULL, NULL };
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!strcmp(type, "rsa")) {
		argv[10] = "-b";
		argv[11] = "2048";
	}
	run_quiet(argv);
}

/* Write sshd_config for server s (port s->port, log in s->dir) with the
 * keys of the main server's directory, and start it. */
static void run_sshd(server *s, const char *what)
{
	char conf[4096], path[1300];
	snprintf(conf, sizeof(conf),
		"Port %2$d\n"
		"ListenAddress 127.0.0.1\n"
		"HostKey %1$s/host_ed25519\n"
		"PidFile none\n"
		"AuthorizedKeysFile %1$s/authorized_keys\n"
		"RevokedKeys %1$s/revoked_keys\n"
		"AllowUsers %3$s\n"
		"PermitRootLogin prohibit-password\n"
		"PubkeyAuthentication yes\n"
		/* RSA only with SHA-2 signatures: what OpenSSH 8.8+ accepts */
		"PubkeyAcceptedAlgorithms ssh-ed25519,rsa-sha2-512,rsa-sha2-256\n"
		"PasswordAuthentication no\n"
		"KbdInteractiveAuthentication no\n"
		"UsePAM no\n"
		"StrictModes no\n"
		"MaxAuthTries 50\n"
		"MaxStartups 100\n"
		"LoginGraceTime 60\n"
		"PrintMotd no\n"
		"LogLevel VERBOSE\n",
		ssh_srv.dir, s->port, current_user());
	snprintf(path, sizeof(path), "%s/sshd_config", s->dir);
	write_file(path, conf, 0600);
	{
		char log[1300], stderr_log[1300];
		const char *argv[] = { "/usr/sbin/sshd", "-D", "-f", path, "-E", log, NULL };
		snprintf(log, sizeof(log), "%s/sshd.log", s->dir);
		snprintf(stderr_log, sizeof(stderr_log), "%s/stderr.log", s->dir);
		spawn_server(s, what, stderr_log, argv);
	}
}

static void start_ssh(void)
{
	char path[1300], pub[4096], keys[8192];
	if (ssh_srv.pid > 0)
		return;
	server_dir(&ssh_srv, "ssh");
	if ((ssh_srv.port = ps_free_port()) < 0)
		fail_msg("transport: no free loopback port");
	/* sshd's privilege separation directory, as the package's service makes it */
	mkdir("/run/sshd", 0755);
	keygen(ssh_srv.dir, "host_ed25519", "ed25519");
	keygen(ssh_srv.dir, "client_ed25519", "ed25519");
	keygen(ssh_srv.dir, "other_ed25519", "ed25519");
	keygen(ssh_srv.dir, "revoked_ed25519", "ed25519");
	keygen(ssh_srv.dir, "client_rsa", "rsa");
	keygen(ssh_srv.dir, "other_host_ed25519", "ed25519");
	/* authorised: the client's keys and the revoked one (which RevokedKeys
	 * then refuses); other_ed25519 is not */
	keys[0] = '\0';
	{
		static const char *const authorised[] = { "client_ed25519", "client_rsa", "revoked_ed25519" };
		for (size_t i = 0; i < sizeof(authorised) / sizeof(authorised[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s.pub", ssh_srv.dir, authorised[i]);
			strncat(keys, read_small(path, pub, sizeof(pub)), sizeof(keys) - strlen(keys) - 1);
		}
	}
	snprintf(path, sizeof(path), "%s/authorized_keys", ssh_srv.dir);
	write_file(path, keys, 0600);
	snprintf(path, sizeof(path), "%s/revoked_ed25519.pub", ssh_srv.dir);
	read_small(path, pub, sizeof(pub));
	snprintf(path, sizeof(path), "%s/revoked_keys", ssh_srv.dir);
	write_file(path, pub, 0600);
	/* known_hosts, made by the test: the right key, and one with another key */
	snprintf(path, sizeof(path), "%s/host_ed25519.pub", ssh_srv.dir);
	read_small(path, pub, sizeof(pub));
	snprintf(keys, sizeof(keys), "[127.0.0.1]:%d %s", ssh_srv.port, pub);
	snprintf(path, sizeof(path), "%s/known_hosts", ssh_srv.dir);
	write_file(path, keys, 0600);
	snprintf(path, sizeof(path), "%s/other_host_ed25519.pub", ssh_srv.dir);
	read_small(path, pub, sizeof(pub));
	snprintf(keys, sizeof(keys), "[127.0.0.1]:%d %s", ssh_srv.port, pub);
	snprintf(path, sizeof(path), "%s/known_hosts_changed", ssh_srv.dir);
	write_file(path, keys, 0600);
	run_sshd(&ssh_srv, "sshd");
}

/* A second sshd, the jump host of a ProxyJump: the same keys, its own port and log. */
static void start_jump(void)
{
	start_ssh();
	if (jump_srv.pid > 0)
		return;
	server_dir(&jump_srv, "ssh-jump");
	if ((jump_srv.port = ps_free_port()) < 0)
		fail_msg("transport: no free loopback port");
	run_sshd(&jump_srv, "sshd (jump host)");
}

const char *ps_ssh_url(ps_ctx *ctx, const char *remote_rel, const char *user)
{
	char p[3000];
	start_ssh();
	url_path(p, sizeof(p), ps_path(ctx, remote_rel), 0);
	return ps_fmt(ctx, "ssh://%s%s127.0.0.1:%d%s", user ? user : current_user(), user && !*user ? "" : "@",
		ssh_srv.port, p);
}

/* A file of the ssh server's directory: client_ed25519, other_ed25519,
 * revoked_ed25519, client_rsa, known_hosts, known_hosts_changed, sshd.log. */
const char *ps_ssh_file(ps_ctx *ctx, const char *name)
{
	start_ssh();
	return ps_fmt(ctx, "%s/%s", ssh_srv.dir, name);
}

int ps_ssh_port(int jump)
{
	if (jump) {
		start_jump();
		return jump_srv.port;
	}
	start_ssh();
	return ssh_srv.port;
}

const char *ps_ssh_jump_log(ps_ctx *ctx)
{
	start_jump();
	return ps_fmt(ctx, "%s/sshd.log", jump_srv.dir);
}

const char *ps_ssh_user(void)
{
	return current_user();
}

const char *ps_ssh_known_host(ps_ctx *ctx, int jump)
{
	char path[1300], pub[4096];
	int port = ps_ssh_port(jump);
	snprintf(path, sizeof(path), "%s/host_ed25519.pub", ssh_srv.dir);
	return ps_fmt(ctx, "[127.0.0.1]:%d %s", port, read_small(path, pub, sizeof(pub)));
}

static char saved_preload[4096];
static int preload_saved, had_preload;

/* OpenSSH takes ~ from the passwd entry, never from $HOME: through
 * nss_wrapper (LD_PRELOAD, for the processes this test starts) the current
 * user's entry says the sandbox's HOME, so ssh reads the sandbox's
 * ~/.ssh/config and known_hosts and never the developer's. */
void ps_ssh_home(ps_ctx *ctx)
{
	struct passwd *pw = getpwuid(getuid());
	char dir[1300];
	if (!pw)
		fail_msg("transport: no passwd entry for uid %u", (unsigned)getuid());
	snprintf(dir, sizeof(dir), "%s/.ssh", ctx->home);
	mkdir(dir, 0700);
	fx_write(ctx, "passwd", ps_fmt(ctx, "%s:x:%u:%u:%s:%s:%s\n", pw->pw_name, (unsigned)pw->pw_uid,
		(unsigned)pw->pw_gid, pw->pw_gecos ? pw->pw_gecos : "", ctx->home, pw->pw_shell ? pw->pw_shell : "/bin/sh"));
	fx_write(ctx, "group", ps_fmt(ctx, "%s:x:%u:\n", pw->pw_name, (unsigned)pw->pw_gid));
	ps_ssh_home_reset();
	setenv("NSS_WRAPPER_PASSWD", ps_path(ctx, "passwd"), 1);
	setenv("NSS_WRAPPER_GROUP", ps_path(ctx, "group"), 1);
	setenv("LD_PRELOAD", had_preload ? ps_fmt(ctx, "%s:libnss_wrapper.so", saved_preload) : "libnss_wrapper.so", 1);
}

/* Undo ps_ssh_home (each test's setup does). */
void ps_ssh_home_reset(void)
{
	if (!preload_saved) {
		const char *p = getenv("LD_PRELOAD");
		had_preload = p && *p;
		snprintf(saved_preload, sizeof(saved_preload), "%s", had_preload ? p : "");
		preload_saved = 1;
	}
	unsetenv("NSS_WRAPPER_PASSWD");
	unsetenv("NSS_WRAPPER_GROUP");
	if (had_preload)
		setenv("LD_PRELOAD", saved_preload, 1);
	else
		unsetenv("LD_PRELOAD");
}

/* The environment that lets both sides reach the server over `transport`:
 * pushseal through its own credential support (http) or the user's ssh
 * configuration (ssh), the oracle's git CLI through a credential helper
 * (http) or the same ssh configuration. */
void ps_transport_env(ps_ctx *ctx, const char *transport)
{
	if (!strcmp(transport, "http")) {
		setenv("PUSHSEAL_HTTPS_TOKEN", ps_http_password(), 1);
		setenv("GIT_CONFIG_COUNT", "1", 1);
		setenv("GIT_CONFIG_KEY_0", "credential.helper", 1);
		setenv("GIT_CONFIG_VALUE_0", ps_fmt(ctx, "!f() { test \"$1\" = get || exit 0; "
			"echo username=pushseal; echo password=%s; }; f", http_password), 1);
	} else if (!strcmp(transport, "ssh")) {
		start_ssh();
		unsetenv("SSH_AUTH_SOCK"); /* a developer's agent must not decide the outcome */
		ps_ssh_home(ctx);
		/* as a user sets it up: a key for the host, and its host key known */
		fx_write(ctx, "home/.ssh/config", ps_fmt(ctx, "Host 127.0.0.1\n  IdentityFile %s/client_ed25519\n"
			"  IdentitiesOnly yes\n", ssh_srv.dir));
		fx_write(ctx, "home/.ssh/known_hosts", ps_ssh_known_host(ctx, 0));
	}
}

/* Callbacks for a harness-side libgit2 fetch or push (a fixture, never the
 * implementation under test), with the key and token of ps_transport_env.
 * Independent of the library's callbacks, so a bug there cannot hide behind
 * a fixture. */
static int fixture_credentials(git_credential **out, const char *url, const char *user,
	unsigned int allowed, void *payload)
{
	const char *token = getenv("PUSHSEAL_HTTPS_TOKEN");
	(void)url; (void)payload;
	if ((allowed & GIT_CREDENTIAL_SSH_KEY) && ssh_srv.dir[0]) {
		char key[1300];
		snprintf(key, sizeof(key), "%s/client_ed25519", ssh_srv.dir);
		return git_credential_ssh_key_new(out, user ? user : current_user(), NULL, key, NULL);
	}
	if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && token)
		return git_credential_userpass_plaintext_new(out, user ? user : "pushseal", token);
	return GIT_EAUTH;
}

static int fixture_certificate(git_cert *cert, int valid, const char *host, void *payload)
{
	(void)valid; (void)host; (void)payload;
	/* only ever our own loopback server, whose key the test just generated */
	return cert->cert_type == GIT_CERT_HOSTKEY_LIBSSH2 ? 0 : GIT_PASSTHROUGH;
}

void ps_transport_callbacks(git_remote_callbacks *cbs)
{
	cbs->credentials = fixture_credentials;
	cbs->certificate_check = fixture_certificate;
}

const char *ps_remote_url(ps_ctx *ctx, const char *remote_rel)
{
	const char *t = ps_transport();
	const char *abs = ps_path(ctx, remote_rel);
	if (!strcmp(t, "path"))
		return abs;
	if (!strcmp(t, "file"))
		return ps_fmt(ctx, "file://%s", abs);
	if (!strcmp(t, "git")) {
		start_daemon();
		return ps_fmt(ctx, "git://127.0.0.1:%d%s", daemon_port, abs);
	}
	if (!strcmp(t, "http")) {
		ps_transport_env(ctx, "http");
		/* an implementation under test gets anonymous push (credentials
		 * are ext, T-HTTP); the reference pushes with its token */
		if (drv_is_exec())
			return ps_http_url(ctx, remote_rel, "open", NULL);
		return ps_http_url(ctx, remote_rel, "git", "pushseal");
	}
	if (!strcmp(t, "ssh")) {
		ps_transport_env(ctx, "ssh");
		return ps_ssh_url(ctx, remote_rel, NULL);
	}
	fail_msg("PUSHSEAL_TRANSPORT=%s: use path, file, git, http or ssh", t);
	return abs;
}
