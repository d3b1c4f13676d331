/*
 * Credentials for https that never prompt.
 *
 * An unattended timer must fail fast with class `auth`, never wait for a
 * person.  The credentials callback offers, in this order and each at most
 * once per network operation (libgit2 calls it again after every refusal, so
 * without a cap a wrong password loops until the deadline):
 *
 *   1. a token: PUSHSEAL_HTTPS_TOKEN, or the first line of the file
 *      PUSHSEAL_HTTPS_TOKEN_FILE; user from the URL or "x-access-token".
 *      Sent over https, or over plain http only to localhost, 127.0.0.0/8
 *      or ::1 written as numbers (inet_pton), judged on the URL libgit2
 *      connects to (after insteadOf, pushurl, redirects).
 *   2. opt-in (PUSHSEAL_CREDENTIAL_HELPER=1): `git credential fill`,
 *      with every prompt disabled (GIT_TERMINAL_PROMPT=0, an empty
 *      GIT_ASKPASS, no controlling terminal, stdin a pipe) and a 10 s bound.
 *   3. the URL's user with an empty password, when the URL names a user
 *      and no password: what git and libgit2 try first, and what works
 *      when the user is itself the token (https://TOKEN@host/...).  Last,
 *      so that a setup where 1 or 2 works sees no refused login
 *      (ps_remote_set_url keeps the user from libgit2 for that).
 *
 * Then it fails with GIT_EAUTH (class PUSHSEAL_E_AUTH) and says what it tried.
 *
 * ssh never comes here: it runs through the system's OpenSSH (net_ssh_transport.c), which
 * takes the agent, keys and known_hosts from the user's ssh configuration,
 * as git does.  TLS certificates are libgit2's own check.
 *
 * Every network operation runs in its own short-lived child process
 * (net_deadline.c), and ps_remote_callbacks_init() starts a fresh attempt record,
 * so the per-process state below is per operation.  Secrets never reach a
 * message: only method names and file paths do.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What this operation has tried so far, and the user its http(s) URL named
 * (ps_remote_set_url took it out of the URL libgit2 sees). */
static struct cred_state {
	int tried_token, tried_helper, tried_url_user;
	char url_user[256];
} st;

void ps_credentials_reset(void)
{
	memset(&st, 0, sizeof(st));
}

/* ---- URLs ---------------------------------------------------------------- */

/* The host (lower case) and port ("" when none) of a URL with a scheme. */
static void url_host_port(const char *url, char *host, size_t hn, char *port, size_t pn)
{
	const char *p = strstr(url, "://"), *end, *at, *colon;
	host[0] = port[0] = '\0';
	if (!p)
		return;
	p += 3;
	end = p + strcspn(p, "/?#");
	/* the userinfo ends at the LAST '@' of the authority */
	while (p < end && (at = memchr(p, '@', (size_t)(end - p))) != NULL)
		p = at + 1;
	if (*p == '[') {
		const char *close = memchr(p, ']', (size_t)(end - p));
		if (!close)
			return;
		snprintf(host, hn, "%.*s", (int)(close - p - 1), p + 1);
		p = close + 1;
		colon = (p < end && *p == ':') ? p : NULL;
	} else {
		colon = memchr(p, ':', (size_t)(end - p));
		snprintf(host, hn, "%.*s", (int)((colon ? colon : end) - p), p);
	}
	if (colon)
		snprintf(port, pn, "%.*s", (int)(end - colon - 1), colon + 1);
	for (char *h = host; *h; h++)
		*h = (char)tolower((unsigned char)*h);
}

/* May a token go to `host` (lower case, from url_host_port) over plain
 * http?  Only `localhost` and loopback addresses written as numbers:
 * 127.0.0.0/8 and ::1, each as inet_pton reads it.  A name is never
 * resolved here: `127.attacker.example` is a name, not an address, and so
 * are `127.1` and `2130706433` (inet_aton would read them, inet_pton does
 * not), and ::ffff:127.0.0.1 is not ::1. */
static int is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	if (!strcmp(host, "localhost"))
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

/* May the token be offered to `url`?  libgit2 passes the URL it is talking
 * to: after url.<base>.insteadOf / pushInsteadOf, the remote's pushurl for a
 * push, and any redirect it followed.  So the decision is made on the host
 * that would receive the token, at the moment it would, whatever the raw
 * remote.<name>.url said and whatever a writeback changed since. */
static int token_allowed(const char *url)
{
	char host[256], port[16];
	if (!url || !*url)
		return 0;
	if (!strncmp(url, "https://", 8))
		return 1;
	if (strncmp(url, "http://", 7) != 0)
		return 0;
	url_host_port(url, host, sizeof(host), port, sizeof(port));
	return host[0] && is_loopback(host);
}

/* Percent-decode src (n bytes) into dst, as git and libgit2 read a URL's
 * user.  0, or -1 when it does not fit or decodes to a NUL. */
static int url_decode(char *dst, size_t dn, const char *src, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)src[i];
		if (c == '%' && i + 2 < n && isxdigit((unsigned char)src[i + 1]) && isxdigit((unsigned char)src[i + 2])) {
			char hex[3] = { src[i + 1], src[i + 2], '\0' };
			c = (int)strtol(hex, NULL, 16);
			i += 2;
		}
		if (c == 0 || o + 1 >= dn)
			return -1;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return 0;
}

