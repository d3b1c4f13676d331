/*
 * pushseal-bench: the measuring half of the benchmark (bench/run.sh drives it).
 *
 *   pushseal-bench time [-n REPS] [-p PREP] -- ARGV...
 *       Run ARGV once to warm up, then REPS times; before each run `sh -c PREP`
 *       (untimed).  Prints "median min max rc cpu" in seconds; rc is the first
 *       non-zero exit status seen (0 when every run exited 0), cpu the median
 *       user+system CPU time of the command and its children (less sensitive
 *       than wall time to other load on a shared machine).
 *   pushseal-bench floor [-n REPS] LIST
 *       The floor: open each repository of LIST (one path a line) with libgit2,
 *       read HEAD and its upstream ref, in a tight loop.  Prints "median min max 0".
 *   pushseal-bench libtick [-n REPS] [-r] LIST
 *       pushseal_tick_repo() over LIST in this process (-r: remote).  Same output.
 *   pushseal-bench rss [-n TICKS] [-r] REPO
 *       TICKS stable ticks on REPO in one process; prints
 *       "rss_start_kib rss_after_1000_kib rss_end_kib not_clean_ticks".
 *   pushseal-bench gen linear N | gen diverge A B
 *       A git fast-import stream: `linear` makes refs/heads/main with N commits,
 *       refs/heads/root (the first) and refs/heads/tip1 (main~1); `diverge`
 *       makes a root, then A commits on main and B on side, both from the root.
 *   pushseal-bench freeport
 *       Print a free TCP port on 127.0.0.1.
 *   pushseal-bench probe PORT
 *       Exit 0 when something accepts connections on 127.0.0.1:PORT.
 *   pushseal-bench noop | init
 *       Start-up yardsticks: exit at once (the cost of loading libgit2 and the
 *       libraries it needs), or git_libgit2_init() then shutdown (plus what
 *       libgit2 does at initialisation: with Debian's mbedTLS build, parse
 *       the system CA bundle).
 *
 * Timings are wall clock (CLOCK_MONOTONIC).  Nothing here is a test.
 */
#define _GNU_SOURCE
#include <pushseal.h>
#include <git2.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_REPS 101

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *t, int n)
{
	qsort(t, (size_t)n, sizeof(*t), cmp_double);
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

static void print_stats(double *t, int n, int rc)
{
	double med = median(t, n);
	printf("%.6f %.6f %.6f %d\n", med, t[0], t[n - 1], rc);
}

static double children_cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int parse_reps(const char *s)
{
	int n = atoi(s);
	if (n < 1 || n > MAX_REPS) {
		fprintf(stderr, "pushseal-bench: REPS must be 1..%d\n", MAX_REPS);
		exit(2);
	}
	return n;
}

/* ---- time: run a command REPS times ---------------------------------- */

static int run_argv(char **argv, int quiet)
{
	pid_t pid = fork();
	int status;
	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		if (quiet) {
			int fd = open("/dev/null", O_WRONLY);
			if (fd >= 0) {
				dup2(fd, 1);
				close(fd);
			}
		}
		execvp(argv[0], argv);
		perror(argv[0]);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static int run_prep(const char *prep)
{
	char *argv[] = { "sh", "-c", (char *)prep, NULL };
	return prep ? run_argv(argv, 1) : 0;
}

static int cmd_time(int argc, char **argv)
{
	double t[MAX_REPS], cpu[MAX_REPS], med;
	const char *prep = NULL;
	int reps = 5, i = 0, first_rc = 0;
	while (i < argc && strcmp(argv[i], "--") != 0) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc)
			reps = parse_reps(argv[++i]);
		else if (!strcmp(argv[i], "-p") && i + 1 < argc)
			prep = argv[++i];
		else
			break;
		i++;
	}
	if (i >= argc || strcmp(argv[i], "--") != 0 || i + 1 >= argc) {
		fprintf(stderr, "usage: pushseal-bench time [-n REPS] [-p PREP] -- ARGV...\n");
		return 2;
	}
	argv += i + 1;
	for (int r = -1; r < reps; r++) {
		double t0, c0;
		int rc;
		if (run_prep(prep) != 0) {
			fprintf(stderr, "pushseal-bench: prep failed: %s\n", prep);
			return 1;
		}
		c0 = children_cpu_s();
		t0 = now_s();
		rc = run_argv(argv, 1);
		if (r >= 0) {
			t[r] = now_s() - t0;
			cpu[r] = children_cpu_s() - c0;
		}
		if (rc != 0 && first_rc == 0)
			first_rc = rc;
	}
	med = median(t, reps);
	printf("%.6f %.6f %.6f %d %.6f\n", med, t[0], t[reps - 1], first_rc, median(cpu, reps));
	return 0;
}

