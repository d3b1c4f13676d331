/*
 * Credentials that never prompt, and ssh host keys checked against
 * known_hosts.
 *
 * An unattended timer must fail fast with class `auth`, never wait for a
 * person.  The credentials callback offers, in this order and each at most
 * once per network operation (libgit2 calls it again after every refusal, so
 * without a cap a wrong password loops until the deadline):
 *
 *   ssh URLs    1. the ssh agent (SSH_AUTH_SOCK)
 *               2. the key file PUSHSEAL_SSH_KEY (public key: PATH.pub if present)
 *   http(s)     3. a token: PUSHSEAL_HTTPS_TOKEN, or the first line of the file
 *                  PUSHSEAL_HTTPS_TOKEN_FILE; user from the URL or "x-access-token".
 *                  Sent over https, or over plain http only to localhost, 127.0.0.0/8
 *                  or ::1 written as numbers (inet_pton), judged on the URL
 *                  libgit2 connects to (after insteadOf, pushurl, redirects).
 *               4. opt-in (PUSHSEAL_CREDENTIAL_HELPER=1): `git credential fill`,
 *                  the one place pushseal runs the git CLI, with every prompt
 *                  disabled (GIT_TERMINAL_PROMPT=0, an empty GIT_ASKPASS, no
 *                  controlling terminal, stdin a pipe) and a 10 s bound.
 *
 * Then it fails with GIT_EAUTH (class PUSHSEAL_E_AUTH) and says what it tried.
 *
 * libgit2 1.5.0 accepted any ssh host key without a certificate_check
 * callback; 1.5.1 (CVE-2023-22742) checks ~/.ssh/known_hosts only.  Here the
 * host key must be listed for the host
 * (as "[host]:port" on a port other than 22, plain or hashed "|1|" entries,
 * patterns with * ? and !) in PUSHSEAL_SSH_KNOWN_HOSTS, or by default in
 * ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts; an unknown host or a
 * changed key is rejected before any credential is offered.
 *
 * Every network operation runs in its own short-lived child process
 * (deadline.c), and ps_remote_callbacks_init() starts a fresh attempt record,
 * so the per-process state below is per operation.  Secrets never reach a
 * message: only method names and file paths do.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HELPER_TIMEOUT_MS 10000

/* What this operation has tried so far. */
static struct cred_state {
	int tried_agent, tried_key, tried_token, tried_helper, tried_user;
	int key_is_rsa;
	char port[16];           /* the remote's port, from remote_ready ("" : unknown) */
} st;

void ps_credentials_reset(void)
{
	memset(&st, 0, sizeof(st));
}

/* ---- URLs ---------------------------------------------------------------- */

static int is_ssh_url(const char *url)
{
	if (!url)
		return 0;
	if (!strncmp(url, "ssh://", 6) || !strncmp(url, "ssh+git://", 10) || !strncmp(url, "git+ssh://", 10))
		return 1;
	/* scp-like user@host:path: a ':' before any '/', and no "://" */
	return !strstr(url, "://") && strchr(url, ':') &&
		(!strchr(url, '/') || strchr(url, ':') < strchr(url, '/'));
}

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

int ps_remote_ready_cb(git_remote *remote, int direction, void *payload)
{
	const char *url = NULL;
	char host[256];
	(void)payload;
	if (direction == GIT_DIRECTION_PUSH)
		url = git_remote_pushurl(remote);
	if (!url)
		url = git_remote_url(remote);
	st.port[0] = '\0';
	if (url && strstr(url, "://"))
		url_host_port(url, host, sizeof(host), st.port, sizeof(st.port));
	return 0;
}

/* ---- small helpers: files, base64, SHA-1 ---------------------------------- */

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

static int b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decode len bytes of base64 (whitespace skipped, '=' ends it).  Returns the
 * decoded length, or -1 when it does not fit or is not base64. */
static long b64_decode(unsigned char *dst, size_t cap, const char *src, size_t len)
{
	unsigned int acc = 0;
	int bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < len && src[i] != '='; i++) {
		int v = b64_value((unsigned char)src[i]);
		if (v < 0) {
			if (isspace((unsigned char)src[i]))
				continue;
			return -1;
		}
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -1;
			dst[o++] = (unsigned char)(acc >> bits);
		}
	}
	return (long)o;
}

/* SHA-1, for OpenSSH's hashed known_hosts names (HMAC-SHA1) only. */
typedef struct sha1_ctx {
	uint32_t h[5];
	uint64_t len;
	unsigned char buf[64];
	size_t used;
} sha1_ctx;

