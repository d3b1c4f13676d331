/*
 * The tick's worker pool (`run -j N`, `status -j N`): N long-lived worker
 * processes, each ticking one repository after another.  A fork per
 * repository cost more than a stable repository's whole tick; a pool forks
 * N times per tick (and once more for each worker that dies).
 */
#ifndef PS_CLI_POOL_H
#define PS_CLI_POOL_H

#include "pushseal.h"

#include <stddef.h>
#include <stdio.h>

/* One repository's work, run in a worker: fill *report, print the
 * repository's line(s) on `line`; return non-zero when the repository did
 * not end as the protocol wants (the tick then exits 1). */
typedef int (*cli_pool_fn)(pushseal_report *report, FILE *line, size_t index, void *payload);

/* What came back for one repository.  `line` is owned by the result (free
 * it with cli_pool_results_free); have == 0 when its worker died before it
 * reported (an OOM kill, a crash): that repository failed. */
typedef struct cli_pool_result {
	int have;
	int failed;
	int died_signal;   /* have == 0: the signal that killed its worker, 0 if none */
	pushseal_report report;
	char *line;
} cli_pool_result;

/* Run fn for indexes 0..n-1 in at most `jobs` workers; results[i] (n of
 * them, caller-allocated and zeroed) receives index i's.  Workers die with
 * the calling process (PR_SET_PDEATHSIG) and never outlive this call.
 * Returns 0, or -1 when no worker could be started at all (errno set). */
int cli_pool_run(cli_pool_result *results, size_t n, int jobs, cli_pool_fn fn, void *payload);

void cli_pool_results_free(cli_pool_result *results, size_t n);

#endif
