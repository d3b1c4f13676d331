/* A program that uses pushseal the way a dependent project does: the
 * installed header and library only (ci/consumer-check builds it through
 * pkg-config and through find_package(pushseal), shared and static).
 * Exit 0 and "consumer: ok" when every check holds. */
#include <pushseal.h>

#include <stdio.h>
#include <string.h>

static int failures;

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "consumer: FAILED: %s\n", what);
		failures++;
	}
}

int main(int argc, char **argv)
{
	const char *missing = argc > 1 ? argv[1] : "/nonexistent/pushseal-consumer";
	pushseal_error err;
	size_t ahead = 12345;
	int rc;

	check(strcmp(PUSHSEAL_VERSION, "0.1.0") == 0 || strncmp(PUSHSEAL_VERSION, "0.", 2) == 0,
		"PUSHSEAL_VERSION is a 0.x version");
	check(pushseal_init() == 0, "pushseal_init() returns 0");

	check(strcmp(pushseal_class_name(PUSHSEAL_OK), "ok") == 0, "class name of PUSHSEAL_OK is \"ok\"");
	check(strcmp(pushseal_class_name(PUSHSEAL_E_NOTREPO), "not-a-repo") == 0,
		"class name of PUSHSEAL_E_NOTREPO is \"not-a-repo\"");
	check(strcmp(pushseal_class_name(PUSHSEAL_E_DIVERGED), "diverged") == 0,
		"class name of PUSHSEAL_E_DIVERGED is \"diverged\"");
	check(strcmp(pushseal_class_name(12345), "internal") == 0,
		"an unknown class is named \"internal\"");

	memset(&err, 0x5a, sizeof(err));
	rc = pushseal_count_local_ahead(&ahead, missing, &err);
	check(rc == PUSHSEAL_E_NOTREPO, "count_local_ahead on a missing path returns PUSHSEAL_E_NOTREPO");
	check(ahead == 0, "count_local_ahead on a missing path sets *out = 0");
	check(err.klass == PUSHSEAL_E_NOTREPO, "the error's class is PUSHSEAL_E_NOTREPO");
	check(memchr(err.message, '\0', sizeof(err.message)) != NULL && err.message[0] != '\0',
		"the error message is a non-empty terminated string");

	/* err is optional */
	ahead = 7;
	rc = pushseal_count_local_ahead(&ahead, missing, NULL);
	check(rc == PUSHSEAL_E_NOTREPO && ahead == 0, "count_local_ahead with err == NULL");

	pushseal_shutdown();
	if (failures)
		return 1;
	printf("consumer: ok (%s: %s)\n", pushseal_class_name(PUSHSEAL_E_NOTREPO), err.message);
	return 0;
}
