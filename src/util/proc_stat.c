/* /proc/PID/stat (proc_stat.h). */
#define _GNU_SOURCE
#include "proc_stat.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int ps_proc_info_read(ps_proc_info *out, pid_t pid)
{
	char path[64], buf[1024], *p, *end;
	ssize_t n;
	int fd;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* after "pid (comm)": the last ')' ends comm, whatever comm holds */
	if (!(p = strrchr(buf, ')')) || p[1] != ' ' || !p[2] || p[3] != ' ')
		return -1;
	memset(out, 0, sizeof(*out));
	out->state = p[2];
	out->ppid = strtol(p + 4, &end, 10);
	if (*end != ' ')
		return -1;
	out->pgrp = strtol(end + 1, &end, 10);
	if (*end != ' ')
		return -1;
	/* end is at the space before field 6: 16 more spaces reach starttime (22) */
	for (int field = 6; end && field < 22; field++)
		end = strchr(end + 1, ' ');
	out->started = end ? strtoull(end + 1, NULL, 10) : 0;
	return 0;
}
