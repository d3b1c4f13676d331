/*
 * git's commit-graph, read-only (commit_graph.h).  The format, in short:
 *   header   "CGPH", version 1, hash version 1 (SHA-1), C chunks, B base layers
 *   lookup   C+1 entries of (4-byte id, 8-byte offset), big-endian
 *   OIDF     256 cumulative counts by first byte
 *   OIDL     the N commit ids, sorted
 *   CDAT     per commit: tree id, parent 1, parent 2 (positions), then 30
 *            bits of topological level and 34 bits of commit time
 *   EDGE     the parents of octopus merges after the first (last one marked)
 *   BASE     in a chain layer: the ids of the B layers below it
 * A position in layer k counts the commits of the layers below it first.
 */
#include "commit_graph.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define HASH_LEN 20
#define CDAT_LEN (HASH_LEN + 16)
#define NO_PARENT 0x70000000u
#define OCTOPUS 0x80000000u
#define LAST_EDGE 0x80000000u
#define MAX_LAYERS 64

#define CHUNK_OIDF 0x4f494446u
#define CHUNK_OIDL 0x4f49444cu
#define CHUNK_CDAT 0x43444154u
#define CHUNK_EDGE 0x45444745u
#define CHUNK_BASE 0x42415345u

typedef struct layer {
	unsigned char *map;
	size_t len;
	const unsigned char *fanout, *oidl, *cdat, *edge, *base;
	uint32_t n, base_count; /* commits here; commits in the layers below */
	size_t edges;
} layer;

