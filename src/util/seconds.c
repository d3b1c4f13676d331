/* The one parser of seconds (seconds.h). */
#include "seconds.h"

#include <errno.h>
#include <stdlib.h>

int ps_seconds_parse(int *out_ms, const char *text, int min_ms, int max_ms)
{
	char *end = NULL;
	double s, ms;
	if (!text || !*text)
		return -1;
	errno = 0;
	s = strtod(text, &end);
	if (errno || end == text || *end || !(s >= 0)) /* !(s >= 0): NaN too */
		return -1;
	ms = s * 1000.0 + 0.5; /* rounded to the nearest: floor(ms) */
	if (!(ms >= (double)min_ms && ms < (double)max_ms + 1.0))
		return -1;
	*out_ms = (int)ms;
	return 0;
}
