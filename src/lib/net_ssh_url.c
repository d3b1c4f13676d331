/*
 * ssh URLs as git reads them (net_ssh.h): ssh://, ssh+git://, git+ssh://
 * with %-decoding, and scp-style [user@]host:path.
 */
#define _GNU_SOURCE
#include "net_ssh.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Copy n bytes of src into dst (size cap), %XX-decoded when `decode`.
 * Returns 0, or -1 when it does not fit. */
static int copy_part(char *dst, size_t cap, const char *src, size_t n, int decode)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)src[i];
		if (decode && c == '%' && i + 2 < n && hexval(src[i + 1]) >= 0 && hexval(src[i + 2]) >= 0) {
			c = hexval(src[i + 1]) * 16 + hexval(src[i + 2]);
			i += 2;
		}
		if (o + 1 >= cap)
			return -1;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return 0;
}

/* ---- URLs --------------------------------------------------------------------- */

/* Split [user@]host[:port] (ssh:// authority, %-decoded) or the host part
 * of an scp-style URL into tgt. */
static int split_authority(ssh_target *tgt, const char *a, size_t n, int url_form)
{
	const char *at = NULL, *host, *end = a + n, *colon = NULL;
	for (const char *p = a; p < end; p++)
		if (*p == '@')
			at = p;
	if (at && copy_part(tgt->user, sizeof(tgt->user), a, (size_t)(at - a), url_form) < 0)
		return -1;
	if (at && url_form) /* "user:password@": ssh takes no password */
		tgt->user[strcspn(tgt->user, ":")] = '\0';
	host = at ? at + 1 : a;
	if (host < end && *host == '[') {
		const char *close = memchr(host, ']', (size_t)(end - host));
		if (!close)
			return -1;
		if (close + 1 < end && close[1] == ':')
			colon = close + 1;
		else if (close + 1 != end)
			return -1;
		if (copy_part(tgt->host, sizeof(tgt->host), host + 1, (size_t)(close - host - 1), url_form) < 0)
			return -1;
	} else {
		if (url_form)
			colon = memchr(host, ':', (size_t)(end - host));
		if (copy_part(tgt->host, sizeof(tgt->host), host, (size_t)((colon ? colon : end) - host), url_form) < 0)
			return -1;
	}
	if (colon && copy_part(tgt->port, sizeof(tgt->port), colon + 1, (size_t)(end - colon - 1), 0) < 0)
		return -1;
	for (const char *p = tgt->port; *p; p++)
		if (*p < '0' || *p > '9')
			return -1;
	return 0;
}

/* ssh://[user@]host[:port]/path (also ssh+git://, git+ssh://) or scp-style
 * [user@]host:path, as git reads them.  0, or -1 with a libgit2 error. */
int ps_ssh_parse_target(ssh_target *tgt, const char *url)
{
	static const char *const schemes[] = { "ssh://", "ssh+git://", "git+ssh://" };
	memset(tgt, 0, sizeof(*tgt));
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t sl = strlen(schemes[i]);
		if (!strncasecmp(url, schemes[i], sl)) {
			const char *a = url + sl, *slash = strchr(a, '/');
			if (!slash || split_authority(tgt, a, (size_t)(slash - a), 1) < 0)
				goto bad;
			/* git: ssh://host/~user/repo means ~user/repo */
			if (slash[1] == '~')
				slash++;
			if (copy_part(tgt->path, sizeof(tgt->path), slash, strlen(slash), 1) < 0)
				goto bad;
			goto check;
		}
	}
	{
		/* scp-style: host ends at the first ':' outside brackets */
		const char *p = url, *colon;
		if (*p == '[' || (strchr(p, '@') && strchr(p, '@')[1] == '[')) {
			const char *close = strchr(p, ']');
			colon = close ? strchr(close, ':') : NULL;
		} else {
			colon = strchr(p, ':');
		}
		/* git's rule: a '/' before the ':' makes it a local path, never a host */
		if (!colon || memchr(p, '/', (size_t)(colon - p)) || split_authority(tgt, p, (size_t)(colon - p), 0) < 0 ||
		    copy_part(tgt->path, sizeof(tgt->path), colon + 1, strlen(colon + 1), 0) < 0)
			goto bad;
		/* "[host:port]:path", as git accepts it */
		if (!tgt->port[0] && strchr(tgt->host, ':') && strchr(tgt->host, ':') == strrchr(tgt->host, ':')) {
			char *c = strchr(tgt->host, ':');
			snprintf(tgt->port, sizeof(tgt->port), "%s", c + 1);
			*c = '\0';
		}
	}
check:
	/* never let a host or user become an option of ssh (git's CVE-2017-1000117 rule) */
	if (!tgt->host[0] || tgt->host[0] == '-' || tgt->user[0] == '-' || !tgt->path[0])
		goto bad;
	for (const char *s = tgt->host; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == ' ')
			goto bad;
	return 0;
bad:
	{
		char shown[300];
		ps_redact(shown, sizeof(shown), url);
		return ps_ssh_error(-1, "not an ssh URL pushseal can use: '%s'", shown);
	}
}
