/* A set of object ids, by open addressing (internal.h: ps_oidset). */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

size_t ps_oid_hash(const git_oid *id)
{
	size_t h;
	memcpy(&h, id->id, sizeof(h));
	return h;
}

static int oidset_grow(ps_oidset *s)
{
	ps_oidset n = { 0 };
	n.cap = s->cap ? s->cap * 2 : 1024;
	n.slots = malloc(n.cap * sizeof(*n.slots));
	n.used = calloc(n.cap, 1);
	if (!n.slots || !n.used) {
		free(n.slots);
		free(n.used);
		return -1;
	}
	for (size_t i = 0; i < s->cap; i++) {
		if (!s->used[i])
			continue;
		size_t j = ps_oid_hash(&s->slots[i]) & (n.cap - 1);
		while (n.used[j])
			j = (j + 1) & (n.cap - 1);
		n.used[j] = 1;
		n.slots[j] = s->slots[i];
		n.len++;
	}
	free(s->slots);
	free(s->used);
	s->slots = n.slots;
	s->used = n.used;
	s->cap = n.cap;
	s->len = n.len;
	return 0;
}

/* 1 if added, 0 if present, -1 on allocation failure. */
int ps_oidset_add(ps_oidset *s, const git_oid *id)
{
	size_t j;
	if ((s->len + 1) * 2 > s->cap && oidset_grow(s) < 0)
		return -1;
	j = ps_oid_hash(id) & (s->cap - 1);
	while (s->used[j]) {
		if (git_oid_equal(&s->slots[j], id))
			return 0;
		j = (j + 1) & (s->cap - 1);
	}
	s->used[j] = 1;
	s->slots[j] = *id;
	s->len++;
	return 1;
}

int ps_oidset_has(const ps_oidset *s, const git_oid *id)
{
	size_t j;
	if (!s->cap)
		return 0;
	j = ps_oid_hash(id) & (s->cap - 1);
	while (s->used[j]) {
		if (git_oid_equal(&s->slots[j], id))
			return 1;
		j = (j + 1) & (s->cap - 1);
	}
	return 0;
}

void ps_oidset_free(ps_oidset *s)
{
	free(s->slots);
	free(s->used);
	memset(s, 0, sizeof(*s));
}