#define ROL(x, n) (((x) << (n)) | ((x) >> (32 - (n))))

static void sha1_block(sha1_ctx *c, const unsigned char *p)
{
	uint32_t w[80], a = c->h[0], b = c->h[1], d = c->h[3], e = c->h[4], cc = c->h[2];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[(size_t)4 * i] << 24 | (uint32_t)p[(size_t)4 * i + 1] << 16 |
			(uint32_t)p[(size_t)4 * i + 2] << 8 | p[(size_t)4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = ROL(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	for (int i = 0; i < 80; i++) {
		uint32_t f, k, t;
		if (i < 20) {
			f = (b & cc) | (~b & d);
			k = 0x5A827999;
		} else if (i < 40) {
			f = b ^ cc ^ d;
			k = 0x6ED9EBA1;
		} else if (i < 60) {
			f = (b & cc) | (b & d) | (cc & d);
			k = 0x8F1BBCDC;
		} else {
			f = b ^ cc ^ d;
			k = 0xCA62C1D6;
		}
		t = ROL(a, 5) + f + e + k + w[i];
		e = d;
		d = cc;
		cc = ROL(b, 30);
		b = a;
		a = t;
	}
	c->h[0] += a;
	c->h[1] += b;
	c->h[2] += cc;
	c->h[3] += d;
	c->h[4] += e;
}

static void sha1_init(sha1_ctx *c)
{
	static const uint32_t iv[5] = { 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0 };
	memcpy(c->h, iv, sizeof(iv));
	c->len = 0;
	c->used = 0;
}

static void sha1_update(sha1_ctx *c, const unsigned char *p, size_t n)
{
	c->len += n;
	while (n > 0) {
		size_t take = 64 - c->used < n ? 64 - c->used : n;
		memcpy(c->buf + c->used, p, take);
		c->used += take;
		p += take;
		n -= take;
		if (c->used == 64) {
			sha1_block(c, c->buf);
			c->used = 0;
		}
	}
}

static void sha1_final(sha1_ctx *c, unsigned char out[20])
{
	unsigned char pad[72] = { 0x80 };
	uint64_t bits = c->len * 8;
	size_t padlen = (c->used < 56 ? 56 : 120) - c->used;
	unsigned char lenbuf[8];
	for (int i = 0; i < 8; i++)
		lenbuf[i] = (unsigned char)(bits >> (56 - 8 * i));
	sha1_update(c, pad, padlen);
	sha1_update(c, lenbuf, 8);
	for (int i = 0; i < 5; i++) {
		out[(size_t)4 * i] = (unsigned char)(c->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)c->h[i];
	}
}

static void hmac_sha1(unsigned char out[20], const unsigned char *key, size_t keylen,
	const unsigned char *msg, size_t msglen)
{
	unsigned char k[64], pad[64], inner[20];
	sha1_ctx c;
	memset(k, 0, sizeof(k));
	if (keylen > 64) {
		sha1_init(&c);
		sha1_update(&c, key, keylen);
		sha1_final(&c, k);
	} else {
		memcpy(k, key, keylen);
	}
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x36;
	sha1_init(&c);
	sha1_update(&c, pad, 64);
	sha1_update(&c, msg, msglen);
	sha1_final(&c, inner);
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	sha1_init(&c);
	sha1_update(&c, pad, 64);
	sha1_update(&c, inner, 20);
	sha1_final(&c, out);
}

/* ---- known_hosts ------------------------------------------------------------ */

/* Shell-style glob with * and ?, case-insensitive, as OpenSSH's match_pattern. */
static int glob_match(const char *s, const char *p, size_t plen)
{
	if (plen == 0)
		return *s == '\0';
	if (*p == '*') {
		for (;; s++) {
			if (glob_match(s, p + 1, plen - 1))
				return 1;
			if (!*s)
				return 0;
		}
	}
	if (!*s)
		return 0;
	if (*p != '?' && tolower((unsigned char)*p) != tolower((unsigned char)*s))
		return 0;
	return glob_match(s + 1, p + 1, plen - 1);
}

/* Does the host field of a known_hosts line name `name`? 1 yes, 0 no, -1 negated. */
static int hosts_field_matches(const char *field, size_t flen, const char *name)
{
	int found = 0;
	if (flen > 3 && !strncmp(field, "|1|", 3)) {
		unsigned char salt[64], want[32], got[20];
		const char *bar = memchr(field + 3, '|', flen - 3);
		long sl, wl;
		if (!bar)
			return 0;
		sl = b64_decode(salt, sizeof(salt), field + 3, (size_t)(bar - field - 3));
		wl = b64_decode(want, sizeof(want), bar + 1, (size_t)(field + flen - bar - 1));
		if (sl <= 0 || wl != 20)
			return 0;
		hmac_sha1(got, salt, (size_t)sl, (const unsigned char *)name, strlen(name));
		return memcmp(got, want, 20) == 0;
	}
	for (size_t i = 0; i < flen;) {
		size_t len = strcspn(field + i, ",");
		int negate = field[i] == '!';
		if (len > flen - i)
			len = flen - i;
		if (glob_match(name, field + i + negate, len - (size_t)negate)) {
			if (negate)
				return -1;
			found = 1;
		}
		i += len + 1;
	}
	return found;
}

enum { KH_UNKNOWN = 0, KH_OK = 1, KH_MISMATCH = 2, KH_REVOKED = 3 };

/* Look `name` up in one known_hosts file; *other_keys counts lines naming the
 * host with a different key. */
static int known_hosts_file(const char *path, const char *name, const unsigned char *key,
	size_t keylen, int *other_keys)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	int result = KH_UNKNOWN;
	unsigned char *blob;
	if (!f)
		return KH_UNKNOWN;
	if (!(blob = malloc(16384))) {
		fclose(f);
		return KH_UNKNOWN;
	}
	while (getline(&line, &cap, f) >= 0) {
		char *p = line, *field[4];
		size_t flen[4];
		int nf = 0, revoked = 0;
		long bl;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || *p == '\n' || !*p)
			continue;
		if (*p == '@') {
			if (!strncmp(p, "@revoked", 8) && (p[8] == ' ' || p[8] == '\t'))
				revoked = 1;
			else
				continue; /* @cert-authority: host certificates are not offered by libssh2 */
			p += 8;
		}
		for (; nf < 3 && *p; nf++) {
			while (*p == ' ' || *p == '\t')
				p++;
			field[nf] = p;
			flen[nf] = strcspn(p, " \t\r\n");
			p += flen[nf];
		}
		if (nf < 3 || !flen[2])
			continue;
		if (hosts_field_matches(field[0], flen[0], name) <= 0)
			continue;
		bl = b64_decode(blob, 16384, field[2], flen[2]);
		if (bl < 0)
			continue;
		if ((size_t)bl == keylen && memcmp(blob, key, keylen) == 0) {
			if (revoked) {
				result = KH_REVOKED;
				break;
			}
			result = KH_OK;
		} else if (!revoked) {
			(*other_keys)++;
		}
	}
	free(line);
	free(blob);
	fclose(f);
	return result;
}

