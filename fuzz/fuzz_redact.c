/*
 * ps_redact and the error setters (src/lib/core_error.c) on arbitrary text.
 * Input: two bytes pick the destination size (0..599), the rest is the text;
 * after a 0x01 byte comes the text libgit2's last error carries.
 * Properties:
 *  - the output is NUL-terminated inside the destination (ASan checks that
 *    nothing is written past it);
 *  - no output contains the password of any scheme://user:pass@host in the
 *    input.  The authority runs from "://" to the first '/', '?', '#',
 *    whitespace or end; its userinfo ends at the LAST '@' in it (as curl and
 *    the WHATWG URL parser read it), the password after the first ':'.  A
 *    password that occurs once in the input and holds no '*' cannot appear
 *    in a correct output, since every piece of output is either copied from
 *    the input or the "***" mask;
 *  - the output, read the same way, holds no user:password at all;
 *  - ps_error_set / ps_error_git redact the WHOLE message before they cut it
 *    to the message size: what they store equals ps_redact of the full text.
 */
#include "fuzz.h"
#include "internal.h"

static int ends_authority(char c)
{
	return c == '\0' || c == '/' || c == '?' || c == '#' || c == ' ' || c == '\t' || c == '\n' ||
	       c == '\r' || c == '\v' || c == '\f';
}

static size_t count(const char *hay, const char *needle)
{
	size_t c = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		c++;
	return c;
}

/* Call fn(password, len, ctx) for every password in s. */
static void each_password(const char *s, void (*fn)(const char *, size_t, const char *, const char *),
	const char *src, const char *out)
{
	for (const char *p = s; (p = strstr(p, "://")) != NULL; p++) {
		const char *a = p + 3, *at = NULL, *colon;
		size_t len = 0;
		while (!ends_authority(a[len])) {
			if (a[len] == '@')
				at = a + len;
			len++;
		}
		if (!at)
			continue;
		colon = memchr(a, ':', (size_t)(at - a));
		if (colon && at > colon + 1)
			fn(colon + 1, (size_t)(at - colon - 1), src, out);
	}
}

static void check_absent(const char *pw, size_t n, const char *src, const char *out)
{
	char *p = fuzz_cstr((const uint8_t *)pw, n);
	if (!strchr(p, '*') && count(src, p) == 1)
		FUZZ_CHECK(!strstr(out, p), "password '%s' of\n  %s\n  survives in\n  %s", p, src, out);
	free(p);
}

static void check_none(const char *pw, size_t n, const char *src, const char *out)
{
	FUZZ_CHECK(0, "output holds a user:password ('%.*s'):\n  %s\n  from\n  %s", (int)n, pw, out, src);
}

static void check_output(const char *src, const char *out)
{
	each_password(src, check_absent, src, out);
	each_password(out, check_none, src, out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int inited;
	size_t n, full_len;
	char *text, *why, *dst, *full, *one_line;
	pushseal_error err;

	if (!inited)
		inited = git_libgit2_init() > 0;
	if (size < 2)
		return 0;
	n = (size_t)(data[0] | data[1] << 8) % 600;
	text = fuzz_cstr(data + 2, size - 2);
	why = strchr(text, '\x01');
	if (why)
		*why++ = '\0';

	/* ps_redact into exactly n bytes */
	dst = malloc(n ? n : 1);
	FUZZ_CHECK(dst != NULL, "malloc");
	ps_redact(dst, n, text);
	if (n > 0) {
		FUZZ_CHECK(memchr(dst, '\0', n) != NULL, "output not NUL-terminated within %zu bytes", n);
		check_output(text, dst);
	}
	free(dst);

	/* the setters: the stored message is the redaction of the whole text */
	full_len = strlen(text) + (why ? strlen(why) + 2 : 0);
	full = malloc(full_len + 1);
	one_line = malloc(sizeof(err.message));
	FUZZ_CHECK(full && one_line, "malloc");
	if (why) {
		size_t w = strcspn(why, "\r\n");
		git_error_set_str(GIT_ERROR_NET, why);
		if (w)
			snprintf(full, full_len + 1, "%s: %.*s", text, (int)w, why);
		else
			snprintf(full, full_len + 1, "%s", text);
		ps_error_git(&err, PUSHSEAL_E_UNREACHABLE, "%s", text);
		FUZZ_CHECK(err.klass == PUSHSEAL_E_UNREACHABLE, "class %d", err.klass);
	} else {
		snprintf(full, full_len + 1, "%s", text);
		ps_error_set(&err, PUSHSEAL_E_INVALID, "%s", text);
		FUZZ_CHECK(err.klass == PUSHSEAL_E_INVALID, "class %d", err.klass);
	}
	for (char *p = full; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	FUZZ_CHECK(memchr(err.message, '\0', sizeof(err.message)) != NULL, "message not terminated");
	FUZZ_CHECK(!strpbrk(err.message, "\r\n"), "message holds a line break");
	ps_redact(one_line, sizeof(err.message), full);
	FUZZ_CHECK(strcmp(one_line, err.message) == 0,
		"the message is not the redaction of the whole text:\n  got  %s\n  want %s", err.message,
		one_line);
	check_output(full, err.message);
	git_error_clear();
	free(one_line);
	free(full);
	free(text);
	return 0;
}
