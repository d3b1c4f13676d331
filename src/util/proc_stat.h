/*
 * One process's line of /proc/PID/stat, read as the kernel writes it:
 * "pid (comm) state ppid pgrp ... starttime ...", where comm may hold
 * spaces and parentheses.  Shared code (src/util/): libc only.
 */
#ifndef PUSHSEAL_PROC_STAT_H
#define PUSHSEAL_PROC_STAT_H

#include <sys/types.h>

typedef struct ps_proc_info {
	char state;                  /* R, S, D, Z, T, ... */
	long ppid;
	long pgrp;
	unsigned long long started;  /* field 22: with the pid, names the process even after pid reuse */
} ps_proc_info;

/* Fill *out for pid.  Returns 0, or -1 when the process (or /proc) is not
 * there or its line cannot be read. */
int ps_proc_info_read(ps_proc_info *out, pid_t pid);

#endif
