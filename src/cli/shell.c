/*
 * The only shell in pushseal: the user's own --writeback and --check
 * commands.  Each runs as `sh -c CMD` in the repository, as a child that
 * starts clean (default signal dispositions and an empty mask: the CLI
 * ignores SIGPIPE, and an inherited SIG_IGN would make `yes | head -1`
 * run for ever; no descriptor but 0, 1 and 2; none of git's repository
 * variables such as GIT_DIR), in a process group of its
 * own that is killed when its deadline passes (--command-deadline), when
 * the command ends (its background jobs go with it) and that dies with
 * pushseal.
 */
#define _GNU_SOURCE
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int command_deadline_ms = CLI_COMMAND_DEADLINE_DEFAULT_MS;

void cli_shell_set_deadline(int ms)
{
	command_deadline_ms = ms;
}

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* `git rev-parse --local-env-vars` (git 2.39): git exports them to hooks,
 * and any of them would point the command's git at another repository
 * than the one it runs in. */
static const char *const git_local_env[] = {
	"GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_CONFIG", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT",
	"GIT_OBJECT_DIRECTORY", "GIT_DIR", "GIT_WORK_TREE", "GIT_IMPLICIT_WORK_TREE", "GIT_GRAFT_FILE",
	"GIT_INDEX_FILE", "GIT_NO_REPLACE_OBJECTS", "GIT_REPLACE_REF_BASE", "GIT_PREFIX",
	"GIT_INTERNAL_SUPER_PREFIX", "GIT_SHALLOW_FILE", "GIT_COMMON_DIR",
};

static void child_exec(const char *cmd, const char *repo, pid_t parent)
{
	struct sigaction dfl;
	sigset_t none;
	setpgid(0, 0);
	for (size_t i = 0; i < sizeof(git_local_env) / sizeof(git_local_env[0]); i++)
		unsetenv(git_local_env[i]);
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL); /* fails harmlessly for SIGKILL, SIGSTOP */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		_exit(126);
	/* stdout belongs to the protocol's JSON lines: the command's output
	 * goes to stderr so it can never corrupt them */
	dup2(2, 1);
	close_range(3, ~0U, 0);
	if (chdir(repo) != 0)
		_exit(126);
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	_exit(127);
}

int cli_shell(const char *cmd, const char *repo)
{
	long long end;
	int status, waited_ms = 1;
	pid_t pid, parent = getpid();
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return 127;
	if (pid == 0)
		child_exec(cmd, repo, parent);
	setpgid(pid, pid); /* from both sides: the group exists before any kill */
	end = mono_ms() + command_deadline_ms;
	for (;;) {
		siginfo_t info;
		int w;
		info.si_pid = 0;
		/* WNOWAIT: the shell stays a zombie, so its group id cannot be
		 * reused before the group's leftovers are killed below */
		w = waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT);
		if (w == 0 && info.si_pid == pid) {
			/* what the command left running in its group (`job &`) ends
			 * with it, whatever -j is: a detached daemon (setsid, as git's
			 * auto-gc) has a group of its own and is left alone */
			kill(-pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			break;
		}
		if (w < 0 && errno != EINTR)
			return 127;
		if (mono_ms() >= end) {
			kill(-pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			fprintf(stderr, "pushseal: `%s` killed: still running after its deadline of %d.%03d s "
				"(--command-deadline)\n", cmd, command_deadline_ms / 1000, command_deadline_ms % 1000);
			return 128 + SIGKILL;
		}
		{
			struct timespec step = { 0, (long)waited_ms * 1000000L };
			nanosleep(&step, NULL);
			if (waited_ms < 50)
				waited_ms *= 2;
		}
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