static void default_known_hosts(char *dst, size_t n)
{
	const char *home = getenv("HOME");
	struct passwd pwbuf, *pw = NULL;
	char strings[2048];
	if ((!home || !*home) && getpwuid_r(getuid(), &pwbuf, strings, sizeof(strings), &pw) == 0 && pw)
		home = pw->pw_dir;
	snprintf(dst, n, "%s/.ssh/known_hosts", home ? home : "");
}

int ps_certificate_check_cb(git_cert *cert, int valid, const char *host, void *payload)
{
	const git_cert_hostkey *hk = (const git_cert_hostkey *)cert;
	const char *env = getenv("PUSHSEAL_SSH_KNOWN_HOSTS");
	char user_file[4200], name[300];
	const char *files[2];
	int result = KH_UNKNOWN, other = 0;
	(void)payload;
	if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2)
		return GIT_PASSTHROUGH; /* TLS: libgit2's own verification decides */
	/* libgit2 1.5.1 (CVE-2023-22742) checks ~/.ssh/known_hosts itself, with
	 * libssh2: with no file of our own, its yes is enough */
	if (valid && !(env && *env))
		return 0;
	if (env && *env) {
		snprintf(user_file, sizeof(user_file), "%s", env);
		files[0] = user_file;
		files[1] = NULL;
	} else {
		default_known_hosts(user_file, sizeof(user_file));
		files[0] = user_file;
		files[1] = "/etc/ssh/ssh_known_hosts";
	}
	if (!(hk->type & GIT_CERT_SSH_RAW) || !hk->hostkey || !hk->hostkey_len) {
		git_error_set_str(GIT_ERROR_SSH, "ssh host key of the server not available; refusing to connect");
		return GIT_ECERTIFICATE;
	}
	if (st.port[0] && strcmp(st.port, "22") != 0)
		snprintf(name, sizeof(name), "[%s]:%s", host ? host : "", st.port);
	else
		snprintf(name, sizeof(name), "%s", host ? host : "");
	for (char *c = name; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	for (int i = 0; i < 2 && files[i] && result != KH_REVOKED; i++) {
		int r = known_hosts_file(files[i], name, (const unsigned char *)hk->hostkey, hk->hostkey_len, &other);
		if (r > result)
			result = r;
	}
	if (result == KH_OK)
		return 0;
	{
		char msg[1400];
		if (result == KH_REVOKED)
			snprintf(msg, sizeof(msg), "ssh host key of %s is @revoked in %.400s; refusing to connect",
				name, files[0]);
		else if (other)
			snprintf(msg, sizeof(msg),
				"ssh host key of %s does not match known_hosts (changed, or intercepted): %.400s",
				name, files[0]);
		else
			snprintf(msg, sizeof(msg),
				"unknown ssh host %s: its key is not in known_hosts (add it, or set "
				"PUSHSEAL_SSH_KNOWN_HOSTS): %.400s", name, files[0]);
		git_error_set_str(GIT_ERROR_SSH, msg);
	}
	return GIT_ECERTIFICATE;
}

