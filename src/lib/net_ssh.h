/*
 * ssh as git does it (net_ssh_transport.c): what its three files share.
 * net_ssh_url.c reads ssh URLs; net_ssh_command.c chooses and starts the
 * ssh command as git does; net_ssh_transport.c is the libgit2 smart
 * subtransport over that command's pipes.  Private to the library.
 */
#ifndef PS_NET_SSH_H
#define PS_NET_SSH_H

#include "internal.h"

#include <git2/sys/transport.h>

#include <sys/types.h>

#define MAX_ARGS 24

enum { VARIANT_AUTO, VARIANT_SSH, VARIANT_SIMPLE, VARIANT_PLINK, VARIANT_PUTTY, VARIANT_TORTOISEPLINK };

/* How ssh is run, chosen once per transport as git chooses it.  Strings
 * are owned (malloc). */
typedef struct ssh_how {
	char *shell_cmd;     /* GIT_SSH_COMMAND or core.sshCommand: run by /bin/sh */
	char *program;       /* otherwise GIT_SSH, or "ssh": run directly */
	char *variant;       /* GIT_SSH_VARIANT or ssh.variant, if set */
	char *upload_pack;   /* remote.<name>.uploadpack, if set */
	char *receive_pack;  /* remote.<name>.receivepack, if set */
} ssh_how;

/* An ssh URL's parts, %-decoded; path is what the remote command gets. */
typedef struct ssh_target {
	char user[256], host[256], port[16], path[4096];
} ssh_target;

/* An argv under construction: owned strings, NULL-terminated. */
typedef struct argv_list {
	char *v[MAX_ARGS + 1];
	int n;
} argv_list;

/* Set a libgit2 ssh error from fmt and return code. */
int ps_ssh_error(int code, const char *fmt, ...) PS_ATTR_PRINTF(2, 3);
/* strdup(s), or NULL for NULL or "". */
char *ps_ssh_dup(const char *s);

/* net_ssh_url.c: ssh://[user@]host[:port]/path, ssh+git://, git+ssh://, or
 * scp-style [user@]host:path, into tgt.  0, or -1 with a libgit2 error. */
int ps_ssh_parse_target(ssh_target *tgt, const char *url);

/* net_ssh_command.c.  The command, as git chooses it; h's strings are owned. */
void ps_ssh_how_read(ssh_how *h, git_remote *remote);
void ps_ssh_how_dispose(ssh_how *h);
int ps_ssh_variant_named(const char *name, int from_config);
void ps_ssh_command_basename(char *dst, size_t n, const ssh_how *h);
void ps_ssh_args_add(argv_list *a, const char *s);
void ps_ssh_args_free(argv_list *a);
void ps_ssh_args_command(argv_list *a, const ssh_how *h);
/* Start argv with three non-blocking pipes (our ends).  0, or -1 with a libgit2 error. */
int ps_ssh_spawn(pid_t *pid, int *in, int *out, int *err, char *const argv[]);
/* `CMD -G host` exits 0: CMD is OpenSSH (git's probe for variant auto). */
int ps_ssh_probe_is_openssh(const ssh_how *h, const char *host);

#endif
