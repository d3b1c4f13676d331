/*
 * Growing an array by doubling: the one realloc loop of the tree.
 * Shared code (src/util/): libc only.
 */
#ifndef PUSHSEAL_ARRAY_H
#define PUSHSEAL_ARRAY_H

#include <stddef.h>

/* Room for `need` elements of `size` bytes: returns `items` (need <= *cap)
 * or a reallocation of it whose capacity (in *cap) doubled from `first`
 * until it holds them.  NULL when out of memory or the size overflows; then
 * `items` and *cap are untouched and still the caller's to free.  size must
 * not be 0. */
void *ps_array_grow(void *items, size_t *cap, size_t need, size_t size, size_t first);

#endif
