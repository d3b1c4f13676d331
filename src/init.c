/* Library start-up and shutdown. */
#include "internal.h"

int pushseal_init(void)
{
	return git_libgit2_init() < 0 ? PUSHSEAL_E_INTERNAL : 0;
}

void pushseal_shutdown(void)
{
	git_libgit2_shutdown();
}
