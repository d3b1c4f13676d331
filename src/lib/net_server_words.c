/*
 * What the server said.  A refusal's reason reaches us as text on the
 * sideband (a hook's or gitolite's "FATAL: W refs/heads/x ... DENIED"), in
 * libgit2's error ("remote error: access denied or repository not
 * exported", "unexpected http status code: 403"), or on ssh's stderr.
 * It decides the failure's class (a person must act, or a retry will do)
 * and it is what a person needs to read, so it goes into the message.
 *
 * The buffer is per process: only network children, one operation each,
 * install the sideband callback.
 */
#include "internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static char words[1024];

void ps_server_words_reset(void)
{
	words[0] = '\0';
}

/* Progress ("Counting objects: 50% (1/2)\r") is not words. */
static int is_progress(const char *line)
{
	static const char *const noise[] = { "objects:", "deltas:", "Total ", "Enumerating", "Counting",
		"Compressing", "Writing", "Resolving", "Receiving" };
	for (size_t i = 0; i < sizeof(noise) / sizeof(noise[0]); i++)
		if (strstr(line, noise[i]))
			return 1;
	return 0;
}

void ps_server_words_add(const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = p;
		char line[512];
		size_t n;
		while (nl < end && *nl != '\n' && *nl != '\r')
			nl++;
		n = (size_t)(nl - p) < sizeof(line) - 1 ? (size_t)(nl - p) : sizeof(line) - 1;
		memcpy(line, p, n);
		line[n] = '\0';
		while (n > 0 && isspace((unsigned char)line[n - 1]))
			line[--n] = '\0';
		if (n > 0 && !is_progress(line)) {
			size_t have = strlen(words);
			if (have + n + 4 >= sizeof(words)) /* keep the latest words */
				have = 0, words[0] = '\0';
			snprintf(words + have, sizeof(words) - have, "%s%s", have ? " | " : "", line);
		}
		p = nl + 1;
	}
}

int ps_sideband_cb(const char *str, int len, void *payload)
{
	(void)payload;
	if (str && len > 0)
		ps_server_words_add(str, (size_t)len);
	return 0;
}

const char *ps_server_words(void)
{
	return words;
}

/* Case-insensitive substring. */
static int says(const char *text, const char *what)
{
	size_t n = strlen(what);
	for (; text && *text; text++)
		if (!strncasecmp(text, what, n))
			return 1;
	return 0;
}

int ps_class_of_server(int git_code, const char *said)
{
	static const char *const denied[] = { "denied", "permission denied", "unauthorized", "forbidden",
		"authentication failed", "status code: 401", "status code: 403", "not allowed" };
	static const char *const missing[] = { "not found", "not exported", "does not appear to be a git repository",
		"no such repository", "status code: 404", "does not exist" };
	static const char *const network[] = { "could not resolve", "failed to resolve", "name or service not known",
		"connection refused", "no route to host", "network is unreachable", "failed to connect",
		"connection reset", "timed out" };
	if (git_code == GIT_EAUTH || git_code == GIT_ECERTIFICATE)
		return PUSHSEAL_E_AUTH; /* credentials, or an unknown or changed host key */
	/* the network first: "failed to connect ... Connection refused" is no refusal by the server */
	for (size_t i = 0; i < sizeof(network) / sizeof(network[0]); i++)
		if (says(said, network[i]))
			return PUSHSEAL_E_UNREACHABLE;
	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++)
		if (says(said, missing[i]))
			return PUSHSEAL_E_REJECTED;
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++)
		if (says(said, denied[i]))
			return PUSHSEAL_E_AUTH;
	return PUSHSEAL_E_UNREACHABLE;
}