struct ps_commit_graph {
	layer layers[MAX_LAYERS];
	uint32_t nlayers, total;
};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t be64(const unsigned char *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static int refuse(char *why, size_t n, const char *path, const char *what)
{
	if (why && n)
		snprintf(why, n, "%s: %s", path, what);
	return 0;
}

/* Map `path` and check its structure; `index` is its place in a chain (0 for
 * a single file).  Returns 1, 0 (unusable, why set) or -1. */
static int layer_open(layer *l, const char *path, uint32_t index, char *why, size_t wn)
{
	struct stat st;
	const unsigned char *p;
	uint64_t prev = 0;
	uint32_t chunks;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	memset(l, 0, sizeof(*l));
	if (fd < 0)
		return refuse(why, wn, path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 8 + 12 + HASH_LEN) {
		close(fd);
		return refuse(why, wn, path, "not a commit-graph file (too small)");
	}
	l->len = (size_t)st.st_size;
	l->map = mmap(NULL, l->len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (l->map == MAP_FAILED) {
		l->map = NULL;
		return refuse(why, wn, path, "cannot map the file");
	}
	p = l->map;
	if (memcmp(p, "CGPH", 4) != 0)
		return refuse(why, wn, path, "bad signature");
	if (p[4] != 1)
		return refuse(why, wn, path, "unknown version");
	if (p[5] != 1)
		return refuse(why, wn, path, "not a SHA-1 graph");
	chunks = p[6];
	if (p[7] != index)
		return refuse(why, wn, path, "wrong number of base layers");
	if (8 + ((size_t)chunks + 1) * 12 + HASH_LEN > l->len)
		return refuse(why, wn, path, "truncated chunk table");
	for (uint32_t c = 0; c < chunks; c++) {
		const unsigned char *e = p + 8 + (size_t)c * 12;
		uint32_t id = be32(e);
		uint64_t off = be64(e + 4), end = be64(e + 16);
		if (off < prev || end < off || end > l->len - HASH_LEN || off < 8 + ((uint64_t)chunks + 1) * 12)
			return refuse(why, wn, path, "chunk out of bounds");
		prev = off;
		switch (id) {
		case CHUNK_OIDF:
			if (end - off != (uint64_t)256 * 4)
				return refuse(why, wn, path, "bad fanout size");
			l->fanout = p + off;
			break;
		case CHUNK_OIDL:
			if ((end - off) % HASH_LEN)
				return refuse(why, wn, path, "bad id list size");
			l->oidl = p + off;
			l->n = (uint32_t)((end - off) / HASH_LEN);
			break;
		case CHUNK_CDAT:
			if ((end - off) % CDAT_LEN)
				return refuse(why, wn, path, "bad commit data size");
			l->cdat = p + off;
			if ((end - off) / CDAT_LEN != l->n && l->oidl)
				return refuse(why, wn, path, "commit data and id list disagree");
			break;
		case CHUNK_EDGE:
			if ((end - off) % 4)
				return refuse(why, wn, path, "bad edge list size");
			l->edge = p + off;
			l->edges = (size_t)(end - off) / 4;
			break;
		case CHUNK_BASE:
			if (end - off != (uint64_t)index * HASH_LEN)
				return refuse(why, wn, path, "bad base list size");
			l->base = p + off;
			break;
		default:
			break; /* bloom filters, generation data: not needed */
		}
	}
	if (!l->fanout || !l->oidl || !l->cdat)
		return refuse(why, wn, path, "a required chunk is missing");
	/* CDAT's size was checked against OIDL's only if OIDL came first */
	{
		const unsigned char *e = p + 8;
		for (uint32_t c = 0; c < chunks; c++, e += 12)
			if (be32(e) == CHUNK_CDAT && (be64(e + 16) - be64(e + 4)) / CDAT_LEN != l->n)
				return refuse(why, wn, path, "commit data and id list disagree");
	}
	for (uint32_t i = 0, last = 0; i < 256; i++) {
		uint32_t f = be32(l->fanout + (size_t)4 * i);
		if (f < last)
			return refuse(why, wn, path, "fanout not sorted");
		last = f;
		if (i == 255 && f != l->n)
			return refuse(why, wn, path, "fanout and id list disagree");
	}
	if (index > 0 && !l->base)
		return refuse(why, wn, path, "a chain layer without its base list");
	return 1;
}

static void layer_close(layer *l)
{
	if (l->map)
		munmap(l->map, l->len);
	l->map = NULL;
}

void ps_commit_graph_free(ps_commit_graph *g)
{
	if (!g)
		return;
	for (uint32_t i = 0; i < g->nlayers; i++)
		layer_close(&g->layers[i]);
	free(g);
}

static int hex_ok(const char *s)
{
	for (int i = 0; i < 2 * HASH_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[(size_t)2 * HASH_LEN] == '\0';
}

/* Add one layer; 1, 0 (why set, g unusable) or -1. */
static int add_layer(ps_commit_graph *g, const char *path, char *why, size_t wn)
{
	layer *l = &g->layers[g->nlayers];
	int rc = layer_open(l, path, g->nlayers, why, wn);
	if (rc <= 0) {
		layer_close(l);
		return rc;
	}
	if ((uint64_t)g->total + l->n >= NO_PARENT) {
		layer_close(l);
		return refuse(why, wn, path, "too many commits");
	}
	/* a layer names the layers below it, in order, by their checksums */
	for (uint32_t i = 0; i < g->nlayers; i++) {
		const layer *below = &g->layers[i];
		if (memcmp(l->base + (size_t)i * HASH_LEN, below->map + below->len - HASH_LEN, HASH_LEN) != 0) {
			layer_close(l);
			return refuse(why, wn, path, "its base list does not match the chain");
		}
	}
	l->base_count = g->total;
	g->total += l->n;
	g->nlayers++;
	return 1;
}

static int open_chain(ps_commit_graph *g, const char *dir, char *why, size_t wn)
{
	char path[4200], line[128];
	int rc = 1;
	FILE *f;
	if (snprintf(path, sizeof(path), "%s/info/commit-graphs/commit-graph-chain", dir) >= (int)sizeof(path) ||
	    !(f = fopen(path, "re")))
		return 0; /* no chain either: no graph */
	while (rc == 1 && fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		if (!hex_ok(line)) {
			rc = refuse(why, wn, path, "a line is not a SHA-1");
			break;
		}
		if (g->nlayers == MAX_LAYERS) {
			rc = refuse(why, wn, path, "too many layers");
			break;
		}
		if (snprintf(path, sizeof(path), "%s/info/commit-graphs/graph-%s.graph", dir, line) >= (int)sizeof(path)) {
			rc = refuse(why, wn, dir, "path too long");
			break;
		}
		rc = add_layer(g, path, why, wn);
		/* its checksum must be the name the chain gives it */
		if (rc == 1) {
			const layer *l = &g->layers[g->nlayers - 1];
			git_oid want;
			if (git_oid_fromstr(&want, line) < 0 || memcmp(want.id, l->map + l->len - HASH_LEN, HASH_LEN) != 0)
				rc = refuse(why, wn, path, "its checksum is not the name in the chain");
		}
	}
	fclose(f);
	if (rc == 1 && g->nlayers == 0)
		rc = refuse(why, wn, "commit-graph-chain", "empty");
	return rc;
}

int ps_commit_graph_open(ps_commit_graph **out, const char *objects_dir, char *why, size_t n)
{
	ps_commit_graph *g;
	char dir[4096], path[4200];
	struct stat st;
	size_t len;
	int rc;
	*out = NULL;
	if (why && n)
		why[0] = '\0';
	if (snprintf(dir, sizeof(dir), "%s", objects_dir) >= (int)sizeof(dir))
		return refuse(why, n, "objects", "path too long");
	len = strlen(dir);
	while (len > 1 && dir[len - 1] == '/')
		dir[--len] = '\0';
	if (!(g = calloc(1, sizeof(*g))))
		return -1;
	if (snprintf(path, sizeof(path), "%s/info/commit-graph", dir) >= (int)sizeof(path))
		rc = refuse(why, n, dir, "path too long");
	else if (stat(path, &st) == 0)
		rc = add_layer(g, path, why, n);
	else
		rc = open_chain(g, dir, why, n);
	if (rc == 1 && g->total == 0)
		rc = refuse(why, n, path, "no commits");
	if (rc != 1) {
		ps_commit_graph_free(g);
		return rc;
	}
	*out = g;
	return 1;
}

uint32_t ps_commit_graph_size(const ps_commit_graph *g)
{
	return g->total;
}

uint32_t ps_commit_graph_layers(const ps_commit_graph *g)
{
	return g->nlayers;
}

static const layer *layer_of(const ps_commit_graph *g, uint32_t pos)
{
	uint32_t i = g->nlayers;
	while (i > 1 && pos < g->layers[i - 1].base_count)
		i--;
	return &g->layers[i - 1];
}

int ps_commit_graph_find(const ps_commit_graph *g, const git_oid *id, uint32_t *pos)
{
	for (uint32_t k = g->nlayers; k-- > 0;) {
		const layer *l = &g->layers[k];
		uint32_t lo = id->id[0] ? be32(l->fanout + (size_t)4 * (id->id[0] - 1)) : 0;
		uint32_t hi = be32(l->fanout + (size_t)4 * id->id[0]);
		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;
			int c = memcmp(l->oidl + (size_t)mid * HASH_LEN, id->id, HASH_LEN);
			if (c == 0) {
				*pos = l->base_count + mid;
				return 1;
			}
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	return 0;
}

void ps_commit_graph_oid(git_oid *out, const ps_commit_graph *g, uint32_t pos)
{
	const layer *l = layer_of(g, pos);
	memcpy(out->id, l->oidl + (size_t)(pos - l->base_count) * HASH_LEN, HASH_LEN);
}

uint32_t ps_commit_graph_generation(const ps_commit_graph *g, uint32_t pos)
{
	const layer *l = layer_of(g, pos);
	const unsigned char *d = l->cdat + (size_t)(pos - l->base_count) * CDAT_LEN;
	return be32(d + HASH_LEN + 8) >> 2;
}

int ps_commit_graph_parent(const ps_commit_graph *g, uint32_t pos, uint32_t i, uint32_t *parent)
{
	const layer *l = layer_of(g, pos);
	const unsigned char *d = l->cdat + (size_t)(pos - l->base_count) * CDAT_LEN;
	uint32_t limit = l->base_count + l->n; /* a parent lives here or below */
	uint32_t p1 = be32(d + HASH_LEN), p2 = be32(d + HASH_LEN + 4), v = 0;
	if (i == 0) {
		if (p1 == NO_PARENT)
			return 0;
		v = p1;
	} else if (p2 == NO_PARENT) {
		return 0;
	} else if (!(p2 & OCTOPUS)) {
		if (i > 1)
			return 0;
		v = p2;
	} else {
		size_t start = p2 & ~OCTOPUS;
		for (size_t k = start; k < start + i; k++) {
			uint32_t e;
			if (!l->edge || k >= l->edges)
				return -1;
			e = be32(l->edge + 4 * k);
			if (k == start + i - 1) {
				v = e & ~LAST_EDGE;
				goto found;
			}
			if (e & LAST_EDGE)
				return 0;
		}
		return -1;
	}
found:
	if (v >= limit)
		return -1;
	*parent = v;
	return 1;
}