/* ---- repository lists ------------------------------------------------- */

typedef struct list {
	char **items;
	size_t len;
} list;

static void list_read(list *l, const char *file)
{
	FILE *f = fopen(file, "r");
	char *line = NULL;
	size_t cap = 0, alloc = 0;
	ssize_t n;
	if (!f) {
		perror(file);
		exit(1);
	}
	memset(l, 0, sizeof(*l));
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (n == 0)
			continue;
		if (l->len == alloc) {
			alloc = alloc ? alloc * 2 : 64;
			l->items = realloc(l->items, alloc * sizeof(*l->items));
			if (!l->items)
				exit(1);
		}
		l->items[l->len++] = strdup(line);
	}
	free(line);
	fclose(f);
}

static void list_free(list *l)
{
	for (size_t i = 0; i < l->len; i++)
		free(l->items[i]);
	free(l->items);
}

/* ---- the floor: open, HEAD, upstream ------------------------------------ */

/* The least any tick must do: open the repository, read HEAD's branch and its
 * upstream's tracking ref.  Returns 0 when both were read. */
static int floor_one(const char *path, git_oid *head_oid, git_oid *up_oid)
{
	git_repository *repo = NULL;
	git_reference *head = NULL, *up = NULL;
	int rc = -1;
	if (git_repository_open_ext(&repo, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
		return -1;
	if (git_repository_head(&head, repo) == 0 && git_branch_upstream(&up, head) == 0 &&
	    git_reference_target(head) && git_reference_target(up)) {
		git_oid_cpy(head_oid, git_reference_target(head));
		git_oid_cpy(up_oid, git_reference_target(up));
		rc = 0;
	}
	git_reference_free(up);
	git_reference_free(head);
	git_repository_free(repo);
	return rc;
}

static int cmd_floor(int argc, char **argv)
{
	double t[MAX_REPS];
	int reps = 5, i = 0, bad = 0;
	list l;
	if (i + 1 < argc && !strcmp(argv[i], "-n")) {
		reps = parse_reps(argv[i + 1]);
		i += 2;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: pushseal-bench floor [-n REPS] LIST\n");
		return 2;
	}
	list_read(&l, argv[i]);
	for (int r = -1; r < reps; r++) {
		double t0 = now_s();
		for (size_t k = 0; k < l.len; k++) {
			git_oid a, b;
			if (floor_one(l.items[k], &a, &b) < 0 || !git_oid_equal(&a, &b))
				bad++;
		}
		if (r >= 0)
			t[r] = now_s() - t0;
	}
	if (bad)
		fprintf(stderr, "pushseal-bench: floor: %d repo reads failed or were not in sync\n", bad);
	print_stats(t, reps, bad ? 1 : 0);
	list_free(&l);
	return 0;
}

/* ---- pushseal_tick_repo in-process -------------------------------------- */

static int cmd_libtick(int argc, char **argv)
{
	double t[MAX_REPS];
	pushseal_tick_options o = PUSHSEAL_TICK_OPTIONS_INIT;
	int reps = 5, i = 0, bad = 0;
	list l;
	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "-n") && i + 1 < argc)
			reps = parse_reps(argv[++i]);
		else if (!strcmp(argv[i], "-r"))
			o.remote = 1;
		i++;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: pushseal-bench libtick [-n REPS] [-r] LIST\n");
		return 2;
	}
	list_read(&l, argv[i]);
	for (int r = -1; r < reps; r++) {
		double t0 = now_s();
		for (size_t k = 0; k < l.len; k++) {
			pushseal_report rep;
			if (pushseal_tick_repo(&rep, l.items[k], &o) != 0 || rep.skipped != PUSHSEAL_SKIP_CLEAN)
				bad++;
		}
		if (r >= 0)
			t[r] = now_s() - t0;
	}
	if (bad)
		fprintf(stderr, "pushseal-bench: libtick: %d ticks were not clean\n", bad);
	print_stats(t, reps, bad ? 1 : 0);
	list_free(&l);
	return 0;
}

/* ---- memory: VmRSS over many ticks -------------------------------------- */

static long vmrss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6)) {
			kib = strtol(line + 6, NULL, 10);
			break;
		}
	fclose(f);
	return kib;
}

