/* P-DEADLINE: network calls end, even against a server that never answers. */
#define _GNU_SOURCE
#include "harness.h"
#include "pushseal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

/* PROTOCOL.md allows decimals; half a second keeps the suite quick. */
#define DEADLINE_S "0.5"
/* The bound on hanging: the deadline plus a generous margin for a loaded
 * machine or valgrind.  Not a speed benchmark. */
#define BOUND_MS 5000
/* An implementation may spend a short deadline starting up (an interpreter,
 * a JIT) before it reaches the server.  When it never connected, the call is
 * made once more with this deadline, and judged against RETRY_BOUND_MS. */
#define RETRY_DEADLINE_S "3"
#define RETRY_BOUND_MS 9000
/* The server dies by itself after this, whatever happens to the test. */
#define SERVER_LIFE_S 20
#define SERVER_MAX_CONNS 64

typedef enum server_kind {
	SERVER_HANG,    /* accepts and never sends a byte */
	SERVER_DRIBBLE, /* sends one byte every 200 ms: never idle, never done */
	SERVER_CUT,     /* sends half a pkt-line, then hangs up: a server dying mid-transfer */
} server_kind;


/* The server's loop (in the forked child).  Every accepted connection is
 * logged to `log_fd` and kept open until the process dies. */
/* What the server says, in the transport's own terms: the start of an
 * answer that never completes (dribbled a byte at a time, then filler with
 * no end of line), and half an answer before hanging up. */
typedef struct speech {
	const char *dribble;    /* sent byte by byte, then `filler` for ever */
	const char *filler;
	const char *half;       /* SERVER_CUT: all of it, then close */
} speech;

static const speech git_speech = {
	/* a pkt-line header that announces 256 bytes, then filler: the client
	 * keeps waiting for the rest of a line that never completes */
	"0100# pushseal test: ", "this line never ends ",
	"0100# pushseal test: the server dies here",
};
static const speech http_speech = {
	/* a status line, then a header line that never ends */
	"HTTP/1.1 200 OK\r\nX-Pushseal-Test: ", "this header never ends ",
	"HTTP/1.1 200 OK\r\nContent-Type: application/x-git-upload-pack-advertisement\r\n"
	"Content-Length: 4000\r\nCache-Control: no-cache\r\n\r\n001e# service=git-upload-pack\n0000004",
};
static const speech ssh_speech = {
	/* a protocol banner that never ends */
	"SSH-2.0-", "pushseal-test-never-ends-",
	"SSH-2.0-OpenSSH_9.2p1 pushseal-test\r\n",
};

static const speech *transport_speech(void)
{
	const char *t = ps_transport_is_network() ? ps_transport() : "git";
	return !strcmp(t, "http") ? &http_speech : !strcmp(t, "ssh") ? &ssh_speech : &git_speech;
}

