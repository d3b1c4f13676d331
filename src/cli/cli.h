/* Internal to the pushseal command. */
#ifndef PUSHSEAL_CLI_H
#define PUSHSEAL_CLI_H

#include "pushseal.h"
#include "opt.h"

#include <stdint.h>
#include <stdio.h>

#define EXIT_USAGE 2
/* Out of memory is a failure (exit 1), never a usage error (exit 2). */
#define CLI_ENOMEM (-2)
/* Print "pushseal: out of memory" on stderr; returns 1, the failure exit code. */
int cli_out_of_memory(void);

/* json.c: write s as a JSON string (quotes included).  Control characters
 * and bytes that are not valid UTF-8 become \u00XX escapes, so the output is
 * always valid JSON, whatever bytes a path holds. */
void cli_json_string(FILE *out, const char *s);
/* Length of the valid UTF-8 sequence at p (1 for ASCII, NUL included), or
 * 0 when the byte at p does not start one. */
size_t cli_utf8_len(const unsigned char *p);
/* One protocol v1 JSON line for a fix/run/status report. */
void cli_json_report(FILE *out, const char *repo, const pushseal_report *r, int status_mode);
/* The same as one short line for people (--format text). */
void cli_text_report(FILE *out, const char *repo, const pushseal_report *r, int status_mode);
/* Did this repo fail (for the "failure" field and the metrics)? */
int report_failed(const pushseal_report *r, int status_mode);

/* metrics.c: Prometheus text-format metrics for node_exporter's textfile
 * collector, written atomically (temporary file, then rename). */
typedef struct cli_metrics cli_metrics;
cli_metrics *cli_metrics_new(size_t nrepos);
void cli_metrics_add(cli_metrics *m, const char *repo, const pushseal_report *r);
/* Returns 0, or -1 with a message on stderr. */
int cli_metrics_write(const cli_metrics *m, const char *path);
void cli_metrics_free(cli_metrics *m);

/* shell.c: run `sh -c cmd` with cwd = repo, with clean signals and
 * descriptors, in its own process group, killed (group and all) at the
 * command deadline; returns its exit status (0 ok), 128 + signal when
 * killed, or 127 when it could not run. */
#define CLI_COMMAND_DEADLINE_DEFAULT_MS (600 * 1000)
int cli_shell(const char *cmd, const char *repo);
/* The deadline of every later cli_shell, in milliseconds (--command-deadline). */
void cli_shell_set_deadline(int ms);

/* repolist.c: a growable list of repository paths. */
typedef struct cli_list {
	char **items;
	size_t len, cap;
} cli_list;
int cli_list_add(cli_list *l, const char *path);
void cli_list_free(cli_list *l);
/* Every git worktree under dir (not descending into repositories), sorted.
 * Returns 0, -1 with a message on stderr (a usage error), or CLI_ENOMEM
 * (nothing printed). */
int cli_list_find(cli_list *l, const char *dir);
/* Paths from a file, one per line; blank lines and '#' comments skipped.
 * Returns as cli_list_find. */
int cli_list_read(cli_list *l, const char *file);

/* shard.c: --shard I/N (or auto: JOB_COMPLETION_INDEX of PUSHSEAL_SHARD_COUNT).
 * A repository belongs to shard cli_shard_of(realpath, remote URL, N), by
 * jump consistent hashing of a 64-bit hash of both. */
typedef struct cli_shard {
	int enabled;
	uint32_t index, count;
} cli_shard;
/* Returns 0, or EXIT_USAGE after printing the error. */
int cli_shard_parse(cli_shard *out, const char *spec);
uint32_t cli_shard_of(const char *canonical_path, const char *remote_url, uint32_t n);
/* Keep only the repositories of shard s (in order); a no-op when disabled. */
int cli_shard_filter(cli_list *repos, const cli_shard *s);

/* cycle_cmds.c: the fix, run and status commands; argv[0] is the command.
 */
int cli_cmd_fix(int argc, char **argv);
int cli_cmd_run(int argc, char **argv);
int cli_cmd_status(int argc, char **argv);
/* Their option tables (opt.h). */
extern const cli_command cli_fix_command, cli_run_command, cli_status_command;

/* main.c */
int cli_usage_error(const char *what, const char *arg);

#endif
