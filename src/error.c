/* Error classes and messages: the reason always lands in the caller's struct. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

static const char *const class_names[] = {
	"ok", "not-a-repo", "bare", "unborn", "detached", "no-upstream",
	"diverged", "rejected", "unreachable", "would-overwrite", "locked",
	"timeout", "auth", "owner", "in-progress", "invalid", "internal", "writeback",
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
		if (!scheme) {
			dst[o++] = *src++;
			continue;
		}
		/* copy up to and including "://" */
		while (src < scheme + 3 && o + 1 < n)
			dst[o++] = *src++;
		/* userinfo ends at '@' before any '/', whitespace or quote */
		size_t len = strcspn(src, "@/ \t\n'\"");
		if (src[len] == '@') {
			const char *mask = "***";
			while (*mask && o + 1 < n)
				dst[o++] = *mask++;
			src += len;
		}
	}
	dst[o] = '\0';
}

static int vset(pushseal_error *err, int klass, const char *suffix, const char *fmt, va_list ap)
{
	char raw[512];
	size_t used;
	if (!err)
		return klass;
	vsnprintf(raw, sizeof(raw), fmt, ap);
	used = strlen(raw);
	if (suffix && *suffix && used + 3 < sizeof(raw))
		snprintf(raw + used, sizeof(raw) - used, ": %s", suffix);
	/* one line: a message never carries a newline */
	for (char *p = raw; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	ps_redact(err->message, sizeof(err->message), raw);
	err->klass = klass;
	return klass;
}

int ps_error_set(pushseal_error *err, int klass, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset(err, klass, NULL, fmt, ap);
	va_end(ap);
	return klass;
}

int ps_error_git(pushseal_error *err, int klass, const char *fmt, ...)
{
	const git_error *last = git_error_last();
	char why[256] = "";
	va_list ap;
	if (last && last->message) {
		snprintf(why, sizeof(why), "%s", last->message);
		/* libgit2 messages sometimes end with a newline */
		why[strcspn(why, "\r\n")] = '\0';
	}
	va_start(ap, fmt);
	vset(err, klass, why, fmt, ap);
	va_end(ap);
	return klass;
}

int ps_class_of_net_error(int git_code)
{
	switch (git_code) {
	case GIT_EAUTH:
		return PUSHSEAL_E_AUTH;
	default:
		return PUSHSEAL_E_UNREACHABLE;
	}
}
