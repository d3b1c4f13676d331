/* The only shell in pushseal: the user's own --writeback and --check commands. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int cli_shell(const char *cmd, const char *repo)
{
	int status;
	pid_t pid;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return 127;
	if (pid == 0) {
		/* stdout belongs to the protocol's JSON lines: the command's output
		 * goes to stderr so it can never corrupt them */
		dup2(2, 1);
		if (chdir(repo) != 0)
			_exit(126);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 127;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