static void __attribute__((noreturn)) server_loop(int lfd, server_kind kind, int log_fd)
{
	const speech *say = transport_speech();
	size_t lead = strlen(say->dribble), fill = strlen(say->filler);
	int conns[SERVER_MAX_CONNS];
	size_t sent[SERVER_MAX_CONNS];
	int n = 0;
	long long next_tick = ps_mono_ms() + 200;

	signal(SIGALRM, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	alarm(SERVER_LIFE_S);
	for (;;) {
		struct pollfd p = { lfd, POLLIN, 0 };
		long long left = next_tick - ps_mono_ms();
		if (poll(&p, 1, left > 0 ? (int)left : 0) > 0 && (p.revents & POLLIN)) {
			int c = accept(lfd, NULL, NULL);
			if (c >= 0) {
				if (write(log_fd, "accept\n", 7) != 7) {
					/* the log is best-effort; the test then fails visibly */
				}
				if (kind == SERVER_CUT) {
					struct timespec ts = { 0, 50 * 1000000L };
					nanosleep(&ts, NULL); /* let the request arrive: a reset would lose our half */
					if (send(c, say->half, strlen(say->half), MSG_NOSIGNAL) < 0) {
						/* the client may already be gone */
					}
					close(c);
				} else if (n < SERVER_MAX_CONNS) {
					conns[n] = c;
					sent[n++] = 0;
				} /* else: leak it open, the process dies within SERVER_LIFE_S */
			}
		}
		if (ps_mono_ms() < next_tick)
			continue;
		next_tick = ps_mono_ms() + 200;
		if (kind != SERVER_DRIBBLE)
			continue;
		for (int i = 0; i < n; i++) {
			char byte = sent[i] < lead ? say->dribble[sent[i]] : say->filler[(sent[i] - lead) % fill];
			if (conns[i] >= 0 && send(conns[i], &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1)
				sent[i]++;
		}
	}
}

/* Start a server on 127.0.0.1 (ephemeral port) in a child whose pid goes to
 * ctx->server_pid (killed in teardown).  Connections are logged to
 * <sandbox>/server.log.  Returns the port. */
static int server_start(ps_ctx *ctx, server_kind kind)
{
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);
	int lfd, log_fd, one = 1;
	pid_t pid;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		fail_msg("socket: %s", strerror(errno));
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = 0;
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(lfd, 16) != 0
		|| getsockname(lfd, (struct sockaddr *)&addr, &len) != 0)
		fail_msg("server on 127.0.0.1: %s", strerror(errno));
	log_fd = open(ps_path(ctx, "server.log"), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log_fd < 0)
		fail_msg("server.log: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0)
		server_loop(lfd, kind, log_fd);
	close(lfd);
	close(log_fd);
	ctx->server_pid = pid;
	return ntohs(addr.sin_port);
}

/* Point local's origin at a fresh server of `kind`, with the short deadline. */
static void use_server(ps_ctx *ctx, server_kind kind)
{
	int port = server_start(ctx, kind);
	fx_set_url(ctx, "local", "origin", ps_net_url(ctx, port, "remote.git"));
	setenv("PUSHSEAL_DEADLINE_S", DEADLINE_S, 1);
}

/* The implementation really talked to our server (so its failure is the
 * deadline's doing, not some unrelated early error). */
static void assert_server_contacted(ps_ctx *ctx)
{
	const char *log = or_file(ctx, "server.log");
	if (!log || !strstr(log, "accept\n"))
	{
		const char *url = "";
		or_git(ctx, &url, "local", "config", "remote.origin.url", NULL);
		fail_msg("the implementation never connected to the test's server %s (transport %s); an implementation "
			"declares the transports it speaks with --transports", url, ps_transport_is_network() ? ps_transport() : "git");
	}
}

static void assert_within_bound(long long start_ms, const char *what)
{
	long long took = ps_mono_ms() - start_ms;
	const char *d = getenv("PUSHSEAL_DEADLINE_S");
	int bound = d && !strcmp(d, RETRY_DEADLINE_S) ? RETRY_BOUND_MS : BOUND_MS;
	if (took >= bound)
		fail_msg("%s took %lld ms with PUSHSEAL_DEADLINE_S=%s (bound %d ms)", what, took, d ? d : "", bound);
}

static int server_contacted(ps_ctx *ctx)
{
	const char *log = or_file(ctx, "server.log");
	return log && strstr(log, "accept\n");
}

/* Call `op` with the short deadline; when the implementation never reached
 * the server (its start-up used the deadline), once more with a longer one. */
#define WITH_DEADLINE_RETRY(start, r, op) do { \
		(start) = ps_mono_ms(); \
		(r) = (op); \
		if (!server_contacted(ctx)) { \
			setenv("PUSHSEAL_DEADLINE_S", RETRY_DEADLINE_S, 1); \
			(start) = ps_mono_ms(); \
			(r) = (op); \
		} \
	} while (0)

/* ---- pull ---------------------------------------------------------------- */