/* ---- the credentials --------------------------------------------------------- */

/* Is the key at `path` an RSA key?  Looks at PATH.pub, then the PEM header,
 * then the key type inside an OpenSSH private key. */
static int key_is_rsa(const char *path)
{
	char pub[4200], line[200];
	FILE *f;
	snprintf(pub, sizeof(pub), "%s.pub", path);
	if (read_first_line(line, sizeof(line), pub) == 0)
		return strncmp(line, "ssh-rsa ", 8) == 0;
	if (!(f = fopen(path, "r")))
		return 0;
	{
		char body[400] = "";
		size_t used = 0;
		int rsa = 0;
		if (fgets(line, sizeof(line), f) && strstr(line, "RSA PRIVATE KEY"))
			rsa = 1;
		else if (strstr(line, "OPENSSH PRIVATE KEY")) {
			unsigned char raw[300];
			long n;
			while (used + 80 < sizeof(body) && fgets(body + used, (int)(sizeof(body) - used), f))
				used += strcspn(body + used, "\r\n");
			n = b64_decode(raw, sizeof(raw), body, used - used % 4);
			for (long i = 0; n > 0 && i + 7 <= n; i++)
				if (!memcmp(raw + i, "ssh-rsa", 7))
					rsa = 1;
		}
		fclose(f);
		return rsa;
	}
}

static const char *ssh_user(const char *user_from_url)
{
	static char name[256];
	struct passwd pwbuf, *pw = NULL;
	char strings[2048];
	const char *env = getenv("USER");
	if (user_from_url && *user_from_url)
		return user_from_url;
	if (getpwuid_r(getuid(), &pwbuf, strings, sizeof(strings), &pw) == 0 && pw) {
		snprintf(name, sizeof(name), "%s", pw->pw_name);
		return name;
	}
	return env ? env : "git";
}