static int cmd_rss(int argc, char **argv)
{
	pushseal_tick_options o = PUSHSEAL_TICK_OPTIONS_INIT;
	long ticks = 10000, start, after1000 = -1, bad = 0;
	int i = 0;
	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "-n") && i + 1 < argc)
			ticks = atol(argv[++i]);
		else if (!strcmp(argv[i], "-r"))
			o.remote = 1;
		i++;
	}
	if (i >= argc || ticks < 1) {
		fprintf(stderr, "usage: pushseal-bench rss [-n TICKS] [-r] REPO\n");
		return 2;
	}
	start = vmrss_kib();
	for (long k = 1; k <= ticks; k++) {
		pushseal_report rep;
		if (pushseal_tick_repo(&rep, argv[i], &o) != 0 || rep.skipped != PUSHSEAL_SKIP_CLEAN)
			bad++;
		if (k == 1000)
			after1000 = vmrss_kib();
	}
	printf("%ld %ld %ld %ld\n", start, after1000, vmrss_kib(), bad);
	return 0;
}

/* ---- fast-import streams ------------------------------------------------ */

static long long when = 1700000000;

static void gen_commit(const char *ref, long mark, long from, long seq)
{
	char body[64];
	int n = snprintf(body, sizeof(body), "%ld\n", seq);
	printf("commit %s\nmark :%ld\n", ref, mark);
	printf("author Bench <bench@example.com> %lld +0000\n", when);
	printf("committer Bench <bench@example.com> %lld +0000\n", when);
	when++;
	printf("data 2\nc\n");
	if (from > 0)
		printf("from :%ld\n", from);
	printf("M 644 inline data.txt\ndata %d\n%s\n", n, body);
}

static int cmd_gen(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[0], "linear")) {
		long n = atol(argv[1]);
		if (n < 2)
			return 2;
		for (long k = 1; k <= n; k++)
			gen_commit("refs/heads/main", k, k - 1, k);
		printf("reset refs/heads/root\nfrom :1\n\n");
		printf("reset refs/heads/tip1\nfrom :%ld\n\n", n - 1);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[0], "diverge")) {
		long a = atol(argv[1]), b = atol(argv[2]), mark = 1;
		if (a < 1 || b < 1)
			return 2;
		gen_commit("refs/heads/main", 1, 0, 0);
		for (long k = 1; k <= a; k++, mark++)
			gen_commit("refs/heads/main", mark + 1, mark, k);
		gen_commit("refs/heads/side", ++mark, 1, -1);
		for (long k = 2; k <= b; k++, mark++)
			gen_commit("refs/heads/side", mark + 1, mark, -k);
		return 0;
	}
	fprintf(stderr, "usage: pushseal-bench gen linear N | gen diverge A B\n");
	return 2;
}

/* ---- a free loopback port ----------------------------------------------- */

static int cmd_freeport(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		perror("freeport");
		return 1;
	}
	printf("%d\n", ntohs(a.sin_port));
	close(fd);
	return 0;
}

static int cmd_probe(const char *port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)atoi(port));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	int rc;
	if (argc < 2) {
		fprintf(stderr, "usage: pushseal-bench time|floor|libtick|rss|gen|freeport|probe|noop|init ...\n");
		return 2;
	}
	if (!strcmp(argv[1], "time"))
		return cmd_time(argc - 2, argv + 2);
	if (!strcmp(argv[1], "gen"))
		return cmd_gen(argc - 2, argv + 2);
	if (!strcmp(argv[1], "freeport"))
		return cmd_freeport();
	if (!strcmp(argv[1], "probe") && argc == 3)
		return cmd_probe(argv[2]);
	if (!strcmp(argv[1], "noop"))
		return 0;
	if (!strcmp(argv[1], "init")) {
		git_libgit2_init();
		git_libgit2_shutdown();
		return 0;
	}
	if (pushseal_init() < 0) {
		fprintf(stderr, "pushseal-bench: cannot initialise\n");
		return 1;
	}
	if (!strcmp(argv[1], "floor"))
		rc = cmd_floor(argc - 2, argv + 2);
	else if (!strcmp(argv[1], "libtick"))
		rc = cmd_libtick(argc - 2, argv + 2);
	else if (!strcmp(argv[1], "rss"))
		rc = cmd_rss(argc - 2, argv + 2);
	else {
		fprintf(stderr, "pushseal-bench: unknown command '%s'\n", argv[1]);
		rc = 2;
	}
	pushseal_shutdown();
	return rc;
}
