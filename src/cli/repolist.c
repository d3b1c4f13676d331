/* Repository lists: REPO arguments, --all DIR, --list FILE. */
#include "cli.h"
#include "array.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int cli_list_add(cli_list *l, const char *path)
{
	char **p = ps_array_grow(l->items, &l->cap, l->len + 1, sizeof(*p), 16);
	if (!p)
		return -1;
	l->items = p;
	if (!(l->items[l->len] = strdup(path)))
		return -1;
	l->len++;
	return 0;
}

void cli_list_free(cli_list *l)
{
	for (size_t i = 0; i < l->len; i++)
		free(l->items[i]);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int find(cli_list *l, const char *dir, int depth)
{
	char path[4096];
	struct stat st;
	DIR *d;
	struct dirent *e;
	size_t first = l->len;
	int rc;

	if (depth > 32)
		return 0;
	snprintf(path, sizeof(path), "%s/.git", dir);
	if (lstat(path, &st) == 0) /* a worktree: do not descend */
		return cli_list_add(l, dir) < 0 ? CLI_ENOMEM : 0;
	if (!(d = opendir(dir)))
		return depth == 0 ? -1 : 0;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path))
			continue;
		/* never follow symlinks: a loop must not trap the walk */
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && (rc = find(l, path, depth + 1)) < 0) {
			closedir(d);
			return rc;
		}
	}
	closedir(d);
	qsort(l->items + first, l->len - first, sizeof(char *), cmp_str);
	return 0;
}

int cli_list_find(cli_list *l, const char *dir)
{
	int rc = find(l, dir, 0);
	if (rc == -1)
		fprintf(stderr, "pushseal: --all %s: %s\n", dir, strerror(errno));
	return rc;
}

int cli_list_read(cli_list *l, const char *file)
{
	FILE *f = fopen(file, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;
	if (!f) {
		fprintf(stderr, "pushseal: --list %s: %s\n", file, strerror(errno));
		return -1;
	}
	errno = 0;
	while ((n = getline(&line, &cap, f)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if ((size_t)n == strspn(line, " \t") || line[0] == '#')
			continue; /* blank, or a comment */
		/* a path cannot hold a NUL byte: refuse the line rather than read
		 * the different path that ends at the NUL */
		if (strlen(line) != (size_t)n) {
			fprintf(stderr, "pushseal: --list %s: a line holds a NUL byte\n", file);
			free(line);
			fclose(f);
			return -1;
		}
		if (cli_list_add(l, line) < 0) {
			free(line);
			fclose(f);
			return CLI_ENOMEM;
		}
	}
	/* getline's -1 is also its error: never take a failed read for the end */
	if (ferror(f) || (errno == ENOMEM && !feof(f))) {
		rc = errno == ENOMEM ? CLI_ENOMEM : -1;
		if (rc == -1)
			fprintf(stderr, "pushseal: --list %s: %s\n", file, strerror(errno));
	}
	free(line);
	fclose(f);
	return rc;
}
