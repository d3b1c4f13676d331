/*
 * The per-repository lock: two ticks on one repo (a slow run overlapping the
 * next timer) must not interleave.  flock() on .git/pushseal.lock is released
 * by the kernel when the holder dies, so a killed run never blocks the next
 * one, and the file itself may stay behind harmlessly.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

int ps_lock_acquire(int *fd_out, const char *gitdir, int wait_ms, pushseal_error *err)
{
	char path[4096];
	int fd, waited = 0;
	*fd_out = -1;
	snprintf(path, sizeof(path), "%spushseal.lock", gitdir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return ps_error_set(err, PUSHSEAL_E_INTERNAL, "cannot open %s: %s", path, strerror(errno));
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		struct timespec step = { 0, 50 * 1000000L };
		if (errno != EWOULDBLOCK && errno != EINTR) {
			close(fd);
			return ps_error_set(err, PUSHSEAL_E_INTERNAL, "cannot lock %s: %s", path, strerror(errno));
		}
		if (waited >= wait_ms) {
			close(fd);
			return ps_error_set(err, PUSHSEAL_E_LOCKED, "another pushseal run holds %s", path);
		}
		nanosleep(&step, NULL);
		waited += 50;
	}
	*fd_out = fd;
	return 0;
}

void ps_lock_release(int fd)
{
	if (fd >= 0)
		close(fd); /* closing the last descriptor releases the flock */
}
