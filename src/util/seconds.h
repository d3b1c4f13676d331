/*
 * Seconds as pushseal reads them, in the library (PUSHSEAL_DEADLINE_S) and
 * in the command (PUSHSEAL_DEADLINE_S, --command-deadline, --lock-wait): one
 * parser, so the command refuses exactly what the library would ignore.
 * Shared code (src/util/): it uses libc only, never libgit2 or pushseal.h.
 */
#ifndef PUSHSEAL_SECONDS_H
#define PUSHSEAL_SECONDS_H

/* The bounds of a network deadline and of --command-deadline: 1 ms to a day. */
#define PS_SECONDS_DEADLINE_MIN_MS 1
#define PS_SECONDS_DEADLINE_MAX_MS (86400 * 1000)

/* Parse a number of seconds ("2", "0.5", "1e1") into *out_ms, rounded to the
 * nearest millisecond.  Accepts only the whole text, a finite number that
 * strtod reads without ERANGE, whose milliseconds lie in [min_ms, max_ms].
 * Returns 0, or -1 (NULL or empty text included) with *out_ms untouched. */
int ps_seconds_parse(int *out_ms, const char *text, int min_ms, int max_ms);

#endif
