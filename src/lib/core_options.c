/*
 * Versioned options: the _init functions beside the _INIT macros, and the
 * check every public entry point makes before it reads an options struct
 * (as libgit2's GIT_ERROR_CHECK_VERSION does).
 *
 * Version 0 is refused, as libgit2 refuses it: a zeroed struct (memset, or
 * `= { 0 }`) was never initialised, and its zero deadlines and policies
 * would be taken for choices.  Nothing in this tree passes one.
 */
#include "internal.h"

int ps_options_check(unsigned int version, unsigned int current, const char *type, pushseal_error *err)
{
	if (version == current)
		return 0;
	return ps_error_set(err, PUSHSEAL_E_INVALID,
		"%s has version %u, this library knows version %u (initialise it with %s_init() or the _INIT macro)",
		type, version, current, type);
}

int ps_net_options_check(const pushseal_options *o, pushseal_error *err)
{
	return o ? ps_options_check(o->version, PUSHSEAL_OPTIONS_VERSION, "pushseal_options", err) : 0;
}

int ps_cycle_options_check(const pushseal_cycle_options *o, pushseal_error *err)
{
	int rc;
	if (!o)
		return 0;
	if ((rc = ps_options_check(o->version, PUSHSEAL_CYCLE_OPTIONS_VERSION, "pushseal_cycle_options", err)) < 0)
		return rc;
	return ps_net_options_check(&o->net, err);
}

int ps_tick_options_check(const pushseal_tick_options *o, pushseal_error *err)
{
	int rc;
	if (!o)
		return 0;
	if ((rc = ps_options_check(o->version, PUSHSEAL_TICK_OPTIONS_VERSION, "pushseal_tick_options", err)) < 0)
		return rc;
	return ps_cycle_options_check(&o->cycle, err);
}

int pushseal_options_init(pushseal_options *opts, unsigned int version)
{
	const pushseal_options init = PUSHSEAL_OPTIONS_INIT;
	if (!opts || version != PUSHSEAL_OPTIONS_VERSION)
		return PUSHSEAL_E_INVALID;
	*opts = init;
	return 0;
}

int pushseal_cycle_options_init(pushseal_cycle_options *opts, unsigned int version)
{
	const pushseal_cycle_options init = PUSHSEAL_CYCLE_OPTIONS_INIT;
	if (!opts || version != PUSHSEAL_CYCLE_OPTIONS_VERSION)
		return PUSHSEAL_E_INVALID;
	*opts = init;
	return 0;
}

int pushseal_tick_options_init(pushseal_tick_options *opts, unsigned int version)
{
	const pushseal_tick_options init = PUSHSEAL_TICK_OPTIONS_INIT;
	if (!opts || version != PUSHSEAL_TICK_OPTIONS_VERSION)
		return PUSHSEAL_E_INVALID;
	*opts = init;
	return 0;
}
