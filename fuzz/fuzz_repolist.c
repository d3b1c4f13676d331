/*
 * cli_list_read (src/cli/repolist.c): the --list FILE reader, on arbitrary
 * file contents.  Properties: it reads exactly the lines a reference reader
 * finds (split on '\n', trailing '\r'/'\n' dropped, blank/whitespace-only
 * lines and '#' comments skipped), every entry is the whole line and never
 * empty, and a line holding a NUL byte is refused rather than silently cut
 * into a different path.
 */
#include "fuzz.h"
#include "cli.h"

#include <unistd.h>

static char path[] = "/tmp/pushseal-fuzz-list-XXXXXX";
static int fd = -1;

static void cleanup(void)
{
	if (fd >= 0)
		unlink(path);
}

static int blank(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t')
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cli_list l = { 0 };
	size_t want = 0, pos = 0;
	int rc, want_rc = 0;

	if (fd < 0) {
		fd = mkstemp(path);
		FUZZ_CHECK(fd >= 0, "mkstemp");
		atexit(cleanup);
	}
	FUZZ_CHECK(ftruncate(fd, 0) == 0 && pwrite(fd, data, size, 0) == (ssize_t)size, "write %s", path);

	rc = cli_list_read(&l, path);

	/* the reference reader, checking entries in order */
	while (pos < size) {
		const uint8_t *line = data + pos, *nl = memchr(line, '\n', size - pos);
		size_t n = nl ? (size_t)(nl - line) : size - pos;
		pos += n + (nl != NULL);
		while (n > 0 && line[n - 1] == '\r')
			n--;
		if (n == 0 || line[0] == '#' || blank(line, n))
			continue;
		if (memchr(line, '\0', n)) {
			want_rc = -1;
			break;
		}
		FUZZ_CHECK(want < l.len, "line %zu missing: %zu entries read", want + 1, l.len);
		FUZZ_CHECK(strlen(l.items[want]) == n && memcmp(l.items[want], line, n) == 0,
			"entry %zu is '%s', not the line", want, l.items[want]);
		want++;
	}
	FUZZ_CHECK(rc == want_rc, "returned %d, expected %d", rc, want_rc);
	FUZZ_CHECK(l.len == want, "%zu entries, expected %zu", l.len, want);
	for (size_t i = 0; i < l.len; i++)
		FUZZ_CHECK(l.items[i][0] != '\0', "an empty entry");
	cli_list_free(&l);
	return 0;
}
