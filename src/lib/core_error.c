/* Error classes and messages: the reason always lands in the caller's struct. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const class_names[] = {
	"ok", "not-a-repo", "bare", "unborn", "detached", "no-upstream",
	"diverged", "rejected", "unreachable", "would-overwrite", "locked",
	"timeout", "auth", "owner", "in-progress", "invalid", "internal", "writeback", "unsupported",
};

const char *pushseal_class_name(int klass)
{
	int i = -klass;
	if (i < 0 || (size_t)i >= sizeof(class_names) / sizeof(class_names[0]))
		return "internal";
	return class_names[i];
}

void ps_error_clear(pushseal_error *err)
{
	if (!err)
		return;
	err->klass = PUSHSEAL_OK;
	err->message[0] = '\0';
}

void ps_redact(char *dst, size_t n, const char *src)
{
	size_t o = 0;
	if (n == 0)
		return;
	while (*src && o + 1 < n) {
		const char *scheme = strstr(src, "://");
		const char *at = NULL;
		if (!scheme) {
			dst[o++] = *src++;
			continue;
		}
		/* copy up to and including "://" */
		while (src < scheme + 3 && o + 1 < n)
			dst[o++] = *src++;
		/* the authority ends at '/', '?', '#' or whitespace; its userinfo
		 * at the LAST '@' in it, as curl and browsers read
		 * "https://user:p@ss@host" (a quote may be part of a password) */
		for (size_t len = strcspn(src, "/?# \t\n\r\v\f"), i = 0; i < len; i++)
			if (src[i] == '@')
				at = src + i;
		if (at) {
			const char *mask = "***";
			while (*mask && o + 1 < n)
				dst[o++] = *mask++;
			src = at;
		}
	}
	dst[o] = '\0';
}

/* Store text (NULL: out of memory), then ": <suffix_len bytes of suffix>"
 * when there are any, as one line, redacting the WHOLE text before cutting it
 * to the message size: cutting first could leave "https://user:passw" with
 * no '@' to recognise it by. */
static void set_text(pushseal_error *err, int klass, const char *text, const char *suffix, size_t suffix_len)
{
	size_t used = text ? strlen(text) : 0;
	char *raw = text ? malloc(used + suffix_len + 3) : NULL;
	err->klass = klass;
	if (!raw) {
		snprintf(err->message, sizeof(err->message), "out of memory formatting a message");
		return;
	}
	memcpy(raw, text, used + 1);
	if (suffix_len)
		snprintf(raw + used, suffix_len + 3, ": %.*s", (int)suffix_len, suffix);
	/* one line: a message never carries a newline */
	for (char *p = raw; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	ps_redact(err->message, sizeof(err->message), raw);
	free(raw);
}

/* The formatted text in a new buffer, NULL when out of memory: measured
 * first, then written with a copy of the arguments. */
static char *format_alloc(const char *fmt, va_list ap)
{
	va_list again;
	char *text = NULL;
	int len;
	va_copy(again, ap);
	len = vsnprintf(NULL, 0, fmt, ap); /* NOLINT(clang-analyzer-valist.Uninitialized): clang 14 false positive */
	if (len >= 0 && (text = malloc((size_t)len + 1)) != NULL)
		vsnprintf(text, (size_t)len + 1, fmt, again);
	va_end(again);
	return text;
}

/* The formatted text, then (when why is not NULL) why's first line:
 * libgit2 messages sometimes end with a newline. */
static int set_formatted(pushseal_error *err, int klass, const char *why, const char *fmt, va_list ap)
{
	char *text = format_alloc(fmt, ap);
	set_text(err, klass, text, why, why ? strcspn(why, "\r\n") : 0);
	free(text);
	return klass;
}

int ps_error_set(pushseal_error *err, int klass, const char *fmt, ...)
{
	va_list ap;
	if (!err)
		return klass;
	va_start(ap, fmt);
	set_formatted(err, klass, NULL, fmt, ap);
	va_end(ap);
	return klass;
}

int ps_error_git(pushseal_error *err, int klass, const char *fmt, ...)
{
	const git_error *last = git_error_last();
	va_list ap;
	if (!err)
		return klass;
	va_start(ap, fmt);
	set_formatted(err, klass, last && last->message ? last->message : "", fmt, ap);
	va_end(ap);
	return klass;
}

int ps_error_net(pushseal_error *err, int git_code, const char *fmt, ...)
{
	const git_error *last = git_error_last();
	char what[512], said[1800];
	va_list ap;
	int klass;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap); /* NOLINT(clang-analyzer-valist.Uninitialized): clang 14 false positive */
	va_end(ap);
	snprintf(said, sizeof(said), "%s%s%s%s", last && last->message ? last->message : "",
		*ps_server_words() ? " | " : "", *ps_server_words() ? "remote: " : "", ps_server_words());
	klass = ps_class_of_server(git_code, said);
	return ps_error_set(err, klass, "%s: %s", what, said[0] ? said : "no reason given");
}

int pushseal_class_is_permanent(int klass)
{
	switch (klass) {
	case PUSHSEAL_OK:
	case PUSHSEAL_E_UNREACHABLE:
	case PUSHSEAL_E_TIMEOUT:
	case PUSHSEAL_E_LOCKED:
		return 0;
	default:
		return 1; /* auth, rejected, diverged, would-overwrite, owner, ...: a person must act */
	}
}