static void pull_ends(ps_ctx *ctx, server_kind kind)
{
	fx_pair(ctx, 2);
	fx_behind(ctx, "remote.git", 1);
	ps_rev tracking;
	ps_rev head;
	head = or_rev(ctx, "local", "HEAD");
	tracking = or_rev(ctx, "local", "refs/remotes/origin/main");
	int reflog = or_reflog(ctx, "local/.git", "refs/heads/main");
	use_server(ctx, kind);

	long long start;
	ps_result r;
	WITH_DEADLINE_RETRY(start, r, drv_pull(ctx, ps_path(ctx, "local")));
	assert_within_bound(start, "pull-ff");
	expect_fail(r, PUSHSEAL_E_TIMEOUT);
	assert_server_contacted(ctx);
	/* and it did not pull from anywhere else: the clone is unchanged */
	assert_str(or_rev(ctx, "local", "HEAD").hex, head.hex);
	assert_str(or_rev(ctx, "local", "refs/remotes/origin/main").hex, tracking.hex);
	assert_str(or_status(ctx, "local"), "");
	assert_int_equal(or_reflog(ctx, "local/.git", "refs/heads/main"), reflog);
}

static void pull_hang(ps_ctx *ctx) { pull_ends(ctx, SERVER_HANG); }
static void pull_dribble(ps_ctx *ctx) { pull_ends(ctx, SERVER_DRIBBLE); }

/* ---- push ---------------------------------------------------------------- */

static void push_ends(ps_ctx *ctx, server_kind kind)
{
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 1);
	ps_rev tracking;
	ps_rev remote_tip;
	ps_rev head;
	remote_tip = or_rev(ctx, "remote.git", "main");
	head = or_rev(ctx, "local", "HEAD");
	tracking = or_rev(ctx, "local", "refs/remotes/origin/main");
	use_server(ctx, kind);

	long long start;
	ps_result r;
	WITH_DEADLINE_RETRY(start, r, drv_push(ctx, ps_path(ctx, "local")));
	assert_within_bound(start, "push-ff");
	expect_fail(r, PUSHSEAL_E_TIMEOUT);
	assert_server_contacted(ctx);
	/* nothing was pushed anywhere, nothing reported as pushed */
	assert_str(or_rev(ctx, "remote.git", "main").hex, remote_tip.hex);
	assert_str(or_rev(ctx, "local", "HEAD").hex, head.hex);
	assert_str(or_rev(ctx, "local", "refs/remotes/origin/main").hex, tracking.hex);
}

static void push_hang(ps_ctx *ctx) { push_ends(ctx, SERVER_HANG); }
static void push_dribble(ps_ctx *ctx) { push_ends(ctx, SERVER_DRIBBLE); }

/* ---- remote-ahead ---------------------------------------------------------- */

static void remote_ahead_stale(ps_ctx *ctx, server_kind kind)
{
	fx_pair(ctx, 2);
	fx_behind(ctx, "remote.git", 2);
	/* fetch once from the real remote: the tracking ref is 2 ahead */
	ps_result first = drv_remote_ahead(ctx, ps_path(ctx, "local"));
	assert_int_equal(first.count, 2);
	ps_rev tracking;
	tracking = or_rev(ctx, "local", "refs/remotes/origin/main");
	assert_str(tracking.hex, or_rev(ctx, "remote.git", "main").hex);
	/* the remote moves on (5 ahead now), then hangs */
	fx_behind(ctx, "remote.git", 3);
	use_server(ctx, kind);

	long long start;
	ps_result r;
	WITH_DEADLINE_RETRY(start, r, drv_remote_ahead(ctx, ps_path(ctx, "local")));
	assert_within_bound(start, "remote-ahead");
	assert_server_contacted(ctx);
	/* the stale count: not 0 (gave up), not 5 (fetched somehow) */
	assert_int_equal(r.count, or_count(ctx, "local", "HEAD..refs/remotes/origin/main"));
	assert_int_equal(r.count, 2);
	assert_str(or_rev(ctx, "local", "refs/remotes/origin/main").hex, tracking.hex);
}

static void remote_ahead_hang(ps_ctx *ctx) { remote_ahead_stale(ctx, SERVER_HANG); }
static void remote_ahead_dribble(ps_ctx *ctx) { remote_ahead_stale(ctx, SERVER_DRIBBLE); }

/* ---- P-DEADLINE-6: a hook that hangs on a local-path remote ---------------- */

