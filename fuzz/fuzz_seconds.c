/*
 * ps_parse_seconds (src/lib/net_deadline.c): PUSHSEAL_DEADLINE_S and friends.
 * Properties: it accepts only a whole number of 0.001 to 86400 seconds
 * (rounded to the millisecond; no trailing text, no NaN or infinity), the
 * result is within
 * 1..86400000 ms and within half a millisecond of the number, it leaves the
 * output alone when it refuses, and plain decimal integers parse exactly.
 */
#include "fuzz.h"
#include "internal.h"

#include <errno.h>
#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size), *end = NULL;
	int ms = -12345, rc = ps_parse_seconds(&ms, text);
	double s;
	int range;
	size_t len = strlen(text), digits = strspn(text, "0123456789");

	errno = 0;
	s = strtod(text, &end);
	range = errno == ERANGE;
	FUZZ_CHECK(rc == 0 || rc == -1, "returned %d", rc);
	if (rc < 0) {
		FUZZ_CHECK(ms == -12345, "wrote %d on refusal", ms);
		/* refused: must be empty, trailing junk, not finite, not positive or
		 * too big; or out of strtod's range (a subnormal such as 8e-322 is
		 * refused while 1e-300 reads as 1 ms: harmless, left alone) */
		FUZZ_CHECK(len == 0 || end == text || *end || range || !isfinite(s) || !(s * 1000.0 + 0.5 >= 1.0) ||
		           s * 1000.0 + 0.5 >= 86400001.0 ||
		           s * 1000.0 + 0.5 >= 2147483647.0,
			"refused '%s' (%g s)", text, s);
		FUZZ_CHECK(!(digits == len && len > 0 && len < 6 && atoi(text) > 0 && atoi(text) <= 86400),
			"refused the integer '%s'", text);
		free(text);
		return 0;
	}
	FUZZ_CHECK(len > 0 && end != text && *end == '\0', "accepted '%s' with junk", text);
	FUZZ_CHECK(isfinite(s) && s > 0 && s * 1000.0 + 0.5 < 86400001.0, "accepted '%s' = %g s", text, s);
	FUZZ_CHECK(ms >= 1 && ms <= 86400000, "'%s' gave %d ms", text, ms);
	FUZZ_CHECK(fabs((double)ms - s * 1000.0) <= 0.5 || (ms == 1 && s * 1000.0 < 1.0),
		"'%s' gave %d ms for %g s", text, ms, s);
	if (digits == len && len < 6)
		FUZZ_CHECK(ms == atoi(text) * 1000, "'%s' gave %d ms", text, ms);
	free(text);
	return 0;
}
