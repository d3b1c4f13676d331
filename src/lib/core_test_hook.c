/*
 * Test-only injection points: the suites set PUSHSEAL_TEST_HOOK_<point> to a
 * shell command that runs at that point (a competing push, a crash).  Used
 * by the safety and network files alike, so it lives at the bottom.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>

void ps_test_hook_arg(const char *point, const char *arg)
{
	/* test-only: lets the suite inject a competing push, or a crash, at a
	 * precise point; PUSHSEAL_TEST_HOOK_ARG tells the hook where it is */
	char name[64];
	const char *cmd;
	snprintf(name, sizeof(name), "PUSHSEAL_TEST_HOOK_%s", point);
	/* NOLINTNEXTLINE(cert-env33-c): test-only, set by the suite itself */
	if ((cmd = getenv(name)) && *cmd) {
		setenv("PUSHSEAL_TEST_HOOK_ARG", arg ? arg : "", 1);
		/* NOLINTNEXTLINE(cert-env33-c): test-only, set by the suite itself */
		if (system(cmd) != 0) {
			/* the hook's own result is the test's business */
		}
		unsetenv("PUSHSEAL_TEST_HOOK_ARG");
	}
}

void ps_test_hook(const char *point)
{
	ps_test_hook_arg(point, NULL);
}