/* The hook's pid, once it ran: its process must not outlive the call. */
static int hook_still_running(ps_ctx *ctx)
{
	const char *pid_text = or_file(ctx, "hook.pid");
	long pid;
	char state = 'X';
	if (!pid_text || (pid = strtol(pid_text, NULL, 10)) <= 1)
		return 0; /* never started: the implementation refused up front */
	/* a zombie (Z) has ended, it is only not yet reaped */
	return ps_proc_stat((pid_t)pid, &state, NULL, NULL) == 0 && state != 'Z';
}

static void push_local_hook_hangs(ps_ctx *ctx)
{
	if (ps_transport_is_network())
		PS_SKIP("a local-path remote's hook: the implementation declares no local transport (path, file)");
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 1);
	ps_rev remote_tip;
	remote_tip = or_rev(ctx, "remote.git", "main");
	/* bounded: the hook ends by itself after 30 s, whatever the test does */
	fx_write(ctx, "remote.git/hooks/pre-receive",
		ps_fmt(ctx, "#!/bin/sh\necho $$ > '%s'\nexec sleep 30\n", ps_path(ctx, "hook.pid")));
	if (chmod(ps_path(ctx, "remote.git/hooks/pre-receive"), 0755) != 0)
		fail_msg("fixture: cannot make the hook executable");
	/* a deadline that leaves an interpreter time to start */
	setenv("PUSHSEAL_DEADLINE_S", RETRY_DEADLINE_S, 1);
	long long start = ps_mono_ms();
	ps_result r = drv_push(ctx, ps_path(ctx, "local"));
	assert_within_bound(start, "push-ff to a local remote whose pre-receive hook hangs");
	(void)r; /* refused up front or timed out: a hook that is bypassed is F-HOOK-1's */
	/* no child outlives its deadline: the hook is gone within a second */
	for (int i = 0; i < 20 && hook_still_running(ctx); i++)
		usleep(50 * 1000);
	if (hook_still_running(ctx))
		fail_msg("the pre-receive hook (pid %s) still runs after the push returned", or_file(ctx, "hook.pid"));
	if (!r.ok)
		assert_str(or_rev(ctx, "remote.git", "main").hex, remote_tip.hex);
}

/* ---- P-DEADLINE-4: class timeout, no lock left behind -------------------- */

/* Append git's own lock files under dir (relative names from `base`) to
 * `found`; an implementation's own lock file is not judged. */
static void find_locks(const char *dir, size_t base, char *found, size_t cap, int depth)
{
	DIR *d;
	struct dirent *e;
	if (depth > 16 || !(d = opendir(dir)))
		return;
	while ((e = readdir(d)) != NULL) {
		char path[4096];
		struct stat st;
		size_t n = strlen(e->d_name);
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path))
			continue;
		if (lstat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			find_locks(path, base, found, cap, depth + 1);
		else if (n > 5 && !strcmp(e->d_name + n - 5, ".lock") && or_is_git_lock(path + base)) {
			size_t used = strlen(found);
			snprintf(found + used, cap - used, "%s ", path + base);
		}
	}
	closedir(d);
}

/* The lock files under local/.git, space separated, relative to it. */
static const char *locks_in_local(ps_ctx *ctx)
{
	char dir[1100];
	char *found = ctx->ring[ctx->ring_next++ % 8];
	found[0] = '\0';
	snprintf(dir, sizeof(dir), "%s", ps_path(ctx, "local/.git"));
	find_locks(dir, strlen(dir) + 1, found, sizeof(ctx->ring[0]), 0);
	return found;
}

static void timeout_class_no_locks(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 1);
	/* another writer's lock, held before we start: it is not ours to remove */
	fx_write(ctx, "local/.git/refs/heads/other.lock", "0000000000000000000000000000000000000000\n");
	assert_str(locks_in_local(ctx), "refs/heads/other.lock ");
	use_server(ctx, SERVER_HANG);

	ps_result pull = drv_pull(ctx, ps_path(ctx, "local"));
	expect_fail(pull, PUSHSEAL_E_TIMEOUT);
	assert_str(locks_in_local(ctx), "refs/heads/other.lock ");

	ps_result push = drv_push(ctx, ps_path(ctx, "local"));
	expect_fail(push, PUSHSEAL_E_TIMEOUT);
	assert_str(locks_in_local(ctx), "refs/heads/other.lock ");

	ps_result count = drv_remote_ahead(ctx, ps_path(ctx, "local"));
	if (count.class_known)
		assert_string_equal(pushseal_class_name(count.klass), pushseal_class_name(PUSHSEAL_E_TIMEOUT));
	assert_int_equal(count.count, 0);
	assert_str(locks_in_local(ctx), "refs/heads/other.lock ");
	assert_server_contacted(ctx);
}

