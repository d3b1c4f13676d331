/*
 * One option table per command: the table drives both the parsing of the
 * command's arguments and its --help (`pushseal help CMD`, `pushseal CMD
 * --help`), so the two cannot drift apart (libgit2's src/cli/opt.c is the
 * model, much reduced: no bundled short options, no --name=VALUE for a
 * valued option, which take the next argument).
 */
#ifndef PUSHSEAL_CLI_OPT_H
#define PUSHSEAL_CLI_OPT_H

#include <stddef.h>
#include <stdio.h>

typedef enum cli_opt_kind {
	CLI_OPT_FLAG,   /* --name */
	CLI_OPT_VALUE,  /* --name VALUE: the value is the next argument */
	CLI_OPT_CHOICE  /* --name=VALUE: the value in the same argument */
} cli_opt_kind;

typedef struct cli_opt {
	int id;              /* what it sets: the command's own enum */
	cli_opt_kind kind;
	const char *name;    /* "--writeback" */
	const char *alias;   /* another spelling ("-j"), or NULL */
	const char *value;   /* the value's name in --help ("CMD"); NULL for a flag */
	const char *help;    /* what it does, one line */
} cli_opt;

typedef struct cli_command {
	const char *name;     /* "run" */
	const char *args;     /* the operands: "REPO" or "REPO..." */
	const char *summary;  /* what it does, one line */
	const cli_opt *opts;  /* its options, in --help order; NULL when none */
	size_t nopts;
	const char *notes;    /* more for `pushseal help CMD` (may be NULL) */
	int (*run)(int argc, char **argv); /* argv[0] is the command's name */
	int (*run_repo)(const char *repo);   /* instead, for a command of one REPO
	                                        and no options (main.c checks them) */
} cli_command;

/* parse() return for -h/--help: the command's help was printed; exit 0. */
#define CLI_HELP_SHOWN (-3)

/* The option of cmd that `arg` is, or NULL.  For a CLI_OPT_CHOICE, *value
 * points after its '='. */
const cli_opt *cli_opt_find(const cli_command *cmd, const char *arg, const char **value);
/* Is arg -h or --help? */
int cli_opt_is_help(const char *arg);
/* prefix, then "name [--opt VALUE]... ARGS", wrapped at 79 columns. */
void cli_command_synopsis(FILE *out, const char *prefix, const cli_command *cmd);
/* The whole help of one command (usage, summary, options, notes). */
void cli_command_help(FILE *out, const cli_command *cmd);

#endif
