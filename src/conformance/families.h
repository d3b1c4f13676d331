/*
 * The named families of extended clauses (docs/SPEC.md): a family enables
 * every clause ID that starts with one of its prefixes.  Shared by the
 * harness (PUSHSEAL_EXT) and pushseal-conformance (--with, --list-clauses).
 */
#ifndef PS_FAMILIES_H
#define PS_FAMILIES_H

#include <string.h>

static const struct ps_family {
	const char *name;
	const char *prefixes;
} ps_families[] = {
	{ "classes", "P-PULL-23 P-PUSH-17 P-INPUT-7 P-DEADLINE-4 G-UNSUPPORTED W" },
	{ "ignored", "P-PULL-15" },
	{ "lock", "P-PULL-25 X-LOCK" },
	{ "in-progress", "C-16-4 F-STATE" },
	{ "local-upstream", "P-PULL-18" },
	{ "owner", "P-INPUT-8" },
	{ "paths", "P-PROTO-7 F-PATH" },
	{ "cli", "P-PROTO-6 G-SPARSE-2 X-COMMIT X-STATUS X-HUB X-PAR X-METRICS X-FORMAT" },
	{ "reports", "C-16-5 X-REPORT" },
	{ "divergence", "X-DIVERGE F-CONC-2" },
	{ "crash", "F-CRASH-2 F-CRASH-4 F-CRASH-5 F-LOCK-2 F-LOCK-3 F-LOCK-4 F-STEP" },
	{ "children", "F-CHILD-3 F-CHILD-4 F-CHILD-5" },
	{ "redact", "F-REDACT" },
	{ "race", "P-PUSH-18 G-URL-7" },
	{ "prune", "P-REMOTE-9" },
	{ "fetch-all", "P-REMOTE-12" },
	{ "transport", "T-HTTP T-SSH T-CRED" },
	{ "hostile", "SEC" },
	{ "shard", "X-SHARD" },
};

#define PS_NFAMILIES (sizeof(ps_families) / sizeof(ps_families[0]))

/*
 * The reference's own clauses: they need what only the reference has (its
 * in-process API and credential variables: T-*, SEC; its test hook points
 * PUSHSEAL_TEST_HOOK_*: the race and kill-point clauses; its worker
 * processes: X-PAR-2 kills one; its own command runner: the F-CHILD-3..5
 * tests run the reference's CLI whatever command is under test).  `--with all`
 * against a protocol v1 command leaves them out; the token `reference`, a
 * family or an ID still opts in.  In-process they always run.
 */
#define PS_REFERENCE_ONLY "T-HTTP T-SSH T-CRED SEC P-PUSH-18 G-URL-7 F-LOCK-2 F-LOCK-3 F-LOCK-4 F-STEP X-PAR-2 F-CHILD-3 F-CHILD-4 F-CHILD-5"

/* Is `clause` ("F-STEP-3" or "F-STEP-3 its sentence") one of the reference's own? */
static inline int ps_reference_only(const char *clause)
{
	const char *p = PS_REFERENCE_ONLY;
	while (*p) {
		size_t len = strcspn(p, " ");
		if (!strncmp(clause, p, len) && (clause[len] == '\0' || clause[len] == '-' || clause[len] == ' '))
			return 1;
		p += len + (p[len] == ' ');
	}
	return 0;
}

#endif