int ps_remote_set_url(git_remote *remote, const char *url, int push)
{
	char bare[4096];
	const char *auth = NULL, *end, *at = NULL;
	st.url_user[0] = '\0';
	if (!strncmp(url, "https://", 8) || !strncmp(url, "http://", 7)) {
		auth = strstr(url, "://") + 3;
		end = auth + strcspn(auth, "/?#");
		for (const char *p = auth; p < end; p++)
			if (*p == '@')
				at = p; /* the userinfo ends at the last '@' */
	}
	/* a user without a password: libgit2 1.5 (and git, through curl)
	 * would present it with an empty one before anything else, a refused
	 * login wherever a token or helper is what works, which servers delay
	 * (lighttpd: about 1 s, bench/README.md) or count toward a lockout.
	 * ps_credentials_cb offers the user with the token or the helper's
	 * password first, and the empty password last.  user:password stays. */
	if (at && at > auth && !memchr(auth, ':', (size_t)(at - auth)) &&
	    url_decode(st.url_user, sizeof(st.url_user), auth, (size_t)(at - auth)) == 0 &&
	    (size_t)snprintf(bare, sizeof(bare), "%.*s%s", (int)(auth - url), url, at + 1) < sizeof(bare))
		url = bare;
	else
		st.url_user[0] = '\0';
	return push ? git_remote_set_instance_pushurl(remote, url) : git_remote_set_instance_url(remote, url);
}

/* ---- small helpers ------------------------------------------------------------ */

/* The first line of a file, trailing whitespace cut.  0, or -1. */
static int read_first_line(char *dst, size_t n, const char *path)
{
	FILE *f = fopen(path, "r");
	size_t len;
	if (!f)
		return -1;
	if (!fgets(dst, (int)n, f))
		dst[0] = '\0';
	fclose(f);
	len = strlen(dst);
	while (len && isspace((unsigned char)dst[len - 1]))
		dst[--len] = '\0';
	return 0;
}

/* Nothing (more) to offer: say what was tried, never what it was.  Short:
 * a pushseal_error message holds 255 bytes, after "fetch from 'x' failed: ". */
static int give_up(void)
{
	char msg[300];
	if (!st.tried_token && !st.tried_helper)
		snprintf(msg, sizeof(msg), "no credentials are configured (PUSHSEAL_HTTPS_TOKEN, "
			"PUSHSEAL_HTTPS_TOKEN_FILE or PUSHSEAL_CREDENTIAL_HELPER=1)%s; pushseal never prompts",
			st.tried_url_user ? " and the URL's user without a password was refused" : "");
	else
		snprintf(msg, sizeof(msg), "authentication failed with %s%s%s; not retrying",
			st.tried_token ? "the token" : "", st.tried_token && st.tried_helper ? " and " : "",
			st.tried_helper ? "git credential fill" : "");
	git_error_set_str(GIT_ERROR_NET, msg);
	return GIT_EAUTH;
}

int ps_credentials_cb(git_credential **out, const char *url, const char *user_from_url,
	unsigned int allowed, void *payload)
{
	(void)payload;
	*out = NULL;
	if ((!user_from_url || !*user_from_url) && st.url_user[0])
		user_from_url = st.url_user;
	if (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) {
		const char *token = getenv("PUSHSEAL_HTTPS_TOKEN");
		const char *token_file = getenv("PUSHSEAL_HTTPS_TOKEN_FILE");
		if (!st.tried_token && ((token && *token) || (token_file && *token_file))) {
			char buf[1024];
			int rc;
			st.tried_token = 1;
			if (!token_allowed(url)) {
				git_error_set_str(GIT_ERROR_NET,
					"refusing to send the token over plain http to a host that is not loopback "
					"(localhost, 127.0.0.0/8, ::1); use https");
				return GIT_EAUTH;
			}
			if (token && *token) {
				snprintf(buf, sizeof(buf), "%s", token);
			} else if (read_first_line(buf, sizeof(buf), token_file) != 0 || !buf[0]) {
				char msg[1200];
				snprintf(msg, sizeof(msg), "PUSHSEAL_HTTPS_TOKEN_FILE=%s cannot be read or is empty", token_file);
				git_error_set_str(GIT_ERROR_NET, msg);
				return GIT_EAUTH;
			}
			rc = git_credential_userpass_plaintext_new(out,
				user_from_url && *user_from_url ? user_from_url : "x-access-token", buf);
			explicit_bzero(buf, sizeof(buf));
			if (rc == 0)
				return 0;
		}
		const char *helper = getenv("PUSHSEAL_CREDENTIAL_HELPER");
		if (!st.tried_helper && helper && !strcmp(helper, "1")) {
			char user[512], pass[1024];
			int rc = -1;
			st.tried_helper = 1;
			if (ps_credential_fill(user, sizeof(user), pass, sizeof(pass), url ? url : "", user_from_url) == 0)
				rc = git_credential_userpass_plaintext_new(out, user, pass);
			explicit_bzero(pass, sizeof(pass));
			if (rc == 0)
				return 0;
		}
		/* last, what git and libgit2 send first: the URL's user with an
		 * empty password, for a URL whose user is itself the token
		 * (https://TOKEN@host/...) */
		if (!st.tried_url_user && st.url_user[0]) {
			st.tried_url_user = 1;
			if (git_credential_userpass_plaintext_new(out, st.url_user, "") == 0)
				return 0;
		}
	}
	return give_up();
}