/* Run `git credential fill` with no way to prompt; fill user and pass. */
static int credential_fill(char *user, size_t un, char *pass, size_t pn, const char *url,
	const char *user_from_url)
{
	int in[2], out[2], status, rc = -1;
	char req[2200], buf[4096];
	size_t got = 0;
	pid_t pid;
	struct timespec t0;
	if (pipe2(in, O_CLOEXEC) != 0)
		return -1;
	if (pipe2(out, O_CLOEXEC) != 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		/* no setsid() here: it runs in the network child's own session,
		 * which has no controlling terminal (/dev/tty cannot be opened)
		 * and whose whole group dies at the deadline (deadline.c) */
		dup2(in[0], 0);
		dup2(out[1], 1);
		if (devnull >= 0)
			dup2(devnull, 2);
		/* the helper asks about this URL, not about a repository a
		 * hook's environment may name */
		unsetenv("GIT_DIR");
		unsetenv("GIT_WORK_TREE");
		unsetenv("GIT_COMMON_DIR");
		unsetenv("GIT_CONFIG_PARAMETERS");
		unsetenv("GIT_CONFIG_COUNT");
		setenv("GIT_TERMINAL_PROMPT", "0", 1);
		setenv("GIT_ASKPASS", "", 1); /* empty: beats core.askPass and SSH_ASKPASS */
		unsetenv("SSH_ASKPASS");
		execlp("git", "git", "credential", "fill", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	if (pid < 0) {
		close(in[1]);
		close(out[0]);
		return -1;
	}
	if (user_from_url && *user_from_url)
		snprintf(req, sizeof(req), "url=%s\nusername=%s\n\n", url, user_from_url);
	else
		snprintf(req, sizeof(req), "url=%s\n\n", url);
	if (write(in[1], req, strlen(req)) < 0) {
		/* the helper went away; its exit status tells */
	}
	close(in[1]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = { out[0], POLLIN, 0 };
		struct timespec now;
		long elapsed;
		ssize_t r;
		clock_gettime(CLOCK_MONOTONIC, &now);
		elapsed = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
		if (elapsed >= HELPER_TIMEOUT_MS || got + 1 >= sizeof(buf)) {
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&p, 1, (int)(HELPER_TIMEOUT_MS - elapsed)) <= 0)
			continue;
		r = read(out[0], buf + got, sizeof(buf) - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(out[0]);
	buf[got] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		user[0] = pass[0] = '\0';
		char *save = NULL;
		for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			if (!strncmp(line, "username=", 9))
				snprintf(user, un, "%s", line + 9);
			else if (!strncmp(line, "password=", 9))
				snprintf(pass, pn, "%s", line + 9);
		}
		rc = pass[0] ? 0 : -1;
	}
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

/* Nothing (more) to offer: say what was tried, never what it was.  Short:
 * a pushseal_error message holds 255 bytes, after "fetch from 'x' failed: ". */
static int give_up(int ssh)
{
	char msg[300];
	if (ssh && !st.tried_agent && !st.tried_key)
		snprintf(msg, sizeof(msg), "no ssh credentials are configured (SSH_AUTH_SOCK, PUSHSEAL_SSH_KEY); "
			"pushseal never prompts");
	else if (ssh && st.key_is_rsa)
		snprintf(msg, sizeof(msg), "ssh server refused the RSA key PUSHSEAL_SSH_KEY: libssh2 1.10 signs "
			"only ssh-rsa (SHA-1), which OpenSSH 8.8+ refuses; use an ed25519 key");
	else if (ssh)
		snprintf(msg, sizeof(msg), "ssh authentication failed with %s%s%s; not retrying",
			st.tried_agent ? "the ssh agent" : "", st.tried_agent && st.tried_key ? " and " : "",
			st.tried_key ? "PUSHSEAL_SSH_KEY" : "");
	else if (!st.tried_token && !st.tried_helper)
		snprintf(msg, sizeof(msg), "no credentials are configured (PUSHSEAL_HTTPS_TOKEN, "
			"PUSHSEAL_HTTPS_TOKEN_FILE or PUSHSEAL_CREDENTIAL_HELPER=1); pushseal never prompts");
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
	int ssh = is_ssh_url(url);
	(void)payload;
	*out = NULL;
	if (ssh) {
		const char *user = ssh_user(user_from_url);
		const char *key = getenv("PUSHSEAL_SSH_KEY");
		if ((allowed & GIT_CREDENTIAL_USERNAME) && !(allowed & GIT_CREDENTIAL_SSH_KEY) && st.tried_user++ < 2)
			return git_credential_username_new(out, user) < 0 ? GIT_EAUTH : 0;
		if (!(allowed & GIT_CREDENTIAL_SSH_KEY))
			return give_up(ssh);
		const char *agent = getenv("SSH_AUTH_SOCK");
		if (!st.tried_agent && agent && *agent) {
			st.tried_agent = 1;
			if (git_credential_ssh_key_from_agent(out, user) == 0)
				return 0;
		}
		if (!st.tried_key && key && *key) {
			char pub[4200];
			st.tried_key = 1;
			st.key_is_rsa = key_is_rsa(key);
			snprintf(pub, sizeof(pub), "%s.pub", key);
			if (access(key, R_OK) != 0) {
				char msg[4400];
				snprintf(msg, sizeof(msg), "PUSHSEAL_SSH_KEY=%s cannot be read: %s", key, strerror(errno));
				git_error_set_str(GIT_ERROR_NET, msg);
				return GIT_EAUTH;
			}
			if (git_credential_ssh_key_new(out, user, access(pub, R_OK) == 0 ? pub : NULL, key, NULL) == 0)
				return 0;
		}
		return give_up(ssh);
	}

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
			if (credential_fill(user, sizeof(user), pass, sizeof(pass), url ? url : "", user_from_url) == 0)
				rc = git_credential_userpass_plaintext_new(out, user, pass);
			explicit_bzero(pass, sizeof(pass));
			if (rc == 0)
				return 0;
		}
	}
	return give_up(ssh);
}