/* ---- a server that dies mid-transfer --------------------------------------- */

/* None of git's own lock files under the git dir (an implementation's own
 * lock file is not judged: docs/SPEC.md, "Lock files"). */
static void assert_no_locks(ps_ctx *ctx, const char *dir)
{
	const char *lock = or_git_lock(ctx, dir);
	if (lock)
		fail_msg("a lock file of git's was left under %s: %s", dir, lock);
}

static void server_dies_mid_transfer(ps_ctx *ctx)
{
	fx_pair(ctx, 2);
	fx_ahead(ctx, "local", 1);
	fx_behind(ctx, "remote.git", 1);
	ps_rev tracking;
	ps_rev head;
	head = or_rev(ctx, "local", "HEAD");
	tracking = or_rev(ctx, "local", "refs/remotes/origin/main");
	int port = server_start(ctx, SERVER_CUT);
	fx_set_url(ctx, "local", "origin", ps_net_url(ctx, port, "remote.git"));
	setenv("PUSHSEAL_DEADLINE_S", "10", 1);

	long long start = ps_mono_ms();
	ps_result pull = drv_pull(ctx, ps_path(ctx, "local"));
	ps_result push = drv_push(ctx, ps_path(ctx, "local"));
	ps_result ahead = drv_remote_ahead(ctx, ps_path(ctx, "local"));
	/* a hang-up is noticed at once, not at the deadline */
	if (ps_mono_ms() - start >= 5000)
		fail_msg("three operations against a server that hangs up took %lld ms", ps_mono_ms() - start);
	expect_fail(pull, PUSHSEAL_E_UNREACHABLE);
	expect_fail(push, PUSHSEAL_E_UNREACHABLE);
	assert_int_equal(ahead.count, 0); /* the last-fetched ref says 0 behind */
	assert_server_contacted(ctx);
	assert_str(or_rev(ctx, "local", "HEAD").hex, head.hex);
	assert_str(or_rev(ctx, "local", "refs/remotes/origin/main").hex, tracking.hex);
	assert_str(or_status(ctx, "local"), "");
	assert_no_locks(ctx, "local/.git");
}

static const struct CMUnitTest tests[] = {
	NET_CLAUSE("P-DEADLINE-5", "a server hanging up mid-answer fails pull and push at once, changing nothing", server_dies_mid_transfer),
	NET_CLAUSE("P-DEADLINE-1", "a pull from a silent server fails within the deadline, clone unchanged", pull_hang),
	NET_CLAUSE("P-DEADLINE-1", "a pull from a server dribbling a byte every 200 ms fails within the deadline", pull_dribble),
	NET_CLAUSE("P-DEADLINE-2", "a push to a silent server fails within the deadline, remote and tracking unchanged", push_hang),
	NET_CLAUSE("P-DEADLINE-2", "a push to a server dribbling a byte every 200 ms fails within the deadline", push_dribble),
	NET_CLAUSE("P-DEADLINE-3", "remote-ahead against a silent server ends in time with the last-fetched count", remote_ahead_hang),
	NET_CLAUSE("P-DEADLINE-3", "remote-ahead against a dribbling server ends in time with the stale count", remote_ahead_dribble),
	CLAUSE("P-DEADLINE-6", "a push to a local-path remote whose pre-receive hook hangs ends within the deadline", push_local_hook_hangs),
	NET_CLAUSE("P-DEADLINE-4", "timed-out pull, push and fetch report class timeout and leave no lock of theirs", timeout_class_no_locks),
};

int main(void)
{
	ps_harness_init();
	return PS_RUN("P-DEADLINE", tests);
}
