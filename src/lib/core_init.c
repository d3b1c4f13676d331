/* Library start-up and shutdown. */
#include "internal.h"

/* libgit2 starts, and ssh URLs go through the system's OpenSSH (net_ssh_transport.c). */
int pushseal_init(void)
{
	if (git_libgit2_init() < 0)
		return PUSHSEAL_E_INTERNAL;
	return ps_transports_register() < 0 ? PUSHSEAL_E_INTERNAL : 0;
}

void pushseal_shutdown(void)
{
	ps_transports_unregister();
	git_libgit2_shutdown();
}
