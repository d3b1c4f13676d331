/* Growing an array by doubling (array.h). */
#include "array.h"

#include <stdint.h>
#include <stdlib.h>

void *ps_array_grow(void *items, size_t *cap, size_t need, size_t size, size_t first)
{
	size_t c = *cap ? *cap : (first ? first : 1);
	void *p;
	if (need <= *cap)
		return items;
	while (c < need) {
		if (c > SIZE_MAX / 2)
			return NULL;
		c *= 2;
	}
	if (size == 0 || c > SIZE_MAX / size) /* size 0: a caller's mistake */
		return NULL;
	if (!(p = realloc(items, c * size)))
		return NULL;
	*cap = c;
	return p;
}
