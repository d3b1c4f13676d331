/* Option tables: parsing and help from one description (opt.h). */
#include "opt.h"

#include <string.h>

/* where an option's help text starts */
#define HELP_COLUMN 24
/* where a synopsis continues */
#define SYNOPSIS_INDENT 6

const cli_opt *cli_opt_find(const cli_command *cmd, const char *arg, const char **value)
{
	for (size_t i = 0; i < cmd->nopts; i++) {
		const cli_opt *o = &cmd->opts[i];
		size_t n = strlen(o->name);
		if (o->kind == CLI_OPT_CHOICE) {
			if (!strncmp(arg, o->name, n) && arg[n] == '=') {
				*value = arg + n + 1;
				return o;
			}
		} else if (!strcmp(arg, o->name) || (o->alias && !strcmp(arg, o->alias))) {
			*value = NULL;
			return o;
		}
	}
	return NULL;
}

int cli_opt_is_help(const char *arg)
{
	return !strcmp(arg, "-h") || !strcmp(arg, "--help");
}

/* Print word (of len n) at column *col, wrapping first when it would pass
 * column 79. */
static void put_word(FILE *out, const char *word, int *col, int indent)
{
	int n = (int)strlen(word);
	if (*col > indent && *col + 1 + n > 79) {
		fprintf(out, "\n%*s", indent, "");
		*col = indent;
	} else if (*col > 0) {
		fputc(' ', out);
		(*col)++;
	}
	fputs(word, out);
	*col += n;
}

void cli_command_synopsis(FILE *out, const char *prefix, const cli_command *cmd)
{
	char word[128];
	int col = (int)(strlen(prefix) + strlen(cmd->name));
	fprintf(out, "%s%s", prefix, cmd->name);
	for (size_t i = 0; i < cmd->nopts; i++) {
		const cli_opt *o = &cmd->opts[i];
		if (o->kind == CLI_OPT_FLAG)
			snprintf(word, sizeof(word), "[%s]", o->name);
		else
			snprintf(word, sizeof(word), "[%s%s%s]", o->name, o->kind == CLI_OPT_CHOICE ? "=" : " ", o->value);
		put_word(out, word, &col, SYNOPSIS_INDENT);
	}
	put_word(out, cmd->args, &col, SYNOPSIS_INDENT);
	fputc('\n', out);
}

/* "  LEFT   help text", the text wrapped at column 79 under itself. */
static void put_help(FILE *out, const char *left, const char *help)
{
	char word[128];
	int col = HELP_COLUMN - 1; /* put_word adds the space before a word */
	fprintf(out, "  %-*s", HELP_COLUMN - 3, left);
	if (strlen(left) > HELP_COLUMN - 4)
		fprintf(out, "\n%*s", HELP_COLUMN - 1, "");
	for (const char *p = help; *p;) {
		size_t n = strcspn(p, " ");
		snprintf(word, sizeof(word), "%.*s", (int)n, p);
		put_word(out, word, &col, HELP_COLUMN);
		p += n;
		p += strspn(p, " ");
	}
	fputc('\n', out);
}

void cli_command_help(FILE *out, const cli_command *cmd)
{
	char left[128];
	cli_command_synopsis(out, "usage: pushseal ", cmd);
	fprintf(out, "\n%s\n\noptions:\n", cmd->summary);
	for (size_t i = 0; i < cmd->nopts; i++) {
		const cli_opt *o = &cmd->opts[i];
		if (o->kind == CLI_OPT_FLAG)
			snprintf(left, sizeof(left), "%s", o->name);
		else if (o->kind == CLI_OPT_CHOICE)
			snprintf(left, sizeof(left), "%s=%s", o->name, o->value);
		else if (o->alias)
			snprintf(left, sizeof(left), "%s, %s %s", o->alias, o->name, o->value);
		else
			snprintf(left, sizeof(left), "%s %s", o->name, o->value);
		put_help(out, left, o->help);
	}
	put_help(out, "-h, --help", "show this help and exit");
	if (cmd->notes)
		fprintf(out, "\n%s", cmd->notes);
}
