/* ps_buf: a growable byte buffer, always NUL-terminated (internal.h). */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ps_buf_put(ps_buf *b, const void *data, size_t len)
{
	char *p = ps_array_grow(b->ptr, &b->cap, b->len + len + 1, 1, 256);
	if (!p)
		return -1;
	b->ptr = p;
	memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
	return 0;
}

int ps_buf_printf(ps_buf *b, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap); /* NOLINT(clang-analyzer-valist.Uninitialized): clang 14 false positive */
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof(small))
		return ps_buf_put(b, small, (size_t)n);
	{
		char *big = malloc((size_t)n + 1);
		int rc;
		if (!big)
			return -1;
		va_start(ap, fmt);
		vsnprintf(big, (size_t)n + 1, fmt, ap); /* NOLINT(clang-analyzer-valist.Uninitialized): clang 14 false positive */
		va_end(ap);
		rc = ps_buf_put(b, big, (size_t)n);
		free(big);
		return rc;
	}
}

void ps_buf_free(ps_buf *b)
{
	free(b->ptr);
	memset(b, 0, sizeof(*b));
}
